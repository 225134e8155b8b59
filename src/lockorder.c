/* Held locks and acquisition contexts, per thread (lockdep's chain-key idea).
 *
 * A context is (chain key of the held set, lock, how, call site). The first
 * time a thread meets a context it unwinds its stack once, adds the edges
 * held → lock to the graph, and caches context → stack. After that the
 * context costs ~4 multiplies and one probe of a per-thread table: no global
 * lock, no allocation, no unwinding. The cached stack is shown as "where
 * the lock was taken" if an edge out of this lock is made later. */
#include "lockorder.h"
#include "arena.h"
#include "lockgraph.h"

#include <errno.h>
#include <string.h>

#define REENTRY 0x80000000u
#define CHAIN_SEED 0x2545f4914f6cdd1dull

static inline uint64_t mix(uint64_t h, uint64_t v)
{
    h = (h ^ v) * 0xff51afd7ed558ccdull;
    return h ^ (h >> 33);
}

static inline uint64_t chain_of(const lr_thread *t)
{
    return t->nheld ? t->held[t->nheld - 1].chain : CHAIN_SEED;
}

static inline uint64_t context_key(const lr_thread *t, const lr_lock *l, int how, uintptr_t pc)
{
    uint64_t k = mix(mix(mix(chain_of(t), l->id), (uint64_t)how), pc);
    return k ? k : 1;
}

static inline lr_ctx_slot *context_find(const lr_thread *t, uint64_t key)
{
    if (!t->ctx)
        return NULL;
    for (uint32_t i = (uint32_t)key & t->ctx_mask;; i = (i + 1) & t->ctx_mask) {
        if (t->ctx[i].key == key)
            return &t->ctx[i];
        if (t->ctx[i].key == 0)
            return NULL;
    }
}

static void context_insert(lr_thread *t, uint64_t key, lr_stack_id stack)
{
    if ((t->ctx_count + 1) * 2 > (t->ctx ? t->ctx_mask + 1 : 0)) {
        uint32_t cap = t->ctx ? (t->ctx_mask + 1) * 2 : 256;
        lr_ctx_slot *slots = lr_map(cap * sizeof *slots);
        if (!slots)
            return;
        for (uint32_t i = 0; t->ctx && i <= t->ctx_mask; i++) {
            if (!t->ctx[i].key)
                continue;
            uint32_t j = (uint32_t)t->ctx[i].key & (cap - 1);
            while (slots[j].key)
                j = (j + 1) & (cap - 1);
            slots[j] = t->ctx[i];
        }
        if (t->ctx)
            lr_unmap(t->ctx, (t->ctx_mask + 1) * sizeof *t->ctx);
        t->ctx = slots;
        t->ctx_mask = cap - 1;
    }
    uint32_t j = (uint32_t)key & t->ctx_mask;
    while (t->ctx[j].key)
        j = (j + 1) & t->ctx_mask;
    t->ctx[j].key = key;
    t->ctx[j].stack = stack;
    t->ctx_count++;
}

/* The slow path: a context this thread has not met before. */
static __attribute__((noinline)) lr_stack_id learn_context(lr_thread *t, lr_lock *l, int how,
                                                            uint64_t key)
{
    int saved_errno = errno;
    lr_enter(t);
    lr_stack_id stack = lr_stack_capture();
    if (how != LR_TRY && t->nheld)
        lr_graph_add(t->info->id, t->held, t->nheld, l, how, stack);
    context_insert(t, key, stack);
    lr_leave(t);
    errno = saved_errno;
    return stack;
}

static inline lr_stack_id context_stack(lr_thread *t, lr_lock *l, int how, uintptr_t pc)
{
    uint64_t key = context_key(t, l, how, pc);
    lr_ctx_slot *s = context_find(t, key);
    if (__builtin_expect(s != NULL, 1))
        return s->stack;
    return learn_context(t, l, how, key);
}

int lr_order_find_held(const lr_thread *t, const lr_lock *l)
{
    for (int i = (int)t->nheld - 1; i >= 0; i--)
        if (t->held[i].lock == l && t->held[i].id == l->id)
            return i;
    return -1;
}

lr_token lr_order_check(lr_thread *t, lr_lock *l, int how, uintptr_t pc)
{
    if (l->type == LR_RECURSIVE && lr_order_find_held(t, l) >= 0)
        return REENTRY;
    return context_stack(t, l, how, pc);
}

static int grow_held(lr_thread *t)
{
    uint32_t cap = t->held_cap * 2;
    lr_held *held = lr_map(cap * sizeof *held);
    if (!held)
        return -1;
    memcpy(held, t->held, t->nheld * sizeof *held);
    if (t->held != t->held_inline)
        lr_unmap(t->held, t->held_cap * sizeof *t->held);
    t->held = held;
    t->held_cap = cap;
    return 0;
}

void lr_order_acquired(lr_thread *t, lr_lock *l, int how, uintptr_t pc, lr_token token)
{
    if (how == LR_TRY) {
        int i = l->type == LR_RECURSIVE ? lr_order_find_held(t, l) : -1;
        if (i >= 0) {
            t->held[i].depth++;
            return;
        }
        token = context_stack(t, l, how, pc);
    } else if (token == REENTRY) {
        int i = lr_order_find_held(t, l);
        if (i >= 0)
            t->held[i].depth++;
        return;
    }
    if (t->nheld == t->held_cap && grow_held(t) < 0)
        return;
    lr_held *h = &t->held[t->nheld];
    h->lock = l;
    h->id = l->id;
    h->chain = mix(chain_of(t), l->id);
    h->stack = token;
    h->depth = 1;
    h->how = (uint8_t)how;
    t->nheld++;
}

int lr_order_released(lr_thread *t, lr_lock *l, int *was_held)
{
    int i = lr_order_find_held(t, l);
    if (was_held)
        *was_held = i >= 0;
    if (i < 0)
        return 0;
    if (--t->held[i].depth > 0)
        return 0;
    t->nheld--;
    memmove(&t->held[i], &t->held[i + 1], (t->nheld - (uint32_t)i) * sizeof *t->held);
    for (uint32_t j = (uint32_t)i; j < t->nheld; j++)
        t->held[j].chain = mix(j ? t->held[j - 1].chain : CHAIN_SEED, t->held[j].id);
    return 1;
}
