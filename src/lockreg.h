/* The lock registry: address → lock object. A lock's identity is its
 * address plus a generation: destroy and re-init end the identity, so a new
 * lock at the same address starts clean. Every identity gets a new id. */
#ifndef LR_LOCKREG_H
#define LR_LOCKREG_H

#include "stack.h"

#include <stdint.h>

enum lr_lock_type { LR_NORMAL, LR_RECURSIVE, LR_ERRORCHECK, LR_ADAPTIVE };

struct lr_edge;

typedef struct lr_lock {
    uintptr_t addr;
    uint64_t id;                /* unique for the life of the process; never reused */
    uint8_t type;               /* enum lr_lock_type, read from the object */
    lr_stack_id first_seen;     /* its init, or its first lock call */
    uint32_t first_thread;
    const char *name;           /* given by lockrace_lock_name(), else NULL */
    /* owned by the lock-order graph, under its lock */
    struct lr_edge *out, *in;
    uint32_t mark;
    struct lr_edge *via;
    struct lr_lock *next_free;
} lr_lock;

/* Lock-free lookup; NULL when the address has no live lock. */
lr_lock *lr_lock_find(uintptr_t addr);

/* Finds or creates (capturing the first-seen stack) the lock at addr. */
lr_lock *lr_lock_get(uintptr_t addr, int type);

/* Ends the identity of the lock at addr (destroy, re-init): the graph drops
 * its edges. Returns the lock that was forgotten's id, 0 if none. */
uint64_t lr_lock_forget(uintptr_t addr);

void lr_lockreg_fork_prepare(void);
void lr_lockreg_fork_parent(void);
void lr_lockreg_fork_child(void);

#endif
