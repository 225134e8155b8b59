/* The race engine (race.h). Tracked memory is cut into 8-byte granules;
 * each granule has a cell, found through a lock-free address map, that
 * holds the variable it belongs to, the last write, and per thread its last
 * access and last read-modify-write. A cell's lock orders its events: an
 * exact access (lockrace_load/lockrace_store) is made under it, so the
 * cell's event numbers are the memory's order for those accesses.
 *
 * Findings are collected under the cell's lock and reported after it is
 * dropped. A data race on a read is held back while the read may still be
 * the first half of a read-modify-write (the thread's next access to the
 * cell tells): if it is, the lost-update report says it all, once. */
#include "detect/race_internal.h"
#include "model/held.h"
#include "support/arena.h"
#include "support/util.h"

#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

int lr_race_on;

/* ---- address maps: lock-free lookup, insert by compare-and-swap ---- */

static addr_map cells = { CELL_SLOTS - 1, 0, NULL };
addr_map lr_race_syncs = { SYNC_SLOTS - 1, 0, NULL };

static uint64_t addr_hash(uintptr_t a)
{
    uint64_t h = (uint64_t)a * 0x9e3779b97f4a7c15ull;
    return h ^ (h >> 29);
}

/* The value slot of key; with create, a new key is added (NULL when the
 * map is three quarters full: lockrace stops tracking new addresses). */
void **lr_race_map_find(addr_map *m, uintptr_t key, int create)
{
    map_slot *slots = __atomic_load_n(&m->slots, __ATOMIC_ACQUIRE);
    if (!slots)
        return NULL;
    for (uint64_t i = addr_hash(key) & m->mask;; i = (i + 1) & m->mask) {
        uintptr_t k = __atomic_load_n(&slots[i].key, __ATOMIC_ACQUIRE);
        if (k == key)
            return &slots[i].value;
        if (k != 0)
            continue;
        if (!create)
            return NULL;
        if (__atomic_add_fetch(&m->used, 1, __ATOMIC_RELAXED) > m->mask / 4 * 3)
            return NULL;
        uintptr_t expected = 0;
        if (__atomic_compare_exchange_n(&slots[i].key, &expected, key, 0, __ATOMIC_ACQ_REL,
                                        __ATOMIC_ACQUIRE) ||
            expected == key)
            return &slots[i].value;
        __atomic_sub_fetch(&m->used, 1, __ATOMIC_RELAXED);
    }
}

static lr_ilock setup_lock = LR_ILOCK_INIT;   /* the maps, the early benign ranges */

/* Benign ranges declared before the engine runs (the dynamic annotations:
 * a program annotated for TSan declares them at start, and may never
 * track an access): kept here and marked when the engine starts, so that
 * declaring one does not start it. Past EARLY_BENIGN, one starts it. */
#define EARLY_BENIGN 256
typedef struct benign_range {
    uintptr_t addr;
    size_t size;
} benign_range;
static benign_range early_benign[EARLY_BENIGN];
static uint32_t nearly_benign;
static void mark_benign(uintptr_t addr, size_t size);

void lr_race_activate(void)
{
    if (lr_race_active())
        return;
    lr_ilock_take(&setup_lock);
    if (!cells.slots) {
        map_slot *c = lr_map(sizeof(map_slot) * CELL_SLOTS);
        map_slot *s = lr_map(sizeof(map_slot) * SYNC_SLOTS);
        if (c && s) {
            __atomic_store_n(&lr_race_syncs.slots, s, __ATOMIC_RELEASE);
            __atomic_store_n(&cells.slots, c, __ATOMIC_RELEASE);
            for (uint32_t i = 0; i < nearly_benign; i++)
                mark_benign(early_benign[i].addr, early_benign[i].size);
            __atomic_store_n(&lr_race_on, 1, __ATOMIC_RELEASE);
        }
    }
    lr_ilock_drop(&setup_lock);
}

/* ---- variables and cells ---- */

static lr_var *vars;
static lr_cell *all_cells;
static lr_ilock vars_lock = LR_ILOCK_INIT;

/* The bounds of every variable tracked, for lr_race_tracks' first look:
 * they only widen (a variable unwatched keeps its cells' keys). */
static uintptr_t tracked_lo = UINTPTR_MAX, tracked_hi;

static lr_var *new_var(uintptr_t addr, size_t size, const char *name)
{
    lr_var *v = lr_arena_alloc(sizeof *v);
    if (!v)
        return NULL;
    v->addr = addr;
    v->size = size;
    v->name = name ? lr_arena_strdup(name) : NULL;
    lr_ilock_take(&vars_lock);
    v->next = vars;
    vars = v;
    if (addr < tracked_lo)
        __atomic_store_n(&tracked_lo, addr, __ATOMIC_RELAXED);
    if (addr + size > tracked_hi)
        __atomic_store_n(&tracked_hi, addr + size, __ATOMIC_RELAXED);
    lr_ilock_drop(&vars_lock);
    return v;
}

int lr_race_tracks(uintptr_t addr, size_t size)
{
    if (!lr_race_active() || addr + size <= __atomic_load_n(&tracked_lo, __ATOMIC_RELAXED) ||
        addr >= __atomic_load_n(&tracked_hi, __ATOMIC_RELAXED))
        return 0;
    lr_ilock_take(&vars_lock);
    lr_var *list = vars;
    lr_ilock_drop(&vars_lock);
    for (lr_var *v = list; v; v = v->next)
        if (addr < v->addr + v->size && v->addr < addr + size)
            return 1;
    return 0;
}

static lr_cell *new_cell(lr_var *v, uintptr_t granule)
{
    lr_cell *c = lr_arena_alloc(sizeof *c);
    if (!c)
        return NULL;
    c->var = v;
    c->granule = granule;
    lr_ilock_take(&vars_lock);
    c->next = all_cells;
    all_cells = c;
    lr_ilock_drop(&vars_lock);
    return c;
}

int lr_race_watch(lr_thread *self, uintptr_t addr, size_t size, const char *name)
{
    if (!self || size == 0)
        return -1;
    lr_enter(self);
    lr_race_activate();
    int rc = -1;
    lr_var *v = lr_race_active() ? new_var(addr, size, name) : NULL;
    if (v) {
        rc = 0;
        for (uintptr_t g = addr & ~(uintptr_t)7; g < addr + size; g += 8) {
            void **slot = lr_race_map_find(&cells, g, 1);
            lr_cell *c = slot ? new_cell(v, g) : NULL;
            if (!c) {
                rc = -1;
                break;
            }
            lr_cell *old = __atomic_load_n(slot, __ATOMIC_ACQUIRE);
            if (old)            /* a fresh history, but races declared benign stay so */
                c->benign = __atomic_load_n(&old->benign, __ATOMIC_RELAXED);
            __atomic_store_n(slot, c, __ATOMIC_RELEASE);
        }
    }
    lr_leave(self);
    return rc;
}

void lr_race_unwatch(lr_thread *self, uintptr_t addr, size_t size)
{
    if (!self || !lr_race_active())
        return;
    for (uintptr_t g = addr & ~(uintptr_t)7; g < addr + (size ? size : 1); g += 8) {
        void **slot = lr_race_map_find(&cells, g, 0);
        if (slot)
            __atomic_store_n(slot, NULL, __ATOMIC_RELEASE);
    }
}

/* The bytes of granule g that [addr, addr + size) covers, as a mask. */
static uint8_t granule_mask(uintptr_t g, uintptr_t addr, size_t size)
{
    uintptr_t lo = addr > g ? addr : g, hi = addr + size < g + 8 ? addr + size : g + 8;
    return (uint8_t)(((1u << (hi - lo)) - 1) << (lo - g));
}

/* The cell of a granule, made for an annotated access to memory never watched. */
static lr_cell *cell_for(uintptr_t granule, uintptr_t addr, size_t size)
{
    void **slot = lr_race_map_find(&cells, granule, 1);
    if (!slot)
        return NULL;
    lr_cell *c = __atomic_load_n(slot, __ATOMIC_ACQUIRE);
    if (c)
        return c;
    lr_var *v = new_var(addr, size, NULL);
    lr_cell *fresh = v ? new_cell(v, granule) : NULL;
    if (!fresh)
        return NULL;
    if (__atomic_compare_exchange_n(slot, &c, fresh, 0, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE))
        return fresh;
    return c;
}

static void mark_benign(uintptr_t addr, size_t size)
{
    for (uintptr_t g = addr & ~(uintptr_t)7; g < addr + size; g += 8) {
        lr_cell *c = cell_for(g, addr, size);
        if (!c)
            break;              /* out of room: those races are reported */
        __atomic_or_fetch(&c->benign, granule_mask(g, addr, size), __ATOMIC_RELAXED);
    }
}

void lr_race_benign(lr_thread *self, uintptr_t addr, size_t size)
{
    if (!self || size == 0)
        return;
    lr_enter(self);
    int kept = 0;
    if (!lr_race_active()) {
        lr_ilock_take(&setup_lock);
        if (!lr_race_active() && nearly_benign < EARLY_BENIGN) {
            early_benign[nearly_benign++] = (benign_range){ addr, size };
            kept = 1;
        }
        lr_ilock_drop(&setup_lock);
    }
    if (!kept) {
        lr_race_activate();
        if (lr_race_active())
            mark_benign(addr, size);
    }
    lr_leave(self);
}

void lr_race_forget(lr_thread *self, uintptr_t addr, size_t size)
{
    if (!self || size == 0 || !lr_race_active())
        return;
    lr_enter(self);
    for (uintptr_t g = addr & ~(uintptr_t)7; g < addr + size; g += 8) {
        void **slot = lr_race_map_find(&cells, g, 0);
        lr_cell *old = slot ? __atomic_load_n(slot, __ATOMIC_ACQUIRE) : NULL;
        lr_cell *c = old ? new_cell(old->var, g) : NULL;
        if (!c)
            continue;
        c->benign = __atomic_load_n(&old->benign, __ATOMIC_RELAXED);
        __atomic_store_n(slot, c, __ATOMIC_RELEASE);
    }
    lr_leave(self);
}

static cell_thread *cell_thread_of(lr_cell *c, uint32_t thread, int create)
{
    uint32_t first = c->nthreads < TIDS ? c->nthreads : TIDS;
    for (uint32_t i = 0; i < first; i++)   /* the ids at hand, without a pointer chase */
        if (c->tids[i] == thread)
            return c->threads[i];
    for (uint32_t i = first; i < c->nthreads; i++)
        if (c->threads[i]->thread == thread)
            return c->threads[i];
    if (!create)
        return NULL;
    if (c->nthreads == c->cap) {
        uint32_t cap = c->cap ? c->cap * 2 : 4;
        cell_thread **t = lr_arena_alloc(cap * sizeof *t);
        if (!t)
            return NULL;
        if (c->nthreads)
            memcpy(t, c->threads, c->nthreads * sizeof *t);
        c->threads = t;
        c->cap = cap;
    }
    cell_thread *ct = lr_arena_alloc(sizeof *ct);
    if (!ct)
        return NULL;
    ct->thread = thread;
    if (c->nthreads < TIDS)
        c->tids[c->nthreads] = thread;
    c->threads[c->nthreads++] = ct;
    return ct;
}

lr_var *lr_race_vars(void)
{
    lr_ilock_take(&vars_lock);
    lr_var *list = vars;
    lr_ilock_drop(&vars_lock);
    return list;
}

/* ---- the access check ---- */

static int overlap(const lr_access *a, const lr_access *b)
{
    return (a->mask & b->mask) != 0;
}

/* a was made inside a C++ function-local static's initialiser (its thread
 * held the static's guard). C++ orders the initialiser before every later
 * use of the static, through the guard's check, which the compiler makes
 * inline where lockrace does not see it: what the initialiser did happened
 * before the accesses of any thread that used the static after it. */
static int in_static_init(const lr_access *a)
{
    for (uint32_t i = 0; a->locks && i < a->locks->n; i++)
        if (a->locks->locks[i].lock.type == LR_GUARD)
            return 1;
    return 0;
}

/* a may race b: different threads, one writes, not both atomic, and a did
 * not happen before b's thread's present (vc). */
static int conflict(const lr_access *a, const lr_access *b, const lr_vc *vc)
{
    return a->seq && a->thread != b->thread && (a->write || b->write) && !(a->atomic && b->atomic) &&
           overlap(a, b) && !lr_vc_covers(vc, a->thread, a->clock) && !in_static_init(a);
}

/* Held back race of ct's read: reported now. */
void lr_race_release_pending(findings *fs, lr_cell *c, cell_thread *ct)
{
    if (!ct->pending)
        return;
    ct->pending = 0;
    lr_race_add_race(fs, c, &ct->pend_other, &ct->pend_mine);
}

static void hold_back(cell_thread *ct, const lr_access *mine, const lr_access *other)
{
    if (ct->pending)
        return;
    ct->pending = 1;
    ct->pend_mine = *mine;
    ct->pend_other = *other;
}

#define WRITE_MAX (1ull << 24)

/* Records that write n was an exact read-modify-write of write source. */
static void mark_rmw(lr_cell *c, uint64_t n, uint64_t source)
{
    if (n >= c->src_cap) {
        if (n >= WRITE_MAX) {
            c->inexact = 1;     /* 16 M writes: no more claims, never a false one */
            return;
        }
        uint64_t cap = c->src_cap ? c->src_cap : 1024;
        while (cap <= n)
            cap *= 2;
        uint32_t *f = lr_map(cap * sizeof *f);
        if (!f) {
            c->inexact = 1;
            return;
        }
        if (c->src) {
            memcpy(f, c->src, c->src_cap * sizeof *f);
            lr_unmap(c->src, c->src_cap * sizeof *f);
        }
        c->src = f;
        c->src_cap = cap;
    }
    c->src[n] = (uint32_t)source + 1;
}

static int is_rmw(const lr_cell *c, uint64_t n)
{
    return n < c->src_cap && c->src[n] != 0;
}

static uint64_t count_rmw(const lr_cell *c, uint64_t lo, uint64_t hi)
{
    uint64_t n = 0;
    for (uint64_t i = lo + 1; i <= hi; i++)
        n += (uint64_t)is_rmw(c, i);
    return n;
}

/* At exit: every exact update that is not an ancestor (through "was built
 * on") of the variable's last write, or of a read some thread may still
 * build on, was lost. For a counter of increments this is exactly the
 * increments missing from its value. Returns 0 when the cell's history is
 * not certain. Under the cell's lock. */
static uint64_t lost_in_history(const lr_cell *c)
{
    uint64_t n = c->nwrites;
    if (c->inexact || !c->src || n == 0)
        return 0;
    size_t bytes = (n + 8) / 8;
    uint8_t *alive = lr_map(bytes);
    if (!alive)
        return 0;
    uint64_t tips[65];
    uint32_t ntips = 0;
    tips[ntips++] = n;
    for (uint32_t i = 0; i < c->nthreads && ntips < 65; i++) {
        const lr_access *l = &c->threads[i]->last;
        if (l->seq && !l->write)
            tips[ntips++] = l->source;
    }
    for (uint32_t t = 0; t < ntips; t++)
        for (uint64_t k = tips[t]; k > 0 && !(alive[k / 8] >> (k % 8) & 1);) {
            alive[k / 8] |= (uint8_t)(1u << (k % 8));
            if (!is_rmw(c, k))
                break;
            k = c->src[k] - 1;
        }
    uint64_t lost = 0;
    for (uint64_t k = 1; k <= n; k++)
        lost += is_rmw(c, k) && !(alive[k / 8] >> (k % 8) & 1);
    lr_unmap(alive, bytes);
    return ntips < 65 ? lost : 0;
}

/* An exact read-modify-write that read write #o, storing now that the last
 * write is #N > o: the writes after o that no thread can still build on
 * are gone for good, and each that was an update is a lost update. A
 * thread whose last access was a read of write #k (o < k <= N) may yet
 * store something built on k, so everything up to k may live on. Returns
 * how many updates were lost, and in *victim the newest of them (if its
 * accesses are still in the ring). */
static uint64_t overwritten(lr_cell *c, const cell_thread *me, const lr_access *read,
                            const rmw_pair **victim)
{
    uint64_t o = read->source, n = c->nwrites, alive = o;
    for (uint32_t i = 0; i < c->nthreads; i++) {
        const lr_access *l = &c->threads[i]->last;
        if (c->threads[i] != me && l->seq && !l->write && l->source > alive && l->source <= n)
            alive = l->source;
    }
    uint64_t lo = alive > c->dead_upto ? alive : c->dead_upto;
    if (n <= lo)
        return 0;
    uint64_t lost = count_rmw(c, lo, n);
    c->dead_upto = n;
    /* the report shows one of them: if it can, one whose read and write
     * both fall between our read and our write, the plainest story */
    *victim = NULL;
    uint64_t kept = c->ring_count < RING ? c->ring_count : RING;
    for (int pass = 0; pass < 2 && lost && !*victim; pass++)
        for (uint64_t i = 0; i < kept && !*victim; i++) {
            const rmw_pair *p = &c->ring[(c->ring_count - 1 - i) % RING];
            if (p->write.num > lo && p->write.num <= n && (pass || p->read.seq > read->seq))
                *victim = p;
        }
    return lost;
}

/* Another thread's last access here was a write to bytes of acc that the
 * cell's last write, which the checks compare with, did not cover: a
 * neighbouring byte of the word was written since (two threads walking
 * one char array). Byte by byte, the one byte both wrote is a race. */
static int older_write(const cell_thread *u, const lr_cell *c, const lr_access *acc, const lr_vc *vc)
{
    return u->last.write && u->last.seq != c->w.seq && (u->last.mask & acc->mask & ~c->w.mask) &&
           conflict(&u->last, acc, vc);
}

static void write_checks(lr_thread *t, lr_cell *c, cell_thread *me, lr_access *acc, const lr_vc *vc,
                         findings *fs)
{
    int rmw = !acc->atomic && me->last.seq && !me->last.write && !me->last.atomic;
    for (uint32_t i = 0; i < c->nthreads; i++) {
        cell_thread *u = c->threads[i];
        if (u != me && older_write(u, c, acc, vc))
            lr_race_add_race(fs, c, &u->last, acc);
        if (u == me || u->last.write || u->last.seq <= c->w.seq || !conflict(&u->last, acc, vc))
            continue;
        /* a read since the last write: it may be the start of u's own
         * read-modify-write, which u's write will tell */
        if (rmw && !u->last.atomic)
            hold_back(u, &u->last, acc);
        else
            lr_race_add_race(fs, c, &u->last, acc);
    }
    if (!rmw) {
        lr_race_release_pending(fs, c, me);
        if (conflict(&c->w, acc, vc))
            lr_race_add_race(fs, c, &c->w, acc);
        return;
    }
    /* a read-modify-write: the read, then this write, nothing of ours between */
    lr_access read = me->last;
    acc->source = read.source;
    acc->retaken = lr_race_retaken(t, &read, acc);
    int exact = acc->exact && read.exact && !c->inexact;
    const rmw_pair *sib = NULL;
    int lost_found = 0;
    uint64_t lost = exact && read.source < c->nwrites ? overwritten(c, me, &read, &sib) : 0;
    if (lost) {
        __atomic_add_fetch(&c->var->lost, lost, __ATOMIC_RELAXED);
        __atomic_add_fetch(&lr_race_lost_total, lost, __ATOMIC_RELAXED);
        lost_found = 1;
        if (sib) {
            lr_access a[4] = { read, *acc, sib->read, sib->write };
            lr_race_add_finding(fs, F_LOST, c, a, 4, 1);
        }
    }
    if (exact)
        mark_rmw(c, acc->num, read.source);
    for (uint32_t i = 0; i < c->nthreads; i++) {
        cell_thread *u = c->threads[i];
        if (u == me || !u->rmw_write.seq || !overlap(&u->rmw_write, acc))
            continue;
        /* u's write did not happen before our read: it can fall between our
         * read and our write */
        if (lr_vc_covers(&me->read_vc, u->rmw_write.thread, u->rmw_write.clock))
            continue;
        if (!lost_found || (sib && sib->write.thread != u->thread)) {
            lr_access a[4] = { read, *acc, u->rmw_read, u->rmw_write };
            lr_race_add_finding(fs, F_LOST, c, a, 4, 0);
        }
        lost_found = 1;
    }
    if (me->pending && lost_found)
        me->pending = 0;        /* the lost update says it */
    lr_race_release_pending(fs, c, me);
    if (!lost_found && conflict(&c->w, acc, vc))
        lr_race_add_race(fs, c, &c->w, acc);
    me->rmw_read = read;
    me->rmw_write = *acc;
    if (exact) {
        if (!c->ring)
            c->ring = lr_arena_alloc(RING * sizeof *c->ring);
        if (c->ring)
            c->ring[c->ring_count++ % RING] = (rmw_pair){ read, *acc };
    }
}

static void read_checks(lr_thread *t, lr_cell *c, cell_thread *me, const lr_access *acc,
                        const lr_vc *vc, findings *fs)
{
    lr_race_release_pending(fs, c, me);
    for (uint32_t i = 0; i < c->nthreads; i++)
        if (c->threads[i] != me && older_write(c->threads[i], c, acc, vc))
            lr_race_add_race(fs, c, &c->threads[i]->last, acc);
    if (conflict(&c->w, acc, vc)) {
        cell_thread *u = cell_thread_of(c, c->w.thread, 0);
        /* the write ended u's read-modify-write: ours may be one too */
        if (!acc->atomic && u && u->rmw_write.seq == c->w.seq)
            hold_back(me, acc, &c->w);
        else
            lr_race_add_race(fs, c, &c->w, acc);
    }
    if (me->read_version != lr_race_part(t)->vc_version || me->read_vc.n < vc->n) {
        lr_vc_copy(&me->read_vc, vc);
        me->read_version = lr_race_part(t)->vc_version;
    } else {
        me->read_vc.c[t->info->id] = vc->c[t->info->id];
    }
}

static void exact_access(lr_access *acc, uintptr_t addr, size_t size, uint64_t *value)
{
    if (acc->write) {
        switch (size) {
        case 1: __atomic_store_n((uint8_t *)addr, (uint8_t)*value, __ATOMIC_RELAXED); break;
        case 2: __atomic_store_n((uint16_t *)addr, (uint16_t)*value, __ATOMIC_RELAXED); break;
        case 4: __atomic_store_n((uint32_t *)addr, (uint32_t)*value, __ATOMIC_RELAXED); break;
        default: __atomic_store_n((uint64_t *)addr, *value, __ATOMIC_RELAXED); break;
        }
    } else {
        switch (size) {
        case 1: *value = __atomic_load_n((uint8_t *)addr, __ATOMIC_RELAXED); break;
        case 2: *value = __atomic_load_n((uint16_t *)addr, __ATOMIC_RELAXED); break;
        case 4: *value = __atomic_load_n((uint32_t *)addr, __ATOMIC_RELAXED); break;
        default: *value = __atomic_load_n((uint64_t *)addr, __ATOMIC_RELAXED); break;
        }
    }
    acc->value = *value;
}

static int exact_ok(uintptr_t addr, size_t size)
{
    return (size == 1 || size == 2 || size == 4 || size == 8) && (addr & (size - 1)) == 0;
}

/* The thread said to ignore this kind of access (lr_race_ignore). */
static int ignored(lr_thread *self, int flags)
{
    const race_thread *rt = lr_race_part(self);
    return (flags & LR_ACC_WRITE) ? rt->ignore_writes != 0 : rt->ignore_reads != 0;
}

void lr_race_access_at(lr_thread *self, uintptr_t addr, size_t size, int flags, uint64_t *value,
                       lr_stack_id stack)
{
    if (flags & LR_ACC_GIVEN)
        flags = value && exact_ok(addr, size) ? flags : flags & ~(LR_ACC_EXACT | LR_ACC_GIVEN);
    int exact = (flags & LR_ACC_EXACT) && value && exact_ok(addr, size);
    if ((flags & LR_ACC_EXACT) && value && !exact) {
        /* not a size lockrace can load or store in one go: a plain copy */
        size_t n = size < 8 ? size : 8;
        if (flags & LR_ACC_WRITE)
            memcpy((void *)addr, value, n);
        else
            memcpy(value, (const void *)addr, n);
    }
    if (!self || size == 0 || ignored(self, flags)) {
        if (exact && !(flags & LR_ACC_GIVEN)) {
            lr_access scratch = { .write = (flags & LR_ACC_WRITE) != 0 };
            exact_access(&scratch, addr, size, value);
        }
        return;
    }
    lr_race_activate();
    int saved = errno;
    lr_access acc = { .write = (flags & LR_ACC_WRITE) != 0, .atomic = (flags & LR_ACC_ATOMIC) != 0,
                      .exact = (uint8_t)exact, .thread = self->info->id };
    acc.stack = stack;
    lr_enter(self);
    acc.locks = lr_race_lockset_of(self);
    const lr_vc *vc = lr_race_clock_of(self);
    acc.clock = lr_vc_get(vc, acc.thread);
    findings fs;                /* only fs.n is read before being written */
    fs.n = 0;
    int done = 0;
    uintptr_t from = addr, to = addr + size;
    if (flags & LR_ACC_TRACKED) {   /* a buffer: only where variables are */
        uintptr_t lo = __atomic_load_n(&tracked_lo, __ATOMIC_RELAXED);
        uintptr_t hi = __atomic_load_n(&tracked_hi, __ATOMIC_RELAXED);
        from = from > lo ? from : lo;
        to = to < hi ? to : hi;
    }
    for (uintptr_t g = from & ~(uintptr_t)7; g < to; g += 8) {
        lr_cell *c;
        if (flags & LR_ACC_TRACKED) {
            void **slot = lr_race_map_find(&cells, g, 0);
            c = slot ? __atomic_load_n(slot, __ATOMIC_ACQUIRE) : NULL;
        } else {
            c = cell_for(g, addr, size);
        }
        if (!c)
            continue;
        acc.mask = granule_mask(g, addr, size) & (uint8_t)~__atomic_load_n(&c->benign, __ATOMIC_RELAXED);
        if (!acc.mask)
            continue;           /* benign bytes only: an exact access is made below */
        lr_ilock_take(&c->lock);
        acc.seq = ++c->seq;
        if (exact && !done) {
            if (flags & LR_ACC_GIVEN)
                acc.value = *value;
            else
                exact_access(&acc, addr, size, value);
            done = 1;
        }
        acc.source = c->nwrites;
        acc.num = acc.write ? c->nwrites + 1 : 0;
        cell_thread *me = cell_thread_of(c, acc.thread, 1);
        if (me) {
            if (acc.write)
                write_checks(self, c, me, &acc, vc, &fs);
            else
                read_checks(self, c, me, &acc, vc, &fs);
            me->last = acc;
        }
        if (acc.write) {
            c->w = acc;
            c->nwrites++;
            c->inexact |= !exact;
        }
        lr_ilock_drop(&c->lock);
    }
    if (exact && !done && !(flags & LR_ACC_GIVEN)) {
        lr_access scratch = acc;
        exact_access(&scratch, addr, size, value);
    }
    lr_leave(self);
    lr_race_report_findings(self, &fs);
    errno = saved;
}

/* ---- held-back reports ---- */

void lr_race_flush_cells(lr_thread *self, uint32_t thread, int all)
{
    lr_ilock_take(&vars_lock);
    lr_cell *list = all_cells;
    lr_ilock_drop(&vars_lock);
    for (lr_cell *c = list; c; c = c->next) {
        findings fs = { 0 };
        lr_ilock_take(&c->lock);
        for (uint32_t i = 0; i < c->nthreads; i++)
            if (all || c->threads[i]->thread == thread)
                lr_race_release_pending(&fs, c, c->threads[i]);
        lr_ilock_drop(&c->lock);
        if (fs.n)
            lr_race_report_findings(self, &fs);
    }
}


uint64_t lr_race_lost_at_exit(void)
{
    static int settled;
    lr_ilock_take(&vars_lock);
    lr_var *list = vars;
    lr_cell *cells_list = all_cells;
    lr_ilock_drop(&vars_lock);
    if (!settled) {
        settled = 1;
        for (lr_cell *c = cells_list; c; c = c->next) {
            lr_ilock_take(&c->lock);
            uint64_t lost = lost_in_history(c);
            lr_ilock_drop(&c->lock);
            __atomic_add_fetch(&c->var->lost_at_exit, lost, __ATOMIC_RELAXED);
        }
    }
    uint64_t total = 0;
    for (lr_var *v = list; v; v = v->next) {
        if (v->lost_at_exit > v->lost)
            v->lost = v->lost_at_exit;
        total += v->lost;
    }
    return total;
}


/* The child has one thread: any lock another thread held at the fork
 * would never be released. */
void lr_race_fork_child(void)
{
    lr_ilock_reset(&setup_lock);
    lr_ilock_reset(&vars_lock);
    lr_race_clock_fork_child();
    lr_race_report_fork_child();
    if (!lr_race_active())
        return;
    for (lr_cell *c = all_cells; c; c = c->next) {
        /* A cell locked at the fork was being changed by a thread the
         * child does not have (a src table half grown, say): its history
         * is forgotten, and with it any claim that needs all of it. */
        if (__atomic_load_n(&c->lock.state, __ATOMIC_RELAXED) != 0) {
            memset(&c->seq, 0, offsetof(lr_cell, next) - offsetof(lr_cell, seq));
            c->inexact = 1;
        }
        lr_ilock_reset(&c->lock);
    }
}
