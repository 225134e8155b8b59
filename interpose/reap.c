/* wait, waitpid, wait3, wait4 and waitid: the calls that tell a parent how
 * its child ended. A child a signal ended (a crash, a test runner's
 * timeout), or one that became a program lockrace cannot run in (static,
 * set-uid), wrote no exit record of its own; its parent, which lockrace
 * runs in too, has the runtime write one for it (docs/json.md, `exit`),
 * so that the launcher knows how it ended. Nothing else is observed: the
 * real result and errno are returned, and a status the caller did not ask
 * for (NULL) is read into one of ours. */
#include "real.h"
#include "runtime/runtime.h"

#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>

/* status is read after the call returned, not as an argument next to it
 * (C leaves the order of a call's arguments open) */
static pid_t reaped(pid_t pid, const int *status)
{
    /* not a child stopped or continued (WUNTRACED, WCONTINUED) */
    if (pid > 0 && (WIFEXITED(*status) || WIFSIGNALED(*status)) && lr_self()) {
        int saved = errno;
        lr_runtime_child_ended(pid, WIFSIGNALED(*status) ? WTERMSIG(*status) : WEXITSTATUS(*status),
                               WIFSIGNALED(*status));
        errno = saved;
    }
    return pid;
}

LR_WRAPPER pid_t wait(int *status)
{
    int own;
    int *st = status ? status : &own;
    return reaped(LR_REAL(wait)(st), st);
}

LR_WRAPPER pid_t waitpid(pid_t pid, int *status, int options)
{
    int own;
    int *st = status ? status : &own;
    return reaped(LR_REAL(waitpid)(pid, st, options), st);
}

LR_WRAPPER pid_t wait3(int *status, int options, struct rusage *usage)
{
    int own;
    int *st = status ? status : &own;
    return reaped(LR_REAL(wait3)(st, options, usage), st);
}

LR_WRAPPER pid_t wait4(pid_t pid, int *status, int options, struct rusage *usage)
{
    int own;
    int *st = status ? status : &own;
    return reaped(LR_REAL(wait4)(pid, st, options, usage), st);
}

/* si_pid is 0 when WNOHANG found no child that changed state (the kernel
 * clears the structure) */
LR_WRAPPER int waitid(idtype_t type, id_t id, siginfo_t *info, int options)
{
    siginfo_t own;
    siginfo_t *in = info ? info : &own;
    if (!info)
        memset(&own, 0, sizeof own);
    int rc = LR_REAL(waitid)(type, id, in, options);
    if (rc == 0 && in->si_pid > 0 &&
        (in->si_code == CLD_EXITED || in->si_code == CLD_KILLED || in->si_code == CLD_DUMPED) &&
        lr_self()) {
        int saved = errno;
        lr_runtime_child_ended(in->si_pid, in->si_status, in->si_code != CLD_EXITED);
        errno = saved;
    }
    return rc;
}
