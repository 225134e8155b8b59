/* Running deep work on a stack of lockrace's own (src/support/bigstack.c). */
#ifndef LR_BIGSTACK_H
#define LR_BIGSTACK_H

/* Calls fn(arg) on lockrace's own 1 MiB stack, whatever stack the thread
 * is on (a small thread stack, a signal handler's alternate stack); on the
 * thread's own stack if that one could not be mapped, or off x86-64. One
 * caller at a time: the caller holds a lock that every caller takes
 * (report_lock). No system call once mapped; may run in a signal handler. */
void lr_bigstack_call(void (*fn)(void *), void *arg);

#endif
