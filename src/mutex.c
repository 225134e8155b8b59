/* Mutexes and condition-variable waits, from the runtime's side: maps a
 * pthread object to its lock identity and feeds the lock-order engine.
 * The type comes from the object itself (glibc's __data.__kind), so
 * statically initialised mutexes (PTHREAD_RECURSIVE_MUTEX_INITIALIZER_NP,
 * std::recursive_mutex) are typed right without a pthread_mutex_init. */
#include "runtime.h"

#include <errno.h>

static inline int type_of(const pthread_mutex_t *m)
{
    return m->__data.__kind & 3;   /* glibc: PTHREAD_MUTEX_{NORMAL,RECURSIVE,ERRORCHECK,ADAPTIVE} */
}

/* The slow path of lock_of: a mutex seen for the first time. */
static __attribute__((noinline)) lr_lock *first_seen(lr_thread *self, pthread_mutex_t *m)
{
    int saved = errno;
    lr_enter(self);
    lr_lock *l = lr_lock_get((uintptr_t)m, type_of(m));
    lr_leave(self);
    errno = saved;
    return l;
}

static inline lr_lock *lock_of(lr_thread *self, pthread_mutex_t *m)
{
    lr_lock *l = lr_lock_find((uintptr_t)m);
    return __builtin_expect(l != NULL, 1) ? l : first_seen(self, m);
}

static inline int acquired(int rc)
{
    return rc == 0 || rc == EOWNERDEAD;
}

void lr_mutex_init(lr_thread *self, pthread_mutex_t *m, int rc)
{
    if (!self || rc != 0)
        return;
    int saved = errno;
    lr_enter(self);
    lr_lock_forget((uintptr_t)m);           /* re-init of a live mutex: a new lock */
    lr_lock_get((uintptr_t)m, type_of(m));  /* first seen here, at its init */
    lr_leave(self);
    errno = saved;
}

void lr_mutex_destroy(lr_thread *self, pthread_mutex_t *m, int rc)
{
    if (!self || rc != 0)
        return;
    int saved = errno;
    lr_enter(self);
    lr_lock_forget((uintptr_t)m);
    lr_leave(self);
    errno = saved;
}

void lr_mutex_before_lock(lr_thread *self, pthread_mutex_t *m, int how, void *pc,
                          lr_acquisition *a)
{
    if (!self)
        return;
    a->lock = lock_of(self, m);
    a->pc = (uintptr_t)pc;
    a->how = how;
    if (a->lock && how != LR_TRY)
        a->token = lr_order_check(self, a->lock, how, a->pc);
}

void lr_mutex_after_lock(lr_thread *self, lr_acquisition *a, int rc)
{
    if (!self || !acquired(rc) || !a->lock)
        return;
    lr_order_acquired(self, a->lock, a->how, a->pc, a->token);
}

void lr_mutex_unlock(lr_thread *self, pthread_mutex_t *m)
{
    if (!self)
        return;
    lr_lock *l = lr_lock_find((uintptr_t)m);
    if (l)
        lr_order_released(self, l, NULL);
}

lr_wait_state lr_cond_wait_enter(lr_thread *self, pthread_mutex_t *m)
{
    lr_wait_state st = { 0 };
    if (!self)
        return st;
    lr_lock *l = lr_lock_find((uintptr_t)m);
    int i = l ? lr_order_find_held(self, l) : -1;
    if (i < 0)
        return st;
    st.depth = self->held[i].depth;
    self->held[i].depth = 1;
    lr_order_released(self, l, NULL);
    return st;
}

/* glibc takes the mutex back inside the wait without passing through
 * pthread_mutex_lock; it is held again whenever its owner field names this
 * thread (true for 0, ETIMEDOUT and EOWNERDEAD, and also for the EINVAL of
 * a bad deadline, where glibc never released it). */
void lr_cond_wait_exit(lr_thread *self, pthread_mutex_t *m, lr_wait_state st, void *pc)
{
    if (!self || !st.depth || m->__data.__owner != self->info->tid)
        return;
    lr_lock *l = lock_of(self, m);
    if (!l)
        return;
    lr_token tok = lr_order_check(self, l, LR_BLOCKING, (uintptr_t)pc);
    lr_order_acquired(self, l, LR_BLOCKING, (uintptr_t)pc, tok);
    int i = lr_order_find_held(self, l);
    if (i >= 0)
        self->held[i].depth = st.depth;
}
