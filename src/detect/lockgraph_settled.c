/* Edges of the lock-order graph that settled. An edge without gate locks,
 * made again with modes it has and a wait it already knows (blocking, or
 * bounded as before), changes nothing but its count of contexts: a program
 * that makes new held sets endlessly from a few orders (random subsets of
 * many locks, taken in order) would take the graph's lock for every one,
 * to learn nothing. Such (edge, modes, how) are kept here, read without a
 * lock: an insert-only set of keys (lock ids are never reused, so a key
 * never goes stale; a full neighbourhood is a miss). In levels: one page
 * first, each later level mapped when a neighbourhood of the one before
 * fills, 512 KiB the last. Every page of a level, touched at random, is a
 * page fault. A key goes to the newest level (the next one past a full
 * neighbourhood), and a reader looks there first: a program that settles
 * many edges has most of them in the last level, and walked the full
 * neighbourhoods of the first two before each (`ordered`, tests/stress:
 * 215 instructions an acquisition, callgrind). lockgraph.c is the only
 * writer, under its graph lock; not used with order_graph=1, whose
 * picture counts every context. Engine code: no report, no other engine. */
#include "detect/lockgraph.h"
#include "support/arena.h"

#define SETTLED_LEVELS 3
#define SETTLED_PROBES 8

static const uint8_t settled_bits[SETTLED_LEVELS] = { 9, 12, 16 };
static uint64_t *settled[SETTLED_LEVELS];

static uint64_t settled_key(uint64_t from, uint64_t to, uint8_t modes, int how)
{
    return ((from * 0x9e3779b97f4a7c15ull) ^ (to * 0xc2b2ae3d27d4eb4full) ^
            ((uint64_t)modes << 3) ^ ((uint64_t)how << 1)) | 1;
}

/* In a level: the key's slot, or the empty one where it would go; NULL
 * when the neighbourhood is full. */
static uint64_t *level_slot(uint64_t *table, int level, uint64_t key)
{
    uint32_t mask = (1u << settled_bits[level]) - 1;
    uint64_t k = level ? (key << (21 * level)) | (key >> (64 - 21 * level)) : key;
    uint32_t i = (uint32_t)(k >> (64 - settled_bits[level]));
    for (int probe = 0; probe < SETTLED_PROBES; probe++, i = (i + 1) & mask) {
        uint64_t seen = __atomic_load_n(&table[i], __ATOMIC_RELAXED);
        if (seen == key || seen == 0)
            return &table[i];
    }
    return NULL;
}

static int settled_has_key(uint64_t key)
{
    for (int level = SETTLED_LEVELS - 1; level >= 0; level--) {
        uint64_t *table = __atomic_load_n(&settled[level], __ATOMIC_ACQUIRE);
        uint64_t *s = table ? level_slot(table, level, key) : NULL;
        if (s && __atomic_load_n(s, __ATOMIC_RELAXED) == key)
            return 1;
    }
    return 0;
}

int lr_settled_has(uint64_t from, uint64_t to, uint8_t modes, int how)
{
    return settled_has_key(settled_key(from, to, modes, how));
}

void lr_settle(uint64_t from, uint64_t to, uint8_t modes, int how)
{
    uint64_t key = settled_key(from, to, modes, how);
    if (settled_has_key(key))
        return;         /* in an older level: not a second time in the newest */
    int level = SETTLED_LEVELS - 1;
    while (level > 0 && !settled[level])
        level--;
    for (; level < SETTLED_LEVELS; level++) {
        uint64_t *table = settled[level];
        if (!table) {
            if (!(table = lr_map(sizeof *table << settled_bits[level])))
                return;
            __atomic_store_n(&settled[level], table, __ATOMIC_RELEASE);   /* readers take no lock */
        }
        uint64_t *s = level_slot(table, level, key);
        if (s) {
            __atomic_store_n(s, key, __ATOMIC_RELEASE);
            return;
        }
    }
}
