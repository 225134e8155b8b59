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
#include "support/python.h"

#include <errno.h>
#include <stdlib.h>


static void free_old_table(lr_order_thread *t)
{
    lr_unmap(t->ctx_old, t->ctx_old_n * sizeof *t->ctx_old);
    t->ctx_old = NULL;
    t->ctx_old_n = 0;
}

/* The old table is not unmapped at once: a signal handler's lock call may
 * have interrupted a probe of it (a handler pushes above a reserved slot of
 * the held stack, lockorder.h, but probes whatever table is current). */
static void keep_old_table(lr_order_thread *t, lr_ctx_slot *slots, uint32_t n)
{
    if (slots == t->ctx_inline)     /* part of the state: never unmapped */
        return;
    free_old_table(t);
    t->ctx_old = slots;
    t->ctx_old_n = n;
}

/* Tables grow sixteenfold up to LR_CTX_MAX slots (each new mapping is page
 * faults to fill, and each one replaced an munmap later, which on a virtual
 * machine with several CPUs costs a TLB shootdown of about 0.1 ms). A
 * thread that meets more contexts than that empties its table and starts
 * again. Small, 16 KiB: a table is probed for every acquisition a mutex's
 * own cache misses, and 64 threads with 256 KiB tables each (8,192 slots,
 * until this was measured) missed the processor's caches on most probes, a
 * fifth of `ordered` (bench/heavy.sh); a context a thread has emptied out
 * is found again in the process-wide table. The table is a cache, and
 * a context missing from it is found in the process-wide table or learnt
 * again (edges the graph already has), while keeping every context would
 * make memory grow with the run. Contexts can be endless: random nesting
 * over many locks, or locks made and ended all the time (each new lock is
 * a new id in the chain keys after it). The table is emptied where it is,
 * not replaced: a fresh mapping each time cost a page fault per 128
 * contexts, a fifth of the run of a program whose contexts never repeat;
 * and only its marks (ctx_used) are cleared, the slots are left as they
 * are, unread until filled again. A signal handler that empties it under
 * an interrupted probe makes that probe miss, or find a slot that still
 * holds what it held (lr_order_probe checks the lock before using it). */
static int context_grow(lr_order_thread *t)
{
    uint32_t old = t->ctx ? t->ctx_mask + 1 : 0;
    if (old >= LR_CTX_MAX) {
        free_old_table(t);     /* replaced thousands of contexts ago */
        memset(t->ctx_used, 0, sizeof t->ctx_used);
        t->ctx_count = 0;
        return 0;
    }
    uint32_t cap = !old ? LR_CTX_INITIAL : old * LR_CTX_GROWTH < LR_CTX_MAX ? old * LR_CTX_GROWTH : LR_CTX_MAX;
    uint32_t shift = 64 - (uint32_t)__builtin_ctz(cap);
    lr_ctx_slot *slots = old ? lr_map(cap * sizeof *slots) : t->ctx_inline, *prev = t->ctx;
    if (!slots)
        return -1;
    uint64_t used[LR_CTX_MAX / 64] = { 0 };
    for (uint32_t i = 0; prev && i < old; i++) {
        if (!lr_context_used(t, i))
            continue;
        uint32_t j = (uint32_t)(prev[i].key >> shift);
        while (used[j >> 6] >> (j & 63) & 1)
            j = (j + 1) & (cap - 1);
        slots[j] = prev[i];
        used[j >> 6] |= 1ull << (j & 63);
    }
    /* a signal handler's probe in between may miss, never loops (half the
     * slots at most are marked) and never takes a slot for another key's */
    __atomic_store_n(&t->ctx, slots, __ATOMIC_RELEASE);
    __atomic_signal_fence(__ATOMIC_SEQ_CST);
    t->ctx_mask = cap - 1;
    t->ctx_shift = shift;
    memcpy(t->ctx_used, used, sizeof used);
    if (prev)
        keep_old_table(t, prev, old);
    return 0;
}

/* A thread's part: a new one starts with its inline table; a recycled one
 * keeps the table its last thread grew, as it is (a program of short
 * threads that each meet a few hundred contexts would otherwise map, fill
 * with page faults and unmap a table for every thread: an munmap is a TLB
 * shootdown, and with 10,000 threads that was a third of the run; emptying
 * it, a 256 KiB memset when tables were that big, was a twelfth). Its contexts stay true for the new
 * thread: a context names the held locks, not the thread, and is known to
 * every thread anyway (the process-wide table below). The tables the last
 * thread replaced are unmapped: it has ended, no probe is in them. Every
 * thread has its own salt for the contexts cached in mutexes, and its
 * mark in the stack store (own_token). */
static int start_thread(lr_thread *thread, void *part, int reused)
{
    (void)thread;
    static uint64_t salts;
    lr_order_thread *t = part;
    if (reused)
        free_old_table(t);
    memset(t->share, 0, sizeof t->share);   /* the last thread's verdicts were about its own contexts */
    t->ctx_salt = __atomic_add_fetch(&salts, 1, __ATOMIC_RELAXED) * 0xd6e8feb86659fd93ull;
    t->stacks_before = lr_stack_count();
    return t->ctx ? 0 : context_grow(t);
}

void lr_order_init(void)
{
    static int done;
    if (done)
        return;
    done = 1;
    /* the first part: anything else is a bug in the order of the engines' init */
    if (lr_thread_add_part(sizeof(lr_order_thread), start_thread) != LR_THREAD_FIRST_PART)
        abort();
    lr_lockreg_on_forget(lr_graph_forget);
}

/* Caches a context in the thread's table. The slot is marked in use once
 * it is filled: a signal handler's probe in between does not read it. */
static void context_put(lr_thread *thread, uint64_t key, lr_lock *l, uint64_t id, lr_token token)
{
    lr_order_thread *t = lr_order_of(thread);
    if ((t->ctx_count + 1) * 2 > t->ctx_mask + 1 && context_grow(t) < 0)
        return;
    uint32_t j = lr_context_index(t, key);
    while (lr_context_used(t, j) && t->ctx[j].key != key)
        j = (j + 1) & t->ctx_mask;
    t->ctx[j] = (lr_ctx_slot){ key, l, id, token };
    if (!lr_context_used(t, j)) {
        __atomic_signal_fence(__ATOMIC_SEQ_CST);
        t->ctx_used[j >> 6] |= 1ull << (j & 63);
        t->ctx_count++;
    }
}

/* ---- contexts every thread knows ----
 * Insert-only open addressing on the same keys as the thread tables, read
 * and written without a lock: a slot's key is claimed once and never
 * changes; its contents are written under a sequence number (odd while
 * written), which readers check before and after, so a torn read is a
 * miss. A slot whose lock has ended is rewritten by the next thread that
 * learns the context. A full neighbourhood is a miss: that context is
 * learnt per thread, as without the table. May run in a signal handler
 * (a writer it interrupted makes a miss).
 *
 * Bounded, in levels: a key goes to the first level where its
 * neighbourhood has room, and a reader looks further only past a full
 * neighbourhood (never emptied: keys stay), so each level is mapped when a
 * neighbourhood of the one before fills. Keys land on random slots, so
 * every page of a table a process uses costs a page fault (about 14 us on
 * the virtual machine measured): with one 10 MiB table, `python3 -c pass`
 * touched 114 pages of it for its few dozen contexts. A small first level
 * keeps such a process to a few pages; the last is the size one table
 * had.
 *
 * Two such tables: the contexts, and the stacks of acquisition sites
 * (below), which have keys of their own and must not be crowded out by a
 * program whose contexts never repeat. */
typedef struct shared_slot {
    uint64_t key;               /* 0: empty */
    uint32_t seq;
    lr_token token;
    lr_lock *lock;
    uint64_t id;
} shared_slot;

#define SHARED_LEVELS 3

typedef struct shared_table {
    shared_slot *slots[SHARED_LEVELS];
    uint8_t bits[SHARED_LEVELS];
    uint32_t last_claimed;      /* slots of the last level with a key */
} shared_table;

/* Slots looked at in each level's neighbourhood: few in the small levels,
 * which a program whose contexts never repeat fills at once and then
 * probes, full, on every miss (16 there made `ordered` 20% slower, 4 still
 * 7%; 2 costs python3 ten page faults more at start-up). */
static const int shared_probes[SHARED_LEVELS] = { 2, 2, 16 };

/* 10 KiB, then 160 KiB, then 10 MiB (contexts) or 2.5 MiB (sites) */
static shared_table contexts = { { NULL }, { 8, 12, 18 }, 0 }, sites = { { NULL }, { 8, 12, 16 }, 0 };

static shared_slot *level_slots(shared_table *t, int level)
{
    shared_slot *slots = __atomic_load_n(&t->slots[level], __ATOMIC_ACQUIRE);
    if (slots)
        return slots;
    size_t size = (sizeof *slots) << t->bits[level];
    shared_slot *fresh = lr_map(size);
    if (!fresh)
        return NULL;
    if (!__atomic_compare_exchange_n(&t->slots[level], &slots, fresh, 0, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE)) {
        lr_unmap(fresh, size);
        return slots;
    }
    return fresh;
}

/* The key's first slot in a level: other bits of it in each level, so
 * that keys that crowd one neighbourhood spread out in the next. */
static uint32_t level_index(const shared_table *t, int level, uint64_t key)
{
    uint64_t k = level ? (key << (21 * level)) | (key >> (64 - 21 * level)) : key;
    return (uint32_t)(k >> (64 - t->bits[level]));
}

static int shared_find(shared_table *t, uint64_t key, lr_lock **lock, uint64_t *id, lr_token *token)
{
    for (int level = 0; level < SHARED_LEVELS; level++) {
        shared_slot *table = __atomic_load_n(&t->slots[level], __ATOMIC_ACQUIRE);
        if (!table)
            return 0;
        uint32_t mask = (1u << t->bits[level]) - 1, i = level_index(t, level, key);
        for (int probe = 0; probe < shared_probes[level]; probe++, i = (i + 1) & mask) {
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
    }
    return 0;
}

static void shared_publish(shared_table *t, uint64_t key, lr_lock *lock, uint64_t id, lr_token token)
{
    for (int level = 0; level < SHARED_LEVELS; level++) {
        shared_slot *table = level_slots(t, level);
        if (!table)
            return;
        uint32_t mask = (1u << t->bits[level]) - 1, i = level_index(t, level, key);
        for (int probe = 0; probe < shared_probes[level]; probe++, i = (i + 1) & mask) {
            shared_slot *s = &table[i];
            uint64_t k = __atomic_load_n(&s->key, __ATOMIC_ACQUIRE);
            if (k == 0 && __atomic_compare_exchange_n(&s->key, &k, key, 0, __ATOMIC_ACQ_REL,
                                                      __ATOMIC_ACQUIRE)) {
                k = key;        /* claimed; a failed claim left the winner's key in k */
                if (level == SHARED_LEVELS - 1)
                    __atomic_add_fetch(&t->last_claimed, 1, __ATOMIC_RELAXED);
            }
            if (k != key)
                continue;       /* another context's slot */
            uint32_t seq = __atomic_load_n(&s->seq, __ATOMIC_RELAXED);
            if ((seq & 1) || !__atomic_compare_exchange_n(&s->seq, &seq, seq + 1, 0, __ATOMIC_ACQUIRE,
                                                          __ATOMIC_RELAXED))
                return;         /* being written by another thread: it knows as much */
            __atomic_store_n(&s->lock, lock, __ATOMIC_RELAXED);
            __atomic_store_n(&s->id, id, __ATOMIC_RELAXED);
            __atomic_store_n(&s->token, token, __ATOMIC_RELAXED);
            __atomic_store_n(&s->seq, seq + 2, __ATOMIC_RELEASE);
            return;
        }
    }
}

/* Where the lock is taken: the stack of an acquisition site, unwound once
 * per process for each (lock address, how, call site, address of the lock
 * held last). A context is all of that plus the rest of the held set, and
 * a program can make new held sets endlessly (random subsets of many
 * locks, taken in order) from a handful of sites: it unwound for every
 * one, for the same stack. Addresses, not identities: a lock made again
 * where another was (a thread's own mutex on a stack the next thread
 * reuses) is taken from the same code. The stack cached is, as for a
 * context, the first one seen from the site: the frames above the call
 * site may differ from this acquisition's. On a thread that runs
 * Python code (it holds the GIL) every lock is taken from the same few C
 * call sites of the interpreter, and the frames above them are the
 * script's lines that a report shows: the key has its Python call path
 * too (support/python.h), and where that cannot be read the stack is
 * unwound every time. A thread that has let the GIL go (the interpreter's
 * own mutexes, taken around every blocking call under whatever Python
 * locks the thread holds) has a C stack like any other. */
/* Tables read by every thread hold a stack as shared from the thread that
 * unwound it (lr_stack_shared_from): a report on another thread then says
 * whose callers it shows. That thread gets its own stack back. */
static lr_token shared_token(const lr_thread *t, lr_token token)
{
    return token && token != LR_REENTRY ? lr_stack_shared_from(token, t->info->id) : token;
}

/* A stack stored before this thread began is not shared from it (a
 * shared stack names the thread that shared it, and gets a new id then):
 * a thread that finds what others learnt long ago, as ten thousand short
 * ones each do hundreds of times, does not read the stack's record, a
 * cache miss or two each time, to be told so. */
static lr_token own_token(const lr_thread *t, lr_token token)
{
    uint32_t thread;
    lr_stack_id plain;
    if (token != LR_REENTRY && token > lr_order_of(t)->stacks_before &&
        lr_stack_origin(token, &thread, &plain) && thread == t->info->id)
        return plain;
    return token;
}

/* A thread remembers the stacks of the last few sites it found, as it
 * would have them from the table: a lock that is new in every context it
 * is taken in (a short thread's own mutex, innermost under random pairs of
 * shared ones) comes from the same few sites again and again, and each
 * look in the table, whose keys are everywhere in megabytes, was a cache
 * miss (tests/stress/threads). */
static lr_token site_stack(lr_thread *t, const lr_acquisition *a, lr_lock *l, uint64_t path)
{
    uint64_t python = 0;
    if (lr_python_present()) {
        /* the Python frames a stack would show: by their call path, or
         * unwound every time where that cannot be read */
        if (lr_python_paths_known())
            python = lr_stack_python_path();
        else if (lr_python_readable())
            return lr_stack_capture();
    }
    uint64_t last = t->nheld ? t->held[t->nheld - 1].addr : 0;
    /* the C call site and its depth, and the Python call path, are the
     * whole stack: the lock taken there and those held do not change it
     * (in C code they stand for the callers, which nothing else tells) */
    uint64_t key = python ? ((a->pc * 0xc4ceb9fe1a85ec53ull) ^ path ^ python) | 1
                          : ((a->addr * 0xff51afd7ed558ccdull) ^ (a->pc * 0xc4ceb9fe1a85ec53ull) ^
                             (last * 0x9e3779b97f4a7c15ull) ^ ((uint64_t)(a->how | a->shared << 2) << 1) ^
                             path) | 1;
    lr_order_thread *o = lr_order_of(t);
    struct lr_site_memo *m = &o->sites[key >> (64 - __builtin_ctz(LR_SITE_MEMO))];
    if (m->key == (key ^ o->ctx_salt) && m->token)
        return m->token;
    lr_lock *known;
    uint64_t id;
    lr_token token;
    if (shared_find(&sites, key, &known, &id, &token) && token) {
        token = own_token(t, token);
    } else {
        token = lr_stack_capture();
        if (token)
            shared_publish(&sites, key, l, l->id, shared_token(t, token));
    }
    *m = (struct lr_site_memo){ key ^ o->ctx_salt, token };
    return token;
}

/* The path to a call site, in the one number that costs nothing to read:
 * how deep the thread's stack is there. Two threads that reach a call site
 * by different paths (the JVM's main thread and its VM Thread, both in
 * Mutex::lock) are at different depths nearly always, and a thread that
 * comes the same way is at the same depth: the stacks kept per process
 * (contexts, call sites) are kept per depth too, so that a thread takes
 * another's stack only when it came the same way, as far as this can
 * tell; the report still says whose stack it is. Read from lr_order_learn's
 * own frame, whose distance from the wrapper's call is fixed for each
 * wrapper; 0 for a thread whose stack's top lockrace did not see. */
static uint64_t path_of(uintptr_t depth)
{
    return (uint64_t)depth * 0x94d049bb133111ebull;
}

/* Whether the process-wide table pays, judged by each thread for each
 * depth of its held set once the table is crowded. A program that takes
 * random subsets of many locks in order makes a new held set at nearly
 * every acquisition past the second lock: those contexts are met once in
 * the whole run (4% of 740,000 looks found one), and a look for each,
 * then its publication, were cache misses in a table of megabytes that
 * they filled, until every miss probed a full neighbourhood and the
 * contexts that do repeat found no room (`ordered`, bench/heavy.sh: 0.93
 * s, 20% of its samples in the table; 0.82 s without those looks). Once
 * a sixteenth of the last level has keys (LR_SHARE_CROWDED), which few
 * programs ever have, where at most one look in LR_SHARE_WORTH finds the
 * context, the thread stops looking and publishing at that depth but for
 * one learn in LR_SHARE_SAMPLE, which keeps the verdict current: it is
 * given again after every LR_SHARE_WINDOW looks. Before, a thread that is
 * the first to meet what others will meet (every look a miss) keeps
 * publishing. A context not looked for is learnt as if new: its edges are
 * in the graph already, and its stack is found by its call site
 * (site_stack). */
#define LR_SHARE_WINDOW 256
#define LR_SHARE_WORTH 16
#define LR_SHARE_SAMPLE 32
#define LR_SHARE_CROWDED 4      /* a sixteenth of the last level: 16,384 contexts */

static struct lr_share *share_of(lr_order_thread *o, uint32_t nheld)
{
    return &o->share[nheld < LR_SHARE_DEPTHS ? nheld : LR_SHARE_DEPTHS - 1];
}

/* 1: this learn looks in the process-wide table (and publishes there). */
static int sharing(lr_order_thread *o, uint32_t nheld)
{
    struct lr_share *s = share_of(o, nheld);
    return !s->off || ++s->skipped % LR_SHARE_SAMPLE == 0;
}

#ifdef LR_TEST_HOOKS
uint64_t lr_order_looks, lr_order_looks_found;
#endif

static void shared_looked(lr_order_thread *o, uint32_t nheld, int found)
{
    struct lr_share *s = share_of(o, nheld);
    s->found += (uint16_t)found;
    if (++s->looks < LR_SHARE_WINDOW)
        return;
    s->off = s->found * LR_SHARE_WORTH <= s->looks &&
             __atomic_load_n(&contexts.last_claimed, __ATOMIC_RELAXED) >
                 1u << (contexts.bits[SHARED_LEVELS - 1] - LR_SHARE_CROWDED);
    s->looks = s->found = 0;
}

/* The context, learnt by another thread (on the same path): the lock,
 * still the same, and its stack, into this thread's table. */
static int learnt_elsewhere(lr_thread *t, lr_acquisition *a, uint64_t key, uint64_t path)
{
    lr_lock *l;
    uint64_t id;
    lr_token token;
    int found = shared_find(&contexts, (key ^ path) | 1, &l, &id, &token) && lr_context_still(a, l, id);
    shared_looked(lr_order_of(t), t->nheld, found);
    LR_LOOKED(found);
    if (!found)
        return 0;
    token = own_token(t, token);
    context_put(t, key, l, id, token);
    a->lock = l;
    a->lock_id = id;
    a->token = token;
    return 1;
}

/* How many of the held locks (from the bottom) this thread already held
 * when it made l, if this is l's first acquisition: none of them can be
 * waiting for l now, nor on any later run of this code, which takes a lock
 * made a moment before, under them, that no other thread has had (a cache
 * that makes an entry and locks the entry's new lock under the cache lock
 * until the entry is built: ghostscript's ICC link cache). The edges from
 * them would only make false cycles with the later edge l → cache lock.
 * Those held locks are the same ones when their chain key is; lockrace
 * cannot see whether they were let go and taken again in between. */
static uint32_t made_under(const lr_thread *t, lr_lock *l)
{
    uint32_t k = l->born_nheld;
    /* read first: a lock every thread takes is not written by each one's
     * first acquisition (its record's cache line would bounce between them) */
    if (__atomic_load_n(&l->taken, __ATOMIC_ACQUIRE) || __atomic_exchange_n(&l->taken, 1, __ATOMIC_ACQ_REL) || !k)
        return 0;
    if (l->born_thread != t->info->id || k > t->nheld || (k < t->nheld ? t->held[k].below : t->chain) != l->born_chain)
        return 0;
    return k;
}

/* A lock only this thread's state knows contexts of: not taken yet, or
 * the edges into it held back in this thread's log (a thread's own
 * innermost mutex). Its contexts are neither looked up in nor published
 * to the process-wide table, which 10,000 short threads, each with its own
 * mutex, would otherwise fill with contexts nobody else can meet. */
static int only_mine(const lr_thread *t, const lr_lock *l)
{
    return l && (!__atomic_load_n(&l->taken, __ATOMIC_RELAXED) ||
                 (__atomic_load_n(&l->back_state, __ATOMIC_RELAXED) == t->number &&
                  !(__atomic_load_n(&l->held_back, __ATOMIC_RELAXED) & LR_BACK_OPEN)));
}

/* The lock, found or made now: a lock first seen at its first
 * acquisition (a mutex set with PTHREAD_MUTEX_INITIALIZER, made again
 * and again in a heap object) is seen at this call site, whose stack is
 * unwound once per process and depth (support/stack.h). */
static lr_lock *first_seen_here(lr_thread *t, const lr_acquisition *a, lr_lock *found)
{
    if (found && lr_lock_is(found, a->addr, a->type))
        return found;   /* lr_lock_get's answer, without looking again */
    uintptr_t depth = lr_thread_depth_here(t);
    if (!depth)
        return lr_lock_get(a->addr, a->type);
    lr_stack_site_begin(a->pc, depth, t->info->id, &t->depth, t->depth);
    lr_lock *l = lr_lock_get(a->addr, a->type);
    lr_stack_site_end();
    return l;
}

int lr_order_learn(lr_thread *t, lr_acquisition *a, uint64_t key)
{
    int saved_errno = errno, keep = 1;
    /* holes in the held stack: the key was made from no held set */
    if (__builtin_expect(t->hole_floor != LR_HELD_NO_HOLE, 0)) {
        lr_held_settle(t);
        key = lr_order_key(t, a);
    }
    uint64_t path = path_of(lr_thread_depth_here(t));
    lr_enter(t);
    lr_lock *found = lr_lock_find(a->addr);
    int share = sharing(lr_order_of(t), t->nheld);
    if (share && !only_mine(t, found) && learnt_elsewhere(t, a, key, path)) {
        lr_leave(t);
        errno = saved_errno;
        return 1;
    }
    lr_lock *l = first_seen_here(t, a, found);
    if (l) {
        int held = lr_held_find(t, l) >= 0;
        if (held && l->type == LR_RECURSIVE) {
            a->token = LR_REENTRY;
        } else {
            uint32_t from = made_under(t, l);
            a->token = site_stack(t, a, l, path);
            if (a->how != LR_TRY && t->nheld > from && !held) {
                lr_graph_open(t->held, from, t->nheld);
                if (!lr_graph_hold_back(t, t->held, from, t->nheld, l, a->how, a->shared, a->token))
                    lr_graph_add(t->info->id, t->held, from, t->nheld, l, a->how, a->shared, a->token);
            }
            /* the next acquisition in this context is not the first: it
             * learns again, and makes the edges this one left out */
            keep = from == 0;
        }
        if (keep) {
            context_put(t, key, l, l->id, a->token);
            if (share && !only_mine(t, l))
                shared_publish(&contexts, (key ^ path) | 1, l, l->id, shared_token(t, a->token));
        }
    }
    a->lock = l;
    a->lock_id = l ? l->id : 0;
    lr_leave(t);
    errno = saved_errno;
    return keep;
}

void lr_order_mutex_probe(lr_thread *t, lr_acquisition *a, uint64_t key)
{
    if (lr_order_probe(t, a, key) && a->lock)
        lr_mutex_context_keep(t, a);
}
