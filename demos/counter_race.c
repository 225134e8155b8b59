/* The classic lost update: threads each increment a shared counter with no
 * lock. counter++ is a read, an add and a write; when two threads read the
 * same value, both write value + 1 and one increment is gone. The program
 * prints how many increments it expected and how many it got.
 *
 * Each increment is annotated for lockrace (include/lockrace.h):
 * LOCKRACE_LOAD and LOCKRACE_STORE make the read and the write through
 * lockrace, which then knows the values and their order for certain and can
 * show an update being lost. Without lockrace they are plain accesses. */
#include "lockrace.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

#define THREADS 4
#define INCREMENTS 200000

static long counter;

static void *worker(void *arg)
{
    (void)arg;
    for (int i = 0; i < INCREMENTS; i++) {
        long v = LOCKRACE_LOAD(counter);        /* read */
        LOCKRACE_STORE(counter, v + 1);         /* write: may overwrite another thread's update */
    }
    return NULL;
}

int main(int argc, char **argv)
{
    int threads = argc > 1 ? atoi(argv[1]) : THREADS;
    if (threads < 1 || threads > 64) {
        fprintf(stderr, "usage: counter_race [THREADS 1..64]\n");
        return 2;
    }
    LOCKRACE_WATCH(counter, "counter");
    pthread_t t[64];
    for (int i = 0; i < threads; i++)
        pthread_create(&t[i], NULL, worker, NULL);
    for (int i = 0; i < threads; i++)
        pthread_join(t[i], NULL);
    long expected = (long)threads * INCREMENTS;
    printf("expected %ld, got %ld: %ld increments lost\n", expected, counter, expected - counter);
    return 0;
}
