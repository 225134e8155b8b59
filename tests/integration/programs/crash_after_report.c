/* crash_after_report MODE: makes a lock-order inversion (lockrace reports
 * it), then ends the hard way: MODE kill (SIGKILL, nothing runs after it),
 * segv (a bad write), abort, or exit (normally, for comparison). What
 * lockrace wrote before must be whole on disk, and it must add nothing
 * broken after. */
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static pthread_mutex_t crash_a = PTHREAD_MUTEX_INITIALIZER, crash_b = PTHREAD_MUTEX_INITIALIZER;

static void take(pthread_mutex_t *first, pthread_mutex_t *second)
{
    pthread_mutex_lock(first);
    pthread_mutex_lock(second);
    pthread_mutex_unlock(second);
    pthread_mutex_unlock(first);
}

static void *other_order(void *arg)
{
    (void)arg;
    take(&crash_b, &crash_a);
    return NULL;
}

int main(int argc, char **argv)
{
    const char *mode = argc > 1 ? argv[1] : "exit";
    take(&crash_a, &crash_b);
    pthread_t t;
    pthread_create(&t, NULL, other_order, NULL);
    pthread_join(t, NULL);
    printf("crash_after_report: %s\n", mode);
    fflush(stdout);
    if (!strcmp(mode, "kill"))
        raise(SIGKILL);
    if (!strcmp(mode, "segv"))
        *(volatile int *)(uintptr_t)16 = 1;
    if (!strcmp(mode, "abort"))
        abort();
    return 0;
}
