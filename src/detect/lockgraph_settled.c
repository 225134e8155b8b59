/* Edges of the lock-order graph that settled. An edge without gate locks,
 * made again with modes it has and a wait it already knows (blocking, or
 * bounded as before), changes nothing but its count of contexts: a program
 * that makes new held sets endlessly from a few orders (random subsets of
 * many locks, taken in order) would take the graph's lock for every one,
 * to learn nothing. Such (edge, modes, how) are kept here, read without a
 * lock: an insert-only set of keys (lock ids are never reused, so a key
 * never goes stale; a full neighbourhood is a miss), 512 KiB of address
 * space mapped at the first insert. lockgraph.c is the only writer, under
 * its graph lock; not used with order_graph=1, whose picture counts every
 * context. Engine code: no report, no other engine. */
#include "detect/lockgraph.h"
#include "support/arena.h"

#define SETTLED_BITS 16
#define SETTLED_PROBES 8

static uint64_t *settled;

static uint64_t settled_key(uint64_t from, uint64_t to, uint8_t modes, int how)
{
    return ((from * 0x9e3779b97f4a7c15ull) ^ (to * 0xc2b2ae3d27d4eb4full) ^
            ((uint64_t)modes << 3) ^ ((uint64_t)how << 1)) | 1;
}

/* The key's slot in the set, or where it would go; NULL when its
 * neighbourhood is full (a miss) or the set is not made yet. */
static uint64_t *settled_slot(uint64_t key)
{
    uint64_t *table = __atomic_load_n(&settled, __ATOMIC_ACQUIRE);
    uint32_t i = (uint32_t)(key >> (64 - SETTLED_BITS));
    for (int probe = 0; table && probe < SETTLED_PROBES; probe++, i = (i + 1) & ((1u << SETTLED_BITS) - 1)) {
        uint64_t k = __atomic_load_n(&table[i], __ATOMIC_RELAXED);
        if (k == key || k == 0)
            return &table[i];
    }
    return NULL;
}

int lr_settled_has(uint64_t from, uint64_t to, uint8_t modes, int how)
{
    uint64_t key = settled_key(from, to, modes, how);
    uint64_t *s = settled_slot(key);
    return s && __atomic_load_n(s, __ATOMIC_RELAXED) == key;
}

void lr_settle(uint64_t from, uint64_t to, uint8_t modes, int how)
{
    if (!settled) {
        uint64_t *table = lr_map(sizeof *settled << SETTLED_BITS);
        if (!table)
            return;
        __atomic_store_n(&settled, table, __ATOMIC_RELEASE);   /* readers take no lock */
    }
    uint64_t key = settled_key(from, to, modes, how);
    uint64_t *s = settled_slot(key);
    if (s)
        __atomic_store_n(s, key, __ATOMIC_RELEASE);
}
