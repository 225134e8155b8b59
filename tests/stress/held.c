/* held: each of THREADS threads (2) takes HOLD mutexes (1000) in ascending
 * order and holds them all at once, ROUNDS times, then lets them go in
 * ascending, descending or odd-then-even order (the held stack pops, and
 * removes from its bottom and its middle). Every 16th is taken with a
 * trylock, and one recursive mutex is taken again at the top while all are
 * held. ThreadSanitizer stops past 64 held locks; lockrace has no such
 * limit. Nothing may be reported. */
#include "stress.h"

static long hold, rounds;
static pthread_mutex_t *locks;
static uint64_t *count;
static pthread_mutex_t rec = PTHREAD_RECURSIVE_MUTEX_INITIALIZER_NP;

static void release(long round)
{
    switch (round % 3) {
    case 0:
        for (long i = 0; i < hold; i++)
            pthread_mutex_unlock(&locks[i]);
        break;
    case 1:
        for (long i = hold - 1; i >= 0; i--)
            pthread_mutex_unlock(&locks[i]);
        break;
    default:
        for (long i = 1; i < hold; i += 2)
            pthread_mutex_unlock(&locks[i]);
        for (long i = 0; i < hold; i += 2)
            pthread_mutex_unlock(&locks[i]);
    }
}

static void *worker(void *arg)
{
    name_self("holder-%ld", (long)arg);
    for (long r = 0; r < rounds; r++) {
        pthread_mutex_lock(&rec);
        for (long i = 0; i < hold; i++)
            if (i % 16 != 15 || pthread_mutex_trylock(&locks[i]) != 0)
                pthread_mutex_lock(&locks[i]);
        pthread_mutex_lock(&rec);
        for (long i = 0; i < hold; i++)
            count[i] += (uint64_t)i;
        pthread_mutex_unlock(&rec);
        release(r);
        pthread_mutex_unlock(&rec);
    }
    return NULL;
}

int main(int argc, char **argv)
{
    hold = arg_long(argc, argv, 1, 1000);
    rounds = arg_long(argc, argv, 2, 10);
    long nthreads = arg_long(argc, argv, 3, 2);
    if (hold < 1 || rounds < 1 || nthreads < 1) {
        fprintf(stderr, "usage: held HOLD ROUNDS THREADS (all >= 1)\n");
        return 2;
    }
    locks = calloc((size_t)hold, sizeof *locks);
    count = calloc((size_t)hold, sizeof *count);
    pthread_t *t = calloc((size_t)nthreads, sizeof *t);
    for (long i = 0; i < hold; i++)
        pthread_mutex_init(&locks[i], NULL);
    for (long i = 0; i < nthreads; i++)
        t[i] = start(worker, (void *)i, 0);
    for (long i = 0; i < nthreads; i++)
        pthread_join(t[i], NULL);
    uint64_t h = FNV_SEED;
    for (long i = 0; i < hold; i++)
        h = fnv(h, count[i]);
    printf("held: %ld threads, %ld locks held at once, %ld rounds, checksum %016llx\n", nthreads,
           hold, rounds, (unsigned long long)h);
    for (long i = 0; i < hold; i++)
        pthread_mutex_destroy(&locks[i]);
    free(locks);
    free(count);
    free(t);
    print_peak_rss("held");
    return 0;
}
