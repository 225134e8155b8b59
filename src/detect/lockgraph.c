/* Lock-order graph. Everything here runs under graph_lock, and only on
 * slow paths: a thread meets an acquisition context for the first time, or
 * a lock is destroyed. Edges hang off their locks in doubly linked out/in
 * lists and are found by (from id, to id) through an open-addressing index.
 * A new edge from → to closes a cycle when `from` is reachable from `to`.
 * A topological order of the locks is kept as edges arrive (Pearce and
 * Kelly's dynamic topological sort): an edge that agrees with it cannot
 * close a cycle and costs nothing more; one against it searches only the
 * locks ordered between its ends, and reorders them. Only an edge that
 * does close a cycle runs the breadth-first search for the shortest such
 * path, so the report shows the smallest cycle through the new edge. Once
 * the graph has had a cycle (reported or not: gated, read-read) the order
 * proves nothing and every new edge is searched, as before. Cycles are reported once per
 * distinct set of code paths (the edges' stacks), so the same bug met again
 * on other lock objects (a new heap object, the next pair of accounts) is
 * not reported again. */
#include "detect/lockgraph.h"
#include "support/arena.h"
#include "support/ilock.h"
#include "model/held.h"
#include "support/options.h"
#include "report/report.h"

#include <stdlib.h>
#include <string.h>

typedef struct index_slot {
    uint64_t from, to;          /* lock ids; from == 0: empty */
    lr_edge *edge;
} index_slot;

static lr_ilock graph_lock = LR_ILOCK_INIT;
static index_slot *index_slots;
static uint64_t index_mask, index_count;
static lr_edge *free_edges;
static uint64_t edge_count;
static uint32_t epoch;
static lr_lock **queue;
static size_t queue_cap;
static lr_lock **visit;         /* the topological order's search: stack, then the two regions */
static size_t visit_cap;
static int64_t *ords;
static size_t ords_cap;
static int64_t ord_low, ord_high;   /* a new source goes below every lock, a new sink above */
static int cyclic;              /* a cycle has been in the graph: search every new edge */
static uint64_t gated_count;
static uint64_t *reported;      /* signatures of reported cycles, open addressing */
static uint64_t reported_mask, reported_count;

/* Each lock's place in the graph, kept here by the lock's slot number
 * (lr_lock_number, lockreg.h): its edges, its place in the topological order, the
 * searches' marks. Pages are made under graph_lock and never freed; a
 * record reused for a new lock comes back with no edges (forgotten). */
typedef struct node {
    lr_edge *out, *in;
    uint32_t mark;
    lr_edge *via;
    int64_t ord;                /* its place in the topological order */
    uintptr_t addr;             /* the lock's address when its last edge was made (for
                                   order_graph=1: the registry has cleared it when the lock ends) */
} node;

#define NODE_PAGE_BITS LR_LOCK_PAGE_BITS
static node *node_pages[LR_LOCK_PAGES];

/* The node of a lock in the graph (it has one: see has_node). */
static inline node *N(const lr_lock *l)
{
    uint32_t slot = lr_lock_number(l);
    return &node_pages[slot >> NODE_PAGE_BITS][slot & ((1u << NODE_PAGE_BITS) - 1)];
}

/* Makes sure l has a node; 0 when out of memory. */
static int has_node(const lr_lock *l)
{
    node **page = &node_pages[lr_lock_number(l) >> NODE_PAGE_BITS];
    if (!*page)
        *page = lr_arena_alloc(sizeof(node) << NODE_PAGE_BITS);
    return *page != NULL;
}

static inline uint64_t pair_hash(uint64_t a, uint64_t b)
{
    uint64_t h = (a * 0x9e3779b97f4a7c15ull) ^ (b * 0xc2b2ae3d27d4eb4full);
    return h ^ (h >> 29);
}

static index_slot *index_find(uint64_t from, uint64_t to)
{
    if (!index_slots)
        return NULL;
    for (uint64_t i = pair_hash(from, to) & index_mask;; i = (i + 1) & index_mask) {
        index_slot *s = &index_slots[i];
        if (s->from == from && s->to == to)
            return s;
        if (s->from == 0)
            return NULL;
    }
}

static void index_put(index_slot *slots, uint64_t mask, uint64_t from, uint64_t to, lr_edge *e)
{
    uint64_t i = pair_hash(from, to) & mask;
    while (slots[i].from)
        i = (i + 1) & mask;
    slots[i] = (index_slot){ from, to, e };
}

static int index_reserve(void)
{
    if (index_slots && (index_count + 1) * 2 <= index_mask + 1)
        return 0;
    uint64_t cap = index_slots ? (index_mask + 1) * 2 : 256;
    index_slot *slots = lr_map_filled(cap * sizeof *slots);     /* filled at once, below */
    if (!slots)
        return -1;
    for (uint64_t i = 0; index_slots && i <= index_mask; i++)
        if (index_slots[i].from)
            index_put(slots, cap - 1, index_slots[i].from, index_slots[i].to, index_slots[i].edge);
    lr_unmap(index_slots, index_slots ? (index_mask + 1) * sizeof *slots : 0);
    index_slots = slots;
    index_mask = cap - 1;
    return 0;
}

/* Linear-probing removal without tombstones: shift later entries back. */
static void index_remove(index_slot *s)
{
    uint64_t i = (uint64_t)(s - index_slots);
    for (uint64_t j = (i + 1) & index_mask; index_slots[j].from; j = (j + 1) & index_mask) {
        uint64_t home = pair_hash(index_slots[j].from, index_slots[j].to) & index_mask;
        if (((j - home) & index_mask) >= ((j - i) & index_mask)) {
            index_slots[i] = index_slots[j];
            i = j;
        }
    }
    index_slots[i].from = 0;
    index_count--;
}

static lr_edge *edge_new(lr_lock *from, lr_lock *to)
{
    if (index_reserve() < 0)
        return NULL;
    lr_edge *e = free_edges;
    if (e)
        free_edges = e->next_out;
    else if (!(e = lr_arena_alloc(sizeof *e)))
        return NULL;
    lr_edge_gates *gate = e->gate;      /* a recycled edge keeps its gate storage */
    memset(e, 0, sizeof *e);
    e->gate = gate;
    if (gate)
        gate->shared = 0;
    e->from = from;
    e->to = to;
    e->times = 1;
    N(from)->addr = from->addr;
    N(to)->addr = to->addr;
    e->next_out = N(from)->out;
    if (N(from)->out)
        N(from)->out->pprev_out = &e->next_out;
    N(from)->out = e;
    e->pprev_out = &N(from)->out;
    e->next_in = N(to)->in;
    if (N(to)->in)
        N(to)->in->pprev_in = &e->next_in;
    N(to)->in = e;
    e->pprev_in = &N(to)->in;
    index_put(index_slots, index_mask, from->id, to->id, e);
    index_count++;
    edge_count++;
    return e;
}

static void edge_delete(lr_edge *e)
{
    index_slot *s = index_find(e->from->id, e->to->id);
    if (s)
        index_remove(s);
    *e->pprev_out = e->next_out;
    if (e->next_out)
        e->next_out->pprev_out = e->pprev_out;
    *e->pprev_in = e->next_in;
    if (e->next_in)
        e->next_in->pprev_in = e->pprev_in;
    e->next_out = free_edges;
    free_edges = e;
    edge_count--;
}

/* Grows *buf (elements of `size` bytes) to hold n; keeps its contents. */
static int reserve(void **buf, size_t *cap, size_t n, size_t size)
{
    if (n <= *cap)
        return 0;
    size_t c = *cap ? *cap * 2 : 1024;
    while (c < n)
        c *= 2;
    void *p = lr_map(c * size);
    if (!p)
        return -1;
    if (*buf) {
        memcpy(p, *buf, *cap * size);
        lr_unmap(*buf, *cap * size);
    }
    *buf = p;
    *cap = c;
    return 0;
}

static int queue_reserve(size_t n)
{
    return reserve((void **)&queue, &queue_cap, n, sizeof *queue);
}

static uint32_t new_epoch(void)
{
    if (++epoch == 0)
        epoch = 1;
    return epoch;
}

/* ---- the topological order ---- */

/* A lock with no edge can go anywhere: below every other when it becomes
 * an edge's source, above when its target, so that the edge agrees. */
static void place_new(lr_lock *from, lr_lock *to)
{
    if (!N(from)->out && !N(from)->in)
        N(from)->ord = --ord_low;
    if (!N(to)->out && !N(to)->in)
        N(to)->ord = ++ord_high;
}

static int by_ord(const void *a, const void *b)
{
    int64_t x = N((*(lr_lock *const *)a))->ord, y = N((*(lr_lock *const *)b))->ord;
    return x < y ? -1 : x > y;
}

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return x < y ? -1 : x > y;
}

/* Collects into visit[base..] the locks reachable from `start` (forward:
 * along out-edges, through locks ordered below `bound`; backward: along
 * in-edges, through locks ordered above it), marking them with `mark`.
 * Returns how many, or -1 when `goal` was reached (forward only) or memory
 * ran out. */
static long region(lr_lock *start, int forward, int64_t bound, lr_lock *goal, size_t base,
                   uint32_t mark)
{
    size_t n = 0;
    if (reserve((void **)&visit, &visit_cap, base + 1, sizeof *visit) < 0)
        return -1;
    /* breadth-first: the region found so far is also the queue */
    N(start)->mark = mark;
    visit[base + n++] = start;
    for (size_t next = base; next < base + n;) {
        lr_lock *l = visit[next++];
        for (lr_edge *e = forward ? N(l)->out : N(l)->in; e; e = forward ? e->next_out : e->next_in) {
            lr_lock *w = forward ? e->to : e->from;
            if (w == goal)
                return -1;
            if (N(w)->mark == mark || (forward ? N(w)->ord >= bound : N(w)->ord <= bound))
                continue;
            if (reserve((void **)&visit, &visit_cap, base + n + 1, sizeof *visit) < 0)
                return -1;
            N(w)->mark = mark;
            visit[base + n++] = w;
        }
    }
    return (long)n;
}

/* The edge from → to is against the order (from is after to). Returns 1
 * when it closes a cycle (to reaches from), else reorders the locks
 * between them so that it agrees, and returns 0. */
static int reorder(lr_lock *from, lr_lock *to)
{
    long nf = region(to, 1, N(from)->ord, from, 0, new_epoch());
    if (nf < 0)
        return 1;               /* a cycle, or no memory to tell: search */
    long nb = region(from, 0, N(to)->ord, NULL, (size_t)nf, new_epoch());
    if (nb < 0 || reserve((void **)&ords, &ords_cap, (size_t)(nf + nb), sizeof *ords) < 0)
        return 1;
    lr_lock **f = visit, **b = visit + nf;
    for (long i = 0; i < nf + nb; i++)
        ords[i] = N(visit[i])->ord;
    qsort(ords, (size_t)(nf + nb), sizeof *ords, cmp_i64);
    qsort(f, (size_t)nf, sizeof *f, by_ord);
    qsort(b, (size_t)nb, sizeof *b, by_ord);
    /* what reaches `from` first, then what `to` reaches, each in its order */
    for (long i = 0; i < nb; i++)
        N(b[i])->ord = ords[i];
    for (long i = 0; i < nf; i++)
        N(f[i])->ord = ords[nb + i];
    return 0;
}

/* 1 when the new edge from → to may close a cycle and must be searched. */
static int may_close_cycle(lr_lock *from, lr_lock *to)
{
    if (cyclic)
        return 1;
    if (N(from)->ord < N(to)->ord)
        return 0;
    return reorder(from, to);
}

/* Breadth-first from `start` looking for `goal`; on success every lock of
 * the path has `via` set to the edge that reached it. */
static int find_path(lr_lock *start, lr_lock *goal)
{
    new_epoch();
    size_t head = 0, tail = 0;
    if (queue_reserve(1) < 0)
        return 0;
    N(start)->mark = epoch;
    N(start)->via = NULL;
    queue[tail++] = start;
    while (head < tail) {
        lr_lock *l = queue[head++];
        for (lr_edge *e = N(l)->out; e; e = e->next_out) {
            lr_lock *next = e->to;
            if (N(next)->mark == epoch)
                continue;
            N(next)->mark = epoch;
            N(next)->via = e;
            if (next == goal)
                return 1;
            if (queue_reserve(tail + 1) < 0)
                return 0;
            queue[tail++] = next;
        }
    }
    return 0;
}

static int signature_seen(uint64_t sig)
{
    if (!reported)
        return 0;
    for (uint64_t j = sig & reported_mask; reported[j]; j = (j + 1) & reported_mask)
        if (reported[j] == sig)
            return 1;
    return 0;
}

/* Remembers a reported cycle's signature (not seen before). */
static void signature_add(uint64_t sig)
{
    if ((reported_count + 1) * 2 > (reported ? reported_mask + 1 : 0)) {
        uint64_t cap = reported ? (reported_mask + 1) * 2 : 256;
        uint64_t *slots = lr_map(cap * sizeof *slots);
        if (!slots)
            return;
        for (uint64_t i = 0; reported && i <= reported_mask; i++) {
            if (!reported[i])
                continue;
            uint64_t j = reported[i] & (cap - 1);
            while (slots[j])
                j = (j + 1) & (cap - 1);
            slots[j] = reported[i];
        }
        lr_unmap(reported, reported ? (reported_mask + 1) * sizeof *reported : 0);
        reported = slots;
        reported_mask = cap - 1;
    }
    uint64_t j = sig & reported_mask;
    while (reported[j])
        j = (j + 1) & reported_mask;
    reported[j] = sig;
    reported_count++;
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

/* A lock every edge of the cycle was made under, and that keeps their
 * threads apart: held for writing (or as a mutex) by at least one of them.
 * An rwlock they all held for reading lets them all in together. NULL if
 * none. */
static lr_lock *common_gate(lr_edge **edges, size_t n)
{
    for (uint8_t g = 0; g < edges[0]->ngates; g++) {
        uint64_t id = edges[0]->gate->ids[g];
        int exclusive = !(edges[0]->gate->shared & (1u << g));
        size_t i = 1;
        for (; i < n; i++) {
            uint8_t k = 0;
            while (k < edges[i]->ngates && edges[i]->gate->ids[k] != id)
                k++;
            if (k == edges[i]->ngates)
                break;
            exclusive |= !(edges[i]->gate->shared & (1u << k));
        }
        if (i < n || !exclusive)
            continue;
        lr_lock *l = edges[0]->gate->locks[g];
        if (l->id == id)
            return l;
    }
    return NULL;
}

/* The cycle closed by `closing` (from → to), `to` having reached `from`:
 * as a report, or NULL when it was reported before or is filtered. */
static lr_report *cycle_report(lr_edge *closing)
{
    size_t n = 1;
    for (lr_lock *l = closing->from; l != closing->to; l = N(l)->via->from)
        n++;
    lr_report *r = lr_report_new(LR_REPORT_LOCK_ORDER, n, n, 0, 0);
    if (!r)
        return NULL;
    /* the closing edge from → to, then the path from `to` back to `from` */
    lr_edge **edges = (lr_edge **)r->scratch;
    edges[0] = closing;
    size_t k = n;
    for (lr_lock *l = closing->from; l != closing->to; l = N(l)->via->from)
        edges[--k] = N(l)->via;
    /* at every lock of the cycle, the taking (edge in) or the holding (edge
     * out) must be exclusive, or the threads do not block each other */
    for (size_t i = 0; i < n; i++) {
        uint8_t in = edges[i]->modes, out = edges[(i + 1) % n]->modes;
        if (!(in & LR_ACQ_EXCL) && !(out & LR_HOLD_EXCL)) {
            lr_report_free(r);
            return NULL;
        }
    }
    /* start the cycle at the edge of the lowest thread: T1's step first */
    size_t start = 0;
    for (size_t i = 1; i < n; i++)
        if (edges[i]->thread < edges[start]->thread)
            start = i;
    uint64_t *sig = (uint64_t *)(edges + n);
    int one_thread = 1;
    for (size_t i = 0; i < n; i++) {
        lr_edge *e = edges[(start + i) % n];
        lr_report_lock *rl = &r->locks[i];
        rl->id = e->from->id;
        rl->addr = e->from->addr;
        rl->first_seen = e->from->first_seen;
        rl->first_thread = e->from->first_thread;
        rl->name = e->from->name;
        rl->type = e->from->type;
        lr_report_edge *re = &r->edges[i];
        re->from = (int)i;
        re->to = (int)((i + 1) % n);
        re->thread = e->thread;
        re->first_stack = e->first_stack;
        re->second_stack = e->second_stack;
        re->bounded = e->bounded;
        re->first_shared = !(e->modes & LR_HOLD_EXCL);
        re->second_shared = !(e->modes & LR_ACQ_EXCL);
        one_thread &= e->thread == edges[0]->thread;
        /* the code paths name the bug (the stacks themselves: one shared
         * from another thread is the same path); addresses only when no
         * stack is known */
        uint64_t paths = (uint64_t)lr_stack_plain(e->first_stack) << 32 | lr_stack_plain(e->second_stack);
        sig[i] = paths ? paths * 0x9e3779b97f4a7c15ull : e->from->addr;
    }
    r->single_thread = one_thread;
    /* a deadlock along the cycle needs a thread per edge, each holding its
     * edge's first lock at once: one that made two edges cannot be both */
    size_t threads = 0;
    for (size_t i = 0; i < n; i++) {
        size_t j = 0;
        while (j < i && r->edges[j].thread != r->edges[i].thread)
            j++;
        threads += j == i;
    }
    r->threads_short = threads < n;
    lr_lock *gate = common_gate(edges, n);
    if (gate) {
        r->gate = (lr_report_lock){ .id = gate->id, .addr = gate->addr, .type = gate->type,
                                    .first_seen = gate->first_seen,
                                    .first_thread = gate->first_thread, .name = gate->name };
        if (!lr_opt.show_gated) {
            gated_count++;
            lr_report_free(r);
            return NULL;
        }
    }
    if (!one_thread || lr_opt.single_thread_cycles)
        for (size_t i = 0; i < n; i++)
            edges[i]->in_cycle = 1;     /* reported now, or the same code paths were */
    qsort(sig, n, sizeof *sig, cmp_u64);
    uint64_t h = 0x84222325cbf29ce4ull;
    for (size_t i = 0; i < n; i++)
        h = (h ^ sig[i]) * 0x100000001b3ull;
    /* and by its locks: an edge that lost its gate or gained an exclusive
     * side shows its new stacks, and closes a cycle already reported on the
     * same locks, which is no news (MariaDB's Aria log: its ring of 8
     * buffer mutexes was six reports, one for each edge that lost a gate) */
    for (size_t i = 0; i < n; i++)
        sig[i] = (r->locks[i].id * 0xc2b2ae3d27d4eb4full) ^ r->locks[(i + 1) % n].id;
    qsort(sig, n, sizeof *sig, cmp_u64);
    uint64_t locks = 0x9e3779b97f4a7c15ull ^ r->gate.id;    /* shown gated, then not: news */
    for (size_t i = 0; i < n; i++)
        locks = (locks ^ sig[i]) * 0x100000001b3ull;
    if ((one_thread && !lr_opt.single_thread_cycles) || signature_seen(h | 1) ||
        signature_seen(locks | 1)) {
        lr_report_free(r);
        return NULL;
    }
    signature_add(h | 1);
    signature_add(locks | 1);
    return r;
}

/* Reports found under the graph lock, printed after it is dropped. */
typedef struct found_list {
    lr_report **items;
    size_t n, cap;
} found_list;

static void found_push(found_list *f, lr_report *r)
{
    if (f->n == f->cap) {
        size_t cap = f->cap ? f->cap * 2 : 64;
        lr_report **items = lr_map(cap * sizeof *items);
        if (!items) {
            lr_report_free(r);
            return;
        }
        if (f->items) {
            memcpy(items, f->items, f->n * sizeof *items);
            lr_unmap(f->items, f->cap * sizeof *items);
        }
        f->items = items;
        f->cap = cap;
    }
    f->items[f->n++] = r;
}

/* Cycles through a semaphore not proven a lock yet (lockgraph.h), under
 * graph_lock. */
static found_list pending;

/* The report's cycle goes through a semaphore that has not shown it is a
 * lock (one that has left the graph counts as unproven: its report is
 * dropped with it). */
static int unproven(const lr_report *r)
{
    for (size_t i = 0; i < r->nlocks; i++) {
        if (r->locks[i].type != LR_SEMAPHORE)
            continue;
        const lr_lock *l = lr_lock_of_id(r->locks[i].id);
        if (!l || l->id != r->locks[i].id || !__atomic_load_n(&l->proven, __ATOMIC_ACQUIRE))
            return 1;
    }
    return 0;
}

static void emit_all(found_list *f)
{
    for (size_t i = 0; i < f->n; i++) {
        if (!lr_report_cycle_again(f->items[i]))
            lr_report_emit(f->items[i]);
        lr_report_free(f->items[i]);
    }
    lr_unmap(f->items, f->cap * sizeof *f->items);
}

void lr_graph_proven(lr_lock *l)
{
    if (__atomic_exchange_n(&l->proven, 1, __ATOMIC_ACQ_REL))
        return;
    found_list now = { 0 };
    lr_ilock_take(&graph_lock);
    for (size_t i = 0; i < pending.n;) {
        if (!unproven(pending.items[i])) {
            found_push(&now, pending.items[i]);
            pending.items[i] = pending.items[--pending.n];
        } else {
            i++;
        }
    }
    lr_ilock_drop(&graph_lock);
    emit_all(&now);
}

/* Under graph_lock: the pending reports through l, which leaves the graph
 * before it proved a lock, are dropped. */
static void drop_pending(const lr_lock *l)
{
    for (size_t i = 0; i < pending.n;) {
        const lr_report *r = pending.items[i];
        size_t k = 0;
        while (k < r->nlocks && r->locks[k].id != l->id)
            k++;
        if (k < r->nlocks) {
            lr_report_free(pending.items[i]);
            pending.items[i] = pending.items[--pending.n];
        } else {
            i++;
        }
    }
}

/* Keeps, of the edge's gates, those held below held[i] this time too;
 * returns 1 when one was lost. */
static int keep_gates(lr_edge *e, const lr_held *held, uint32_t i)
{
    uint8_t kept = 0, shared = 0;
    for (uint8_t g = 0; g < e->ngates; g++) {
        uint32_t j = 0;
        while (j < i && held[j].id != e->gate->ids[g])
            j++;
        if (j < i) {
            e->gate->locks[kept] = e->gate->locks[g];
            e->gate->ids[kept] = e->gate->ids[g];
            if ((e->gate->shared & (1u << g)) || held[j].shared)
                shared |= (uint8_t)(1u << kept);
            kept++;
        }
    }
    int lost = kept < e->ngates;
    e->ngates = kept;
    if (e->gate)
        e->gate->shared = shared;
    return lost;
}

/* A held lock that the locks below it reach (edges were made into it from
 * them when it was taken) with a path as strong as a direct edge. */
static int is_bridge(const lr_held *h)
{
    return h->how == LR_BLOCKING && !h->shared && h->lock && h->id == h->lock->id;
}

/* Under graph_lock: an edge without gate locks that already has these
 * modes is settled for acquisitions like this one (lockgraph_settled.c). */
static void settle(const lr_edge *e, uint8_t modes, int how)
{
    if (!e->ngates && !(modes & ~e->modes))
        lr_settle(e->from->id, e->to->id, modes, how);
}

/* Every edge this acquisition would make (from lowest to nheld) is
 * settled: lr_graph_add would change nothing. */
static int all_settled(const lr_held *held, uint32_t lowest, uint32_t nheld, const lr_lock *to,
                       int how, int shared)
{
    for (uint32_t i = lowest; i < nheld; i++) {
        const lr_lock *from = held[i].lock;
        if (!from || from == to || held[i].id != from->id)
            continue;           /* no edge from it (as in lr_graph_add) */
        uint8_t modes = (held[i].shared ? LR_HOLD_SHARED : LR_HOLD_EXCL) |
                        (shared ? LR_ACQ_SHARED : LR_ACQ_EXCL);
        if (!lr_settled_has(held[i].id, to->id, modes, how))
            return 0;
    }
    return 1;
}

/* The lowest held index that gets an edge of its own (lockgraph.h). */
static uint32_t lowest_direct(const lr_held *held, uint32_t nheld)
{
    uint32_t i = nheld;
    while (i > 0) {
        i--;
        if (nheld - i >= LR_DIRECT_EDGES && is_bridge(&held[i]))
            return i;
    }
    return 0;
}

/* Under graph_lock, before an edge from → to is made: marks both ends,
 * so that lr_graph_forget knows to take graph_lock, and says whether both
 * are still alive. A forget marks a lock dead (lr_lock_forget) and then
 * reads its mark, and this marks it and then reads whether it is dead:
 * with a full fence between on each side, at least one sees the other,
 * so that no edge is left to a lock forgotten without taking graph_lock
 * (a semaphore let go by another thread, found to be a signal while this
 * one held it). */
static int edged(lr_lock *from, lr_lock *to)
{
    __atomic_fetch_or(&from->held_back, LR_GRAPH_EDGED, __ATOMIC_RELAXED);
    __atomic_fetch_or(&to->held_back, LR_GRAPH_EDGED, __ATOMIC_RELAXED);
    __atomic_thread_fence(__ATOMIC_SEQ_CST);
    return __atomic_load_n(&from->addr, __ATOMIC_RELAXED) && __atomic_load_n(&to->addr, __ATOMIC_RELAXED);
}

void lr_graph_add(uint32_t thread, const lr_held *held, uint32_t from, uint32_t nheld, lr_lock *to,
                  int how, int shared, lr_stack_id second)
{
    found_list found = { 0 };
    uint32_t lowest = lowest_direct(held, nheld);
    if (lowest < from)
        lowest = from;
    if (!lr_opt.order_graph && all_settled(held, lowest, nheld, to, how, shared))
        return;
    lr_ilock_take(&graph_lock);
    for (uint32_t i = lowest; i < nheld; i++) {
        lr_lock *from = held[i].lock;
        if (!from || from == to || held[i].id != from->id || !__atomic_load_n(&from->addr, __ATOMIC_ACQUIRE))
            continue;
        uint8_t modes = (held[i].shared ? LR_HOLD_SHARED : LR_HOLD_EXCL) |
                        (shared ? LR_ACQ_SHARED : LR_ACQ_EXCL);
        index_slot *s = index_find(from->id, to->id);
        lr_edge *e = s ? s->edge : NULL;
        if (e) {
            if (e->times < UINT32_MAX)
                e->times++;     /* one more context made it (only contexts new to the process get here) */
            if (how == LR_BLOCKING)
                e->bounded = 0;
            /* an exclusive side new on a known edge can make a cycle real,
             * and so can a gate lost (the edge made without it this time) */
            int more_exclusive = (modes & ~e->modes) & (LR_HOLD_EXCL | LR_ACQ_EXCL);
            e->modes |= modes;
            int gate_lost = keep_gates(e, held, i);
            settle(e, modes, how);
            if (!more_exclusive && !gate_lost)
                continue;
            /* the edge now shows the acquisition that made it blocking */
            e->first_stack = held[i].stack;
            e->second_stack = second;
            e->thread = thread;
            if (!cyclic)
                continue;       /* an edge of a graph without cycles closes none */
        } else {
            if (!has_node(from) || !has_node(to))
                break;
            if (!edged(from, to))
                continue;
            place_new(from, to);
            int search = may_close_cycle(from, to);
            e = edge_new(from, to);
            if (!e)
                break;
            e->first_stack = held[i].stack;
            e->second_stack = second;
            e->thread = thread;
            e->bounded = how == LR_BOUNDED;
            e->modes = modes;
            for (uint32_t j = 0; j < i && e->ngates < LR_GATES; j++)
                if (held[j].lock && held[j].id == held[j].lock->id) {
                    if (!e->gate && !(e->gate = lr_arena_alloc(sizeof *e->gate)))
                        break;
                    e->gate->locks[e->ngates] = held[j].lock;
                    if (held[j].shared)
                        e->gate->shared |= (uint8_t)(1u << e->ngates);
                    e->gate->ids[e->ngates++] = held[j].id;
                }
            settle(e, modes, how);
            if (!search)
                continue;
        }
        if (find_path(to, from)) {
            cyclic = 1;
            lr_report *r = cycle_report(e);
            if (r)
                found_push(unproven(r) ? &pending : &found, r);
        }
    }
    lr_ilock_drop(&graph_lock);
    emit_all(&found);
}

/* The report's copy of a lock of the graph. */
static lr_report_lock report_lock_of(const lr_lock *l)
{
    return (lr_report_lock){ .id = l->id, .addr = N(l)->addr, .type = l->type,
                             .first_seen = l->first_seen, .first_thread = l->first_thread,
                             .name = l->name };
}

static lr_report_graph_edge edge_copy(const lr_edge *e)
{
    return (lr_report_graph_edge){ .from = report_lock_of(e->from), .to = report_lock_of(e->to),
                                   .thread = e->thread, .first_stack = e->first_stack,
                                   .second_stack = e->second_stack, .times = e->times,
                                   .in_cycle = e->in_cycle, .bounded = e->bounded };
}

/* A lock no edge of the graph ever had (edged) is forgotten without
 * graph_lock: most locks a program makes and ends, innermost or with
 * their edges held back (lockgraph_back.c), never reach the graph, and
 * taking its lock for each was, on 2 CPUs, a fifth of tests/stress churn.
 * l is dead already (lr_lock_forget): the fence orders that before the
 * look at its mark. A semaphore may have waits pending a proof. */
void lr_graph_forget(lr_lock *l)
{
    __atomic_thread_fence(__ATOMIC_SEQ_CST);
    if (l->type != LR_SEMAPHORE && !(__atomic_load_n(&l->held_back, __ATOMIC_RELAXED) & LR_GRAPH_EDGED))
        return;
    lr_ilock_take(&graph_lock);
    if (l->type == LR_SEMAPHORE && pending.n)
        drop_pending(l);
    if (!node_pages[lr_lock_number(l) >> NODE_PAGE_BITS]) {
        lr_ilock_drop(&graph_lock);
        return;                 /* never in the graph */
    }
    for (lr_edge *e; (e = N(l)->out) || (e = N(l)->in); edge_delete(e)) {
        /* order_graph=1: kept for the picture; both ends are still the locks
         * they were (forget runs before the id is cleared) */
        if (lr_opt.order_graph) {
            lr_report_graph_edge copy = edge_copy(e);
            lr_graph_keep(&copy);
        }
    }
    lr_ilock_drop(&graph_lock);
}

/* The edges are copied under graph_lock, and handed over after it is
 * dropped: naming the locks and the places reads the debug information.
 * Past LR_GRAPH_MAX_EDGES the edges of reported cycles go first. */
void lr_graph_report(void)
{
    lr_ilock_take(&graph_lock);
    uint64_t total = index_count + lr_graph_kept_count();
    size_t cap = (size_t)(total < LR_GRAPH_MAX_EDGES ? total : LR_GRAPH_MAX_EDGES), n = 0;
    lr_report_graph_edge *edges = cap ? lr_map(cap * sizeof *edges) : NULL;
    for (int cycles = 1; cycles >= 0; cycles--) {
        for (uint64_t i = 0; edges && index_slots && i <= index_mask && n < cap; i++)
            if (index_slots[i].from && index_slots[i].edge->in_cycle == cycles)
                edges[n++] = edge_copy(index_slots[i].edge);
        n = edges ? lr_graph_kept_copy(edges, n, cap, cycles) : 0;
    }
    lr_ilock_drop(&graph_lock);
    lr_report_graph(edges, n, total);
    lr_unmap(edges, cap * sizeof *edges);
}

uint64_t lr_graph_gated_count(void)
{
    return __atomic_load_n(&gated_count, __ATOMIC_RELAXED);
}

int lr_graph_order_holds(void)
{
    int holds = 1;
    lr_ilock_take(&graph_lock);
    for (uint64_t i = 0; !cyclic && index_slots && i <= index_mask; i++)
        if (index_slots[i].from && N(index_slots[i].edge->from)->ord >= N(index_slots[i].edge->to)->ord)
            holds = 0;
    lr_ilock_drop(&graph_lock);
    return holds;
}

uint64_t lr_graph_edge_count(void)
{
    return __atomic_load_n(&edge_count, __ATOMIC_RELAXED);
}

void lr_graph_fork_prepare(void) { lr_ilock_take(&graph_lock); }
void lr_graph_fork_parent(void) { lr_ilock_drop(&graph_lock); }
/* The parent's pending reports are the parent's. */
void lr_graph_fork_child(void)
{
    lr_ilock_reset(&graph_lock);
    pending = (found_list){ 0 };
}
