/* Per-thread state. Each thread reaches its lr_thread through one
 * initial-exec TLS pointer (the cheapest TLS model: INTERPOSITION.md §2.12).
 * The small lr_thread_info outlives the thread, so that reports can still
 * name a thread that has exited. */
#ifndef LR_THREAD_H
#define LR_THREAD_H

#include "model/lockreg.h"
#include "support/stack.h"
#include "detect/vclock.h"

#include <stdint.h>
#include <sys/types.h>

/* What a thread is blocked in right now (waitfor.c): written by the thread
 * itself, read by threads that block after it and by the watchdog. */
enum lr_wait_kind { LR_WAIT_NONE, LR_WAIT_LOCK, LR_WAIT_JOIN, LR_WAIT_COND, LR_WAIT_BARRIER,
                     LR_WAIT_SEM };

typedef struct lr_wait {
    uint32_t kind;              /* enum lr_wait_kind; NONE while running */
    uint32_t seq;               /* one more for every wait: tells a wait from the next */
    uintptr_t object;           /* the lock's or condition variable's address; for a join, the target's id */
    lr_lock *lock;              /* LR_WAIT_LOCK: the lock */
    lr_stack_id stack;          /* where the thread waits */
    uint8_t bounded;            /* a timed wait: it ends by itself */
    uint64_t since_ns;          /* CLOCK_MONOTONIC */
} lr_wait;

struct lr_thread;

typedef struct lr_thread_info {
    uint32_t id;                /* T0 = main thread, then in order of creation */
    uint32_t parent;            /* id of the creator; UINT32_MAX when unknown */
    pid_t tid;                  /* 0 until the thread runs */
    uintptr_t handle;           /* its pthread_t */
    lr_stack_id created_at;
    uint8_t descriptor_on_stack; /* started through the wrapper: handle is at the top of its
                                    stack's mapping (report.c) */
    char name[16];              /* from pthread_setname_np, else read at report time */
    void *(*start)(void *);     /* the start routine and argument, for the trampoline */
    void *start_arg;
    struct lr_thread *state;    /* its working state (held locks) while it runs, else NULL */
    int finished;               /* its start routine returned or it called pthread_exit */
    lr_wait wait;
    lr_vc vc;                   /* happens-before clock (race.c): written by the thread, read
                                   by its joiner once it ended */
} lr_thread_info;

typedef struct lr_held {
    lr_lock *lock;
    uintptr_t addr;             /* the lock's address, for unlock without a lookup */
    uint64_t id;                /* the lock's id when taken; a mismatch means destroyed */
    uint64_t chain;             /* chain key of the held set up to and including this lock */
    lr_stack_id stack;          /* where it was taken */
    uint32_t depth;             /* recursive re-acquisitions + 1 */
    uint8_t how;                /* enum lr_how */
    uint8_t shared;             /* held for reading (an rwlock's read lock) */
} lr_held;

/* A context this thread has met: (chain key, lock address, how, call
 * site) → the lock identity it was then, and its stack. The identity is
 * checked on every hit, so a lock destroyed and re-created at the same
 * address is learnt anew. */
typedef struct lr_ctx_slot {
    uint64_t key;
    lr_lock *lock;
    uint64_t id;
    uint32_t token;             /* lr_token: the stack, or LR_REENTRY */
} lr_ctx_slot;

/* The first context table, inside the thread's state: a thread that locks
 * little costs one page of memory, not three (lockorder.c). */
#define LR_CTX_INITIAL 32

typedef struct lr_thread {
    int depth;                  /* > 0 while inside lockrace: wrappers pass through */
    lr_thread_info *info;
    uint64_t chain;             /* chain key of the held set: held[nheld - 1].chain, or the seed */
    lr_held *held;
    uint32_t nheld, held_cap;
    lr_ctx_slot *ctx;           /* open addressing; their edges are in the graph */
    uint32_t ctx_mask, ctx_count;
    uint32_t ctx_shift;         /* 64 - log2(slots): the index is the key's top bits */
    uint64_t ctx_salt;          /* this thread in the contexts cached in mutexes (lockorder.h) */
    int exit_rounds;
    /* a deadlock seen once while blocked, to confirm after the next round */
    struct {
        uintptr_t pc;
        lr_stack_id stack;
    } sites[64];                /* stacks of waits and annotated accesses, by call site */
    uint64_t vc_version;        /* one more whenever an acquire may have grown info->vc */
    uint64_t lockset_chain;     /* race.c: the lockset interned for this chain key */
    const void *lockset;
    uint64_t suspect;           /* hash of the cycle (threads and wait numbers), 0 none */
    void *search;               /* the wait-for search's memory, kept between searches */
    size_t search_size;
    uint32_t wait_rounds;       /* bounded rounds of the current wait */
    uint32_t reported_seq;      /* the wait already reported as a deadlock (+1), 0 none */
    /* context tables replaced, kept for a probe that a signal handler
     * interrupted (lockorder.c); unmapped when the thread's state is reused */
    struct {
        lr_ctx_slot *slots;
        uint32_t n;
    } ctx_old[10];
    uint32_t ctx_nold;
    struct lr_thread *next_free;
    lr_held held_inline[16];
    lr_ctx_slot ctx_inline[LR_CTX_INITIAL];
} lr_thread;

#define LR_THREAD_DEAD ((lr_thread *)1)
#define LR_CHAIN_SEED 0x2545f4914f6cdd1dull

extern __thread lr_thread *lr_tls_thread __attribute__((tls_model("initial-exec")));

/* Per-thread state of the caller, created on first use; NULL when lockrace
 * must pass straight through (not ready, inside lockrace, thread ending). */
lr_thread *lr_self_slow(void);

static inline lr_thread *lr_self(void)
{
    lr_thread *t = lr_tls_thread;
    if (__builtin_expect(t > LR_THREAD_DEAD && t->depth == 0, 1))
        return t;
    return lr_self_slow();
}

/* The caller's state whatever its depth (for lockrace's own bookkeeping). */
lr_thread *lr_thread_current(void);

/* A thread record for a thread about to be created by the caller. */
lr_thread_info *lr_thread_prepare_child(lr_thread *parent);
/* Called first thing by a new thread, with the record its parent made. */
void lr_thread_adopt(lr_thread_info *info);
void lr_thread_set_name(lr_thread_info *info, const char *name);
/* The newest thread record with this pthread_t (or kernel tid), NULL if none. */
lr_thread_info *lr_thread_info_by_handle(uintptr_t handle);
lr_thread_info *lr_thread_info_by_tid(pid_t tid);
lr_thread_info *lr_thread_info_get(uint32_t id);
uint32_t lr_thread_count(void);
/* Frees the per-thread state of an exiting thread (the key destructor). */
void lr_thread_exit(void *state);

/* Registers the key whose destructor frees an ending thread's state. */
void lr_thread_init(void);

/* A thread's state that no real thread owns: unit tests drive the engines
 * with several of these from one thread. */
lr_thread *lr_thread_new_synthetic(void);

static inline void lr_enter(lr_thread *t) { __atomic_signal_fence(__ATOMIC_SEQ_CST); t->depth++; __atomic_signal_fence(__ATOMIC_SEQ_CST); }
static inline void lr_leave(lr_thread *t) { __atomic_signal_fence(__ATOMIC_SEQ_CST); t->depth--; __atomic_signal_fence(__ATOMIC_SEQ_CST); }

void lr_thread_fork_prepare(void);
void lr_thread_fork_parent(void);
void lr_thread_fork_child(void);

#endif
