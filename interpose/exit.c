/* _exit and _Exit: a process that reported and ends through them gets the
 * exit status, and the summary line, it gets through exit() (runtime.c's
 * on_exit handler, which these skip): exitcode in place of a 0. Both are
 * async-signal-safe and often called in a signal handler or a vfork
 * child; the runtime takes no lock of its own when this thread is inside
 * lockrace, and leaves a vfork child's status alone. */
#include "real.h"
#include "runtime/runtime.h"

#include <stdlib.h>
#include <sys/syscall.h>
#include <unistd.h>

static __attribute__((noreturn)) void end(void (*real)(int), int status)
{
    status = lr_runtime_exit(status);
    if (real)
        real(status);
    for (;;)
        syscall(SYS_exit_group, status);    /* no real one: glibc without it */
}

LR_WRAPPER void _exit(int status)
{
    end(LR_REAL(_exit), status);
}

LR_WRAPPER void _Exit(int status)
{
    end(LR_REAL(_Exit), status);
}
