/* ordered: THREADS threads (64) each take random subsets of 256 mutexes,
 * always in ascending order, OPS times in all (10^6), and count what they
 * did in counters the locks guard. No order is ever inverted: nothing may
 * be reported, and the counters' checksum must be the native one (a lock
 * that lockrace let two threads hold at once would lose an increment).
 *
 *     ordered OPS THREADS clean|plant
 *
 * plant: the same, plus one inversion of two adjacent locks, P then Q by
 * "planter-fwd" before the workers start, Q then P by "planter-rev" while
 * they run. Workers never hold P while they take Q, so it cannot really
 * deadlock, and since every other path goes upwards, P -> Q -> P is the
 * only cycle: exactly one report, naming locks[100] and locks[101]. */
#include "stress.h"

#include <time.h>

#define LOCKS 256
#define MAX_SUBSET 4
#define PLANT_P 100
#define PLANT_Q 101

static pthread_mutex_t locks[LOCKS];
static uint64_t count[LOCKS], sum[LOCKS];
static long ops_per_thread;
static int plant;
static long progress;       /* operations done by all workers, roughly */

/* n distinct lock indexes in ascending order; returns n (1..MAX_SUBSET) */
static int pick_subset(uint64_t *rng, int *pick)
{
    uint64_t r = rng_next(rng);
    int want = 1 + (int)(r % MAX_SUBSET), n = 0;
    for (int k = 0; k < want; k++) {
        int v = (int)((r >> (8 + 8 * k)) & (LOCKS - 1)), i = n;
        while (i > 0 && pick[i - 1] > v)
            i--;
        if (i > 0 && pick[i - 1] == v)
            continue;
        memmove(&pick[i + 1], &pick[i], (size_t)(n - i) * sizeof *pick);
        pick[i] = v;
        n++;
    }
    if (plant) {            /* P and Q are only ever nested by the planters */
        for (int i = 0; i + 1 < n; i++)
            if (pick[i] == PLANT_P && pick[i + 1] == PLANT_Q) {
                memmove(&pick[i + 1], &pick[i + 2], (size_t)(n - i - 2) * sizeof *pick);
                n--;
            }
    }
    return n;
}

static void *worker(void *arg)
{
    long me = (long)arg;
    uint64_t rng = 0x5eed0000ull + (uint64_t)me;
    int pick[MAX_SUBSET];
    name_self("worker-%ld", me);
    for (long op = 0; op < ops_per_thread; op++) {
        int n = pick_subset(&rng, pick);
        for (int i = 0; i < n; i++)
            pthread_mutex_lock(&locks[pick[i]]);
        for (int i = 0; i < n; i++) {
            count[pick[i]]++;
            sum[pick[i]] += (uint64_t)me + 1;
        }
        /* both release orders: the held stack pops and removes from the middle */
        for (int i = 0; i < n; i++)
            pthread_mutex_unlock(&locks[op & 1 ? pick[i] : pick[n - 1 - i]]);
        if ((op & 1023) == 1023)
            __atomic_add_fetch(&progress, 1024, __ATOMIC_RELAXED);
    }
    __atomic_add_fetch(&progress, ops_per_thread & 1023, __ATOMIC_RELAXED);
    return NULL;
}

static void *planter_fwd(void *arg)
{
    (void)arg;
    name_self("planter-fwd", 0);
    pthread_mutex_lock(&locks[PLANT_P]);    /* plant: forward, first */
    pthread_mutex_lock(&locks[PLANT_Q]);    /* plant: forward, second */
    pthread_mutex_unlock(&locks[PLANT_Q]);
    pthread_mutex_unlock(&locks[PLANT_P]);
    return NULL;
}

static void *planter_rev(void *arg)
{
    long half = (long)arg;
    name_self("planter-rev", 0);
    while (__atomic_load_n(&progress, __ATOMIC_RELAXED) < half)
        nanosleep(&(struct timespec){ 0, 1000000 }, NULL);
    pthread_mutex_lock(&locks[PLANT_Q]);    /* plant: reverse, first */
    pthread_mutex_lock(&locks[PLANT_P]);    /* plant: reverse, second */
    pthread_mutex_unlock(&locks[PLANT_P]);
    pthread_mutex_unlock(&locks[PLANT_Q]);
    return NULL;
}

int main(int argc, char **argv)
{
    long ops = arg_long(argc, argv, 1, 1000000);
    long nthreads = arg_long(argc, argv, 2, 64);
    plant = argc > 3 && strcmp(argv[3], "plant") == 0;
    if (nthreads < 1 || ops < nthreads) {
        fprintf(stderr, "usage: ordered OPS THREADS clean|plant (OPS >= THREADS >= 1)\n");
        return 2;
    }
    ops_per_thread = ops / nthreads;
    for (int i = 0; i < LOCKS; i++)
        pthread_mutex_init(&locks[i], NULL);
    pthread_t *t = calloc((size_t)nthreads, sizeof *t), rev = 0;
    if (plant)
        pthread_join(start(planter_fwd, NULL, 0), NULL);
    for (long i = 0; i < nthreads; i++)
        t[i] = start(worker, (void *)i, 0);
    if (plant)
        rev = start(planter_rev, (void *)(ops_per_thread * nthreads / 2), 0);
    for (long i = 0; i < nthreads; i++)
        pthread_join(t[i], NULL);
    if (plant)
        pthread_join(rev, NULL);
    uint64_t h = FNV_SEED, total = 0;
    for (int i = 0; i < LOCKS; i++) {
        h = fnv(fnv(h, count[i]), sum[i]);
        total += count[i];
    }
    printf("ordered: %s, %ld threads, %d locks, %ld operations, %llu acquisitions, checksum %016llx\n",
           plant ? "plant" : "clean", nthreads, LOCKS, ops_per_thread * nthreads,
           (unsigned long long)total, (unsigned long long)h);
    for (int i = 0; i < LOCKS; i++)
        pthread_mutex_destroy(&locks[i]);
    free(t);
    print_peak_rss("ordered");
    return 0;
}
