/* The slow paths of held.h: a push past the scanned slots, a release that
 * is not the last acquisition, the holes it leaves, and the index of the
 * deep slots.
 *
 * The index maps a lock's address to the slot it was pushed at, for slots
 * from LR_HELD_SCANNED up, every push to which takes the slow path. An
 * entry is believed only when its slot is below nheld and holds that
 * address: a pop leaves its entry behind, and the next push to the slot,
 * or of the address, replaces it. Open addressing, no deletion; emptied
 * and filled again from the stack when half full. */
#include "model/held.h"
#include "support/arena.h"

#include <errno.h>
#include <string.h>

#ifdef LR_TEST_HOOKS
void (*lr_held_push_hook)(void);
uint64_t lr_held_steps;
#endif

typedef struct lr_held_slot {
    uintptr_t addr;             /* 0: empty */
    uint32_t slot;
} lr_held_slot;

#define INDEX_MIN 64u

static uint32_t index_home(const lr_thread *t, uintptr_t addr)
{
    return (uint32_t)(((uint64_t)addr * 0x9e3779b97f4a7c15ull) >> 32) & t->held_index_mask;
}

static void index_set(lr_thread *t, uintptr_t addr, uint32_t slot);

/* Empties the index and puts the deep slots back, in a table of at least
 * four times their number. */
static void index_rebuild(lr_thread *t)
{
    uint32_t deep = t->nheld > LR_HELD_SCANNED ? t->nheld - LR_HELD_SCANNED : 0;
    uint32_t size = t->held_index ? t->held_index_mask + 1 : 0;
    if (size < INDEX_MIN || size < 4 * (deep + 1)) {
        uint32_t want = INDEX_MIN;
        while (want < 4 * (deep + 1))
            want *= 2;
        lr_held_slot *index = lr_map(want * sizeof *index);
        if (!index)
            return;
        if (t->held_index)
            lr_unmap(t->held_index, size * sizeof *t->held_index);
        t->held_index = index;
        t->held_index_mask = want - 1;
    } else {
        memset(t->held_index, 0, size * sizeof *t->held_index);
    }
    t->held_index_used = 0;
    LR_HELD_STEPS(deep);
    for (uint32_t i = LR_HELD_SCANNED; i < t->nheld; i++)
        if (t->held[i].addr != LR_HELD_HOLE)
            index_set(t, t->held[i].addr, i);
}

static void index_set(lr_thread *t, uintptr_t addr, uint32_t slot)
{
    if (!t->held_index || 2 * (t->held_index_used + 1) > t->held_index_mask + 1) {
        index_rebuild(t);
        if (!t->held_index)
            return;     /* no memory: lookups scan (lr_held_lookup) */
    }
    for (uint32_t i = index_home(t, addr);; i = (i + 1) & t->held_index_mask) {
        lr_held_slot *s = &t->held_index[i];
        LR_HELD_STEPS(1);
        if (s->addr == addr || s->addr == 0) {
            t->held_index_used += s->addr == 0;
            s->addr = addr;
            s->slot = slot;
            return;
        }
    }
}

int lr_held_lookup(const lr_thread *t, uintptr_t addr)
{
    uint32_t scanned = t->nheld;    /* never indexed (no memory): every slot */
    if (t->held_index) {
        for (uint32_t i = index_home(t, addr);; i = (i + 1) & t->held_index_mask) {
            const lr_held_slot *s = &t->held_index[i];
            LR_HELD_STEPS(1);
            if (s->addr == addr) {
                if (s->slot < t->nheld && t->held[s->slot].addr == addr)
                    return (int)s->slot;
                break;
            }
            if (s->addr == 0)
                break;
        }
        scanned = LR_HELD_SCANNED;
    }
    int i = (int)(t->nheld < scanned ? t->nheld : scanned) - 1;
    while (i >= 0 && t->held[i].addr != addr)
        i--;
    return i;
}

void lr_held_reset(lr_thread *t)
{
    t->nheld = 0;
    t->chain = LR_CHAIN_SEED;
    t->hole_floor = LR_HELD_NO_HOLE;
    t->held_limit = LR_HELD_SCANNED;
    /* a recycled index's entries name slots past nheld: none is believed,
     * but they fill it */
    if (t->held_index && t->held_index_used)
        index_rebuild(t);
}

int lr_held_find(const lr_thread *t, const lr_lock *l)
{
    uintptr_t addr = __atomic_load_n(&l->addr, __ATOMIC_RELAXED);
    int i = addr ? lr_held_at(t, addr) : -1;
    if (i >= 0 && t->held[i].lock == l && t->held[i].id == l->id)
        return i;
    /* the lock has left its address: a scan */
    for (i = (int)t->nheld - 1; i >= 0; i--)
        if (t->held[i].lock == l && t->held[i].id == l->id)
            return i;
    return -1;
}

void lr_held_again(lr_thread *t, const lr_lock *l)
{
    int i = lr_held_find(t, l);
    if (i >= 0)
        t->held[i].depth++;
}

static int grow(lr_thread *t)
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

void lr_held_push_slow(lr_thread *t, lr_lock *lock, uint64_t id, uintptr_t addr,
                       lr_stack_id stack, int how, int shared)
{
    int saved_errno = errno;
    lr_held_settle(t);
    uint32_t n = t->nheld;
    if (n < t->held_cap || grow(t) == 0) {
        lr_held_fill(t, n, lock, id, addr, stack, how, shared);
        if (n >= LR_HELD_SCANNED)
            index_set(t, addr, n);
    }
    errno = saved_errno;
}

void lr_held_settle(lr_thread *t)
{
    uint32_t floor = t->hole_floor;
    if (floor == LR_HELD_NO_HOLE)
        return;
    uint64_t chain = t->held[floor].below;
    uint32_t to = floor;
    LR_HELD_STEPS(t->nheld - floor);
    for (uint32_t from = floor; from < t->nheld; from++) {
        if (t->held[from].addr == LR_HELD_HOLE)
            continue;
        if (from != to)
            t->held[to] = t->held[from];
        t->held[to].below = chain;
        chain = lr_mix(chain, t->held[to].id);
        to++;
    }
    t->nheld = to;
    t->chain = chain;
    /* every entry from the floor up has moved; indexed once the stack is
     * whole (an index_set may empty the index and fill it from the stack) */
    for (uint32_t j = floor > LR_HELD_SCANNED ? floor : LR_HELD_SCANNED; j < to; j++)
        index_set(t, t->held[j].addr, j);
    t->hole_floor = LR_HELD_NO_HOLE;
    t->held_limit = LR_HELD_SCANNED;
}

void lr_held_sweep_stale(lr_thread *t)
{
    for (int i = (int)t->nheld - 1; i >= 0; i--)
        if (t->held[i].lock && t->held[i].lock->id != t->held[i].id) {
            t->held[i].depth = 1;
            lr_held_release_slow(t, i);
        }
}

/* The top is gone: so are the holes under it; with none left below, the
 * chain is the new top's. */
static void pop(lr_thread *t)
{
    uint32_t n = t->nheld - 1;
    while (n > 0 && t->held[n - 1].addr == LR_HELD_HOLE)
        n--;
    t->nheld = n;
    if (t->hole_floor != LR_HELD_NO_HOLE && n > t->hole_floor)
        return;     /* holes remain below the top: the chain stays unsettled */
    t->hole_floor = LR_HELD_NO_HOLE;
    t->held_limit = LR_HELD_SCANNED;
    t->chain = n ? lr_mix(t->held[n - 1].below, t->held[n - 1].id) : LR_CHAIN_SEED;
}

int lr_held_release_slow(lr_thread *t, int i)
{
    lr_held *h = &t->held[i];
    if (--h->depth > 0)
        return 0;
    uint32_t top = t->nheld - 1;
    if ((uint32_t)i == top) {
        pop(t);
        return 1;
    }
    /* a reader of another thread's stack skips an entry without a lock */
    h->lock = NULL;
    __atomic_signal_fence(__ATOMIC_SEQ_CST);
    h->addr = LR_HELD_HOLE;
    h->id = 0;
    if ((uint32_t)i < t->hole_floor)
        t->hole_floor = (uint32_t)i;
    t->held_limit = 0;
    t->chain = LR_CHAIN_UNSETTLED;
    /* few entries above the holes: closed now, as cheap as a hole */
    if (top - t->hole_floor <= LR_HELD_DENSE)
        lr_held_settle(t);
    return 1;
}
