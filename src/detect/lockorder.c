/* The slow paths of lockorder.h: a context met for the first time, a
 * held stack that must grow, a release that is not the last acquisition.
 *
 * A context is (chain key of the held set, lock address, how, call site).
 * The first time a thread meets one it finds the lock in the registry,
 * unwinds its stack once, adds the edges held → lock to the graph, and
 * caches context → (lock identity, stack). The cached stack is what a
 * report shows as "where the lock was taken" when an edge out of this lock
 * is made later (the first stack seen for that context). Because the chain
 * key says which locks are held, "this recursive mutex is already held" is
 * a property of the context too, and is cached with it.
 *
 * What one thread learnt every thread knows: a context is also published
 * in a process-wide table, where another thread meeting it for the first
 * time finds the lock and the stack, and neither unwinds nor adds edges
 * (they are the process's already: the chain key names the same held
 * locks in every thread). */
#include "detect/lockorder.h"
#include "support/arena.h"
#include "detect/lockgraph.h"

#include <errno.h>

#ifdef LR_TEST_HOOKS
void (*lr_order_push_hook)(void);
#endif

void lr_order_free_old_tables(lr_thread *t)
{
    for (uint32_t i = 0; i < t->ctx_nold; i++)
        lr_unmap(t->ctx_old[i].slots, t->ctx_old[i].n * sizeof *t->ctx_old[i].slots);
    t->ctx_nold = 0;
}

/* The old table is not unmapped at once: a signal handler's lock call may
 * have interrupted a probe of it (a handler pushes above a reserved slot of
 * the held stack, lockorder.h, but probes whatever table is current). */
static void keep_old_table(lr_thread *t, lr_ctx_slot *slots, uint32_t n)
{
    uint32_t max = sizeof t->ctx_old / sizeof t->ctx_old[0];
    if (slots == t->ctx_inline)     /* part of the state: never unmapped */
        return;
    if (t->ctx_nold == max) {       /* cannot happen: 64 doubles to LR_CTX_MAX in 9 steps */
        lr_unmap(t->ctx_old[0].slots, t->ctx_old[0].n * sizeof *slots);
        memmove(&t->ctx_old[0], &t->ctx_old[1], (max - 1) * sizeof t->ctx_old[0]);
        t->ctx_nold--;
    }
    t->ctx_old[t->ctx_nold].slots = slots;
    t->ctx_old[t->ctx_nold++].n = n;
}

/* Tables double up to LR_CTX_MAX slots. A thread that meets more contexts
 * than that starts again with an empty table of that size: the table is a
 * cache, and a context missing from it is only learnt again (an unwind,
 * edges the graph already has), while keeping every context would make
 * memory grow with the run. Contexts can be endless: random nesting over
 * many locks, or locks made and ended all the time (each new lock is a new
 * id in the chain keys after it). The tables replaced before are unmapped
 * then: a probe interrupted in one of them would need a signal handler that
 * met 16,000 new contexts before returning. */
static int context_grow(lr_thread *t)
{
    uint32_t old = t->ctx ? t->ctx_mask + 1 : 0;
    int restart = old == LR_CTX_MAX;
    uint32_t cap = !old ? LR_CTX_INITIAL : restart ? old : old * 2;
    uint32_t shift = 64 - (uint32_t)__builtin_ctz(cap);
    lr_ctx_slot *slots = old ? lr_map(cap * sizeof *slots) : t->ctx_inline, *prev = t->ctx;
    if (!slots)
        return -1;
    if (restart) {
        lr_order_free_old_tables(t);
        t->ctx_count = 0;
    }
    for (uint32_t i = 0; !restart && prev && i < old; i++) {
        if (!prev[i].key)
            continue;
        uint32_t j = (uint32_t)(prev[i].key >> shift);
        while (slots[j].key)
            j = (j + 1) & (cap - 1);
        slots[j] = prev[i];
    }
    __atomic_store_n(&t->ctx, slots, __ATOMIC_RELEASE);
    __atomic_signal_fence(__ATOMIC_SEQ_CST);
    t->ctx_mask = cap - 1;
    t->ctx_shift = shift;
    if (prev)
        keep_old_table(t, prev, old);
    return 0;
}

void lr_order_adopt_table(lr_thread *t, lr_ctx_slot *slots, uint32_t n)
{
    t->ctx = slots;
    t->ctx_mask = n - 1;
    t->ctx_shift = 64 - (uint32_t)__builtin_ctz(n);
    t->ctx_count = 0;
}

int lr_order_init_thread(lr_thread *t)
{
    return context_grow(t);
}

static lr_ctx_slot *context_slot(lr_thread *t, uint64_t key)
{
    if ((t->ctx_count + 1) * 2 > t->ctx_mask + 1 && context_grow(t) < 0)
        return NULL;
    uint32_t j = lr_context_index(t, key);
    while (t->ctx[j].key && t->ctx[j].key != key)
        j = (j + 1) & t->ctx_mask;
    if (!t->ctx[j].key)
        t->ctx_count++;
    return &t->ctx[j];
}

/* ---- contexts every thread knows ----
 * Insert-only open addressing on the same keys as the thread tables, read
 * and written without a lock: a slot's key is claimed once and never
 * changes; its contents are written under a sequence number (odd while
 * written), which readers check before and after, so a torn read is a
 * miss. A slot whose lock has ended is rewritten by the next thread that
 * learns the context. A full neighbourhood is a miss: that context is
 * learnt per thread, as without the table. Bounded: SHARED_SLOTS, 8 MiB
 * of address space mapped at the first learn, pages touched as used. May
 * run in a signal handler (a writer it interrupted makes a miss). */
typedef struct shared_slot {
    uint64_t key;               /* 0: empty */
    uint32_t seq;
    lr_token token;
    lr_lock *lock;
    uint64_t id;
} shared_slot;

#define SHARED_BITS 18
#define SHARED_SLOTS (1u << SHARED_BITS)
#define SHARED_PROBES 16

static shared_slot *shared;

static shared_slot *shared_table(void)
{
    shared_slot *table = __atomic_load_n(&shared, __ATOMIC_ACQUIRE);
    if (table)
        return table;
    shared_slot *fresh = lr_map(SHARED_SLOTS * sizeof *fresh);
    if (!fresh)
        return NULL;
    if (!__atomic_compare_exchange_n(&shared, &table, fresh, 0, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE)) {
        lr_unmap(fresh, SHARED_SLOTS * sizeof *fresh);
        return table;
    }
    return fresh;
}

static int shared_find(uint64_t key, lr_lock **lock, uint64_t *id, lr_token *token)
{
    shared_slot *table = __atomic_load_n(&shared, __ATOMIC_ACQUIRE);
    if (!table)
        return 0;
    uint32_t i = (uint32_t)(key >> (64 - SHARED_BITS));
    for (int probe = 0; probe < SHARED_PROBES; probe++, i = (i + 1) & (SHARED_SLOTS - 1)) {
        shared_slot *s = &table[i];
        uint64_t k = __atomic_load_n(&s->key, __ATOMIC_ACQUIRE);
        if (k == 0)
            return 0;
        if (k != key)
            continue;
        uint32_t seq = __atomic_load_n(&s->seq, __ATOMIC_ACQUIRE);
        *lock = __atomic_load_n(&s->lock, __ATOMIC_RELAXED);
        *id = __atomic_load_n(&s->id, __ATOMIC_RELAXED);
        *token = __atomic_load_n(&s->token, __ATOMIC_RELAXED);
        __atomic_thread_fence(__ATOMIC_ACQUIRE);
        return seq != 0 && !(seq & 1) && __atomic_load_n(&s->seq, __ATOMIC_RELAXED) == seq && *lock;
    }
    return 0;
}

static void shared_publish(uint64_t key, lr_lock *lock, uint64_t id, lr_token token)
{
    shared_slot *table = shared_table();
    if (!table)
        return;
    uint32_t i = (uint32_t)(key >> (64 - SHARED_BITS));
    for (int probe = 0; probe < SHARED_PROBES; probe++, i = (i + 1) & (SHARED_SLOTS - 1)) {
        shared_slot *s = &table[i];
        uint64_t k = __atomic_load_n(&s->key, __ATOMIC_ACQUIRE);
        if (k == 0 && __atomic_compare_exchange_n(&s->key, &k, key, 0, __ATOMIC_ACQ_REL,
                                                  __ATOMIC_ACQUIRE))
            k = key;            /* claimed; a failed claim left the winner's key in k */
        if (k != key)
            continue;           /* another context's slot */
        uint32_t seq = __atomic_load_n(&s->seq, __ATOMIC_RELAXED);
        if ((seq & 1) || !__atomic_compare_exchange_n(&s->seq, &seq, seq + 1, 0, __ATOMIC_ACQUIRE,
                                                      __ATOMIC_RELAXED))
            return;             /* being written by another thread: it knows as much */
        __atomic_store_n(&s->lock, lock, __ATOMIC_RELAXED);
        __atomic_store_n(&s->id, id, __ATOMIC_RELAXED);
        __atomic_store_n(&s->token, token, __ATOMIC_RELAXED);
        __atomic_store_n(&s->seq, seq + 2, __ATOMIC_RELEASE);
        return;
    }
}

/* The context, learnt by another thread: the lock, still the same, and its
 * stack, into this thread's table. */
static int learnt_elsewhere(lr_thread *t, lr_acquisition *a, uint64_t key)
{
    lr_lock *l;
    uint64_t id;
    lr_token token;
    if (!shared_find(key, &l, &id, &token) || !lr_context_still(a, l, id))
        return 0;
    lr_ctx_slot *s = context_slot(t, key);
    if (s)
        *s = (lr_ctx_slot){ key, l, id, token };
    a->lock = l;
    a->lock_id = id;
    a->token = token;
    return 1;
}

void lr_order_learn(lr_thread *t, lr_acquisition *a, uint64_t key)
{
    int saved_errno = errno;
    lr_enter(t);
    if (learnt_elsewhere(t, a, key)) {
        lr_leave(t);
        errno = saved_errno;
        return;
    }
    lr_lock *l = lr_lock_get(a->addr, a->type);
    if (l) {
        int held = lr_order_find_held(t, l) >= 0;
        if (held && l->type == LR_RECURSIVE) {
            a->token = LR_REENTRY;
        } else {
            a->token = lr_stack_capture();
            if (a->how != LR_TRY && t->nheld && !held)
                lr_graph_add(t->info->id, t->held, t->nheld, l, a->how, a->shared, a->token);
        }
        lr_ctx_slot *s = context_slot(t, key);
        if (s)
            *s = (lr_ctx_slot){ key, l, l->id, a->token };
        shared_publish(key, l, l->id, a->token);
    }
    a->lock = l;
    a->lock_id = l ? l->id : 0;
    lr_leave(t);
    errno = saved_errno;
}

void lr_order_mutex_probe(lr_thread *t, lr_acquisition *a, uint64_t key)
{
    lr_order_probe(t, a, key);
    if (a->lock)
        lr_mutex_context_keep(t, a, key);
}

int lr_order_find_held(const lr_thread *t, const lr_lock *l)
{
    for (int i = (int)t->nheld - 1; i >= 0; i--)
        if (t->held[i].lock == l && t->held[i].id == l->id)
            return i;
    return -1;
}

static int grow_held(lr_thread *t)
{
    uint32_t cap = t->held_cap * 2;
    lr_held *held = lr_map(cap * sizeof *held);
    if (!held)
        return -1;
    memcpy(held, t->held, t->nheld * sizeof *held);
    /* The old array is not unmapped: the watchdog may be reading it (it
     * reads other threads' held locks without a lock). Growth doubles, so
     * what is kept is less than what is in use. */
    t->held = held;
    t->held_cap = cap;
    return 0;
}

void lr_order_push_slow(lr_thread *t, const lr_acquisition *a)
{
    if (!a->lock)
        return;
    if (a->token == LR_REENTRY) {
        int i = lr_order_find_held(t, a->lock);
        if (i >= 0)
            t->held[i].depth++;
        return;
    }
    int saved_errno = errno;
    int grown = grow_held(t);
    errno = saved_errno;
    if (grown == 0)
        lr_order_push(t, a);
}

void lr_order_drop_stale(lr_thread *t)
{
    for (int i = (int)t->nheld - 1; i >= 0; i--)
        if (t->held[i].lock && t->held[i].lock->id != t->held[i].id) {
            t->held[i].depth = 1;
            lr_order_release_slow(t, i);
        }
}

/* Releases held[i]: one level of a recursive hold, or the entry itself,
 * rehashing the chain keys of the entries above it. */
int lr_order_release_slow(lr_thread *t, int i)
{
    if (--t->held[i].depth > 0)
        return 0;
    t->nheld--;
    memmove(&t->held[i], &t->held[i + 1], (t->nheld - (uint32_t)i) * sizeof *t->held);
    for (uint32_t j = (uint32_t)i; j < t->nheld; j++)
        t->held[j].chain = lr_mix(j ? t->held[j - 1].chain : LR_CHAIN_SEED, t->held[j].id);
    t->chain = t->nheld ? t->held[t->nheld - 1].chain : LR_CHAIN_SEED;
    return 1;
}
