/* signal_storm: worker threads lock and unlock in one consistent order
 * (seen-before locks, and fresh heap locks that take lockrace's slow path)
 * while the main thread sends them signals as fast as it can; the handler
 * locks and unlocks a mutex of its own, often while the interrupted thread
 * is inside a lockrace wrapper. Nothing to report, nothing may hang, and
 * the workers' sums are the same as natively. */
#define _GNU_SOURCE
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define WORKERS 4
#define ITERATIONS 200000
#define LOCKS 8

static pthread_mutex_t locks[LOCKS];
static pthread_mutex_t handler_lock = PTHREAD_MUTEX_INITIALIZER;
static unsigned long sums[LOCKS];
static volatile unsigned long handled;
static volatile int done;

static void on_signal(int sig)
{
    (void)sig;
    pthread_mutex_lock(&handler_lock);
    handled++;
    pthread_mutex_unlock(&handler_lock);
}

static void *worker(void *arg)
{
    unsigned seed = (unsigned)(uintptr_t)arg;
    for (int n = 0; n < ITERATIONS; n++) {
        int i = rand_r(&seed) % (LOCKS - 1), j = i + 1 + rand_r(&seed) % (LOCKS - 1 - i);
        pthread_mutex_lock(&locks[i]);
        pthread_mutex_lock(&locks[j]);
        sums[i] += (unsigned)n;
        sums[j] += 1;
        if (n % 256 == 0) {
            pthread_mutex_t fresh;
            pthread_mutex_init(&fresh, NULL);
            pthread_mutex_lock(&fresh);
            pthread_mutex_unlock(&fresh);
            pthread_mutex_destroy(&fresh);
        }
        pthread_mutex_unlock(&locks[j]);
        pthread_mutex_unlock(&locks[i]);
    }
    __atomic_add_fetch(&done, 1, __ATOMIC_RELAXED);
    return NULL;
}

int main(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sa.sa_flags = SA_RESTART;
    sigaction(SIGUSR1, &sa, NULL);
    for (int i = 0; i < LOCKS; i++)
        pthread_mutex_init(&locks[i], NULL);
    pthread_t t[WORKERS];
    for (long i = 0; i < WORKERS; i++)
        pthread_create(&t[i], NULL, worker, (void *)(i + 1));
    unsigned long sent = 0;
    for (int k = 0; __atomic_load_n(&done, __ATOMIC_RELAXED) < WORKERS; k++) {
        /* a worker that finished may be gone: signal only running ones */
        if (pthread_kill(t[k % WORKERS], SIGUSR1) == 0)
            sent++;
        struct timespec ts = { 0, 20000 };
        nanosleep(&ts, NULL);
        if (__atomic_load_n(&done, __ATOMIC_RELAXED) > 0)
            break;
    }
    for (int i = 0; i < WORKERS; i++)
        pthread_join(t[i], NULL);
    unsigned long total = 0;
    for (int i = 0; i < LOCKS; i++)
        total = total * 31 + sums[i];
    printf("signal_storm: sums %lu\n", total);
    fprintf(stderr, "signal_storm: %lu signals sent, %lu handled\n", sent, handled);
    return sent > 0 && handled > 0 ? 0 : 1;
}
