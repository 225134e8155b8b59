/* Per-thread state. Each thread reaches its lr_thread through one
 * initial-exec TLS pointer (the cheapest TLS model: INTERPOSITION.md §2.12).
 * The small lr_thread_info outlives the thread, so that reports can still
 * name a thread that has exited. */
#ifndef LR_THREAD_H
#define LR_THREAD_H

#include "model/lockreg.h"
#include "support/stack.h"

#include <stdint.h>
#include <sys/types.h>

/* What a thread is blocked in right now (lr_wait_begin): written by the thread
 * itself, read by threads that block after it and by the watchdog. */
enum lr_wait_kind { LR_WAIT_NONE, LR_WAIT_LOCK, LR_WAIT_JOIN, LR_WAIT_COND, LR_WAIT_BARRIER,
                     LR_WAIT_SEM };

/* A wait for one known thread (a lock's holder, a joined thread's end):
 * the only kinds a deadlock cycle goes through. The others (a condition,
 * a barrier, a semaphore) have no thread that must act: only the watchdog
 * tells when they are hopeless. */
static inline int lr_wait_on_thread(uint32_t kind)
{
    return kind == LR_WAIT_LOCK || kind == LR_WAIT_JOIN;
}

typedef struct lr_wait {
    uint32_t kind;              /* enum lr_wait_kind; NONE while running */
    uint32_t seq;               /* one more for every wait: tells a wait from the next */
    uintptr_t object;           /* the lock's or condition variable's address; for a join, the target's id */
    lr_lock *lock;              /* LR_WAIT_LOCK: the lock */
    lr_stack_id stack;          /* where the thread waits */
    uint8_t bounded;            /* a timed wait, or one another process may end (a
                                   process-shared condition or barrier): no thread of
                                   this process is needed to end it */
    uint64_t since_ns;          /* CLOCK_MONOTONIC; 0 without the watchdog */
} lr_wait;

struct lr_thread;

typedef struct lr_thread_info {
    uint32_t id;                /* T0 = main thread, then in order of creation */
    uint32_t parent;            /* id of the creator; UINT32_MAX when unknown */
    pid_t tid;                  /* 0 until the thread runs */
    uintptr_t handle;           /* its pthread_t */
    lr_stack_id created_at;
    uint8_t descriptor_on_stack; /* started through the wrapper: handle is at the top of its
                                    stack's mapping (report/describe.c) */
    char name[16];              /* from pthread_setname_np, else read at report time */
    void *(*start)(void *);     /* the start routine and argument, for the trampoline */
    void *start_arg;
    uintptr_t stack_base;       /* a frame address at the top of its stack, where its code
                                   starts (lockorder.c: a call path's depth); 0 unknown */
    struct lr_thread *state;    /* its working state (held locks) while it runs, else NULL */
    int finished;               /* its start routine returned or it called pthread_exit */
    lr_stack_id exit_stack;     /* where it called pthread_exit holding a lock, else 0 */
    lr_wait wait;
} lr_thread_info;

typedef struct lr_held {
    lr_lock *lock;
    uintptr_t addr;             /* the lock's address, for unlock without a lookup */
    uint64_t id;                /* the lock's id when taken; a mismatch means destroyed */
    uint64_t below;             /* chain key of the held set below this entry: the seed for
                                   the first; its own is the next one's below, or t->chain */
    /* depth, how and shared fill one 8-byte word, which a mutex's push
     * writes with one store (all three are constants there) */
    uint32_t depth;             /* recursive re-acquisitions + 1 */
    uint16_t how;               /* enum lr_how */
    uint16_t shared;            /* held for reading (an rwlock's read lock) */
    lr_stack_id stack;          /* where it was taken */
} lr_held;

/* A thread's working state: the model's part. The engines keep their own
 * per-thread state in parts that follow it in the same mapping: each asks
 * for its part once, at start (lr_thread_add_part), and finds it at the
 * offset it was given. The model makes, recycles and hands out states and
 * never looks inside a part. */
typedef struct lr_thread {
    int depth;                  /* > 0 while inside lockrace: wrappers pass through */
    lr_thread_info *info;
    uint64_t chain;             /* chain key of the held set: lr_mix(top's below, top's id), the
                                   seed, or LR_CHAIN_UNSETTLED while there are holes */
    lr_held *held;              /* model/held.h */
    uint32_t nheld, held_cap;
    uint32_t held_limit;        /* a push at nheld >= this takes the slow path: the
                                   scanned slots' end, or 0 while there are holes */
    uint32_t hole_floor;        /* the lowest hole in held, LR_HELD_NO_HOLE for none */
    struct lr_held_slot *held_index;   /* addr -> slot for the deep slots (held.c) */
    uint32_t held_index_mask, held_index_used;
    uint64_t forgets_seen;      /* lr_lock_forgets at its last stale sweep (held.h) */
    int exit_rounds;
    uint32_t number;            /* the state's, 1 up, kept when the state is recycled: the
                                   threads that have it never run at once; 0: past LR_STATES */
    struct lr_thread *next_free;
    lr_held held_inline[16];
} lr_thread;

/* States are numbered as they are made: an engine that keeps work in a
 * thread's state for other threads to read names it by number. */
#define LR_STATES (1u << 16)

/* The state with this number (NULL: none made yet); any thread. */
lr_thread *lr_thread_numbered(uint32_t number);

/* Room for a part of `size` bytes in every thread state; returns its
 * offset from the state's start (aligned for any type). Only before the
 * first state is made: returns 0, no room, after that. `start`, when
 * given, runs each time a state is handed to a thread: `reused` 0 for a
 * new state (the part is zeroes), 1 for a recycled one (the part as the
 * last thread left it); it returns -1 when the thread cannot have its
 * part. Without `start`, a recycled part is zeroed. */
size_t lr_thread_add_part(size_t size, int (*start)(lr_thread *t, void *part, int reused));

/* The first part asked for is here: a constant, so that the engine on the
 * lock path (lock order, which asks first) reaches its part with no load. */
#define LR_THREAD_FIRST_PART ((sizeof(lr_thread) + 63) & ~(size_t)63)

/* How deep the thread's stack is at the caller's frame: bytes below the
 * top of the stack lockrace knows (stack_base), 0 when it knows none. Two
 * paths to one call site are nearly always at two depths. Always inline:
 * the frame is the caller's. */
static inline __attribute__((always_inline)) uintptr_t lr_thread_depth_here(const lr_thread *t)
{
    uintptr_t base = t->info->stack_base;
    return base ? base - (uintptr_t)__builtin_frame_address(0) : 0;
}

static inline void *lr_thread_part(lr_thread *t, size_t offset)
{
    return (char *)t + offset;
}

/* The runtime's function called at every thread's very end (the last
 * round of the key destructors: after its cleanup handlers, C++
 * thread_local destructors and the program's key destructors), whether or
 * not the runtime was told it finished (a cancelled thread was not); set
 * at start. */
void lr_thread_on_end(void (*fn)(lr_thread_info *info));

/* lr_tls_thread of a thread without a state: NONE, not met yet (its
 * initial value), or DEAD, ending or being attached (its calls pass
 * through). Both are states no thread runs in, whose depth is 1: lr_self's
 * usual case is then one test, of depth. */
extern lr_thread lr_thread_none, lr_thread_dead;
#define LR_THREAD_NONE (&lr_thread_none)
#define LR_THREAD_DEAD (&lr_thread_dead)
#define LR_CHAIN_SEED 0x2545f4914f6cdd1dull

extern __thread lr_thread *lr_tls_thread __attribute__((tls_model("initial-exec")));

/* Attaches the calling thread, met for the first time, and returns its new
 * state; NULL when it cannot have one now (inside lockrace, ending). The
 * runtime decides when (lr_self). */
lr_thread *lr_thread_attach(void);

/* The caller's state whatever its depth (for lockrace's own bookkeeping). */
lr_thread *lr_thread_current(void);

/* A thread record for a thread about to be created by the caller. */
lr_thread_info *lr_thread_prepare_child(lr_thread *parent);
/* Called first thing by a new thread, with the record its parent made. */
void lr_thread_adopt(lr_thread_info *info);
/* The end of a creation: the new thread runs (after lr_thread_adopt), or
 * its creation failed (its record is finished). */
void lr_thread_arrived(void);
void lr_thread_create_failed(lr_thread_info *info);
/* Whether any thread but self runs or is about to (created, not started
 * yet): a wait only another thread can end is not hopeless. One step when
 * the thread it found last still runs, else as many as threads run at once
 * (lr_thread_walk). */
int lr_thread_others_run(const lr_thread_info *self);
void lr_thread_set_name(lr_thread_info *info, const char *name);
/* The newest thread record with this pthread_t (or kernel tid), NULL if none. */
lr_thread_info *lr_thread_info_by_handle(uintptr_t handle);
lr_thread_info *lr_thread_info_by_tid(pid_t tid);
lr_thread_info *lr_thread_info_get(uint32_t id);
uint32_t lr_thread_count(void);

/* A walk over the records of the threads that run now (those with a
 * working state): as many steps as threads ever ran at once, not as many
 * as the process ever had (a thread pool that made 20,000 threads waits on
 * its conditions as fast as one that made 4). A thread that starts or
 * ends during the walk may be seen or not. */
typedef struct lr_thread_walk {
    uint32_t next;
    uint8_t every;              /* more states than numbers: walks every record */
} lr_thread_walk;
lr_thread_walk lr_thread_walk_start(void);
lr_thread_info *lr_thread_walk_next(lr_thread_walk *w);
/* Frees the per-thread state of an exiting thread (the key destructor). */
void lr_thread_exit(void *state);

/* Registers the key whose destructor frees an ending thread's state. */
void lr_thread_init(void);

/* A thread's state that no real thread owns: unit tests drive the engines
 * with several of these from one thread. */
lr_thread *lr_thread_new_synthetic(void);

static inline void lr_enter(lr_thread *t) { __atomic_signal_fence(__ATOMIC_SEQ_CST); t->depth++; __atomic_signal_fence(__ATOMIC_SEQ_CST); }
static inline void lr_leave(lr_thread *t) { __atomic_signal_fence(__ATOMIC_SEQ_CST); t->depth--; __atomic_signal_fence(__ATOMIC_SEQ_CST); }

/* Starts and ends a wait of the calling thread: published in its record
 * for the threads that block after it and for the watchdog. */
void lr_wait_begin(lr_thread_info *self, int kind, uintptr_t object, lr_lock *lock,
                   lr_stack_id stack, int bounded);
void lr_wait_end(lr_thread_info *self);

void lr_thread_fork_prepare(void);
void lr_thread_fork_parent(void);
void lr_thread_fork_child(void);

#endif
