/* Blocking calls, from the runtime's side: a lock call that found its mutex
 * taken, a join of a running thread. The caller waits in bounded rounds of
 * the real call; between rounds the wait-for engine looks for a cycle of
 * blocked threads. Only threads that really block pay anything: the
 * uncontended path is a trylock that succeeds. A cycle seen in two rounds
 * in a row with the same wait numbers is a deadlock; the report is written
 * at once, then the `deadlock` policy applies. */
#include "runtime/runtime.h"
#include "support/python.h"
#include "support/util.h"
#include "support/bigstack.h"
#include "support/options.h"
#include "detect/misuse.h"
#include "detect/race.h"
#include "report/report.h"
#include "detect/waitfor.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/futex.h>
#include <stdio.h>
#include <sys/syscall.h>
#include <unistd.h>

/* First round short, so a deadlock is confirmed within ~50 ms; later rounds
 * longer, so a thread that waits for a slow holder wakes rarely. */
#define FIRST_ROUND_MS 20
#define LATER_ROUND_MS 200

/* The threads whose held locks include `object` (rwlock readers, spinlock
 * holders: neither object says who holds it). Held arrays are read without a
 * lock; they are never unmapped, and what is read is confirmed by the
 * second look a deadlock needs. */
static int holders_from_held(uintptr_t object, uint32_t *out, int max)
{
    int n = 0;
    lr_thread_walk walk = lr_thread_walk_start();
    for (lr_thread_info *info; n < max && (info = lr_thread_walk_next(&walk));) {
        uint32_t id = info->id;
        lr_thread *s = __atomic_load_n(&info->state, __ATOMIC_ACQUIRE);
        if (!s)
            continue;
        lr_held *held = __atomic_load_n(&s->held, __ATOMIC_ACQUIRE);
        uint32_t count = __atomic_load_n(&s->nheld, __ATOMIC_ACQUIRE);
        uint32_t cap = __atomic_load_n(&s->held_cap, __ATOMIC_ACQUIRE);
        for (uint32_t i = 0; held && i < count && i < cap; i++) {
            if (held[i].addr == object) {
                out[n++] = id;
                break;
            }
        }
    }
    return n;
}

static int thread_of_tid(pid_t tid, uint32_t *out)
{
    lr_thread_info *t = tid > 0 ? lr_thread_info_by_tid(tid) : NULL;
    if (!t)
        return 0;
    out[0] = t->id;
    return 1;
}

/* glibc keeps a mutex's owner and an rwlock's writer (kernel thread ids) in
 * the object; readers and spinlock holders come from the held arrays. */
int lr_lock_holders(uintptr_t object, uint32_t *out, int max)
{
    lr_lock *l = lr_lock_find(object);
    int type = l ? l->type : LR_NORMAL;
    if (!l || type == LR_SEMAPHORE) {
        int n = lr_pylock_holders(object, out);     /* CPython's locks: pylock.c */
        if (n >= 0)
            return n;
    }
    if (type == LR_SPINLOCK || type == LR_ANNOTATED || type == LR_GUARD)
        return holders_from_held(object, out, max);
    if (type == LR_RWLOCK) {
        pid_t writer = ((pthread_rwlock_t *)object)->__data.__cur_writer;
        return writer ? thread_of_tid(writer, out) : holders_from_held(object, out, max);
    }
    return thread_of_tid(((pthread_mutex_t *)object)->__data.__owner, out);
}

uint32_t lr_mutex_holder(uintptr_t object)
{
    uint32_t id;
    return lr_lock_holders(object, &id, 1) ? id : UINT32_MAX;
}

/* A thread that lost the race between seeing a mutex free and locking it
 * sleeps in the kernel without having published its wait: the kernel says
 * where (futex wait on the mutex's lock word, which is its first field).
 * Read only on the slow path of another blocked thread. */
static uintptr_t kernel_wait(const lr_thread_info *t)
{
    char path[64], line[256];
    snprintf(path, sizeof path, "/proc/self/task/%d/syscall", (int)t->tid);
    int fd = t->tid > 0 ? open(path, O_RDONLY | O_CLOEXEC) : -1;
    if (fd < 0)
        return 0;
    ssize_t n = read(fd, line, sizeof line - 1);
    close(fd);
    if (n <= 0)
        return 0;
    line[n] = 0;
    long nr;
    unsigned long addr, op;
    if (sscanf(line, "%ld %lx %lx", &nr, &addr, &op) != 3 || nr != SYS_futex)
        return 0;
    op &= FUTEX_CMD_MASK;
    if (op != FUTEX_WAIT && op != FUTEX_WAIT_BITSET && op != FUTEX_LOCK_PI)
        return 0;
    /* mutexes, whose owner can be read, and C++ statics' guards, whose
     * initialiser holds them (libstdc++ waits on the guard's first word);
     * rwlock and spinlock waits are not followed yet */
    lr_lock *l = lr_lock_find(addr);
    return l && (l->type <= LR_ADAPTIVE || l->type == LR_GUARD) ? addr : 0;
}

/* The runtime's part of a thread's state (model/thread.h), zeroed for
 * each thread. */
typedef struct wait_state {
    struct {
        uintptr_t pc;
        lr_stack_id stack;
        uint32_t depth;         /* of the thread's stack there: the caller's path */
    } sites[64];                /* stacks of waits and annotated accesses, by call site */
    uint64_t suspect;           /* a deadlock seen once while blocked, to confirm after the
                                   next round: hash of the cycle (threads and wait numbers) */
    uint32_t wait_rounds;       /* bounded rounds of the current wait */
    uint32_t reported_seq;      /* the wait already reported as a deadlock (+1), 0 none */
} wait_state;

static size_t part_offset;

static wait_state *state_of(lr_thread *t)
{
    return lr_thread_part(t, part_offset);
}

void lr_wait_init(void)
{
    lr_waitfor_hidden_wait = kernel_wait;
    if (!part_offset)
        part_offset = lr_thread_add_part(sizeof(wait_state), NULL);
}

static int watching(lr_thread *self)
{
    return self && lr_opt.deadlock != LR_DEADLOCK_OFF;
}

/* Publishes the caller's wait and looks for a cycle at once: the last
 * thread to block in a deadlock finds it before its first round. */
static int start_waiting(lr_thread *self, int kind, uintptr_t object, lr_lock *lock,
                         lr_stack_id stack)
{
    state_of(self)->suspect = 0;
    state_of(self)->wait_rounds = 0;
    lr_wait_begin(self->info, kind, object, lock, stack, 0);
    lr_watchdog_start(self);            /* after the wait is published: see watchdog.c */
    /* a Condition's waiter, a Lock its own holder waits on for another
     * thread's release: no cycle to look for */
    if (lr_wait_on_thread((uint32_t)kind))
        lr_wait_check(self);
    return 1;
}

int lr_wait_start(lr_thread *self, int kind, uintptr_t object, lr_lock *lock, lr_stack_id stack)
{
    return watching(self) ? start_waiting(self, kind, object, lock, stack) : 0;
}

int lr_lock_wait_begin(lr_thread *self, void *lock, const lr_acquisition *a)
{
    if (!watching(self) || !a->lock)
        return 0;
    return start_waiting(self, LR_WAIT_LOCK, (uintptr_t)lock, a->lock,
                         a->token == LR_REENTRY ? 0 : a->token);
}

int lr_mutex_wait_begin(lr_thread *self, pthread_mutex_t *m, const lr_acquisition *a)
{
    /* relocking an error-checking mutex fails with EDEADLK by itself */
    if (self && (m->__data.__kind & 3) == PTHREAD_MUTEX_ERRORCHECK &&
        m->__data.__owner == self->info->tid) {
        lr_misuse_mutex_lock(self, m);
        return 0;
    }
    return lr_lock_wait_begin(self, m, a);
}


int lr_wait_round_over(const struct timespec *deadline)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return now.tv_sec > deadline->tv_sec ||
           (now.tv_sec == deadline->tv_sec && now.tv_nsec >= deadline->tv_nsec);
}

/* The stack of a wait (condition, barrier, semaphore, join) at this call
 * site: unwound the first time, then remembered in a small per-thread table
 * (a wait is a system call anyway, but a busy consumer waits often), with
 * how deep the thread's stack was: a helper that waits, called from two
 * places, is nearly always at two depths, and each shows its own caller.
 * Not while the thread runs Python code (it holds the GIL): its stack then
 * ends with its Python frames, which the same C call site (the
 * interpreter's) reaches from every Python line; it is read every time,
 * and never remembered. */
lr_stack_id lr_site_stack(lr_thread *self, uintptr_t pc)
{
    uint32_t depth = (uint32_t)lr_thread_depth_here(self);
    /* by call site and depth: one site waited at from many depths (the
     * interpreter's GIL, from wherever the Python code is) keeps each */
    uint32_t i = (uint32_t)(((pc ^ (uint64_t)depth << 40) * 0x9e3779b97f4a7c15ull) >> 58);
    int saved = errno;
    lr_enter(self);
    /* asked inside lockrace: the interpreter's functions it calls are not
     * the program's accesses (a watched field of the interpreter's) */
    int python = lr_python_present() && lr_python_readable();
    if (!python && state_of(self)->sites[i].pc == pc && state_of(self)->sites[i].depth == depth) {
        lr_leave(self);
        errno = saved;
        return state_of(self)->sites[i].stack;
    }
    lr_stack_id stack = lr_stack_capture();
    lr_leave(self);
    errno = saved;
    if (!python) {
        state_of(self)->sites[i].pc = pc;
        state_of(self)->sites[i].stack = stack;
        state_of(self)->sites[i].depth = depth;
    }
    return stack;
}

int lr_join_wait_begin(lr_thread *self, pthread_t thread, void *pc)
{
    if (!watching(self) || pthread_equal(thread, pthread_self()))
        return 0;
    lr_thread_info *target = lr_thread_info_by_handle((uintptr_t)thread);
    if (!target)
        return 0;
    return start_waiting(self, LR_WAIT_JOIN, target->id, NULL, lr_site_stack(self, (uintptr_t)pc));
}

const struct timespec *lr_wait_deadline(lr_thread *self, struct timespec *ts)
{
    long ms = state_of(self)->suspect || state_of(self)->wait_rounds == 0 ? FIRST_ROUND_MS : LATER_ROUND_MS;
    clock_gettime(CLOCK_MONOTONIC, ts);
    ts->tv_nsec += ms * 1000000L;
    ts->tv_sec += ts->tv_nsec / 1000000000L;
    ts->tv_nsec %= 1000000000L;
    state_of(self)->wait_rounds++;
    return ts;
}

static uint64_t cycle_hash(const lr_cycle *c)
{
    uint64_t h = 0xcbf29ce484222325ull;
    for (uint32_t i = 0; i < c->n; i++)
        h = (h ^ ((uint64_t)c->threads[i] << 32 | c->seqs[i])) * 0x100000001b3ull;
    return h | 1;
}

/* Each member of a deadlock may confirm it: only the first reports. */
static int first_to_report(uint64_t cycle)
{
    static uint64_t reported[256];
    for (size_t i = 0; i < sizeof reported / sizeof reported[0]; i++) {
        uint64_t expected = 0;
        if (__atomic_compare_exchange_n(&reported[i], &expected, cycle, 0, __ATOMIC_ACQ_REL,
                                        __ATOMIC_ACQUIRE))
            return 1;
        if (expected == cycle)
            return 0;
    }
    return 1;   /* the table is full: a duplicate report beats a missing one */
}

void lr_deadlock_policy(void)
{
    if (lr_opt.deadlock != LR_DEADLOCK_ABORT)
        return;
    /* No atexit handlers, no stdio flush: they may need the very locks the
     * deadlocked threads hold. The report is already written. */
    lr_runtime_end(lr_opt.exitcode ? lr_opt.exitcode : 1);
}

static void check(void *self_)
{
    lr_thread *self = self_;
    if (!self || state_of(self)->reported_seq == self->info->wait.seq + 1)
        return;
    int saved = errno;
    lr_enter(self);
    lr_cycle c;
    lr_cycle_init(&c);
    /* The first look, as the wait starts, reads only memory: asking the
     * kernel where a thread that published no wait sleeps (kernel_wait)
     * costs a /proc read per running holder, on every contended lock. A
     * cycle through such a thread is found at the end of the first round
     * instead, and a deadlock needs a second look to be confirmed anyway. */
    int hidden = state_of(self)->wait_rounds > 0;
    uint64_t seen = lr_waitfor_cycle(self->info, lr_lock_holders, &c, hidden) ? cycle_hash(&c) : 0;
    if (seen && seen == state_of(self)->suspect && lr_waitfor_unchanged(&c)) {
        state_of(self)->reported_seq = self->info->wait.seq + 1;
        if (first_to_report(seen)) {    /* the others wait on: this one ends it */
            lr_waitfor_report(&c, lr_lock_holders);
            lr_deadlock_policy();
        }
    }
    state_of(self)->suspect = seen;
    lr_cycle_free(&c);
    lr_leave(self);
    errno = saved;
}

/* Between two rounds of a wait: reads /proc and may write a report, none
 * of which may be where a cancelled thread ends (a mutex wait is not a
 * cancellation point), nor on a handler's small alternate stack (a lock
 * taken in a signal handler waits here too): on a stack with room. Out of
 * line: inlined (LTO) into the mutex wrapper with its call through
 * lr_bigstack_roomy, it cost the uncontended lock a register save (callgrind,
 * lockbench uncontended: 246 instructions a pair instead of 244). */
__attribute__((noinline)) void lr_wait_check(lr_thread *self)
{
    int cancel = lr_cancel_off();
    lr_bigstack_roomy(check, self);
    lr_cancel_restore(cancel);
}


void lr_wait_done(lr_thread *self)
{
    if (self)
        lr_wait_end(self->info);
}

void lr_thread_finished(lr_thread_info *info, int exited)
{
    if (!info)
        return;
    lr_thread *t = info->state;
    if (exited && t && t->nheld && t->depth == 0) {
        /* its report, if it still holds one at its very end, shows this call */
        int saved = errno;
        lr_enter(t);
        info->exit_stack = lr_stack_capture();
        lr_leave(t);
        errno = saved;
    }
    if (info->state && lr_race_active())
        lr_race_thread_finished(info->state);
    __atomic_store_n(&info->finished, 1, __ATOMIC_RELEASE);
}
