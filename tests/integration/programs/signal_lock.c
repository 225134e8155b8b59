/* A signal handler that takes a mutex, interrupting the program while it
 * is inside lockrace's slow paths (new lock-order contexts, which take
 * lockrace's own locks, every iteration). lockrace must not deadlock
 * itself (ThreadSanitizer does) and must not report anything. */
#define _GNU_SOURCE
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>

#define LOCKS 4000

static pthread_mutex_t handler_lock = PTHREAD_MUTEX_INITIALIZER;
static volatile sig_atomic_t handled;

static void on_alarm(int sig)
{
    (void)sig;
    pthread_mutex_lock(&handler_lock);  /* not async-signal-safe, but programs do it */
    handled++;
    pthread_mutex_unlock(&handler_lock);
}

int main(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_alarm;
    sa.sa_flags = SA_RESTART;
    sigaction(SIGALRM, &sa, NULL);
    struct itimerval every = { { 0, 200 }, { 0, 200 } };
    setitimer(ITIMER_REAL, &every, NULL);
    static pthread_mutex_t outer = PTHREAD_MUTEX_INITIALIZER;
    pthread_mutex_t *locks = malloc(LOCKS * sizeof *locks);
    for (int round = 0; round < 5; round++)
        for (int i = 0; i < LOCKS; i++) {
            pthread_mutex_init(&locks[i], NULL);   /* a new lock: a new edge every time */
            pthread_mutex_lock(&outer);
            pthread_mutex_lock(&locks[i]);
            pthread_mutex_unlock(&locks[i]);
            pthread_mutex_unlock(&outer);
            pthread_mutex_destroy(&locks[i]);
        }
    struct itimerval off = { { 0, 0 }, { 0, 0 } };
    setitimer(ITIMER_REAL, &off, NULL);
    free(locks);
    printf("done: %s\n", handled > 0 ? "signals handled" : "no signal came");
    return 0;
}
