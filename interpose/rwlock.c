/* pthread_rwlock_* and pthread_spin_* wrappers: lock-order checks with the
 * mode of each acquisition. Same shape as the mutex wrappers. */
#include "real.h"
#include "../src/runtime.h"

#include <errno.h>

#define LR_CALLER __builtin_return_address(0)

LR_WRAPPER int pthread_rwlock_init(pthread_rwlock_t *rw, const pthread_rwlockattr_t *attr)
{
    lr_thread *self = lr_self();
    int rc = lr_real.pthread_rwlock_init(rw, attr);
    lr_sync_created(self, rw, LR_RWLOCK, rc);
    return rc;
}

LR_WRAPPER int pthread_rwlock_destroy(pthread_rwlock_t *rw)
{
    lr_thread *self = lr_self();
    int rc = lr_real.pthread_rwlock_destroy(rw);
    lr_sync_destroyed(self, rw, rc);
    return rc;
}

/* One acquisition: how it may wait, whether it is shared, the real call. */
#define RWLOCK_WRAPPER(name, how, shared, params, args)                  \
    LR_WRAPPER int name params                                           \
    {                                                                    \
        lr_thread *self = lr_self();                                     \
        if (!lr_real.name)                                               \
            return ENOSYS;                                               \
        lr_acquisition a = { 0 };                                        \
        lr_sync_before(self, rw, LR_RWLOCK, how, shared, LR_CALLER, &a); \
        int rc = lr_real.name args;                                      \
        lr_sync_after(self, &a, rc);                                     \
        return rc;                                                       \
    }

RWLOCK_WRAPPER(pthread_rwlock_rdlock, LR_BLOCKING, 1, (pthread_rwlock_t *rw), (rw))
RWLOCK_WRAPPER(pthread_rwlock_wrlock, LR_BLOCKING, 0, (pthread_rwlock_t *rw), (rw))
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
    lr_sync_release(self, rw);      /* before: once unlocked, another thread may destroy it */
    return lr_real.pthread_rwlock_unlock(rw);
}

LR_WRAPPER int pthread_spin_init(pthread_spinlock_t *s, int pshared)
{
    lr_thread *self = lr_self();
    int rc = lr_real.pthread_spin_init(s, pshared);
    lr_sync_created(self, (void *)s, LR_SPINLOCK, rc);
    return rc;
}

LR_WRAPPER int pthread_spin_destroy(pthread_spinlock_t *s)
{
    lr_thread *self = lr_self();
    int rc = lr_real.pthread_spin_destroy(s);
    lr_sync_destroyed(self, (void *)s, rc);
    return rc;
}

LR_WRAPPER int pthread_spin_lock(pthread_spinlock_t *s)
{
    lr_thread *self = lr_self();
    lr_acquisition a = { 0 };
    lr_sync_before(self, (void *)s, LR_SPINLOCK, LR_BLOCKING, 0, LR_CALLER, &a);
    int rc = lr_real.pthread_spin_lock(s);
    lr_sync_after(self, &a, rc);
    return rc;
}

LR_WRAPPER int pthread_spin_trylock(pthread_spinlock_t *s)
{
    lr_thread *self = lr_self();
    lr_acquisition a = { 0 };
    lr_sync_before(self, (void *)s, LR_SPINLOCK, LR_TRY, 0, LR_CALLER, &a);
    int rc = lr_real.pthread_spin_trylock(s);
    lr_sync_after(self, &a, rc);
    return rc;
}

LR_WRAPPER int pthread_spin_unlock(pthread_spinlock_t *s)
{
    lr_thread *self = lr_self();
    lr_sync_release(self, (void *)s);
    return lr_real.pthread_spin_unlock(s);
}
