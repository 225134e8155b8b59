/* lockbench: cost of pthread mutex lock/unlock on one thread, uncontended,
 * with 0, 2 or 4 locks nested in a fixed order. Standalone: run it natively or
 * under a checker (LD_PRELOAD=liblockrace.so, -fsanitize=thread, helgrind). */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define REPS 5

/* One lock per cache line: packed mutexes share lines, and how they fall
 * on them changed the native time by 25% from one build to the next. */
static struct {
    pthread_mutex_t m;
} __attribute__((aligned(64))) bench_locks_storage[4] = {
    { PTHREAD_MUTEX_INITIALIZER }, { PTHREAD_MUTEX_INITIALIZER },
    { PTHREAD_MUTEX_INITIALIZER }, { PTHREAD_MUTEX_INITIALIZER },
};
#define bench_locks(i) (&bench_locks_storage[i].m)

static void uncontended(long iters)
{
    for (long i = 0; i < iters; i++) {
        pthread_mutex_lock(bench_locks(0));
        pthread_mutex_unlock(bench_locks(0));
    }
}

static void nested(long iters, int depth)
{
    for (long i = 0; i < iters; i++) {
        for (int j = 0; j < depth; j++)
            pthread_mutex_lock(bench_locks(j));
        for (int j = depth - 1; j >= 0; j--)
            pthread_mutex_unlock(bench_locks(j));
    }
}

static void nested2(long iters) { nested(iters, 2); }
static void nested4(long iters) { nested(iters, 4); }

static const struct test {
    const char *name;
    void (*run)(long iters);
} tests[] = {
    { "uncontended", uncontended },
    { "nested2", nested2 },
    { "nested4", nested4 },
};
#define NTESTS (sizeof tests / sizeof tests[0])

static double now_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e9 + ts.tv_nsec;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;

    return (x > y) - (x < y);
}

static void bench(const struct test *t, long iters)
{
    double ns[REPS];

    /* Untimed warm-up: first touches, lazy binding, and the checker's first
     * sight of each lock and edge should not count. */
    t->run(iters / 10);
    for (int r = 0; r < REPS; r++) {
        double start = now_ns();
        t->run(iters);
        ns[r] = (now_ns() - start) / iters;
    }
    qsort(ns, REPS, sizeof ns[0], cmp_double);
    printf("%s ns_per_iter=%.1f iters=%ld\n", t->name, ns[REPS / 2], iters);
    fflush(stdout);
}

static void usage(FILE *f)
{
    fprintf(f, "usage: lockbench [--iters N] [TEST...]\ntests:");
    for (size_t i = 0; i < NTESTS; i++)
        fprintf(f, " %s", tests[i].name);
    fprintf(f, " (default: all)\n");
}

int main(int argc, char **argv)
{
    long iters = 10000000;
    const struct test *chosen[64];
    size_t nchosen = 0;

    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--iters") == 0 && i + 1 < argc) {
            char *end;
            iters = strtol(argv[++i], &end, 10);
            if (*end || iters <= 0) {
                fprintf(stderr, "lockbench: bad --iters '%s'\n", argv[i]);
                return 2;
            }
        } else if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            usage(stdout);
            return 0;
        } else {
            size_t j;
            for (j = 0; j < NTESTS && strcmp(argv[i], tests[j].name) != 0; j++)
                ;
            if (j == NTESTS || nchosen == sizeof chosen / sizeof chosen[0]) {
                fprintf(stderr, "lockbench: unknown test '%s'\n", argv[i]);
                usage(stderr);
                return 2;
            }
            chosen[nchosen++] = &tests[j];
        }
    }
    if (nchosen == 0)
        for (size_t j = 0; j < NTESTS; j++)
            chosen[nchosen++] = &tests[j];

    for (size_t i = 0; i < nchosen; i++)
        bench(chosen[i], iters);
    return 0;
}
