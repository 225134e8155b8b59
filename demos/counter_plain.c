/* The lost-update counter of counter_race, written the way it usually is:
 * no annotation, nothing lockrace-specific. Watch it without rebuilding:
 *
 *   lockrace --watch counter -- ./counter_plain
 *
 * Two threads each add 1 to a shared counter a million times; a thread
 * reads the counter, logs the odd milestone, and writes back what it read
 * plus one. When the other thread wrote in between, its update is gone.
 *
 * `counter_plain locked` takes a mutex around each increment and
 * `counter_plain atomic` uses an atomic add: both are correct, and watched
 * the same way lockrace reports nothing on them.
 *
 * `counter_plain increment` writes `counter++`, which the compiler makes one
 * instruction (add to memory, not locked): it loses updates natively, but
 * watched, each instruction runs under the variable's lock and becomes
 * atomic, so the program stops losing them; lockrace reports the lost
 * update as possible. */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define THREADS 2

long counter;
atomic_long atomic_counter;
static pthread_mutex_t counter_lock = PTHREAD_MUTEX_INITIALIZER;
static long increments = 1000000;

static void milestone(long value)
{
    if (value % 500000 == 0)
        fprintf(stderr, "counter reached %ld\n", value);
}

static void *racy(void *arg)
{
    (void)arg;
    for (long i = 0; i < increments; i++) {
        long seen = counter;            /* read */
        milestone(seen);
        counter = seen + 1;             /* write: may overwrite another thread's update */
    }
    return NULL;
}

static void *increment(void *arg)
{
    (void)arg;
    for (long i = 1; i <= increments; i++) {
        counter++;                      /* one instruction: addq $1, counter(%rip) */
        milestone(i);
    }
    return NULL;
}

static void *locked(void *arg)
{
    (void)arg;
    for (long i = 0; i < increments; i++) {
        pthread_mutex_lock(&counter_lock);
        long seen = counter;
        milestone(seen);
        counter = seen + 1;
        pthread_mutex_unlock(&counter_lock);
    }
    return NULL;
}

static void *atomic(void *arg)
{
    (void)arg;
    for (long i = 0; i < increments; i++)
        milestone(atomic_fetch_add(&atomic_counter, 1));
    return NULL;
}

int main(int argc, char **argv)
{
    const char *mode = argc > 1 ? argv[1] : "racy";
    void *(*worker)(void *) = !strcmp(mode, "racy") ? racy : !strcmp(mode, "locked") ? locked
                            : !strcmp(mode, "atomic") ? atomic
                            : !strcmp(mode, "increment") ? increment : NULL;
    if (argc > 2)
        increments = atol(argv[2]);
    if (!worker || argc > 3 || increments < 1) {
        fprintf(stderr, "usage: counter_plain [racy|increment|locked|atomic] [INCREMENTS]\n");
        return 2;
    }
    pthread_t t[THREADS];
    for (int i = 0; i < THREADS; i++)
        pthread_create(&t[i], NULL, worker, NULL);
    for (int i = 0; i < THREADS; i++)
        pthread_join(t[i], NULL);
    long expected = THREADS * increments;
    long got = worker == atomic ? atomic_load(&atomic_counter) : counter;
    printf("expected %ld, got %ld: %ld increments lost\n", expected, got, expected - got);
    return 0;
}
