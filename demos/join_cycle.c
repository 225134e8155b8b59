/* join_cycle: two threads that join each other. Each waits for the other
 * to end, so neither ever does. Natively it hangs forever; under lockrace
 * it is reported as a deadlock and ended, exit status 66. */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdio.h>

static pthread_t first, second;
static pthread_barrier_t both_known;

static void *wait_for_second(void *arg)
{
    (void)arg;
    pthread_setname_np(pthread_self(), "first");
    pthread_barrier_wait(&both_known);
    pthread_join(second, NULL);
    return NULL;
}

static void *wait_for_first(void *arg)
{
    (void)arg;
    pthread_setname_np(pthread_self(), "second");
    pthread_barrier_wait(&both_known);
    pthread_join(first, NULL);
    return NULL;
}

int main(void)
{
    pthread_barrier_init(&both_known, NULL, 3);
    pthread_create(&first, NULL, wait_for_second, NULL);
    pthread_create(&second, NULL, wait_for_first, NULL);
    pthread_barrier_wait(&both_known);
    pthread_join(first, NULL);      /* main waits into the cycle, it is not part of it */
    puts("join_cycle: finished (it should not have)");
    return 0;
}
