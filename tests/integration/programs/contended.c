/* contended (clean): 8 threads, 1 lock, 10^6 acquisitions in all, most of
 * them contended. Threads wait for each other constantly and none is ever
 * deadlocked: no report. */
#include <pthread.h>
#include <stdio.h>

#define THREADS 8
#define EACH (1000000 / THREADS)

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static long counter;

static void *work(void *arg)
{
    (void)arg;
    for (int i = 0; i < EACH; i++) {
        pthread_mutex_lock(&lock);
        counter++;
        pthread_mutex_unlock(&lock);
    }
    return NULL;
}

int main(void)
{
    pthread_t t[THREADS];
    for (int i = 0; i < THREADS; i++)
        pthread_create(&t[i], NULL, work, NULL);
    for (int i = 0; i < THREADS; i++)
        pthread_join(t[i], NULL);
    printf("contended: counter=%ld\n", counter);
    return counter != (long)THREADS * EACH;
}
