/* Semaphores initialised to 1 and used as locks, taken in both orders by
 * two threads (argv[1] = "inversion"): a lock-order inversion. Semaphores
 * used as signals (posted by another thread, or waited on by the thread
 * that holds them, as CPython's Condition does) never are (argv[1] =
 * "signals"). */
#include <pthread.h>
#include <semaphore.h>
#include <stdio.h>
#include <string.h>

static sem_t sem_a, sem_b;          /* locks */
static sem_t ready, done;           /* signals */

static void *first(void *arg)
{
    (void)arg;
    sem_wait(&sem_a);
    sem_wait(&sem_b);
    sem_post(&sem_b);
    sem_post(&sem_a);
    return NULL;
}

static void *second(void *arg)
{
    (void)arg;
    sem_wait(&sem_b);
    sem_wait(&sem_a);
    sem_post(&sem_a);
    sem_post(&sem_b);
    return NULL;
}

/* A semaphore of 1 handed from thread to thread, and one waited on by its
 * own holder until another thread posts it. */
static void *poster(void *arg)
{
    (void)arg;
    sem_wait(&ready);               /* taken here ... */
    sem_wait(&sem_a);
    sem_post(&done);                /* ... posted by another thread */
    sem_post(&sem_a);
    return NULL;
}

static void *holder(void *arg)
{
    (void)arg;
    sem_wait(&sem_a);
    sem_post(&ready);
    sem_post(&sem_a);
    sem_wait(&done);                /* holds done, waits on it again */
    sem_wait(&done);
    return NULL;
}

int main(int argc, char **argv)
{
    int signals = argc > 1 && strcmp(argv[1], "signals") == 0;
    sem_init(&sem_a, 0, 1);
    sem_init(&sem_b, 0, 1);
    sem_init(&ready, 0, 1);
    sem_init(&done, 0, 1);
    pthread_t t;
    if (signals) {
        sem_wait(&ready);           /* ready starts taken: holder posts it */
        pthread_create(&t, NULL, holder, NULL);
        pthread_t p;
        pthread_create(&p, NULL, poster, NULL);
        pthread_join(t, NULL);
        pthread_join(p, NULL);
    } else {
        pthread_create(&t, NULL, first, NULL);
        pthread_join(t, NULL);
        pthread_create(&t, NULL, second, NULL);
        pthread_join(t, NULL);
    }
    sem_destroy(&sem_a);
    sem_destroy(&sem_b);
    puts("done");
    return 0;
}
