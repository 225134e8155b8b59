/* C11 threads.h locks: glibc's mtx_* and cnd_* never reach the pthread
 * symbols (they call glibc's internal ones), so they have wrappers of their
 * own. An mtx_t is a pthread_mutex_t underneath: the lock path is the
 * mutex wrapper's, with C11's return values. */
#include "real.h"
#include "runtime/runtime.h"

#define LR_CALLER __builtin_return_address(0)

static pthread_mutex_t *as_mutex(mtx_t *m)
{
    return (pthread_mutex_t *)(void *)m;
}

LR_WRAPPER int mtx_init(mtx_t *m, int type)
{
    lr_thread *self = lr_self();
    lr_site_begin(self, __builtin_return_address(0));
    int rc = LR_REAL(mtx_init)(m, type);
    lr_mutex_init(self, as_mutex(m), rc == thrd_success ? 0 : -1);
    lr_site_end(self);
    return rc;
}

LR_WRAPPER void mtx_destroy(mtx_t *m)
{
    lr_thread *self = lr_self();
    lr_site_begin(self, __builtin_return_address(0));
    LR_REAL(mtx_destroy)(m);
    lr_mutex_destroy(self, as_mutex(m), 0);
    lr_site_end(self);
}

LR_WRAPPER int mtx_lock(mtx_t *m)
{
    return lr_lock_mutex(as_mutex(m), LR_CALLER) == 0 ? thrd_success : thrd_error;
}

LR_WRAPPER int mtx_trylock(mtx_t *m)
{
    lr_thread *self = lr_self();
    lr_acquisition a = { 0 };
    lr_mutex_before_lock(self, as_mutex(m), LR_TRY, LR_CALLER, &a);
    int rc = LR_REAL(mtx_trylock)(m);
    lr_mutex_after_lock(self, &a, rc == thrd_success ? 0 : -1);
    return rc;
}

LR_WRAPPER int mtx_timedlock(mtx_t *restrict m, const struct timespec *restrict deadline)
{
    lr_thread *self = lr_self();
    lr_acquisition a = { 0 };
    lr_mutex_before_lock(self, as_mutex(m), LR_BOUNDED, LR_CALLER, &a);
    int rc = LR_REAL(mtx_timedlock)(m, deadline);
    lr_mutex_after_lock(self, &a, rc == thrd_success ? 0 : -1);
    return rc;
}

LR_WRAPPER int mtx_unlock(mtx_t *m)
{
    lr_thread *self = lr_self();
    lr_mutex_unlock(self, as_mutex(m));
    return LR_REAL(mtx_unlock)(m);
}

LR_WRAPPER int cnd_wait(cnd_t *c, mtx_t *m)
{
    lr_thread *self = lr_self();
    lr_wait_state st = lr_cond_wait_enter(self, (pthread_cond_t *)(void *)c, as_mutex(m), 0, LR_CALLER);
    int rc = LR_REAL(cnd_wait)(c, m);
    lr_cond_wait_exit(self, (pthread_cond_t *)(void *)c, as_mutex(m), st, LR_CALLER);
    return rc;
}

LR_WRAPPER int cnd_timedwait(cnd_t *restrict c, mtx_t *restrict m,
                             const struct timespec *restrict deadline)
{
    lr_thread *self = lr_self();
    lr_wait_state st = lr_cond_wait_enter(self, (pthread_cond_t *)(void *)c, as_mutex(m), 1, LR_CALLER);
    int rc = LR_REAL(cnd_timedwait)(c, m, deadline);
    lr_cond_wait_exit(self, (pthread_cond_t *)(void *)c, as_mutex(m), st, LR_CALLER);
    return rc;
}

/* glibc's cnd_signal does not call pthread_cond_signal's symbol either. */
LR_WRAPPER int cnd_signal(cnd_t *c)
{
    lr_object_release(lr_self(), c);
    return LR_REAL(cnd_signal)(c);
}

LR_WRAPPER int cnd_broadcast(cnd_t *c)
{
    lr_object_release(lr_self(), c);
    return LR_REAL(cnd_broadcast)(c);
}
