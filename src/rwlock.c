/* rwlocks and spinlocks, from the runtime's side: the lock-order engine
 * with the mode of each acquisition. A read lock of an rwlock is shared:
 * two readers do not block each other (glibc's default rwlock prefers
 * readers), so the graph records modes and a cycle of read locks only is
 * not a deadlock. Blocked rwlock and spinlock waits are not yet in the
 * wait-for graph. */
#include "misuse.h"
#include "race.h"
#include "runtime.h"

#include <errno.h>

/* A (re-)initialised lock is a new identity, first seen here. */
void lr_sync_created(lr_thread *self, void *lock, int type, int rc)
{
    if (!self || rc != 0)
        return;
    int saved = errno;
    lr_enter(self);
    lr_lock_forget((uintptr_t)lock);
    lr_lock_get((uintptr_t)lock, type);
    lr_leave(self);
    errno = saved;
}

void lr_sync_destroyed(lr_thread *self, void *lock, int rc)
{
    if (!self || rc != 0)
        return;
    int saved = errno;
    lr_enter(self);
    lr_lock_forget((uintptr_t)lock);
    lr_leave(self);
    errno = saved;
}

void lr_sync_before(lr_thread *self, void *lock, int type, int how, int shared, void *pc,
                    lr_acquisition *a)
{
    if (!self)
        return;
    a->addr = (uintptr_t)lock;
    a->pc = (uintptr_t)pc;
    a->type = type;
    a->how = how;
    a->shared = shared;
    lr_order_before(self, a);
}

void lr_sync_after(lr_thread *self, lr_acquisition *a, int rc)
{
    if (self && rc == 0) {
        lr_order_after(self, a);
        lr_race_acquire(self, a->addr);
    }
}

void lr_sync_release(lr_thread *self, void *lock)
{
    if (self) {
        lr_race_release(self, (uintptr_t)lock);
        lr_order_released_at(self, (uintptr_t)lock);
    }
}

/* Semaphores used as locks. One initialised to 1 is taken for a lock (it is
 * what CPython's threading.Lock is on glibc): a successful wait acquires
 * it, a post by the thread that holds it releases it, and it takes part in
 * the lock-order graph. The first post by a thread that does not hold it,
 * or a wait by the thread that holds it, shows it is a signal, not a lock:
 * it leaves the graph for good. A
 * semaphore-lock's trywait counts as a blocking acquisition: CPython's
 * Lock.acquire() tries first and only then blocks. */
static lr_lock *sem_lock(void *s)
{
    lr_lock *l = lr_lock_find((uintptr_t)s);
    return l && l->type == LR_SEMAPHORE ? l : NULL;
}

void lr_sem_init(lr_thread *self, void *s, unsigned value, int rc)
{
    if (!self || rc != 0)
        return;
    lr_misuse_sem_init(self, s);
    if (value == 1)
        lr_sync_created(self, s, LR_SEMAPHORE, 0);
    else
        lr_sync_destroyed(self, s, 0);
}

void lr_sem_before_wait(lr_thread *self, void *s, int how, void *pc, lr_acquisition *a)
{
    a->addr = 0;
    a->lock = NULL;
    if (!self)
        return;
    lr_misuse_sem_use(self, s);
    lr_order_drop_stale(self);
    lr_lock *l = sem_lock(s);
    if (!l)
        return;
    if (lr_order_depth_at(self, (uintptr_t)s)) {
        /* waiting on it while holding it: it is how a thread waits for a
         * signal (CPython's Condition.wait), not a lock */
        lr_sync_destroyed(self, s, 0);
        lr_order_drop_stale(self);
        return;
    }
    a->id = l->id;
    lr_sync_before(self, s, LR_SEMAPHORE, how == LR_TRY ? LR_BLOCKING : how, 0, pc, a);
}

/* A thread that waited on a semaphore-lock may have been let through by
 * another thread's post, which ended its life as a lock meanwhile. */
void lr_sem_after_wait(lr_thread *self, lr_acquisition *a, int rc)
{
    if (a->addr && a->lock && a->lock->id == a->id && sem_lock((void *)a->addr) == a->lock)
        lr_sync_after(self, a, rc);
}

void lr_sem_post(lr_thread *self, void *s)
{
    if (!self)
        return;
    lr_misuse_sem_use(self, s);
    if (lr_order_depth_at(self, (uintptr_t)s)) {
        lr_sync_release(self, s);
        return;
    }
    lr_race_release(self, (uintptr_t)s);
    if (sem_lock(s))
        lr_sync_destroyed(self, s, 0);
}

void lr_sem_destroyed(lr_thread *self, void *s, int rc)
{
    if (rc == 0)
        lr_misuse_sem_destroyed(self, s);
    lr_sync_destroyed(self, s, rc);
}
