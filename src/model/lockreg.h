/* The lock registry: address → lock object. A lock's identity is its
 * address plus a generation: destroy and re-init end the identity, so a new
 * lock at the same address starts clean. Every identity gets a new id. */
#ifndef LR_LOCKREG_H
#define LR_LOCKREG_H

#include "support/stack.h"

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

/* The first four are glibc's mutex types (__data.__kind & 3). */
enum lr_lock_type { LR_NORMAL, LR_RECURSIVE, LR_ERRORCHECK, LR_ADAPTIVE, LR_RWLOCK, LR_SPINLOCK,
                    LR_SEMAPHORE,       /* a semaphore used as a lock: initial value 1 */
                    LR_ANNOTATED,       /* the program's own lock, known only from the dynamic
                                           annotations (AnnotateRWLockAcquired): nothing is ever
                                           read from its memory, which may be one byte */
                    LR_GUARD,           /* a C++ function-local static's initialisation guard
                                           (__cxa_guard_acquire): held by the thread that
                                           initialises it; its memory is the C++ ABI's */
                    LR_UNTYPED = 0xff   /* named before its first use: takes the first type seen */ };

/* Taken for reading or for writing: an rwlock, or a lock the program
 * annotated, which says which (AnnotateRWLockAcquired's is_w). */
static inline int lr_lock_has_modes(int type)
{
    return type == LR_RWLOCK || type == LR_ANNOTATED;
}

/* Memory that held one kind of lock and now holds another is a new lock. */
static inline int lr_lock_family(int type)
{
    return type <= LR_ADAPTIVE ? LR_NORMAL : type;
}

typedef struct lr_lock {
    uintptr_t addr;
    uint64_t id;                /* unique for the life of the process, never reused; 0 once forgotten
                                   (lr_lock_of_id) */
    uint8_t type;               /* enum lr_lock_type, read from the object */
    uint8_t taken;              /* acquired at least once (set by the lock-order engine) */
    uint8_t held_back;          /* the lock-order engine's LR_BACK_* and LR_GRAPH_EDGED (lockgraph.h) */
    uint8_t proven;             /* a semaphore seen to be a lock (its holder posted it) */
    uint32_t born_nheld;        /* made by an init while its maker held this many locks, */
    uint32_t born_thread;       /* that thread, */
    uint32_t back_state;        /* the state (number) whose log holds its edges held back, */
    uint32_t back_first;        /* where in that log the first of them is, */
    uint32_t back_seq;          /* while the log's sequence count is still this */
    uint64_t born_chain;        /* and the chain key of those held locks (lockorder.c) */
    lr_stack_id first_seen;     /* its init, or its first lock call */
    uint32_t first_thread;
    const char *name;           /* given by lockrace_lock_name(), else NULL */
    struct lr_lock *next_free;
    uint64_t slot_and_uses;     /* its id, kept while it is free: the next use adds 1 << 32 */
} lr_lock;

/* The record's slot number: fixed for the record's life, shared by the
 * locks it stands for over time (their ids differ above it). An engine
 * keeps its per-lock state in a table indexed by it. */
static inline uint32_t lr_lock_number(const lr_lock *l)
{
    return (uint32_t)l->slot_and_uses;
}

#define LR_LOCK_PAGE_BITS 12
#define LR_LOCK_PAGES (1u << 20)        /* every 32-bit slot has a page entry: no bound check */
extern lr_lock *lr_lock_pages[LR_LOCK_PAGES];

/* The record of the lock with this id, found by its slot number; NULL for
 * a slot never used. Its id may have changed since (forgotten, reused):
 * callers that cannot rule that out compare it. */
static inline lr_lock *lr_lock_of_id(uint64_t id)
{
    uint32_t slot = (uint32_t)id;
    lr_lock *page = __atomic_load_n(&lr_lock_pages[slot >> LR_LOCK_PAGE_BITS], __ATOMIC_ACQUIRE);
    /* a page is made whole: a slot in it not used yet is zeroes, id 0 */
    return page ? &page[slot & ((1u << LR_LOCK_PAGE_BITS) - 1)] : NULL;
}

/* The tables behind lr_lock_find, for the inline lookup (lockreg.c). */
typedef struct lr_lock_slot {
    uintptr_t key;
    lr_lock *lock;
} lr_lock_slot;

typedef struct lr_lock_table {
    uint64_t mask;
    uint64_t used;              /* slots with a key, live or tombstone */
    lr_lock_slot slots[];
} lr_lock_table;

/* The registry is in shards by address, each with its own table, lock and
 * free records: a program that makes and ends locks on several threads at
 * once (a std::mutex in every heap object) took one registry lock three
 * times per lock, and on 2 CPUs its cache line and futex were most of
 * tests/stress churn's time. */
#define LR_LOCK_SHARD_BITS 4
#define LR_LOCK_SHARDS (1u << LR_LOCK_SHARD_BITS)

extern lr_lock_table *lr_lock_tables[LR_LOCK_SHARDS];

static inline uint64_t lr_lock_hash(uintptr_t a)
{
    uint64_t h = (uint64_t)a * 0x9e3779b97f4a7c15ull;
    return h ^ (h >> 32);
}

/* The address's shard: the product's top bits (the slot is from all of it). */
static inline uint32_t lr_lock_shard_of(uintptr_t a)
{
    return (uint32_t)(((uint64_t)a * 0x9e3779b97f4a7c15ull) >> (64 - LR_LOCK_SHARD_BITS));
}

/* Lock-free lookup; NULL when the address has no live lock. */
static inline lr_lock *lr_lock_find(uintptr_t addr)
{
    lr_lock_table *t = __atomic_load_n(&lr_lock_tables[lr_lock_shard_of(addr)], __ATOMIC_ACQUIRE);
    if (!t)
        return NULL;
    for (uint64_t i = lr_lock_hash(addr) & t->mask;; i = (i + 1) & t->mask) {
        uintptr_t key = __atomic_load_n(&t->slots[i].key, __ATOMIC_ACQUIRE);
        if (key == addr) {
            lr_lock *l = __atomic_load_n(&t->slots[i].lock, __ATOMIC_ACQUIRE);
            return l && __atomic_load_n(&l->addr, __ATOMIC_RELAXED) == addr ? l : NULL;
        }
        if (key == 0)
            return NULL;
    }
}

/* Mutex memory reused without pthread_mutex_destroy (a mutex on the stack
 * of a function called again, one in a heap object freed and allocated
 * again) must be a new lock, or the old lock's edges join the new one's
 * into false cycles. glibc never touches a mutex's __list field unless the
 * mutex is robust, so lockrace writes the lock's id there: a mutex whose
 * field does not hold its lock's id has been initialised again (to zeros by
 * PTHREAD_MUTEX_INITIALIZER, or by pthread_mutex_init) and is a new lock.
 * Robust and process-shared mutexes are left alone. */
static inline uintptr_t *lr_mutex_tag(uintptr_t addr)
{
    return (uintptr_t *)&((pthread_mutex_t *)addr)->__data.__list.__next;
}

static inline int lr_mutex_taggable(uintptr_t addr)
{
    int kind = __atomic_load_n(&((pthread_mutex_t *)addr)->__data.__kind, __ATOMIC_RELAXED);
    return kind != -1 && !(kind & (16 | 128));     /* destroyed, robust, process-shared */
}

/* The context of the mutex's last acquisition by the thread that made it,
 * next to its tag in the __list field: lockorder.h. */
static inline uintptr_t *lr_mutex_context(uintptr_t addr)
{
    return (uintptr_t *)&((pthread_mutex_t *)addr)->__data.__list.__prev;
}

/* The mutex at addr is still the lock with this id (or cannot say). */
static inline int lr_mutex_same(uintptr_t addr, uint64_t id)
{
    return __atomic_load_n(lr_mutex_tag(addr), __ATOMIC_RELAXED) == (uintptr_t)id ||
           !lr_mutex_taggable(addr);
}

/* l, found at addr, is the lock that an acquisition of this type takes
 * there, as it stands: lr_lock_get would return it and change nothing (a
 * lock named before its first use is not: it takes its type then). */
static inline int lr_lock_is(const lr_lock *l, uintptr_t addr, int type)
{
    return l->type != LR_UNTYPED && (type == LR_UNTYPED || lr_lock_family(l->type) == lr_lock_family(type)) &&
           (type > LR_ADAPTIVE || lr_mutex_same(addr, l->id));
}

/* Finds or creates (capturing the first-seen stack) the lock at addr. For
 * a mutex type, addr must be a pthread_mutex_t (it is tagged). */
lr_lock *lr_lock_get(uintptr_t addr, int type);

/* Ends the identity of the lock at addr (destroy, re-init): the engines
 * let go of it (lr_lockreg_on_forget). Returns the lock that was
 * forgotten's id, 0 if none. */
uint64_t lr_lock_forget(uintptr_t addr);

/* Semaphores forgotten so far, counted once each one's id has changed: a
 * held semaphore can have gone stale only if this moved since it was last
 * looked at (lr_held_drop_stale, which only the semaphore paths call: a
 * semaphore found to be a signal while a thread held it). Semaphores only:
 * a count of every lock was one cache line that every thread wrote for
 * each lock it ended (tests/stress churn). */
extern uint64_t lr_lock_forgets;

/* An engine's function called when a lock's identity ends, after the
 * lock is gone from the registry and before its id is cleared, with no
 * lock of the registry's held. At most four; set before the first lock. */
void lr_lockreg_on_forget(void (*fn)(lr_lock *l));

/* How many lock records were made (locks alive at once, at most): 0 when
 * the process never used a lock lockrace sees. Any thread. */
uint32_t lr_lockreg_records(void);

void lr_lockreg_fork_prepare(void);
void lr_lockreg_fork_parent(void);
void lr_lockreg_fork_child(void);

#endif
