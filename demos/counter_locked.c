/* counter_race with the fix: each increment holds a mutex, so the read and
 * the write of one increment cannot be split by another thread's. Clean:
 * lockrace reports nothing and no increment is lost. */
#include "lockrace.h"

#include <pthread.h>
#include <stdio.h>

#define THREADS 4
#define INCREMENTS 100000

static long counter;
static pthread_mutex_t counter_lock = PTHREAD_MUTEX_INITIALIZER;

static void *worker(void *arg)
{
    (void)arg;
    for (int i = 0; i < INCREMENTS; i++) {
        pthread_mutex_lock(&counter_lock);
        long v = LOCKRACE_LOAD(counter);
        LOCKRACE_STORE(counter, v + 1);
        pthread_mutex_unlock(&counter_lock);
    }
    return NULL;
}

int main(void)
{
    LOCKRACE_WATCH(counter, "counter");
    pthread_t t[THREADS];
    for (int i = 0; i < THREADS; i++)
        pthread_create(&t[i], NULL, worker, NULL);
    for (int i = 0; i < THREADS; i++)
        pthread_join(t[i], NULL);
    long expected = (long)THREADS * INCREMENTS;
    long got = LOCKRACE_LOAD(counter);          /* after the joins: ordered */
    printf("expected %ld, got %ld: %ld increments lost\n", expected, got, expected - got);
    return got == expected ? 0 : 1;
}
