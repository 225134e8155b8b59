/* pthread_cond_* wrappers. A wait releases its mutex and takes it back
 * inside glibc, never through pthread_mutex_lock, so the wrapper tells the
 * runtime both halves. All six classic functions are wrapped and forwarded
 * to one ABI (GLIBC_2.3.2), so a program bound to the old compat versions
 * stays consistent instead of mixing two condition-variable layouts. */
#include "real.h"
#include "runtime/runtime.h"

#include <errno.h>

#define LR_CALLER __builtin_return_address(0)

LR_WRAPPER int pthread_cond_init(pthread_cond_t *c, const pthread_condattr_t *attr)
{
    lr_thread *self = lr_self();
    lr_site_begin(self, __builtin_return_address(0));
    int rc = LR_REAL(pthread_cond_init)(c, attr);
    lr_misuse_initialised(self, c, LR_OBJ_COND, rc);
    lr_site_end(self);
    return rc;
}

LR_WRAPPER int pthread_cond_destroy(pthread_cond_t *c)
{
    lr_thread *self = lr_self();
    lr_site_begin(self, __builtin_return_address(0));
    lr_cond_destroy(self, c);           /* may end the process: it would hang here */
    int rc = LR_REAL(pthread_cond_destroy)(c);
    lr_misuse_uninitialised(self, c, rc);
    lr_site_end(self);
    return rc;
}

LR_WRAPPER int pthread_cond_signal(pthread_cond_t *c)
{
    lr_object_release(lr_self(), c);
    return LR_REAL(pthread_cond_signal)(c);
}

LR_WRAPPER int pthread_cond_broadcast(pthread_cond_t *c)
{
    lr_object_release(lr_self(), c);
    return LR_REAL(pthread_cond_broadcast)(c);
}

LR_WRAPPER int pthread_cond_wait(pthread_cond_t *c, pthread_mutex_t *m)
{
    lr_thread *self = lr_self();
    lr_wait_state st = lr_cond_wait_enter(self, c, m, 0, LR_CALLER);
    int rc = LR_REAL(pthread_cond_wait)(c, m);
    lr_cond_wait_exit(self, c, m, st, LR_CALLER);
    return rc;
}

LR_WRAPPER int pthread_cond_timedwait(pthread_cond_t *c, pthread_mutex_t *m, const struct timespec *deadline)
{
    lr_thread *self = lr_self();
    lr_wait_state st = lr_cond_wait_enter(self, c, m, 1, LR_CALLER);
    int rc = LR_REAL(pthread_cond_timedwait)(c, m, deadline);
    lr_cond_wait_exit(self, c, m, st, LR_CALLER);
    return rc;
}

LR_WRAPPER int pthread_cond_clockwait(pthread_cond_t *c, pthread_mutex_t *m, clockid_t clock,
                           const struct timespec *deadline)
{
    lr_thread *self = lr_self();
    if (!LR_REAL(pthread_cond_clockwait))
        return ENOSYS;
    lr_wait_state st = lr_cond_wait_enter(self, c, m, 1, LR_CALLER);
    int rc = LR_REAL(pthread_cond_clockwait)(c, m, clock, deadline);
    lr_cond_wait_exit(self, c, m, st, LR_CALLER);
    return rc;
}
