/* lockrace's own locks: a three-state futex mutex (Drepper's "Futexes are
 * tricky", mutex 2). lockrace never calls the host's pthread_mutex_lock,
 * which would be its own wrapper. Internal lock order, outermost first:
 * report > graph > threads > registry (a shard's, then its records') > stacks > arena.
 *
 * A thread holds them with the program's asynchronous signals blocked. A
 * runtime that stops the world with a signal (mono's and Boehm's
 * collectors, a JVM's safepoints) parks each thread in its handler until
 * the collecting thread is done; one parked holding the graph's lock hung
 * the collector the moment it destroyed a mutex (mono, 4 runs in 81). The
 * signal now waits until the lock is let go: two system calls per
 * outermost hold of a process-wide lock (LR_ILOCK_INIT), once the program
 * has a handler for a signal runtimes park threads with
 * (lr_ilock_masking, set by the sigaction and signal wrappers); none
 * before, and none on the lock path, which takes none of these locks. */
#ifndef LR_ILOCK_H
#define LR_ILOCK_H

#include <linux/futex.h>
#include <signal.h>
#include <stdint.h>
#include <sys/syscall.h>
#include <unistd.h>

typedef struct lr_ilock {
    int state;                  /* 0 free, 1 locked, 2 locked with waiters */
    int masks;                  /* held with signals blocked: LR_ILOCK_INIT's, not a zeroed one's */
} lr_ilock;

/* lockrace's process-wide locks. The race engine's locks of each watched
 * variable and sync object, zeroed, and held for a few instructions on
 * every access, do not block signals. */
#define LR_ILOCK_INIT { 0, 1 }

/* Set once the program installed a handler that a signal from outside
 * may run in any thread (interpose/signal.c); never cleared. */
extern int lr_ilock_masking;

/* The calling thread's holds, and the signal mask it had before its first */
extern __thread struct lr_ilock_held {
    uint32_t depth;
    uint64_t mask;
} lr_ilock_held __attribute__((tls_model("initial-exec")));

/* Every signal but those a fault raises, which cannot wait (the kernel
 * ends a thread that faults with one blocked); SIGKILL and SIGSTOP cannot
 * be blocked. A raw system call: glibc's pthread_sigmask would leave its
 * own two (cancellation, set*id) unblocked, and those run code too. */
#define LR_ILOCK_SIG(n) (1ull << ((n) - 1))
#define LR_ILOCK_BLOCKED                                                                       \
    (~(LR_ILOCK_SIG(SIGSEGV) | LR_ILOCK_SIG(SIGBUS) | LR_ILOCK_SIG(SIGFPE) | LR_ILOCK_SIG(SIGILL) | \
       LR_ILOCK_SIG(SIGTRAP) | LR_ILOCK_SIG(SIGSYS)))

static inline void lr_ilock_signals_off(void)
{
    if (lr_ilock_held.depth++ == 0) {
        uint64_t blocked = LR_ILOCK_BLOCKED;
        syscall(SYS_rt_sigprocmask, SIG_BLOCK, &blocked, &lr_ilock_held.mask, sizeof blocked);
    }
}

static inline void lr_ilock_mask_restore(void)
{
    syscall(SYS_rt_sigprocmask, SIG_SETMASK, &lr_ilock_held.mask, NULL, sizeof lr_ilock_held.mask);
}

static inline void lr_ilock_signals_on(void)
{
    if (lr_ilock_held.depth > 0 && --lr_ilock_held.depth == 0)
        lr_ilock_mask_restore();
}

/* A lock held by a thread running on another CPU is let go within a few
 * hundred instructions (lockrace holds its locks that long): a taker
 * looks again LR_ILOCK_SPIN times before it sleeps. Going to sleep at
 * once cost a futex wait and a wake per contended hold: with 4 threads
 * making and ending locks on 2 CPUs (tests/stress churn 1000000 4), 1.27
 * s against 0.93 s with the looks (medians of 7 interleaved runs). */
#define LR_ILOCK_SPIN 100

static inline void lr_ilock_pause(void)
{
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#elif defined(__aarch64__)
    __asm__ __volatile__("yield");
#endif
}

static inline void lr_ilock_take(lr_ilock *l)
{
    if (l->masks && __atomic_load_n(&lr_ilock_masking, __ATOMIC_RELAXED))
        lr_ilock_signals_off();
    int c = 0;
    if (__atomic_compare_exchange_n(&l->state, &c, 1, 0, __ATOMIC_ACQUIRE, __ATOMIC_RELAXED))
        return;
    for (int spin = 0; spin < LR_ILOCK_SPIN; spin++) {
        lr_ilock_pause();
        c = __atomic_load_n(&l->state, __ATOMIC_RELAXED);
        if (c == 0 && __atomic_compare_exchange_n(&l->state, &c, 1, 0, __ATOMIC_ACQUIRE, __ATOMIC_RELAXED))
            return;
    }
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
    if (l->masks)
        lr_ilock_signals_on();      /* nothing if the take blocked nothing */
}

/* A handler was installed for signal `sig`: from now on, if it is one a
 * runtime parks threads with (mono's and Boehm's collectors: SIGPWR and
 * SIGXCPU; a JVM: SIGUSR2; others: SIGUSR1, a real-time signal),
 * lockrace holds its process-wide locks with signals blocked. Not for the
 * terminal's and the timers' signals (SIGINT, SIGTERM, SIGCHLD, SIGALRM
 * ...), whose handlers set a flag or end the process: CPython installs
 * one for SIGINT in every process, and masking cost it a system call
 * pair per Python frame lockrace interned (156,000 in a 20,000-item run
 * of bench/pythreads.py). */
static inline void lr_ilock_handler_installed(int sig)
{
    if (sig == SIGUSR1 || sig == SIGUSR2 || sig == SIGPWR || sig == SIGXCPU || sig == SIGSTKFLT ||
        sig == SIGVTALRM || sig == SIGPROF || sig >= 32)
        __atomic_store_n(&lr_ilock_masking, 1, __ATOMIC_RELAXED);
}

/* After fork the child's copy may be held by a thread that no longer exists. */
static inline void lr_ilock_reset(lr_ilock *l) { l->state = 0; }

/* The child of a fork made with the locks held (fork_prepare), once they
 * are all reset: holds none, with the mask it had before. */
static inline void lr_ilock_fork_child(void)
{
    if (lr_ilock_held.depth) {
        lr_ilock_held.depth = 0;
        lr_ilock_mask_restore();
    }
}

#endif
