/* shared_site: one call site reached by two threads. lockrace unwinds a
 * call site once per process (same lock, same caller address, same lock
 * held last, same depth of stack) and lets the other threads use that
 * stack, so the frames above the call site are the first thread's.
 *
 *   T1 (from-alpha):  alpha_path: lock_a, take_b        edge lock_a -> lock_b
 *   T2 (from-beta):   beta_path:  lock_x, lock_a, take_b  edge lock_x -> lock_b
 *   T3 (closer):      lock_b, lock_x                    edge lock_b -> lock_x
 *
 * The cycle lock_x -> lock_b -> lock_x names T2 taking lock_b at the same
 * call site as T1, with lock_a held last, but from another path, deeper in
 * its stack (beta_path's frame is bigger): T2's own stack, not T1's. The
 * threads run one after another.
 *
 *   shared_site deadlock: T1 (from-alpha) runs alpha_path; then T2
 *   (holder) takes lock_x, and T3 (from-gamma) runs the very same code as
 *   T1 (the same start routine): its contexts and stacks are T1's. In
 *   take_b's hook it waits for lock_x, which T2 holds while it waits for
 *   lock_b. The deadlock report shows T3 holding lock_a and lock_b with the
 *   stacks T1 unwound there, and says so. */
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
static volatile int b_held, x_held;

__attribute__((noinline)) static void take_b(void)
{
    pthread_mutex_lock(&lock_b);
    total++;
    if (hook)
        hook();
    pthread_mutex_unlock(&lock_b);
}

__attribute__((noinline)) static void alpha_path(void)
{
    pthread_mutex_lock(&lock_a);
    take_b();
    pthread_mutex_unlock(&lock_a);
}

__attribute__((noinline)) static void beta_path(void)
{
    volatile char deeper[512];          /* another path, another depth */
    deeper[0] = 0;
    pthread_mutex_lock(&lock_x);
    pthread_mutex_lock(&lock_a);
    take_b();
    pthread_mutex_unlock(&lock_a);
    pthread_mutex_unlock(&lock_x);
    (void)deeper[0];
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

static void wait_for_x(void)
{
    b_held = 1;
    pthread_mutex_lock(&lock_x);
    pthread_mutex_unlock(&lock_x);
}

static void *holder(void *arg)
{
    pthread_setname_np(pthread_self(), arg);
    pthread_mutex_lock(&lock_x);
    x_held = 1;
    while (!b_held) {
        struct timespec ms = { 0, 1000000 };
        nanosleep(&ms, NULL);
    }
    pthread_mutex_lock(&lock_b);
    pthread_mutex_unlock(&lock_b);
    pthread_mutex_unlock(&lock_x);
    return NULL;
}

int main(int argc, char **argv)
{
    if (argc > 1 && !strcmp(argv[1], "deadlock")) {
        pthread_t t1, t2, t3;
        pthread_create(&t1, NULL, from_alpha, "from-alpha");
        pthread_join(t1, NULL);
        hook = wait_for_x;
        pthread_create(&t2, NULL, holder, "holder");
        while (!x_held) {
            struct timespec ms = { 0, 1000000 };
            nanosleep(&ms, NULL);
        }
        pthread_create(&t3, NULL, from_alpha, "from-gamma");
        pthread_join(t3, NULL);
        pthread_join(t2, NULL);
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
