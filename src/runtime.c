/* Bootstrap, options, exit status and fork.
 *
 * Bootstrap runs on the first wrapper call or in the constructor, whichever
 * comes first: other libraries' constructors lock mutexes before ours runs.
 * It is idempotent and guarded by one atomic state, not pthread_once (a
 * wrapped symbol). While it runs, calls from any thread pass through; the
 * wrappers resolve the real functions themselves (interpose/real.h), so
 * passing through works whenever it happens. */
#include "runtime.h"
#include "race.h"
#include "arena.h"
#include "lockgraph.h"
#include "options.h"
#include "report.h"
#include "stack.h"
#include "util.h"
#include "watch.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

enum { STATE_NEW, STATE_STARTING, STATE_READY };

static int state = STATE_NEW;

static void at_exit(void);
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

static void read_options(void)
{
    char err[512];
    lr_options_defaults(&lr_opt);
    const char *env = getenv("LOCKRACE_OPTIONS");
    if (env && lr_options_parse(&lr_opt, env, err, sizeof err) < 0)
        fail_options(err);
}

static void bootstrap(void)
{
    read_options();
    lr_stack_init();
    lr_thread_init();
    lr_report_init();
    lr_wait_init();
    pthread_atfork(fork_prepare, fork_parent, fork_child);
    atexit(at_exit);
    if (lr_opt.verbosity >= 2) {
        char line[160];
        snprintf(line, sizeof line, "lockrace: watching process %d\n", (int)getpid());
        lr_write_str(2, line);
    }
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

__attribute__((constructor)) static void lockrace_constructor(void)
{
    lr_runtime_ready();
    lr_self();   /* the main thread gets T0 even when it locks nothing */
    /* here, not in the bootstrap: every library loaded at start is mapped
     * and relocated, and no thread of the program's runs yet */
    lr_watch_start(lr_opt.watch);
}

/* An atexit handler registered before main, so it runs after the
 * program's own handlers and C++ static destructors. The exit status can
 * only be changed by ending the process here; stdio is flushed first. */
static void at_exit(void)
{
    lr_race_flush();
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
    if (n == 0 && lr_report_suppressed() == 0)
        return;
    lr_thread *t = lr_thread_current();
    if (t)
        lr_enter(t);
    lr_race_summary();
    if (lr_opt.verbosity >= 1)
        lr_report_summary();
    if (lr_opt.exitcode != 0 && n) {
        fflush(NULL);
        _exit(lr_opt.exitcode);
    }
    if (t)
        lr_leave(t);
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
    lr_arena_fork_child();
    lr_stack_fork_child();
    lr_lockreg_fork_child();
    lr_thread_fork_child();
    lr_graph_fork_child();
    lr_report_fork_child();
    lr_watchdog_fork_child();
    lr_watch_fork_child();
    lr_race_fork_child();
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
    if (info && lr_runtime_ready())
        lr_thread_adopt(info);
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
