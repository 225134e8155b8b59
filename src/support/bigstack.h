/* Running deep work on a stack of lockrace's own (src/support/bigstack.c). */
#ifndef LR_BIGSTACK_H
#define LR_BIGSTACK_H

/* Calls fn(arg) on lockrace's own 1 MiB stack, whatever stack the thread
 * is on (a small thread stack, a signal handler's alternate stack); on the
 * thread's own stack if that one could not be mapped, or off x86-64. One
 * caller at a time: the caller holds a lock that every caller takes
 * (report_lock). One system call once mapped (three from an alternate
 * signal stack); may run in a signal handler. */
void lr_bigstack_call(void (*fn)(void *), void *arg);

/* Calls fn(arg) where it has room: on the caller's stack, or, when the
 * caller runs on its alternate signal stack (a handler's, perhaps a few
 * KiB), on a 256 KiB stack of the calling thread's own, with signals
 * blocked meanwhile. Any thread at any time, also in a signal handler and
 * from inside fn. Costs one system call (sigaltstack): for cold paths
 * only (unwinding, a wait's round), never the lock path. */
void lr_bigstack_roomy(void (*fn)(void *), void *arg);

/* Unmaps the calling thread's own stack, if it had one: as it ends. */
void lr_bigstack_thread_end(void);

#endif
