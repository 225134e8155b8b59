/* API misuse (misuse.h). Every check reads the object itself before it
 * says anything: lockrace may have missed a lock call (made before it
 * started, or by lockrace's own libraries), and a report must still be
 * true. All of this runs off the hot path: on an unlock that did not match
 * the thread's held locks, on a lock call that found its mutex taken, on
 * init, destroy and condition waits, and when a thread ends. */
#include "detect/misuse.h"
#include "support/arena.h"
#include "support/ilock.h"
#include "model/held.h"
#include "report/report.h"
#include "support/stack.h"
#include "support/util.h"

#include <errno.h>
#include <limits.h>
#include <string.h>
#include <time.h>

/* ---- once per kind and call site ---- */

#define SEEN 1024
static uint64_t seen[SEEN];
static lr_ilock seen_lock = LR_ILOCK_INIT;

static int first_time(int kind, lr_stack_id stack)
{
    /* a stack shared from another thread is the same path (support/stack.h) */
    uint64_t key = ((uint64_t)lr_stack_plain(stack) << 8 | (uint64_t)kind) + 1;
    int fresh = 1;
    lr_ilock_take(&seen_lock);
    uint32_t i = (uint32_t)((key * 0x9e3779b97f4a7c15ull) >> 54);
    for (uint32_t n = 0; n < SEEN; n++, i = (i + 1) % SEEN) {
        if (seen[i] == key) {
            fresh = 0;
            break;
        }
        if (seen[i] == 0) {
            seen[i] = key;
            break;
        }
    }
    lr_ilock_drop(&seen_lock);
    return fresh;
}

/* The earlier event a call conflicts with. */
struct earlier {
    uint32_t thread;            /* UINT32_MAX: none */
    lr_stack_id stack;
};

/* ---- where objects were destroyed ---- */

/* Destroyed mutexes and semaphores, by address, until initialised again:
 * small direct-mapped tables (an entry pushed out is simply not checked). */
#define DESTROYED 256

typedef struct destroyed_at {
    uintptr_t addr;
    lr_stack_id stack;
    uint32_t thread;
} destroyed_at;

/* bad_unlocks: where a mutex nobody held was unlocked, for its destroy */
static destroyed_at dead_mutexes[DESTROYED], dead_sems[DESTROYED], bad_unlocks[DESTROYED];
static int any_dead_sem;

static destroyed_at *slot_of(destroyed_at *table, uintptr_t addr)
{
    return &table[(addr * 0x9e3779b97f4a7c15ull) >> 56];
}

static void remember(destroyed_at *table, lr_thread *self, uintptr_t addr, int where)
{
    destroyed_at *d = slot_of(table, addr);
    d->stack = 0;
    if (where) {
        lr_enter(self);
        d->stack = lr_stack_capture();
        lr_leave(self);
    }
    d->thread = self->info->id;
    __atomic_store_n(&d->addr, addr, __ATOMIC_RELEASE);
}

/* The destroy of addr, if remembered: a NULL thread otherwise. */
static const destroyed_at *recall(destroyed_at *table, uintptr_t addr)
{
    const destroyed_at *d = slot_of(table, addr);
    return __atomic_load_n(&d->addr, __ATOMIC_ACQUIRE) == addr ? d : NULL;
}

static void forget_destroy(destroyed_at *table, uintptr_t addr)
{
    destroyed_at *d = slot_of(table, addr);
    uintptr_t expected = addr;
    __atomic_compare_exchange_n(&d->addr, &expected, 0, 0, __ATOMIC_RELEASE, __ATOMIC_RELAXED);
}

/* ---- where objects were initialised ---- */

/* Mutexes, rwlocks and conditions initialised and not destroyed, by
 * address: a direct-mapped table again (an entry pushed out is not
 * checked). An init of another kind of object at the address replaces
 * the entry, a destroy of any kind removes it. */
#define INITIALISED 1024

typedef struct init_at {
    uintptr_t addr;
    lr_stack_id stack;
    uint32_t thread;
    int kind;                   /* enum lr_obj_kind */
} init_at;

static init_at inits[INITIALISED];
static lr_ilock inits_lock = LR_ILOCK_INIT;

static init_at *init_slot(uintptr_t addr)
{
    return &inits[(addr * 0x9e3779b97f4a7c15ull) >> 54];
}

static void forget_init(uintptr_t addr)
{
    init_at *e = init_slot(addr);
    lr_ilock_take(&inits_lock);
    if (e->addr == addr)
        e->addr = 0;
    lr_ilock_drop(&inits_lock);
}

static void report(lr_thread *self, int kind, uintptr_t lock, int type, uintptr_t object,
                   struct earlier e, uintptr_t other);

/* In a forked child: lockrace's locks may have been held by threads that
 * are not there, and every object initialised before the fork may be
 * initialised again, which is how a child recovers the locks other
 * threads held at the fork (CPython does it for all of its own, glibc for
 * its own): that is no re-initialisation. */
void lr_misuse_fork_child(void)
{
    lr_ilock_reset(&seen_lock);
    lr_ilock_reset(&inits_lock);
    memset(inits, 0, sizeof inits);
}

/* POSIX leaves an init of an initialised object undefined. Memory that
 * went away (freed, a frame that returned) and came back at the same
 * address looks the same to lockrace, which does not see free(): only an
 * object in static storage, which cannot go away, is reported. */
/* addr is on the calling thread's stack, above its present frame (a
 * function's local mutex, initialised again at each call): not static
 * storage, and no need to ask the loader (dl_iterate_phdr walks every
 * module under its lock). */
static int on_own_stack(const lr_thread *self, uintptr_t addr)
{
    uintptr_t base = self->info->stack_base;
    return base && addr >= (uintptr_t)__builtin_frame_address(0) && addr < base;
}

void lr_misuse_initialised(lr_thread *self, void *obj, int kind, int rc)
{
    if (!self || rc != 0)
        return;
    uintptr_t addr = (uintptr_t)obj;
    init_at *e = init_slot(addr), old;
    /* only a mutex's, rwlock's or condition's init stack is ever shown (as
     * the earlier init of a re-initialisation): a semaphore's entry says
     * that it was initialised, no more. Python makes a semaphore for every
     * Lock, every Condition.wait: that stack cost one capture each. */
    lr_stack_id stack = 0;
    if (kind != LR_OBJ_OTHER && kind != LR_OBJ_SEM) {
        lr_enter(self);
        stack = lr_stack_capture();
        lr_leave(self);
    }
    lr_ilock_take(&inits_lock);
    old = *e;
    *e = (init_at){ .addr = addr, .stack = stack, .thread = self->info->id, .kind = kind };
    lr_ilock_drop(&inits_lock);
    /* semaphores are recorded for lr_misuse_sem_use, not checked here */
    if (kind == LR_OBJ_OTHER || kind == LR_OBJ_SEM || old.addr != addr || old.kind != kind ||
        on_own_stack(self, addr) || !lr_static_storage(addr))
        return;
    struct earlier before = { old.thread, old.stack };
    if (kind == LR_OBJ_COND)
        report(self, LR_MISUSE_REINIT, 0, 0, addr, before, 0);
    else
        report(self, LR_MISUSE_REINIT, addr,
               kind == LR_OBJ_RWLOCK ? LR_RWLOCK : ((pthread_mutex_t *)obj)->__data.__kind & 3, 0,
               before, 0);
}

void lr_misuse_uninitialised(lr_thread *self, void *obj, int rc)
{
    if (self && rc == 0)
        forget_init((uintptr_t)obj);
}

void lr_misuse_mutex_destroyed(lr_thread *self, pthread_mutex_t *m)
{
    if (self)
        remember(dead_mutexes, self, (uintptr_t)m, 1);
}

/* ---- the report ---- */

typedef struct earlier earlier;

static const earlier none = { UINT32_MAX, 0 };

static void describe(lr_report_lock *out, uintptr_t addr, int type)
{
    lr_lock *l = lr_lock_find(addr);
    *out = (lr_report_lock){ .addr = addr, .type = type };
    if (l) {
        out->id = l->id;
        out->name = l->name;
        out->first_seen = l->first_seen;
        out->first_thread = l->first_thread;
    }
}

/* Reports misuse kind by self at stack: about lock (a mutex, rwlock or
 * spinlock, 0 for none) and object (a condition or barrier, 0 for none),
 * with the earlier event, and other (a second mutex, 0). */
static void report_with_stack(lr_thread *self, int kind, uintptr_t lock, int type, uintptr_t object,
                              earlier e, uintptr_t other, lr_stack_id stack)
{
    int saved = errno;
    lr_enter(self);
    if (first_time(kind, stack ? stack : e.stack)) {
        size_t nlocks = (lock != 0) + (other != 0);
        lr_report *r = lr_report_new(LR_REPORT_MISUSE, nlocks, 0, e.thread == UINT32_MAX ? 1 : 2, 0);
        if (r) {
            r->misuse = kind;
            if (lock)
                describe(&r->locks[0], lock, type);
            if (other)
                describe(&r->locks[nlocks - 1], other, LR_NORMAL);
            r->threads[0] = (lr_report_thread){ .id = self->info->id, .wait_stack = stack,
                                                .wait_object = object, .wait_lock = -1 };
            if (e.thread != UINT32_MAX)
                r->threads[1] = (lr_report_thread){ .id = e.thread, .wait_stack = e.stack,
                                                    .wait_lock = -1 };
            lr_report_emit(r);
            lr_report_free(r);
        }
    }
    lr_leave(self);
    errno = saved;
}

/* The same at the caller's stack. */
static void report(lr_thread *self, int kind, uintptr_t lock, int type, uintptr_t object,
                   struct earlier e, uintptr_t other)
{
    int saved = errno;
    lr_enter(self);
    lr_stack_id stack = lr_stack_capture();
    lr_leave(self);
    errno = saved;
    report_with_stack(self, kind, lock, type, object, e, other, stack);
}

/* Where a thread holding addr took it, from its held locks. */
static earlier taken_by(lr_thread_info *holder, uintptr_t addr)
{
    earlier e = none;
    lr_thread *t = holder ? __atomic_load_n(&holder->state, __ATOMIC_ACQUIRE) : NULL;
    if (!t)
        return e;
    e.thread = holder->id;
    uint32_t n = __atomic_load_n(&t->nheld, __ATOMIC_ACQUIRE);
    for (uint32_t i = 0; i < n && i < t->held_cap; i++)
        if (t->held[i].addr == addr)
            e.stack = t->held[i].stack;
    return e;
}

static earlier holder_of(pid_t owner, uintptr_t addr)
{
    return owner ? taken_by(lr_thread_info_by_tid(owner), addr) : none;
}

/* ---- mutexes ---- */

void lr_misuse_mutex_unlock(lr_thread *self, pthread_mutex_t *m)
{
    if (!self || lr_held_depth(self, (uintptr_t)m))
        return;
    pid_t owner = __atomic_load_n(&m->__data.__owner, __ATOMIC_RELAXED);
    if (owner == self->info->tid || (m->__data.__kind & 128))  /* held, or process-shared */
        return;
    if (!m->__data.__lock)
        remember(bad_unlocks, self, (uintptr_t)m, 1);
    report(self, LR_MISUSE_UNLOCK_NOT_HELD, (uintptr_t)m, m->__data.__kind & 3, 0,
           m->__data.__lock ? holder_of(owner, (uintptr_t)m) : none, 0);
}

void lr_misuse_mutex_lock(lr_thread *self, pthread_mutex_t *m)
{
    if (!self)
        return;
    if (lr_mutex_destroyed(m)) {
        /* without a destroy on record, the bytes only look destroyed: never
         * initialised (0xff fill), or overwritten */
        const destroyed_at *d = recall(dead_mutexes, (uintptr_t)m);
        if (d)
            report(self, LR_MISUSE_LOCK_DESTROYED, (uintptr_t)m, LR_NORMAL, 0,
                   (earlier){ d->thread, d->stack }, 0);
        else
            report(self, LR_MISUSE_LOCK_INVALID, (uintptr_t)m, LR_NORMAL, 0, none, 0);
        return;
    }
    if ((m->__data.__kind & 3) == PTHREAD_MUTEX_ERRORCHECK && m->__data.__owner == self->info->tid)
        report(self, LR_MISUSE_RELOCK, (uintptr_t)m, LR_ERRORCHECK, 0,
               taken_by(self->info, (uintptr_t)m), 0);
}

/* Only a mutex some thread is known to hold: init is also called on fresh
 * memory, whose bytes mean nothing. A global or static one is initialised
 * again while held; elsewhere the held mutex's memory may as well have
 * gone away while it was locked (a frame that returned, a free: lockrace
 * sees neither) and come back, and the report says both. */
void lr_misuse_mutex_init(lr_thread *self, pthread_mutex_t *m)
{
    if (!self || lr_mutex_destroyed(m) || !lr_lock_find((uintptr_t)m) || !m->__data.__lock)
        return;
    earlier e = holder_of(m->__data.__owner, (uintptr_t)m);
    if (e.thread != UINT32_MAX && e.stack) {
        report(self, lr_static_storage((uintptr_t)m) ? LR_MISUSE_REINIT_LOCKED : LR_MISUSE_REUSED_LOCKED,
               (uintptr_t)m, m->__data.__kind & 3, 0, e, 0);
        forget_init((uintptr_t)m);      /* one report for the call */
    }
}

/* glibc refuses (EBUSY) when __nusers is not 0: its own test. An unlock
 * of a normal mutex nobody held takes __nusers below 0, so a mutex that is
 * not locked (__lock 0) is refused too: that is the bad unlock's doing,
 * not a destroy of a locked mutex. */
void lr_misuse_mutex_destroy(lr_thread *self, pthread_mutex_t *m)
{
    if (!self || lr_mutex_destroyed(m) || (m->__data.__kind & 16) || m->__data.__nusers == 0)
        return;
    if (!__atomic_load_n(&m->__data.__lock, __ATOMIC_RELAXED) && (int)m->__data.__nusers < 0) {
        const destroyed_at *d = recall(bad_unlocks, (uintptr_t)m);
        report(self, LR_MISUSE_DESTROY_MISCOUNTED, (uintptr_t)m, m->__data.__kind & 3, 0,
               d ? (earlier){ d->thread, d->stack } : none, 0);
        return;
    }
    report(self, LR_MISUSE_DESTROY_LOCKED, (uintptr_t)m, m->__data.__kind & 3, 0,
           holder_of(m->__data.__owner, (uintptr_t)m), 0);
}

/* ---- rwlocks ---- */

/* glibc: __readers counts readers from bit 3, bit 1 is "write locked". */
void lr_misuse_rwlock_unlock(lr_thread *self, pthread_rwlock_t *rw)
{
    if (!self || lr_held_depth(self, (uintptr_t)rw))
        return;
    unsigned readers = __atomic_load_n(&rw->__data.__readers, __ATOMIC_RELAXED);
    if ((readers >> 3) == 0 && !(readers & 2) && rw->__data.__cur_writer == 0)
        report(self, LR_MISUSE_UNLOCK_NOT_LOCKED, (uintptr_t)rw, LR_RWLOCK, 0, none, 0);
}

/* A read or write lock that glibc refused with EDEADLK: it does so at once
 * when the caller is the rwlock's writer (__cur_writer), so nothing ever
 * blocks and the deadlock engine sees nothing. Checked again here, so the
 * report is true whatever else returned EDEADLK. */
void lr_misuse_rwlock_relock(lr_thread *self, pthread_rwlock_t *rw)
{
    if (!self || __atomic_load_n(&rw->__data.__cur_writer, __ATOMIC_RELAXED) != self->info->tid)
        return;
    report(self, LR_MISUSE_RWLOCK_RELOCK, (uintptr_t)rw, LR_RWLOCK, 0,
           taken_by(self->info, (uintptr_t)rw), 0);
}

/* ---- conditions ---- */

int lr_misuse_cond_wait(lr_thread *self, pthread_cond_t *c, pthread_mutex_t *m)
{
    if (!self)
        return 0;
    if (!lr_held_depth(self, (uintptr_t)m) && m->__data.__owner != self->info->tid &&
        !(m->__data.__kind & 128)) {
        report(self, LR_MISUSE_COND_UNHELD, (uintptr_t)m, m->__data.__kind & 3, (uintptr_t)c,
               none, 0);
        return 1;
    }
    return 0;
}

/* Two waits that both saw the other (each published before it looked)
 * are one finding: only the first of the two says it. Keyed on the two
 * waits (thread and wait number), so a later pair is new. */
static int first_of_pair(uint32_t a, uint32_t seq_a, uint32_t b, uint32_t seq_b)
{
    static uint64_t said[256];
    uint64_t x = (uint64_t)a << 32 | seq_a, y = (uint64_t)b << 32 | seq_b;
    uint64_t key = ((x < y ? x : y) * 0x9e3779b97f4a7c15ull ^ (x < y ? y : x)) | 1;
    uint32_t i = (uint32_t)(key >> 56);
    for (uint32_t n = 0; n < 256; n++, i = (i + 1) % 256) {
        uint64_t expected = 0;
        if (__atomic_compare_exchange_n(&said[i], &expected, key, 0, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE))
            return 1;
        if (expected == key)
            return 0;
    }
    return 1;
}

/* Called after this thread published its own wait on c (lr_wait_begin's
 * store is sequentially consistent, so are the loads here): of two waits
 * that start at the same moment, at least one sees the other. Before, a
 * thread that looked before the other published and was seen by no one
 * made the miss that issue 20 item 5 describes. */
void lr_misuse_cond_waiting(lr_thread *self, pthread_cond_t *c, pthread_mutex_t *m)
{
    if (!self)
        return;
    lr_lock *mine = lr_lock_find((uintptr_t)m);
    uint32_t my_seq = __atomic_load_n(&self->info->wait.seq, __ATOMIC_RELAXED);
    lr_thread_walk walk = lr_thread_walk_start();
    for (lr_thread_info *t; mine && (t = lr_thread_walk_next(&walk));) {
        uint32_t id = t->id;
        if (t == self->info || __atomic_load_n(&t->wait.kind, __ATOMIC_SEQ_CST) != LR_WAIT_COND ||
            t->wait.object != (uintptr_t)c)
            continue;
        lr_lock *theirs = t->wait.lock;
        uint32_t seq = __atomic_load_n(&t->wait.seq, __ATOMIC_ACQUIRE);
        if (theirs && theirs != mine && theirs->addr && __atomic_load_n(&t->wait.kind, __ATOMIC_ACQUIRE) == LR_WAIT_COND) {
            if (first_of_pair(self->info->id, my_seq, id, seq))
                report(self, LR_MISUSE_COND_TWO_MUTEXES, (uintptr_t)m, m->__data.__kind & 3,
                       (uintptr_t)c, (earlier){ id, t->wait.stack }, theirs->addr);
            return;
        }
    }
}

/* glibc's pthread_cond_destroy waits until every waiter has left (__wrefs
 * counts them from bit 3). A waiter that was signalled leaves at once; one
 * still there after a grace period, and known to lockrace as blocked in
 * that same wait all along, never will: the destroy would hang. Costs
 * nothing unless the condition has waiters when it is destroyed. */
int lr_misuse_cond_destroy(lr_thread *self, pthread_cond_t *c)
{
    if (!self || (__atomic_load_n(&c->__data.__wrefs, __ATOMIC_ACQUIRE) >> 3) == 0)
        return 0;
    uint32_t seqs[64], ids[64], k = 0;
    lr_thread_walk walk = lr_thread_walk_start();
    for (lr_thread_info *t; k < 64 && (t = lr_thread_walk_next(&walk));) {
        uint32_t id = t->id;
        if (t != self->info && __atomic_load_n(&t->wait.kind, __ATOMIC_ACQUIRE) == LR_WAIT_COND &&
            t->wait.object == (uintptr_t)c && !t->wait.bounded) {
            ids[k] = id;
            seqs[k++] = __atomic_load_n(&t->wait.seq, __ATOMIC_ACQUIRE);
        }
    }
    /* pthread_cond_destroy is no cancellation point: nanosleep is */
    int cancel = lr_cancel_off();
    for (int round = 0; k && round < 20; round++) {
        struct timespec ten_ms = { 0, 10 * 1000 * 1000 };
        nanosleep(&ten_ms, NULL);
        if ((__atomic_load_n(&c->__data.__wrefs, __ATOMIC_ACQUIRE) >> 3) == 0)
            break;
    }
    lr_cancel_restore(cancel);
    if ((__atomic_load_n(&c->__data.__wrefs, __ATOMIC_ACQUIRE) >> 3) == 0)
        return 0;
    for (uint32_t i = 0; i < k; i++) {
        lr_thread_info *t = lr_thread_info_get(ids[i]);
        if (__atomic_load_n(&t->wait.kind, __ATOMIC_ACQUIRE) == LR_WAIT_COND &&
            t->wait.object == (uintptr_t)c && __atomic_load_n(&t->wait.seq, __ATOMIC_ACQUIRE) == seqs[i]) {
            report(self, LR_MISUSE_COND_DESTROY_WAITED, 0, 0, (uintptr_t)c,
                   (earlier){ ids[i], t->wait.stack }, 0);
            return 1;
        }
    }
    return 0;
}

/* ---- threads and barriers ---- */

/* Semaphore-locks are left out (a handed-over semaphore is not a lock
 * left held), and so are robust mutexes (their next owner is told). */
/* The object's own state names this thread as its holder (a lock taken
 * through lockrace may be released behind its back, by libc's function
 * called directly, and its memory reused since). Only a mutex's owner and
 * an rwlock's writer say so; a read lock or a spinlock cannot be told
 * from other bytes, and is not claimed. */
static int still_held(const lr_thread *self, const lr_held *h)
{
    pid_t tid = self->info->tid;
    if (h->lock->type == LR_RWLOCK)
        return !h->shared && ((const pthread_rwlock_t *)h->addr)->__data.__cur_writer == tid;
    return h->lock->type <= LR_ADAPTIVE && ((const pthread_mutex_t *)h->addr)->__data.__owner == tid;
}

static void ended_holding(lr_thread *self, lr_stack_id stack, int main)
{
    for (uint32_t i = 0; i < self->nheld; i++) {
        const lr_held *h = &self->held[i];
        if (!h->lock || h->lock->id != h->id || h->lock->type == LR_SEMAPHORE)
            continue;
        /* main: a trylock left held at exit is a probe ("is it free?"), and
         * only what the object itself says is reported */
        if (main && (h->how == LR_TRY || !still_held(self, h)))
            continue;
        if (h->lock->type <= LR_ADAPTIVE && (((pthread_mutex_t *)h->addr)->__data.__kind & 16))
            continue;
        report_with_stack(self, LR_MISUSE_EXIT_HOLDING, h->addr, h->lock->type, 0,
                          (earlier){ self->info->id, h->stack }, 0, stack);
        return;
    }
}

/* main's end is the process's: lr_misuse_main_end. */
void lr_misuse_thread_end(lr_thread *self, lr_stack_id exit_stack)
{
    if (self && self->nheld && self->info->id != 0)
        ended_holding(self, exit_stack, 0);
}

/* Only the locks main took itself and still holds. No stack of the call:
 * this runs in an exit handler, under libc's exit(), whose caller is main
 * or libc's own caller of main; where each lock was taken is the stack
 * that matters. */
void lr_misuse_main_end(lr_thread *self)
{
    if (self && self->nheld && self->info->id == 0)
        ended_holding(self, 0, 1);
}

void lr_misuse_barrier_init(lr_thread *self, pthread_barrier_t *b, unsigned count)
{
    if (self && count == 0)
        report(self, LR_MISUSE_BARRIER_ZERO, 0, 0, (uintptr_t)b, none, 0);
}

/* ---- semaphores ---- */

/* glibc's sem_t: the value in the low 32 bits of its first word, the
 * number of blocked waiters in the high 32. */
static uint64_t sem_word(const sem_t *s)
{
    return __atomic_load_n((const uint64_t *)(const void *)s, __ATOMIC_ACQUIRE);
}

/* Waiters with nothing to take: they stay blocked on memory being freed. */
void lr_misuse_sem_destroy(lr_thread *self, sem_t *s)
{
    uint64_t w = sem_word(s);
    if (self && (w >> 32) != 0 && (uint32_t)w == 0)
        report(self, LR_MISUSE_SEM_DESTROY_WAITED, 0, 0, (uintptr_t)s, none, 0);
}

void lr_misuse_sem_destroyed(lr_thread *self, sem_t *s, int where)
{
    if (!self)
        return;
    remember(dead_sems, self, (uintptr_t)s, where);
    __atomic_store_n(&any_dead_sem, 1, __ATOMIC_RELAXED);
    lr_misuse_uninitialised(self, s, 0);
}

void lr_misuse_sem_init(lr_thread *self, sem_t *s)
{
    forget_destroy(dead_sems, (uintptr_t)s);
    lr_misuse_initialised(self, s, LR_OBJ_SEM, 0);
}

/* glibc's sem_t (64-bit): the value never exceeds SEM_VALUE_MAX (a post
 * there fails with EOVERFLOW) and the private field is 0 (shared) or
 * FUTEX_PRIVATE_FLAG. Bytes that break either were never a semaphore. */
static int sem_impossible(const sem_t *s)
{
    uint32_t value = (uint32_t)sem_word(s);
    int private = __atomic_load_n((const int *)(const void *)s + 2, __ATOMIC_RELAXED);
    return value > SEM_VALUE_MAX || (private != 0 && private != 128);
}

/* Only one lockrace never saw initialised: one it saw was overwritten
 * since, which these bytes alone cannot tell from a layout lockrace
 * misreads. */
static int sem_seen_initialised(uintptr_t addr)
{
    init_at *e = init_slot(addr);
    lr_ilock_take(&inits_lock);
    int seen_init = e->addr == addr && e->kind == LR_OBJ_SEM;
    lr_ilock_drop(&inits_lock);
    return seen_init;
}

void lr_misuse_sem_use(lr_thread *self, sem_t *s)
{
    if (!self)
        return;
    if (__builtin_expect(sem_impossible(s), 0)) {
        if (!recall(dead_sems, (uintptr_t)s) && !sem_seen_initialised((uintptr_t)s)) {
            report(self, LR_MISUSE_SEM_INVALID, 0, 0, (uintptr_t)s, none, 0);
            return;
        }
    }
    if (!__atomic_load_n(&any_dead_sem, __ATOMIC_RELAXED))
        return;
    const destroyed_at *d = recall(dead_sems, (uintptr_t)s);
    if (d)
        report(self, LR_MISUSE_SEM_DESTROYED, 0, 0, (uintptr_t)s, (earlier){ d->thread, d->stack }, 0);
}

/* From the call's result: glibc fails sem_init with EINVAL only for a
 * value over SEM_VALUE_MAX, checked here again so the report is true. */
void lr_misuse_sem_init_failed(lr_thread *self, sem_t *s, unsigned value, int err)
{
    if (self && err == EINVAL && value > SEM_VALUE_MAX)
        report(self, LR_MISUSE_SEM_INIT_INVALID, 0, 0, (uintptr_t)s, none, 0);
}

void lr_misuse_sem_post_failed(lr_thread *self, sem_t *s, int err)
{
    if (self && err == EOVERFLOW)
        report(self, LR_MISUSE_SEM_OVERFLOW, 0, 0, (uintptr_t)s, none, 0);
}
