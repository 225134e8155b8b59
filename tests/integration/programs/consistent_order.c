/* consistent_order: four threads take lock_a -> lock_b -> lock_c nested, and
 * the subsets lock_a -> lock_c and lock_b -> lock_c, always in that order.
 * Many edges, no cycle: must be clean. */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdio.h>

#define NTHREADS 4
#define ITERS 10000

pthread_mutex_t lock_a = PTHREAD_MUTEX_INITIALIZER;
pthread_mutex_t lock_b = PTHREAD_MUTEX_INITIALIZER;
pthread_mutex_t lock_c = PTHREAD_MUTEX_INITIALIZER;
static long count_abc, count_ac, count_bc;

static void *worker(void *arg)
{
    char name[16];

    snprintf(name, sizeof name, "ordered-%d", (int)(long)arg);
    pthread_setname_np(pthread_self(), name);
    for (int i = 0; i < ITERS; i++) {
        pthread_mutex_lock(&lock_a);
        pthread_mutex_lock(&lock_b);
        pthread_mutex_lock(&lock_c);
        count_abc++;
        pthread_mutex_unlock(&lock_c);
        pthread_mutex_unlock(&lock_b);
        pthread_mutex_unlock(&lock_a);

        pthread_mutex_lock(&lock_a);
        pthread_mutex_lock(&lock_c);
        count_ac++;
        pthread_mutex_unlock(&lock_c);
        pthread_mutex_unlock(&lock_a);

        pthread_mutex_lock(&lock_b);
        pthread_mutex_lock(&lock_c);
        count_bc++;
        pthread_mutex_unlock(&lock_c);
        pthread_mutex_unlock(&lock_b);
    }
    return NULL;
}

int main(void)
{
    pthread_t t[NTHREADS];

    for (int i = 0; i < NTHREADS; i++)
        pthread_create(&t[i], NULL, worker, (void *)(long)(i + 1));
    for (int i = 0; i < NTHREADS; i++)
        pthread_join(t[i], NULL);

    printf("consistent_order: abc=%ld ac=%ld bc=%ld\n", count_abc, count_ac, count_bc);
    return count_abc == NTHREADS * ITERS && count_bc == NTHREADS * ITERS ? 0 : 1;
}
