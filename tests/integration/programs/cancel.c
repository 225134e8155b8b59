/* cancel: threads cancelled (deferred, the default) while inside lockrace
 * must end exactly where they end natively: at the program's own
 * cancellation points, never at one lockrace calls. Each scenario prints
 * what happened; the output must be the same natively and under lockrace.
 *
 *   cancel waiter   a thread holding `held_a` blocks on `contended_b`
 *                   (pthread_mutex_lock: not a cancellation point) and is
 *                   cancelled while it waits; it must take B, release both
 *                   and end at its pthread_testcancel. Clean.
 *   cancel report   a thread with a cancel pending takes two locks in the
 *                   order opposite to main's: the report is written in its
 *                   pthread_mutex_lock; it must be whole, the thread must
 *                   go on to its pthread_testcancel, and main's own report
 *                   afterwards must not hang. Two reports.
 *   cancel condwait a thread cancelled in pthread_cond_wait (a cancellation
 *                   point) unlocks the mutex in its cleanup handler, the
 *                   classic pattern; then main takes the mutex. Clean. */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

static pthread_mutex_t held_a = PTHREAD_MUTEX_INITIALIZER;
static pthread_mutex_t contended_b = PTHREAD_MUTEX_INITIALIZER;
static pthread_mutex_t first_c = PTHREAD_MUTEX_INITIALIZER;
static pthread_mutex_t second_d = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t never = PTHREAD_COND_INITIALIZER;
static int stage, took_b, waiting;

static void pause_ms(long ms)
{
    struct timespec ts = { ms / 1000, (ms % 1000) * 1000000 };
    while (nanosleep(&ts, &ts) != 0)
        ;
}

static void *waiter(void *arg)
{
    (void)arg;
    pthread_mutex_lock(&held_a);
    __atomic_store_n(&stage, 1, __ATOMIC_RELEASE);
    pthread_mutex_lock(&contended_b);       /* blocks; cancelled meanwhile */
    took_b = 1;
    pthread_mutex_unlock(&contended_b);
    pthread_mutex_unlock(&held_a);
    pthread_testcancel();
    return NULL;
}

static int scenario_waiter(void)
{
    pthread_t t;
    pthread_mutex_lock(&contended_b);
    pthread_create(&t, NULL, waiter, NULL);
    while (!__atomic_load_n(&stage, __ATOMIC_ACQUIRE))
        pause_ms(1);
    pause_ms(300);                          /* several of lockrace's wait rounds */
    pthread_cancel(t);
    pause_ms(300);
    pthread_mutex_unlock(&contended_b);
    void *result;
    pthread_join(t, &result);
    printf("waiter: took B %d, cancelled %d\n", took_b, result == PTHREAD_CANCELED);
    printf("main: trylock A %d\n", pthread_mutex_trylock(&held_a));
    return 0;
}

static void *inverter(void *arg)
{
    (void)arg;
    while (!__atomic_load_n(&stage, __ATOMIC_ACQUIRE))
        ;                                   /* no cancellation point: spin */
    pthread_mutex_lock(&second_d);
    pthread_mutex_lock(&first_c);           /* the inversion: reported here */
    pthread_mutex_unlock(&first_c);
    pthread_mutex_unlock(&second_d);
    __atomic_store_n(&stage, 2, __ATOMIC_RELEASE);
    pthread_testcancel();
    return NULL;
}

static int scenario_report(void)
{
    pthread_mutex_lock(&first_c);
    pthread_mutex_lock(&second_d);
    pthread_mutex_unlock(&second_d);
    pthread_mutex_unlock(&first_c);
    pthread_t t;
    pthread_create(&t, NULL, inverter, NULL);
    pthread_cancel(t);                      /* pending until its testcancel */
    __atomic_store_n(&stage, 1, __ATOMIC_RELEASE);
    void *result;
    pthread_join(t, &result);
    printf("inverter: finished %d, cancelled %d\n", stage == 2, result == PTHREAD_CANCELED);
    /* a second inversion, by main: its report must not wait for the first's */
    pthread_mutex_lock(&held_a);
    pthread_mutex_lock(&contended_b);
    pthread_mutex_unlock(&contended_b);
    pthread_mutex_unlock(&held_a);
    pthread_mutex_lock(&contended_b);
    pthread_mutex_lock(&held_a);
    pthread_mutex_unlock(&held_a);
    pthread_mutex_unlock(&contended_b);
    printf("main: done\n");
    return 0;
}

static void unlock_cleanup(void *m)
{
    pthread_mutex_unlock(m);
}

static void *cond_waiter(void *arg)
{
    (void)arg;
    pthread_mutex_lock(&held_a);
    pthread_cleanup_push(unlock_cleanup, &held_a);
    waiting = 1;
    for (;;)
        pthread_cond_wait(&never, &held_a);
    pthread_cleanup_pop(1);
    return NULL;
}

static int scenario_condwait(void)
{
    pthread_t t;
    pthread_create(&t, NULL, cond_waiter, NULL);
    for (;;) {
        pthread_mutex_lock(&held_a);
        int w = waiting;
        pthread_mutex_unlock(&held_a);
        if (w)
            break;
        pause_ms(1);
    }
    pthread_cancel(t);
    void *result;
    pthread_join(t, &result);
    printf("cond waiter: cancelled %d\n", result == PTHREAD_CANCELED);
    pthread_mutex_lock(&held_a);
    pthread_mutex_lock(&contended_b);
    pthread_mutex_unlock(&contended_b);
    pthread_mutex_unlock(&held_a);
    printf("main: took A\n");
    return 0;
}

int main(int argc, char **argv)
{
    const char *which = argc > 1 ? argv[1] : "";
    if (!strcmp(which, "waiter"))
        return scenario_waiter();
    if (!strcmp(which, "report"))
        return scenario_report();
    if (!strcmp(which, "condwait"))
        return scenario_condwait();
    fprintf(stderr, "usage: cancel waiter|report|condwait\n");
    return 2;
}
