/* A program annotated for ThreadSanitizer and Helgrind with the dynamic
 * annotations (dynann.h), run unchanged under lockrace; argv[1] picks what
 * it does:
 *   order    a user lock (a spinlock of its own, annotated as an rwlock) taken
 *            in both orders by two threads, one after the other: a
 *            lock-order inversion, never a deadlock;
 *   read     the same, with the second thread taking both for reading: the
 *            inversion still stands (a writer excludes readers);
 *   wrapped  two pthread mutexes in both orders, each also annotated at its
 *            own address (a lock class around a mutex): one inversion of
 *            the mutexes, as without the annotations;
 *   hb       one thread writes `shared` and hands it to another through an
 *            atomic flag annotated with HappensBefore/After: no race;
 *   none     the same hand-over, not annotated: a data race;
 *   benign   as none, `shared` declared a benign race: nothing reported;
 *   ignore   as none, the second write between IgnoreWritesBegin/End;
 *   name     as none, each thread named with AnnotateThreadName.
 * lockrace sees the accesses to `shared` through its own annotation
 * (LOCKRACE_WRITE), which does nothing without it, or, built with
 * DYNANN_TSAN_ONLY (dynann_tsan_only: annotated for TSan and nothing else),
 * through watch=shared. The output is the same with and without lockrace. */
#define _GNU_SOURCE
#include "dynann.h"
#include "lockrace.h"

#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>

typedef struct user_lock {
    int word;
} user_lock;

static user_lock ulock_a, ulock_b;
static pthread_mutex_t mu_a = PTHREAD_MUTEX_INITIALIZER, mu_b = PTHREAD_MUTEX_INITIALIZER;
static long shared;
static int flag;
static const char *mode;

static int is(const char *name) { return strcmp(mode, name) == 0; }

#ifdef DYNANN_TSAN_ONLY
#define WRITTEN(var) ((void)0)
#else
#define WRITTEN(var) LOCKRACE_WRITE(var)
#endif

static void user_lock_init(user_lock *l)
{
    l->word = 0;
    DYNANN(AnnotateRWLockCreate, l);
}

static void user_lock_take(user_lock *l, long is_w)
{
    while (__atomic_exchange_n(&l->word, 1, __ATOMIC_ACQUIRE))
        sched_yield();
    DYNANN(AnnotateRWLockAcquired, l, is_w);
}

static void user_lock_drop(user_lock *l, long is_w)
{
    DYNANN(AnnotateRWLockReleased, l, is_w);
    __atomic_store_n(&l->word, 0, __ATOMIC_RELEASE);
}

static void *first_order(void *arg)
{
    (void)arg;
    user_lock_take(&ulock_a, 1);
    user_lock_take(&ulock_b, 1);
    user_lock_drop(&ulock_b, 1);
    user_lock_drop(&ulock_a, 1);
    return NULL;
}

static void *second_order(void *arg)
{
    long is_w = !is("read");
    (void)arg;
    user_lock_take(&ulock_b, is_w);
    user_lock_take(&ulock_a, is_w);
    user_lock_drop(&ulock_a, is_w);
    user_lock_drop(&ulock_b, is_w);
    return NULL;
}

static void wrapped_lock(pthread_mutex_t *m)
{
    pthread_mutex_lock(m);
    DYNANN(AnnotateRWLockAcquired, m, 1L);
}

static void wrapped_unlock(pthread_mutex_t *m)
{
    DYNANN(AnnotateRWLockReleased, m, 1L);
    pthread_mutex_unlock(m);
}

static void *wrapped_order(void *arg)
{
    pthread_mutex_t *first = arg ? &mu_b : &mu_a, *second = arg ? &mu_a : &mu_b;
    wrapped_lock(first);
    wrapped_lock(second);
    wrapped_unlock(second);
    wrapped_unlock(first);
    return NULL;
}

static void name_thread(const char *name)
{
    if (is("name"))
        DYNANN(AnnotateThreadName, name);
}

static void *producer(void *arg)
{
    (void)arg;
    name_thread("producer");
    shared = 1;
    WRITTEN(shared);
    if (is("hb"))
        DYNANN(AnnotateHappensBefore, &flag);
    __atomic_store_n(&flag, 1, __ATOMIC_RELEASE);
    return NULL;
}

static void *consumer(void *arg)
{
    (void)arg;
    name_thread("consumer");
    while (!__atomic_load_n(&flag, __ATOMIC_ACQUIRE))
        sched_yield();
    if (is("hb"))
        DYNANN(AnnotateHappensAfter, &flag);
    if (is("ignore"))
        DYNANN0(AnnotateIgnoreWritesBegin);
    shared = 2;
    WRITTEN(shared);
    if (is("ignore"))
        DYNANN0(AnnotateIgnoreWritesEnd);
    return NULL;
}

static void run_two(void *(*first)(void *), void *(*second)(void *), int one_after_other)
{
    pthread_t t1, t2;
    pthread_create(&t1, NULL, first, NULL);
    if (one_after_other)
        pthread_join(t1, NULL);
    pthread_create(&t2, NULL, second, second == first ? (void *)1 : NULL);
    if (!one_after_other)
        pthread_join(t1, NULL);
    pthread_join(t2, NULL);
}

int main(int argc, char **argv)
{
    mode = argc > 1 ? argv[1] : "none";
    if (is("order") || is("read")) {
        user_lock_init(&ulock_a);
        user_lock_init(&ulock_b);
        run_two(first_order, second_order, 1);
        DYNANN(AnnotateRWLockDestroy, &ulock_a);
        DYNANN(AnnotateRWLockDestroy, &ulock_b);
    } else if (is("wrapped")) {
        run_two(wrapped_order, wrapped_order, 1);
    } else {
        if (is("benign"))
            DYNANN(AnnotateBenignRaceSized, &shared, (long)sizeof shared, "statistics only");
        run_two(producer, consumer, 0);
    }
    printf("%s: shared %ld, on valgrind %d\n", mode, shared,
           RunningOnValgrind ? RunningOnValgrind() : 0);
    return 0;
}
