/* The per-thread side of lock-order checking: the held-lock stack, its
 * chain key, and the cache of acquisition contexts already validated.
 * Engine code: it takes lock addresses, types and call sites, knows
 * nothing of pthreads, and is driven directly by the unit tests.
 *
 * The hot path lives here, inline, so that a seen-before acquisition is a
 * few dozen instructions: a context key (two independent multiplies and one
 * mix), one probe of a per-thread table that also yields the lock's
 * identity (no registry lookup), a push; a release is a pop. A blocking
 * lock of a mutex this thread took last in the same context needs neither
 * key nor table: the mutex caches it (lr_order_mutex_known). No lock, no
 * allocation, no unwinding, no call. Cost measured by bench/lockbench
 * (README.md, Overhead: 108 instructions a lock/unlock pair more than
 * native, callgrind). */
#ifndef LR_LOCKORDER_H
#define LR_LOCKORDER_H

#include "model/held.h"
#include "model/thread.h"

#include <string.h>

/* The stack of an acquisition, or LR_REENTRY for a recursive mutex the
 * thread already holds (no edge, one more level). */
typedef uint32_t lr_token;
#define LR_REENTRY 0x80000000u

/* One acquisition in flight, on the wrapper's stack between its before and
 * after calls. */
typedef struct lr_acquisition {
    uintptr_t addr;
    uintptr_t pc;               /* the program's call site */
    int type;                   /* enum lr_lock_type, read from the object */
    int how;                    /* enum lr_how */
    int shared;                 /* a read lock of an rwlock */
    lr_lock *lock;              /* NULL until the context is known */
    uint64_t lock_id;           /* its id then: the push needs no load from *lock */
    lr_token token;
    uint64_t id;                /* semaphores: the lock's id before the wait */
} lr_acquisition;

#define LR_CTX_MAX (1u << 9)    /* slots: 16 KiB, up to 255 contexts (lockorder.c) */

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

/* The first context table, inside the thread's part: a thread that locks
 * little costs one page of memory, not three. */
#define LR_CTX_INITIAL 32
#define LR_CTX_GROWTH 16        /* 32, then 512 slots (lockorder.c) */
#define LR_SITE_MEMO 32         /* 512 bytes */
#define LR_SHARE_DEPTHS 8       /* held-set depths told apart; deeper ones count as the last */

/* The engine's part of a thread's state (model/thread.h). */
typedef struct lr_order_thread {
    lr_ctx_slot *ctx;           /* open addressing; their edges are in the graph */
    uint32_t ctx_mask, ctx_count;
    uint32_t ctx_shift;         /* 64 - log2(slots): the index is the key's top bits */
    uint64_t ctx_salt;          /* this thread in the contexts cached in mutexes */
    uint32_t stacks_before;     /* stacks stored before the thread began: none is shared from it */
    /* the slots in use, a bit each: a probe stops at a slot not in use
     * without reading it, a slot is filled without reading it, and the
     * table is emptied by clearing 64 bytes, not its 16 KiB (a program of
     * short threads meets mostly new contexts, and each read of a slot
     * was a cache miss: 64 tables fill the processor's cache) */
    uint64_t ctx_used[LR_CTX_MAX / 64];
    /* the table replaced by the last growth (at most one: the inline
     * table is part of the state), kept for a probe that a signal handler
     * interrupted; unmapped when the table is emptied or the state reused */
    lr_ctx_slot *ctx_old;
    uint32_t ctx_old_n;
    struct lr_back_log *back;   /* edges held back (lockgraph_back.c); kept with the state */
    struct lr_site_memo {       /* acquisition sites' stacks found lately (lockorder.c) */
        uint64_t key;           /* the site's key ^ ctx_salt: another thread's never match */
        lr_token token;
    } sites[LR_SITE_MEMO];
    struct lr_share {           /* per depth of the held set: does the process-wide table pay? */
        uint16_t looks, found;  /* since the last verdict */
        uint16_t skipped;       /* learns that did not look, while off */
        uint8_t off;            /* 1: only one learn in LR_SHARE_SAMPLE looks and publishes */
    } share[LR_SHARE_DEPTHS];
    lr_ctx_slot ctx_inline[LR_CTX_INITIAL];
} lr_order_thread;

/* The engine's part is the first in every thread's state (lr_order_init
 * asks for it before any other engine). */
static inline lr_order_thread *lr_order_of(const lr_thread *t)
{
    return (lr_order_thread *)lr_thread_part((lr_thread *)t, LR_THREAD_FIRST_PART);
}

/* Asks the model for the engine's per-thread part; once, before the
 * first thread state and before any other engine's part. */
void lr_order_init(void);

/* Looks in the process-wide context table, and those that found the
 * context: the unit tests count them; the library is built without. */
#ifdef LR_TEST_HOOKS
extern uint64_t lr_order_looks, lr_order_looks_found;
#define LR_LOOKED(found) (lr_order_looks++, lr_order_looks_found += (uint64_t)(found))
#else
#define LR_LOOKED(found) ((void)0)
#endif

/* slow paths, lockorder.c; 0: the context must not be cached (the next
 * acquisition in it must be learnt again) */
int lr_order_learn(lr_thread *t, lr_acquisition *a, uint64_t key);


/* Two independent multiplies, no final mix: the table is indexed by the
 * top bits of the key, where multiplicative hashing puts its entropy (the
 * chain key is itself mixed). */
static inline uint64_t lr_context_key(uint64_t chain, uintptr_t addr, int how, uintptr_t pc)
{
    return (chain ^ (addr * 0x9e3779b97f4a7c15ull) ^ (pc * 0xc2b2ae3d27d4eb4full) ^
            ((uint64_t)how << 1)) | 1;   /* 0 marks an empty slot; how includes the mode */
}

static inline uint32_t lr_context_index(const lr_order_thread *o, uint64_t key)
{
    return (uint32_t)(key >> o->ctx_shift);
}

static inline int lr_context_used(const lr_order_thread *o, uint32_t i)
{
    return (int)(o->ctx_used[i >> 6] >> (i & 63)) & 1;
}

/* A mutex keeps the context of its last acquisition, by the thread that
 * made it, next to its tag: 32 bits of a check and the stack token. A
 * thread that takes a mutex again the way it took it last time finds
 * everything in the mutex's own cache line, which the lock call itself has
 * just brought in: with many locks, the context table's line and the lock
 * record's are cold. A mismatch (another thread, another context) is a
 * probe of the table, as without it. Only for tagged mutexes: the tag says
 * __list is lockrace's.
 *
 * The check is the high bits of the context key's parts, with the lock's
 * id folded into the address (the mutex is at that address: the xor tells
 * its ids apart) and the thread's salt: the held set's chain key, the
 * call site, how (above bit 32, where the key has none of it) and the
 * lock. A blocking lock checks it from the chain and the call site alone
 * (lr_order_mutex_known), without the key. */
#define LR_CTX_CHECK 0xffffffff00000000ull

static inline uint64_t lr_mutex_context_check(const lr_thread *t, uint64_t chain, uintptr_t addr,
                                              uintptr_t pc, int how, uintptr_t tag)
{
    return (chain ^ lr_order_of(t)->ctx_salt ^ ((uint64_t)(addr ^ tag) * 0x9e3779b97f4a7c15ull) ^
            (pc * 0xc2b2ae3d27d4eb4full) ^ ((uint64_t)how << 32)) & LR_CTX_CHECK;
}

/* A re-entry is not kept: it is a recursive mutex this thread holds,
 * which never looks free, so the lock path would not take it from the
 * mutex (lr_order_push_known pushes a stack). */
static inline void lr_mutex_context_keep(const lr_thread *t, const lr_acquisition *a)
{
    if (a->type <= LR_ADAPTIVE && a->lock_id && a->token != LR_REENTRY &&
        __atomic_load_n(lr_mutex_tag(a->addr), __ATOMIC_RELAXED) == (uintptr_t)a->lock_id)
        __atomic_store_n(lr_mutex_context(a->addr),
                         (uintptr_t)(lr_mutex_context_check(t, t->chain, a->addr, a->pc,
                                                            a->how | a->shared << 2,
                                                            (uintptr_t)a->lock_id) |
                                     a->token),
                         __ATOMIC_RELAXED);
}

/* A context's lock is still the lock it was (identity `id`) at this
 * address. A mutex still tagged with the lock's id is still that lock
 * (destroy clears the tag, init zeroes it). Otherwise: a forgotten lock has
 * id 0, a recycled one a new id (lockreg.h). */
static inline int lr_context_still(const lr_acquisition *a, const lr_lock *l, uint64_t id)
{
    return (a->type <= LR_ADAPTIVE &&
            __atomic_load_n(lr_mutex_tag(a->addr), __ATOMIC_RELAXED) == (uintptr_t)id) ||
           (l->id == id && (a->type > LR_ADAPTIVE || lr_mutex_same(a->addr, id)));
}

/* The slot of the context with this key in the thread's table, NULL when
 * it has none. */
static inline const lr_ctx_slot *lr_order_slot(const lr_thread *t, uint64_t key)
{
    const lr_order_thread *o = lr_order_of(t);
    for (uint32_t i = lr_context_index(o, key); lr_context_used(o, i); i = (i + 1) & o->ctx_mask)
        if (o->ctx[i].key == key)
            return &o->ctx[i];
    return NULL;
}

/* The context table: finds the lock and the stack of this acquisition's
 * context; the first time (or when the lock at this address is a new
 * identity) the slow path looks the lock up, unwinds once and adds the
 * edges held → lock, which reports any cycle they close. */
static inline int lr_order_probe(lr_thread *t, lr_acquisition *a, uint64_t key)
{
    const lr_ctx_slot *s = lr_order_slot(t, key);
    lr_lock *l = s ? s->lock : NULL;    /* never NULL in a slot marked in use once filled */
    if (__builtin_expect(l && lr_context_still(a, l, s->id), 1)) {
        a->lock = l;
        a->lock_id = s->id;
        a->token = s->token;
        return 1;
    }
    return lr_order_learn(t, a, key);
}

/* A mutex's context when its own cache missed (lockorder.c). */
void lr_order_mutex_probe(lr_thread *t, lr_acquisition *a, uint64_t key);

/* A blocking lock of a mutex that this thread last took in this same
 * context (held set, call site): its lock record, and the lock's id and
 * the stack in *id and *token; NULL when the mutex's own cache does not
 * say so (lr_order_before then). Reads the mutex and nothing else: no
 * acquisition record, no context key. */
static inline __attribute__((always_inline)) lr_lock *
lr_order_mutex_known(const lr_thread *t, uintptr_t addr, uintptr_t pc, uint64_t *id, lr_token *token)
{
    uintptr_t tag = __atomic_load_n(lr_mutex_tag(addr), __ATOMIC_RELAXED);
    uintptr_t cached = __atomic_load_n(lr_mutex_context(addr), __ATOMIC_RELAXED);
    /* an untagged (robust, process-shared) mutex's __list holds glibc's
     * pointers: they match the check once in 2^32, and then are no lock's
     * slot (lr_lock_of_id) */
    if (__builtin_expect(!tag || (cached & LR_CTX_CHECK) !=
                                     lr_mutex_context_check(t, t->chain, addr, pc, LR_BLOCKING, tag), 0))
        return NULL;
    *id = tag;
    *token = (lr_token)cached;
    return lr_lock_of_id(tag);
}

/* The key of this acquisition's context, under the thread's held set. */
static inline uint64_t lr_order_key(const lr_thread *t, const lr_acquisition *a)
{
    return lr_context_key(t->chain, a->addr, a->how | a->shared << 2, a->pc);
}

static inline __attribute__((always_inline)) void lr_order_context(lr_thread *t, lr_acquisition *a)
{
    uint64_t key = lr_order_key(t, a);
    if (a->type > LR_ADAPTIVE) {
        lr_order_probe(t, a, key);
        return;
    }
    uintptr_t tag = __atomic_load_n(lr_mutex_tag(a->addr), __ATOMIC_RELAXED);
    uintptr_t cached = __atomic_load_n(lr_mutex_context(a->addr), __ATOMIC_RELAXED);
    lr_lock *l;
    if (__builtin_expect(tag && (cached & LR_CTX_CHECK) ==
                                    lr_mutex_context_check(t, t->chain, a->addr, a->pc,
                                                           a->how | a->shared << 2, tag), 1) &&
        (l = lr_lock_of_id(tag))) {
        a->lock = l;
        a->lock_id = tag;
        a->token = (lr_token)cached;
        return;
    }
    lr_order_mutex_probe(t, a, key);
}

/* Before the real call. Blocking and bounded acquisitions are checked here,
 * before they can block, so an inversion that really deadlocks this time
 * is still reported. A trylock is looked at only once it succeeded. */
static inline __attribute__((always_inline)) void lr_order_before(lr_thread *t, lr_acquisition *a)
{
    a->lock = NULL;
    if (a->how != LR_TRY)
        lr_order_context(t, a);
}

/* Pushes the acquired lock on the held stack: a recursive mutex already
 * held is one level more. */
static inline __attribute__((always_inline)) void lr_order_push(lr_thread *t, const lr_acquisition *a)
{
    if (__builtin_expect(!a->lock || a->token == LR_REENTRY, 0)) {
        if (a->lock)
            lr_held_again(t, a->lock);
        return;
    }
    lr_held_push(t, a->lock, a->lock_id, a->addr, a->token, a->how, a->shared);
}

/* The push of a blocking lock found by lr_order_mutex_known: never a
 * re-entry (lr_mutex_context_keep). */
static inline __attribute__((always_inline)) void lr_order_push_known(lr_thread *t, lr_lock *l, uint64_t id,
                                                                     uintptr_t addr, lr_token token)
{
    lr_held_push(t, l, id, addr, token, LR_BLOCKING, 0);
}

/* After the real call, when it acquired the lock. */
static inline __attribute__((always_inline)) void lr_order_after(lr_thread *t, lr_acquisition *a)
{
    if (a->how == LR_TRY)
        lr_order_context(t, a);
    lr_order_push(t, a);
}

#endif
