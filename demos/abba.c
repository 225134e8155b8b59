/* abba: the classic lock-order inversion. worker-1 takes lock_a then lock_b,
 * worker-2 takes lock_b then lock_a. They run one after the other, so this run
 * never hangs, but the opposite orders can deadlock when they overlap. */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdio.h>

pthread_mutex_t lock_a = PTHREAD_MUTEX_INITIALIZER;
pthread_mutex_t lock_b = PTHREAD_MUTEX_INITIALIZER;
static int shared_a, shared_b;

static void update_both(void)
{
    pthread_mutex_lock(&lock_a);
    pthread_mutex_lock(&lock_b);
    shared_a++;
    shared_b++;
    pthread_mutex_unlock(&lock_b);
    pthread_mutex_unlock(&lock_a);
}

static void audit_both(void)
{
    pthread_mutex_lock(&lock_b);
    pthread_mutex_lock(&lock_a);
    if (shared_a != shared_b)
        printf("audit: mismatch %d != %d\n", shared_a, shared_b);
    pthread_mutex_unlock(&lock_a);
    pthread_mutex_unlock(&lock_b);
}

static void *worker1(void *arg)
{
    (void)arg;
    pthread_setname_np(pthread_self(), "worker-1");
    update_both();
    return NULL;
}

static void *worker2(void *arg)
{
    (void)arg;
    pthread_setname_np(pthread_self(), "worker-2");
    audit_both();
    return NULL;
}

int main(void)
{
    pthread_t t;

    /* Joining worker-1 before starting worker-2 is what keeps this run from
     * hanging; the bug is still there. */
    pthread_create(&t, NULL, worker1, NULL);
    pthread_join(t, NULL);
    pthread_create(&t, NULL, worker2, NULL);
    pthread_join(t, NULL);

    printf("abba: worker-1 took lock_a then lock_b, worker-2 took lock_b then lock_a "
           "(a=%d b=%d)\n", shared_a, shared_b);
    return 0;
}
