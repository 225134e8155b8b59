/* sigaltstack: where each thread's alternate signal stack is, so that
 * lockrace knows, without a system call, when its deep work (unwinding, a
 * wait's round) runs on that stack and must move to one of its own
 * (src/support/bigstack.c). Nothing else is observed; the real result and
 * errno are returned untouched. */
#include "real.h"
#include "support/bigstack.h"

LR_WRAPPER int sigaltstack(const stack_t *ss, stack_t *old)
{
    int rc = LR_REAL(sigaltstack)(ss, old);
    if (rc == 0 && ss)
        lr_bigstack_altstack_set(ss->ss_sp, ss->ss_size, !(ss->ss_flags & SS_DISABLE));
    return rc;
}
