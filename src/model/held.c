/* The slow paths of held.h: a stack that must grow, a release that is not
 * the last acquisition. */
#include "model/held.h"
#include "support/arena.h"

#include <errno.h>
#include <string.h>

#ifdef LR_TEST_HOOKS
void (*lr_held_push_hook)(void);
#endif

int lr_held_find(const lr_thread *t, const lr_lock *l)
{
    for (int i = (int)t->nheld - 1; i >= 0; i--)
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
    int grown = grow(t);
    errno = saved_errno;
    if (grown == 0)
        lr_held_push(t, lock, id, addr, stack, how, shared);
}

void lr_held_drop_stale(lr_thread *t)
{
    for (int i = (int)t->nheld - 1; i >= 0; i--)
        if (t->held[i].lock && t->held[i].lock->id != t->held[i].id) {
            t->held[i].depth = 1;
            lr_held_release_slow(t, i);
        }
}

int lr_held_release_slow(lr_thread *t, int i)
{
    if (--t->held[i].depth > 0)
        return 0;
    uint64_t chain = t->held[i].below;
    t->nheld--;
    memmove(&t->held[i], &t->held[i + 1], (t->nheld - (uint32_t)i) * sizeof *t->held);
    for (uint32_t j = (uint32_t)i; j < t->nheld; j++) {
        t->held[j].below = chain;
        chain = lr_mix(chain, t->held[j].id);
    }
    t->chain = chain;
    return 1;
}
