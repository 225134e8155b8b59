/* The lock-order graph's edges that outlive their locks, for the picture
 * at exit (order_graph=1): lockgraph.c hands over a copy of each edge of a
 * lock that ends, under its graph lock, and reads them back at exit. Engine
 * code: it keeps copies and never prints. */
#include "detect/lockgraph.h"
#include "report/report.h"
#include "support/arena.h"

typedef struct kept_edge {
    lr_report_graph_edge e;
    struct kept_edge *next;
} kept_edge;

/* Under lockgraph.c's graph_lock: the list, newest first, and the count of
 * edges kept and dropped. Memory from the arena, never freed (the process
 * is on its way to its end when it is read). */
static kept_edge *kept;
static uint64_t kept_count, dropped;

/* Up to LR_GRAPH_MAX_EDGES; the edges of reported cycles up to twice that,
 * since they are what the picture is for. */
void lr_graph_keep(const lr_report_graph_edge *e)
{
    kept_edge *k = NULL;
    if (kept_count < (e->in_cycle ? 2 * LR_GRAPH_MAX_EDGES : LR_GRAPH_MAX_EDGES))
        k = lr_arena_alloc(sizeof *k);
    if (!k) {
        dropped++;
        return;
    }
    k->e = *e;
    k->next = kept;
    kept = k;
    kept_count++;
}

uint64_t lr_graph_kept_count(void)
{
    return kept_count + dropped;
}

size_t lr_graph_kept_copy(lr_report_graph_edge *out, size_t n, size_t cap, int cycles)
{
    for (kept_edge *k = kept; k && n < cap; k = k->next)
        if (k->e.in_cycle == cycles)
            out[n++] = k->e;
    return n;
}
