/* The counter race, annotated without values: LOCKRACE_READ and
 * LOCKRACE_WRITE say an access happened, not what it read or wrote, so
 * lockrace can say a lost update is possible but cannot tell whether one
 * happened. The program prints how many it lost. */
#define _GNU_SOURCE
#include "lockrace.h"

#include <pthread.h>
#include <stdio.h>

#define ROUNDS 100000

static long counter;

static void *worker(void *arg)
{
    (void)arg;
    for (int i = 0; i < ROUNDS; i++) {
        LOCKRACE_READ(counter);
        long v = counter;
        LOCKRACE_WRITE(counter);
        __atomic_store_n(&counter, v + 1, __ATOMIC_RELAXED);
    }
    return NULL;
}

int main(void)
{
    pthread_t t[2];
    for (int i = 0; i < 2; i++)
        pthread_create(&t[i], NULL, worker, NULL);
    for (int i = 0; i < 2; i++)
        pthread_join(t[i], NULL);
    printf("expected %d, got %ld\n", 2 * ROUNDS, counter);
    return 0;
}
