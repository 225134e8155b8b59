/* Mutexes and condition-variable waits, from the runtime's side: maps a
 * pthread object to its lock identity and feeds the lock-order engine.
 * The type comes from the object itself (glibc's __data.__kind), so
 * statically initialised mutexes (PTHREAD_RECURSIVE_MUTEX_INITIALIZER_NP,
 * std::recursive_mutex) are typed right without a pthread_mutex_init. */
#include "runtime/runtime.h"
#include "detect/misuse.h"
#include "detect/race.h"
#include "detect/waitfor.h"

#include <errno.h>

static inline int type_of(const pthread_mutex_t *m)
{
    return m->__data.__kind & 3;   /* glibc: PTHREAD_MUTEX_{NORMAL,RECURSIVE,ERRORCHECK,ADAPTIVE} */
}

static inline int acquired(int rc)
{
    return rc == 0 || rc == EOWNERDEAD;
}

void lr_mutex_init(lr_thread *self, pthread_mutex_t *m, int rc)
{
    lr_sync_created(self, m, type_of(m), rc);
}

void lr_mutex_destroy(lr_thread *self, pthread_mutex_t *m, int rc)
{
    if (rc == 0) {
        lr_misuse_mutex_destroyed(self, m);
        /* the tag goes with the lock: a context cache hit trusts a tagged
         * mutex to be its lock (lockorder.h) */
        lr_lock *l = lr_lock_find((uintptr_t)m);
        if (l && __atomic_compare_exchange_n(lr_mutex_tag((uintptr_t)m),
                                             &(uintptr_t){ (uintptr_t)l->id }, 0, 0,
                                             __ATOMIC_RELAXED, __ATOMIC_RELAXED))
            __atomic_store_n(lr_mutex_context((uintptr_t)m), 0, __ATOMIC_RELAXED);
    }
    lr_sync_destroyed(self, m, rc);
}

/* Inlined into the wrappers (LTO): the lock path's budget has no room for
 * a call here; left to itself, gcc 12 stopped inlining it once the context
 * probe grew by a check (callgrind, nested2: 352 instructions a pair of
 * pairs instead of 333). gcc warns that an extern function may not be
 * inlinable everywhere; the out-of-line copy serves the unit tests. */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wattributes"
__attribute__((always_inline)) void lr_mutex_before_lock(lr_thread *self, pthread_mutex_t *m,
                                                         int how, void *pc, lr_acquisition *a);
#pragma GCC diagnostic pop

void lr_mutex_before_lock(lr_thread *self, pthread_mutex_t *m, int how, void *pc,
                          lr_acquisition *a)
{
    if (!self)
        return;
    a->addr = (uintptr_t)m;
    a->pc = (uintptr_t)pc;
    a->type = type_of(m);
    a->how = how;
    a->shared = 0;
    if (__builtin_expect(lr_mutex_destroyed(m), 0))
        lr_misuse_mutex_lock(self, m);
    lr_order_before(self, a);
}

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wattributes"
__attribute__((always_inline)) void lr_mutex_after_lock(lr_thread *self, lr_acquisition *a, int rc);
__attribute__((always_inline)) void lr_mutex_unlock(lr_thread *self, pthread_mutex_t *m);
__attribute__((always_inline)) int lr_mutex_unlock_top(lr_thread *self, pthread_mutex_t *m);
#pragma GCC diagnostic pop

void lr_mutex_after_lock(lr_thread *self, lr_acquisition *a, int rc)
{
    if (self && acquired(rc)) {
        lr_order_after(self, a);
        lr_race_acquire(self, a->addr);
    }
}

/* The unlock of the mutex this thread took last, once, with the race
 * engine off: popped, 1. 0: nothing done, lr_mutex_unlock does it all. */
int lr_mutex_unlock_top(lr_thread *self, pthread_mutex_t *m)
{
    return !lr_race_active() && lr_held_pop_top(self, (uintptr_t)m);
}

void lr_mutex_unlock(lr_thread *self, pthread_mutex_t *m)
{
    if (self) {
        lr_race_release(self, (uintptr_t)m);
        if (__builtin_expect(!lr_held_released_at(self, (uintptr_t)m), 0))
            lr_misuse_mutex_unlock(self, m);
    }
}

/* A blocking lock in a context this thread met last time it took this
 * mutex (lockorder.h, lr_order_mutex_known): the whole acquisition is
 * what the mutex caches, so nothing is written before the real call and
 * the push after it is all that is left. 0: take the general path
 * (lr_mutex_before_lock), which checks the context, reports a misuse of a
 * destroyed mutex, or learns. Inlined into the lock wrappers, as the two
 * above. */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wattributes"
__attribute__((always_inline)) int lr_mutex_known(lr_thread *self, pthread_mutex_t *m, void *pc,
                                                  lr_known *k);
__attribute__((always_inline)) void lr_mutex_known_locked(lr_thread *self, pthread_mutex_t *m,
                                                          const lr_known *k, int rc);
#pragma GCC diagnostic pop

int lr_mutex_known(lr_thread *self, pthread_mutex_t *m, void *pc, lr_known *k)
{
    if (__builtin_expect(lr_mutex_destroyed(m), 0))
        return 0;
    k->lock = lr_order_mutex_known(self, (uintptr_t)m, (uintptr_t)pc, &k->id, &k->token);
    return k->lock != NULL;
}

void lr_mutex_known_locked(lr_thread *self, pthread_mutex_t *m, const lr_known *k, int rc)
{
    if (acquired(rc)) {
        lr_order_push_known(self, k->lock, k->id, (uintptr_t)m, k->token);
        lr_race_acquire(self, (uintptr_t)m);
    }
}

/* A process-shared barrier: glibc 2.25's and later keep, after the counts
 * `in`, `current_round` and `count`, the futex flag `shared`, 0 for a
 * private barrier and FUTEX_PRIVATE_FLAG's value (128) for a shared one. */
static int barrier_pshared(const void *b)
{
    return __atomic_load_n((const int *)b + 3, __ATOMIC_RELAXED) != 0;
}

/* Barriers and semaphores: no lock order, but a thread blocked in one is
 * blocked, which the watchdog must know to tell a hang from a wait. Another
 * process may arrive at a shared barrier (or signal a shared condition
 * variable): a wait on one is not one that only this process's threads
 * can end, and is published as bounded. */
void lr_object_wait_enter(lr_thread *self, int kind, void *object, int bounded, void *pc)
{
    if (!self)
        return;
    if (kind == LR_WAIT_BARRIER) {
        lr_race_release(self, (uintptr_t)object);   /* every arrival before every departure */
        bounded |= barrier_pshared(object);
    }
    lr_wait_begin(self->info, kind, (uintptr_t)object, NULL, lr_site_stack(self, (uintptr_t)pc),
                  bounded);
    lr_watchdog_start(self);            /* after the wait is published: see watchdog.c */
}

void lr_object_wait_exit(lr_thread *self, void *object, int acquired)
{
    if (!self)
        return;
    lr_wait_end(self->info);
    if (acquired)
        lr_race_acquire(self, (uintptr_t)object);
}

/* A semaphore post happens before the wait it lets through; a condition
 * signal before the wait it wakes. */
void lr_object_release(lr_thread *self, void *object)
{
    if (self)
        lr_race_release(self, (uintptr_t)object);
}

void lr_object_acquired(lr_thread *self, void *object)
{
    if (self)
        lr_race_acquire(self, (uintptr_t)object);
}

/* A destroy that waits forever for a waiter nothing may signal any more
 * (POSIX: signalling a destroyed condition is undefined) hangs its thread
 * as surely as a deadlock: deadlock=abort ends the process once it is
 * reported, as for one. */
void lr_cond_destroy(lr_thread *self, pthread_cond_t *c)
{
    if (lr_misuse_cond_destroy(self, c))
        lr_deadlock_policy();
}

lr_wait_state lr_cond_wait_enter(lr_thread *self, pthread_cond_t *c, pthread_mutex_t *m,
                                 int bounded, void *pc)
{
    lr_wait_state st = { 0 };
    if (!self)
        return st;
    int unheld = lr_misuse_cond_wait(self, c, m);
    st.depth = lr_held_depth(self, (uintptr_t)m);
    lr_race_release(self, (uintptr_t)m);
    while (!lr_held_released_at(self, (uintptr_t)m) && lr_held_depth(self, (uintptr_t)m))
        ;
    /* published for the watchdog, which tells a lost wakeup from a wait;
     * glibc's __wrefs bit 0: a process-shared condition variable, which
     * another process may signal */
    bounded |= (int)(__atomic_load_n(&c->__data.__wrefs, __ATOMIC_RELAXED) & 1);
    lr_wait_begin(self->info, LR_WAIT_COND, (uintptr_t)c, lr_lock_find((uintptr_t)m),
                  lr_site_stack(self, (uintptr_t)pc), bounded);
    if (!unheld)
        lr_misuse_cond_waiting(self, c, m);     /* after publishing: two at once see each other */
    lr_watchdog_start(self);
    return st;
}

/* glibc takes the mutex back inside the wait without passing through
 * pthread_mutex_lock; it is held again whenever its owner field names this
 * thread (true for 0, ETIMEDOUT and EOWNERDEAD, and also for the EINVAL of
 * a bad deadline, where glibc never released it). The re-acquisition is a
 * blocking one, checked like any other. */
void lr_cond_wait_exit(lr_thread *self, pthread_cond_t *c, pthread_mutex_t *m, lr_wait_state st,
                       void *pc)
{
    if (!self)
        return;
    lr_wait_end(self->info);
    lr_race_acquire(self, (uintptr_t)c);
    if (m->__data.__owner == self->info->tid)
        lr_race_acquire(self, (uintptr_t)m);
    if (!st.depth || m->__data.__owner != self->info->tid)
        return;
    lr_acquisition a = { .addr = (uintptr_t)m, .pc = (uintptr_t)pc, .type = type_of(m),
                         .how = LR_BLOCKING };
    lr_order_before(self, &a);
    lr_order_after(self, &a);
    for (uint32_t d = 1; d < st.depth && a.lock; d++) {
        a.token = LR_REENTRY;
        lr_order_push(self, &a);
    }
}
