/* Bootstrap, options, exit status and fork.
 *
 * Bootstrap runs on the first wrapper call or in the constructor, whichever
 * comes first: other libraries' constructors lock mutexes before ours runs.
 * It is idempotent and guarded by one atomic state, not pthread_once (a
 * wrapped symbol). While it runs, calls from any thread pass through; the
 * wrappers resolve the real functions themselves (interpose/real.h), so
 * passing through works whenever it happens. */
#include "runtime/runtime.h"
#include "detect/race.h"
#include "detect/waitfor.h"
#include "support/arena.h"
#include "support/ilock.h"
#include "detect/lockgraph.h"
#include "model/lockreg.h"
#include "support/options.h"
#include "report/report.h"
#include "support/stack.h"
#include "support/util.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

enum { STATE_NEW, STATE_STARTING, STATE_READY };

static int state = STATE_NEW;
/* The process whose reports the counts are: set at start and in a forked
 * child, whose counts start at zero. A vfork child shares its parent's
 * memory, counts included, but not its reports. */
static pid_t reports_pid;
/* 1 once the end of the process was handled (summary printed) */
static int finished;
static int exit_status;         /* the status exit() was given, + 1, once it runs (at_exit) */
/* 1 in a child made by fork() */
static int forked;

static void at_exit(int status, void *arg);
static void halt_after_report(void);
static void fork_prepare(void);
static void fork_parent(void);
static void fork_child(void);

static void fail_options(const char *msg)
{
    char line[640];
    snprintf(line, sizeof line, "lockrace: %s\n", msg);
    lr_write_str(2, line);
    _exit(2);
}

/* In a set-uid or set-gid program the options would be the caller's: a
 * file to create as root, a library to load. Its defaults are kept
 * (reports on stderr), and one line says so when options were given: the
 * variable is looked at, never read. */
static void read_options(void)
{
    char err[512];
    lr_options_defaults(&lr_opt);
    if (lr_secure()) {
        const char *given = getenv("LOCKRACE_OPTIONS");
        if (given && given[0])
            lr_write_str(2, "lockrace: LOCKRACE_OPTIONS ignored: a set-uid or set-gid program "
                            "(secure execution) takes nothing from its caller's environment; "
                            "reports go to stderr\n");
        return;
    }
    const char *env = lr_getenv("LOCKRACE_OPTIONS");
    if (env && lr_options_parse(&lr_opt, env, err, sizeof err) < 0)
        fail_options(err);
}

/* A thread's very end: the locks it still holds now stay held (the ones
 * its cleanup handlers or exit-time destructors let go are not). */
static void thread_ended(lr_thread_info *info)
{
    if (!__atomic_load_n(&info->finished, __ATOMIC_ACQUIRE))
        lr_thread_finished(info, 0);
    lr_misuse_thread_end(info->state, info->exit_stack);
    lr_sem_thread_end(info->state);
}

static void bootstrap(void)
{
    read_options();
    lr_stack_init();
    lr_thread_init();
    /* the engines' per-thread parts and hooks, before the first thread state */
    lr_order_init();
    lr_waitfor_init();
    lr_race_init();
    lr_thread_on_end(thread_ended);
    lr_report_init();
    if (lr_opt.halt_on_error || lr_opt.abort_on_error)
        lr_report_after = halt_after_report;
    lr_wait_init();
    pthread_atfork(fork_prepare, fork_parent, fork_child);
    reports_pid = getpid();
    on_exit(at_exit, NULL);     /* on_exit: the handler is told the status */
    if (lr_opt.verbosity >= 2) {
        char line[160];
        snprintf(line, sizeof line, "lockrace: watching process %d\n", (int)getpid());
        lr_write_str(2, line);
    }
}

lr_thread *lr_self_slow(void)
{
    if (lr_tls_thread != LR_THREAD_NONE)    /* inside lockrace, or the thread is ending */
        return NULL;
    if (!lr_runtime_ready())
        return NULL;    /* another thread is starting lockrace, or this one is
                           and came back through a wrapper: pass through */
    return lr_thread_attach();
}

int lr_runtime_ready(void)
{
    int s = __atomic_load_n(&state, __ATOMIC_ACQUIRE);
    if (s == STATE_READY)
        return 1;
    if (s == STATE_NEW &&
        __atomic_compare_exchange_n(&state, &s, STATE_STARTING, 0, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE)) {
        int saved = errno;
        int cancel = lr_cancel_off();   /* it opens and reads files */
        bootstrap();
        lr_cancel_restore(cancel);
        errno = saved;
        __atomic_store_n(&state, STATE_READY, __ATOMIC_RELEASE);
        return 1;
    }
    return 0;
}

/* The status a process that reported ends with. A program that failed
 * keeps its own status, whatever lockrace found: its failure is the first
 * thing its caller must see, and a CI job fails either way. One that
 * succeeded (0 as its parent sees it: the low 8 bits, so exit(256) too)
 * ends with exitcode, so that a report is never a success. */
static int final_status(int status)
{
    if (lr_opt.exitcode && (status & 0xff) == 0 && getpid() == reports_pid && lr_report_count())
        return lr_opt.exitcode;
    return status;
}

int lr_runtime_exit(int status)
{
    if (__atomic_load_n(&state, __ATOMIC_ACQUIRE) != STATE_READY || getpid() != reports_pid)
        return status;
    lr_thread *t = lr_thread_current();
    /* inside lockrace (a signal handler that interrupted it, lockrace's own
     * end): its locks may be this thread's; the status alone, then */
    if ((t && t->depth > 0) || __atomic_exchange_n(&finished, 1, __ATOMIC_ACQ_REL))
        return final_status(status);
    if (t)
        lr_enter(t);
    lr_race_flush();
    if (lr_opt.order_graph)
        lr_graph_report();      /* a JSON line, not a report: counted nowhere */
    unsigned long n = lr_report_count();
    uint64_t gated = lr_graph_gated_count();
    /* with the summary; alone, only when asked: a clean run prints nothing */
    if (gated && (lr_opt.verbosity >= 2 || (n && lr_opt.verbosity >= 1))) {
        char line[200];
        snprintf(line, sizeof line, "==%d== lockrace: %lu lock-order cycle%s not reported: every edge "
                 "made under one gate lock (show_gated=1 shows %s)\n", (int)getpid(),
                 (unsigned long)gated, gated == 1 ? "" : "s", gated == 1 ? "it" : "them");
        lr_report_write_extra(line, strlen(line), NULL, 0);
    }
    if (n && lr_opt.verbosity >= 1)
        lr_annotate_exit_note();
    if (n || lr_report_suppressed()) {
        lr_race_summary();
        if (lr_opt.verbosity >= 1)
            lr_report_summary(status & 0xff, final_status(status) & 0xff);
    }
    lr_report_process_end(final_status(status) & 0xff, lr_thread_count(), lr_lockreg_records());
    if (t)
        lr_leave(t);
    return final_status(status);
}

void lr_runtime_child_ended(pid_t pid, int code, int signaled)
{
    lr_report_child_ended(pid, code, signaled);
}

void lr_runtime_before_chroot(lr_thread *self)
{
    if (!self)
        return;
    int saved = errno;
    lr_enter(self);
    lr_report_before_chroot();
    lr_leave(self);
    errno = saved;
}

/* Called after the report lock was let go (halt_on_error, a deadlock's
 * abort policy), so the exit record can be written; abort() ends the
 * process by a signal, and the launcher sees that it did not exit. */
void lr_runtime_end(int status)
{
    /* the run's lock-order graph, as lr_runtime_exit writes it, once: the
     * callers hold none of lockrace's locks (report > graph) */
    if (!__atomic_exchange_n(&finished, 1, __ATOMIC_ACQ_REL) && lr_opt.order_graph &&
        getpid() == reports_pid)
        lr_graph_report();
    if (lr_opt.abort_on_error)
        abort();
    if (getpid() == reports_pid)
        lr_report_process_end(status & 0xff, lr_thread_count(), lr_lockreg_records());
    _exit(status);
}

/* halt_on_error / abort_on_error: the report just written (not suppressed)
 * ends the process, as ThreadSanitizer's do. Called by the report module
 * after it let go of its lock, from whichever thread reported; nothing of
 * the program's runs after (no atexit handler, no stdio flush: another
 * thread may hold its locks). */
static void halt_after_report(void)
{
    int status = lr_opt.exitcode ? lr_opt.exitcode : 1;
    /* made as the process exits: the program's own status, which a failure
     * keeps (final_status), as it does without halt_on_error */
    int exiting = __atomic_load_n(&exit_status, __ATOMIC_ACQUIRE);
    int own = exiting ? final_status(exiting - 1) : 0;
    if (own)
        status = own;
    char line[200];
    if (lr_opt.abort_on_error)
        snprintf(line, sizeof line, "==%d== lockrace: abort_on_error=1: the process is ended after its "
                 "first report, with abort()\n", (int)getpid());
    else
        snprintf(line, sizeof line, "==%d== lockrace: halt_on_error=1: the process is ended after its "
                 "first report, with exit status %d\n", (int)getpid(), status);
    if (lr_opt.verbosity >= 1)
        lr_report_write_extra(line, strlen(line), NULL, 0);
    lr_runtime_end(status);
}

/* main returned or called exit() holding locks it took: reported as a
 * thread that ends holding them. Not in a forked child (it inherits the
 * locks its parent's thread held at fork, and often just exits), not
 * through _exit (async-signal-safe, a vfork child's), not when another
 * thread calls exit (main is still running), not from inside lockrace. */
static void main_end(void)
{
    lr_thread *t = lr_thread_current();
    if (__atomic_load_n(&state, __ATOMIC_ACQUIRE) != STATE_READY || forked || !t || t->depth > 0 ||
        t->info->id != 0 || __atomic_load_n(&finished, __ATOMIC_ACQUIRE))
        return;
    lr_misuse_main_end(t);
}

/* An on_exit handler registered before main, so it runs after the
 * program's own handlers and C++ static destructors. The exit status can
 * only be changed by ending the process here; stdio is flushed first. A
 * status lockrace keeps lets exit() go on as it would. */
static void at_exit(int status, void *arg)
{
    (void)arg;
    __atomic_store_n(&exit_status, (status & 0xff) + 1, __ATOMIC_RELEASE);
    main_end();
    int final = lr_runtime_exit(status);
    if (final != status) {
        fflush(NULL);
        _exit(final);
    }
}

/* Internal locks are taken in their documented order before fork, so the
 * child never inherits one held by a thread that does not exist there. */
static void fork_prepare(void)
{
    lr_thread *t = lr_thread_current();
    if (t)
        lr_enter(t);
    lr_report_fork_prepare();
    lr_graph_fork_prepare();
    lr_thread_fork_prepare();
    lr_lockreg_fork_prepare();
    lr_stack_fork_prepare();
    lr_arena_fork_prepare();
}

static void fork_parent(void)
{
    lr_arena_fork_parent();
    lr_stack_fork_parent();
    lr_lockreg_fork_parent();
    lr_thread_fork_parent();
    lr_graph_fork_parent();
    lr_report_fork_parent();
    lr_thread *t = lr_thread_current();
    if (t)
        lr_leave(t);
}

static void fork_child(void)
{
    forked = 1;
    reports_pid = getpid();
    finished = 0;               /* the child ends, and says so, by itself */
    lr_arena_fork_child();
    lr_stack_fork_child();
    lr_lockreg_fork_child();
    lr_thread_fork_child();
    lr_graph_fork_child();
    lr_report_fork_child();
    lr_watchdog_fork_child();
    lr_race_fork_child();
    lr_misuse_fork_child();
    lr_ilock_fork_child();
    lr_thread *t = lr_thread_current();
    if (t)
        lr_leave(t);
}

lr_thread_info *lr_thread_before_create(lr_thread *self)
{
    if (!self)
        return NULL;
    int saved = errno;
    lr_enter(self);
    lr_thread_info *info = lr_thread_prepare_child(self);
    lr_race_thread_create(self, info);
    lr_leave(self);
    errno = saved;
    return info;
}

void lr_thread_started(lr_thread_info *info)
{
    /* A thread that starts before lockrace is ready stays counted as
     * about to run: Python's self-waits then wait for the watchdog's
     * verdict, rather than being called hopeless while it runs unseen */
    if (info && lr_runtime_ready()) {
        lr_thread_adopt(info);
        lr_thread_arrived();
    }
}

void lr_thread_not_created(lr_thread_info *info)
{
    if (info)
        lr_thread_create_failed(info);
}

lr_thread_info *lr_thread_joining(lr_thread *self, pthread_t thread)
{
    if (!self || !lr_race_active())
        return NULL;
    return lr_thread_info_by_handle((uintptr_t)thread);
}

void lr_thread_joined(lr_thread *self, lr_thread_info *target, int rc)
{
    if (self && target && rc == 0)
        lr_race_thread_joined(self, target);
}

void lr_thread_named(lr_thread *self, pthread_t thread, const char *name, int rc)
{
    if (!self || rc != 0)
        return;
    lr_thread_info *info = pthread_equal(thread, pthread_self())
                               ? self->info
                               : lr_thread_info_by_handle((uintptr_t)thread);
    if (info)
        lr_thread_set_name(info, name);
}
