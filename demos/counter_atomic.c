/* counter_race with the other fix: an atomic increment, which cannot lose
 * an update. Annotated as an atomic read-modify-write, it is never reported.
 * Clean. */
#include "lockrace.h"

#include <pthread.h>
#include <stdio.h>

#define THREADS 4
#define INCREMENTS 100000

static long counter;

static void *worker(void *arg)
{
    (void)arg;
    for (int i = 0; i < INCREMENTS; i++) {
        __atomic_fetch_add(&counter, 1, __ATOMIC_RELAXED);
        LOCKRACE_ATOMIC_RMW(counter);
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
    long got = counter;
    LOCKRACE_READ(counter);                     /* a plain read, after the joins: ordered */
    printf("expected %ld, got %ld: %ld increments lost\n", expected, got, expected - got);
    return got == expected ? 0 : 1;
}
