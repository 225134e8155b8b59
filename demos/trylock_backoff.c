/* trylock_backoff: two threads take the same two locks in opposite orders, but
 * the second lock is always a trylock and a failure releases the first and
 * retries. That cannot deadlock, and lockrace should report nothing. */
#define _GNU_SOURCE
#include <pthread.h>
#include <sched.h>
#include <stdio.h>

#define ITERS 1000

pthread_mutex_t lock_a = PTHREAD_MUTEX_INITIALIZER;
pthread_mutex_t lock_b = PTHREAD_MUTEX_INITIALIZER;
static pthread_barrier_t start;
static long together, retries[2];

/* Hold first, try second; on failure back off completely so the other thread
 * can finish, then start over. */
static void lock_both(pthread_mutex_t *first, pthread_mutex_t *second, long *nretries)
{
    for (;;) {
        pthread_mutex_lock(first);
        if (pthread_mutex_trylock(second) == 0)
            return;
        pthread_mutex_unlock(first);
        (*nretries)++;
        sched_yield();
    }
}

static void *thread1(void *arg)
{
    (void)arg;
    pthread_setname_np(pthread_self(), "forward");
    pthread_barrier_wait(&start);
    for (int i = 0; i < ITERS; i++) {
        lock_both(&lock_a, &lock_b, &retries[0]);
        together++;
        pthread_mutex_unlock(&lock_b);
        pthread_mutex_unlock(&lock_a);
    }
    return NULL;
}

static void *thread2(void *arg)
{
    (void)arg;
    pthread_setname_np(pthread_self(), "backward");
    pthread_barrier_wait(&start);
    for (int i = 0; i < ITERS; i++) {
        lock_both(&lock_b, &lock_a, &retries[1]);
        together++;
        pthread_mutex_unlock(&lock_a);
        pthread_mutex_unlock(&lock_b);
    }
    return NULL;
}

int main(void)
{
    pthread_t t1, t2;

    pthread_barrier_init(&start, NULL, 2);
    pthread_create(&t1, NULL, thread1, NULL);
    pthread_create(&t2, NULL, thread2, NULL);
    pthread_join(t1, NULL);
    pthread_join(t2, NULL);
    pthread_barrier_destroy(&start);

    printf("trylock_backoff: %ld critical sections, retries forward=%ld backward=%ld\n",
           together, retries[0], retries[1]);
    return together == 2 * ITERS ? 0 : 1;
}
