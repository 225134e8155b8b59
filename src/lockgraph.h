/* The lock-order graph: an edge A → B when a thread took B with a blocking
 * or bounded call while holding A. A new edge that closes a cycle is a
 * lock-order-inversion report. No limit on locks, edges, cycle length or
 * held locks other than memory. */
#ifndef LR_LOCKGRAPH_H
#define LR_LOCKGRAPH_H

#include "lockreg.h"
#include "thread.h"

typedef struct lr_edge {
    lr_lock *from, *to;
    struct lr_edge *next_out, **pprev_out;
    struct lr_edge *next_in, **pprev_in;
    lr_stack_id first_stack;    /* where the thread took `from` */
    lr_stack_id second_stack;   /* where it then took `to` */
    uint32_t thread;
    uint8_t bounded;            /* `to` was only ever taken with a timed call */
} lr_edge;

/* Adds held[i] → to for every held lock, by thread `thread`, `second` being
 * the stack of this acquisition; reports the cycles that new edges close. */
void lr_graph_add(uint32_t thread, const lr_held *held, uint32_t nheld, lr_lock *to, int how,
                  lr_stack_id second);

/* Removes every edge into and out of l (its identity has ended). */
void lr_graph_forget(lr_lock *l);

uint64_t lr_graph_edge_count(void);

void lr_graph_fork_prepare(void);
void lr_graph_fork_parent(void);
void lr_graph_fork_child(void);

#endif
