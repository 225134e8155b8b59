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
#include "detect/race.h"
#include "support/arena.h"
#include "support/ilock.h"
#include "model/held.h"
#include "report/report.h"
#include "support/util.h"
#include "detect/vclock.h"

#include <errno.h>
#include <stdio.h>
#include <stddef.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

int lr_race_on;

/* ---- address maps: lock-free lookup, insert by compare-and-swap ---- */

typedef struct map_slot {
    uintptr_t key;
    void *value;
} map_slot;

typedef struct addr_map {
    uint64_t mask;
    uint64_t used;
    map_slot *slots;
} addr_map;

#define CELL_SLOTS (1u << 20)       /* 8 MB of tracked memory at most */
#define SYNC_SLOTS (1u << 18)

static addr_map cells = { CELL_SLOTS - 1, 0, NULL };
static addr_map syncs = { SYNC_SLOTS - 1, 0, NULL };

static uint64_t addr_hash(uintptr_t a)
{
    uint64_t h = (uint64_t)a * 0x9e3779b97f4a7c15ull;
    return h ^ (h >> 29);
}

/* The value slot of key; with create, a new key is added (NULL when the
 * map is three quarters full: lockrace stops tracking new addresses). */
static void **map_find(addr_map *m, uintptr_t key, int create)
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

static lr_ilock setup_lock = LR_ILOCK_INIT;

void lr_race_activate(void)
{
    if (lr_race_active())
        return;
    lr_ilock_take(&setup_lock);
    if (!cells.slots) {
        map_slot *c = lr_map(sizeof(map_slot) * CELL_SLOTS);
        map_slot *s = lr_map(sizeof(map_slot) * SYNC_SLOTS);
        if (c && s) {
            __atomic_store_n(&syncs.slots, s, __ATOMIC_RELEASE);
            __atomic_store_n(&cells.slots, c, __ATOMIC_RELEASE);
            __atomic_store_n(&lr_race_on, 1, __ATOMIC_RELEASE);
        }
    }
    lr_ilock_drop(&setup_lock);
}

/* ---- threads' clocks ---- */

/* The engine's part of a thread's state (model/thread.h), zeroed for each
 * thread. */
typedef struct race_thread {
    uint64_t vc_version;        /* one more whenever an acquire may have grown the clock */
    uint64_t lockset_chain;     /* the lockset interned for this chain key */
    const struct lr_lockset *lockset;
} race_thread;

static size_t part_offset;

static race_thread *part_of(lr_thread *t)
{
    return lr_thread_part(t, part_offset);
}

void lr_race_init(void)
{
    if (!part_offset)
        part_offset = lr_thread_add_part(sizeof(race_thread), NULL);
}

/* Every thread's happens-before clock, by thread id: written by the thread,
 * read by its joiner once it has ended, so kept after it (arena pages, as
 * the model keeps thread records). */
#define CLOCK_PAGE_BITS 10
#define CLOCK_PAGES 65536
static lr_vc *clock_pages[CLOCK_PAGES];
static lr_vc no_clock;          /* out of memory: a clock that stays empty */

static lr_vc *clock_of_id(uint32_t id)
{
    if ((id >> CLOCK_PAGE_BITS) >= CLOCK_PAGES)
        return &no_clock;
    lr_vc **slot = &clock_pages[id >> CLOCK_PAGE_BITS];
    lr_vc *page = __atomic_load_n(slot, __ATOMIC_ACQUIRE);
    if (!page) {
        lr_vc *fresh = lr_arena_alloc(sizeof(lr_vc) << CLOCK_PAGE_BITS);
        if (!fresh)
            return &no_clock;
        /* the loser's page stays in the arena */
        page = __atomic_compare_exchange_n(slot, &page, fresh, 0, __ATOMIC_ACQ_REL,
                                           __ATOMIC_ACQUIRE) ? fresh : page;
    }
    return &page[id & ((1u << CLOCK_PAGE_BITS) - 1)];
}

/* The caller's clock, its own entry at least 1 (an epoch of 0 means none). */
static lr_vc *clock_of(lr_thread *t)
{
    lr_vc *vc = clock_of_id(t->info->id);
    if (vc != &no_clock && lr_vc_get(vc, t->info->id) == 0)
        lr_vc_set(vc, t->info->id, 1);
    return vc;
}

typedef struct sync_obj {
    lr_ilock lock;
    lr_vc vc;
} sync_obj;

static sync_obj *sync_get(uintptr_t obj, int create)
{
    void **slot = map_find(&syncs, obj, create);
    if (!slot)
        return NULL;
    sync_obj *s = __atomic_load_n(slot, __ATOMIC_ACQUIRE);
    if (s || !create)
        return s;
    sync_obj *fresh = lr_arena_alloc(sizeof *fresh);
    if (!fresh)
        return NULL;
    if (__atomic_compare_exchange_n(slot, &s, fresh, 0, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE))
        return fresh;
    return s;                   /* another thread made it first; ours stays in the arena */
}

void lr_race_release_slow(lr_thread *self, uintptr_t obj)
{
    if (!self)
        return;
    lr_vc *vc = clock_of(self);
    sync_obj *s = sync_get(obj, 1);
    if (s) {
        lr_ilock_take(&s->lock);
        lr_vc_join(&s->vc, vc);
        lr_ilock_drop(&s->lock);
    }
    uint32_t id = self->info->id;
    if (id < vc->n)
        vc->c[id]++;            /* what follows is not covered by this release */
}

void lr_race_acquire_slow(lr_thread *self, uintptr_t obj)
{
    if (!self)
        return;
    lr_vc *vc = clock_of(self);
    sync_obj *s = sync_get(obj, 0);
    if (!s)
        return;
    lr_ilock_take(&s->lock);
    lr_vc_join(vc, &s->vc);
    lr_ilock_drop(&s->lock);
    part_of(self)->vc_version++;
}

void lr_race_thread_create(lr_thread *parent, lr_thread_info *child)
{
    if (!parent || !child || !lr_race_active())
        return;
    lr_vc *vc = clock_of(parent), *child_vc = clock_of_id(child->id);
    if (child_vc != &no_clock) {
        lr_vc_copy(child_vc, vc);
        lr_vc_set(child_vc, child->id, 1);
    }
    if (parent->info->id < vc->n)
        vc->c[parent->info->id]++;
}

void lr_race_thread_joined(lr_thread *self, lr_thread_info *child)
{
    if (!self || !child || !lr_race_active())
        return;
    lr_vc_join(clock_of(self), clock_of_id(child->id));
    part_of(self)->vc_version++;
}

/* ---- locksets: the locks held at an access, interned by chain key ---- */

typedef struct lr_lockset {
    uint64_t chain;
    struct lr_lockset *next;
    uint32_t n;
    lr_report_lock locks[];
} lr_lockset;

#define LOCKSET_BUCKETS 1024
static lr_lockset *locksets[LOCKSET_BUCKETS];
static lr_ilock locksets_lock = LR_ILOCK_INIT;
static const lr_lockset no_locks = { LR_CHAIN_SEED, NULL, 0 };

static const lr_lockset *lockset_of(lr_thread *t)
{
    if (t->nheld == 0)
        return &no_locks;
    race_thread *r = part_of(t);
    if (r->lockset && r->lockset_chain == t->chain)
        return r->lockset;
    uint32_t b = (uint32_t)(t->chain % LOCKSET_BUCKETS);
    lr_ilock_take(&locksets_lock);
    lr_lockset *s = locksets[b];
    while (s && s->chain != t->chain)
        s = s->next;
    if (!s) {
        s = lr_arena_alloc(sizeof *s + t->nheld * sizeof s->locks[0]);
        if (s) {
            s->chain = t->chain;
            for (uint32_t i = 0; i < t->nheld; i++) {
                const lr_held *h = &t->held[i];
                lr_report_lock *l = &s->locks[s->n++];
                l->id = h->id;
                l->addr = h->addr;
                if (h->lock && h->lock->id == h->id) {
                    l->type = h->lock->type;
                    l->first_seen = h->lock->first_seen;
                    l->first_thread = h->lock->first_thread;
                    l->name = h->lock->name;
                }
            }
            s->next = locksets[b];
            locksets[b] = s;
        }
    }
    lr_ilock_drop(&locksets_lock);
    if (!s)
        return &no_locks;
    r->lockset = s;
    r->lockset_chain = t->chain;
    return s;
}

static int common_lock(const lr_lockset *a, const lr_lockset *b)
{
    for (uint32_t i = 0; i < a->n; i++)
        for (uint32_t j = 0; j < b->n; j++)
            if (a->locks[i].id == b->locks[j].id)
                return 1;
    return 0;
}

/* ---- variables and cells ---- */

typedef struct lr_var {
    uintptr_t addr;
    size_t size;
    const char *name;           /* NULL: named from the debug information */
    uint64_t lost;              /* lost updates observed, counted as they happen */
    uint64_t lost_at_exit;      /* the same from the whole history, at exit */
    struct lr_var *next;        /* all variables, for the summary */
} lr_var;

typedef struct lr_access {
    uint64_t seq;               /* the cell's event number; 0: none */
    uint64_t source;            /* a read (and its RMW's write): number of the write it read */
    uint64_t num;               /* a write: its number */
    uint64_t value;
    const lr_lockset *locks;
    lr_stack_id stack;
    uint32_t thread, clock;     /* epoch */
    uint8_t mask, write, atomic, exact;
} lr_access;

/* One thread's history in one cell. */
typedef struct cell_thread {
    uint32_t thread;
    lr_access last;             /* its last access */
    lr_vc read_vc;              /* its clock at its last read */
    uint64_t read_version;
    lr_access rmw_read, rmw_write;  /* its last read-modify-write */
    int pending;                /* a race on its last read, held back */
    lr_access pend_mine, pend_other;
} cell_thread;

/* Exact read-modify-writes, newest last: the evidence for observed lost updates. */
#define RING 64
typedef struct rmw_pair {
    lr_access read, write;
} rmw_pair;

#define TIDS 8
typedef struct lr_cell {
    lr_ilock lock;
    lr_var *var;
    uintptr_t granule;
    uint64_t seq;               /* events so far */
    lr_access w;                /* the last write */
    cell_thread **threads;
    uint32_t nthreads, cap;
    uint32_t tids[TIDS];        /* the first threads' ids, in the order of threads */
    rmw_pair *ring;
    uint64_t ring_count;
    /* writes in order: the write numbered n is the n-th (0: the initial value) */
    uint64_t nwrites;
    uint32_t *src;              /* src[n]: 1 + the write that write n's read-modify-write
                                   read (both exact), 0 for any other write */
    uint64_t src_cap;
    uint64_t dead_upto;         /* writes up to this one were counted as lost */
    int inexact;                /* a write not made by lockrace: no claim is certain */
    struct lr_cell *next;       /* all cells, for the flush at exit */
} lr_cell;

static lr_var *vars;
static lr_cell *all_cells;
static lr_ilock vars_lock = LR_ILOCK_INIT;

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
    lr_ilock_drop(&vars_lock);
    return v;
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
            void **slot = map_find(&cells, g, 1);
            lr_cell *c = slot ? new_cell(v, g) : NULL;
            if (!c) {
                rc = -1;
                break;
            }
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
        void **slot = map_find(&cells, g, 0);
        if (slot)
            __atomic_store_n(slot, NULL, __ATOMIC_RELEASE);
    }
}

/* The cell of a granule, made for an annotated access to memory never watched. */
static lr_cell *cell_for(uintptr_t granule, uintptr_t addr, size_t size)
{
    void **slot = map_find(&cells, granule, 1);
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

/* ---- findings and reports ---- */

enum { F_RACE, F_LOST };

typedef struct finding {
    int kind;
    int observed;
    lr_var *var;
    lr_access a[4];             /* race: earlier, later; lost: overwriter's read and write, victim's read and write */
} finding;

#define MAX_FINDINGS 8
typedef struct findings {
    int n;
    finding f[MAX_FINDINGS];
} findings;

static void add_finding(findings *fs, int kind, lr_var *v, const lr_access *a, int n, int observed)
{
    if (fs->n == MAX_FINDINGS)
        return;
    finding *f = &fs->f[fs->n++];
    f->kind = kind;
    f->var = v;
    f->observed = observed;
    memcpy(f->a, a, (size_t)n * sizeof *a);
}

static void race_finding(findings *fs, lr_var *v, const lr_access *earlier, const lr_access *later)
{
    lr_access a[2] = { *earlier, *later };
    add_finding(fs, F_RACE, v, a, 2, 0);
}

/* Reports already made, by what they are about, and how often they recurred.
 * A possible lost update is held back for up to a second (less if the
 * thread that found it ends, or the program exits): an observed one on the
 * same code often follows, and says more. */
typedef struct seen_report {
    uint64_t key;
    lr_var *var;
    int kind, observed;
    int emitted;                /* the report was written */
    int superseded;             /* a possible lost update, observed since */
    uint64_t repeats;
    uint64_t found_ns;          /* when first found */
    finding first;              /* a held-back report */
    struct seen_report *next, *order;
} seen_report;

#define SEEN_BUCKETS 1024
#define POSSIBLE_DELAY_NS 1000000000ull
static seen_report *seen[SEEN_BUCKETS];
static seen_report *seen_first, **seen_last = &seen_first;
static lr_ilock seen_lock = LR_ILOCK_INIT;
static uint64_t lost_total;

static uint64_t site_key(const lr_access *a)
{
    return lr_mix(lr_mix(a->stack, a->write), a->atomic);
}

/* Same sites, same report: the key does not depend on which thread came first. */
static uint64_t finding_key(const finding *f, int observed)
{
    uint64_t k = lr_mix((uint64_t)(uintptr_t)f->var, (uint64_t)f->kind << 8 | (uint64_t)observed);
    if (f->kind == F_RACE) {
        uint64_t x = site_key(&f->a[0]), y = site_key(&f->a[1]);
        return lr_mix(k, (x < y ? x : y) * 31 + (x < y ? y : x));
    }
    uint64_t x = lr_mix(site_key(&f->a[0]), site_key(&f->a[1]));
    uint64_t y = lr_mix(site_key(&f->a[2]), site_key(&f->a[3]));
    return lr_mix(k, (x < y ? x : y) * 31 + (x < y ? y : x));
}

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* Under seen_lock. */
static seen_report *seen_find(uint64_t key, const finding *f, int create)
{
    seen_report *s = seen[key % SEEN_BUCKETS];
    while (s && s->key != key)
        s = s->next;
    if (s || !create || !(s = lr_arena_alloc(sizeof *s)))
        return s;
    s->key = key;
    s->var = f->var;
    s->kind = f->kind;
    s->observed = f->observed;
    s->first = *f;
    s->found_ns = now_ns();
    s->next = seen[key % SEEN_BUCKETS];
    seen[key % SEEN_BUCKETS] = s;
    *seen_last = s;             /* the summary lists them in the order found */
    seen_last = &s->order;
    return s;
}

/* 1 when the finding is to be reported now. */
static int first_time(const finding *f)
{
    int possible = f->kind == F_LOST && !f->observed;
    uint64_t key = finding_key(f, f->observed);
    int now = 0;
    lr_ilock_take(&seen_lock);
    seen_report *s = seen_find(key, f, 1);
    if (s && possible && !s->superseded && seen_find(finding_key(f, 1), f, 0))
        s->superseded = 1;      /* the same code was already seen losing an update */
    if (s && s->emitted) {
        s->repeats++;
    } else if (s && !possible) {
        s->emitted = now = 1;
        if (f->kind == F_LOST) {
            seen_report *p = seen_find(finding_key(f, 0), f, 0);
            if (p)
                p->superseded = 1;
        }
    } else if (s && !s->superseded && now_ns() - s->found_ns >= POSSIBLE_DELAY_NS) {
        s->emitted = now = 1;
        s->repeats = 0;
    }
    lr_ilock_drop(&seen_lock);
    return now;
}

static void fill_access(lr_report *r, int i, const lr_access *a, size_t *nlocks, size_t *nholds)
{
    lr_report_access *ra = &r->accesses[i];
    ra->thread = a->thread;
    ra->write = a->write;
    ra->atomic = a->atomic;
    ra->has_value = a->exact;
    ra->value = a->value;
    ra->stack = a->stack;
    ra->hold_first = *nholds;
    for (uint32_t k = 0; a->locks && k < a->locks->n; k++) {
        size_t li = 0;
        while (li < *nlocks && r->locks[li].id != a->locks->locks[k].id)
            li++;
        if (li == *nlocks)
            r->locks[(*nlocks)++] = a->locks->locks[k];
        r->holds[(*nholds)++] = (lr_report_hold){ .lock = (int)li };
    }
    ra->nholds = *nholds - ra->hold_first;
}

static void report_finding(const finding *f, uint64_t lost_so_far)
{
    int n = f->kind == F_RACE ? 2 : 4;
    size_t held = 0;
    for (int i = 0; i < n; i++)
        held += f->a[i].locks ? f->a[i].locks->n : 0;
    lr_report *r = lr_report_new(f->kind == F_RACE ? LR_REPORT_DATA_RACE : LR_REPORT_LOST_UPDATE,
                                 held, 0, 0, held);
    if (!r)
        return;
    r->var.addr = f->var->addr;
    r->var.size = f->var->size;
    r->var.name = f->var->name;
    r->naccesses = (size_t)n;
    r->observed = f->observed;
    r->lost = lost_so_far;
    size_t nlocks = 0, nholds = 0;
    for (int i = 0; i < n; i++)
        fill_access(r, i, &f->a[i], &nlocks, &nholds);
    r->nlocks = nlocks;
    r->nholds = nholds;
    if (f->kind == F_RACE) {
        r->common_lock = f->a[0].locks && f->a[1].locks && common_lock(f->a[0].locks, f->a[1].locks);
    } else {
        /* the interleaving, in the cell's order (the memory's for exact accesses) */
        int order[4] = { 0, 1, 2, 3 };
        for (int i = 1; i < 4; i++)
            for (int j = i; j > 0 && f->a[order[j]].seq < f->a[order[j - 1]].seq; j--) {
                int t = order[j];
                order[j] = order[j - 1];
                order[j - 1] = t;
            }
        for (int i = 0; i < 4; i++)
            r->order[i] = order[i];
        r->common_lock = f->a[0].locks && f->a[2].locks && common_lock(f->a[0].locks, f->a[2].locks) &&
                         f->a[1].locks && f->a[3].locks && common_lock(f->a[1].locks, f->a[3].locks);
    }
    lr_report_emit(r);
    lr_report_free(r);
}

static void report_findings(lr_thread *self, findings *fs)
{
    for (int i = 0; i < fs->n; i++) {
        finding *f = &fs->f[i];
        uint64_t lost = 0;
        if (f->kind == F_LOST && f->observed)
            lost = __atomic_load_n(&f->var->lost, __ATOMIC_RELAXED);
        if (first_time(f)) {
            lr_enter(self);
            report_finding(f, lost);
            lr_leave(self);
        }
    }
}

/* ---- the access check ---- */

static int overlap(const lr_access *a, const lr_access *b)
{
    return (a->mask & b->mask) != 0;
}

/* a may race b: different threads, one writes, not both atomic, and a did
 * not happen before b's thread's present (vc). */
static int conflict(const lr_access *a, const lr_access *b, const lr_vc *vc)
{
    return a->seq && a->thread != b->thread && (a->write || b->write) && !(a->atomic && b->atomic) &&
           overlap(a, b) && !lr_vc_covers(vc, a->thread, a->clock);
}

/* Held back race of ct's read: reported now. */
static void release_pending(findings *fs, lr_cell *c, cell_thread *ct)
{
    if (!ct->pending)
        return;
    ct->pending = 0;
    race_finding(fs, c->var, &ct->pend_other, &ct->pend_mine);
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

static void write_checks(lr_cell *c, cell_thread *me, lr_access *acc, const lr_vc *vc, findings *fs)
{
    int rmw = !acc->atomic && me->last.seq && !me->last.write && !me->last.atomic;
    for (uint32_t i = 0; i < c->nthreads; i++) {
        cell_thread *u = c->threads[i];
        if (u == me || u->last.write || u->last.seq <= c->w.seq || !conflict(&u->last, acc, vc))
            continue;
        /* a read since the last write: it may be the start of u's own
         * read-modify-write, which u's write will tell */
        if (rmw && !u->last.atomic)
            hold_back(u, &u->last, acc);
        else
            race_finding(fs, c->var, &u->last, acc);
    }
    if (!rmw) {
        release_pending(fs, c, me);
        if (conflict(&c->w, acc, vc))
            race_finding(fs, c->var, &c->w, acc);
        return;
    }
    /* a read-modify-write: the read, then this write, nothing of ours between */
    lr_access read = me->last;
    acc->source = read.source;
    int exact = acc->exact && read.exact && !c->inexact;
    const rmw_pair *sib = NULL;
    int lost_found = 0;
    uint64_t lost = exact && read.source < c->nwrites ? overwritten(c, me, &read, &sib) : 0;
    if (lost) {
        __atomic_add_fetch(&c->var->lost, lost, __ATOMIC_RELAXED);
        __atomic_add_fetch(&lost_total, lost, __ATOMIC_RELAXED);
        lost_found = 1;
        if (sib) {
            lr_access a[4] = { read, *acc, sib->read, sib->write };
            add_finding(fs, F_LOST, c->var, a, 4, 1);
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
            add_finding(fs, F_LOST, c->var, a, 4, 0);
        }
        lost_found = 1;
    }
    if (me->pending && lost_found)
        me->pending = 0;        /* the lost update says it */
    release_pending(fs, c, me);
    if (!lost_found && conflict(&c->w, acc, vc))
        race_finding(fs, c->var, &c->w, acc);
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
    release_pending(fs, c, me);
    if (conflict(&c->w, acc, vc)) {
        cell_thread *u = cell_thread_of(c, c->w.thread, 0);
        /* the write ended u's read-modify-write: ours may be one too */
        if (!acc->atomic && u && u->rmw_write.seq == c->w.seq)
            hold_back(me, acc, &c->w);
        else
            race_finding(fs, c->var, &c->w, acc);
    }
    if (me->read_version != part_of(t)->vc_version || me->read_vc.n < vc->n) {
        lr_vc_copy(&me->read_vc, vc);
        me->read_version = part_of(t)->vc_version;
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
    if (!self || size == 0) {
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
    acc.locks = lockset_of(self);
    const lr_vc *vc = clock_of(self);
    acc.clock = lr_vc_get(vc, acc.thread);
    findings fs;                /* only fs.n is read before being written */
    fs.n = 0;
    int done = 0;
    for (uintptr_t g = addr & ~(uintptr_t)7; g < addr + size; g += 8) {
        lr_cell *c = cell_for(g, addr, size);
        if (!c)
            continue;
        uintptr_t lo = addr > g ? addr : g, hi = addr + size < g + 8 ? addr + size : g + 8;
        acc.mask = (uint8_t)(((1u << (hi - lo)) - 1) << (lo - g));
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
                write_checks(c, me, &acc, vc, &fs);
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
    report_findings(self, &fs);
    errno = saved;
}

/* ---- held-back reports ---- */

static void flush_cells(lr_thread *self, uint32_t thread, int all)
{
    lr_ilock_take(&vars_lock);
    lr_cell *list = all_cells;
    lr_ilock_drop(&vars_lock);
    for (lr_cell *c = list; c; c = c->next) {
        findings fs = { 0 };
        lr_ilock_take(&c->lock);
        for (uint32_t i = 0; i < c->nthreads; i++)
            if (all || c->threads[i]->thread == thread)
                release_pending(&fs, c, c->threads[i]);
        lr_ilock_drop(&c->lock);
        if (fs.n)
            report_findings(self, &fs);
    }
}

/* Possible lost updates still held back (found by thread, or all), written now. */
static void flush_possible(lr_thread *self, uint32_t thread, int all)
{
    for (;;) {
        finding f;
        int found = 0;
        lr_ilock_take(&seen_lock);
        for (seen_report *s = seen_first; s && !found; s = s->order)
            if (!s->emitted && !s->superseded && (all || s->first.a[1].thread == thread)) {
                s->emitted = found = 1;
                s->repeats = 0;
                f = s->first;
            }
        lr_ilock_drop(&seen_lock);
        if (!found)
            return;
        lr_enter(self);
        report_finding(&f, 0);
        lr_leave(self);
    }
}

void lr_race_thread_finished(lr_thread *self)
{
    if (self && lr_race_active()) {
        flush_cells(self, self->info->id, 0);
        flush_possible(self, self->info->id, 0);
    }
}

void lr_race_flush(void)
{
    lr_thread *self = lr_thread_current();
    if (lr_race_active() && self) {
        flush_cells(self, 0, 1);
        flush_possible(self, 0, 1);
    }
}

uint64_t lr_race_lost_updates(void)
{
    return __atomic_load_n(&lost_total, __ATOMIC_RELAXED);
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

void lr_race_summary(void)
{
    if (!lr_race_active() || !seen_first)
        return;
    lr_buf text = { 0 }, json = { 0 };
    char var[200];
    int pid = (int)getpid();
    lr_buf_printf(&json, "{\"lockrace\":1,\"kind\":\"summary\",\"pid\":%d,\"repeats\":[", pid);
    int first = 1;
    for (seen_report *s = seen_first; s; s = s->order) {
        if (!s->emitted)
            continue;
        lr_report_var rv = { s->var->addr, s->var->size, s->var->name };
        lr_report_var_label(&rv, var, sizeof var);
        const char *kind = s->kind == F_RACE ? "data-race" : s->observed ? "observed lost-update"
                                                                          : "possible lost-update";
        if (s->repeats)
            lr_buf_printf(&text, "==%d== lockrace: %s on %s: reported once, seen %lu more time%s\n",
                          pid, kind, var, (unsigned long)s->repeats, s->repeats == 1 ? "" : "s");
        lr_buf_printf(&json, "%s{\"kind\":\"%s\",\"certainty\":\"%s\",\"variable\":", first ? "" : ",",
                      s->kind == F_RACE ? "data-race" : "lost-update",
                      s->kind == F_RACE ? "unordered" : s->observed ? "observed" : "possible");
        lr_buf_json_string(&json, var);
        lr_buf_printf(&json, ",\"repeats\":%lu}", (unsigned long)s->repeats);
        first = 0;
    }
    lr_buf_puts(&json, "],\"lost_updates\":[");
    first = 1;
    lr_race_lost_at_exit();
    lr_ilock_take(&vars_lock);
    lr_var *list = vars;
    lr_ilock_drop(&vars_lock);
    for (lr_var *v = list; v; v = v->next) {
        if (!v->lost)
            continue;
        lr_report_var rv = { v->addr, v->size, v->name };
        lr_report_var_label(&rv, var, sizeof var);
        lr_buf_printf(&text, "==%d== lockrace: lost updates observed on %s: %lu\n", pid, var,
                      (unsigned long)v->lost);
        lr_buf_printf(&json, "%s{\"variable\":", first ? "" : ",");
        lr_buf_json_string(&json, var);
        lr_buf_printf(&json, ",\"observed\":%lu}", (unsigned long)v->lost);
        first = 0;
    }
    lr_buf_puts(&json, "]}\n");
    if (text.data || json.data)
        lr_report_write_extra(text.data, text.len, json.data, json.len);
    lr_buf_free(&text);
    lr_buf_free(&json);
}

/* The child has one thread: any lock another thread held at the fork
 * would never be released. */
void lr_race_fork_child(void)
{
    lr_ilock_reset(&setup_lock);
    lr_ilock_reset(&locksets_lock);
    lr_ilock_reset(&vars_lock);
    lr_ilock_reset(&seen_lock);
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
    for (uint64_t i = 0; i <= syncs.mask; i++) {
        sync_obj *o = syncs.slots[i].key ? syncs.slots[i].value : NULL;
        if (o)
            lr_ilock_reset(&o->lock);
    }
    /* The child has none of the other threads, and all they wrote is in
     * its memory already: as if it had joined them, or their accesses
     * would race with the child's own. */
    lr_thread *self = lr_thread_current();
    if (self && self->info) {
        for (uint32_t id = 0; id < lr_thread_count(); id++) {
            lr_thread_info *t = lr_thread_info_get(id);
            if (t && t != self->info)
                lr_vc_join(clock_of(self), clock_of_id(t->id));
        }
        part_of(self)->vc_version++;
    }
}
