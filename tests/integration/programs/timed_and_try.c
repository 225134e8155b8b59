/* timed_and_try (buggy + clean): x -> y with pthread_mutex_timedlock and
 * y -> x with pthread_mutex_clocklock is a cycle (with bounded edges).
 * p then trylock(q), and q then p, is not: the trylock adds no edge into q. */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

pthread_mutex_t x = PTHREAD_MUTEX_INITIALIZER;
pthread_mutex_t y = PTHREAD_MUTEX_INITIALIZER;
pthread_mutex_t p = PTHREAD_MUTEX_INITIALIZER;
pthread_mutex_t q = PTHREAD_MUTEX_INITIALIZER;

static struct timespec far_ahead(clockid_t clock)
{
    struct timespec ts;

    clock_gettime(clock, &ts);
    ts.tv_sec += 60;
    return ts;
}

static void check(int rc, const char *what)
{
    if (rc) {
        fprintf(stderr, "timed_and_try: %s failed: %d\n", what, rc);
        exit(1);
    }
}

static void *timed_xy(void *arg)
{
    struct timespec deadline = far_ahead(CLOCK_REALTIME);

    (void)arg;
    pthread_setname_np(pthread_self(), "timed-xy");
    check(pthread_mutex_timedlock(&x, &deadline), "timedlock x");
    check(pthread_mutex_timedlock(&y, &deadline), "timedlock y");
    pthread_mutex_unlock(&y);
    pthread_mutex_unlock(&x);
    return NULL;
}

static void *clock_yx(void *arg)
{
    struct timespec deadline = far_ahead(CLOCK_MONOTONIC);

    (void)arg;
    pthread_setname_np(pthread_self(), "clock-yx");
    check(pthread_mutex_clocklock(&y, CLOCK_MONOTONIC, &deadline), "clocklock y");
    check(pthread_mutex_clocklock(&x, CLOCK_MONOTONIC, &deadline), "clocklock x");
    pthread_mutex_unlock(&x);
    pthread_mutex_unlock(&y);
    return NULL;
}

static void *try_pq(void *arg)
{
    (void)arg;
    pthread_setname_np(pthread_self(), "try-pq");
    pthread_mutex_lock(&p);
    /* Nobody else holds q now (threads run one at a time), so this succeeds. */
    check(pthread_mutex_trylock(&q), "trylock q");
    pthread_mutex_unlock(&q);
    pthread_mutex_unlock(&p);
    return NULL;
}

static void *lock_qp(void *arg)
{
    (void)arg;
    pthread_setname_np(pthread_self(), "lock-qp");
    pthread_mutex_lock(&q);
    pthread_mutex_lock(&p);
    pthread_mutex_unlock(&p);
    pthread_mutex_unlock(&q);
    return NULL;
}

int main(void)
{
    void *(*steps[])(void *) = { timed_xy, clock_yx, try_pq, lock_qp };

    for (size_t i = 0; i < sizeof steps / sizeof steps[0]; i++) {
        pthread_t t;
        pthread_create(&t, NULL, steps[i], NULL);
        pthread_join(t, NULL);
    }
    printf("timed_and_try: x->y timed, y->x clocklock; p->trylock(q), q->p\n");
    return 0;
}
