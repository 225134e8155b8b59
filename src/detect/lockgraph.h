/* The lock-order graph: an edge A → B when a thread took B with a blocking
 * or bounded call while holding A. A new edge that closes a cycle is a
 * lock-order-inversion report. No limit on locks, edges, cycle length or
 * held locks other than memory. */
#ifndef LR_LOCKGRAPH_H
#define LR_LOCKGRAPH_H

#include "model/lockreg.h"
#include "model/thread.h"

/* Gate locks: a cycle whose every edge was made while one same outer lock
 * was held (taken before the edge's first lock) cannot deadlock: two threads
 * cannot both be inside it. Each edge keeps the locks held below its first
 * lock every time it was made (the first LR_GATES of them). */
#define LR_GATES 4

typedef struct lr_edge {
    lr_lock *from, *to;
    struct lr_edge *next_out, **pprev_out;
    struct lr_edge *next_in, **pprev_in;
    lr_stack_id first_stack;    /* where the thread took `from` */
    lr_stack_id second_stack;   /* where it then took `to` */
    uint32_t thread;
    uint8_t bounded;            /* `to` was only ever taken with a timed call */
    uint8_t modes;              /* LR_HOLD_* | LR_ACQ_* seen on this edge */
    uint8_t ngates;
    uint8_t in_cycle;           /* on a cycle that was reported (or was the same bug again) */
    uint32_t times;             /* contexts that made it: counted on the slow path only */
    struct lr_edge_gates *gate; /* NULL until made with a lock held before `from` */
} lr_edge;

/* The locks held before `from` every time the edge was made: apart, since
 * most edges have none (an edge is 80 bytes, not 144). */
typedef struct lr_edge_gates {
    uint64_t ids[LR_GATES];
    lr_lock *locks[LR_GATES];
    uint8_t shared;             /* bit g: gate g was held for reading once or more */
} lr_edge_gates;

/* How `from` was held and `to` taken, on an edge: two read locks of
 * rwlocks do not block each other, so a cycle is a deadlock only if at
 * every lock one side of it is exclusive. */
enum { LR_HOLD_EXCL = 1, LR_HOLD_SHARED = 2, LR_ACQ_EXCL = 4, LR_ACQ_SHARED = 8 };

/* Edges into a new lock come from the nearest LR_DIRECT_EDGES held locks,
 * and on down to the first of them that is a bridge: taken blocking and
 * exclusively (so edges go into it from the locks held before it, and a
 * path through it is as exclusive and unbounded as the edge it stands
 * for). The locks below the bridge reach the new lock through it, as in
 * lockdep: one thread holding N locks makes about 16N edges, not N²/2. A
 * cycle through locks nested deeper than this is shown through the locks
 * in between, each edge a true one. 16 and not 64: few programs hold more
 * than a dozen locks at once, and one holding 1,000 spent most of its
 * time making 64,000 edges. */
#define LR_DIRECT_EDGES 16

/* Adds held[i] → to for the held locks above (LR_DIRECT_EDGES) and from
 * held[from] up, by thread `thread`, `second` being the stack of this
 * acquisition; reports the cycles that new edges close. The locks below
 * `from` still count as gates. */
void lr_graph_add(uint32_t thread, const lr_held *held, uint32_t from, uint32_t nheld, lr_lock *to,
                  int how, int shared, lr_stack_id second);

/* Edges held back (lockgraph_back.c): edges into a lock that no edge
 * leaves yet wait in the log of the thread that made them. The first edge
 * out of a lock opens it: what was held back goes into the graph. */
enum { LR_BACK_LOGGED = 1, LR_BACK_OPEN = 2,         /* lr_lock.held_back */
       LR_GRAPH_EDGED = 4 };     /* and: an edge of the graph had it at one end (lockgraph.c) */

/* lr_graph_add's edges, held back in t's log: 1, or 0 when they must go
 * into the graph now. */
int lr_graph_hold_back(lr_thread *t, const lr_held *held, uint32_t from, uint32_t nheld, lr_lock *to,
                       int how, int shared, lr_stack_id second);
/* Before edges out of held[from..nheld): opens those locks. */
void lr_graph_open(const lr_held *held, uint32_t from, uint32_t nheld);

/* A semaphore initialised to 1 is taken for a lock until it shows what
 * it is: a cycle through one that no holder has posted yet is not
 * reported until one does (lr_graph_proven: a lock, the report is written
 * then), and is dropped if it leaves the graph first (a start token whose
 * thread ended holding it, or that another thread posted). */
void lr_graph_proven(lr_lock *l);

/* Removes every edge into and out of l (its identity has ended). */
void lr_graph_forget(lr_lock *l);

uint64_t lr_graph_edge_count(void);

/* At most this many edges go into the picture of the graph (order_graph=1):
 * Graphviz lays out a few thousand in seconds, not hundreds of thousands. */
#define LR_GRAPH_MAX_EDGES 5000

/* order_graph=1, at exit: hands the report layer the whole graph (lr_report_graph),
 * with the edges of locks that were destroyed on the way. */
void lr_graph_report(void);

/* Between lockgraph.c and lockgraph_kept.c, under the graph's lock: the
 * edges of locks that ended, kept for the picture. */
struct lr_report_graph_edge;
void lr_graph_keep(const struct lr_report_graph_edge *e);
/* Edges kept, those dropped past the limit included. */
uint64_t lr_graph_kept_count(void);
/* Appends the kept edges that are (cycles: 1) or are not (0) on a reported
 * cycle to out[n..cap); returns the new n. */
size_t lr_graph_kept_copy(struct lr_report_graph_edge *out, size_t n, size_t cap, int cycles);
/* Between lockgraph.c and lockgraph_settled.c: edges (lock ids, modes,
 * how) that another acquisition like this one would not change. Read
 * without a lock; lr_settle only under the graph's lock. */
int lr_settled_has(uint64_t from, uint64_t to, uint8_t modes, int how);
void lr_settle(uint64_t from, uint64_t to, uint8_t modes, int how);
/* 1 when every edge agrees with the kept topological order, or the graph
 * has had a cycle (the order is not used then); recomputed from scratch,
 * for tests. */
int lr_graph_order_holds(void);
/* Cycles not reported because a gate lock guards them (show_gated=0). */
uint64_t lr_graph_gated_count(void);

void lr_graph_fork_prepare(void);
void lr_graph_fork_parent(void);
void lr_graph_fork_child(void);

#endif
