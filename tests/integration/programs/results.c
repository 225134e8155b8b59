/* results: every wrapped call returns the real result and leaves errno as
 * the real call left it. Exits 0 when all hold, 1 with a message if not.
 * Clean: no report expected. */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <semaphore.h>
#include <stdio.h>
#include <stdlib.h>
#include <threads.h>
#include <time.h>

static pthread_mutex_t m = PTHREAD_MUTEX_INITIALIZER;
static pthread_mutex_t held_elsewhere = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t c = PTHREAD_COND_INITIALIZER;
static int failures;

#define EXPECT(cond, what)                                                   \
    do {                                                                     \
        if (!(cond)) {                                                       \
            fprintf(stderr, "results: %s (line %d)\n", what, __LINE__);       \
            failures++;                                                      \
        }                                                                    \
    } while (0)

static void *try_from_other_thread(void *arg)
{
    return (void *)(long)pthread_mutex_trylock(arg);
}

static int trylock_elsewhere(pthread_mutex_t *mx)
{
    pthread_t t;
    void *rc;
    pthread_create(&t, NULL, try_from_other_thread, mx);
    pthread_join(t, &rc);
    if ((long)rc == 0)
        pthread_mutex_unlock(mx);
    return (int)(long)rc;
}

static int once_runs;
static void once_routine(void) { once_runs++; }

static void *rw_try_elsewhere(void *arg)
{
    return (void *)(long)pthread_rwlock_trywrlock(arg);
}

static int c11_thread(void *arg)
{
    return *(int *)arg + 1;
}

static void *exits_with(void *arg)
{
    pthread_exit(arg);
}

static void *hold(void *arg)
{
    (void)arg;
    pthread_mutex_lock(&held_elsewhere);
    return NULL;
}

int main(void)
{
    struct timespec soon;

    errno = 1234;
    EXPECT(pthread_mutex_lock(&m) == 0, "lock");
    EXPECT(errno == 1234, "lock changed errno");
    EXPECT(pthread_mutex_trylock(&m) == EBUSY, "trylock of a held mutex is not EBUSY");
    EXPECT(errno == 1234, "trylock changed errno");
    EXPECT(trylock_elsewhere(&m) == EBUSY, "mutex not held after lock");
    EXPECT(pthread_mutex_unlock(&m) == 0, "unlock");
    EXPECT(errno == 1234, "unlock changed errno");

    pthread_mutexattr_t attr;
    pthread_mutexattr_init(&attr);
    pthread_mutexattr_settype(&attr, PTHREAD_MUTEX_ERRORCHECK);
    pthread_mutex_t ec;
    EXPECT(pthread_mutex_init(&ec, &attr) == 0, "init errorcheck");
    EXPECT(pthread_mutex_unlock(&ec) == EPERM, "errorcheck unlock of an unheld mutex is not EPERM");
    EXPECT(pthread_mutex_lock(&ec) == 0, "errorcheck lock");
    EXPECT(pthread_mutex_lock(&ec) == EDEADLK, "errorcheck relock is not EDEADLK");
    EXPECT(pthread_mutex_unlock(&ec) == 0, "errorcheck unlock");
    EXPECT(pthread_mutex_destroy(&ec) == 0, "destroy");

    /* a mutex held by a thread that has ended: timedlock times out */
    pthread_t t;
    pthread_create(&t, NULL, hold, NULL);
    pthread_join(t, NULL);
    clock_gettime(CLOCK_REALTIME, &soon);
    soon.tv_nsec += 20 * 1000 * 1000;
    if (soon.tv_nsec >= 1000000000) {
        soon.tv_sec++;
        soon.tv_nsec -= 1000000000;
    }
    errno = 77;
    EXPECT(pthread_mutex_timedlock(&held_elsewhere, &soon) == ETIMEDOUT, "timedlock did not time out");
    EXPECT(errno == 77, "timedlock changed errno");
    clock_gettime(CLOCK_MONOTONIC, &soon);
    EXPECT(pthread_mutex_clocklock(&held_elsewhere, CLOCK_MONOTONIC, &soon) == ETIMEDOUT,
           "clocklock did not time out");

    /* cond waits: timeout keeps the mutex held; a bad deadline is EINVAL
     * and glibc never released the mutex */
    pthread_mutex_lock(&m);
    clock_gettime(CLOCK_REALTIME, &soon);
    EXPECT(pthread_cond_timedwait(&c, &m, &soon) == ETIMEDOUT, "cond_timedwait did not time out");
    EXPECT(trylock_elsewhere(&m) == EBUSY, "mutex not held after cond_timedwait");
    struct timespec bad = { .tv_sec = 0, .tv_nsec = 2000000000L };
    EXPECT(pthread_cond_timedwait(&c, &m, &bad) == EINVAL, "bad deadline is not EINVAL");
    EXPECT(trylock_elsewhere(&m) == EBUSY, "mutex not held after EINVAL");
    clock_gettime(CLOCK_MONOTONIC, &soon);
    EXPECT(pthread_cond_clockwait(&c, &m, CLOCK_MONOTONIC, &soon) == ETIMEDOUT,
           "cond_clockwait did not time out");
    EXPECT(pthread_mutex_unlock(&m) == 0, "unlock after waits");
    EXPECT(pthread_cond_signal(&c) == 0 && pthread_cond_broadcast(&c) == 0, "signal/broadcast");

    sem_t sem;
    sem_init(&sem, 0, 1);
    EXPECT(sem_wait(&sem) == 0, "sem_wait");
    clock_gettime(CLOCK_REALTIME, &soon);
    errno = 0;
    EXPECT(sem_timedwait(&sem, &soon) == -1 && errno == ETIMEDOUT, "sem_timedwait did not time out");
    clock_gettime(CLOCK_MONOTONIC, &soon);
    errno = 0;
    EXPECT(sem_clockwait(&sem, CLOCK_MONOTONIC, &soon) == -1 && errno == ETIMEDOUT,
           "sem_clockwait did not time out");
    sem_destroy(&sem);
    pthread_barrier_t barrier;
    pthread_barrier_init(&barrier, NULL, 1);
    EXPECT(pthread_barrier_wait(&barrier) == PTHREAD_BARRIER_SERIAL_THREAD, "barrier of one");
    pthread_barrier_destroy(&barrier);

    EXPECT(pthread_setname_np(pthread_self(), "a-name-that-is-far-too-long") == ERANGE,
           "setname of a long name is not ERANGE");
    EXPECT(pthread_join(pthread_self(), NULL) == EDEADLK, "self-join is not EDEADLK");

    /* rwlocks */
    pthread_rwlock_t rw;
    EXPECT(pthread_rwlock_init(&rw, NULL) == 0, "rwlock init");
    EXPECT(pthread_rwlock_rdlock(&rw) == 0 && pthread_rwlock_tryrdlock(&rw) == 0, "read locks");
    EXPECT(pthread_rwlock_trywrlock(&rw) == EBUSY, "trywrlock of a read-locked rwlock is not EBUSY");
    EXPECT(pthread_rwlock_unlock(&rw) == 0 && pthread_rwlock_unlock(&rw) == 0, "read unlocks");
    EXPECT(pthread_rwlock_wrlock(&rw) == 0, "wrlock");
    pthread_t rt;
    void *rrc;
    pthread_create(&rt, NULL, rw_try_elsewhere, &rw);
    pthread_join(rt, &rrc);
    EXPECT((long)rrc == EBUSY, "rwlock not write-locked after wrlock");
    EXPECT(pthread_rwlock_unlock(&rw) == 0, "write unlock");
    clock_gettime(CLOCK_REALTIME, &soon);
    soon.tv_sec += 1;
    EXPECT(pthread_rwlock_timedrdlock(&rw, &soon) == 0 && pthread_rwlock_unlock(&rw) == 0, "timedrdlock");
    EXPECT(pthread_rwlock_timedwrlock(&rw, &soon) == 0 && pthread_rwlock_unlock(&rw) == 0, "timedwrlock");
    clock_gettime(CLOCK_MONOTONIC, &soon);
    soon.tv_sec += 1;
    EXPECT(pthread_rwlock_clockrdlock(&rw, CLOCK_MONOTONIC, &soon) == 0 && pthread_rwlock_unlock(&rw) == 0,
           "clockrdlock");
    EXPECT(pthread_rwlock_clockwrlock(&rw, CLOCK_MONOTONIC, &soon) == 0 && pthread_rwlock_unlock(&rw) == 0,
           "clockwrlock");
    EXPECT(pthread_rwlock_destroy(&rw) == 0, "rwlock destroy");

    /* spinlocks */
    pthread_spinlock_t spin;
    EXPECT(pthread_spin_init(&spin, PTHREAD_PROCESS_PRIVATE) == 0, "spin init");
    EXPECT(pthread_spin_lock(&spin) == 0, "spin lock");
    EXPECT(pthread_spin_trylock(&spin) == EBUSY, "spin trylock of a held spinlock is not EBUSY");
    EXPECT(pthread_spin_unlock(&spin) == 0 && pthread_spin_trylock(&spin) == 0, "spin trylock");
    EXPECT(pthread_spin_unlock(&spin) == 0 && pthread_spin_destroy(&spin) == 0, "spin destroy");

    /* semaphores */
    sem_t counting;
    EXPECT(sem_init(&counting, 0, 2) == 0, "sem_init");
    EXPECT(sem_trywait(&counting) == 0 && sem_trywait(&counting) == 0, "sem_trywait");
    errno = 0;
    EXPECT(sem_trywait(&counting) == -1 && errno == EAGAIN, "sem_trywait of 0 is not EAGAIN");
    EXPECT(sem_post(&counting) == 0, "sem_post");
    int value = -1;
    sem_getvalue(&counting, &value);
    EXPECT(value == 1, "sem value after post");
    EXPECT(sem_destroy(&counting) == 0, "sem_destroy");

    /* once */
    pthread_once_t once = PTHREAD_ONCE_INIT;
    EXPECT(pthread_once(&once, once_routine) == 0 && pthread_once(&once, once_routine) == 0, "pthread_once");
    once_flag c11_once = ONCE_FLAG_INIT;
    call_once(&c11_once, once_routine);
    call_once(&c11_once, once_routine);
    EXPECT(once_runs == 2, "once routines did not run once each");

    /* C11 */
    mtx_t mtx;
    cnd_t cnd;
    EXPECT(mtx_init(&mtx, mtx_timed) == thrd_success, "mtx_init");
    EXPECT(mtx_lock(&mtx) == thrd_success, "mtx_lock");
    clock_gettime(CLOCK_REALTIME, &soon);
    EXPECT(cnd_init(&cnd) == thrd_success, "cnd_init");
    EXPECT(cnd_timedwait(&cnd, &mtx, &soon) == thrd_timedout, "cnd_timedwait did not time out");
    EXPECT(cnd_signal(&cnd) == thrd_success && cnd_broadcast(&cnd) == thrd_success, "cnd_signal");
    EXPECT(mtx_unlock(&mtx) == thrd_success, "mtx_unlock");
    EXPECT(mtx_trylock(&mtx) == thrd_success && mtx_unlock(&mtx) == thrd_success, "mtx_trylock");
    clock_gettime(CLOCK_REALTIME, &soon);
    soon.tv_sec += 1;
    EXPECT(mtx_timedlock(&mtx, &soon) == thrd_success && mtx_unlock(&mtx) == thrd_success, "mtx_timedlock");
    cnd_destroy(&cnd);
    mtx_destroy(&mtx);
    thrd_t ct;
    int in = 41, out = 0;
    EXPECT(thrd_create(&ct, c11_thread, &in) == thrd_success, "thrd_create");
    EXPECT(thrd_join(ct, &out) == thrd_success && out == 42, "thrd_join result");

    /* pthread_exit's value reaches the joiner */
    pthread_t et;
    void *exit_value = NULL;
    pthread_create(&et, NULL, exits_with, (void *)0x5eed);
    pthread_join(et, &exit_value);
    EXPECT(exit_value == (void *)0x5eed, "pthread_exit value");

    if (failures)
        return 1;
    puts("results: all wrapped calls returned the real results");
    return 0;
}
