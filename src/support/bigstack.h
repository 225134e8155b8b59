/* Running deep work on a stack of lockrace's own (src/support/bigstack.c). */
#ifndef LR_BIGSTACK_H
#define LR_BIGSTACK_H

#include <stddef.h>

/* Calls fn(arg) on lockrace's own 1 MiB stack, whatever stack the thread
 * is on (a small thread stack, a signal handler's alternate stack); on the
 * thread's own stack if that one could not be mapped, or off x86-64. One
 * caller at a time: the caller holds a lock that every caller takes
 * (report_lock). No system call once mapped (two, blocking signals and
 * back, when called on an alternate signal stack); may run in a signal
 * handler. */
void lr_bigstack_call(void (*fn)(void *), void *arg);

/* Calls fn(arg) where it has room: on the caller's stack, or, when the
 * caller runs on its alternate signal stack (a handler's, perhaps a few
 * KiB), on a 256 KiB stack of the calling thread's own, with signals
 * blocked meanwhile. Any thread at any time, also in a signal handler and
 * from inside fn. A few loads and a compare, and one system call in each
 * thread's first: for cold paths (unwinding, a wait's round), never the
 * lock path. */
void lr_bigstack_roomy(void (*fn)(void *), void *arg);

/* The calling thread's alternate signal stack is now [sp, sp + size), or
 * none (enabled 0): the sigaltstack wrapper says so after each change. */
void lr_bigstack_altstack_set(const void *sp, size_t size, int enabled);

/* Unmaps the calling thread's own stack, if it had one: as it ends. */
void lr_bigstack_thread_end(void);

#endif
