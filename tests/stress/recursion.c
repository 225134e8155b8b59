/* recursion: THREADS threads (4) each recurse DEPTH levels (10^5) deep,
 * ROUNDS times, relocking a recursive mutex at every level and a second
 * one at every other level, so that each is relocked while the other is
 * held: relocking a recursive mutex one holds cannot block and makes no
 * edge, so there is no inversion. Every 64 levels a normal mutex is taken
 * under both. Half the threads use a statically initialised pair, half a
 * pair made with pthread_mutexattr_settype; they contend. Nothing may be
 * reported; the counters must be the native ones. */
#include "stress.h"

struct pair {
    pthread_mutex_t outer, inner;
};

static struct pair static_pair = { PTHREAD_RECURSIVE_MUTEX_INITIALIZER_NP,
                                   PTHREAD_RECURSIVE_MUTEX_INITIALIZER_NP };
static struct pair attr_pair;
static pthread_mutex_t leaf = PTHREAD_MUTEX_INITIALIZER;
static uint64_t leaf_count, pair_count[2];
static long depth, rounds;

static __attribute__((noinline)) void descend(struct pair *p, uint64_t *counter, long level)
{
    if (level == depth)
        return;
    pthread_mutex_lock(&p->outer);
    if (level & 1)
        pthread_mutex_lock(&p->inner);
    (*counter)++;
    if (level % 64 == 63) {
        pthread_mutex_lock(&leaf);
        leaf_count += (uint64_t)level;
        pthread_mutex_unlock(&leaf);
    }
    descend(p, counter, level + 1);
    if (level & 1)
        pthread_mutex_unlock(&p->inner);
    pthread_mutex_unlock(&p->outer);
}

static void *worker(void *arg)
{
    long me = (long)arg;
    struct pair *p = me & 1 ? &attr_pair : &static_pair;
    name_self("recurse-%ld", me);
    for (long r = 0; r < rounds; r++)
        descend(p, &pair_count[me & 1], 0);
    return NULL;
}

int main(int argc, char **argv)
{
    depth = arg_long(argc, argv, 1, 100000);
    long nthreads = arg_long(argc, argv, 2, 4);
    rounds = arg_long(argc, argv, 3, 10);
    if (depth < 1 || nthreads < 1 || rounds < 1) {
        fprintf(stderr, "usage: recursion DEPTH THREADS ROUNDS (all >= 1)\n");
        return 2;
    }
    pthread_mutexattr_t attr;
    pthread_mutexattr_init(&attr);
    pthread_mutexattr_settype(&attr, PTHREAD_MUTEX_RECURSIVE);
    pthread_mutex_init(&attr_pair.outer, &attr);
    pthread_mutex_init(&attr_pair.inner, &attr);
    pthread_mutexattr_destroy(&attr);
    pthread_t *t = calloc((size_t)nthreads, sizeof *t);
    /* about 100 bytes of stack a level, natively and under lockrace */
    size_t stack = (size_t)depth * 256 + (1 << 20);
    for (long i = 0; i < nthreads; i++)
        t[i] = start(worker, (void *)i, stack);
    for (long i = 0; i < nthreads; i++)
        pthread_join(t[i], NULL);
    printf("recursion: %ld threads, depth %ld, %ld rounds, counts %llu %llu %llu\n", nthreads,
           depth, rounds, (unsigned long long)pair_count[0], (unsigned long long)pair_count[1],
           (unsigned long long)leaf_count);
    free(t);
    print_peak_rss("recursion");
    return 0;
}
