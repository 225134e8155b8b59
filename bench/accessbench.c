/* accessbench: cost of an annotated memory access (include/lockrace.h), as
 * accesses per second and ns per access: LOCKRACE_READ/WRITE after plain
 * accesses and LOCKRACE_LOAD/STORE, on one thread, on two threads each with
 * its own variable, and on one counter shared under a mutex. Every test is
 * race-free, so a checker must report nothing. Standalone: run it natively
 * (the annotations do nothing), under LD_PRELOAD=liblockrace.so, or built
 * with -fsanitize=thread (which instruments the plain accesses instead). */
#define _GNU_SOURCE
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lockrace.h"

#define REPS 3
#define MIN_NS 2e8 /* a timed run lasts at least this long, unless --iters */

/* What native measures: each loop iteration below is one load and one
 * store of a variable in memory (forwarded from the store to the next
 * iteration's load) plus the not-taken "is lockrace there" tests of the
 * weak symbols, about a cycle per iteration on a recent x86: the floor, not
 * a cache-missing access. The barrier keeps it so: without it the compiler
 * may keep the counter in a register and add iters once. */
#define BARRIER() __asm__ __volatile__("" ::: "memory")

/* One variable per cache line, so the threads of the _2t tests share no
 * line: false sharing would be measured instead of the checker. */
static struct {
    long v;
} __attribute__((aligned(64))) slots[2];

/* locked_2t's counter and its lock, on a line of their own. */
static struct {
    pthread_mutex_t m;
    long v;
} __attribute__((aligned(64))) shared = { PTHREAD_MUTEX_INITIALIZER, 0 };

static void die(const char *what, int err)
{
    fprintf(stderr, "accessbench: %s: %s\n", what, strerror(err));
    exit(1);
}

/* v = x; then x = v + 1, each followed by its annotation. */
static void annotate_loop(long *x, long iters)
{
    for (long i = 0; i < iters; i++) {
        long v = *x;
        LOCKRACE_READ(*x);
        *x = v + 1;
        LOCKRACE_WRITE(*x);
        BARRIER();
    }
}

/* The same through lockrace_load/lockrace_store, which make the access
 * themselves (natively: a volatile load and store). */
static void exact_loop(long *x, long iters)
{
    for (long i = 0; i < iters; i++) {
        long v = LOCKRACE_LOAD(*x);
        LOCKRACE_STORE(*x, v + 1);
        BARRIER();
    }
}

/* Both threads on one counter; lockrace sees a release and an acquire of
 * the mutex around every increment, and orders the accesses by them. */
static void locked_loop(long *x, long iters)
{
    (void)x;
    for (long i = 0; i < iters; i++) {
        pthread_mutex_lock(&shared.m);
        long v = LOCKRACE_LOAD(shared.v);
        LOCKRACE_STORE(shared.v, v + 1);
        pthread_mutex_unlock(&shared.m);
    }
}

struct worker {
    pthread_t thread;
    void (*loop)(long *x, long iters);
    long *x;
    long iters;
};

static void *worker_main(void *arg)
{
    struct worker *w = arg;

    w->loop(w->x, w->iters);
    return NULL;
}

/* Runs loop on nthreads threads, thread i on slots[i] (one thread: the
 * calling one, so that no thread creation is timed). */
static void run_threads(int nthreads, void (*loop)(long *, long), long iters)
{
    struct worker w[2];
    int err;

    if (nthreads == 1) {
        loop(&slots[0].v, iters);
        return;
    }
    for (int i = 0; i < nthreads; i++) {
        w[i] = (struct worker){ .loop = loop, .x = &slots[i].v, .iters = iters };
        if ((err = pthread_create(&w[i].thread, NULL, worker_main, &w[i])))
            die("pthread_create", err);
    }
    for (int i = 0; i < nthreads; i++)
        pthread_join(w[i].thread, NULL);
}

/* iters: loop iterations per thread of one timed run, by default; picked
 * for ~0.25 s under lockrace. */
static const struct test {
    const char *name;
    void (*loop)(long *x, long iters);
    int nthreads;
    long iters;
} tests[] = {
    { "annotate_1t", annotate_loop, 1, 3000000 },
    { "annotate_2t", annotate_loop, 2, 1500000 },
    { "exact_1t", exact_loop, 1, 2500000 },
    { "exact_2t", exact_loop, 2, 1200000 },
    { "locked_2t", locked_loop, 2, 600000 },
};
#define NTESTS (sizeof tests / sizeof tests[0])

static double now_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e9 + ts.tv_nsec;
}

/* Loop iterations per thread of the warm-up runs and the timed ones, so
 * far: the counters must end at their sum. */
static long iters_run;

static double time_run(const struct test *t, long iters)
{
    double start = now_ns();

    run_threads(t->nthreads, t->loop, iters);
    iters_run += iters;
    return now_ns() - start;
}

/* ns_per_access is wall time over all accesses of all threads (the inverse
 * of accesses_per_sec): with perfect scaling a _2t test shows half the ns
 * of its _1t twin. With fixed set, exactly iters iterations are timed;
 * otherwise at least enough for MIN_NS per run. */
static void bench(const struct test *t, long iters, int fixed)
{
    double best = 0, ns;
    long n = iters / 10 > 0 ? iters / 10 : 1;

    for (int i = 0; i < 2; i++)
        slots[i].v = 0;
    shared.v = 0;
    iters_run = 0;
    LOCKRACE_WATCH(slots[0].v, "slots[0].v");
    LOCKRACE_WATCH(slots[1].v, "slots[1].v");
    LOCKRACE_WATCH(shared.v, "shared.v");
    /* Untimed warm-up: first touches, lazy binding, and the checker's first
     * sight of each thread and variable should not count. It also sizes the
     * timed runs: the default counts are picked for lockrace, and natively
     * they would run a few milliseconds, mostly thread start-up. */
    while ((ns = time_run(t, n)) < MIN_NS / 10 && !fixed && n < LONG_MAX / 100)
        n *= 10;
    if (!fixed && n * (MIN_NS / ns) > iters)
        iters = (long)(n * (MIN_NS / ns));
    for (int r = 0; r < REPS; r++) {
        ns = time_run(t, iters);
        if (r == 0 || ns < best)
            best = ns;
    }
    /* The loops did all their work (and locked_2t's lock excluded). */
    long expect = iters_run * (t->loop == locked_loop ? t->nthreads : 1);
    long got = t->loop == locked_loop ? shared.v : slots[0].v;
    if (got != expect) {
        fprintf(stderr, "accessbench: %s: counter is %ld, expected %ld\n", t->name, got, expect);
        exit(1);
    }
    double accesses = 2.0 * iters * t->nthreads; /* a read and a write each */
    printf("%s ns_per_access=%.2f accesses_per_sec=%.0f iters=%ld\n", t->name,
           best / accesses, accesses / best * 1e9, iters);
    fflush(stdout);
}

static void usage(FILE *f)
{
    fprintf(f, "usage: accessbench [--iters N] [--list] [TEST...]\ntests:");
    for (size_t i = 0; i < NTESTS; i++)
        fprintf(f, " %s", tests[i].name);
    fprintf(f, " (default: all)\n"
            "Each loop iteration is 2 accesses (a read and a write); the best of"
            " %d timed runs is\nprinted. --iters N: iterations per thread per"
            " run (default: per test, ~0.25 s\nunder lockrace, raised so a run"
            " lasts at least %.1f s)\n", REPS, MIN_NS / 1e9);
}

int main(int argc, char **argv)
{
    long iters = 0;
    const struct test *chosen[64];
    size_t nchosen = 0;

    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--iters") == 0 && i + 1 < argc) {
            char *end;
            iters = strtol(argv[++i], &end, 10);
            if (*end || iters <= 0) {
                fprintf(stderr, "accessbench: bad --iters '%s'\n", argv[i]);
                return 2;
            }
        } else if (strcmp(argv[i], "--list") == 0) {
            for (size_t j = 0; j < NTESTS; j++)
                puts(tests[j].name);
            return 0;
        } else if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            usage(stdout);
            return 0;
        } else {
            size_t j;
            for (j = 0; j < NTESTS && strcmp(argv[i], tests[j].name) != 0; j++)
                ;
            if (j == NTESTS || nchosen == sizeof chosen / sizeof chosen[0]) {
                fprintf(stderr, "accessbench: unknown test '%s'\n", argv[i]);
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
        bench(chosen[i], iters ? iters : chosen[i]->iters, iters != 0);
    return 0;
}
