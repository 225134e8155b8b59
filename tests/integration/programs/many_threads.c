/* many_threads (clean): 2000 threads, 50 alive at a time, each taking the
 * same three locks in one order and a lock of its own. lockrace must keep
 * up without a report, a crash or a leak of per-thread state. */
#include <pthread.h>
#include <stdio.h>

#define THREADS 2000
#define BATCH 50

static pthread_mutex_t outer = PTHREAD_MUTEX_INITIALIZER;
static pthread_mutex_t middle = PTHREAD_MUTEX_INITIALIZER;
static pthread_mutex_t inner = PTHREAD_MUTEX_INITIALIZER;
static long total;

static void *work(void *arg)
{
    pthread_mutex_t own;
    pthread_mutex_init(&own, NULL);
    for (int i = 0; i < 20; i++) {
        pthread_mutex_lock(&outer);
        pthread_mutex_lock(&middle);
        pthread_mutex_lock(&own);
        pthread_mutex_lock(&inner);
        total += (long)arg;
        pthread_mutex_unlock(&inner);
        pthread_mutex_unlock(&own);
        pthread_mutex_unlock(&middle);
        pthread_mutex_unlock(&outer);
    }
    pthread_mutex_destroy(&own);
    return NULL;
}

int main(void)
{
    pthread_t t[BATCH];
    for (int done = 0; done < THREADS; done += BATCH) {
        for (int i = 0; i < BATCH; i++)
            pthread_create(&t[i], NULL, work, (void *)1L);
        for (int i = 0; i < BATCH; i++)
            pthread_join(t[i], NULL);
    }
    printf("many_threads: total=%ld\n", total);
    return total != THREADS * 20L;
}
