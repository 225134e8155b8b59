/* Barriers and semaphores. A thread blocked in one is blocked, and the
 * watchdog must know it to tell a hang from a pause. A post happens before
 * the wait or try it lets through. A semaphore initialised to 1 is taken
 * for a lock (src/runtime/rwlock.c). */
#include "real.h"
#include "runtime/runtime.h"

#include <errno.h>

#define LR_CALLER __builtin_return_address(0)

LR_WRAPPER int pthread_barrier_init(pthread_barrier_t *b, const pthread_barrierattr_t *attr,
                                    unsigned count)
{
    lr_misuse_barrier_init(lr_self(), b, count);
    return LR_REAL(pthread_barrier_init)(b, attr, count);
}

LR_WRAPPER int pthread_barrier_wait(pthread_barrier_t *b)
{
    lr_thread *self = lr_self();
    lr_object_wait_enter(self, LR_WAIT_BARRIER, b, 0, LR_CALLER);
    int rc = LR_REAL(pthread_barrier_wait)(b);
    lr_object_wait_exit(self, b, rc == 0 || rc == PTHREAD_BARRIER_SERIAL_THREAD);
    return rc;
}

LR_WRAPPER int sem_init(sem_t *s, int pshared, unsigned value)
{
    lr_thread *self = lr_self();
    lr_site_begin(self, __builtin_return_address(0));
    int rc = LR_REAL(sem_init)(s, pshared, value);
    lr_sem_init(self, s, value, rc);
    lr_site_end(self);
    return rc;
}

LR_WRAPPER int sem_destroy(sem_t *s)
{
    lr_thread *self = lr_self();
    lr_site_begin(self, __builtin_return_address(0));
    lr_misuse_sem_destroy(self, s);
    int rc = LR_REAL(sem_destroy)(s);
    lr_sem_destroyed(self, s, rc);
    lr_site_end(self);
    return rc;
}

/* One of CPython's locks waits in rounds, as a mutex does: the deadlock
 * detector looks between them (src/runtime/pylock.c). */
static int sem_wait_rounds(lr_thread *self, sem_t *s)
{
    int saved = errno, rc;
    struct timespec ts;
    while ((rc = LR_REAL(sem_clockwait)(s, CLOCK_MONOTONIC, lr_wait_deadline(self, &ts))) != 0 &&
           errno == ETIMEDOUT)
        lr_wait_check(self);
    lr_wait_done(self);
    if (rc == 0)
        errno = saved;
    return rc;
}

LR_WRAPPER int sem_wait(sem_t *s)
{
    lr_thread *self = lr_self();
    lr_acquisition a;
    lr_sem_before_wait(self, s, LR_BLOCKING, LR_CALLER, &a);
    int rc;
    if (LR_REAL(sem_clockwait) && lr_pylock_wait_begin(self, s)) {
        rc = sem_wait_rounds(self, s);
        if (rc == 0)
            lr_object_acquired(self, s);
    } else {
        lr_object_wait_enter(self, LR_WAIT_SEM, s, 0, LR_CALLER);
        rc = LR_REAL(sem_wait)(s);
        lr_object_wait_exit(self, s, rc == 0);
    }
    lr_pylock_acquired(self, s, rc);
    lr_sem_after_wait(self, &a, rc);
    return rc;
}

LR_WRAPPER int sem_timedwait(sem_t *s, const struct timespec *deadline)
{
    lr_thread *self = lr_self();
    lr_acquisition a;
    lr_sem_before_wait(self, s, LR_BOUNDED, LR_CALLER, &a);
    lr_object_wait_enter(self, LR_WAIT_SEM, s, 1, LR_CALLER);
    int rc = LR_REAL(sem_timedwait)(s, deadline);
    lr_object_wait_exit(self, s, rc == 0);
    lr_pylock_acquired(self, s, rc);
    lr_sem_after_wait(self, &a, rc);
    return rc;
}

LR_WRAPPER int sem_clockwait(sem_t *s, clockid_t clock, const struct timespec *deadline)
{
    lr_thread *self = lr_self();
    if (!LR_REAL(sem_clockwait)) {
        errno = ENOSYS;
        return -1;
    }
    lr_acquisition a;
    lr_sem_before_wait(self, s, LR_BOUNDED, LR_CALLER, &a);
    lr_object_wait_enter(self, LR_WAIT_SEM, s, 1, LR_CALLER);
    int rc = LR_REAL(sem_clockwait)(s, clock, deadline);
    lr_object_wait_exit(self, s, rc == 0);
    lr_pylock_acquired(self, s, rc);
    lr_sem_after_wait(self, &a, rc);
    return rc;
}

/* A try that failed: where a Python Lock's wait that follows is. */
static void try_failed(lr_thread *self, sem_t *s, void *pc)
{
    lr_pylock_try_failed(self, s, pc);
    lr_pylock_acquired(self, s, -1);
}

static __attribute__((noinline)) int try_sem(sem_t *s, void *pc)
{
    lr_thread *self = lr_self();
    lr_acquisition a;
    lr_sem_before_wait(self, s, LR_TRY, pc, &a);
    int rc = LR_REAL(sem_trywait)(s);
    if (rc == 0) {
        lr_object_acquired(self, s);
        lr_pylock_acquired(self, s, rc);
    } else {
        try_failed(self, s, pc);
    }
    lr_sem_after_wait(self, &a, rc);
    return rc;
}

/* A Python Lock's try in a context its thread has met, or on a Lock it
 * holds (every Lock.acquire() and every Condition._is_owned begins with
 * one), is taken apart from the general path, try_sem (pylock.c,
 * lr_pylock_known). */
LR_WRAPPER int sem_trywait(sem_t *s)
{
    lr_thread *self = lr_self_here();
    lr_known k;
    int known = self ? lr_pylock_known(self, s, LR_CALLER, &k) : 0;
    if (__builtin_expect(known, 1)) {
        int rc = LR_REAL(sem_trywait)(s);
        if (rc == 0)
            lr_pylock_known_acquired(self, s, known, &k);
        else
            try_failed(self, s, LR_CALLER);
        return rc;
    }
    return try_sem(s, LR_CALLER);
}

static __attribute__((noinline)) int post_sem(sem_t *s)
{
    lr_thread *self = lr_self();
    lr_sem_post(self, s);               /* before: the waiter may run at once */
    int rc = LR_REAL(sem_post)(s);
    lr_sem_posted(self, s, rc);         /* a failure is misuse; errno kept */
    return rc;
}

/* A Python Lock released by the thread that took it last is a pop and a
 * jump to the real post, as a mutex's usual unlock (pylock.c,
 * lr_pylock_released_top): the post of a held Lock, whose value is 0,
 * cannot fail. Everything else is post_sem. */
LR_WRAPPER int sem_post(sem_t *s)
{
    lr_thread *self = lr_self_here();
    if (__builtin_expect(self && lr_pylock_released_top(self, s), 1))
        return LR_REAL(sem_post)(s);
    return post_sem(s);
}
