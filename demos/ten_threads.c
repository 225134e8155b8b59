/* ten_threads: ten threads increment one counter under one mutex, released
 * together by a start gate (condition variable + broadcast). One lock, no
 * nesting: lockrace should report nothing. */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdio.h>

#define NTHREADS 10
#define INCREMENTS 10000

pthread_mutex_t counter_lock = PTHREAD_MUTEX_INITIALIZER;
pthread_cond_t start_cond = PTHREAD_COND_INITIALIZER;
static int started;
static long counter;

static void *worker(void *arg)
{
    char name[16];

    snprintf(name, sizeof name, "worker-%d", (int)(long)arg);
    pthread_setname_np(pthread_self(), name);

    pthread_mutex_lock(&counter_lock);
    /* A loop, not an if: wakeups can be spurious. */
    while (!started)
        pthread_cond_wait(&start_cond, &counter_lock);
    pthread_mutex_unlock(&counter_lock);

    for (int i = 0; i < INCREMENTS; i++) {
        pthread_mutex_lock(&counter_lock);
        counter++;
        pthread_mutex_unlock(&counter_lock);
    }
    return NULL;
}

int main(void)
{
    pthread_t t[NTHREADS];

    for (int i = 0; i < NTHREADS; i++)
        pthread_create(&t[i], NULL, worker, (void *)(long)(i + 1));

    pthread_mutex_lock(&counter_lock);
    started = 1;
    pthread_cond_broadcast(&start_cond);
    pthread_mutex_unlock(&counter_lock);

    for (int i = 0; i < NTHREADS; i++)
        pthread_join(t[i], NULL);

    printf("ten_threads: total=%ld (expected %d)\n", counter, NTHREADS * INCREMENTS);
    return counter == NTHREADS * INCREMENTS ? 0 : 1;
}
