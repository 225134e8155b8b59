/* A watched variable reached only in a callee, through the pointer its
 * caller passes: the address is put in an argument register by the caller
 * (`lea g_total(%rip), %rdi; call store`) and used by the callee (`mov
 * %rsi, (%rdi)`), so no instruction of either reaches it by itself.
 *
 *   watch_callee store N    two threads store through store(): a data race
 *   watch_callee add N      two threads add through add(), a read and a
 *                           write apart: lost updates, counted exactly
 *   watch_callee nested N   two threads add through relay(), which passes
 *                           the pointer on to add(): lost updates, at add()'s
 *                           lines, under relay()'s
 *   watch_callee locked N   all of them, under the one lock: nothing to report
 *   watch_callee calls N    tally(), with a loop, branches and calls of its
 *                           own, first in one thread (its results printed,
 *                           as native), then in two: a data race
 *
 * store() and add() are also called, as often, with each thread's own
 * variable on the stack: nothing of those calls is reported. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

long g_total;
long g_sum;
long g_tally;
long g_relayed;
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static long rounds = 100000;
static int mode;                /* 0 store, 1 add, 2 locked, 3 calls, 4 nested */

__attribute__((noinline)) void store(long *p, long v)
{
    *p = v;                                     /* the store */
}

__attribute__((noinline)) void add(volatile long *p, long v)
{
    long seen = *p;                             /* the read */
    *p = seen + v;                              /* the write */
}

__attribute__((noinline)) static long triple(long x)
{
    return x * 3;
}

static long (*volatile triple_fn)(long) = triple;

/* Its copy runs what the original runs: branches re-aimed, calls that
 * return into the original, after which it runs unwatched. */
__attribute__((noinline)) long tally(long *p, long n)
{
    long s = 0;
    for (long i = 0; i < n; i++)
        s += *p + i;                            /* the loop's read */
    if (n & 1)
        *p += 1;
    s += triple(n);
    s += triple_fn(s);
    *p += s & 1;
    return s;
}

static void *tallier(void *arg)
{
    (void)arg;
    for (long i = 0; i < rounds; i++)
        tally(&g_tally, i & 7);
    return NULL;
}

/* One thread: what the copy computes is what the original computes. */
__attribute__((noinline)) static void tally_alone(void)
{
    long sum = 0;
    for (long n = 0; n < 50; n++)
        sum += tally(&g_tally, n);
    printf("tally %ld total %ld\n", sum, g_tally);
    fflush(stdout);
}

/* One level up: the pointer passed on, relay() has no access of its own. */
__attribute__((noinline)) void relay(volatile long *p, long v)
{
    add(p, v);
    __asm__ volatile("" ::: "memory");         /* a call, not a tail jump */
}

static void *worker(void *arg)
{
    volatile long mine = 0;
    long id = (long)arg;
    for (long i = 0; i < rounds; i++) {
        store((long *)&mine, i);
        add(&mine, 1);
        if (mode == 0) {
            store(&g_total, id);
        } else if (mode == 1) {
            add(&g_sum, 1);
        } else if (mode == 4) {
            relay(&g_relayed, 1);
        } else {
            pthread_mutex_lock(&lock);
            store(&g_total, id);
            add(&g_sum, 1);
            relay(&g_relayed, 1);
            pthread_mutex_unlock(&lock);
        }
    }
    return NULL;
}

int main(int argc, char **argv)
{
    if (argc > 1)
        mode = !strcmp(argv[1], "store") ? 0 : !strcmp(argv[1], "add") ? 1 : !strcmp(argv[1], "calls") ? 3 :
               !strcmp(argv[1], "nested") ? 4 : 2;
    if (argc > 2)
        rounds = atol(argv[2]);
    if (mode == 3)
        tally_alone();
    pthread_t t[2];
    for (long i = 0; i < 2; i++)
        pthread_create(&t[i], NULL, mode == 3 ? tallier : worker, (void *)(i + 1));
    for (int i = 0; i < 2; i++)
        pthread_join(t[i], NULL);
    long expected = mode == 1 || mode == 2 ? 2 * rounds : 0;
    printf("sum expected %ld, got %ld: %ld lost\n", expected, g_sum, expected - g_sum);
    expected = mode == 4 || mode == 2 ? 2 * rounds : 0;
    printf("relayed expected %ld, got %ld: %ld lost\n", expected, g_relayed, expected - g_relayed);
    return 0;
}
