/* reuse_other_type: the same memory used in turn as a mutex, an rwlock, a
 * spinlock, a semaphore and a condition variable's mutex, destroyed
 * between lives or simply freed and allocated again (Helgrind and DRD
 * assert on this). Each life takes the global lock in the other order
 * from the life before: different locks, no cycle. Clean, and the same
 * output as natively. */
#define _GNU_SOURCE
#include <pthread.h>
#include <semaphore.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ROUNDS 200

static pthread_mutex_t global = PTHREAD_MUTEX_INITIALIZER;

union any_lock {
    pthread_mutex_t mutex;
    pthread_rwlock_t rwlock;
    pthread_spinlock_t spin;
    sem_t sem;
    char bytes[64];
};

static long work;

/* outer then inner, or inner then outer, by life */
static void with_global(int global_first, void (*lock)(union any_lock *), void (*unlock)(union any_lock *),
                        union any_lock *l)
{
    if (global_first) {
        pthread_mutex_lock(&global);
        lock(l);
    } else {
        lock(l);
        pthread_mutex_lock(&global);
    }
    work++;
    pthread_mutex_unlock(&global);
    unlock(l);
}

static void mutex_lock(union any_lock *l) { pthread_mutex_lock(&l->mutex); }
static void mutex_unlock(union any_lock *l) { pthread_mutex_unlock(&l->mutex); }
static void rw_write(union any_lock *l) { pthread_rwlock_wrlock(&l->rwlock); }
static void rw_read(union any_lock *l) { pthread_rwlock_rdlock(&l->rwlock); }
static void rw_unlock(union any_lock *l) { pthread_rwlock_unlock(&l->rwlock); }
static void spin_lock(union any_lock *l) { pthread_spin_lock(&l->spin); }
static void spin_unlock(union any_lock *l) { pthread_spin_unlock(&l->spin); }
static void sem_lock(union any_lock *l) { sem_wait(&l->sem); }
static void sem_unlock(union any_lock *l) { sem_post(&l->sem); }

static void lives(union any_lock *l, int destroy)
{
    for (int r = 0; r < ROUNDS; r++) {
        int first = r % 2;
        pthread_mutex_init(&l->mutex, NULL);
        with_global(first, mutex_lock, mutex_unlock, l);
        if (destroy)
            pthread_mutex_destroy(&l->mutex);
        pthread_rwlock_init(&l->rwlock, NULL);
        with_global(!first, rw_write, rw_unlock, l);
        with_global(!first, rw_read, rw_unlock, l);
        if (destroy)
            pthread_rwlock_destroy(&l->rwlock);
        pthread_spin_init(&l->spin, PTHREAD_PROCESS_PRIVATE);
        with_global(first, spin_lock, spin_unlock, l);
        if (destroy)
            pthread_spin_destroy(&l->spin);
        sem_init(&l->sem, 0, 1);
        with_global(!first, sem_lock, sem_unlock, l);
        if (destroy)
            sem_destroy(&l->sem);
        /* a recursive mutex, then a condition variable's mutex */
        pthread_mutexattr_t a;
        pthread_mutexattr_init(&a);
        pthread_mutexattr_settype(&a, PTHREAD_MUTEX_RECURSIVE);
        pthread_mutex_init(&l->mutex, &a);
        pthread_mutexattr_destroy(&a);
        pthread_mutex_lock(&l->mutex);
        with_global(first, mutex_lock, mutex_unlock, l);
        pthread_mutex_unlock(&l->mutex);
        if (destroy)
            pthread_mutex_destroy(&l->mutex);
    }
}

static void *heap_lives(void *arg)
{
    (void)arg;
    for (int r = 0; r < ROUNDS; r++) {
        /* freed without destroy and allocated again, as another type */
        union any_lock *l = malloc(sizeof *l);
        memset(l, 0, sizeof *l);
        lives(l, 0);
        free(l);
    }
    return NULL;
}

int main(void)
{
    union any_lock on_stack;
    lives(&on_stack, 1);
    pthread_t t;
    pthread_create(&t, NULL, heap_lives, NULL);
    pthread_join(t, NULL);
    printf("reuse_other_type: %ld\n", work);
    return 0;
}
