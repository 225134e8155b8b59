/* sem_lock_cycle: a semaphore initialised to 1 and used as a lock (each
 * thread posts what it waited for), taken in both orders with a mutex:
 * the first thread's order s -> m is made while it has never posted s,
 * the second's m -> s closes the cycle, and the first posts s after
 * that. A true inversion, reported once s shows it is a lock. */
#include <pthread.h>
#include <semaphore.h>
#include <stdio.h>
#include <unistd.h>

static sem_t s;
static pthread_mutex_t m = PTHREAD_MUTEX_INITIALIZER;
static int v;

static void *first(void *arg)
{
    (void)arg;
    sem_wait(&s);
    pthread_mutex_lock(&m);
    v++;
    pthread_mutex_unlock(&m);
    usleep(200000);             /* the second thread's order comes now */
    sem_post(&s);
    return NULL;
}

static void *second(void *arg)
{
    (void)arg;
    usleep(50000);
    pthread_mutex_lock(&m);
    sem_wait(&s);
    v++;
    sem_post(&s);
    pthread_mutex_unlock(&m);
    return NULL;
}

int main(void)
{
    sem_init(&s, 0, 1);
    pthread_t a, b;
    pthread_create(&a, NULL, first, NULL);
    pthread_create(&b, NULL, second, NULL);
    pthread_join(a, NULL);
    pthread_join(b, NULL);
    printf("%d\n", v);
    return 0;
}
