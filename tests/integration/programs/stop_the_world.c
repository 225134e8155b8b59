/* stop_the_world: a collector stops every other thread with a signal, as
 * mono's and Boehm's collectors and a JVM's safepoints do: each handler
 * says it stopped, then waits until the collector lets it go. Meanwhile
 * the collector makes, takes and destroys a mutex under one of its own.
 * The other threads keep lockrace busy learning new lock orders, so a
 * signal often lands while one holds lockrace's own locks: a thread
 * parked there must not hang the collector (mono did, 4 runs in 81). Nothing
 * to report; it must end, with the same output as natively. */
#define _GNU_SOURCE
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MUTATORS 3
#define ROUNDS 3000
#define POOL 1024

static pthread_t mutators[MUTATORS];
static int epoch, stopped, released, done;
static pthread_mutex_t outer = PTHREAD_MUTEX_INITIALIZER, collector_lock = PTHREAD_MUTEX_INITIALIZER;

static void on_stop(int sig)
{
    (void)sig;
    int mine = __atomic_load_n(&epoch, __ATOMIC_ACQUIRE);
    __atomic_add_fetch(&stopped, 1, __ATOMIC_ACQ_REL);
    while (__atomic_load_n(&released, __ATOMIC_ACQUIRE) < mine)
        sched_yield();
}

static void *mutator(void *arg)
{
    pthread_mutex_t *pool = arg;
    for (unsigned i = 0; !__atomic_load_n(&done, __ATOMIC_ACQUIRE); i = (i + 1) % POOL) {
        pthread_mutex_init(&pool[i], NULL);     /* a new lock: new edges, lockrace's slow path */
        pthread_mutex_lock(&outer);
        pthread_mutex_lock(&pool[i]);
        pthread_mutex_unlock(&pool[i]);
        pthread_mutex_unlock(&outer);
        pthread_mutex_destroy(&pool[i]);
    }
    return NULL;
}

int main(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_stop;
    sa.sa_flags = SA_RESTART;
    sigaction(SIGUSR1, &sa, NULL);
    static pthread_mutex_t pools[MUTATORS][POOL];
    for (int i = 0; i < MUTATORS; i++)
        pthread_create(&mutators[i], NULL, mutator, pools[i]);
    for (int round = 1; round <= ROUNDS; round++) {
        __atomic_store_n(&stopped, 0, __ATOMIC_RELEASE);
        __atomic_store_n(&epoch, round, __ATOMIC_RELEASE);
        for (int i = 0; i < MUTATORS; i++)
            pthread_kill(mutators[i], SIGUSR1);
        while (__atomic_load_n(&stopped, __ATOMIC_ACQUIRE) < MUTATORS)
            sched_yield();
        /* the world is stopped: the collector's own locking */
        pthread_mutex_t m;
        pthread_mutex_init(&m, NULL);
        pthread_mutex_lock(&collector_lock);
        pthread_mutex_lock(&m);
        pthread_mutex_unlock(&m);
        pthread_mutex_unlock(&collector_lock);
        pthread_mutex_destroy(&m);
        __atomic_store_n(&released, round, __ATOMIC_RELEASE);
    }
    __atomic_store_n(&done, 1, __ATOMIC_RELEASE);
    for (int i = 0; i < MUTATORS; i++)
        pthread_join(mutators[i], NULL);
    printf("stop_the_world: %d rounds, every thread stopped and let go\n", ROUNDS);
    return 0;
}
