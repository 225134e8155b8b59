/* pthread_rwlock_* and pthread_spin_* wrappers: lock-order checks with the
 * mode of each acquisition. Same shape as the mutex wrappers. */
#include "real.h"
#include "runtime/runtime.h"

#include <errno.h>

#define LR_CALLER __builtin_return_address(0)

LR_WRAPPER int pthread_rwlock_init(pthread_rwlock_t *rw, const pthread_rwlockattr_t *attr)
{
    lr_thread *self = lr_self();
    lr_site_begin(self, __builtin_return_address(0));
    int rc = LR_REAL(pthread_rwlock_init)(rw, attr);
    lr_sync_created(self, rw, LR_RWLOCK, rc);
    lr_site_end(self);
    return rc;
}

LR_WRAPPER int pthread_rwlock_destroy(pthread_rwlock_t *rw)
{
    lr_thread *self = lr_self();
    lr_site_begin(self, __builtin_return_address(0));
    int rc = LR_REAL(pthread_rwlock_destroy)(rw);
    lr_sync_destroyed(self, rw, rc);
    lr_site_end(self);
    return rc;
}

/* One acquisition: how it may wait, whether it is shared, the real call. */
#define RWLOCK_WRAPPER(name, how, shared, params, args)                  \
    LR_WRAPPER int name params                                           \
    {                                                                    \
        lr_thread *self = lr_self();                                     \
        if (!LR_REAL(name))                                               \
            return ENOSYS;                                               \
        lr_acquisition a = { 0 };                                        \
        lr_sync_before(self, rw, LR_RWLOCK, how, shared, LR_CALLER, &a); \
        int rc = LR_REAL(name) args;                                      \
        lr_sync_after(self, &a, rc);                                     \
        return rc;                                                       \
    }

/* A blocking rwlock acquisition: tried first; a taken rwlock is waited for
 * in bounded rounds so that lockrace can see a deadlock (src/runtime/wait.c). */
static int rw_acquire(lr_thread *self, pthread_rwlock_t *rw, int shared, void *pc,
                      int (*try)(pthread_rwlock_t *), int (*wait)(pthread_rwlock_t *),
                      int (*round)(pthread_rwlock_t *, clockid_t, const struct timespec *))
{
    lr_acquisition a = { 0 };
    lr_sync_before(self, rw, LR_RWLOCK, LR_BLOCKING, shared, pc, &a);
    int rc = self ? try(rw) : EBUSY;
    if (rc == EBUSY) {
        if (!round || !lr_lock_wait_begin(self, rw, &a)) {
            rc = wait(rw);
        } else {
            struct timespec deadline;
            while ((rc = round(rw, CLOCK_MONOTONIC, lr_wait_deadline(self, &deadline))) == ETIMEDOUT)
                lr_wait_check(self);
            lr_wait_done(self);
        }
    }
    lr_sync_after(self, &a, rc);
    return rc;
}

LR_WRAPPER int pthread_rwlock_rdlock(pthread_rwlock_t *rw)
{
    return rw_acquire(lr_self(), rw, 1, LR_CALLER, LR_REAL(pthread_rwlock_tryrdlock),
                      LR_REAL(pthread_rwlock_rdlock), LR_REAL(pthread_rwlock_clockrdlock));
}

LR_WRAPPER int pthread_rwlock_wrlock(pthread_rwlock_t *rw)
{
    return rw_acquire(lr_self(), rw, 0, LR_CALLER, LR_REAL(pthread_rwlock_trywrlock),
                      LR_REAL(pthread_rwlock_wrlock), LR_REAL(pthread_rwlock_clockwrlock));
}

RWLOCK_WRAPPER(pthread_rwlock_tryrdlock, LR_TRY, 1, (pthread_rwlock_t *rw), (rw))
RWLOCK_WRAPPER(pthread_rwlock_trywrlock, LR_TRY, 0, (pthread_rwlock_t *rw), (rw))
RWLOCK_WRAPPER(pthread_rwlock_timedrdlock, LR_BOUNDED, 1,
               (pthread_rwlock_t *rw, const struct timespec *deadline), (rw, deadline))
RWLOCK_WRAPPER(pthread_rwlock_timedwrlock, LR_BOUNDED, 0,
               (pthread_rwlock_t *rw, const struct timespec *deadline), (rw, deadline))
RWLOCK_WRAPPER(pthread_rwlock_clockrdlock, LR_BOUNDED, 1,
               (pthread_rwlock_t *rw, clockid_t clock, const struct timespec *deadline),
               (rw, clock, deadline))
RWLOCK_WRAPPER(pthread_rwlock_clockwrlock, LR_BOUNDED, 0,
               (pthread_rwlock_t *rw, clockid_t clock, const struct timespec *deadline),
               (rw, clock, deadline))

LR_WRAPPER int pthread_rwlock_unlock(pthread_rwlock_t *rw)
{
    lr_thread *self = lr_self();
    lr_misuse_rwlock_unlock(self, rw);
    lr_sync_release(self, rw);      /* before: once unlocked, another thread may destroy it */
    return LR_REAL(pthread_rwlock_unlock)(rw);
}

LR_WRAPPER int pthread_spin_init(pthread_spinlock_t *s, int pshared)
{
    lr_thread *self = lr_self();
    lr_site_begin(self, __builtin_return_address(0));
    int rc = LR_REAL(pthread_spin_init)(s, pshared);
    lr_sync_created(self, (void *)s, LR_SPINLOCK, rc);
    lr_site_end(self);
    return rc;
}

LR_WRAPPER int pthread_spin_destroy(pthread_spinlock_t *s)
{
    lr_thread *self = lr_self();
    lr_site_begin(self, __builtin_return_address(0));
    int rc = LR_REAL(pthread_spin_destroy)(s);
    lr_sync_destroyed(self, (void *)s, rc);
    lr_site_end(self);
    return rc;
}

/* A spinlock that is taken is spun for with trylock, in rounds between
 * which lockrace looks for a deadlock: the same busy wait as glibc's. */
LR_WRAPPER int pthread_spin_lock(pthread_spinlock_t *s)
{
    lr_thread *self = lr_self();
    lr_acquisition a = { 0 };
    lr_sync_before(self, (void *)s, LR_SPINLOCK, LR_BLOCKING, 0, LR_CALLER, &a);
    int rc = self ? LR_REAL(pthread_spin_trylock)(s) : EBUSY;
    if (rc == EBUSY) {
        if (!lr_lock_wait_begin(self, (void *)s, &a)) {
            rc = LR_REAL(pthread_spin_lock)(s);
        } else {
            struct timespec deadline;
            lr_wait_deadline(self, &deadline);
            for (unsigned spins = 0; (rc = LR_REAL(pthread_spin_trylock)(s)) == EBUSY; spins++) {
#if defined(__x86_64__) || defined(__i386__)
                __builtin_ia32_pause();
#endif
                if (spins % 1024 == 0 && lr_wait_round_over(&deadline)) {
                    lr_wait_check(self);
                    lr_wait_deadline(self, &deadline);
                }
            }
            lr_wait_done(self);
        }
    }
    lr_sync_after(self, &a, rc);
    return rc;
}

LR_WRAPPER int pthread_spin_trylock(pthread_spinlock_t *s)
{
    lr_thread *self = lr_self();
    lr_acquisition a = { 0 };
    lr_sync_before(self, (void *)s, LR_SPINLOCK, LR_TRY, 0, LR_CALLER, &a);
    int rc = LR_REAL(pthread_spin_trylock)(s);
    lr_sync_after(self, &a, rc);
    return rc;
}

LR_WRAPPER int pthread_spin_unlock(pthread_spinlock_t *s)
{
    lr_thread *self = lr_self();
    lr_sync_release(self, (void *)s);
    return LR_REAL(pthread_spin_unlock)(s);
}
