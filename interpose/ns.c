/* unshare and setns: the namespace calls that fail with EINVAL in a
 * process of more than one thread (a new user namespace; setns into a
 * user or mount namespace). When the program is one thread, lockrace's
 * own watchdog thread must not be the second: it is ended first. And
 * chroot, after which the program's files are out of the process's sight:
 * what reports need of them is read first. Nothing else is observed; the
 * real result and errno are returned untouched. */
#include "real.h"
#include "runtime/runtime.h"

#include <sched.h>

/* unshare: CLONE_NEWUSER implies CLONE_THREAD, CLONE_VM implies
 * CLONE_SIGHAND, which implies CLONE_THREAD: one thread only (kernel/fork.c) */
#define ONE_THREAD_UNSHARE (CLONE_NEWUSER | CLONE_THREAD | CLONE_SIGHAND | CLONE_VM)
/* setns: a user namespace needs one thread, a mount namespace an fs_struct
 * shared with nobody (threads share it); 0 is any type */
#define ONE_THREAD_SETNS (CLONE_NEWUSER | CLONE_NEWNS)

LR_WRAPPER int unshare(int flags)
{
    lr_thread *self = lr_self();
    if (self && (flags & ONE_THREAD_UNSHARE))
        lr_watchdog_quiesce();
    return LR_REAL(unshare)(flags);
}

LR_WRAPPER int setns(int fd, int nstype)
{
    lr_thread *self = lr_self();
    if (self && (nstype == 0 || (nstype & ONE_THREAD_SETNS)))
        lr_watchdog_quiesce();
    return LR_REAL(setns)(fd, nstype);
}

LR_WRAPPER int chroot(const char *path)
{
    lr_runtime_before_chroot(lr_self());
    return LR_REAL(chroot)(path);
}
