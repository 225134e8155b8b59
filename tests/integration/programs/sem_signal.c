/* sem_signal (clean): the main thread sleeps in sem_wait until a signal
 * handler posts the semaphore (sem_post is async-signal-safe; this is the
 * usual way to wake a thread from a handler), and a worker waits to join
 * nothing but main's release. Every thread is blocked for a while, yet
 * something outside the threads wakes them: not a deadlock. */
#include <pthread.h>
#include <semaphore.h>
#include <signal.h>
#include <stdio.h>
#include <unistd.h>

static sem_t wake;
static pthread_mutex_t gate = PTHREAD_MUTEX_INITIALIZER;

static void on_alarm(int sig)
{
    (void)sig;
    sem_post(&wake);
}

static void *worker(void *arg)
{
    (void)arg;
    pthread_mutex_lock(&gate);      /* held by main until the signal came */
    pthread_mutex_unlock(&gate);
    return NULL;
}

int main(void)
{
    sem_init(&wake, 0, 0);
    signal(SIGALRM, on_alarm);
    pthread_mutex_lock(&gate);
    pthread_t t;
    pthread_create(&t, NULL, worker, NULL);
    alarm(1);
    while (sem_wait(&wake) != 0)
        ;
    pthread_mutex_unlock(&gate);
    pthread_join(t, NULL);
    puts("sem_signal: woken by the handler");
    return 0;
}
