/* The race engine's happens-before: every thread's vector clock, the
 * clocks of synchronization objects (a release joins its clock into the
 * object's, an acquire joins the object's into its own), and the locksets
 * accesses are made under. */
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

static size_t part_offset;

race_thread *lr_race_part(lr_thread *t)
{
    return lr_thread_part(t, part_offset);
}

void lr_race_init(void)
{
    if (!part_offset)
        part_offset = lr_thread_add_part(sizeof(race_thread), NULL);
}

void lr_race_ignore(lr_thread *self, int what, int delta)
{
    if (!self)
        return;
    race_thread *rt = lr_race_part(self);
    uint32_t *count = what == LR_IGNORE_READS ? &rt->ignore_reads
                      : what == LR_IGNORE_WRITES ? &rt->ignore_writes : &rt->ignore_sync;
    if (delta > 0 || *count > 0)    /* an End without its Begin changes nothing */
        *count += (uint32_t)delta;
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
lr_vc *lr_race_clock_of(lr_thread *t)
{
    lr_vc *vc = clock_of_id(t->info->id);
    if (vc != &no_clock && lr_vc_get(vc, t->info->id) == 0)
        lr_vc_set(vc, t->info->id, 1);
    return vc;
}

static sync_obj *sync_get(uintptr_t obj, int create)
{
    void **slot = lr_race_map_find(&lr_race_syncs, obj, create);
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

/* A release joins the releasing thread's clock into the object's: into
 * its readers' clock for a read unlock. */
static void release(lr_thread *self, uintptr_t obj, int shared)
{
    if (!self || lr_race_part(self)->ignore_sync)
        return;
    lr_vc *vc = lr_race_clock_of(self);
    sync_obj *s = sync_get(obj, 1);
    if (s) {
        lr_ilock_take(&s->lock);
        lr_vc_join(shared ? &s->read_vc : &s->vc, vc);
        lr_ilock_drop(&s->lock);
    }
    uint32_t id = self->info->id;
    race_thread *r = lr_race_part(self);
    r->released[r->nreleased++ % RELEASES] = (release_mark){ obj, lr_vc_get(vc, id) };
    if (id < vc->n)
        vc->c[id]++;            /* what follows is not covered by this release */
}

/* A release after read has a clock of at least read's; the ring holds the
 * last RELEASES, and when its oldest is after read too, earlier ones may
 * be missing: those locks are not claimed. */
uint32_t lr_race_retaken(lr_thread *t, const lr_access *read, const lr_access *write)
{
    const lr_lockset *w = write->locks, *r = read->locks;
    if (!w || !r || write->clock == read->clock)
        return 0;               /* nothing at all released in between */
    race_thread *p = lr_race_part(t);
    uint32_t kept = p->nreleased < RELEASES ? p->nreleased : RELEASES;
    uint32_t mask = 0;
    for (uint32_t i = 0; i < w->n && i < 32; i++) {
        int before = 0;
        for (uint32_t j = 0; j < r->n && !before; j++)
            before = r->locks[j].lock.id == w->locks[i].lock.id;
        for (uint32_t k = 0; before && k < kept; k++) {
            const release_mark *m = &p->released[(p->nreleased - 1 - k) % RELEASES];
            if (m->clock < read->clock)
                break;
            if (m->obj == w->locks[i].lock.addr) {
                mask |= 1u << i;
                break;
            }
        }
    }
    return mask;
}

/* An acquire joins the object's clock into the thread's: an exclusive one
 * also its readers' (a writer comes after every reader), a read lock only
 * what the writers released. */
static void acquire(lr_thread *self, uintptr_t obj, int shared)
{
    if (!self || lr_race_part(self)->ignore_sync)
        return;
    lr_vc *vc = lr_race_clock_of(self);
    sync_obj *s = sync_get(obj, 0);
    if (!s)
        return;
    lr_ilock_take(&s->lock);
    lr_vc_join(vc, &s->vc);
    if (!shared)
        lr_vc_join(vc, &s->read_vc);
    lr_ilock_drop(&s->lock);
    lr_race_part(self)->vc_version++;
}

void lr_race_release_slow(lr_thread *self, uintptr_t obj) { release(self, obj, 0); }
void lr_race_acquire_slow(lr_thread *self, uintptr_t obj) { acquire(self, obj, 0); }
void lr_race_release_shared_slow(lr_thread *self, uintptr_t obj) { release(self, obj, 1); }
void lr_race_acquire_shared_slow(lr_thread *self, uintptr_t obj) { acquire(self, obj, 1); }

void lr_race_thread_create(lr_thread *parent, lr_thread_info *child)
{
    if (!parent || !child || !lr_race_active())
        return;
    lr_vc *vc = lr_race_clock_of(parent), *child_vc = clock_of_id(child->id);
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
    lr_vc_join(lr_race_clock_of(self), clock_of_id(child->id));
    lr_race_part(self)->vc_version++;
}

/* ---- locksets: the locks held at an access, interned by chain key ---- */

#define LOCKSET_BUCKETS 1024
static lr_lockset *locksets[LOCKSET_BUCKETS];
static lr_ilock locksets_lock = LR_ILOCK_INIT;
static const lr_lockset no_locks = { LR_CHAIN_SEED, NULL, 0 };

/* The lockset's key: the chain key names the locks held, this which of
 * them are held only for reading. */
static uint64_t lockset_key(const lr_thread *t)
{
    uint64_t modes = 0;
    for (uint32_t i = 0; i < t->nheld; i++)
        if (t->held[i].shared)
            modes = lr_mix(modes, i + 1);
    return modes ? lr_mix(t->chain, modes) : t->chain;
}

const lr_lockset *lr_race_lockset_of(lr_thread *t)
{
    if (t->nheld == 0)
        return &no_locks;
    lr_held_chain(t);           /* holes closed: the set, in order */
    race_thread *r = lr_race_part(t);
    uint64_t key = lockset_key(t);
    if (r->lockset && r->lockset_chain == key)
        return r->lockset;
    uint32_t b = (uint32_t)(key % LOCKSET_BUCKETS);
    lr_ilock_take(&locksets_lock);
    lr_lockset *s = locksets[b];
    while (s && s->key != key)
        s = s->next;
    if (!s) {
        s = lr_arena_alloc(sizeof *s + t->nheld * sizeof s->locks[0]);
        if (s) {
            s->key = key;
            for (uint32_t i = 0; i < t->nheld; i++) {
                const lr_held *h = &t->held[i];
                lr_lockset_entry *e = &s->locks[s->n++];
                lr_report_lock *l = &e->lock;
                l->id = h->id;
                l->addr = h->addr;
                e->shared = h->shared;
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
    r->lockset_chain = key;
    return s;
}

int lr_race_common_lock(const lr_lockset *a, const lr_lockset *b)
{
    for (uint32_t i = 0; i < a->n; i++)
        for (uint32_t j = 0; j < b->n; j++)
            if (a->locks[i].lock.id == b->locks[j].lock.id &&
                !(a->locks[i].shared && b->locks[j].shared))
                return 1;
    return 0;
}

/* After a fork: the locksets' lock and the synchronization objects'
 * locks free, and the child's clock as if it had joined every other
 * thread: it has none of them, and all they wrote is in its memory already,
 * or their accesses would race with the child's own. */
void lr_race_clock_fork_child(void)
{
    lr_ilock_reset(&locksets_lock);
    if (!lr_race_active())
        return;
    for (uint64_t i = 0; i <= lr_race_syncs.mask; i++) {
        sync_obj *o = lr_race_syncs.slots[i].key ? lr_race_syncs.slots[i].value : NULL;
        if (o)
            lr_ilock_reset(&o->lock);
    }
    lr_thread *self = lr_thread_current();
    if (self && self->info) {
        for (uint32_t id = 0; id < lr_thread_count(); id++) {
            lr_thread_info *t = lr_thread_info_get(id);
            if (t && t != self->info)
                lr_vc_join(lr_race_clock_of(self), clock_of_id(t->id));
        }
        lr_race_part(self)->vc_version++;
    }
}
