/* barrier_hang (buggy): a barrier made for three threads that only two
 * reach, and a semaphore nobody posts: every thread sleeps forever and no
 * lock is involved. With the watchdog, reported as a whole-process
 * deadlock. Natively it hangs forever. */
#include <pthread.h>
#include <semaphore.h>
#include <stdio.h>

pthread_barrier_t start_line;
sem_t job_ready;

static void *runner(void *arg)
{
    (void)arg;
    pthread_barrier_wait(&start_line);      /* the third party never comes */
    return NULL;
}

static void *worker(void *arg)
{
    (void)arg;
    sem_wait(&job_ready);                   /* nobody posts */
    return NULL;
}

int main(void)
{
    pthread_t r1, r2, w;
    pthread_barrier_init(&start_line, NULL, 3);
    sem_init(&job_ready, 0, 0);
    pthread_create(&r1, NULL, runner, NULL);
    pthread_create(&r2, NULL, runner, NULL);
    pthread_create(&w, NULL, worker, NULL);
    pthread_join(r1, NULL);
    puts("barrier_hang: finished (it should not have)");
    return 0;
}
