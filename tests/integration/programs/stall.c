/* stall (a stall, not a deadlock): the "flusher" thread holds cache_lock
 * for 1.5 s (a slow write under the lock) while two readers wait for it.
 * With the watchdog and stall_ms=500 lockrace reports one stall naming the
 * holder and both waiters; the program then finishes normally. */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdio.h>
#include <time.h>

pthread_mutex_t cache_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_barrier_t holding;

static void *flusher(void *arg)
{
    (void)arg;
    pthread_setname_np(pthread_self(), "flusher");
    pthread_mutex_lock(&cache_lock);
    pthread_barrier_wait(&holding);
    struct timespec slow_write = { 1, 500000000L };
    nanosleep(&slow_write, NULL);
    pthread_mutex_unlock(&cache_lock);
    return NULL;
}

static void *reader(void *arg)
{
    (void)arg;
    pthread_setname_np(pthread_self(), "reader");
    pthread_barrier_wait(&holding);
    pthread_mutex_lock(&cache_lock);
    pthread_mutex_unlock(&cache_lock);
    return NULL;
}

int main(void)
{
    pthread_t f, r1, r2;
    pthread_barrier_init(&holding, NULL, 3);
    pthread_create(&f, NULL, flusher, NULL);
    pthread_create(&r1, NULL, reader, NULL);
    pthread_create(&r2, NULL, reader, NULL);
    pthread_join(f, NULL);
    pthread_join(r1, NULL);
    pthread_join(r2, NULL);
    puts("stall: done");
    return 0;
}
