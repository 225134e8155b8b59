/* The race engine driven by synthetic event streams: several synthetic
 * threads in one real thread, variables in a static array, call sites made
 * up. Each test runs in its own process (Check's fork mode), so the engine
 * starts empty every time. */
#include "model/held.h"
#include "support/options.h"
#include "detect/race.h"
#include "report/report.h"
#include "detect/vclock.h"

#include "unit.h"

#include <check.h>
#include <stdlib.h>
#include <string.h>

#define MAX_REPORTS 64

typedef struct seen_report {
    int kind;
    int observed;
    uint64_t lost;
    size_t naccesses;
    lr_report_access a[4];
    uint64_t held_ids[4][4];    /* lock ids held by each access */
    int retaken[4][4];          /* ... and whether it was let go since the thread's read */
    int common_lock;
    int order[4];
    const char *var_name;
} seen_report;

static seen_report reports[MAX_REPORTS];
static int nreports;
static long mem[64];            /* tracked variables */
static char fake_locks[1 << 12];

static void sink(const lr_report *r)
{
    ck_assert_int_lt(nreports, MAX_REPORTS);
    seen_report *s = &reports[nreports++];
    s->kind = r->kind;
    s->observed = r->observed;
    s->lost = r->lost;
    s->naccesses = r->naccesses;
    s->common_lock = r->common_lock;
    s->var_name = r->var.name;
    memcpy(s->a, r->accesses, sizeof s->a);
    memcpy(s->order, r->order, sizeof s->order);
    for (size_t i = 0; i < r->naccesses; i++)
        for (size_t k = 0; k < r->accesses[i].nholds && k < 4; k++)
        {
            s->held_ids[i][k] = r->locks[r->holds[r->accesses[i].hold_first + k].lock].id;
            s->retaken[i][k] = r->holds[r->accesses[i].hold_first + k].retaken;
        }
}

static void setup(void)
{
    lr_race_init();
    lr_options_defaults(&lr_opt);
    lr_report_sink = sink;
    lr_stack_capture_override = unit_site_stack;
    nreports = 0;
}

/* An access at pc (the runtime gives the engine the caller's stack). */
static void race_access(lr_thread *t, uintptr_t addr, size_t size, int flags, uint64_t *value,
                        uintptr_t pc)
{
    lr_race_access_at(t, addr, size, flags, value, t && size ? lr_stack_intern(&pc, 1) : 0);
}

/* accesses from distinct call sites: reads at 0x100 + i, writes at 0x200 + i */
static void rd(lr_thread *t, int i)
{
    current_site = 0x100 + (uintptr_t)i * 16;
    race_access(t, (uintptr_t)&mem[i], sizeof mem[i], 0, NULL, current_site);
}

static void wr(lr_thread *t, int i)
{
    current_site = 0x200 + (uintptr_t)i * 16;
    race_access(t, (uintptr_t)&mem[i], sizeof mem[i], LR_ACC_WRITE, NULL, current_site);
}

static long load(lr_thread *t, int i)
{
    uint64_t v = 0;
    current_site = 0x300;
    race_access(t, (uintptr_t)&mem[i], sizeof mem[i], LR_ACC_EXACT, &v, current_site);
    return (long)v;
}

static void store(lr_thread *t, int i, long value)
{
    uint64_t v = (uint64_t)value;
    current_site = 0x400;
    race_access(t, (uintptr_t)&mem[i], sizeof mem[i], LR_ACC_EXACT | LR_ACC_WRITE, &v,
                   current_site);
}

static int count(int kind)
{
    int n = 0;
    for (int i = 0; i < nreports; i++)
        n += reports[i].kind == kind;
    return n;
}

/* ---- vector clocks ---- */

START_TEST(vector_clock_join_copy_covers)
{
    lr_vc a = { 0 }, b = { 0 };
    ck_assert_uint_eq(lr_vc_get(&a, 5), 0);
    lr_vc_set(&a, 0, 3);
    lr_vc_set(&b, 1, 7);
    lr_vc_set(&b, 40, 2);       /* grows past the first allocation */
    ck_assert(!lr_vc_covers(&a, 1, 7));
    lr_vc_join(&a, &b);
    ck_assert_uint_eq(lr_vc_get(&a, 0), 3);
    ck_assert_uint_eq(lr_vc_get(&a, 1), 7);
    ck_assert_uint_eq(lr_vc_get(&a, 40), 2);
    ck_assert(lr_vc_covers(&a, 1, 7));
    ck_assert(!lr_vc_covers(&a, 1, 8));
    lr_vc c = { 0 };
    lr_vc_set(&c, 100, 9);
    lr_vc_copy(&c, &b);         /* a copy forgets what the destination had */
    ck_assert_uint_eq(lr_vc_get(&c, 100), 0);
    ck_assert_uint_eq(lr_vc_get(&c, 1), 7);
}
END_TEST

/* ---- data races ---- */

START_TEST(unordered_writes_race)
{
    lr_thread *a = lr_thread_new_synthetic(), *b = lr_thread_new_synthetic();
    wr(a, 0);
    wr(b, 0);
    ck_assert_int_eq(count(LR_REPORT_DATA_RACE), 1);
    ck_assert_uint_eq(reports[0].a[0].thread, a->info->id);
    ck_assert_uint_eq(reports[0].a[1].thread, b->info->id);
    ck_assert(reports[0].a[0].write && reports[0].a[1].write);
    ck_assert(!reports[0].common_lock);
}
END_TEST

START_TEST(write_then_read_races_once_the_read_is_settled)
{
    lr_thread *a = lr_thread_new_synthetic(), *b = lr_thread_new_synthetic();
    wr(a, 0);
    rd(b, 0);
    /* held back: b's next access to mem[0] could make it a read-modify-write */
    rd(b, 1);
    lr_race_thread_finished(b);
    ck_assert_int_eq(count(LR_REPORT_DATA_RACE), 1);
    ck_assert(reports[0].a[0].write && !reports[0].a[1].write);
    ck_assert_uint_eq(reports[0].a[1].thread, b->info->id);
}
END_TEST

START_TEST(read_then_write_races)
{
    lr_thread *a = lr_thread_new_synthetic(), *b = lr_thread_new_synthetic();
    rd(a, 0);
    wr(b, 0);
    ck_assert_int_eq(count(LR_REPORT_DATA_RACE), 1);
    ck_assert(!reports[0].a[0].write && reports[0].a[1].write);
}
END_TEST

START_TEST(reads_never_race)
{
    lr_thread *a = lr_thread_new_synthetic(), *b = lr_thread_new_synthetic();
    rd(a, 0);
    rd(b, 0);
    rd(a, 0);
    lr_race_thread_finished(a);
    lr_race_thread_finished(b);
    ck_assert_int_eq(nreports, 0);
}
END_TEST

START_TEST(different_variables_do_not_race)
{
    lr_thread *a = lr_thread_new_synthetic(), *b = lr_thread_new_synthetic();
    wr(a, 0);
    wr(b, 1);
    ck_assert_int_eq(nreports, 0);
}
END_TEST

START_TEST(same_sites_are_reported_once)
{
    lr_thread *a = lr_thread_new_synthetic(), *b = lr_thread_new_synthetic();
    for (int i = 0; i < 10; i++) {
        wr(a, 0);
        wr(b, 0);
    }
    ck_assert_int_eq(count(LR_REPORT_DATA_RACE), 1);
}
END_TEST

/* Each happens-before source is, at the engine, a release then an acquire
 * of one object (mutex, rwlock, spinlock, condition, semaphore, barrier,
 * annotation), or thread create / join. */
START_TEST(release_then_acquire_orders)
{
    int obj = _i;               /* 0: the same object, 1: another one */
    lr_thread *a = lr_thread_new_synthetic(), *b = lr_thread_new_synthetic();
    wr(a, 0);
    lr_race_release(a, (uintptr_t)&fake_locks[0]);
    lr_race_acquire(b, (uintptr_t)&fake_locks[obj * 64]);
    wr(b, 0);
    ck_assert_int_eq(count(LR_REPORT_DATA_RACE), obj ? 1 : 0);
}
END_TEST

START_TEST(acquire_before_release_does_not_order)
{
    lr_thread *a = lr_thread_new_synthetic(), *b = lr_thread_new_synthetic();
    lr_race_acquire(b, (uintptr_t)&fake_locks[0]);
    wr(a, 0);
    lr_race_release(a, (uintptr_t)&fake_locks[0]);
    wr(b, 0);
    ck_assert_int_eq(count(LR_REPORT_DATA_RACE), 1);
}
END_TEST

START_TEST(accesses_after_the_release_are_not_covered)
{
    lr_thread *a = lr_thread_new_synthetic(), *b = lr_thread_new_synthetic();
    lr_race_release(a, (uintptr_t)&fake_locks[0]);
    wr(a, 0);                   /* after the release: not handed over */
    lr_race_acquire(b, (uintptr_t)&fake_locks[0]);
    wr(b, 0);
    ck_assert_int_eq(count(LR_REPORT_DATA_RACE), 1);
}
END_TEST

START_TEST(order_is_transitive)
{
    lr_thread *a = lr_thread_new_synthetic(), *b = lr_thread_new_synthetic(),
              *c = lr_thread_new_synthetic();
    wr(a, 0);
    lr_race_release(a, (uintptr_t)&fake_locks[0]);
    lr_race_acquire(b, (uintptr_t)&fake_locks[0]);
    lr_race_release(b, (uintptr_t)&fake_locks[64]);
    lr_race_acquire(c, (uintptr_t)&fake_locks[64]);
    wr(c, 0);
    ck_assert_int_eq(nreports, 0);
}
END_TEST

START_TEST(create_and_join_order)
{
    lr_race_activate();
    lr_thread *parent = lr_thread_new_synthetic(), *child = lr_thread_new_synthetic();
    wr(parent, 0);
    lr_race_thread_create(parent, child->info);
    wr(child, 0);               /* after its creation: ordered */
    wr(child, 1);
    lr_race_thread_joined(parent, child->info);
    wr(parent, 1);              /* after the join: ordered */
    ck_assert_int_eq(nreports, 0);
}
END_TEST

START_TEST(creator_after_create_races_with_child)
{
    lr_race_activate();
    lr_thread *parent = lr_thread_new_synthetic(), *child = lr_thread_new_synthetic();
    lr_race_thread_create(parent, child->info);
    wr(parent, 0);              /* after create, before any join */
    wr(child, 0);
    ck_assert_int_eq(count(LR_REPORT_DATA_RACE), 1);
}
END_TEST

START_TEST(atomics_do_not_race_each_other_but_race_plain_accesses)
{
    lr_thread *a = lr_thread_new_synthetic(), *b = lr_thread_new_synthetic();
    current_site = 0x500;
    race_access(a, (uintptr_t)&mem[0], 8, LR_ACC_WRITE | LR_ACC_ATOMIC, NULL, current_site);
    current_site = 0x510;
    race_access(b, (uintptr_t)&mem[0], 8, LR_ACC_WRITE | LR_ACC_ATOMIC, NULL, current_site);
    race_access(b, (uintptr_t)&mem[0], 8, LR_ACC_ATOMIC, NULL, current_site);
    ck_assert_int_eq(nreports, 0);
    wr(a, 0);                   /* a plain write against b's atomic write and atomic read */
    ck_assert_int_eq(count(LR_REPORT_DATA_RACE), 2);
}
END_TEST

/* locksets: each access says which locks it held */
static lr_lock *lock_at(int i) { return lr_lock_get((uintptr_t)&fake_locks[i * 64], LR_NORMAL); }

static void hold(lr_thread *t, lr_lock *l)
{
    current_site = 0x900 + l->id;
    lr_held_push(t, l, l->id, l->addr, unit_site_stack(), LR_BLOCKING, 0);
}

START_TEST(race_reports_the_locks_each_side_held)
{
    lr_thread *a = lr_thread_new_synthetic(), *b = lr_thread_new_synthetic();
    lr_lock *l1 = lock_at(1), *l2 = lock_at(2);
    hold(a, l1);
    wr(a, 0);
    hold(b, l2);                /* the wrong lock: no order */
    wr(b, 0);
    ck_assert_int_eq(count(LR_REPORT_DATA_RACE), 1);
    ck_assert_uint_eq(reports[0].a[0].nholds, 1);
    ck_assert_uint_eq(reports[0].held_ids[0][0], l1->id);
    ck_assert_uint_eq(reports[0].a[1].nholds, 1);
    ck_assert_uint_eq(reports[0].held_ids[1][0], l2->id);
    ck_assert(!reports[0].common_lock);
}
END_TEST

/* ---- rwlocks: readers exclude nobody ---- */

static lr_lock *rwlock_at(int i) { return lr_lock_get((uintptr_t)&fake_locks[i * 64], LR_RWLOCK); }

/* t takes l for reading: held in read mode, and ordered after the writers only */
static void hold_shared(lr_thread *t, lr_lock *l)
{
    current_site = 0xa00 + l->id;
    lr_held_push(t, l, l->id, l->addr, unit_site_stack(), LR_BLOCKING, 1);
    lr_race_acquire_shared(t, l->addr);
}

static void drop_shared(lr_thread *t, lr_lock *l)
{
    lr_race_release_shared(t, l->addr);
    lr_held_released_at(t, l->addr);
}

START_TEST(a_write_under_a_read_lock_races_with_another_reader)
{
    lr_thread *a = lr_thread_new_synthetic(), *b = lr_thread_new_synthetic();
    lr_lock *rw = rwlock_at(3);
    hold_shared(a, rw);
    wr(a, 0);                   /* a writer holding the lock only for reading */
    drop_shared(a, rw);
    hold_shared(b, rw);         /* after a's read unlock: still not ordered after a */
    rd(b, 0);
    drop_shared(b, rw);
    ck_assert_int_eq(count(LR_REPORT_DATA_RACE), 1);
    ck_assert(!reports[0].common_lock);     /* both held rw, for reading: no exclusion */
    ck_assert_uint_eq(reports[0].held_ids[0][0], rw->id);
    ck_assert_uint_eq(reports[0].held_ids[1][0], rw->id);
}
END_TEST

START_TEST(a_writer_follows_every_reader_and_readers_follow_writers)
{
    lr_thread *r1 = lr_thread_new_synthetic(), *r2 = lr_thread_new_synthetic(),
              *w = lr_thread_new_synthetic();
    lr_lock *rw = rwlock_at(4);
    hold_shared(r1, rw);
    rd(r1, 0);
    drop_shared(r1, rw);
    hold_shared(r2, rw);
    rd(r2, 0);
    drop_shared(r2, rw);
    hold(w, rw);                /* the write lock: after both readers */
    lr_race_acquire(w, rw->addr);
    wr(w, 0);
    lr_race_release(w, rw->addr);
    lr_held_released_at(w, rw->addr);
    hold_shared(r1, rw);        /* and a reader after the writer */
    rd(r1, 0);
    drop_shared(r1, rw);
    ck_assert_int_eq(nreports, 0);
}
END_TEST

/* ---- buffers of system calls: read(2) into, write(2) out of ---- */

static void syscall_access(lr_thread *t, uintptr_t addr, size_t size, int write)
{
    current_site = 0xb00 + (uintptr_t)write;
    if (lr_race_tracks(addr, size))
        race_access(t, addr, size, LR_ACC_TRACKED | (write ? LR_ACC_WRITE : 0), NULL, current_site);
}

START_TEST(a_system_call_into_a_watched_buffer_is_an_access)
{
    lr_thread *a = lr_thread_new_synthetic(), *b = lr_thread_new_synthetic();
    ck_assert_int_eq(lr_race_watch(a, (uintptr_t)&mem[20], 4 * sizeof mem[0], "inbox"), 0);
    /* a read(2) of 8 longs starting before the buffer fills it */
    syscall_access(a, (uintptr_t)&mem[18], 8 * sizeof mem[0], 1);
    rd(b, 21);
    ck_assert_int_eq(count(LR_REPORT_DATA_RACE), 1);
    ck_assert(reports[0].a[0].write);
}
END_TEST

START_TEST(a_system_call_buffer_nobody_tracks_stays_untracked)
{
    lr_thread *a = lr_thread_new_synthetic(), *b = lr_thread_new_synthetic();
    ck_assert_int_eq(lr_race_watch(a, (uintptr_t)&mem[20], sizeof mem[0], "inbox"), 0);
    ck_assert(!lr_race_tracks((uintptr_t)&mem[40], 8 * sizeof mem[0]));
    syscall_access(a, (uintptr_t)&mem[40], 8 * sizeof mem[0], 1);
    wr(b, 41);                  /* the first access lockrace tracks there */
    ck_assert_int_eq(nreports, 0);
}
END_TEST

START_TEST(watched_range_is_one_variable_of_several_granules)
{
    lr_thread *a = lr_thread_new_synthetic(), *b = lr_thread_new_synthetic();
    ck_assert_int_eq(lr_race_watch(a, (uintptr_t)&mem[8], 4 * sizeof mem[0], "table"), 0);
    wr(a, 9);
    wr(b, 10);                  /* another element: no race */
    ck_assert_int_eq(nreports, 0);
    wr(b, 9);
    ck_assert_int_eq(count(LR_REPORT_DATA_RACE), 1);
}
END_TEST

START_TEST(unwatch_forgets_history)
{
    lr_thread *a = lr_thread_new_synthetic(), *b = lr_thread_new_synthetic();
    wr(a, 0);
    lr_race_unwatch(a, (uintptr_t)&mem[0], sizeof mem[0]);   /* freed, reused */
    wr(b, 0);
    ck_assert_int_eq(nreports, 0);
}
END_TEST

/* ---- the dynamic annotations: benign races, ignored accesses ---- */

/* A range declared benign: no race on its bytes, declared before the
 * engine starts (0: kept until it does), before a watch (1: the watch keeps
 * it) or after one (2); the bytes beside it in the same granule still race. */
START_TEST(benign_bytes_never_race_their_neighbours_do)
{
    lr_thread *a = lr_thread_new_synthetic(), *b = lr_thread_new_synthetic();
    char *bytes = (char *)&mem[2];
    if (_i == 2)
        ck_assert_int_eq(lr_race_watch(a, (uintptr_t)bytes, 8, "pair"), 0);
    lr_race_benign(a, (uintptr_t)bytes, 4);
    ck_assert_int_eq(lr_race_active(), _i == 2);   /* declaring one starts nothing */
    if (_i == 1)
        ck_assert_int_eq(lr_race_watch(a, (uintptr_t)bytes, 8, "pair"), 0);
    race_access(a, (uintptr_t)bytes, 4, LR_ACC_WRITE, NULL, 0x500);
    race_access(b, (uintptr_t)bytes, 4, LR_ACC_WRITE, NULL, 0x510);
    race_access(b, (uintptr_t)bytes + 2, 4, LR_ACC_WRITE, NULL, 0x520);   /* benign half */
    ck_assert_int_eq(nreports, 0);
    race_access(a, (uintptr_t)bytes + 4, 4, LR_ACC_WRITE, NULL, 0x530);
    ck_assert_int_eq(count(LR_REPORT_DATA_RACE), 1);       /* with b's unaligned write */
    /* unwatch forgets it with the rest of the history */
    lr_race_unwatch(a, (uintptr_t)bytes, 8);
    race_access(a, (uintptr_t)bytes, 4, LR_ACC_WRITE, NULL, 0x540);
    race_access(b, (uintptr_t)bytes, 4, LR_ACC_WRITE, NULL, 0x550);
    ck_assert_int_eq(count(LR_REPORT_DATA_RACE), 2);
}
END_TEST

/* An exact store to a benign variable is still made. */
START_TEST(a_benign_exact_store_is_made)
{
    lr_thread *a = lr_thread_new_synthetic();
    lr_race_benign(a, (uintptr_t)&mem[3], sizeof mem[3]);
    store(a, 3, 42);
    ck_assert_int_eq(mem[3], 42);
    ck_assert_int_eq(load(a, 3), 42);
}
END_TEST

/* Reads, writes and synchronization ignored between Begin and End (which
 * nest): the other kind is still seen; an End without its Begin is not a
 * Begin. */
START_TEST(ignored_accesses_are_not_seen)
{
    lr_thread *a = lr_thread_new_synthetic(), *b = lr_thread_new_synthetic();
    lr_race_ignore(b, LR_IGNORE_READS, -1);             /* unbalanced: no effect */
    lr_race_ignore(b, LR_IGNORE_WRITES, 1);
    lr_race_ignore(b, LR_IGNORE_WRITES, 1);
    wr(a, 0);
    wr(b, 0);
    lr_race_ignore(b, LR_IGNORE_WRITES, -1);
    wr(b, 0);                   /* still inside the outer pair */
    ck_assert_int_eq(nreports, 0);
    rd(b, 0);                   /* reads are seen */
    rd(b, 1);
    lr_race_thread_finished(b);
    ck_assert_int_eq(count(LR_REPORT_DATA_RACE), 1);
    lr_race_ignore(b, LR_IGNORE_WRITES, -1);
    wr(b, 4);
    wr(a, 4);
    ck_assert_int_eq(count(LR_REPORT_DATA_RACE), 2);
}
END_TEST

START_TEST(ignored_synchronization_orders_nothing)
{
    lr_thread *a = lr_thread_new_synthetic(), *b = lr_thread_new_synthetic();
    wr(a, 0);
    lr_race_ignore(a, LR_IGNORE_SYNC, 1);
    lr_race_release(a, (uintptr_t)&fake_locks[0]);
    lr_race_ignore(a, LR_IGNORE_SYNC, -1);
    lr_race_acquire(b, (uintptr_t)&fake_locks[0]);
    wr(b, 0);
    ck_assert_int_eq(count(LR_REPORT_DATA_RACE), 1);
}
END_TEST

/* New memory (an allocator's reuse): the old history is gone, the name stays. */
START_TEST(forgotten_memory_starts_a_new_history)
{
    lr_thread *a = lr_thread_new_synthetic(), *b = lr_thread_new_synthetic();
    ck_assert_int_eq(lr_race_watch(a, (uintptr_t)&mem[5], sizeof mem[5], "slot"), 0);
    wr(a, 5);
    lr_race_forget(b, (uintptr_t)&mem[5], sizeof mem[5]);
    wr(b, 5);
    ck_assert_int_eq(nreports, 0);
    wr(a, 5);
    ck_assert_int_eq(count(LR_REPORT_DATA_RACE), 1);
    ck_assert_uint_eq(reports[0].a[0].thread, b->info->id);     /* with the new history */
    ck_assert_str_eq(reports[0].var_name, "slot");
}
END_TEST

/* ---- lost updates ---- */

/* A watched instruction (watch.c): the program made the access, lockrace
 * records the value it saw without touching memory. */
static void given(lr_thread *t, int i, int flags, long value)
{
    uint64_t v = (uint64_t)value;
    current_site = 0x500 + (uintptr_t)(flags & LR_ACC_WRITE);
    race_access(t, (uintptr_t)&mem[i], sizeof mem[i], flags | LR_ACC_EXACT | LR_ACC_GIVEN, &v,
                   current_site);
}

START_TEST(given_values_are_recorded_not_made)
{
    lr_thread *a = lr_thread_new_synthetic(), *b = lr_thread_new_synthetic();
    mem[0] = 77;                /* what memory holds is not what the events say */
    given(a, 0, 0, 5);
    given(b, 0, 0, 5);
    given(b, 0, LR_ACC_WRITE, 6);
    given(a, 0, LR_ACC_WRITE, 6);
    ck_assert_int_eq(mem[0], 77);
    ck_assert_int_eq(count(LR_REPORT_LOST_UPDATE), 1);
    seen_report *r = &reports[0];
    ck_assert(r->observed);
    ck_assert_uint_eq(r->a[0].value, 5);
    ck_assert_uint_eq(r->a[1].value, 6);
    ck_assert_uint_eq(lr_race_lost_updates(), 1);
}
END_TEST

START_TEST(given_with_an_odd_size_is_a_plain_access)
{
    lr_thread *a = lr_thread_new_synthetic(), *b = lr_thread_new_synthetic();
    uint64_t v = 1;
    /* 3 bytes cannot be one exact access: an inexact write each, a race */
    race_access(a, (uintptr_t)&mem[0], 3, LR_ACC_WRITE | LR_ACC_EXACT | LR_ACC_GIVEN, &v, 0x600);
    race_access(b, (uintptr_t)&mem[0], 3, LR_ACC_WRITE | LR_ACC_EXACT | LR_ACC_GIVEN, &v, 0x610);
    ck_assert_int_eq(count(LR_REPORT_DATA_RACE), 1);
    ck_assert_int_eq(count(LR_REPORT_LOST_UPDATE), 0);
}
END_TEST

/* A forked child has only the thread that forked: what the others wrote
 * before the fork is in its memory, ordered before all it does. */
START_TEST(a_forked_child_is_ordered_after_the_threads_it_does_not_have)
{
    lr_thread *a = lr_thread_new_synthetic(), *b = lr_thread_new_synthetic();
    wr(a, 0);
    lr_thread *saved = lr_tls_thread;
    lr_tls_thread = b;                  /* b forks */
    lr_race_fork_child();
    lr_tls_thread = saved;
    wr(b, 0);
    rd(b, 0);
    lr_race_flush();
    ck_assert_int_eq(count(LR_REPORT_DATA_RACE), 0);
    /* without the fork, the same accesses race */
    lr_thread *c = lr_thread_new_synthetic();
    wr(c, 1);
    wr(a, 1);
    ck_assert_int_eq(count(LR_REPORT_DATA_RACE), 1);
}
END_TEST

START_TEST(interleaved_exact_increments_are_an_observed_lost_update)
{
    lr_thread *a = lr_thread_new_synthetic(), *b = lr_thread_new_synthetic();
    mem[0] = 5;
    long va = load(a, 0);       /* a reads 5 */
    long vb = load(b, 0);       /* b reads 5 */
    store(b, 0, vb + 1);        /* b writes 6 */
    store(a, 0, va + 1);        /* a writes 6 over it */
    ck_assert_int_eq(mem[0], 6);
    ck_assert_int_eq(count(LR_REPORT_LOST_UPDATE), 1);
    ck_assert_int_eq(count(LR_REPORT_DATA_RACE), 0);   /* the lost update says it */
    seen_report *r = &reports[0];
    ck_assert(r->observed);
    ck_assert_uint_eq(r->lost, 1);
    ck_assert_uint_eq(lr_race_lost_updates(), 1);
    /* overwriter a: read, write; victim b: read, write */
    ck_assert_uint_eq(r->a[0].thread, a->info->id);
    ck_assert_uint_eq(r->a[2].thread, b->info->id);
    ck_assert_uint_eq(r->a[0].value, 5);
    ck_assert_uint_eq(r->a[2].value, 5);
    ck_assert_uint_eq(r->a[3].value, 6);
    ck_assert_uint_eq(r->a[1].value, 6);
    /* the order it happened: a read, b read, b wrote, a wrote */
    ck_assert_int_eq(r->order[0], 0);
    ck_assert_int_eq(r->order[1], 2);
    ck_assert_int_eq(r->order[2], 3);
    ck_assert_int_eq(r->order[3], 1);
}
END_TEST

START_TEST(unordered_increments_that_did_not_overlap_are_possible)
{
    lr_thread *a = lr_thread_new_synthetic(), *b = lr_thread_new_synthetic();
    store(a, 0, load(a, 0) + 1);
    store(b, 0, load(b, 0) + 1);
    lr_race_thread_finished(b);  /* possible ones are held back a while */
    ck_assert_int_eq(count(LR_REPORT_LOST_UPDATE), 1);
    ck_assert(!reports[0].observed);
    ck_assert_uint_eq(lr_race_lost_updates(), 0);
    ck_assert_int_eq(count(LR_REPORT_DATA_RACE), 0);
}
END_TEST

START_TEST(possible_after_observed_on_the_same_code_is_not_reported)
{
    lr_thread *a = lr_thread_new_synthetic(), *b = lr_thread_new_synthetic();
    long va = load(a, 0), vb = load(b, 0);
    store(b, 0, vb + 1);
    store(a, 0, va + 1);        /* observed */
    store(b, 0, load(b, 0) + 1);
    store(a, 0, load(a, 0) + 1);    /* unordered, not overlapping: possible */
    lr_race_thread_finished(a);
    lr_race_thread_finished(b);
    ck_assert_int_eq(nreports, 1);
    ck_assert(reports[0].observed);
}
END_TEST

START_TEST(increments_under_one_lock_are_clean)
{
    lr_thread *t[3];
    for (int i = 0; i < 3; i++)
        t[i] = lr_thread_new_synthetic();
    for (int round = 0; round < 20; round++) {
        lr_thread *x = t[round % 3];
        lr_race_acquire(x, (uintptr_t)&fake_locks[0]);
        store(x, 0, load(x, 0) + 1);
        lr_race_release(x, (uintptr_t)&fake_locks[0]);
    }
    for (int i = 0; i < 3; i++)
        lr_race_thread_finished(t[i]);
    ck_assert_int_eq(nreports, 0);
    ck_assert_int_eq(mem[0], 20);
}
END_TEST

START_TEST(lock_released_between_read_and_write_is_a_lost_update)
{
    lr_thread *a = lr_thread_new_synthetic(), *b = lr_thread_new_synthetic();
    uintptr_t l = (uintptr_t)&fake_locks[0];
    lr_race_acquire(a, l);
    long va = load(a, 0);
    lr_race_release(a, l);
    lr_race_acquire(b, l);      /* b's whole deposit in a's gap */
    store(b, 0, load(b, 0) + 10);
    lr_race_release(b, l);
    lr_race_acquire(a, l);
    store(a, 0, va + 1);
    lr_race_release(a, l);
    ck_assert_int_eq(mem[0], 1);
    ck_assert_int_eq(count(LR_REPORT_LOST_UPDATE), 1);
    ck_assert(reports[0].observed);
    ck_assert_int_eq(count(LR_REPORT_DATA_RACE), 0);   /* every access was ordered */
}
END_TEST

/* t takes and lets go of l, as the runtime tells the engine */
static void take(lr_thread *t, lr_lock *l)
{
    hold(t, l);
    lr_race_acquire(t, l->addr);
}

static void drop(lr_thread *t, lr_lock *l)
{
    lr_race_release(t, l->addr);
    lr_held_released_at(t, l->addr);
}

/* The report says a lock was let go between a read and its write only when
 * it was: here a's lock is released and taken again, b's other lock is
 * released only after its write, and b's own lock L is held throughout. */
START_TEST(a_lock_held_throughout_is_not_said_released_in_between)
{
    lr_thread *a = lr_thread_new_synthetic(), *b = lr_thread_new_synthetic();
    lr_lock *l = lock_at(5), *m = lock_at(6), *n = lock_at(7);
    take(b, n);
    take(b, m);
    long vb = load(b, 0);
    take(a, l);
    long va = load(a, 0);
    drop(a, l);
    take(a, l);
    store(a, 0, va + 1);        /* a's update, overwritten below */
    drop(a, l);
    store(b, 0, vb + 1);        /* b's lock m and n held throughout */
    drop(b, m);
    drop(b, n);
    ck_assert_int_eq(count(LR_REPORT_LOST_UPDATE), 1);
    seen_report *r = &reports[0];
    ck_assert(r->observed);
    ck_assert_uint_eq(r->a[1].thread, b->info->id);     /* b overwrote a's update */
    ck_assert_uint_eq(r->a[1].nholds, 2);
    ck_assert(!r->retaken[1][0] && !r->retaken[1][1]);
    ck_assert_uint_eq(r->a[3].thread, a->info->id);
    ck_assert_uint_eq(r->a[3].nholds, 1);
    ck_assert_uint_eq(r->held_ids[3][0], l->id);
    ck_assert(r->retaken[3][0]);
}
END_TEST

/* An increment made while holding a lock the whole time, against one
 * holding no lock: nothing was released in between. */
START_TEST(a_lock_around_one_increment_is_not_said_released)
{
    lr_thread *a = lr_thread_new_synthetic(), *b = lr_thread_new_synthetic();
    lr_lock *l = lock_at(5), *m = lock_at(6);
    take(a, m);                 /* released between a's increments, not inside one */
    drop(a, m);
    take(a, l);
    store(a, 0, load(a, 0) + 1);
    drop(a, l);
    store(b, 0, load(b, 0) + 1);
    lr_race_thread_finished(a);
    lr_race_thread_finished(b);
    ck_assert_int_eq(count(LR_REPORT_LOST_UPDATE), 1);
    seen_report *r = &reports[0];
    for (int i = 0; i < 4; i++)
        for (size_t k = 0; k < r->a[i].nholds; k++)
            ck_assert(!r->retaken[i][k]);
}
END_TEST

START_TEST(atomic_increments_are_never_reported)
{
    lr_thread *a = lr_thread_new_synthetic(), *b = lr_thread_new_synthetic();
    for (int i = 0; i < 10; i++) {
        lr_thread *x = i % 2 ? a : b;
        current_site = 0x600;
        race_access(x, (uintptr_t)&mem[0], 8, LR_ACC_ATOMIC | LR_ACC_WRITE, NULL, current_site);
    }
    lr_race_thread_finished(a);
    lr_race_thread_finished(b);
    ck_assert_int_eq(nreports, 0);
}
END_TEST

START_TEST(a_read_racing_an_increment_that_stays_a_read_is_a_data_race)
{
    lr_thread *a = lr_thread_new_synthetic(), *b = lr_thread_new_synthetic();
    store(a, 0, load(a, 0) + 1);
    rd(b, 0);                   /* held back: might become b's increment */
    ck_assert_int_eq(nreports, 0);
    lr_race_thread_finished(b);
    ck_assert_int_eq(count(LR_REPORT_DATA_RACE), 1);
    ck_assert_uint_eq(reports[0].a[0].thread, a->info->id);    /* a's write, then b's read */
    ck_assert(reports[0].a[0].write && !reports[0].a[1].write);
}
END_TEST

/* A read, then another thread's increment: the read came first, and the
 * report says so (the read is held back in case it starts an increment of
 * its own, and was once reported as if it came last). */
START_TEST(a_read_before_another_threads_increment_is_reported_first)
{
    lr_thread *a = lr_thread_new_synthetic(), *b = lr_thread_new_synthetic();
    rd(a, 0);
    store(b, 0, load(b, 0) + 1);
    lr_race_thread_finished(a);
    lr_race_thread_finished(b);
    ck_assert_int_eq(count(LR_REPORT_DATA_RACE), 1);
    ck_assert_uint_eq(reports[0].a[0].thread, a->info->id);
    ck_assert(!reports[0].a[0].write);
    ck_assert_uint_eq(reports[0].a[1].thread, b->info->id);
    ck_assert(reports[0].a[1].write);
}
END_TEST

/* Threads in lockstep: all read the same value, then all write; of each
 * round's updates, all but the last are lost. */
START_TEST(lockstep_increments_count_every_lost_update)
{
    enum { THREADS = 3, ROUNDS = 50 };
    lr_thread *t[THREADS];
    long v[THREADS];
    for (int i = 0; i < THREADS; i++)
        t[i] = lr_thread_new_synthetic();
    for (int round = 0; round < ROUNDS; round++) {
        for (int i = 0; i < THREADS; i++)
            v[i] = load(t[i], 0);
        for (int i = 0; i < THREADS; i++)
            store(t[i], 0, v[i] + 1);
    }
    ck_assert_int_eq(mem[0], ROUNDS);
    ck_assert_uint_eq(lr_race_lost_updates(), (uint64_t)(THREADS - 1) * ROUNDS);
    ck_assert_uint_eq(lr_race_lost_at_exit(), (uint64_t)(THREADS - 1) * ROUNDS);
}
END_TEST

/* Random interleavings of exact increments by several threads: the lost
 * updates lockrace counts are never more than the counter really lost, and
 * some are counted whenever the counter lost many. */
START_TEST(counted_lost_updates_never_exceed_the_real_loss)
{
    enum { THREADS = 4, INCREMENTS = 2000 };
    lr_thread *t[THREADS];
    long pending[THREADS];
    int state[THREADS] = { 0 }, left[THREADS];
    for (int i = 0; i < THREADS; i++) {
        t[i] = lr_thread_new_synthetic();
        left[i] = INCREMENTS;
    }
    srandom((unsigned)_i * 7919u + 1);
    int active = THREADS;
    while (active) {
        int i = (int)(random() % THREADS);
        if (!left[i])
            continue;
        /* some threads run long bursts, as a preempted thread's peers do */
        int burst = random() % 8 == 0 ? 50 : 1;
        for (int k = 0; k < burst && left[i]; k++) {
            if (state[i] == 0) {
                pending[i] = load(t[i], 0);
                state[i] = 1;
            } else {
                store(t[i], 0, pending[i] + 1);
                state[i] = 0;
                if (--left[i] == 0)
                    active--;
            }
        }
    }
    long lost = (long)THREADS * INCREMENTS - mem[0];
    ck_assert_int_gt(lost, 0);
    ck_assert_uint_gt(lr_race_lost_updates(), 0);
    ck_assert_uint_le(lr_race_lost_updates(), (uint64_t)lost);
    /* from the whole history, once every thread is done: exactly */
    ck_assert_uint_eq(lr_race_lost_at_exit(), (uint64_t)lost);
}

/* A thread that read and has not written yet may still build on what it
 * read: at exit that is not counted as lost. */
START_TEST(a_pending_read_keeps_its_value_alive)
{
    lr_thread *a = lr_thread_new_synthetic(), *b = lr_thread_new_synthetic();
    store(a, 0, load(a, 0) + 1);    /* write 1 */
    long vb = load(b, 0);           /* b reads 1, then stalls */
    store(a, 0, load(a, 0) + 1);    /* write 2: built on 1 */
    (void)vb;
    ck_assert_uint_eq(lr_race_lost_at_exit(), 0);
}
END_TEST
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("race");
    TCase *tc = tcase_create("engine");
    tcase_add_checked_fixture(tc, setup, NULL);
    tcase_add_test(tc, vector_clock_join_copy_covers);
    tcase_add_test(tc, unordered_writes_race);
    tcase_add_test(tc, write_then_read_races_once_the_read_is_settled);
    tcase_add_test(tc, read_then_write_races);
    tcase_add_test(tc, reads_never_race);
    tcase_add_test(tc, different_variables_do_not_race);
    tcase_add_test(tc, same_sites_are_reported_once);
    tcase_add_loop_test(tc, release_then_acquire_orders, 0, 2);
    tcase_add_test(tc, acquire_before_release_does_not_order);
    tcase_add_test(tc, accesses_after_the_release_are_not_covered);
    tcase_add_test(tc, order_is_transitive);
    tcase_add_test(tc, create_and_join_order);
    tcase_add_test(tc, creator_after_create_races_with_child);
    tcase_add_test(tc, atomics_do_not_race_each_other_but_race_plain_accesses);
    tcase_add_test(tc, race_reports_the_locks_each_side_held);
    tcase_add_test(tc, a_write_under_a_read_lock_races_with_another_reader);
    tcase_add_test(tc, a_system_call_into_a_watched_buffer_is_an_access);
    tcase_add_test(tc, a_system_call_buffer_nobody_tracks_stays_untracked);
    tcase_add_test(tc, a_writer_follows_every_reader_and_readers_follow_writers);
    tcase_add_test(tc, watched_range_is_one_variable_of_several_granules);
    tcase_add_test(tc, unwatch_forgets_history);
    tcase_add_loop_test(tc, benign_bytes_never_race_their_neighbours_do, 0, 3);
    tcase_add_test(tc, a_benign_exact_store_is_made);
    tcase_add_test(tc, ignored_accesses_are_not_seen);
    tcase_add_test(tc, ignored_synchronization_orders_nothing);
    tcase_add_test(tc, forgotten_memory_starts_a_new_history);
    tcase_add_test(tc, interleaved_exact_increments_are_an_observed_lost_update);
    tcase_add_test(tc, unordered_increments_that_did_not_overlap_are_possible);
    tcase_add_test(tc, possible_after_observed_on_the_same_code_is_not_reported);
    tcase_add_test(tc, increments_under_one_lock_are_clean);
    tcase_add_test(tc, lock_released_between_read_and_write_is_a_lost_update);
    tcase_add_test(tc, atomic_increments_are_never_reported);
    tcase_add_test(tc, a_read_racing_an_increment_that_stays_a_read_is_a_data_race);
    tcase_add_test(tc, a_read_before_another_threads_increment_is_reported_first);
    tcase_add_test(tc, a_lock_held_throughout_is_not_said_released_in_between);
    tcase_add_test(tc, a_lock_around_one_increment_is_not_said_released);
    tcase_add_test(tc, lockstep_increments_count_every_lost_update);
    tcase_add_test(tc, a_pending_read_keeps_its_value_alive);
    tcase_add_test(tc, given_values_are_recorded_not_made);
    tcase_add_test(tc, a_forked_child_is_ordered_after_the_threads_it_does_not_have);
    tcase_add_test(tc, given_with_an_odd_size_is_a_plain_access);
    tcase_add_loop_test(tc, counted_lost_updates_never_exceed_the_real_loss, 0, 20);
    suite_add_tcase(s, tc);
    return s;
}

LR_UNIT_MAIN(suite)
