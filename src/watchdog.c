/* The watchdog (watchdog=1): a thread that wakes every 100 ms and looks at
 * what every thread of the process is blocked in. When all of them have
 * been blocked, unchanged, for at least hang_ms, in waits nothing inside
 * the process can end (a mutex, a condition wait without a deadline, a
 * join), none can wake another: a whole-process deadlock, such as a lost
 * wakeup that no cycle of locks explains. It is reported once, then the
 * deadlock policy applies. The watchdog reads only what threads publish
 * (their lr_thread_info.wait) and /proc; it takes no lock a program thread
 * can hold, and costs the lock path nothing. */
#include "waitfor.h"
#include "arena.h"
#include "options.h"
#include "report.h"
#include "runtime.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#define TICK_MS 100

static int started;

/* The kernel ids of the process's threads, without libc's allocating
 * directory functions: the watchdog must not need malloc, whose lock a
 * stuck thread may hold. */
static int list_tasks(pid_t *tids, int max)
{
    int fd = open("/proc/self/task", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
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
                close(fd);
                return -1;      /* more threads than the watchdog looks at: it says nothing */
            }
            tids[n++] = (pid_t)atoi(d->d_name);
        }
    }
    close(fd);
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
    pid_t self = (pid_t)syscall(SYS_gettid);
    /* lockrace's own thread: the locks libdw takes while it symbolizes a
     * report pass straight through, and it is in no report itself */
    lr_tls_thread = LR_THREAD_DEAD;
    for (;;) {
        struct timespec tick = { 0, TICK_MS * 1000000L };
        nanosleep(&tick, NULL);
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
        report_whole_process(threads, blocked);
        lr_deadlock_policy();
        return NULL;                     /* deadlock=report: said once, the process stays as it is */
    }
}

void lr_watchdog_start(lr_thread *self)
{
    /* a load first: every blocking wait passes here, and an exchange would
     * write the same line from every thread */
    if (!lr_opt.watchdog || __atomic_load_n(&started, __ATOMIC_RELAXED) ||
        __atomic_exchange_n(&started, 1, __ATOMIC_ACQ_REL))
        return;
    int saved = errno;
    lr_enter(self);                      /* the create passes through the wrapper */
    pthread_t t;
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    if (pthread_create(&t, &attr, watch, NULL) != 0)
        __atomic_store_n(&started, 0, __ATOMIC_RELEASE);
    pthread_attr_destroy(&attr);
    lr_leave(self);
    errno = saved;
}

/* A child of fork has no watchdog until it blocks itself. */
void lr_watchdog_fork_child(void)
{
    started = 0;
}
