/* Locks other than mutexes, from the runtime's side (lr_sync_*: also the
 * identity calls of mutex init and destroy): the lock-order engine with the
 * mode of each acquisition, and happens-before. A read lock of an rwlock is
 * shared: two readers do not block each other (glibc's default rwlock
 * prefers readers), so the graph records modes and a cycle of read locks
 * only is not a deadlock. */
#include "detect/misuse.h"
#include "detect/race.h"
#include "runtime/runtime.h"

#include <errno.h>

/* A (re-)initialised lock is a new identity, first seen here. */
void lr_sync_created(lr_thread *self, void *lock, int type, int rc)
{
    lr_misuse_initialised(self, lock,
                          type <= LR_ADAPTIVE ? LR_OBJ_MUTEX : type == LR_RWLOCK ? LR_OBJ_RWLOCK
                                                                                 : LR_OBJ_OTHER, rc);
    if (!self || rc != 0)
        return;
    int saved = errno;
    lr_enter(self);
    lr_lock_forget((uintptr_t)lock);
    lr_lock *l = lr_lock_get((uintptr_t)lock, type);
    /* made under locks: see lockorder.c, made_under; not a semaphore,
     * whose first wait can block (a count of 0) */
    if (l && self->nheld && type != LR_SEMAPHORE) {
        l->born_chain = lr_held_chain(self);
        l->born_nheld = self->nheld;
        l->born_thread = self->info->id;
    }
    lr_leave(self);
    errno = saved;
}

void lr_sync_destroyed(lr_thread *self, void *lock, int rc)
{
    lr_misuse_uninitialised(self, lock, rc);
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
        if (a->shared)
            lr_race_acquire_shared(self, a->addr);
        else
            lr_race_acquire(self, a->addr);
    } else if (self && rc == EDEADLK && a->type == LR_RWLOCK) {
        lr_misuse_rwlock_relock(self, (pthread_rwlock_t *)a->addr);
    }
}

/* The caller holds the lock at addr only for reading (its newest hold). */
static int held_shared(const lr_thread *self, uintptr_t addr)
{
    int i = lr_held_at(self, addr);
    return i >= 0 && self->held[i].shared;
}

void lr_guard_passed(lr_thread *self, void *guard)
{
    if (self) {
        int saved = errno;
        lr_race_acquire(self, (uintptr_t)guard);
        errno = saved;
    }
}

void lr_sync_release(lr_thread *self, void *lock)
{
    if (self) {
        if (lr_race_active() && held_shared(self, (uintptr_t)lock))
            lr_race_release_shared(self, (uintptr_t)lock);
        else
            lr_race_release(self, (uintptr_t)lock);
        lr_held_released_at(self, (uintptr_t)lock);
    }
}
