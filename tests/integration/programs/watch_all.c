/* watch=* and globs: every global and static variable of the program,
 * none named. Nothing is annotated.
 *
 * Set up before any thread starts and only read after (quiet): limit,
 * greeting, table (const: never written), names. Under a mutex (quiet):
 * locked_total. Each thread's own element of per_thread (quiet).
 * racy mode adds, with no lock, increments of a static variable of a
 * function (hidden_total) and of stats_misses: lost updates; stats_hits
 * stays under the mutex. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define THREADS 2

static long limit;                      /* set in main, read by the threads */
static char greeting[32];
static const int table[4] = { 1, 2, 3, 5 };
static const char *names[THREADS];
long locked_total;
long stats_hits;
long stats_misses;
static long per_thread[THREADS];
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static int racy;

static void bump_hidden(void)
{
    static long hidden_total;           /* static in a function: named hidden_total.0 or so */
    long v = hidden_total;
    if (v < 0)
        puts("never");
    hidden_total = v + 1;
    if (v + 1 == limit * THREADS)
        puts("hidden_total complete");
}

static void *worker(void *arg)
{
    long me = (long)arg;
    for (long i = 0; i < limit; i++) {
        per_thread[me] += table[i & 3];
        pthread_mutex_lock(&lock);
        locked_total++;
        stats_hits++;
        pthread_mutex_unlock(&lock);
        if (racy) {
            bump_hidden();
            long m = stats_misses;
            if (m < 0)
                puts("never");
            stats_misses = m + 1;
        }
    }
    if (greeting[0] != 'h' || !names[me])
        puts("never");
    return NULL;
}

int main(int argc, char **argv)
{
    racy = argc > 1 && !strcmp(argv[1], "racy");
    limit = argc > 2 ? atol(argv[2]) : 20000;
    snprintf(greeting, sizeof greeting, "hello");
    names[0] = "first";
    names[1] = "second";
    pthread_t t[THREADS];
    for (long i = 0; i < THREADS; i++)
        pthread_create(&t[i], NULL, worker, (void *)i);
    for (int i = 0; i < THREADS; i++)
        pthread_join(t[i], NULL);
    printf("locked %ld hits %ld sums %ld %ld\n", locked_total, stats_hits, per_thread[0], per_thread[1]);
    return 0;
}
