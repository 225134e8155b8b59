/* Readers of an rwlock exclude nobody. Two threads take `table_lock` one
 * after the other (the second waits on a flag lockrace cannot see, so the
 * rwlock is their only order); argv[1] says how:
 *   write-under-read  the first writes `hits` holding the lock only for
 *                     reading, the second reads it, also for reading: a
 *                     data race (ThreadSanitizer reports it too)
 *   writer            the first writes under the write lock, the second
 *                     reads under a read lock: ordered, clean
 *   reader-writer     the first reads under a read lock, the second writes
 *                     under the write lock: ordered, clean
 *   readers           both read under read locks: reads do not race */
#define _GNU_SOURCE
#include "lockrace.h"

#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>

static pthread_rwlock_t table_lock = PTHREAD_RWLOCK_INITIALIZER;
static long hits;
static int first_done;                 /* a plain flag: no order lockrace can see */
static const char *mode;

static int is(const char *name) { return strcmp(mode, name) == 0; }

static void touch(int write)
{
    if (write) {
        hits++;
        LOCKRACE_WRITE(hits);
    } else {
        LOCKRACE_READ(hits);
        printf("hits %ld\n", hits);
    }
}

static void *first(void *arg)
{
    (void)arg;
    if (is("writer"))
        pthread_rwlock_wrlock(&table_lock);
    else
        pthread_rwlock_rdlock(&table_lock);
    touch(is("write-under-read") || is("writer"));
    pthread_rwlock_unlock(&table_lock);
    __atomic_store_n(&first_done, 1, __ATOMIC_RELEASE);
    return NULL;
}

static void *second(void *arg)
{
    (void)arg;
    while (!__atomic_load_n(&first_done, __ATOMIC_ACQUIRE))
        sched_yield();
    if (is("reader-writer"))
        pthread_rwlock_wrlock(&table_lock);
    else
        pthread_rwlock_rdlock(&table_lock);
    touch(is("reader-writer"));
    pthread_rwlock_unlock(&table_lock);
    return NULL;
}

int main(int argc, char **argv)
{
    mode = argc > 1 ? argv[1] : "write-under-read";
    pthread_t a, b;
    pthread_create(&a, NULL, first, NULL);
    pthread_create(&b, NULL, second, NULL);
    pthread_join(a, NULL);
    pthread_join(b, NULL);
    return 0;
}
