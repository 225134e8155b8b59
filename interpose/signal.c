/* sigaltstack: where each thread's alternate signal stack is, so that
 * lockrace knows, without a system call, when its deep work (unwinding, a
 * wait's round) runs on that stack and must move to one of its own
 * (src/support/bigstack.c). sigaction and signal: whether the program has
 * a handler a signal from outside may run in the middle of lockrace's own
 * code, which then holds its locks with signals blocked
 * (src/support/ilock.h). Nothing else is observed; the real result and
 * errno are returned untouched. */
#include "real.h"
#include "support/bigstack.h"
#include "support/ilock.h"

LR_WRAPPER int sigaction(int sig, const struct sigaction *act, struct sigaction *old)
{
    int rc = LR_REAL(sigaction)(sig, act, old);
    if (rc == 0 && act && act->sa_handler != SIG_DFL && act->sa_handler != SIG_IGN)
        lr_ilock_handler_installed(sig);
    return rc;
}

LR_WRAPPER sighandler_t signal(int sig, sighandler_t handler)
{
    sighandler_t rc = LR_REAL(signal)(sig, handler);
    if (rc != SIG_ERR && handler != SIG_DFL && handler != SIG_IGN)
        lr_ilock_handler_installed(sig);
    return rc;
}

LR_WRAPPER int sigaltstack(const stack_t *ss, stack_t *old)
{
    int rc = LR_REAL(sigaltstack)(ss, old);
    if (rc == 0 && ss)
        lr_bigstack_altstack_set(ss->ss_sp, ss->ss_size, !(ss->ss_flags & SS_DISABLE));
    return rc;
}
