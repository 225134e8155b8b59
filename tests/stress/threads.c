/* threads: TOTAL threads (10^4) created and joined over a run, ALIVE (64)
 * at a time. Each is named, takes OPS (200) random subsets of 64 shared
 * mutexes in ascending order (a few hundred acquisition contexts, so its
 * context table grows), and a mutex of its own under them, then ends.
 * Thread state must be recycled: nothing reported, and peak RSS (stderr)
 * must not grow with TOTAL. */
#include "stress.h"

#define LOCKS 64

static pthread_mutex_t locks[LOCKS];
static uint64_t count[LOCKS];
static long ops;

static void *worker(void *arg)
{
    long me = (long)arg;
    uint64_t rng = 0x7eed0000ull + (uint64_t)me;
    pthread_mutex_t own;
    name_self("t-%ld", me);
    pthread_mutex_init(&own, NULL);
    for (long op = 0; op < ops; op++) {
        uint64_t r = rng_next(&rng);
        int a = (int)(r & 63), b = (int)((r >> 8) & 63);
        int lo = a < b ? a : b, hi = a < b ? b : a;
        pthread_mutex_lock(&locks[lo]);
        if (hi != lo)
            pthread_mutex_lock(&locks[hi]);
        pthread_mutex_lock(&own);
        count[lo]++;
        count[hi] += (uint64_t)me;
        pthread_mutex_unlock(&own);
        if (hi != lo)
            pthread_mutex_unlock(&locks[hi]);
        pthread_mutex_unlock(&locks[lo]);
    }
    pthread_mutex_destroy(&own);
    return NULL;
}

int main(int argc, char **argv)
{
    long total = arg_long(argc, argv, 1, 10000);
    long alive = arg_long(argc, argv, 2, 64);
    ops = arg_long(argc, argv, 3, 200);
    if (total < 1 || alive < 1 || ops < 0) {
        fprintf(stderr, "usage: threads TOTAL ALIVE OPS\n");
        return 2;
    }
    for (int i = 0; i < LOCKS; i++)
        pthread_mutex_init(&locks[i], NULL);
    pthread_t *t = calloc((size_t)alive, sizeof *t);
    long started = 0;
    while (started < total) {
        long n = 0;
        for (; n < alive && started < total; n++, started++)
            t[n] = start(worker, (void *)started, 64 * 1024);
        for (long i = 0; i < n; i++)
            pthread_join(t[i], NULL);
    }
    uint64_t h = FNV_SEED;
    for (int i = 0; i < LOCKS; i++)
        h = fnv(h, count[i]);
    printf("threads: %ld threads created and joined, %ld alive at a time, checksum %016llx\n",
           started, alive, (unsigned long long)h);
    free(t);
    print_peak_rss("threads");
    return 0;
}
