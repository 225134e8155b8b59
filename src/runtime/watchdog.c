/* The watchdog (watchdog=1): a thread that wakes every 100 ms and looks at
 * what every thread of the process is blocked in. When all of them have
 * been blocked, unchanged, for at least hang_ms, in waits nothing inside
 * the process can end (a mutex, a condition wait without a deadline, a
 * join), none can wake another: a whole-process deadlock, such as a lost
 * wakeup that no cycle of locks explains. It is reported once, then the
 * deadlock policy applies. The watchdog reads only what threads publish
 * (their lr_thread_info.wait) and /proc; it takes no lock a program thread
 * can hold, and costs the lock path nothing.
 *
 * It must not change the program either: it blocks every signal (a signal
 * the program blocks in all its threads, to take it from a signalfd or
 * sigwait, must not land here), and it is there only while some thread
 * waits: it starts when one begins to wait and ends after a second with
 * none waiting, so that a program that is one thread again can do what
 * only a single-threaded process may (unshare(CLONE_NEWUSER), setns into a
 * user or mount namespace; lr_watchdog_quiesce ends it at once there). */
#include "detect/waitfor.h"
#include "support/arena.h"
#include "support/bigstack.h"
#include "support/options.h"
#include "support/util.h"
#include "report/report.h"
#include "runtime/runtime.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/futex.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#define TICK_MS 100
#define IDLE_TICKS 10           /* a second with no thread waiting: the watchdog ends */

/* Whether a watchdog runs: 0 none; 1 one runs or is being created; 2 it
 * found nobody waiting for IDLE_TICKS and is about to end, unless a thread
 * that begins to wait takes it back (2 -> 1) first. A thread publishes its
 * wait before it looks here, the watchdog sets 2 before it looks at the
 * waits for the last time (both sequentially consistent): one of the two
 * sees the other, so no wait goes unwatched. */
static int started;
/* It reported a whole-process deadlock (deadlock=report): said once, and
 * started stays 1 so that no other watchdog says it again. */
static int reported;
/* A futex word the watchdog sleeps on between ticks: a watchdog ends when
 * it is no longer the one it read when it started (lr_watchdog_quiesce
 * adds one), even one that comes back late from a long tick. */
static int generation;
/* Watchdogs created but not yet in watchdog_tids: a thread the quiesce must wait
 * for before it can tell watchdogs from the program's threads. */
static int pending;
/* Kernel ids of the watchdogs started in this process. A slot is free when
 * 0 or when that thread has ended (a watchdog that ends cannot clear its
 * slot after it has gone); at most two live at once: one ending, one
 * starting. */
#define MAX_WATCHDOGS 4
static pid_t watchdog_tids[MAX_WATCHDOGS];

static int task_alive(pid_t tid)
{
    return tid > 0 && syscall(SYS_tgkill, getpid(), tid, 0) == 0;
}

static void register_watchdog(pid_t tid)
{
    for (int i = 0; i < MAX_WATCHDOGS; i++) {
        pid_t old = __atomic_load_n(&watchdog_tids[i], __ATOMIC_ACQUIRE);
        if ((old == 0 || !task_alive(old)) &&
            __atomic_compare_exchange_n(&watchdog_tids[i], &old, tid, 0, __ATOMIC_ACQ_REL,
                                        __ATOMIC_ACQUIRE))
            break;
    }
    __atomic_sub_fetch(&pending, 1, __ATOMIC_RELEASE);
}

static int is_watchdog(pid_t tid)
{
    for (int i = 0; i < MAX_WATCHDOGS; i++)
        if (__atomic_load_n(&watchdog_tids[i], __ATOMIC_ACQUIRE) == tid)
            return 1;
    return 0;
}

/* Sleeps ms while *word is value, or less when woken; through syscall(),
 * which, unlike nanosleep, is no cancellation point (the quiesce runs on a
 * program thread, in a wrapper of a function that is not one). */
static void sleep_on(int *word, int value, long ms)
{
    struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };
    syscall(SYS_futex, word, FUTEX_WAIT_PRIVATE, value, &ts, NULL, 0);
}

/* Whether some thread of the program has published a wait. Reads the
 * thread records, not /proc: cheap, whatever the number of threads. */
static int anyone_waits(void)
{
    lr_thread_walk walk = lr_thread_walk_start();
    for (lr_thread_info *t; (t = lr_thread_walk_next(&walk));)
        if (__atomic_load_n(&t->wait.kind, __ATOMIC_SEQ_CST) != LR_WAIT_NONE)
            return 1;
    return 0;
}

/* 1 when the watchdog may end now: nobody waits, and no thread that began
 * to wait meanwhile took it back. */
static int retire(void)
{
    __atomic_store_n(&started, 2, __ATOMIC_SEQ_CST);
    int busy = anyone_waits();
    int expected = 2;
    if (__atomic_compare_exchange_n(&started, &expected, busy ? 1 : 0, 0, __ATOMIC_SEQ_CST,
                                    __ATOMIC_SEQ_CST))
        return !busy;
    return 0;                   /* taken back: it goes on */
}

/* The kernel ids of the process's threads, without libc's allocating
 * directory functions: the watchdog must not need malloc, whose lock a
 * stuck thread may hold. */
static int list_tasks(pid_t *tids, int max)
{
    /* raw system calls: open and close are cancellation points */
    int fd = (int)syscall(SYS_openat, AT_FDCWD, "/proc/self/task", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    char buf[4096];
    int n = 0;
    long got;
    while ((got = syscall(SYS_getdents64, fd, buf, sizeof buf)) > 0) {
        for (long off = 0; off < got;) {
            struct dirent64 *d = (struct dirent64 *)(buf + off);
            off += d->d_reclen;
            if (d->d_name[0] == '.')
                continue;
            if (n == max) {
                syscall(SYS_close, fd);
                return -1;      /* more threads than the watchdog looks at: it says nothing */
            }
            tids[n++] = (pid_t)atoi(d->d_name);
        }
    }
    syscall(SYS_close, fd);
    return n;
}

/* The thread, when it is blocked in a wait that only another thread of
 * this process can end; NULL for a running thread, one lockrace does not
 * know, or a wait something outside can end: a semaphore (a signal handler
 * or another process may post it: sem_post is async-signal-safe, and this
 * is how handlers wake threads) or a lock held outside the process's known
 * threads (a process-shared mutex). */
static lr_thread_info *stuck(pid_t tid, uint64_t now, uint64_t *fingerprint)
{
    lr_thread_info *t = lr_thread_info_by_tid(tid);
    if (!t)
        return NULL;
    uint32_t kind = __atomic_load_n(&t->wait.kind, __ATOMIC_ACQUIRE);
    uintptr_t hidden = kind == LR_WAIT_NONE && lr_waitfor_hidden_wait ? lr_waitfor_hidden_wait(t) : 0;
    uint32_t holder;
    if (kind == LR_WAIT_NONE && !hidden)
        return NULL;
    if (kind == LR_WAIT_SEM)
        return NULL;
    if ((hidden || kind == LR_WAIT_LOCK) &&
        !lr_lock_holders(hidden ? hidden : t->wait.object, &holder, 1))
        return NULL;
    if (kind != LR_WAIT_NONE && (t->wait.bounded || now - t->wait.since_ns < (uint64_t)lr_opt.hang_ms * 1000000ull))
        return NULL;
    *fingerprint = (*fingerprint ^ ((uint64_t)t->id << 32 | t->wait.seq) ^ hidden) * 0x100000001b3ull;
    return t;
}

static void report_whole_process(lr_thread_info **threads, int n)
{
    size_t nholds = 0;
    for (int i = 0; i < n; i++) {
        lr_thread *s = __atomic_load_n(&threads[i]->state, __ATOMIC_ACQUIRE);
        nholds += s ? s->nheld : 0;
    }
    lr_report *r = lr_report_new(LR_REPORT_DEADLOCK, nholds + (size_t)n, 0, (size_t)n, nholds);
    if (!r)
        return;
    r->whole_process = 1;
    lr_waitfor_describe(r, threads, n, lr_lock_holders, 0);
    lr_report_emit(r);
    lr_report_free(r);
}

/* ---- stalls ---- */

/* Where a running thread took the lock at addr. Its held array is read
 * without a lock while it may change: arrays are never unmapped, so the
 * read is safe, and a torn entry at worst shows no stack. */
static lr_stack_id hold_stack(lr_thread_info *t, uintptr_t addr)
{
    lr_thread *s = __atomic_load_n(&t->state, __ATOMIC_ACQUIRE);
    if (!s)
        return 0;
    lr_held *held = __atomic_load_n(&s->held, __ATOMIC_ACQUIRE);
    uint32_t n = __atomic_load_n(&s->nheld, __ATOMIC_ACQUIRE);
    uint32_t cap = __atomic_load_n(&s->held_cap, __ATOMIC_ACQUIRE);
    for (uint32_t i = 0; held && i < n && i < cap; i++)
        if (held[i].addr == addr)
            return held[i].stack;
    return 0;
}

static int stall_is_new(uint64_t key)
{
    static uint64_t seen[1024];
    for (size_t i = 0; i < sizeof seen / sizeof seen[0]; i++) {
        if (seen[i] == key)
            return 0;
        if (!seen[i]) {
            seen[i] = key;
            return 1;
        }
    }
    return 0;   /* a thousand stalls reported already: enough said */
}

/* Threads that have waited stall_ms or more for a lock whose holder is not
 * blocked itself (a blocked holder is a chain: its own wait is reported). */
static void look_for_stalls(lr_thread_info **threads, int n, uint64_t now)
{
    uint64_t limit = (uint64_t)lr_opt.stall_ms * 1000000ull;
    for (int i = 0; i < n; i++) {
        lr_thread_info *w = threads[i];
        if (w->wait.kind != LR_WAIT_LOCK || now - w->wait.since_ns < limit)
            continue;
        uintptr_t lock = w->wait.object;
        lr_thread_info *holder = lr_thread_info_get(lr_mutex_holder(lock));
        /* once per lock, holder and place it was taken */
        if (!holder || holder->wait.kind != LR_WAIT_NONE ||
            !stall_is_new((lock * 0x9e3779b97f4a7c15ull ^ ((uint64_t)holder->id << 32 |
                                                           hold_stack(holder, lock))) | 1))
            continue;
        int waiters = 0;
        for (int j = 0; j < n; j++)
            waiters += threads[j]->wait.kind == LR_WAIT_LOCK && threads[j]->wait.object == lock;
        lr_report *r = lr_report_new(LR_REPORT_STALL, 1, 0, (size_t)waiters + 1, 1);
        if (!r)
            return;
        lr_lock *l = w->wait.lock;
        r->nlocks = 1;
        r->locks[0].addr = lock;
        if (l && l->addr == lock) {
            r->locks[0].id = l->id;
            r->locks[0].type = l->type;
            r->locks[0].first_seen = l->first_seen;
            r->locks[0].first_thread = l->first_thread;
            r->locks[0].name = l->name;
        }
        lr_report_thread *h = &r->threads[0];
        h->id = holder->id;
        h->wait_lock = -1;
        h->waits_for = UINT32_MAX;
        h->holds = r->holds;
        h->nholds = 1;
        r->holds[0].lock = 0;
        r->holds[0].stack = hold_stack(holder, lock);
        size_t k = 1;
        for (int j = 0; j < n && k < r->nthreads; j++) {
            lr_thread_info *o = threads[j];
            if (o->wait.kind != LR_WAIT_LOCK || o->wait.object != lock)
                continue;
            lr_report_thread *rt = &r->threads[k++];
            rt->id = o->id;
            rt->wait_kind = LR_WAIT_LOCK;
            rt->wait_lock = 0;
            rt->waits_for = holder->id;
            rt->wait_stack = o->wait.stack;
            rt->waited_ms = (now - o->wait.since_ns) / 1000000ull;
        }
        r->nthreads = k;
        lr_report_emit(r);
        lr_report_free(r);
    }
}

static void *watch(void *arg)
{
    (void)arg;
    static pid_t tids[4096];
    static lr_thread_info *threads[4096];
    uint64_t last = 0;
    int idle = 0;
    pid_t self = (pid_t)syscall(SYS_gettid);
    /* lockrace's own thread: the locks libdw takes while it symbolizes a
     * report pass straight through, and it is in no report itself */
    lr_tls_thread = LR_THREAD_DEAD;
    int gen = __atomic_load_n(&generation, __ATOMIC_ACQUIRE);   /* before it counts as started */
    register_watchdog(self);
    for (;;) {
        sleep_on(&generation, gen, TICK_MS);
        if (__atomic_load_n(&generation, __ATOMIC_ACQUIRE) != gen)
            return NULL;
        idle = anyone_waits() ? 0 : idle + 1;
        if (idle >= IDLE_TICKS) {
            if (retire())
                return NULL;
            idle = 0;
        }
        int n = list_tasks(tids, 4096), blocked = 0;
        uint64_t now = lr_now_ns(), fingerprint = 0xcbf29ce484222325ull;
        if (lr_opt.stall_ms) {
            int known = 0;
            for (int i = 0; i < n; i++) {
                lr_thread_info *t = tids[i] == self ? NULL : lr_thread_info_by_tid(tids[i]);
                if (t)
                    threads[known++] = t;
            }
            look_for_stalls(threads, known, now);
        }
        for (int i = 0; i < n; i++) {
            if (tids[i] == self)
                continue;
            lr_thread_info *t = stuck(tids[i], now, &fingerprint);
            if (!t)
                break;
            threads[blocked++] = t;
        }
        if (n <= 1 || blocked != n - 1) {
            last = 0;
            continue;
        }
        if (fingerprint != last) {      /* seen once: confirm on the next tick */
            last = fingerprint;
            continue;
        }
        __atomic_store_n(&reported, 1, __ATOMIC_RELEASE);
        report_whole_process(threads, blocked);
        lr_deadlock_policy();
        return NULL;                     /* deadlock=report: said once, the process stays as it is */
    }
}

/* Starts the watchdog thread (lr_watchdog_start won the right to). */
static void create(void *unused)
{
    (void)unused;
    pthread_t t;
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    /* the new thread starts with the creator's signal mask: every signal
     * blocked for it, the creator's own mask back right after */
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    __atomic_add_fetch(&pending, 1, __ATOMIC_ACQ_REL);
    if (pthread_create(&t, &attr, watch, NULL) != 0) {
        __atomic_sub_fetch(&pending, 1, __ATOMIC_RELEASE);
        __atomic_store_n(&started, 0, __ATOMIC_RELEASE);
    }
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    pthread_attr_destroy(&attr);
}

/* Called by a thread that has just published a wait (lr_wait_begin): the
 * watchdog runs from then on, at least until that wait ends. */
void lr_watchdog_start(lr_thread *self)
{
    if (!lr_opt.watchdog)
        return;
    /* a load first: every blocking wait passes here, and an exchange would
     * write the same line from every thread */
    int s = __atomic_load_n(&started, __ATOMIC_SEQ_CST);
    for (;;) {
        if (s == 1)
            return;
        if (__atomic_compare_exchange_n(&started, &s, 1, 0, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST))
            break;
    }
    if (s == 2)                          /* the one about to end goes on */
        return;
    int saved = errno;
    lr_enter(self);                      /* the create passes through the wrapper */
    /* the first wait may be a signal handler's, on a small alternate stack */
    lr_bigstack_roomy(create, NULL);
    lr_leave(self);
    errno = saved;
}

/* Before a call that fails in a process of more than one thread: when the
 * caller is the program's only thread, the watchdogs end now, and the call
 * waits (a second at most) until the kernel has let them go. When the
 * program has other threads the call fails natively too: nothing is done. */
void lr_watchdog_quiesce(void)
{
    if (!lr_opt.watchdog || !__atomic_load_n(&started, __ATOMIC_ACQUIRE))
        return;
    int saved = errno;
    for (int i = 0; i < 1000 && __atomic_load_n(&pending, __ATOMIC_ACQUIRE); i++)
        sleep_on(&(int){ 0 }, 0, 1);     /* a watchdog starting: its id is not known yet */
    pid_t tids[MAX_WATCHDOGS + 1];
    pid_t self = (pid_t)syscall(SYS_gettid);
    int n = list_tasks(tids, MAX_WATCHDOGS + 1);
    for (int i = 0; i < n; i++)
        if (tids[i] != self && !is_watchdog(tids[i]))
            n = -1;                      /* a thread of the program's */
    if (n > 1) {
        __atomic_add_fetch(&generation, 1, __ATOMIC_ACQ_REL);
        syscall(SYS_futex, &generation, FUTEX_WAKE_PRIVATE, MAX_WATCHDOGS, NULL, NULL, 0);
        for (int i = 0; i < 1000 && list_tasks(tids, MAX_WATCHDOGS + 1) > 1; i++)
            sleep_on(&(int){ 0 }, 0, 1);
        __atomic_store_n(&started, __atomic_load_n(&reported, __ATOMIC_ACQUIRE), __ATOMIC_RELEASE);
    }
    errno = saved;
}

/* A child of fork has no watchdog until one of its threads waits. */
void lr_watchdog_fork_child(void)
{
    started = 0;
    reported = 0;
    pending = 0;
    memset(watchdog_tids, 0, sizeof watchdog_tids);
}
