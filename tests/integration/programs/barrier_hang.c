/* barrier_hang (buggy): a barrier made for three threads that only two
 * reach: both sleep forever, main joins one of them, and no lock is
 * involved. With the watchdog, reported as a whole-process deadlock.
 * Natively it hangs forever. */
#include <pthread.h>
#include <stdio.h>

pthread_barrier_t start_line;

static void *runner(void *arg)
{
    (void)arg;
    pthread_barrier_wait(&start_line);      /* the third party never comes */
    return NULL;
}

int main(void)
{
    pthread_t r1, r2;
    pthread_barrier_init(&start_line, NULL, 3);
    pthread_create(&r1, NULL, runner, NULL);
    pthread_create(&r2, NULL, runner, NULL);
    pthread_join(r1, NULL);
    puts("barrier_hang: finished (it should not have)");
    return 0;
}
