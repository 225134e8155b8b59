/* reinit_same_address: lock_a -> lock_b, then both are destroyed and
 * re-initialised at the same addresses and used as lock_b -> lock_a. The new
 * mutexes are different locks, so there is no cycle: must be clean. */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdio.h>

pthread_mutex_t lock_a, lock_b;

static void *forward(void *arg)
{
    (void)arg;
    pthread_setname_np(pthread_self(), "forward");
    pthread_mutex_lock(&lock_a);
    pthread_mutex_lock(&lock_b);
    pthread_mutex_unlock(&lock_b);
    pthread_mutex_unlock(&lock_a);
    return NULL;
}

static void *backward(void *arg)
{
    (void)arg;
    pthread_setname_np(pthread_self(), "backward");
    pthread_mutex_lock(&lock_b);
    pthread_mutex_lock(&lock_a);
    pthread_mutex_unlock(&lock_a);
    pthread_mutex_unlock(&lock_b);
    return NULL;
}

static void run(void *(*fn)(void *))
{
    pthread_t t;

    pthread_create(&t, NULL, fn, NULL);
    pthread_join(t, NULL);
}

int main(void)
{
    pthread_mutex_init(&lock_a, NULL);
    pthread_mutex_init(&lock_b, NULL);
    run(forward);

    pthread_mutex_destroy(&lock_a);
    pthread_mutex_destroy(&lock_b);
    pthread_mutex_init(&lock_a, NULL);
    pthread_mutex_init(&lock_b, NULL);
    run(backward);

    pthread_mutex_destroy(&lock_a);
    pthread_mutex_destroy(&lock_b);
    printf("reinit_same_address: a->b, destroy + init, then b->a\n");
    return 0;
}
