/* Semaphores, from the runtime's side: happens-before (post → wait), the
 * lock-order graph for those used as locks, and their misuse checks. */
#include "detect/lockgraph.h"
#include "detect/race.h"
#include "runtime/runtime.h"

#include <errno.h>

/* Semaphores used as locks. One initialised to 1 is taken for a lock (it is
 * what CPython's threading.Lock is on glibc): a successful wait acquires
 * it, a post by the thread that holds it releases it, and it takes part in
 * the lock-order graph. The first post by a thread that does not hold it,
 * or a wait by the thread that holds it, shows it is a signal, not a lock:
 * it leaves the graph for good. A
 * semaphore-lock's trywait counts as a blocking acquisition: CPython's
 * Lock.acquire() tries first and only then blocks. */
/* Misuse: a semaphore used after its destroy, or bytes that cannot be one.
 * A Python lock's tag is made after its init and cleared at its destroy:
 * one that has it is neither (this is every Lock call). */
static void check_use(lr_thread *self, void *s)
{
    if (!lr_pylock_tagged(s))
        lr_misuse_sem_use(self, s);
}

static lr_lock *sem_lock(void *s)
{
    lr_lock *l = lr_pylock_record(s);
    if (!l)
        l = lr_lock_find((uintptr_t)s);
    return l && l->type == LR_SEMAPHORE ? l : NULL;
}

void lr_sem_init(lr_thread *self, void *s, unsigned value, int rc)
{
    if (!self)
        return;
    if (rc != 0) {
        lr_misuse_sem_init_failed(self, s, value, errno);
        return;
    }
    lr_misuse_sem_init(self, s);
    if (value == 1)
        lr_sync_created(self, s, LR_SEMAPHORE, 0);
    else
        lr_sync_destroyed(self, s, 0);
    lr_pylock_made(self, s, value);
    lr_lock *l = sem_lock(s);
    if (l && lr_pylock_is_lock(s))
        __atomic_store_n(&l->proven, 1, __ATOMIC_RELEASE);     /* a Python Lock is a lock */
}

void lr_sem_before_wait(lr_thread *self, void *s, int how, void *pc, lr_acquisition *a)
{
    a->addr = 0;
    a->lock = NULL;
    if (!self)
        return;
    check_use(self, s);
    if (self->nheld)
        lr_held_drop_stale(self);
    lr_lock *l = sem_lock(s);
    if (!l)
        return;
    if (lr_held_depth(self, (uintptr_t)s)) {
        /* a Python Lock stays a lock until another thread releases it: a
         * self-deadlock names it (pylock.c) */
        if (lr_pylock_is_lock(s))
            return;
        /* waiting on it while holding it: it is how a thread waits for a
         * signal (CPython's Condition.wait), not a lock */
        lr_sync_destroyed(self, s, 0);
        lr_held_drop_stale(self);
        return;
    }
    a->id = l->id;
    lr_sync_before(self, s, LR_SEMAPHORE, how == LR_TRY ? LR_BLOCKING : how, 0,
                   lr_pylock_site(self, s, pc), a);
}

/* A thread that waited on a semaphore-lock may have been let through by
 * another thread's post, which ended its life as a lock meanwhile: its
 * record's address is cleared first (lr_lock_forget), its identity after,
 * and a record used again has another identity. No lookup. */
void lr_sem_after_wait(lr_thread *self, lr_acquisition *a, int rc)
{
    if (a->addr && a->lock && a->lock->id == a->id &&
        __atomic_load_n(&a->lock->addr, __ATOMIC_ACQUIRE) == a->addr)
        lr_sync_after(self, a, rc);
}

void lr_sem_post(lr_thread *self, void *s)
{
    lr_pylock_released(s);
    if (!self)
        return;
    check_use(self, s);
    if (lr_held_depth(self, (uintptr_t)s)) {
        lr_lock *l = sem_lock(s);
        if (l && !__atomic_load_n(&l->proven, __ATOMIC_ACQUIRE)) {
            /* its holder posts it: a lock; the cycles through it waited */
            int saved = errno;
            lr_enter(self);
            lr_graph_proven(l);
            lr_leave(self);
            errno = saved;
        }
        lr_sync_release(self, s);
        return;
    }
    lr_race_release(self, (uintptr_t)s);
    if (sem_lock(s))
        lr_sync_destroyed(self, s, 0);
}

/* After the real post: it fails only on misuse (EOVERFLOW, EINVAL). */
void lr_sem_posted(lr_thread *self, void *s, int rc)
{
    if (self && rc != 0)
        lr_misuse_sem_post_failed(self, s, errno);
}

void lr_sem_destroyed(lr_thread *self, void *s, int rc)
{
    if (rc == 0) {
        /* A Python lock ends with its object, wherever the last reference
         * went: no Python code can use it after, and its stack (two or
         * three in every Condition.wait) would name no line of interest */
        lr_misuse_sem_destroyed(self, s, !lr_pylock_tagged(s));
        lr_pylock_destroyed(s);
    }
    lr_sync_destroyed(self, s, rc);
}

/* A thread that ends holding a semaphore-lock never posts it: it was a
 * start token or a signal that another thread posts, not a lock (a
 * thread that waits for a go-ahead and ends). It leaves the graph now,
 * before another thread's edge into it can close a false cycle; a Python
 * Lock stays a lock (another thread may release it). */
void lr_sem_thread_end(lr_thread *self)
{
    for (uint32_t i = self ? self->nheld : 0; i-- > 0;) {
        const lr_held *h = &self->held[i];
        if (h->lock && h->lock->type == LR_SEMAPHORE && h->lock->id == h->id &&
            !lr_pylock_is_lock((void *)h->addr))
            lr_sync_destroyed(self, (void *)h->addr, 0);
    }
    lr_held_drop_stale(self);
}
