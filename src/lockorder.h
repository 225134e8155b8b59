/* The per-thread side of lock-order checking: the held-lock stack, its
 * chain key, and the cache of acquisition contexts already validated.
 * Engine code: it takes lr_lock objects and a call site, knows nothing of
 * pthreads, and is driven directly by the unit tests. */
#ifndef LR_LOCKORDER_H
#define LR_LOCKORDER_H

#include "thread.h"

enum lr_how {
    LR_BLOCKING,    /* may wait forever: edges into the lock */
    LR_BOUNDED,     /* timed: edges into the lock, marked bounded */
    LR_TRY,         /* cannot block: no edge into the lock */
};

/* Returned by lr_order_check, handed back to lr_order_acquired. */
typedef uint32_t lr_token;

/* Before a blocking or bounded acquisition: adds the edges held → l the
 * first time this thread takes l in this context (and reports any cycle
 * they close). Seen-before contexts cost a hash and a probe; no lock, no
 * allocation, no unwinding. */
lr_token lr_order_check(lr_thread *t, lr_lock *l, int how, uintptr_t pc);

/* After a successful acquisition of any kind. For LR_TRY pass token 0. */
void lr_order_acquired(lr_thread *t, lr_lock *l, int how, uintptr_t pc, lr_token token);

/* A release; returns 1 when the thread held l (0: it did not, or it holds
 * it recursively still). *was_held tells the difference when not NULL. */
int lr_order_released(lr_thread *t, lr_lock *l, int *was_held);

/* Index of l in the thread's held stack, -1 when not held. */
int lr_order_find_held(const lr_thread *t, const lr_lock *l);

#endif
