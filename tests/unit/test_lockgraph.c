/* The lock-order engine driven by synthetic event streams: several
 * synthetic threads in one real thread, locks at fake addresses, stacks
 * made from fake call sites. Each test runs in its own process (Check's
 * fork mode), so the global graph starts empty every time. */
#include "detect/lockgraph.h"
#include "detect/lockorder.h"
#include "support/options.h"
#include "report/report.h"

#include "unit.h"

#include <check.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#define MAX_REPORTS 32

typedef struct seen_report {
    size_t nlocks;
    uint64_t lock_ids[64];
    uint32_t threads[64];
    int single_thread, threads_short;
    int bounded[64];
    uint64_t gate_id;
} seen_report;

static seen_report reports[MAX_REPORTS];
static int nreports;
static char fake_memory[1 << 19];     /* lock addresses */

static void sink(const lr_report *r)
{
    ck_assert_int_lt(nreports, MAX_REPORTS);
    seen_report *s = &reports[nreports++];
    s->nlocks = r->nlocks;
    s->single_thread = r->single_thread;
    s->threads_short = r->threads_short;
    s->gate_id = r->gate.id;
    for (size_t i = 0; i < r->nlocks && i < 64; i++) {
        s->lock_ids[i] = r->locks[i].id;
        s->threads[i] = r->edges[i].thread;
        s->bounded[i] = r->edges[i].bounded;
        ck_assert_int_eq(r->edges[i].from, (int)i);
        ck_assert_int_eq(r->edges[i].to, (int)((i + 1) % r->nlocks));
    }
}

static void setup(void)
{
    lr_order_init();
    lr_options_defaults(&lr_opt);
    lr_report_sink = sink;
    lr_stack_capture_override = unit_site_stack;
    nreports = 0;
}

static lr_lock *lock_at(int i, int type)
{
    return lr_lock_get((uintptr_t)&fake_memory[i * 64], type);
}

static lr_lock *L(int i) { return lock_at(i, LR_NORMAL); }

/* The edges the engine knows: the graph's, after every lock is opened
 * (edges into a lock that no edge leaves wait outside the graph,
 * lockgraph_back.c). Opening changes no cycle the graph finds. */
static uint64_t edges_known(void)
{
    for (size_t i = 0; i < sizeof fake_memory / 64; i++) {
        lr_lock *l = lr_lock_find((uintptr_t)&fake_memory[i * 64]);
        if (l) {
            lr_held h = { .lock = l, .id = l->id };
            lr_graph_open(&h, 0, 1);
        }
    }
    return lr_graph_edge_count();
}

/* One acquisition from a distinct call site per (lock, how). */
static void take(lr_thread *t, lr_lock *l, int how, uintptr_t site)
{
    current_site = site;
    lr_acquisition a = { .addr = l->addr, .pc = site, .type = l->type, .how = how };
    lr_order_before(t, &a);
    lr_order_after(t, &a);
    ck_assert_ptr_eq(a.lock, l);
}

static void lock(lr_thread *t, lr_lock *l) { take(t, l, LR_BLOCKING, 0x1000 + l->id * 16); }
static void unlock(lr_thread *t, lr_lock *l) { lr_held_released_at(t, l->addr); }

/* rwlocks: a read (shared) or write acquisition */
static void take_rw(lr_thread *t, lr_lock *l, int shared)
{
    current_site = 0x5000 + l->id * 16 + (uintptr_t)shared * 8;
    lr_acquisition a = { .addr = l->addr, .pc = current_site, .type = l->type,
                         .how = LR_BLOCKING, .shared = shared };
    lr_order_before(t, &a);
    lr_order_after(t, &a);
}

static lr_lock *RW(int i) { return lock_at(i, LR_RWLOCK); }

static void nested_rw(lr_thread *t, lr_lock *a, int a_shared, lr_lock *b, int b_shared)
{
    take_rw(t, a, a_shared);
    take_rw(t, b, b_shared);
    unlock(t, b);
    unlock(t, a);
}

static void nested(lr_thread *t, lr_lock *a, lr_lock *b)
{
    lock(t, a);
    lock(t, b);
    unlock(t, b);
    unlock(t, a);
}

/* The graph as order_graph=1 hands it over at exit. */
static lr_report_graph_edge graph_seen[16];
static size_t graph_n;
static uint64_t graph_total;

static void graph_sink(const lr_report_graph_edge *edges, size_t n, uint64_t total)
{
    ck_assert_uint_le(n, 16);
    memcpy(graph_seen, edges, n * sizeof *edges);
    graph_n = n;
    graph_total = total;
}

static const lr_report_graph_edge *graph_edge(uint64_t from, uint64_t to)
{
    for (size_t i = 0; i < graph_n; i++)
        if (graph_seen[i].from.id == from && graph_seen[i].to.id == to)
            return &graph_seen[i];
    return NULL;
}

START_TEST(the_graph_counts_contexts_and_marks_the_reported_cycle)
{
    lr_opt.order_graph = 1;
    lr_report_graph_sink = graph_sink;
    lr_thread *t1 = lr_thread_new_synthetic(), *t2 = lr_thread_new_synthetic();
    lr_lock *a = L(0), *b = L(1), *c = L(2), *d = L(3);
    uint64_t a_id = a->id, b_id = b->id, c_id = c->id, d_id = d->id;
    nested(t1, a, b);
    /* a → b again from another call site: a second context, the same edge */
    take(t1, a, LR_BLOCKING, 0x9000);
    take(t1, b, LR_BLOCKING, 0x9010);
    unlock(t1, b);
    unlock(t1, a);
    nested(t1, a, b);           /* a context seen before: not counted again */
    nested(t2, b, a);           /* closes the cycle */
    ck_assert_int_eq(nreports, 1);
    nested(t1, c, d);
    lr_lock_forget(d->addr);    /* its edge is kept for the picture */
    lr_graph_report();
    ck_assert_uint_eq(graph_n, 3);
    ck_assert_uint_eq(graph_total, 3);
    const lr_report_graph_edge *ab = graph_edge(a_id, b_id), *ba = graph_edge(b_id, a_id),
                               *cd = graph_edge(c_id, d_id);
    ck_assert(ab && ba && cd);
    ck_assert_uint_eq(ab->times, 2);
    ck_assert_uint_eq(ba->times, 1);
    ck_assert_uint_eq(cd->times, 1);
    ck_assert(ab->in_cycle && ba->in_cycle && !cd->in_cycle);
    ck_assert_ptr_eq((void *)cd->to.addr, (void *)&fake_memory[3 * 64]);
    ck_assert_uint_eq(ab->thread, t1->info->id);
}
END_TEST

START_TEST(cycle_of_length_n)
{
    int n = _i;                 /* 2..8 */
    lr_thread *t[8];
    for (int i = 0; i < n; i++)
        t[i] = lr_thread_new_synthetic();
    for (int i = 0; i < n; i++) {
        ck_assert_int_eq(nreports, 0);
        nested(t[i], L(i), L((i + 1) % n));
    }
    ck_assert_int_eq(nreports, 1);
    ck_assert_uint_eq(reports[0].nlocks, (size_t)n);
    ck_assert(!reports[0].single_thread);
    /* the cycle starts at the edge of the first thread: L0 -> L1 -> ... */
    for (int i = 0; i < n; i++) {
        ck_assert_uint_eq(reports[0].lock_ids[i], L(i)->id);
        ck_assert_uint_eq(reports[0].threads[i], t[i]->info->id);
    }
}
END_TEST

START_TEST(long_chain_without_cycle)
{
    lr_thread *a = lr_thread_new_synthetic(), *b = lr_thread_new_synthetic();
    for (int i = 0; i + 1 < 900; i++)
        nested(i % 2 ? a : b, L(i), L(i + 1));
    nested(a, L(0), L(899));        /* a shortcut in the same direction */
    ck_assert_int_eq(nreports, 0);
    ck_assert_uint_eq(edges_known(), 900);
    nested(b, L(899), L(0));        /* closes a cycle through all 900 */
    ck_assert_int_eq(nreports, 1);
    ck_assert_uint_eq(reports[0].nlocks, 2);   /* the shortest cycle is shown */
}
END_TEST

START_TEST(trylock_makes_no_edge_into_the_trylocked_lock)
{
    lr_thread *t1 = lr_thread_new_synthetic(), *t2 = lr_thread_new_synthetic();
    lock(t1, L(0));
    take(t1, L(1), LR_TRY, 0x77);
    unlock(t1, L(1));
    unlock(t1, L(0));
    nested(t2, L(1), L(0));
    ck_assert_int_eq(nreports, 0);
    ck_assert_uint_eq(edges_known(), 1);
}
END_TEST

START_TEST(edges_out_of_a_trylocked_lock_are_real)
{
    lr_thread *t1 = lr_thread_new_synthetic(), *t2 = lr_thread_new_synthetic();
    take(t1, L(0), LR_TRY, 0x77);
    lock(t1, L(1));
    unlock(t1, L(1));
    unlock(t1, L(0));
    nested(t2, L(1), L(0));
    ck_assert_int_eq(nreports, 1);
}
END_TEST

START_TEST(recursive_reacquisition_adds_nothing)
{
    lr_thread *t = lr_thread_new_synthetic();
    lr_lock *r = lock_at(0, LR_RECURSIVE);
    lock(t, r);
    lock(t, r);
    lock(t, r);
    ck_assert_int_eq((int)t->nheld, 1);
    ck_assert_int_eq((int)t->held[0].depth, 3);
    unlock(t, r);
    unlock(t, r);
    ck_assert_int_eq((int)t->nheld, 1);
    unlock(t, r);
    ck_assert_int_eq((int)t->nheld, 0);
    nested(t, L(1), L(2));          /* r is no longer held: only 1 -> 2 */
    ck_assert_uint_eq(edges_known(), 1);
    ck_assert_int_eq(nreports, 0);
}
END_TEST

START_TEST(destroyed_lock_starts_clean_at_the_same_address)
{
    lr_thread *t1 = lr_thread_new_synthetic(), *t2 = lr_thread_new_synthetic();
    lr_lock *a = L(0), *b = L(1);
    uint64_t old_a = a->id;
    nested(t1, a, b);
    ck_assert_uint_eq(edges_known(), 1);
    ck_assert_uint_eq(lr_lock_forget(a->addr), old_a);
    lr_lock_forget(b->addr);
    ck_assert_uint_eq(edges_known(), 0);
    ck_assert_ptr_null(lr_lock_find((uintptr_t)&fake_memory[0]));
    lr_lock *a2 = L(0), *b2 = L(1);
    ck_assert_uint_ne(a2->id, old_a);
    nested(t2, b2, a2);
    ck_assert_int_eq(nreports, 0);
}
END_TEST

START_TEST(destroy_removes_edges_from_other_locks_too)
{
    lr_thread *t1 = lr_thread_new_synthetic(), *t2 = lr_thread_new_synthetic();
    nested(t1, L(0), L(1));
    nested(t1, L(2), L(0));
    lr_lock_forget(L(0)->addr);
    ck_assert_uint_eq(edges_known(), 0);
    nested(t2, L(1), L(2));
    ck_assert_int_eq(nreports, 0);
}
END_TEST

/* tests/stress churn in small: locks made, taken in pairs (half the time
 * under a long-lived one, which gives them edges of the graph) and ended,
 * at addresses used again. The registry is in shards with their own free
 * records, and a lock that never had an edge of the graph is forgotten
 * without the graph's lock: nothing may be reported, no edge may outlive
 * its locks, and the records made must stay those of the locks alive at
 * once in each shard, not grow with the locks made. */
START_TEST(locks_made_and_ended_by_the_thousand_reuse_their_records)
{
    lr_thread *t = lr_thread_new_synthetic();
    lr_lock *outer = L(0);
    uint32_t records = lr_lockreg_records();
    for (int i = 0; i < 20000; i++) {
        int k = 1 + (i % 1000) * 2;
        lr_lock *x = L(k + (i & 1)), *y = L(k + !(i & 1));
        if (i & 2)
            lock(t, outer);
        nested(t, x, y);
        if (i & 2)
            unlock(t, outer);
        lr_lock_forget(x->addr);
        lr_lock_forget(y->addr);
    }
    ck_assert_int_eq(nreports, 0);
    ck_assert_uint_eq(edges_known(), 0);
    ck_assert_uint_le(lr_lockreg_records() - records, 2 * LR_LOCK_SHARDS);
}
END_TEST

/* A lock forgotten while a thread holds it (a semaphore found to be a
 * signal) gives no edge to what that thread takes next. */
START_TEST(no_edge_leaves_a_lock_forgotten_while_held)
{
    lr_thread *t1 = lr_thread_new_synthetic(), *t2 = lr_thread_new_synthetic();
    lr_lock *a = L(0);
    lock(t1, a);
    lr_lock_forget(a->addr);
    lock(t1, L(1));
    unlock(t1, L(1));
    ck_assert_uint_eq(edges_known(), 0);
    nested(t2, L(1), L(0));
    ck_assert_int_eq(nreports, 0);
}
END_TEST

START_TEST(many_threads_consistent_order)
{
    for (int i = 0; i < 200; i++) {
        lr_thread *t = lr_thread_new_synthetic();
        lock(t, L(0));
        lock(t, L(1));
        lock(t, L(2));
        unlock(t, L(2));
        unlock(t, L(1));
        unlock(t, L(0));
        nested(t, L(0), L(2));
    }
    ck_assert_int_eq(nreports, 0);
    ck_assert_uint_eq(edges_known(), 3);
}
END_TEST

START_TEST(out_of_order_release_drops_the_lock_from_the_chain)
{
    lr_thread *t1 = lr_thread_new_synthetic(), *t2 = lr_thread_new_synthetic();
    lock(t1, L(0));
    lock(t1, L(1));
    unlock(t1, L(0));              /* hand-over-hand: 0 released first */
    lock(t1, L(2));                /* 1 -> 2 only, no 0 -> 2 */
    unlock(t1, L(1));
    unlock(t1, L(2));
    ck_assert_uint_eq(edges_known(), 2);
    lr_lock_forget(L(1)->addr);    /* drops 0 -> 1 and 1 -> 2 */
    nested(t2, L(2), L(0));        /* a cycle only if 0 -> 2 had been made */
    ck_assert_int_eq(nreports, 0);
}
END_TEST

/* Locks let go in any order: what is still held is exactly what was not
 * released, and the next acquisition's edges come from those alone. */
START_TEST(releases_in_any_order_keep_what_is_held)
{
    lr_thread *t1 = lr_thread_new_synthetic();
    for (int order = 0; order < 3; order++) {
        for (int i = 0; i < 300; i++)
            lock(t1, L(i));
        for (int i = 1; i < 300; i += 2)        /* the odd ones, from the bottom */
            unlock(t1, L(i));
        for (int i = 0; i < 300; i++)
            ck_assert_uint_eq(lr_held_depth(t1, L(i)->addr), i % 2 ? 0 : 1);
        if (order == 0)
            for (int i = 0; i < 300; i += 2)
                unlock(t1, L(i));
        else if (order == 1)
            for (int i = 298; i >= 0; i -= 2)
                unlock(t1, L(i));
        else
            for (int i = 0; i < 150; i++)       /* from both ends */
                unlock(t1, L(i % 2 ? 298 - (i / 2) * 2 : (i / 2) * 2));
        ck_assert_uint_eq(t1->chain, LR_CHAIN_SEED);
        for (int i = 0; i < 300; i++)
            ck_assert_uint_eq(lr_held_depth(t1, L(i)->addr), 0);
        ck_assert_int_eq(lr_held_released_at(t1, L(0)->addr), 0);     /* not held */
    }
    ck_assert_int_eq(nreports, 0);
}
END_TEST

/* A lock let go from the middle of the held stack is out of the held set:
 * no edge from it, and the set with it again is another context. */
START_TEST(a_lock_released_from_the_middle_makes_no_edge)
{
    lr_thread *t1 = lr_thread_new_synthetic(), *t2 = lr_thread_new_synthetic();
    lock(t1, L(0));
    lock(t1, L(1));
    take(t1, L(2), LR_TRY, 0x900);      /* no 1 -> 2: a path 1 -> 2 -> 3 would be a cycle too */
    unlock(t1, L(1));
    lock(t1, L(3));                     /* 0 -> 3, 2 -> 3; not 1 -> 3 */
    unlock(t1, L(3));
    nested(t2, L(3), L(1));
    ck_assert_int_eq(nreports, 0);
    lock(t1, L(1));                     /* held: 0, 2, 1 */
    lock(t1, L(3));                     /* 1 -> 3 now */
    unlock(t1, L(3));
    unlock(t1, L(2));
    unlock(t1, L(0));
    unlock(t1, L(1));
    ck_assert_uint_eq(t1->nheld, 0);
    nested(t2, L(3), L(1));
    ck_assert_int_eq(nreports, 1);
}
END_TEST

/* Hand-over-hand down a long list lets go of the lock below the top at
 * every step: the held stack stays as small as what is held. A recursive
 * lock's levels survive releases below it. */
START_TEST(hand_over_hand_keeps_the_held_stack_small)
{
    lr_thread *t1 = lr_thread_new_synthetic();
    lr_lock *r = lock_at(1000, LR_RECURSIVE);
    lock(t1, L(0));
    lock(t1, r);
    lock(t1, r);
    unlock(t1, L(0));                   /* below r: r keeps both levels */
    ck_assert_uint_eq(lr_held_depth(t1, r->addr), 2);
    unlock(t1, r);
    ck_assert_uint_eq(lr_held_depth(t1, r->addr), 1);
    unlock(t1, r);
    ck_assert_uint_eq(t1->nheld, 0);
    for (int pass = 0; pass < 20; pass++) {      /* from the head each time: no cycle */
        lock(t1, L(0));
        for (int i = 1; i < 900; i++) {
            lock(t1, L(i));
            unlock(t1, L(i - 1));
            ck_assert_uint_le(t1->nheld, 32);
        }
        unlock(t1, L(899));
    }
    ck_assert_uint_eq(t1->nheld, 0);
    ck_assert_uint_eq(t1->chain, LR_CHAIN_SEED);
    ck_assert_int_eq(nreports, 0);
}
END_TEST

START_TEST(same_bug_on_other_locks_is_reported_once)
{
    lr_thread *t1 = lr_thread_new_synthetic(), *t2 = lr_thread_new_synthetic();
    /* the same two call sites, for two pairs of locks (two pairs of accounts) */
    for (int pair = 0; pair < 2; pair++) {
        lr_lock *a = L(2 * pair), *b = L(2 * pair + 1);
        take(t1, a, LR_BLOCKING, 0x100);
        take(t1, b, LR_BLOCKING, 0x200);
        unlock(t1, b);
        unlock(t1, a);
        take(t2, b, LR_BLOCKING, 0x100);
        take(t2, a, LR_BLOCKING, 0x200);
        unlock(t2, a);
        unlock(t2, b);
    }
    ck_assert_int_eq(nreports, 1);
}
END_TEST

START_TEST(single_thread_cycle_is_reported_and_said)
{
    lr_thread *t = lr_thread_new_synthetic();
    nested(t, L(0), L(1));
    nested(t, L(1), L(0));
    ck_assert_int_eq(nreports, 1);
    ck_assert(reports[0].single_thread);
}
END_TEST

/* T1: A→B and B→C, T2: C→A. T1 cannot hold A and B in two places at
 * once: these two threads cannot close the cycle; a third could. */
START_TEST(cycle_of_three_from_two_threads_says_they_fall_short)
{
    lr_thread *t1 = lr_thread_new_synthetic(), *t2 = lr_thread_new_synthetic();
    nested(t1, L(0), L(1));
    nested(t1, L(1), L(2));
    nested(t2, L(2), L(0));
    ck_assert_int_eq(nreports, 1);
    ck_assert(!reports[0].single_thread);
    ck_assert(reports[0].threads_short);
}
END_TEST

START_TEST(cycles_with_a_thread_per_edge_do_not_fall_short)
{
    lr_thread *t1 = lr_thread_new_synthetic(), *t2 = lr_thread_new_synthetic();
    lr_thread *t3 = lr_thread_new_synthetic();
    nested(t1, L(0), L(1));
    nested(t2, L(1), L(0));
    nested(t1, L(2), L(3));
    nested(t2, L(3), L(4));
    nested(t3, L(4), L(2));
    ck_assert_int_eq(nreports, 2);
    ck_assert(!reports[0].threads_short && !reports[1].threads_short);
    nested(t1, L(5), L(6));
    nested(t1, L(6), L(5));
    ck_assert_int_eq(nreports, 3);
    ck_assert(reports[2].single_thread && reports[2].threads_short);
}
END_TEST

START_TEST(single_thread_cycle_can_be_turned_off)
{
    lr_opt.single_thread_cycles = 0;
    lr_thread *t = lr_thread_new_synthetic();
    nested(t, L(0), L(1));
    nested(t, L(1), L(0));
    ck_assert_int_eq(nreports, 0);
}
END_TEST

START_TEST(timed_acquisitions_make_bounded_edges)
{
    lr_thread *t1 = lr_thread_new_synthetic(), *t2 = lr_thread_new_synthetic();
    lock(t1, L(0));
    take(t1, L(1), LR_BOUNDED, 0x300);
    unlock(t1, L(1));
    unlock(t1, L(0));
    nested(t2, L(1), L(0));
    ck_assert_int_eq(nreports, 1);
    ck_assert_int_eq(reports[0].bounded[0], 1);
    ck_assert_int_eq(reports[0].bounded[1], 0);
}
END_TEST

/* Edges come from the nearest LR_DIRECT_EDGES held locks; the older ones
 * reach the new lock through the locks between them: memory and time
 * linear in the number of held locks, not quadratic. */
START_TEST(a_thousand_held_locks)
{
    lr_thread *t1 = lr_thread_new_synthetic(), *t2 = lr_thread_new_synthetic();
    for (int i = 0; i < 1000; i++)
        lock(t1, L(i));
    ck_assert_int_eq((int)t1->nheld, 1000);
    lock(t1, L(1000));
    ck_assert_uint_le(edges_known(), 1001 * LR_DIRECT_EDGES);
    for (int i = 1000; i >= 0; i--)
        unlock(t1, L(i));
    ck_assert_int_eq((int)t1->nheld, 0);
    /* an inversion against the whole depth: a cycle through both locks */
    nested(t2, L(1000), L(0));
    ck_assert_int_eq(nreports, 1);
    int has_first = 0, has_last = 0;
    for (size_t i = 0; i < reports[0].nlocks && i < 64; i++) {
        has_first |= reports[0].lock_ids[i] == L(0)->id;
        has_last |= reports[0].lock_ids[i] == L(1000)->id;
    }
    ck_assert(has_first && has_last);
    ck_assert_uint_le(reports[0].nlocks, 1000 / LR_DIRECT_EDGES + 3);
}
END_TEST

/* A lock made while the thread held the cache lock, taken there for the
 * first time, cannot be waited for then: no edge cache → entry, so the
 * later entry → cache closes no cycle. Taken there again, it can. */
START_TEST(a_lock_made_under_the_held_locks)
{
    lr_thread *t = lr_thread_new_synthetic();
    lr_lock *cache = L(0), *entry = L(1);
    lock(t, cache);
    entry->born_nheld = t->nheld;       /* as lr_sync_created records an init under locks */
    entry->born_thread = t->info->id;
    entry->born_chain = t->chain;
    lock(t, entry);
    unlock(t, cache);
    lock(t, cache);                     /* entry → cache */
    unlock(t, entry);
    unlock(t, cache);
    ck_assert_uint_eq(edges_known(), 1);
    ck_assert_int_eq(nreports, 0);
    nested(t, cache, entry);            /* not its first acquisition: cache → entry, a cycle */
    ck_assert_uint_eq(edges_known(), 2);
    ck_assert_int_eq(nreports, 1);
}
END_TEST

/* Within the window every held lock has its own edge: the cycle found is
 * exactly the two locks. */
START_TEST(held_locks_within_the_window_make_two_lock_cycles)
{
    lr_thread *t1 = lr_thread_new_synthetic(), *t2 = lr_thread_new_synthetic();
    for (int i = 0; i <= LR_DIRECT_EDGES; i++)
        lock(t1, L(i));
    for (int i = LR_DIRECT_EDGES; i >= 0; i--)
        unlock(t1, L(i));
    nested(t2, L(LR_DIRECT_EDGES), L(0));
    ck_assert_int_eq(nreports, 1);
    ck_assert_uint_eq(reports[0].nlocks, 2);
}
END_TEST

/* A lock below the window reaches the new one only through locks that
 * were taken blocking and exclusively: a trylocked, read-held or timed lock
 * in between makes no edge into itself (or a weaker one), so the window
 * reaches further down past it. */
START_TEST(the_window_reaches_past_locks_that_are_no_bridge)
{
    lr_thread *t1 = lr_thread_new_synthetic(), *t2 = lr_thread_new_synthetic();
    lock(t1, L(0));
    for (int i = 1; i <= 2 * LR_DIRECT_EDGES; i++)
        take(t1, L(i), LR_TRY, 0x9000 + (uintptr_t)i * 16);
    lock(t1, L(2 * LR_DIRECT_EDGES + 1));
    for (int i = 2 * LR_DIRECT_EDGES + 1; i >= 0; i--)
        unlock(t1, L(i));
    nested(t2, L(2 * LR_DIRECT_EDGES + 1), L(0));
    ck_assert_int_eq(nreports, 1);
    ck_assert_uint_eq(reports[0].nlocks, 2);
}
END_TEST

/* The topological order: edges that arrive against it are reordered, and
 * the cycle they later close is still found, whole. */
START_TEST(a_chain_built_backwards_is_clean_then_closed)
{
    lr_thread *t1 = lr_thread_new_synthetic(), *t2 = lr_thread_new_synthetic();
    for (int i = 8; i >= 1; i--)
        nested(t1, L(i), L(i + 1));     /* each edge lands below the ones before */
    ck_assert_int_eq(nreports, 0);
    ck_assert(lr_graph_order_holds());
    nested(t2, L(9), L(1));
    ck_assert_int_eq(nreports, 1);
    ck_assert_uint_eq(reports[0].nlocks, 9);
}
END_TEST

START_TEST(reordering_keeps_the_locks_between_in_order)
{
    lr_thread *t1 = lr_thread_new_synthetic(), *t2 = lr_thread_new_synthetic();
    nested(t1, L(3), L(4));
    nested(t1, L(1), L(2));
    nested(t1, L(2), L(3));             /* against the order: 2 was placed above 3 */
    ck_assert_int_eq(nreports, 0);
    ck_assert(lr_graph_order_holds());
    nested(t2, L(4), L(1));
    ck_assert_int_eq(nreports, 1);
    ck_assert_uint_eq(reports[0].nlocks, 4);
}
END_TEST

/* Random edges that all agree with one order (lower index first), in a
 * random sequence: never a report however they arrive; then one edge
 * against it closes exactly one cycle. */
START_TEST(random_consistent_edges_in_any_order_are_clean)
{
    lr_thread *t1 = lr_thread_new_synthetic(), *t2 = lr_thread_new_synthetic();
    uint64_t seed = 0x2545f4914f6cdd1dull;
    for (int k = 0; k < 400; k++) {
        seed = seed * 6364136223846793005ull + 1442695040888963407ull;
        int a = (int)((seed >> 33) % 30), b = (int)((seed >> 17) % 30);
        if (a == b)
            continue;
        int lo = a < b ? a : b, hi = a < b ? b : a;
        nested(k % 2 ? t1 : t2, L(lo), L(hi));
        ck_assert(lr_graph_order_holds());
    }
    ck_assert_int_eq(nreports, 0);
    nested(t1, L(29), L(28));
    nested(t2, L(28), L(29));           /* 28 → 29 may already be an edge: a cycle either way */
    ck_assert_int_ge(nreports, 1);
}
END_TEST

static int captures;

static lr_stack_id counted_site_stack(void)
{
    captures++;
    return unit_site_stack();
}

/* New held sets from the same site: a context each, one unwind. The lock
 * taken from a site is unwound once per (lock, how, call site, lock held
 * last), however many locks are held below. */
START_TEST(a_site_is_unwound_once_for_all_its_held_sets)
{
    lr_stack_capture_override = counted_site_stack;
    lr_thread *t = lr_thread_new_synthetic();
    lr_lock *top = L(40), *inner = L(41);
    for (int i = 0; i < 8; i++)
        L(i);                           /* first seen now, not in the count */
    captures = 0;
    for (int i = 0; i < 8; i++) {       /* eight held sets {i, top}, then inner */
        lock(t, L(i));
        take(t, top, LR_BLOCKING, 0x8000);
        take(t, inner, LR_BLOCKING, 0x8010);
        unlock(t, inner);
        unlock(t, top);
        unlock(t, L(i));
    }
    /* L(i) with nothing held: 8 sites of their own; top under each L(i):
     * 8; inner under top: 1 */
    ck_assert_int_eq(captures, 8 + 8 + 1);
    ck_assert_int_eq(nreports, 0);
    nested(t, inner, L(3));             /* still a cycle: 3 → top → inner → 3 */
    ck_assert_int_eq(nreports, 1);
}
END_TEST

/* What one thread learnt, every thread knows: a second thread meeting the
 * same contexts unwinds nothing, and still finds the cycle it closes. */
START_TEST(a_context_learnt_by_one_thread_is_known_to_all)
{
    lr_stack_capture_override = counted_site_stack;
    lr_thread *t1 = lr_thread_new_synthetic(), *t2 = lr_thread_new_synthetic(),
              *t3 = lr_thread_new_synthetic();
    nested(t1, L(1), L(2));
    nested(t1, L(2), L(3));
    int learnt = captures;              /* four contexts, three locks first seen */
    ck_assert_int_eq(learnt, 7);
    nested(t2, L(1), L(2));
    nested(t2, L(2), L(3));
    ck_assert_int_eq(captures, learnt);
    ck_assert_int_eq(nreports, 0);
    lock(t3, L(2));                     /* known: no unwind */
    lock(t3, L(3));                     /* known too */
    lock(t3, L(1));                     /* new: edges 2 -> 1 and 3 -> 1 close two cycles */
    unlock(t3, L(1));
    unlock(t3, L(3));
    unlock(t3, L(2));
    ck_assert_int_eq(captures, learnt + 1);
    ck_assert_int_eq(nreports, 2);
    ck_assert_uint_eq(reports[0].nlocks, 2);
    ck_assert_uint_eq(reports[1].nlocks, 3);
}
END_TEST

/* The process-wide tables grow in levels: thousands of contexts, far more
 * than the first level holds, are all still known to every thread. */
START_TEST(contexts_past_the_first_level_are_known_to_all)
{
    lr_stack_capture_override = counted_site_stack;
    lr_thread *t1 = lr_thread_new_synthetic(), *t2 = lr_thread_new_synthetic();
    for (int i = 0; i < 100; i++)
        L(i);                           /* first seen now, not in the count */
    captures = 0;
    for (uintptr_t i = 0; i < 5000; i++) {     /* a context and a site each */
        take(t1, L((int)(i % 100)), LR_BLOCKING, 0x200000 + i * 16);
        unlock(t1, L((int)(i % 100)));
    }
    ck_assert_int_eq(captures, 5000);
    for (uintptr_t i = 0; i < 5000; i++) {
        take(t2, L((int)(i % 100)), LR_BLOCKING, 0x200000 + i * 16);
        unlock(t2, L((int)(i % 100)));
    }
    ck_assert_int_eq(captures, 5000);
    ck_assert_int_eq(nreports, 0);
}
END_TEST

/* A program whose held sets never repeat (random subsets of many locks,
 * taken in order) makes a new context at nearly every acquisition: once
 * they crowd the process-wide table, a thread that finds none of them
 * there stops looking at that depth, but for a sample, and keeps looking
 * where it finds what it looks for. Cycles are found all the same. */
START_TEST(contexts_that_never_repeat_stop_being_looked_for)
{
    lr_thread *t1 = lr_thread_new_synthetic(), *t2 = lr_thread_new_synthetic();
    lr_lock *a = L(1), *b = L(2), *c = L(3);
    enum { FLOOD = 40000 };
    uint64_t looks_before_half = 0;
    nested(t2, c, L(4));    /* a lock another thread takes too, and not innermost: shared */
    for (uintptr_t i = 0; i < FLOOD; i++) {    /* {a, b} then c, from a new site each time */
        if (i == FLOOD / 2)
            looks_before_half = lr_order_looks;
        lock(t1, a);
        lock(t1, b);
        take(t1, c, LR_BLOCKING, 0x400000 + i * 16);
        unlock(t1, c);
        unlock(t1, b);
        unlock(t1, a);
    }
    /* the first half crowded the table; the second looked for one in 32 */
    ck_assert_uint_ge(looks_before_half, FLOOD / 4);
    ck_assert_uint_le(lr_order_looks - looks_before_half, FLOOD / 2 / 16);
    ck_assert_int_eq(nreports, 0);

    /* where looks find what they look for, they go on: t3 then t4 learn
     * 200 contexts each (fewer than a verdict needs), t1 finds them all */
    lr_thread *t3 = lr_thread_new_synthetic(), *t4 = lr_thread_new_synthetic();
    for (int i = 0; i < 400; i++) {
        take(i < 200 ? t3 : t4, L(10 + i), LR_BLOCKING, 0x900000 + (uintptr_t)i * 16);
        unlock(i < 200 ? t3 : t4, L(10 + i));
    }
    uint64_t looks = lr_order_looks, found = lr_order_looks_found;
    for (int i = 0; i < 400; i++) {
        take(t1, L(10 + i), LR_BLOCKING, 0x900000 + (uintptr_t)i * 16);
        unlock(t1, L(10 + i));
    }
    ck_assert_uint_eq(lr_order_looks - looks, 400);
    ck_assert_uint_eq(lr_order_looks_found - found, 400);

    /* where t1 no longer looks (two locks held), the cycle it closes is
     * still found; not under a, which would be the cycle's gate */
    lock(t1, L(5));
    lock(t1, c);
    lock(t1, b);            /* c -> b against b -> c */
    unlock(t1, b);
    unlock(t1, c);
    unlock(t1, L(5));
    ck_assert_int_eq(nreports, 1);
    ck_assert_uint_eq(reports[0].nlocks, 2);
}
END_TEST

/* A context whose lock ended is learnt again, by any thread, for the new
 * lock at that address: its edges are the new lock's. */
START_TEST(a_known_context_of_a_lock_that_ended_is_learnt_again)
{
    lr_thread *t1 = lr_thread_new_synthetic(), *t2 = lr_thread_new_synthetic();
    lr_lock *one = L(1), *two = L(2);
    uint64_t old_two = two->id;
    take(t1, one, LR_BLOCKING, 0x100);
    take(t1, two, LR_BLOCKING, 0x200);
    unlock(t1, two);
    unlock(t1, one);
    lr_lock_forget(two->addr);          /* destroyed; a new lock at the same address */
    lr_lock *two_again = L(2);
    ck_assert_uint_ne(two_again->id, old_two);
    take(t2, one, LR_BLOCKING, 0x100);  /* the same context key as t1's */
    take(t2, two_again, LR_BLOCKING, 0x200);
    unlock(t2, two_again);
    unlock(t2, one);
    take(t2, two_again, LR_BLOCKING, 0x300);
    take(t2, one, LR_BLOCKING, 0x400);
    unlock(t2, one);
    unlock(t2, two_again);
    ck_assert_int_eq(nreports, 1);
    ck_assert_uint_eq(reports[0].nlocks, 2);
}
END_TEST

START_TEST(one_acquisition_can_close_several_cycles)
{
    lr_thread *t1 = lr_thread_new_synthetic(), *t2 = lr_thread_new_synthetic();
    for (int i = 1; i <= 12; i++)
        nested(t1, L(0), L(i));     /* 0 -> i */
    for (int i = 1; i <= 12; i++)
        lock(t2, L(i));
    lock(t2, L(0));                 /* i -> 0 for all twelve at once */
    ck_assert_int_eq(nreports, 12);
    for (int i = 0; i < 12; i++)
        ck_assert_uint_eq(reports[i].nlocks, 2);
}
END_TEST

START_TEST(readers_in_both_orders_do_not_deadlock)
{
    lr_thread *t1 = lr_thread_new_synthetic(), *t2 = lr_thread_new_synthetic();
    nested_rw(t1, RW(0), 1, RW(1), 1);
    nested_rw(t2, RW(1), 1, RW(0), 1);
    ck_assert_int_eq(nreports, 0);
    ck_assert_uint_eq(edges_known(), 2);
}
END_TEST

START_TEST(a_cycle_needs_an_exclusive_side_at_every_lock)
{
    lr_thread *t1 = lr_thread_new_synthetic(), *t2 = lr_thread_new_synthetic();
    /* A: taken for reading by t2 while t1 holds it for reading -> no wait */
    nested_rw(t1, RW(0), 1, RW(1), 0);
    nested_rw(t2, RW(1), 1, RW(0), 1);
    ck_assert_int_eq(nreports, 0);
    /* the same shape with A taken for writing: both locks block */
    lr_thread *t3 = lr_thread_new_synthetic();
    nested_rw(t3, RW(1), 1, RW(0), 0);
    ck_assert_int_eq(nreports, 1);
    ck_assert_uint_eq(reports[0].nlocks, 2);
}
END_TEST

START_TEST(an_edge_that_becomes_exclusive_closes_the_cycle)
{
    lr_thread *t1 = lr_thread_new_synthetic(), *t2 = lr_thread_new_synthetic();
    nested_rw(t1, RW(0), 1, RW(1), 1);
    nested_rw(t2, RW(1), 1, RW(0), 1);
    ck_assert_int_eq(nreports, 0);
    nested_rw(t1, RW(0), 0, RW(1), 0);  /* the known edge 0 -> 1, now both for writing */
    ck_assert_int_eq(nreports, 1);
}
END_TEST

START_TEST(a_mutex_and_an_rwlock_read)
{
    lr_thread *t1 = lr_thread_new_synthetic(), *t2 = lr_thread_new_synthetic();
    take(t1, L(0), LR_BLOCKING, 0x100);
    take_rw(t1, RW(1), 1);
    unlock(t1, RW(1));
    unlock(t1, L(0));
    take_rw(t2, RW(1), 1);
    take(t2, L(0), LR_BLOCKING, 0x200);  /* the mutex blocks; the read lock only if
                                         * the other side holds it exclusively */
    ck_assert_int_eq(nreports, 0);
    unlock(t2, L(0));
    unlock(t2, RW(1));
    lr_thread *t3 = lr_thread_new_synthetic();
    take_rw(t3, RW(1), 0);
    take(t3, L(0), LR_BLOCKING, 0x300);
    ck_assert_int_eq(nreports, 1);
}
END_TEST

START_TEST(seen_context_takes_the_fast_path)
{
    lr_thread *t = lr_thread_new_synthetic();
    nested(t, L(0), L(1));
    uint32_t contexts = lr_order_of(t)->ctx_count;
    for (int i = 0; i < 1000; i++)
        nested(t, L(0), L(1));
    ck_assert_uint_eq(lr_order_of(t)->ctx_count, contexts);
    ck_assert_uint_eq(edges_known(), 1);
}
END_TEST

/* The context table is a bounded cache: a thread that meets more contexts
 * than it holds empties it where it is (the smaller tables it grew from
 * unmapped), and a context it forgot is learnt again with nothing new in
 * the graph. */
START_TEST(the_context_table_is_bounded)
{
    lr_thread *t = lr_thread_new_synthetic();
    lock(t, L(0));
    for (uintptr_t i = 0; i < 3 * LR_CTX_MAX; i++) {
        take(t, L(1), LR_BLOCKING, 0x100000 + i * 16);
        unlock(t, L(1));
    }
    ck_assert_uint_eq(lr_order_of(t)->ctx_mask + 1, LR_CTX_MAX);
    ck_assert_uint_lt(lr_order_of(t)->ctx_count, LR_CTX_MAX / 2);
    ck_assert_ptr_null(lr_order_of(t)->ctx_old);
    for (uintptr_t i = 0; i < 100; i++) {
        take(t, L(1), LR_BLOCKING, 0x100000 + i * 16);
        unlock(t, L(1));
    }
    unlock(t, L(0));
    ck_assert_uint_eq(edges_known(), 1);
    ck_assert_int_eq(nreports, 0);
}
END_TEST

/* The mutex's own cache answers for the context it was last taken in by
 * this thread: with the thread's table emptied, the same nesting finds
 * everything in the mutexes and learns nothing. */
START_TEST(a_mutex_remembers_its_last_context)
{
    lr_thread *t = lr_thread_new_synthetic();
    nested(t, L(0), L(1));
    memset(lr_order_of(t)->ctx_used, 0, sizeof lr_order_of(t)->ctx_used);
    lr_order_of(t)->ctx_count = 0;
    for (int i = 0; i < 10; i++)
        nested(t, L(0), L(1));
    ck_assert_uint_eq(lr_order_of(t)->ctx_count, 0);
    ck_assert_uint_eq(edges_known(), 1);
    /* another context of the same mutex (another call site) is learnt */
    take(t, L(1), LR_BLOCKING, 0x7777);
    unlock(t, L(1));
    ck_assert_uint_eq(lr_order_of(t)->ctx_count, 1);
}
END_TEST

/* What one thread cached in a mutex is not another thread's: the second
 * thread learns its contexts itself. */
START_TEST(a_mutex_context_is_the_thread_s_own)
{
    lr_thread *t1 = lr_thread_new_synthetic(), *t2 = lr_thread_new_synthetic();
    nested(t1, L(0), L(1));
    uint32_t before = lr_order_of(t2)->ctx_count;
    nested(t2, L(0), L(1));
    ck_assert_uint_eq(lr_order_of(t2)->ctx_count, before + 2);
}
END_TEST

/* A mutex whose lock was forgotten and made anew at the same address does
 * not answer with the old lock's context. */
START_TEST(a_new_lock_at_the_address_does_not_use_the_old_context)
{
    lr_thread *t = lr_thread_new_synthetic();
    nested(t, L(0), L(1));
    lr_lock_forget(L(1)->addr);
    /* the tag gone (as destroy leaves it), the cached context left in place */
    memset(lr_mutex_tag((uintptr_t)&fake_memory[64]), 0, sizeof(uintptr_t));
    ck_assert_uint_ne(*lr_mutex_context((uintptr_t)&fake_memory[64]), 0);
    uint32_t before = lr_order_of(t)->ctx_count;
    lr_lock *b2 = L(1);
    nested(t, L(0), b2);
    ck_assert_uint_eq(lr_order_of(t)->ctx_count, before + 1);
    ck_assert_uint_eq(edges_known(), 1);
}
END_TEST

/* Gate locks: G taken before both nestings makes the A/B cycle harmless. */
static void gated(lr_thread *t, lr_lock *g, lr_lock *a, lr_lock *b)
{
    lock(t, g);
    nested(t, a, b);
    unlock(t, g);
}

START_TEST(cycle_under_a_gate_lock_is_not_reported)
{
    lr_thread *t1 = lr_thread_new_synthetic(), *t2 = lr_thread_new_synthetic();
    gated(t1, L(9), L(0), L(1));
    gated(t2, L(9), L(1), L(0));
    ck_assert_int_eq(nreports, 0);
    ck_assert_uint_eq(lr_graph_gated_count(), 1);
}
END_TEST

START_TEST(show_gated_reports_it_with_its_gate)
{
    lr_opt.show_gated = 1;
    lr_thread *t1 = lr_thread_new_synthetic(), *t2 = lr_thread_new_synthetic();
    gated(t1, L(9), L(0), L(1));
    gated(t2, L(9), L(1), L(0));
    ck_assert_int_eq(nreports, 1);
    ck_assert_uint_eq(reports[0].gate_id, L(9)->id);
}
END_TEST

START_TEST(an_edge_made_once_without_the_gate_ungates_the_cycle)
{
    lr_thread *t1 = lr_thread_new_synthetic(), *t2 = lr_thread_new_synthetic(),
              *t3 = lr_thread_new_synthetic();
    gated(t1, L(9), L(0), L(1));
    gated(t2, L(9), L(1), L(0));
    ck_assert_int_eq(nreports, 0);
    nested(t3, L(1), L(0));         /* the same order, without G */
    ck_assert_int_eq(nreports, 1);
    ck_assert_uint_eq(reports[0].gate_id, 0);
}
END_TEST

/* A cycle reported is not reported again when an edge of it, first made
 * under an outer lock, is made once without it from another call site
 * (the edge then shows those stacks): the same locks in the same cycle are
 * one report. MariaDB's Aria log made six reports of its one ring of 8
 * buffer mutexes so, one for each edge that lost its gate. */
START_TEST(a_reported_cycle_is_not_reported_again_as_its_edges_lose_their_gates)
{
    lr_thread *t1 = lr_thread_new_synthetic(), *t2 = lr_thread_new_synthetic(),
              *t3 = lr_thread_new_synthetic(), *t4 = lr_thread_new_synthetic();
    gated(t1, L(9), L(0), L(1));        /* 0 -> 1 under 9 */
    gated(t2, L(8), L(1), L(2));        /* 1 -> 2 under 8 */
    nested(t3, L(2), L(0));             /* 2 -> 0: no gate common to all three */
    ck_assert_int_eq(nreports, 1);
    for (int i = 0; i < 2; i++) {       /* 0 -> 1, then 1 -> 2, without their gates */
        take(t4, L(i), LR_BLOCKING, 0x7700 + (uintptr_t)i * 32);
        take(t4, L(i + 1), LR_BLOCKING, 0x7710 + (uintptr_t)i * 32);
        unlock(t4, L(i + 1));
        unlock(t4, L(i));
    }
    ck_assert_int_eq(nreports, 1);
    nested(t4, L(3), L(4));             /* another cycle still is one */
    nested(t3, L(4), L(3));
    ck_assert_int_eq(nreports, 2);
}
END_TEST

/* Shown with its gate (show_gated=1), then made without it: the cycle can
 * deadlock now, which is news about the same locks. */
START_TEST(a_shown_gated_cycle_that_loses_its_gate_is_reported_again)
{
    lr_opt.show_gated = 1;
    lr_thread *t1 = lr_thread_new_synthetic(), *t2 = lr_thread_new_synthetic(),
              *t3 = lr_thread_new_synthetic();
    gated(t1, L(9), L(0), L(1));
    gated(t2, L(9), L(1), L(0));
    ck_assert_int_eq(nreports, 1);
    ck_assert_uint_eq(reports[0].gate_id, L(9)->id);
    take(t3, L(1), LR_BLOCKING, 0x7800);       /* the same order, without the gate */
    take(t3, L(0), LR_BLOCKING, 0x7810);
    unlock(t3, L(0));
    unlock(t3, L(1));
    ck_assert_int_eq(nreports, 2);
    ck_assert_uint_eq(reports[1].gate_id, 0);
}
END_TEST

START_TEST(a_lock_taken_after_the_first_is_no_gate)
{
    lr_thread *t1 = lr_thread_new_synthetic(), *t2 = lr_thread_new_synthetic();
    lock(t1, L(0));
    lock(t1, L(9));
    lock(t1, L(1));
    unlock(t1, L(1));
    unlock(t1, L(9));
    unlock(t1, L(0));
    lock(t2, L(9));
    nested(t2, L(1), L(0));
    unlock(t2, L(9));
    ck_assert_int_ge(nreports, 1);
}
END_TEST

/* A signal handler that locks and unlocks while the thread is in the middle
 * of pushing a lock must leave the held stack as the thread will have it:
 * the push's slot is reserved before it is filled. Simulated by running
 * the handler's push and pop between the reservation and the fill. */
static lr_thread *interrupted;
static lr_lock *handler_lock_obj;

static void handler_now(void)
{
    take(interrupted, handler_lock_obj, LR_BLOCKING, 0x8800);
    unlock(interrupted, handler_lock_obj);
}

START_TEST(a_handler_between_reserve_and_fill_leaves_no_trace)
{
    lr_thread *t = lr_thread_new_synthetic();
    interrupted = t;
    handler_lock_obj = L(7);
    lock(t, L(0));
    lr_held_push_hook = handler_now;      /* runs inside the next push */
    lock(t, L(1));
    lr_held_push_hook = NULL;
    ck_assert_uint_eq(t->nheld, 2);
    ck_assert_ptr_eq(t->held[0].lock, L(0));
    ck_assert_ptr_eq(t->held[1].lock, L(1));
    ck_assert_uint_eq(t->chain, lr_mix(lr_mix(LR_CHAIN_SEED, L(0)->id), L(1)->id));
    unlock(t, L(1));
    ck_assert_uint_eq(t->chain, lr_mix(LR_CHAIN_SEED, L(0)->id));
    unlock(t, L(0));
    ck_assert_uint_eq(t->nheld, 0);
    ck_assert_uint_eq(t->chain, LR_CHAIN_SEED);
    lock(t, L(0));                          /* no edge from the handler's lock */
    unlock(t, L(0));
    ck_assert_int_eq(nreports, 0);
}
END_TEST

/* A lock released out of order: the chain keys of the entries above it
 * are those of the held set without it, as if it had never been taken. */
START_TEST(a_release_below_the_top_rehashes_the_chain)
{
    lr_thread *t = lr_thread_new_synthetic();
    lock(t, L(0));
    lock(t, L(1));
    lock(t, L(2));
    unlock(t, L(0));
    ck_assert_uint_eq(t->nheld, 2);
    ck_assert_uint_eq(t->held[0].below, LR_CHAIN_SEED);
    ck_assert_uint_eq(t->held[1].below, lr_mix(LR_CHAIN_SEED, L(1)->id));
    ck_assert_uint_eq(t->chain, lr_mix(lr_mix(LR_CHAIN_SEED, L(1)->id), L(2)->id));
    unlock(t, L(2));
    ck_assert_uint_eq(t->chain, lr_mix(LR_CHAIN_SEED, L(1)->id));
    unlock(t, L(1));
    ck_assert_uint_eq(t->chain, LR_CHAIN_SEED);
}
END_TEST

/* The chain key of a held sequence, as a thread that took just these
 * locks in this order has it. */
static uint64_t chain_of(const int *ids, int n)
{
    uint64_t c = LR_CHAIN_SEED;
    for (int i = 0; i < n; i++)
        c = lr_mix(c, L(ids[i])->id);
    return c;
}

/* A lock let go deep in a long held stack: the next acquisition sees the
 * held set without it, in order, as a thread that never took it would. */
START_TEST(a_release_deep_in_a_long_stack_leaves_the_set_without_it)
{
    lr_thread *t1 = lr_thread_new_synthetic(), *t2 = lr_thread_new_synthetic();
    int ids[101], n = 0;
    for (int i = 0; i < 100; i++)
        lock(t1, L(i));
    unlock(t1, L(3));
    unlock(t1, L(40));
    ck_assert_uint_eq(lr_held_depth(t1, L(3)->addr), 0);
    ck_assert_uint_eq(lr_held_depth(t1, L(41)->addr), 1);
    for (int i = 0; i < 100; i++)
        if (i != 3 && i != 40)
            ids[n++] = i;
    ids[n++] = 200;
    lock(t1, L(200));
    ck_assert_uint_eq(t1->nheld, 99);
    ck_assert_uint_eq(t1->chain, chain_of(ids, n));
    for (int i = 0; i < n; i++) {
        ck_assert_uint_eq(t1->held[i].id, L(ids[i])->id);
        ck_assert_uint_eq(t1->held[i].below, chain_of(ids, i));
    }
    unlock(t1, L(200));
    unlock(t1, L(99));
    ck_assert_uint_eq(t1->chain, chain_of(ids, n - 2));
    for (int i = 98; i >= 0; i--)
        unlock(t1, L(i));
    ck_assert_uint_eq(t1->nheld, 0);
    ck_assert_uint_eq(t1->chain, LR_CHAIN_SEED);
    ck_assert_int_eq(nreports, 0);
    nested(t2, L(200), L(41));          /* 41 -> ... -> 200 was made */
    ck_assert_int_eq(nreports, 1);
}
END_TEST

/* Letting go of n held locks in any order costs O(n), not O(n^2): each
 * release finds its entry without a scan and moves nothing above it. */
START_TEST(releases_from_the_bottom_of_a_long_stack_cost_linear_work)
{
    lr_thread *t1 = lr_thread_new_synthetic();
    enum { N = 3000 };
    for (int order = 0; order < 3; order++) {
        for (int i = 0; i < N; i++)
            lock(t1, L(i));
        lr_held_steps = 0;
        if (order == 0) {
            for (int i = 0; i < N; i++)
                unlock(t1, L(i));
        } else if (order == 1) {
            for (int i = 1; i < N; i += 2)
                unlock(t1, L(i));
            for (int i = 0; i < N; i += 2)
                unlock(t1, L(i));
        } else {
            for (int i = 0; i < N / 2; i++) {     /* a lock taken after each release */
                unlock(t1, L(i));
                if (i % 100 == 0) {
                    lock(t1, L(N + i));
                    unlock(t1, L(N + i));
                }
            }
            for (int i = N - 1; i >= N / 2; i--)
                unlock(t1, L(i));
        }
        ck_assert_uint_eq(t1->nheld, 0);
        ck_assert_uint_le(lr_held_steps, (order == 2 ? 40 : 8) * N);
    }
    ck_assert_int_eq(nreports, 0);
}
END_TEST

/* Deep slots are found through an index: a slot a lock left and another
 * lock took does not say the first is still held. */
START_TEST(a_deep_slot_taken_by_another_lock_is_not_the_first)
{
    lr_thread *t1 = lr_thread_new_synthetic();
    for (int i = 0; i < 40; i++)
        lock(t1, L(i));
    for (int i = 39; i >= 20; i--)
        unlock(t1, L(i));
    for (int i = 50; i < 70; i++)
        lock(t1, L(i));
    for (int i = 20; i < 40; i++) {
        ck_assert_uint_eq(lr_held_depth(t1, L(i)->addr), 0);
        ck_assert_int_eq(lr_held_released_at(t1, L(i)->addr), 0);
    }
    for (int i = 50; i < 70; i++)
        ck_assert_uint_eq(lr_held_depth(t1, L(i)->addr), 1);
    ck_assert_int_eq(lr_held_released_at(t1, L(55)->addr), 1);
    ck_assert_int_eq(lr_held_released_at(t1, L(5)->addr), 1);
    lock(t1, L(55));
    ck_assert_uint_eq(t1->nheld, 39);
    ck_assert_ptr_eq(t1->held[38].lock, L(55));
    for (int i = 69; i >= 50; i--)
        unlock(t1, L(i));
    for (int i = 19; i >= 0; i--)
        unlock(t1, L(i));
    ck_assert_uint_eq(t1->nheld, 0);
    ck_assert_uint_eq(t1->chain, LR_CHAIN_SEED);
    ck_assert_int_eq(nreports, 0);
}
END_TEST

/* A stack one thread unwound is another thread's "shared from" it, and
 * the first thread's own again when it meets it in the process-wide
 * tables: threads made before or after it was unwound alike. The site is
 * met in a new context each time (B held, then Z and B), so it is found
 * in the table of acquisition sites, not in the thread's own table. */
static lr_stack_id stack_taken(lr_thread *t, lr_lock *l, uintptr_t site)
{
    take(t, l, LR_BLOCKING, site);
    return t->held[t->nheld - 1].stack;
}

START_TEST(a_thread_gets_back_the_stacks_it_shared)
{
    lr_thread *t1 = lr_thread_new_synthetic(), *t2 = lr_thread_new_synthetic();
    lr_lock *a = L(0), *b = L(1), *z = L(2);
    lock(t1, b);
    lr_stack_id mine = stack_taken(t1, a, 0x700);
    unlock(t1, a);
    unlock(t1, b);
    uint32_t thread;
    lr_stack_id plain;
    ck_assert(!lr_stack_origin(mine, &thread, &plain));
    lr_thread *t3 = lr_thread_new_synthetic();     /* begins after the stack was stored */
    lr_thread *in_order[] = { t1, t2, t3 };
    for (int i = 0; i < 3; i++) {
        lr_thread *t = in_order[i];
        lock(t, z);
        lock(t, b);
        lr_stack_id seen = stack_taken(t, a, 0x700);
        unlock(t, a);
        unlock(t, b);
        unlock(t, z);
        if (t == t1) {
            ck_assert_uint_eq(seen, mine);
        } else {
            ck_assert(lr_stack_origin(seen, &thread, &plain));
            ck_assert_uint_eq(thread, t1->info->id);
            ck_assert_uint_eq(plain, mine);
        }
    }
    ck_assert_int_eq(nreports, 0);
}
END_TEST

/* A thread state handed to a new thread does not hand it the stacks the
 * last thread found for itself (each thread remembers the last sites it
 * met): the new one gets what it would without that, the stack as
 * shared from the thread that unwound it. */
START_TEST(a_reused_state_keeps_no_stack_of_its_last_thread)
{
    lr_thread *t1 = lr_thread_new_synthetic();
    lr_lock *a = L(0), *b = L(1), *z = L(2);
    uint32_t first = t1->info->id;
    lock(t1, b);
    lr_stack_id mine = stack_taken(t1, a, 0x700);
    unlock(t1, a);
    unlock(t1, b);
    t1->exit_rounds = PTHREAD_DESTRUCTOR_ITERATIONS - 1;
    lr_thread_exit(t1);
    lr_thread *t2 = lr_thread_new_synthetic();
    ck_assert_ptr_eq(t2, t1);                   /* the same state */
    lock(t2, z);
    lock(t2, b);
    lr_stack_id seen = stack_taken(t2, a, 0x700);
    uint32_t thread;
    lr_stack_id plain;
    ck_assert(lr_stack_origin(seen, &thread, &plain));
    ck_assert_uint_eq(thread, first);
    ck_assert_uint_eq(plain, mine);
}
END_TEST

/* The index of the deep slots is emptied and filled again as new locks
 * fill it, at any push, also while holes are closed: a lock moved down
 * stays found. Each round lets go of the lock at slot 20 (a hole) and
 * takes a new one, 1,000 new locks in all. */
START_TEST(held_locks_stay_found_when_the_index_is_rebuilt)
{
    lr_thread *t1 = lr_thread_new_synthetic();
    enum { HELD = 60, ROUNDS = 1000 };
    int held[HELD];
    for (int i = 0; i < HELD; i++) {
        held[i] = i;
        lock(t1, L(i));
    }
    for (int r = 0; r < ROUNDS; r++) {
        unlock(t1, L(held[20]));
        memmove(&held[20], &held[21], (HELD - 21) * sizeof held[0]);
        held[HELD - 1] = 100 + r;
        lock(t1, L(held[HELD - 1]));
        ck_assert_uint_eq(t1->nheld, HELD);
        for (int i = 0; i < HELD; i++)
            ck_assert_msg(lr_held_depth(t1, L(held[i])->addr) == 1, "round %d: lock %d held at %d not found",
                          r, held[i], i);
    }
    for (int i = HELD - 1; i >= 0; i--)
        unlock(t1, L(held[i]));
    ck_assert_uint_eq(t1->nheld, 0);
    ck_assert_int_eq(nreports, 0);
}
END_TEST

/* Edges into a lock no edge leaves stay out of the graph: a thread's own
 * innermost lock, made and ended by each of many threads, costs the graph
 * nothing. */
START_TEST(edges_into_an_innermost_lock_are_held_back)
{
    lr_thread *t[8];
    for (int i = 0; i < 8; i++)
        t[i] = lr_thread_new_synthetic();
    lr_lock *shared = L(0);
    for (int round = 0; round < 2000; round++) {
        lr_thread *me = t[round % 8];
        lr_lock *own = L(1 + round % 8);
        nested(me, shared, own);
        if (round < 2000 - 8)
            lr_lock_forget(own->addr);  /* the last eight live on */
    }
    ck_assert_uint_eq(lr_graph_edge_count(), 0);
    ck_assert_uint_eq(edges_known(), 8);
    ck_assert_int_eq(nreports, 0);
}
END_TEST

/* T1 takes A then B: held back (nothing leaves B). T2 takes B then A: the
 * edge B → A opens B, and the cycle is found when it closes, with T1's
 * edge as T1 made it. */
START_TEST(the_first_edge_out_opens_the_lock)
{
    lr_thread *t1 = lr_thread_new_synthetic(), *t2 = lr_thread_new_synthetic();
    lr_lock *a = L(0), *b = L(1);
    nested(t1, a, b);
    ck_assert_uint_eq(lr_graph_edge_count(), 0);
    nested(t2, b, a);
    ck_assert_uint_eq(lr_graph_edge_count(), 2);
    ck_assert_int_eq(nreports, 1);
    ck_assert_uint_eq(reports[0].nlocks, 2);
    ck_assert_uint_eq(reports[0].threads[0] + reports[0].threads[1],
                      t1->info->id + t2->info->id);
}
END_TEST

/* The edges held back in a thread's log, with its log rewritten many
 * times over (locks ended, locks opened), are all there when their lock
 * opens: a cycle through the 500th of 600 innermost locks is found. */
START_TEST(a_log_rewritten_keeps_what_it_holds_back)
{
    lr_thread *t1 = lr_thread_new_synthetic(), *t2 = lr_thread_new_synthetic();
    lr_lock *outer = L(0);
    for (int round = 0; round < 600; round++) {
        lr_lock *inner = L(1 + round % 900);
        lock(t1, outer);
        for (int k = 0; k < 4; k++) {   /* several contexts per lock */
            take(t1, inner, LR_BLOCKING, 0x20000 + (uintptr_t)k * 16);
            unlock(t1, inner);
        }
        unlock(t1, outer);
        if (round % 3 == 0)
            lr_lock_forget(inner->addr);
    }
    ck_assert_int_eq(nreports, 0);
    nested(t2, L(1 + 500), outer);      /* 500 % 3 != 0: alive, held back */
    ck_assert_int_eq(nreports, 1);
}
END_TEST

/* A log whose locks have all ended starts again when a new lock is held
 * back, and a log never drops the entries of a live lock: not those made
 * after a rewrite put the lock's earlier ones into the graph (the lock is
 * still held back then). */
START_TEST(a_log_starts_again_only_when_its_locks_ended)
{
    lr_thread *t1 = lr_thread_new_synthetic(), *t2 = lr_thread_new_synthetic();
    lr_lock *outer = L(0), *late = L(1), *x = L(2);
    lock(t1, outer);
    for (uintptr_t k = 0; k < 1000; k++) {  /* more than the log holds: into the graph */
        take(t1, x, LR_BLOCKING, 0x40000 + k * 16);
        unlock(t1, x);
    }
    unlock(t1, outer);
    nested(t1, late, x);                    /* held back again */
    for (int round = 0; round < 50; round++) {
        lr_lock *own = L(3 + round % 2);    /* short threads' own locks */
        nested(t1, outer, own);
        if (round < 49)
            lr_lock_forget(own->addr);
    }
    ck_assert_int_eq(nreports, 0);
    nested(t2, x, late);                    /* opens x: late -> x is found */
    ck_assert_int_eq(nreports, 1);
    nested(t2, L(3 + 49 % 2), outer);       /* the last own lock's edge is there too */
    ck_assert_int_eq(nreports, 2);
}
END_TEST

/* A full log is rewritten, its entries moved down over what it drops; one
 * moved by less than its own size (two held locks, 128 bytes, over an
 * 80-byte entry dropped) is still known for what it was. Its lock was
 * recorded from the moved-over bytes once: the log took its lock for one
 * that ended, dropped its edge, and the cycle through it was never found
 * (and from a signal handler's entry, with a hole in its held locks, the
 * record's lock was NULL: tests/integration/programs/signal_lock.c
 * crashed 1 run in 60). */
START_TEST(an_entry_moved_over_itself_is_kept_for_its_lock)
{
    lr_thread *t1 = lr_thread_new_synthetic(), *t2 = lr_thread_new_synthetic();
    lr_lock *outer = L(0), *mid = L(1), *inner = L(2);
    lock(t1, outer);
    lock(t1, mid);              /* outer -> mid: 80 bytes at the log's start */
    lock(t1, inner);            /* opens mid; outer, mid -> inner: 128 bytes */
    unlock(t1, inner);
    unlock(t1, mid);
    unlock(t1, outer);
    for (int round = 0; round < 2000; round++) {    /* fills the log: rewritten */
        lr_lock *own = L(3 + round % 2);
        nested(t1, outer, own);
        lr_lock_forget(own->addr);
    }
    ck_assert_int_eq(nreports, 0);
    nested(t2, inner, outer);   /* opens inner: outer -> inner is found */
    ck_assert_int_eq(nreports, 1);
}
END_TEST

/* A cycle through a semaphore taken for a lock waits until the semaphore
 * proves a lock (its holder posts it): then it is reported; one whose
 * semaphore leaves the graph first (a start token) never is. */
START_TEST(a_cycle_through_an_unproven_semaphore_waits)
{
    lr_thread *t1 = lr_thread_new_synthetic(), *t2 = lr_thread_new_synthetic();
    lr_lock *sem = lock_at(0, LR_SEMAPHORE), *m = L(1);
    nested(t1, sem, m);
    nested(t2, m, sem);
    ck_assert_int_eq(nreports, 0);
    lr_graph_proven(sem);
    ck_assert_int_eq(nreports, 1);
    ck_assert_uint_eq(reports[0].nlocks, 2);
    lr_graph_proven(sem);               /* once */
    ck_assert_int_eq(nreports, 1);

    lr_lock *token = lock_at(2, LR_SEMAPHORE), *m2 = L(3);
    nested(t1, token, m2);
    nested(t2, m2, token);
    lr_lock_forget(token->addr);        /* not a lock after all */
    lr_lock *again = lock_at(2, LR_SEMAPHORE);
    lr_graph_proven(again);
    ck_assert_int_eq(nreports, 1);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("lockgraph");
    TCase *tc = tcase_create("core");
    tcase_add_checked_fixture(tc, setup, NULL);
    tcase_set_timeout(tc, 60);
    tcase_add_loop_test(tc, cycle_of_length_n, 2, 9);
    tcase_add_test(tc, long_chain_without_cycle);
    tcase_add_test(tc, contexts_that_never_repeat_stop_being_looked_for);
    tcase_add_test(tc, a_release_deep_in_a_long_stack_leaves_the_set_without_it);
    tcase_add_test(tc, releases_from_the_bottom_of_a_long_stack_cost_linear_work);
    tcase_add_test(tc, a_deep_slot_taken_by_another_lock_is_not_the_first);
    tcase_add_test(tc, held_locks_stay_found_when_the_index_is_rebuilt);
    tcase_add_test(tc, trylock_makes_no_edge_into_the_trylocked_lock);
    tcase_add_test(tc, edges_out_of_a_trylocked_lock_are_real);
    tcase_add_test(tc, recursive_reacquisition_adds_nothing);
    tcase_add_test(tc, destroyed_lock_starts_clean_at_the_same_address);
    tcase_add_test(tc, destroy_removes_edges_from_other_locks_too);
    tcase_add_test(tc, many_threads_consistent_order);
    tcase_add_test(tc, out_of_order_release_drops_the_lock_from_the_chain);
    tcase_add_test(tc, releases_in_any_order_keep_what_is_held);
    tcase_add_test(tc, a_lock_released_from_the_middle_makes_no_edge);
    tcase_add_test(tc, hand_over_hand_keeps_the_held_stack_small);
    tcase_add_test(tc, same_bug_on_other_locks_is_reported_once);
    tcase_add_test(tc, single_thread_cycle_is_reported_and_said);
    tcase_add_test(tc, a_mutex_remembers_its_last_context);
    tcase_add_test(tc, a_mutex_context_is_the_thread_s_own);
    tcase_add_test(tc, a_new_lock_at_the_address_does_not_use_the_old_context);
    tcase_add_test(tc, single_thread_cycle_can_be_turned_off);
    tcase_add_test(tc, cycle_of_three_from_two_threads_says_they_fall_short);
    tcase_add_test(tc, cycles_with_a_thread_per_edge_do_not_fall_short);
    tcase_add_test(tc, timed_acquisitions_make_bounded_edges);
    tcase_add_test(tc, a_thousand_held_locks);
    tcase_add_test(tc, a_lock_made_under_the_held_locks);
    tcase_add_test(tc, a_site_is_unwound_once_for_all_its_held_sets);
    tcase_add_test(tc, a_context_learnt_by_one_thread_is_known_to_all);
    tcase_add_test(tc, contexts_past_the_first_level_are_known_to_all);
    tcase_add_test(tc, a_known_context_of_a_lock_that_ended_is_learnt_again);
    tcase_add_test(tc, a_chain_built_backwards_is_clean_then_closed);
    tcase_add_test(tc, reordering_keeps_the_locks_between_in_order);
    tcase_add_test(tc, random_consistent_edges_in_any_order_are_clean);
    tcase_add_test(tc, held_locks_within_the_window_make_two_lock_cycles);
    tcase_add_test(tc, the_window_reaches_past_locks_that_are_no_bridge);
    tcase_add_test(tc, one_acquisition_can_close_several_cycles);
    tcase_add_test(tc, readers_in_both_orders_do_not_deadlock);
    tcase_add_test(tc, a_cycle_needs_an_exclusive_side_at_every_lock);
    tcase_add_test(tc, an_edge_that_becomes_exclusive_closes_the_cycle);
    tcase_add_test(tc, a_mutex_and_an_rwlock_read);
    tcase_add_test(tc, seen_context_takes_the_fast_path);
    tcase_add_test(tc, the_context_table_is_bounded);
    tcase_add_test(tc, cycle_under_a_gate_lock_is_not_reported);
    tcase_add_test(tc, show_gated_reports_it_with_its_gate);
    tcase_add_test(tc, a_reported_cycle_is_not_reported_again_as_its_edges_lose_their_gates);
    tcase_add_test(tc, a_shown_gated_cycle_that_loses_its_gate_is_reported_again);
    tcase_add_test(tc, an_edge_made_once_without_the_gate_ungates_the_cycle);
    tcase_add_test(tc, a_lock_taken_after_the_first_is_no_gate);
    tcase_add_test(tc, a_handler_between_reserve_and_fill_leaves_no_trace);
    tcase_add_test(tc, a_release_below_the_top_rehashes_the_chain);
    tcase_add_test(tc, the_graph_counts_contexts_and_marks_the_reported_cycle);
    tcase_add_test(tc, a_thread_gets_back_the_stacks_it_shared);
    tcase_add_test(tc, a_reused_state_keeps_no_stack_of_its_last_thread);
    tcase_add_test(tc, edges_into_an_innermost_lock_are_held_back);
    tcase_add_test(tc, the_first_edge_out_opens_the_lock);
    tcase_add_test(tc, a_log_rewritten_keeps_what_it_holds_back);
    tcase_add_test(tc, a_log_starts_again_only_when_its_locks_ended);
    tcase_add_test(tc, an_entry_moved_over_itself_is_kept_for_its_lock);
    tcase_add_test(tc, a_cycle_through_an_unproven_semaphore_waits);
    tcase_add_test(tc, locks_made_and_ended_by_the_thousand_reuse_their_records);
    tcase_add_test(tc, no_edge_leaves_a_lock_forgotten_while_held);
    suite_add_tcase(s, tc);
    return s;
}

LR_UNIT_MAIN(suite)
