/* The runtime: bootstrap, options, exit status, fork; and the calls the
 * interposition layer makes for each family of synchronization objects.
 * Every call accepts self == NULL (lockrace is passing through) and keeps
 * errno as it found it. */
#ifndef LR_RUNTIME_H
#define LR_RUNTIME_H

#include "detect/lockorder.h"
#include "detect/misuse.h"
#include "detect/race.h"
#include "model/thread.h"

#include <pthread.h>
#include <time.h>

/* 1 once lockrace is initialised; the first call initialises it. Calls made
 * while it initialises (from this thread or another) pass through. */
int lr_runtime_ready(void);

/* Per-thread state of the caller, created on first use; NULL when lockrace
 * must pass straight through (not ready, inside lockrace, thread ending).
 * Wrappers and signal handlers call it; everything below takes the state. */
lr_thread *lr_self_slow(void) __attribute__((noinline, cold));

/* lr_self's usual case alone: the state of a thread that has one and is
 * not inside lockrace, else NULL (where lr_self may still make one). For a
 * wrapper whose fast case is a jump to the real function and calls
 * nothing: its other cases call lr_self. */
static inline lr_thread *lr_self_here(void)
{
    lr_thread *t = lr_tls_thread;
    return __builtin_expect(t->depth == 0, 1) ? t : NULL;   /* not LR_THREAD_NONE or _DEAD */
}

static inline lr_thread *lr_self(void)
{
    lr_thread *t = lr_self_here();
    return t ? t : lr_self_slow();
}

/* A wrapper off the lock path (a lock's init or destroy, a thread's
 * creation) says where the program called it, for the stacks lockrace
 * takes in the call it makes (support/stack.h, lr_stack_site_begin); the
 * inline function's frame is the wrapper's. */
static inline __attribute__((always_inline)) void lr_site_begin(lr_thread *self, void *pc)
{
    uintptr_t depth = self ? lr_thread_depth_here(self) : 0;
    if (depth)
        lr_stack_site_begin((uintptr_t)pc, depth, self->info->id, &self->depth, self->depth + 1);
}

static inline void lr_site_end(lr_thread *self)
{
    if (self)
        lr_stack_site_end();
}

/* The process ends with `status` (exit, a return from main, _exit,
 * _Exit): the race engine's last findings and the summary line, once, and
 * the status it must end with, returned: exitcode in place of a 0 when it
 * reported, else its own. Only the status when lockrace is not ready, or
 * inside itself on this thread. */
int lr_runtime_exit(int status);
/* Ends the process now with `status`, nothing more printed: lockrace's own
 * end of a deadlocked process. */
void lr_runtime_end(int status) __attribute__((noreturn));
/* The caller reaped its child `pid` (reap.c), which exited with status
 * `code` or was ended by signal `code` (signaled): the child's exit record
 * as its parent saw it, which it may not have written itself. */
void lr_runtime_child_ended(pid_t pid, int code, int signaled);
/* The caller is about to chroot: what its reports' stacks and lock names
 * will need of its files is read now (its files are out of sight after). */
void lr_runtime_before_chroot(lr_thread *self);


/* system calls that move the program's memory (io.c): only while the race
 * engine runs does a call look further */
static inline int lr_io_watched(void)
{
    return lr_race_active();
}
void lr_io_access(const void *buf, size_t n, int into, void *pc);

/* mutexes (src/runtime/mutex.c) */
void lr_mutex_init(lr_thread *self, pthread_mutex_t *m, int rc);
void lr_mutex_destroy(lr_thread *self, pthread_mutex_t *m, int rc);
void lr_mutex_before_lock(lr_thread *self, pthread_mutex_t *m, int how, void *pc,
                          lr_acquisition *a);
void lr_mutex_after_lock(lr_thread *self, lr_acquisition *a, int rc);
void lr_mutex_unlock(lr_thread *self, pthread_mutex_t *m);
int lr_mutex_unlock_top(lr_thread *self, pthread_mutex_t *m);
/* A blocking lock in a context already met (the lock path's fast case):
 * what lr_mutex_known found, for lr_mutex_known_locked after the real
 * call. */
typedef struct lr_known {
    lr_lock *lock;
    uint64_t id;
    lr_token token;
} lr_known;
int lr_mutex_known(lr_thread *self, pthread_mutex_t *m, void *pc, lr_known *k);
void lr_mutex_known_locked(lr_thread *self, pthread_mutex_t *m, const lr_known *k, int rc);

/* rwlocks and spinlocks: the same lock-order checks, with the mode of each
 * acquisition (a read lock is shared); src/runtime/rwlock.c. */
void lr_sync_created(lr_thread *self, void *lock, int type, int rc);
void lr_sync_destroyed(lr_thread *self, void *lock, int rc);
void lr_sync_before(lr_thread *self, void *lock, int type, int how, int shared, void *pc,
                    lr_acquisition *a);
void lr_sync_after(lr_thread *self, lr_acquisition *a, int rc);
void lr_sync_release(lr_thread *self, void *lock);
/* A C++ static's guard found the static made (by another thread): what
 * its initialiser did happened before (the guard's release). */
void lr_guard_passed(lr_thread *self, void *guard);

/* semaphores: happens-before, and the lock-order graph for those used as locks */
void lr_sem_init(lr_thread *self, void *s, unsigned value, int rc);
void lr_sem_before_wait(lr_thread *self, void *s, int how, void *pc, lr_acquisition *a);
void lr_sem_after_wait(lr_thread *self, lr_acquisition *a, int rc);
void lr_sem_post(lr_thread *self, void *s);
void lr_sem_posted(lr_thread *self, void *s, int rc);
void lr_sem_destroyed(lr_thread *self, void *s, int rc);

/* CPython's locks (src/runtime/pylock.c): semaphores the interpreter made,
 * tagged when made; who holds one, a thread's life lock, and their waits. */
void lr_pylock_made(lr_thread *self, void *s, unsigned value);
void lr_pylock_destroyed(void *s);
void lr_pylock_acquired(lr_thread *self, void *s, int rc);
void lr_pylock_released(void *s);
/* 1 for any semaphore tagged as the interpreter's (a lock, a thread's
 * life lock, a Condition's waiter) */
int lr_pylock_tagged(void *s);
/* 1 for a lock the interpreter made (not a thread's life lock) */
int lr_pylock_is_lock(void *s);
/* The record of such a lock, from its tag; NULL: look it up */
lr_lock *lr_pylock_record(void *s);
/* What an acquisition of s at the interpreter's call site pc is keyed by:
 * for a Python Lock, the Python line that takes it (the C call site is the
 * same for every line); pc otherwise. */
void *lr_pylock_site(lr_thread *self, void *s, void *pc);
/* The fast cases of a Python Lock's acquire and release (pylock.c):
 * lr_pylock_known before the try (LR_PYLOCK_KNOWN: the context is known,
 * *k says it; LR_PYLOCK_HELD: this thread holds the Lock; 0: neither,
 * lr_sem_before_wait does it all), lr_pylock_known_acquired when it
 * succeeded; lr_pylock_released_top before the post (1: done; 0:
 * lr_sem_post does it all). */
enum { LR_PYLOCK_KNOWN = 1, LR_PYLOCK_HELD = 2 };
int lr_pylock_known(lr_thread *self, void *s, void *pc, lr_known *k);
void lr_pylock_known_acquired(lr_thread *self, void *s, int known, const lr_known *k);
int lr_pylock_released_top(lr_thread *self, void *s);
/* The thread ends (its last moment): the semaphore-locks it holds were
 * signals (semaphore.c). */
void lr_sem_thread_end(lr_thread *self);
/* The holder of a tagged semaphore (a thread's life lock: that thread);
 * -1 when it is not one. */
int lr_pylock_holders(uintptr_t object, uint32_t *out);
/* Before an unbounded wait on one: publishes it (a join, a lock wait) and
 * returns 1, then the caller waits in rounds (lr_wait_deadline,
 * lr_wait_check, lr_wait_done); 0: not one, wait as for any semaphore. */
int lr_pylock_wait_begin(lr_thread *self, void *s);
/* A try that failed: the interpreter is about to block on s (Lock.acquire
 * tries first, with the GIL, then waits without it); the thread's stack
 * is read now, for that wait. */
void lr_pylock_try_failed(lr_thread *self, void *s, void *pc);

/* Blocking: a lock call that found the mutex taken (its trylock failed)
 * waits through these, in rounds of a bounded real wait; between rounds
 * lockrace looks for a cycle of blocked threads (waitfor.c). begin returns
 * 0 when the caller should just make the real blocking call (lockrace not
 * watching, deadlock=off, an error-checking mutex relocked, which fails by
 * itself). check reports a confirmed deadlock and applies the policy. */
static inline int lr_mutex_looks_free(pthread_mutex_t *m)
{
    return __atomic_load_n(&m->__data.__lock, __ATOMIC_RELAXED) == 0;
}
int lr_mutex_wait_begin(lr_thread *self, pthread_mutex_t *m, const lr_acquisition *a);
/* Publishes a wait of another kind (pylock.c): then rounds, as above. */
int lr_wait_start(lr_thread *self, int kind, uintptr_t object, lr_lock *lock, lr_stack_id stack);
int lr_join_wait_begin(lr_thread *self, pthread_t thread, void *pc);
/* The stack of a wait at this call site, unwound once per site and thread. */
lr_stack_id lr_site_stack(lr_thread *self, uintptr_t pc);
/* The same for rwlocks and spinlocks (a taken one: its try failed). */
int lr_lock_wait_begin(lr_thread *self, void *lock, const lr_acquisition *a);
/* For waits that spin rather than sleep: 1 once the round's deadline passed. */
int lr_wait_round_over(const struct timespec *deadline);
const struct timespec *lr_wait_deadline(lr_thread *self, struct timespec *ts);
void lr_wait_check(lr_thread *self);
void lr_wait_done(lr_thread *self);
/* The thread's start routine returned (exited 0) or it called pthread_exit (1). */
void lr_thread_finished(lr_thread_info *info, int exited);
void lr_wait_init(void);

/* Who holds a lock, as thread ids (lr_holder_fn of waitfor.h); the first
 * or only one of them, UINT32_MAX none. */
int lr_lock_holders(uintptr_t object, uint32_t *out, int max);
uint32_t lr_mutex_holder(uintptr_t object);
/* After a deadlock report: ends the process when deadlock=abort. */
void lr_deadlock_policy(void);
/* Starts the watchdog thread (watchdog=1), when none runs, for a thread
 * that has just published a wait; it ends by itself when nobody waits. */
void lr_watchdog_start(lr_thread *self);
/* Ends the watchdog now when the caller is the program's only thread:
 * before unshare or setns calls that need a single-threaded process. */
void lr_watchdog_quiesce(void);
void lr_watchdog_fork_child(void);

/* barrier and semaphore waits (enum lr_wait_kind), published for the watchdog */
void lr_object_wait_enter(lr_thread *self, int kind, void *object, int bounded, void *pc);
void lr_object_wait_exit(lr_thread *self, void *object, int acquired);
/* happens-before without a wait: a semaphore post or try, a condition signal */
void lr_object_release(lr_thread *self, void *object);
void lr_object_acquired(lr_thread *self, void *object);

/* condition waits release the mutex and take it back inside glibc */
typedef struct lr_wait_state {
    uint32_t depth;             /* recursion depth released, 0 if it was not held */
} lr_wait_state;
void lr_cond_destroy(lr_thread *self, pthread_cond_t *c);
lr_wait_state lr_cond_wait_enter(lr_thread *self, pthread_cond_t *c, pthread_mutex_t *m,
                                 int bounded, void *pc);
void lr_cond_wait_exit(lr_thread *self, pthread_cond_t *c, pthread_mutex_t *m, lr_wait_state st,
                       void *pc);

/* At exit, after reports: one line when the executable defines the dynamic
 * annotations itself, so that lockrace never saw them (annotate.c). */
void lr_annotate_exit_note(void);

/* threads */
lr_thread_info *lr_thread_before_create(lr_thread *self);
void lr_thread_started(lr_thread_info *info);
/* The creation of the thread lr_thread_before_create prepared failed. */
void lr_thread_not_created(lr_thread_info *info);
/* The thread about to be joined, for the happens-before of its end (NULL
 * when lockrace does not need it); then the join's result. */
lr_thread_info *lr_thread_joining(lr_thread *self, pthread_t thread);
void lr_thread_joined(lr_thread *self, lr_thread_info *target, int rc);
void lr_thread_named(lr_thread *self, pthread_t thread, const char *name, int rc);

#endif
