/* CPython's locks, from the runtime's side. On glibc, threading.Lock (and
 * the lock inside RLock, Condition, Semaphore, Event, queue.Queue) is a
 * sem_t initialised to 1 that the interpreter made (PyThread_allocate_lock).
 * Python's rules differ from a mutex's: any thread may release a Lock, and
 * a thread may block on a Lock it holds until another releases it (how
 * Condition.wait and many _thread programs wait). Two of the interpreter's
 * own locks are not locks at all: a thread's _tstate_lock is held by that
 * thread for its whole life and released as it ends, so waiting for it is
 * Thread.join().
 *
 * What lockrace keeps of such a semaphore lives in its own unused bytes:
 * glibc's sem_t is 32 bytes, of which its struct new_sem uses the first 16
 * (glibc 2.36, 64-bit). A tag there says which kind it is, who made it (a
 * _tstate_lock: the thread whose life it is) and who holds it now, one
 * store on each acquisition and release, on a line the call itself has
 * just written. Blocking on one is then a wait the deadlock detector
 * understands: a join, a wait for the lock's holder, or (its holder is the
 * waiter) a wait for a release another thread may make. */
#include "runtime/runtime.h"
#include "support/python.h"
#include "detect/waitfor.h"
#include "support/options.h"

#include <errno.h>
#include <string.h>

#define PYLOCK_MAGIC 0x4b4c5950u        /* "PYLK": no mutex's __kind at that offset */

enum { PYLOCK_LOCK = 1, PYLOCK_TSTATE = 2, PYLOCK_WAITER = 3 };

typedef struct pylock_tag {
    uint32_t magic;
    uint32_t kind;
    uint32_t owner;             /* PYLOCK_TSTATE: the thread whose life it is; PYLOCK_WAITER:
                                   the stack it was made at, in Condition.wait; PYLOCK_LOCK:
                                   its lock record's number, so that its calls need no
                                   registry lookup */
    uint32_t holder;            /* thread id + 1 of the thread that acquired it last, 0 none */
} pylock_tag;

_Static_assert(sizeof(sem_t) >= 16 + sizeof(pylock_tag), "sem_t has room after glibc's new_sem");

static pylock_tag *tag_of(void *s)
{
    pylock_tag *t = (pylock_tag *)((char *)s + 16);
    return __atomic_load_n(&t->magic, __ATOMIC_RELAXED) == PYLOCK_MAGIC ? t : NULL;
}

/* The line the Lock call being made was keyed by (lr_pylock_site), for a
 * try that fails: read once. Cleared as the call ends. */
static __thread struct {
    void *s;
    uintptr_t position;
} trying __attribute__((tls_model("initial-exec")));

/* The lock's Python creation frame: the innermost Python frame of the
 * stack where it was first seen. */
static int made_in(lr_stack_id stack, lr_py_frame *f)
{
    const uintptr_t *pcs;
    int n = lr_stack_frames(stack, &pcs);
    if (n == 0 || !lr_python_interpreter_code(pcs[0] - 1))
        return -1;              /* not made by the interpreter itself */
    for (int i = 0; i < n; i++)
        if (lr_python_frame(pcs[i], f) == 0)
            return 0;
    f->file = f->function = "";
    f->line = 0;
    return 0;                   /* the interpreter's, but no Python frame (start-up) */
}

static int ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), k = strlen(suffix);
    return n >= k && !strcmp(s + n - k, suffix);
}

void lr_pylock_made(lr_thread *self, void *s, unsigned value)
{
    pylock_tag *t = tag_of(s);
    if (t)
        memset(t, 0, sizeof *t);        /* memory of an earlier semaphore */
    if (!self || value != 1 || !lr_python_present())
        return;
    lr_lock *l = lr_lock_find((uintptr_t)s);
    lr_py_frame f;
    if (!l || l->type != LR_SEMAPHORE || made_in(l->first_seen, &f) < 0)
        return;
    t = (pylock_tag *)((char *)s + 16);
    t->kind = PYLOCK_LOCK;
    t->holder = 0;
    t->owner = lr_lock_number(l);
    if (ends_with(f.file, "threading.py") &&
        (!strcmp(f.function, "Thread._set_tstate_lock") || !strcmp(f.function, "_set_tstate_lock"))) {
        /* a thread's life, not a lock: it leaves the lock-order graph */
        t->kind = PYLOCK_TSTATE;
        t->owner = self->info->id;
        lr_sync_destroyed(self, s, 0);
    } else if (ends_with(f.file, "threading.py") &&
               (!strcmp(f.function, "Condition.wait") || !strcmp(f.function, "wait"))) {
        /* Condition.wait's waiter: made held, it is how the waiting thread
         * sleeps until notify() releases it; a signal, not a lock */
        t->kind = PYLOCK_WAITER;
        t->owner = l->first_seen;
        lr_sync_destroyed(self, s, 0);
    }
    __atomic_store_n(&t->magic, PYLOCK_MAGIC, __ATOMIC_RELEASE);
}

void lr_pylock_destroyed(void *s)
{
    pylock_tag *t = tag_of(s);
    if (t)
        memset(t, 0, sizeof *t);
}

/* The Lock is the calling thread's now: its holder, and the try over. */
static inline void now_held(lr_thread *self, void *s)
{
    trying.s = NULL;
    pylock_tag *t = tag_of(s);
    if (t)
        __atomic_store_n(&t->holder, self->info->id + 1, __ATOMIC_RELAXED);
}

void lr_pylock_acquired(lr_thread *self, void *s, int rc)
{
    if (self && rc == 0)
        now_held(self, s);
    else
        trying.s = NULL;
}

void lr_pylock_released(void *s)
{
    pylock_tag *t = tag_of(s);
    if (t)
        __atomic_store_n(&t->holder, 0, __ATOMIC_RELAXED);
}

int lr_pylock_tagged(void *s)
{
    return tag_of(s) != NULL;
}

int lr_pylock_is_lock(void *s)
{
    pylock_tag *t = tag_of(s);
    return t && t->kind == PYLOCK_LOCK;
}

lr_lock *lr_pylock_record(void *s)
{
    pylock_tag *t = tag_of(s);
    lr_lock *l = t && t->kind == PYLOCK_LOCK ? lr_lock_of_id(t->owner) : NULL;
    /* the record may have been forgotten since (a lock that became a
     * signal), or made anew at another address */
    return l && __atomic_load_n(&l->addr, __ATOMIC_RELAXED) == (uintptr_t)s ? l : NULL;
}

int lr_pylock_holders(uintptr_t object, uint32_t *out)
{
    pylock_tag *t = tag_of((void *)object);
    if (!t)
        return -1;
    if (t->kind == PYLOCK_TSTATE) {
        out[0] = t->owner;
        return 1;
    }
    uint32_t holder = __atomic_load_n(&t->holder, __ATOMIC_RELAXED);
    if (!holder)
        return 0;
    out[0] = holder - 1;
    return 1;
}

/* Where the thread is about to block: its try, just before, held the GIL
 * and so saw the Python frames and line; the blocking wait that follows
 * does not (the interpreter lets the GIL go first; 3.10 and 3.11 cannot
 * even tell this thread's frames then). */
static __thread struct {
    void *s;
    lr_stack_id stack;
    uintptr_t position;         /* the try's line (lr_python_position) */
} pending __attribute__((tls_model("initial-exec")));

/* A Lock's call site: the Python line, read now, or the try's before a
 * wait (lr_pylock_site). */
static void *lock_site(lr_thread *self, void *s, void *pc)
{
    /* inside lockrace: what the interpreter's function it calls reads
     * (the GIL's holder) is not the program's access (a watched field) */
    lr_enter(self);
    uintptr_t position = lr_python_position();
    lr_leave(self);
    trying.s = s;
    trying.position = position;
    if (!position && pending.s == s)
        position = pending.position;    /* the wait after a try: the try's line */
    /* the instruction's address, in a code object: no C call site's */
    return position ? (void *)position : pc;
}

void *lr_pylock_site(lr_thread *self, void *s, void *pc)
{
    return lr_pylock_is_lock(s) ? lock_site(self, s, pc) : pc;
}

/* Every Lock.acquire() begins with a try, under the GIL, and nearly every
 * one is in a context its thread has met, or on a Lock the thread holds
 * (Condition._is_owned, in every notify and wait of a Condition on a Lock,
 * and so of every queue.Queue): the tag is read once, the lock record
 * found from it, and the context looked up in the thread's table, which is
 * what lr_sem_before_wait does in five calls (callgrind, README.md). Any
 * other case takes that path: a new context, holes in the held stack. */
int lr_pylock_known(lr_thread *self, void *s, void *pc, lr_known *k)
{
    pylock_tag *t = tag_of(s);
    if (!t || t->kind != PYLOCK_LOCK || self->hole_floor != LR_HELD_NO_HOLE)
        return 0;
    lr_held_drop_stale(self);
    lr_lock *l = lr_lock_of_id(t->owner);
    if (!l || __atomic_load_n(&l->addr, __ATOMIC_RELAXED) != (uintptr_t)s)
        return 0;
    if (lr_held_depth(self, (uintptr_t)s))
        return LR_PYLOCK_HELD;  /* no acquisition: it stays a lock (lr_sem_before_wait) */
    uint64_t key = lr_context_key(self->chain, (uintptr_t)s, LR_BLOCKING,
                                  (uintptr_t)lock_site(self, s, pc));
    const lr_ctx_slot *c = lr_order_slot(self, key);
    if (!c || c->lock != l || c->id != l->id || c->token == LR_REENTRY)
        return 0;
    k->lock = l;
    k->id = c->id;
    k->token = c->token;
    return LR_PYLOCK_KNOWN;
}

/* A try lr_pylock_known said was known succeeded: what
 * lr_pylock_acquired and lr_sem_after_wait do. A Lock this thread held
 * was released by another meanwhile: nothing is pushed, as before. */
void lr_pylock_known_acquired(lr_thread *self, void *s, int known, const lr_known *k)
{
    now_held(self, s);
    lr_race_acquire(self, (uintptr_t)s);
    if (known != LR_PYLOCK_KNOWN)
        return;
    /* the lock may have ended as a lock meanwhile (lr_sem_after_wait) */
    if (k->lock->id == k->id && __atomic_load_n(&k->lock->addr, __ATOMIC_ACQUIRE) == (uintptr_t)s)
        lr_held_push(self, k->lock, k->id, (uintptr_t)s, k->token, LR_BLOCKING, 0);
}

/* Lock.release() by the thread that took it last, with no hole in its
 * held stack: lr_sem_post's work for it without looking the lock up (a
 * Python Lock is proven a lock when it is made). 0: nothing done. */
int lr_pylock_released_top(lr_thread *self, void *s)
{
    pylock_tag *t = tag_of(s);
    const lr_held *top = self->nheld ? &self->held[self->nheld - 1] : NULL;
    /* the pop checks that the top is this Lock, held once, no hole below */
    if (!t || t->kind != PYLOCK_LOCK || !top || !top->lock || top->lock->id != top->id ||
        !__atomic_load_n(&top->lock->proven, __ATOMIC_ACQUIRE) || !lr_held_pop_top(self, (uintptr_t)s))
        return 0;
    __atomic_store_n(&t->holder, 0, __ATOMIC_RELAXED);
    lr_race_release(self, (uintptr_t)s);
    return 1;
}

void lr_pylock_try_failed(lr_thread *self, void *s, void *pc)
{
    pylock_tag *t = self ? tag_of(s) : NULL;
    if (!t)
        return;
    /* Where the thread is about to wait, read now: the try held the GIL,
     * the wait that follows does not. A Condition.wait has the stack its
     * waiter was made at, read by this thread as it made it. Any other
     * wait reads its own: the interpreter takes every Lock from one C call
     * site, so a stack learnt before (the lock-order context's, the first
     * seen for the same lock under the same locks by any thread at any
     * Python line; or the last from this call site) names some thread's
     * line, not necessarily this one's. A try on a Lock the thread holds
     * itself is most often no wait at all (Condition._is_owned tries the
     * Lock of every notify and wait): it reads its stack only when nobody
     * is left to release the Lock, a self-deadlock reported at once, and
     * otherwise has none. Other failed tries are contended acquisitions,
     * and a system call follows. */
    pending.s = s;
    pending.stack = 0;
    pending.position = 0;
    if (t->kind == PYLOCK_WAITER) {
        pending.stack = t->owner;
        return;
    }
    uint32_t holder = __atomic_load_n(&t->holder, __ATOMIC_RELAXED);
    int own = t->kind == PYLOCK_TSTATE ? t->owner == self->info->id : holder == self->info->id + 1;
    /* The try's line keys the wait on a Lock another thread holds
     * (lr_pylock_site); a wait on one's own Lock, or on a thread, is keyed
     * by nothing (semaphore.c) */
    if (t->kind == PYLOCK_LOCK && !own) {
        if (trying.s == s) {
            pending.position = trying.position;
        } else {
            lr_enter(self);             /* as in lr_pylock_site */
            pending.position = lr_python_position();
            lr_leave(self);
        }
    }
    if (lr_opt.deadlock == LR_DEADLOCK_OFF || (own && (t->kind == PYLOCK_TSTATE || lr_thread_others_run(self->info))))
        return;
    /* inside lockrace: the interpreter's functions it calls are not the
     * program's accesses (a watched field of the interpreter's) */
    int saved = errno;
    lr_site_begin(self, pc);            /* the wait's stack, kept per call path */
    lr_enter(self);
    if (lr_python_readable())
        pending.stack = lr_stack_capture();
    lr_leave(self);
    lr_site_end(self);
    errno = saved;
}

int lr_pylock_wait_begin(lr_thread *self, void *s)
{
    pylock_tag *t = self && lr_opt.deadlock != LR_DEADLOCK_OFF ? tag_of(s) : NULL;
    if (!t)
        return 0;
    int saved = errno;
    /* No stack read at the try (a wait with no try before it, or the
     * frames could not be read): none, rather than one that another Python
     * line left at the interpreter's call site */
    lr_stack_id stack = pending.s == s ? pending.stack : 0;
    pending.s = NULL;
    uint32_t holder = __atomic_load_n(&t->holder, __ATOMIC_RELAXED);
    int kind = LR_WAIT_LOCK;
    uintptr_t object = (uintptr_t)s;
    lr_lock *lock = NULL;
    if (t->kind == PYLOCK_TSTATE && t->owner != self->info->id) {
        kind = LR_WAIT_JOIN;
        object = t->owner;
    } else if (t->kind == PYLOCK_WAITER) {
        kind = LR_WAIT_COND;        /* Condition.wait: the watchdog says when no thread can notify */
    } else if (holder != self->info->id + 1 || !lr_thread_others_run(self->info)) {
        /* a wait for the holder; or for itself, with nobody left to release it */
        lock = lr_lock_find((uintptr_t)s);
    } else {
        /* its own lock: another thread may release it; the watchdog says
         * when none can */
        kind = LR_WAIT_COND;
    }
    lr_wait_start(self, kind, object, lock, stack);
    errno = saved;
    return 1;
}
