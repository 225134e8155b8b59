/* recursive: two recursive mutexes (static initializer and mutexattr) relocked
 * three deep by two threads, always before `inner`. Relocking a mutex the thread
 * already owns never blocks, so it adds no order edge: must be clean. */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdio.h>

#define ITERS 1000

pthread_mutex_t rec_static = PTHREAD_RECURSIVE_MUTEX_INITIALIZER_NP;
pthread_mutex_t rec_dynamic;
pthread_mutex_t inner = PTHREAD_MUTEX_INITIALIZER;
static long counter;

static void nest(pthread_mutex_t *rec, int depth)
{
    pthread_mutex_lock(rec);
    pthread_mutex_lock(&inner);
    counter++;
    pthread_mutex_unlock(&inner);
    if (depth > 1)
        nest(rec, depth - 1);
    pthread_mutex_unlock(rec);
}

/* Relock rec while holding inner. The relock cannot block (this thread owns
 * rec), so it must not count as an inner -> rec edge. */
static void relock_under_inner(pthread_mutex_t *rec)
{
    pthread_mutex_lock(rec);
    pthread_mutex_lock(&inner);
    pthread_mutex_lock(rec);
    counter++;
    pthread_mutex_unlock(rec);
    pthread_mutex_unlock(&inner);
    pthread_mutex_unlock(rec);
}

static void *worker(void *arg)
{
    pthread_setname_np(pthread_self(), arg);
    for (int i = 0; i < ITERS; i++) {
        nest(&rec_static, 3);
        nest(&rec_dynamic, 3);
        relock_under_inner(&rec_static);
        relock_under_inner(&rec_dynamic);
    }
    return NULL;
}

int main(void)
{
    pthread_mutexattr_t attr;
    pthread_t t1, t2;

    pthread_mutexattr_init(&attr);
    pthread_mutexattr_settype(&attr, PTHREAD_MUTEX_RECURSIVE);
    pthread_mutex_init(&rec_dynamic, &attr);
    pthread_mutexattr_destroy(&attr);

    pthread_create(&t1, NULL, worker, "recurser-1");
    pthread_create(&t2, NULL, worker, "recurser-2");
    pthread_join(t1, NULL);
    pthread_join(t2, NULL);

    printf("recursive: counter=%ld\n", counter);
    pthread_mutex_destroy(&rec_dynamic);
    return counter == 2L * ITERS * 8 ? 0 : 1;
}
