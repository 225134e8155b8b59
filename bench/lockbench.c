/* lockbench: cost of pthread synchronisation: mutex lock/unlock on one thread
 * with 0, 2 or 4 locks nested in a fixed order, two threads on one mutex,
 * 10 vs 100000 distinct locks, rwlock reads, condition-variable hand-offs and
 * thread create/join. Every lock is taken in one consistent order, so a
 * checker must report nothing. Standalone: run it natively or under a checker
 * (LD_PRELOAD=liblockrace.so, -fsanitize=thread, helgrind). */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
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

static void die(const char *what, int err)
{
    fprintf(stderr, "lockbench: %s: %s\n", what, strerror(err));
    exit(1);
}

static void *contend_worker(void *arg)
{
    long n = (long)(intptr_t)arg;

    for (long i = 0; i < n; i++) {
        pthread_mutex_lock(bench_locks(0));
        pthread_mutex_unlock(bench_locks(0));
    }
    return NULL;
}

static void contended(long iters)
{
    pthread_t t[2];
    long half = iters / 2;
    int err;

    for (int i = 0; i < 2; i++)
        if ((err = pthread_create(&t[i], NULL, contend_worker,
                                  (void *)(intptr_t)(i ? iters - half : half))))
            die("pthread_create", err);
    for (int i = 0; i < 2; i++)
        pthread_join(t[i], NULL);
}

/* many_locks / few_locks: the same loop over 100000 or 10 inner locks, so
 * the two times differ only by how the cost of an acquisition grows with the
 * number of locks (and contexts) a checker has seen. */
static struct {
    pthread_mutex_t m;
} __attribute__((aligned(64))) *inner;
static long ninner;

static void inner_setup(long n)
{
    int err;

    inner = aligned_alloc(64, n * sizeof *inner);
    if (!inner)
        die("aligned_alloc", ENOMEM);
    for (long i = 0; i < n; i++)
        if ((err = pthread_mutex_init(&inner[i].m, NULL)))
            die("pthread_mutex_init", err);
    ninner = n;
}

/* The outer lock is held across the whole run rather than per pass: per
 * pass, few_locks would pay for it every 10 acquisitions and many_locks
 * every 100000, and the comparison would measure that instead. */
static void inner_run(long iters)
{
    long j = 0;

    pthread_mutex_lock(bench_locks(0));
    for (long i = 0; i < iters; i++) {
        pthread_mutex_lock(&inner[j].m);
        pthread_mutex_unlock(&inner[j].m);
        if (++j == ninner)
            j = 0;
    }
    pthread_mutex_unlock(bench_locks(0));
}

static void inner_teardown(void)
{
    for (long i = 0; i < ninner; i++)
        pthread_mutex_destroy(&inner[i].m);
    free(inner);
    inner = NULL;
    ninner = 0;
}

/* One untimed pass over every lock: that is where a checker first sees each
 * lock and each outer->inner edge. */
static void many_setup(void)
{
    inner_setup(100000);
    inner_run(ninner);
}

static void few_setup(void)
{
    inner_setup(10);
    inner_run(ninner);
}

static pthread_rwlock_t rwlock = PTHREAD_RWLOCK_INITIALIZER;

static void rwlock_read(long iters)
{
    for (long i = 0; i < iters; i++) {
        pthread_rwlock_rdlock(&rwlock);
        pthread_rwlock_unlock(&rwlock);
    }
}

static pthread_cond_t turn_cv = PTHREAD_COND_INITIALIZER;
static long turns_done, turns_total;

/* Player k moves when turns_done is of its parity; each move is a hand-off. */
static void play(long k)
{
    pthread_mutex_lock(bench_locks(1));
    for (;;) {
        while (turns_done < turns_total && turns_done % 2 != k)
            pthread_cond_wait(&turn_cv, bench_locks(1));
        if (turns_done >= turns_total)
            break;
        turns_done++;
        pthread_cond_signal(&turn_cv);
    }
    pthread_mutex_unlock(bench_locks(1));
}

static void *play_thread(void *arg)
{
    play((long)(intptr_t)arg);
    return NULL;
}

static void condvar_pingpong(long iters)
{
    pthread_t t;
    int err;

    turns_done = 0;
    turns_total = iters;
    if ((err = pthread_create(&t, NULL, play_thread, (void *)(intptr_t)1)))
        die("pthread_create", err);
    play(0);
    pthread_join(t, NULL);
}

static void *nothing(void *arg)
{
    return arg;
}

static void thread_create(long iters)
{
    pthread_t t;
    int err;

    for (long i = 0; i < iters; i++) {
        if ((err = pthread_create(&t, NULL, nothing, NULL)))
            die("pthread_create", err);
        pthread_join(t, NULL);
    }
}

/* The same hand-offs after 2,000 threads have come and gone: a checker
 * that looks at every thread the process ever had on each wait slows down
 * with the program's age (a thread pool that has replaced its workers). */
static void threads_gone(void)
{
    thread_create(2000);
}

/* div and min scale --iters down for tests whose operation costs far more
 * than a lock, so that the default run stays short. */
static const struct test {
    const char *name;
    void (*run)(long iters);
    long div, min;
    void (*setup)(void), (*teardown)(void);
} tests[] = {
    { "uncontended", uncontended, 1, 1, NULL, NULL },
    { "nested2", nested2, 1, 1, NULL, NULL },
    { "nested4", nested4, 1, 1, NULL, NULL },
    { "contended", contended, 1, 2, NULL, NULL },
    { "few_locks", inner_run, 1, 1, few_setup, inner_teardown },
    { "many_locks", inner_run, 1, 1, many_setup, inner_teardown },
    { "rwlock_read", rwlock_read, 1, 1, NULL, NULL },
    { "condvar_pingpong", condvar_pingpong, 100, 1000, NULL, NULL },
    { "condvar_after_threads", condvar_pingpong, 100, 1000, threads_gone, NULL },
    { "thread_create", thread_create, 10000, 100, NULL, NULL },
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

    iters /= t->div;
    if (iters < t->min)
        iters = t->min;
    if (t->setup)
        t->setup();
    /* Untimed warm-up: first touches, lazy binding, and the checker's first
     * sight of each lock and edge should not count. */
    t->run(iters / 10);
    for (int r = 0; r < REPS; r++) {
        double start = now_ns();
        t->run(iters);
        ns[r] = (now_ns() - start) / iters;
    }
    if (t->teardown)
        t->teardown();
    qsort(ns, REPS, sizeof ns[0], cmp_double);
    printf("%s ns_per_iter=%.1f iters=%ld\n", t->name, ns[REPS / 2], iters);
    fflush(stdout);
}

static void usage(FILE *f)
{
    fprintf(f, "usage: lockbench [--iters N] [--list] [TEST...]\ntests:");
    for (size_t i = 0; i < NTESTS; i++)
        fprintf(f, " %s", tests[i].name);
    fprintf(f, " (default: all)\n");
    for (size_t i = 0; i < NTESTS; i++)
        if (tests[i].div > 1)
            fprintf(f, "%s runs N/%ld iterations (at least %ld);"
                    " its line shows the count it ran\n",
                    tests[i].name, tests[i].div, tests[i].min);
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
