/* pthread_mutex_* wrappers. Each tells the runtime what is about to happen
 * and what happened, and returns the real result (LR_REAL resolves it if
 * lockrace has not started); the runtime keeps errno. */
#include "real.h"
#include "runtime/runtime.h"

#include <errno.h>

#define LR_CALLER __builtin_return_address(0)

LR_WRAPPER int pthread_mutex_init(pthread_mutex_t *m, const pthread_mutexattr_t *attr)
{
    lr_thread *self = lr_self();
    lr_site_begin(self, __builtin_return_address(0));
    lr_misuse_mutex_init(self, m);
    int rc = LR_REAL(pthread_mutex_init)(m, attr);
    lr_mutex_init(self, m, rc);
    lr_site_end(self);
    return rc;
}

LR_WRAPPER int pthread_mutex_destroy(pthread_mutex_t *m)
{
    lr_thread *self = lr_self();
    lr_site_begin(self, __builtin_return_address(0));
    lr_misuse_mutex_destroy(self, m);
    int rc = LR_REAL(pthread_mutex_destroy)(m);
    lr_mutex_destroy(self, m, rc);
    lr_site_end(self);
    return rc;
}

/* A lock that is taken: wait for it in bounded rounds, so that lockrace
 * can tell a deadlock from a long wait (src/runtime/wait.c). */
static int wait_for(lr_thread *self, pthread_mutex_t *m, const lr_acquisition *a)
{
    if (!LR_REAL(pthread_mutex_clocklock) || !lr_mutex_wait_begin(self, m, a))
        return LR_REAL(pthread_mutex_lock)(m);
    struct timespec deadline;
    int rc;
    while ((rc = LR_REAL(pthread_mutex_clocklock)(m, CLOCK_MONOTONIC,
                                                  lr_wait_deadline(self, &deadline))) == ETIMEDOUT)
        lr_wait_check(self);
    lr_wait_done(self);
    return rc;
}

/* A mutex that looks free is simply locked (a trylock first would cost
 * 3.7 ns more on every lock: glibc's trylock is slower than its lock). One
 * that looks taken is tried, then waited for. A thread that lost the race
 * between the look and the lock blocks in the real call without saying so;
 * the wait-for engine finds it from the kernel's side (src/runtime/wait.c). */
LR_WRAPPER int pthread_mutex_lock(pthread_mutex_t *m)
{
    return lr_lock_mutex(m, LR_CALLER);
}

/* Everything but a free mutex taken again in a known context. */
static __attribute__((noinline)) int lock_mutex(pthread_mutex_t *m, void *pc)
{
    lr_thread *self = lr_self();
    lr_acquisition a;           /* filled by before_lock when self, read only then */
    lr_mutex_before_lock(self, m, LR_BLOCKING, pc, &a);
    int rc;
    if (__builtin_expect(!self || lr_mutex_looks_free(m), 1)) {
        rc = LR_REAL(pthread_mutex_lock)(m);
    } else {
        rc = LR_REAL(pthread_mutex_trylock)(m);
        if (rc == EBUSY)
            rc = wait_for(self, m, &a);
    }
    lr_mutex_after_lock(self, &a, rc);
    return rc;
}

/* Inlined into pthread_mutex_lock and mtx_lock (LTO): called, it was a
 * frame and a jump more on every lock (objdump). */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wattributes"
__attribute__((always_inline)) int lr_lock_mutex(pthread_mutex_t *m, void *pc);
#pragma GCC diagnostic pop

/* A known context's lock that did not return 0 (EOWNERDEAD, an error):
 * apart, so that the usual one keeps no result across its push. */
static __attribute__((noinline)) int known_not_zero(lr_thread *self, pthread_mutex_t *m,
                                                    lr_lock *lock, uint64_t id, lr_token token,
                                                    int rc)
{
    lr_mutex_known_locked(self, m, &(lr_known){ lock, id, token }, rc);
    return rc;
}

int lr_lock_mutex(pthread_mutex_t *m, void *pc)
{
    lr_thread *self = lr_self_here();   /* lock_mutex calls lr_self: no call here */
    lr_known k;
    if (__builtin_expect(self && lr_mutex_known(self, m, pc, &k) && lr_mutex_looks_free(m), 1)) {
        int rc = LR_REAL_SET(pthread_mutex_lock)(m);
        if (__builtin_expect(rc != 0, 0))
            return known_not_zero(self, m, k.lock, k.id, k.token, rc);
        lr_mutex_known_locked(self, m, &k, 0);
        return 0;
    }
    return lock_mutex(m, pc);
}

LR_WRAPPER int pthread_mutex_trylock(pthread_mutex_t *m)
{
    lr_thread *self = lr_self();
    lr_acquisition a = { 0 };
    lr_mutex_before_lock(self, m, LR_TRY, LR_CALLER, &a);
    int rc = LR_REAL(pthread_mutex_trylock)(m);
    lr_mutex_after_lock(self, &a, rc);
    return rc;
}

LR_WRAPPER int pthread_mutex_timedlock(pthread_mutex_t *m, const struct timespec *deadline)
{
    lr_thread *self = lr_self();
    lr_acquisition a = { 0 };
    lr_mutex_before_lock(self, m, LR_BOUNDED, LR_CALLER, &a);
    int rc = LR_REAL(pthread_mutex_timedlock)(m, deadline);
    lr_mutex_after_lock(self, &a, rc);
    return rc;
}

LR_WRAPPER int pthread_mutex_clocklock(pthread_mutex_t *m, clockid_t clock, const struct timespec *deadline)
{
    lr_thread *self = lr_self();
    if (!LR_REAL(pthread_mutex_clocklock))
        return ENOSYS;
    lr_acquisition a = { 0 };
    lr_mutex_before_lock(self, m, LR_BOUNDED, LR_CALLER, &a);
    int rc = LR_REAL(pthread_mutex_clocklock)(m, clock, deadline);
    lr_mutex_after_lock(self, &a, rc);
    return rc;
}

static __attribute__((noinline)) int unlock_mutex(pthread_mutex_t *m)
{
    lr_mutex_unlock(lr_self(), m);  /* before: once unlocked, another thread may destroy it */
    return LR_REAL(pthread_mutex_unlock)(m);
}

/* The usual unlock (the newest lock, held once, no race engine) is a pop
 * and a jump to the real function; everything else is in unlock_mutex,
 * so that the usual one saves no registers and makes no frame (24
 * instructions in all, callgrind: README.md, Overhead). */
LR_WRAPPER int pthread_mutex_unlock(pthread_mutex_t *m)
{
    lr_thread *self = lr_self_here();
    if (__builtin_expect(self && lr_mutex_unlock_top(self, m), 1))
        return LR_REAL_SET(pthread_mutex_unlock)(m);
    return unlock_mutex(m);
}
