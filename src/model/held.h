/* The locks a thread holds: a stack in its state, newest on top, each
 * entry with the chain key of the held set below it. Every engine reads it
 * (the lock-order engine's contexts are keyed by the chain, the race
 * engine's locksets are the held set, misuse asks "held by me?"); the
 * runtime pushes and pops it. Inline: a push and a pop are the lock path.
 *
 * A release below the top leaves a hole. Holes are closed, and the chain
 * keys above them made again, at once when at most LR_HELD_DENSE entries
 * are above the lowest one, else once, by the next acquisition
 * (lr_held_settle), so that letting go of n locks in any order costs
 * O(n). While there are
 * holes the chain is LR_CHAIN_UNSETTLED, which no context is learnt under,
 * so every acquisition takes a slow path that settles first; a push and a
 * pop take theirs (held_limit, hole_floor). The first LR_HELD_SCANNED
 * slots are found by a scan, the deep ones by an index (held.c).
 *
 * A signal handler may lock and unlock in the middle of a push: a slot is
 * reserved (emptied, then counted) before it is filled, so the handler
 * pushes and pops above it and cannot match or overwrite a half-written
 * entry. A hole is not a reserved slot: its address is LR_HELD_HOLE. */
#ifndef LR_HELD_H
#define LR_HELD_H

#include "model/lockreg.h"
#include "model/thread.h"

/* How a lock was asked for. */
enum lr_how {
    LR_BLOCKING,    /* may wait forever: edges into the lock */
    LR_BOUNDED,     /* timed: edges into the lock, marked bounded */
    LR_TRY,         /* cannot block: no edge into the lock */
};

#define LR_HELD_SCANNED 16u          /* slots found by a scan; above, by the index */
#define LR_HELD_DENSE 8u             /* holes with this few above are closed at once */
#define LR_HELD_NO_HOLE UINT32_MAX
#define LR_HELD_HOLE ((uintptr_t)1)  /* a hole's address: no lock's */
#define LR_CHAIN_UNSETTLED 0ull

static inline uint64_t lr_mix(uint64_t h, uint64_t v)
{
    h = (h ^ v) * 0xff51afd7ed558ccdull;
    return h ^ (h >> 33);
}

/* Unit tests run a "signal handler" in the middle of a push; the library
 * is built without it. */
#ifdef LR_TEST_HOOKS
extern void (*lr_held_push_hook)(void);
#define LR_PUSH_HOOK()                                                       \
    do {                                                                     \
        void (*hook_)(void) = lr_held_push_hook;                             \
        lr_held_push_hook = NULL;                                            \
        if (hook_)                                                           \
            hook_();                                                         \
    } while (0)
/* Entries a slow path looked at or moved: the tests bound it. */
extern uint64_t lr_held_steps;
#define LR_HELD_STEPS(n) (lr_held_steps += (n))
#else
#define LR_PUSH_HOOK() do { } while (0)
#define LR_HELD_STEPS(n) do { } while (0)
#endif

/* A fresh or recycled state's empty stack. */
void lr_held_reset(lr_thread *t);

/* A push past the scanned slots, when the stack is full or has holes:
 * settles, grows, pushes, indexes. */
void lr_held_push_slow(lr_thread *t, lr_lock *lock, uint64_t id, uintptr_t addr,
                       lr_stack_id stack, int how, int shared);

/* Fills slot n, which the caller has checked is free, for a push. */
static inline __attribute__((always_inline)) void
lr_held_fill(lr_thread *t, uint32_t n, lr_lock *lock, uint64_t id, uintptr_t addr,
             lr_stack_id stack, int how, int shared)
{
    lr_held *h = &t->held[n];
    /* a handler that locks and unlocks in the middle of the push leaves
     * t->chain as it found it (its pop restores its own entry's below) */
    uint64_t below = t->chain;
    h->lock = NULL;
    h->addr = 0;
    /* the fences only keep the compiler's stores in this order */
    __atomic_signal_fence(__ATOMIC_SEQ_CST);
    t->nheld = n + 1;
    __atomic_signal_fence(__ATOMIC_SEQ_CST);
    LR_PUSH_HOOK();
    h->addr = addr;
    h->id = id;
    h->below = below;
    h->stack = stack;
    h->depth = 1;
    h->how = (uint16_t)how;
    h->shared = (uint16_t)shared;
    __atomic_signal_fence(__ATOMIC_SEQ_CST);
    h->lock = lock;
    t->chain = lr_mix(below, id);
}

/* Pushes lock (identity id, at addr), taken at stack: how is enum lr_how,
 * shared a read lock. Scalars, not a struct: the lock path keeps them in
 * registers. */
static inline __attribute__((always_inline)) void
lr_held_push(lr_thread *t, lr_lock *lock, uint64_t id, uintptr_t addr, lr_stack_id stack, int how,
             int shared)
{
    if (__builtin_expect(t->nheld >= t->held_limit, 0)) {
        lr_held_push_slow(t, lock, id, addr, stack, how, shared);
        return;
    }
    lr_held_fill(t, t->nheld, lock, id, addr, stack, how, shared);
}

/* Closes the holes and makes the chain keys above them again: before
 * anything reads t->chain while it is LR_CHAIN_UNSETTLED. */
void lr_held_settle(lr_thread *t);

/* t->chain, settled. */
static inline uint64_t lr_held_chain(lr_thread *t)
{
    if (__builtin_expect(t->hole_floor != LR_HELD_NO_HOLE, 0))
        lr_held_settle(t);
    return t->chain;
}

/* The newest entry at addr when the stack is deeper than the scanned
 * slots (held.c); -1 when addr is not held. */
int lr_held_lookup(const lr_thread *t, uintptr_t addr);

/* The newest entry at addr, -1 when addr is not held. */
static inline __attribute__((always_inline)) int lr_held_at(const lr_thread *t, uintptr_t addr)
{
    if (__builtin_expect(t->nheld > LR_HELD_SCANNED, 0))
        return lr_held_lookup(t, addr);
    int i = (int)t->nheld - 1;
    while (i >= 0 && t->held[i].addr != addr)
        i--;
    return i;
}

/* The entry of lock l (this identity), -1 when not held. */
int lr_held_find(const lr_thread *t, const lr_lock *l);

/* One more level of a recursive hold on l; nothing when not held. */
void lr_held_again(lr_thread *t, const lr_lock *l);

/* Releases held[i]: one level of a recursive hold, or the entry itself,
 * by a pop or by a hole (closed at once when few entries are above it).
 * Returns 1 when the entry is gone. */
int lr_held_release_slow(lr_thread *t, int i);

/* The release of the newest entry, held once, at addr, with no hole below
 * it: 1 when it was that, and is popped; 0 changes nothing. */
static inline __attribute__((always_inline)) int lr_held_pop_top(lr_thread *t, uintptr_t addr)
{
    int i = (int)t->nheld - 1;
    /* unsigned: an empty stack's -1 is past any hole floor */
    if (__builtin_expect((uint32_t)i < t->hole_floor && t->held[i].addr == addr &&
                             t->held[i].depth == 1, 1)) {
        t->nheld = (uint32_t)i;
        t->chain = t->held[i].below;
        return 1;
    }
    return 0;
}

/* A release, found by the lock's address alone. Returns 1 when the address
 * is no longer held, 0 when it is still held (recursively) or was not. */
static inline __attribute__((always_inline)) int lr_held_released_at(lr_thread *t, uintptr_t addr)
{
    if (__builtin_expect(lr_held_pop_top(t, addr), 1))
        return 1;
    int i = lr_held_at(t, addr);
    return i < 0 ? 0 : lr_held_release_slow(t, i);
}

/* Depth of the hold on addr, 0 when not held. */
static inline uint32_t lr_held_depth(const lr_thread *t, uintptr_t addr)
{
    int i = lr_held_at(t, addr);
    return i < 0 ? 0 : t->held[i].depth;
}

/* The sweep behind lr_held_drop_stale. */
void lr_held_sweep_stale(lr_thread *t);

/* Drops held locks whose identity has ended (a semaphore found to be a
 * signal while this thread held it): none has when no semaphore was
 * forgotten since the last sweep. */
static inline void lr_held_drop_stale(lr_thread *t)
{
    uint64_t forgets = __atomic_load_n(&lr_lock_forgets, __ATOMIC_ACQUIRE);
    if (forgets != t->forgets_seen) {
        t->forgets_seen = forgets;
        lr_held_sweep_stale(t);
    }
}

#endif
