/* lockrace's own locks: a three-state futex mutex (Drepper's "Futexes are
 * tricky", mutex 2). lockrace never calls the host's pthread_mutex_lock,
 * which would be its own wrapper. Internal lock order, outermost first:
 * report > graph > threads > registry > stacks > arena. */
#ifndef LR_ILOCK_H
#define LR_ILOCK_H

#include <linux/futex.h>
#include <sys/syscall.h>
#include <unistd.h>

typedef struct lr_ilock { int state; } lr_ilock;   /* 0 free, 1 locked, 2 locked with waiters */

#define LR_ILOCK_INIT { 0 }

static inline void lr_ilock_take(lr_ilock *l)
{
    int c = 0;
    if (__atomic_compare_exchange_n(&l->state, &c, 1, 0, __ATOMIC_ACQUIRE, __ATOMIC_RELAXED))
        return;
    if (c != 2)
        c = __atomic_exchange_n(&l->state, 2, __ATOMIC_ACQUIRE);
    while (c != 0) {
        syscall(SYS_futex, &l->state, FUTEX_WAIT_PRIVATE, 2, NULL, NULL, 0);
        c = __atomic_exchange_n(&l->state, 2, __ATOMIC_ACQUIRE);
    }
}

static inline void lr_ilock_drop(lr_ilock *l)
{
    if (__atomic_exchange_n(&l->state, 0, __ATOMIC_RELEASE) == 2)
        syscall(SYS_futex, &l->state, FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0);
}

/* After fork the child's copy may be held by a thread that no longer exists. */
static inline void lr_ilock_reset(lr_ilock *l) { l->state = 0; }

#endif
