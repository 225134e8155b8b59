/* Lock registry. Open-addressing tables (address → lr_lock *), one per
 * shard of addresses (lockreg.h), that the lock path reads without any
 * lock; each shard's lock serializes its writers.
 * Readers may race with a resize or a removal: a reader that misses takes
 * the slow path, which looks again under the lock, so a miss is never
 * wrong, only slower. A replaced table is not freed (a reader may still be
 * in it); tables double, so what is kept is less than the live table.
 * Removed slots keep their key with a NULL lock (a tombstone) and are reused
 * by the next insert that passes them, most often the same address again. */
#include "model/lockreg.h"
#include "support/arena.h"
#include "support/ilock.h"
#include "model/thread.h"

#include <string.h>

typedef lr_lock_slot slot;
typedef lr_lock_table table;

lr_lock_table *lr_lock_tables[LR_LOCK_SHARDS];

/* A shard's writers: its lock, and the records of its forgotten locks for
 * its next ones. A line each: shards are taken on several CPUs at once. */
typedef struct shard {
    lr_ilock lock;
    lr_lock *free;
} __attribute__((aligned(64))) shard;

static shard shards[LR_LOCK_SHARDS] = { [0 ... LR_LOCK_SHARDS - 1] = { LR_ILOCK_INIT, NULL } };

/* The shard's table, where lr_lock_find reads it. */
static table **table_of(const shard *sh)
{
    return &lr_lock_tables[sh - shards];
}
static lr_ilock records_lock = LR_ILOCK_INIT;   /* new records: after a shard's lock */
static void (*on_forget[4])(lr_lock *l);

void lr_lockreg_on_forget(void (*fn)(lr_lock *l))
{
    for (size_t i = 0; i < sizeof on_forget / sizeof on_forget[0]; i++)
        if (!on_forget[i] || on_forget[i] == fn) {
            on_forget[i] = fn;
            return;
        }
}

/* Lock records live in pages indexed by slot number and never move. A
 * lock's id is its slot number with, above it, how many locks that slot has
 * held: unique for the life of the process, and the record is found from
 * the id (or a mutex's tag) by arithmetic (lr_lock_of_id). */
lr_lock *lr_lock_pages[LR_LOCK_PAGES];
static uint32_t lr_lock_slots = 1;           /* slot 0 is never used: id 0 means none */

static lr_lock *new_record(void)
{
    lr_ilock_take(&records_lock);
    uint32_t n = lr_lock_slots;     /* every 32-bit slot has a page entry (lockreg.h) */
    lr_lock *page = lr_lock_pages[n >> LR_LOCK_PAGE_BITS];
    if (!page && (page = lr_arena_alloc(sizeof(lr_lock) << LR_LOCK_PAGE_BITS)))
        __atomic_store_n(&lr_lock_pages[n >> LR_LOCK_PAGE_BITS], page, __ATOMIC_RELEASE);
    lr_lock *l = page ? &page[n & ((1u << LR_LOCK_PAGE_BITS) - 1)] : NULL;
    if (l) {
        l->slot_and_uses = n;       /* no use yet */
        __atomic_store_n(&lr_lock_slots, n + 1, __ATOMIC_RELEASE);
    }
    lr_ilock_drop(&records_lock);
    return l;
}

uint32_t lr_lockreg_records(void)
{
    return __atomic_load_n(&lr_lock_slots, __ATOMIC_ACQUIRE) - 1;
}

static table *new_table(uint64_t cap)
{
    table *t = lr_map(sizeof *t + cap * sizeof(slot));
    if (t)
        t->mask = cap - 1;
    return t;
}

/* Under the shard's lock. */
static void place(table *t, uintptr_t addr, lr_lock *l)
{
    uint64_t tomb = UINT64_MAX;
    for (uint64_t i = lr_lock_hash(addr) & t->mask;; i = (i + 1) & t->mask) {
        slot *s = &t->slots[i];
        if (s->key == addr || (s->key == 0 && tomb == UINT64_MAX)) {
            if (s->key == 0)
                t->used++;
            tomb = i;
            break;
        }
        if (s->key == 0)
            break;
        if (!s->lock && tomb == UINT64_MAX)
            tomb = i;
    }
    slot *s = &t->slots[tomb];
    __atomic_store_n(&s->lock, NULL, __ATOMIC_RELEASE);
    __atomic_store_n(&s->key, addr, __ATOMIC_RELEASE);
    __atomic_store_n(&s->lock, l, __ATOMIC_RELEASE);
}

/* Each shard's first table, in lockrace's zeroed data: a process with
 * few locks maps no table and touches a few pages (16 shards of 64 slots
 * are the 16 KiB that one table of 1,024 was). */
#define FIRST_SLOTS 64
static _Alignas(64) char first_tables[LR_LOCK_SHARDS][sizeof(table) + FIRST_SLOTS * sizeof(slot)];

/* Under the shard's lock: makes room for one more key. */
static int reserve(shard *sh)
{
    table *cur = *table_of(sh);
    if (cur && (cur->used + 1) * 2 <= cur->mask + 1)
        return 0;
    if (!cur) {
        table *first = (table *)first_tables[sh - shards];
        first->mask = FIRST_SLOTS - 1;
        __atomic_store_n(table_of(sh), first, __ATOMIC_RELEASE);
        return 0;
    }
    uint64_t live = 0;
    for (uint64_t i = 0; i <= cur->mask; i++)
        live += cur->slots[i].lock != NULL;
    uint64_t cap = 4 * FIRST_SLOTS;
    while (cap < (live + 1) * 4)
        cap *= 2;
    table *t = new_table(cap);
    if (!t)
        return -1;
    for (uint64_t i = 0; i <= cur->mask; i++)
        if (cur->slots[i].lock)
            place(t, cur->slots[i].key, cur->slots[i].lock);
    __atomic_store_n(table_of(sh), t, __ATOMIC_RELEASE);
    return 0;
}

lr_lock *lr_lock_get(uintptr_t addr, int type)
{
    lr_lock *l = lr_lock_find(addr);
    int mutex = type <= LR_ADAPTIVE;
    if (l && l->type == LR_UNTYPED && type != LR_UNTYPED) {
        l->type = (uint8_t)type;    /* named before its first use: this is that use */
        if (mutex && lr_mutex_taggable(addr))
            __atomic_store_n(lr_mutex_tag(addr), (uintptr_t)l->id, __ATOMIC_RELAXED);
    }
    if (l && (l->type == LR_UNTYPED /* and asked for untyped */ || lr_lock_is(l, addr, type)))
        return l;
    if (l)
        lr_lock_forget(addr);       /* another kind of lock, or a mutex initialised again */
    lr_stack_id seen = lr_stack_capture();
    lr_thread *self = lr_thread_current();
    shard *sh = &shards[lr_lock_shard_of(addr)];
    lr_ilock_take(&sh->lock);
    l = lr_lock_find(addr);
    if (l || reserve(sh) < 0)
        goto out;
    if (sh->free) {
        l = sh->free;
        sh->free = l->next_free;
    } else if (!(l = new_record())) {
        goto out;
    }
    uint64_t id = l->slot_and_uses + (1ull << 32);
    memset(l, 0, sizeof *l);
    l->slot_and_uses = id;
    l->addr = addr;
    l->id = id;
    l->type = (uint8_t)type;
    l->first_seen = seen;
    l->first_thread = self ? self->info->id : 0;
    if (mutex && lr_mutex_taggable(addr))
        __atomic_store_n(lr_mutex_tag(addr), (uintptr_t)l->id, __ATOMIC_RELAXED);
    place(*table_of(sh), addr, l);
out:
    lr_ilock_drop(&sh->lock);
    return l;
}

uint64_t lr_lock_forgets;

uint64_t lr_lock_forget(uintptr_t addr)
{
    shard *sh = &shards[lr_lock_shard_of(addr)];
    lr_ilock_take(&sh->lock);
    lr_lock *l = lr_lock_find(addr);
    if (l) {
        place(*table_of(sh), addr, NULL);
        /* Dead before the engines forget it: a thread that still holds it
         * (destroying a held lock is misuse) sees addr 0 under the graph
         * lock and adds no edge from it. */
        __atomic_store_n(&l->addr, 0, __ATOMIC_RELEASE);
    }
    lr_ilock_drop(&sh->lock);
    if (!l)
        return 0;
    uint64_t id = l->id;
    /* The engines' locks are taken after dropping the shard's: they rank above it. */
    for (size_t i = 0; i < sizeof on_forget / sizeof on_forget[0] && on_forget[i]; i++)
        on_forget[i](l);
    __atomic_store_n(&l->id, 0, __ATOMIC_RELEASE);   /* no context cache hit on it again */
    if (l->type == LR_SEMAPHORE)
        __atomic_add_fetch(&lr_lock_forgets, 1, __ATOMIC_RELEASE);
    lr_ilock_take(&sh->lock);
    l->next_free = sh->free;
    sh->free = l;
    lr_ilock_drop(&sh->lock);
    return id;
}

/* The shards' locks in order, then the records'. */
void lr_lockreg_fork_prepare(void)
{
    for (uint32_t i = 0; i < LR_LOCK_SHARDS; i++)
        lr_ilock_take(&shards[i].lock);
    lr_ilock_take(&records_lock);
}

void lr_lockreg_fork_parent(void)
{
    lr_ilock_drop(&records_lock);
    for (uint32_t i = LR_LOCK_SHARDS; i-- > 0;)
        lr_ilock_drop(&shards[i].lock);
}

void lr_lockreg_fork_child(void)
{
    for (uint32_t i = 0; i < LR_LOCK_SHARDS; i++)
        lr_ilock_reset(&shards[i].lock);
    lr_ilock_reset(&records_lock);
}
