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

/* Blocked for good if nothing else in the process moves: 1, with the thread
 * whose wait it is; 0 for a running thread or one lockrace does not know. */
static lr_thread_info *stuck(pid_t tid, uint64_t now, uint64_t *fingerprint)
{
    lr_thread_info *t = lr_thread_info_by_tid(tid);
    if (!t)
        return NULL;
    uint32_t kind = __atomic_load_n(&t->wait.kind, __ATOMIC_ACQUIRE);
    uintptr_t hidden = kind == LR_WAIT_NONE && lr_waitfor_hidden_wait ? lr_waitfor_hidden_wait(t) : 0;
    if (kind == LR_WAIT_NONE && !hidden)
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
    lr_waitfor_describe(r, threads, n, lr_mutex_holder);
    lr_report_emit(r);
    lr_report_free(r);
}

static void *watch(void *arg)
{
    (void)arg;
    static pid_t tids[4096];
    static lr_thread_info *threads[4096];
    uint64_t last = 0;
    pid_t self = (pid_t)syscall(SYS_gettid);
    for (;;) {
        struct timespec tick = { 0, TICK_MS * 1000000L };
        nanosleep(&tick, NULL);
        int n = list_tasks(tids, 4096), blocked = 0;
        uint64_t now = lr_now_ns(), fingerprint = 0xcbf29ce484222325ull;
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
    if (!lr_opt.watchdog || __atomic_exchange_n(&started, 1, __ATOMIC_ACQ_REL))
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
