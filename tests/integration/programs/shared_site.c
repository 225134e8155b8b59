/* shared_site: one call site reached from two paths by two threads. lockrace
 * unwinds a call site once per process (same lock, same caller address,
 * same lock held last) and lets the other threads use that stack, so the
 * frames above the call site are the first thread's. Here:
 *
 *   T1 (from-alpha):  alpha_path: lock_a, take_b        edge lock_a -> lock_b
 *   T2 (from-beta):   beta_path:  lock_x, lock_a, take_b  edge lock_x -> lock_b,
 *                     with T1's stack for take_b (same site, lock_a held last)
 *   T3 (closer):      lock_b, lock_x                    edge lock_b -> lock_x
 *
 * The cycle lock_x -> lock_b -> lock_x names T2 taking lock_b: its stack is
 * the one T1 unwound (alpha_path, not T2's beta_path), and the report must
 * say so. The threads run one after another.
 *
 *   shared_site deadlock: T1 runs alpha_path; then T2 (from-gamma) takes
 *   lock_a and lock_b in T1's very context (same held lock, same call
 *   site) from gamma_path, and in take_b's hook waits for lock_x, which
 *   T3 (holder) holds while it waits for lock_b. The deadlock report shows
 *   T2 holding lock_b with the stack T1 unwound there, and says so. */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

static pthread_mutex_t lock_a = PTHREAD_MUTEX_INITIALIZER;
static pthread_mutex_t lock_b = PTHREAD_MUTEX_INITIALIZER;
static pthread_mutex_t lock_x = PTHREAD_MUTEX_INITIALIZER;
static int total;
static void (*hook)(void);
static volatile int b_held;

__attribute__((noinline)) static void take_b(void)
{
    pthread_mutex_lock(&lock_b);
    total++;
    if (hook)
        hook();
    pthread_mutex_unlock(&lock_b);
}

static void wait_for_x(void)
{
    b_held = 1;
    pthread_mutex_lock(&lock_x);
    pthread_mutex_unlock(&lock_x);
}

__attribute__((noinline)) static void gamma_path(void)
{
    pthread_mutex_lock(&lock_a);
    take_b();
    pthread_mutex_unlock(&lock_a);
}

static void *from_gamma(void *arg)
{
    pthread_setname_np(pthread_self(), arg);
    hook = wait_for_x;
    gamma_path();
    return NULL;
}

static void *holder(void *arg)
{
    pthread_setname_np(pthread_self(), arg);
    pthread_mutex_lock(&lock_x);
    while (!b_held) {
        struct timespec ms = { 0, 1000000 };
        nanosleep(&ms, NULL);
    }
    pthread_mutex_lock(&lock_b);
    pthread_mutex_unlock(&lock_b);
    pthread_mutex_unlock(&lock_x);
    return NULL;
}

__attribute__((noinline)) static void alpha_path(void)
{
    pthread_mutex_lock(&lock_a);
    take_b();
    pthread_mutex_unlock(&lock_a);
}

__attribute__((noinline)) static void beta_path(void)
{
    pthread_mutex_lock(&lock_x);
    pthread_mutex_lock(&lock_a);
    take_b();
    pthread_mutex_unlock(&lock_a);
    pthread_mutex_unlock(&lock_x);
}

static void *from_alpha(void *arg)
{
    pthread_setname_np(pthread_self(), arg);
    alpha_path();
    return NULL;
}

static void *from_beta(void *arg)
{
    pthread_setname_np(pthread_self(), arg);
    beta_path();
    return NULL;
}

static void *closer(void *arg)
{
    pthread_setname_np(pthread_self(), arg);
    pthread_mutex_lock(&lock_b);
    pthread_mutex_lock(&lock_x);
    total++;
    pthread_mutex_unlock(&lock_x);
    pthread_mutex_unlock(&lock_b);
    return NULL;
}

int main(int argc, char **argv)
{
    if (argc > 1 && !strcmp(argv[1], "deadlock")) {
        pthread_t t1, t2, t3;
        pthread_create(&t1, NULL, from_alpha, "from-alpha");
        pthread_join(t1, NULL);
        pthread_create(&t3, NULL, holder, "holder");
        pthread_create(&t2, NULL, from_gamma, "from-gamma");
        pthread_join(t2, NULL);
        pthread_join(t3, NULL);
        printf("total %d\n", total);
        return 0;
    }
    void *(*fns[])(void *) = { from_alpha, from_beta, closer };
    const char *names[] = { "from-alpha", "from-beta", "closer" };
    for (int i = 0; i < 3; i++) {
        pthread_t t;
        pthread_create(&t, NULL, fns[i], (void *)names[i]);
        pthread_join(t, NULL);
    }
    printf("total %d\n", total);
    return 0;
}
