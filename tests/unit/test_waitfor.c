/* The wait-for engine driven by synthetic waits: threads that exist only
 * as records, locks that are plain addresses, and a holder table the test
 * fills in, as glibc's owner field would be. */
#include "detect/waitfor.h"
#include "support/options.h"

#include "unit.h"

#include <check.h>
#include <stdlib.h>

#define LOCKS 256

static uint32_t holders[LOCKS];     /* lock i is held by thread holders[i] */
static char locks[LOCKS];

static uint32_t extra_reader[LOCKS];   /* a second holder, as an rwlock's reader */

static int holder(uintptr_t object, uint32_t *out, int max)
{
    int i = (int)((char *)object - locks), n = 0;
    if (holders[i] != UINT32_MAX && n < max)
        out[n++] = holders[i];
    if (extra_reader[i] != UINT32_MAX && n < max)
        out[n++] = extra_reader[i];
    return n;
}

static void setup(void)
{
    lr_waitfor_init();
    lr_options_defaults(&lr_opt);
    for (int i = 0; i < LOCKS; i++)
        holders[i] = extra_reader[i] = UINT32_MAX;
}

static lr_thread_info *thread(void)
{
    return lr_thread_new_synthetic()->info;
}

static void waits_for_lock(lr_thread_info *t, int lock)
{
    lr_wait_begin(t, LR_WAIT_LOCK, (uintptr_t)&locks[lock], NULL, 0, 0);
}

static uint32_t cycle_from(lr_thread_info *t, lr_cycle *c)
{
    lr_cycle_init(c);
    return lr_waitfor_cycle(t, holder, c, 1);
}

START_TEST(two_threads_each_waiting_for_the_other)
{
    lr_thread_info *a = thread(), *b = thread();
    holders[0] = a->id;
    holders[1] = b->id;
    waits_for_lock(a, 1);
    waits_for_lock(b, 0);
    lr_cycle c;
    ck_assert_uint_eq(cycle_from(b, &c), 2);
    /* whoever finds it, it starts at the lowest thread */
    ck_assert_uint_eq(c.threads[0], a->id);
    ck_assert_uint_eq(c.threads[1], b->id);
    ck_assert(lr_waitfor_unchanged(&c));
    lr_cycle_free(&c);
    ck_assert_uint_eq(cycle_from(a, &c), 2);
    ck_assert_uint_eq(c.threads[0], a->id);
}
END_TEST

START_TEST(a_chain_to_a_running_thread_is_no_deadlock)
{
    lr_thread_info *a = thread(), *b = thread(), *c3 = thread();
    holders[0] = b->id;
    holders[1] = c3->id;
    waits_for_lock(a, 0);
    waits_for_lock(b, 1);               /* c3 runs: it will release lock 1 */
    lr_cycle c;
    ck_assert_uint_eq(cycle_from(a, &c), 0);
    ck_assert_uint_eq(cycle_from(b, &c), 0);
}
END_TEST

START_TEST(a_released_lock_breaks_the_cycle)
{
    lr_thread_info *a = thread(), *b = thread();
    holders[0] = a->id;
    waits_for_lock(a, 1);               /* lock 1 is free: a is about to get it */
    waits_for_lock(b, 0);
    lr_cycle c;
    ck_assert_uint_eq(cycle_from(b, &c), 0);
}
END_TEST

START_TEST(a_timed_wait_in_the_cycle_is_no_deadlock)
{
    lr_thread_info *a = thread(), *b = thread();
    holders[0] = a->id;
    holders[1] = b->id;
    waits_for_lock(a, 1);
    lr_wait_begin(b, LR_WAIT_LOCK, (uintptr_t)&locks[0], NULL, 0, 1);
    lr_cycle c;
    ck_assert_uint_eq(cycle_from(a, &c), 0);
}
END_TEST

START_TEST(relocking_a_held_lock_is_a_cycle_of_one)
{
    lr_thread_info *a = thread();
    holders[7] = a->id;
    waits_for_lock(a, 7);
    lr_cycle c;
    ck_assert_uint_eq(cycle_from(a, &c), 1);
    ck_assert_uint_eq(c.threads[0], a->id);
}
END_TEST

START_TEST(two_threads_joining_each_other)
{
    lr_thread_info *a = thread(), *b = thread();
    lr_wait_begin(a, LR_WAIT_JOIN, b->id, NULL, 0, 0);
    lr_wait_begin(b, LR_WAIT_JOIN, a->id, NULL, 0, 0);
    lr_cycle c;
    ck_assert_uint_eq(cycle_from(a, &c), 2);
    b->finished = 1;                    /* a join of an ended thread returns */
    ck_assert_uint_eq(cycle_from(a, &c), 0);
}
END_TEST

START_TEST(a_join_and_a_lock_in_one_cycle)
{
    lr_thread_info *a = thread(), *b = thread();
    holders[3] = a->id;
    lr_wait_begin(a, LR_WAIT_JOIN, b->id, NULL, 0, 0);
    waits_for_lock(b, 3);
    lr_cycle c;
    ck_assert_uint_eq(cycle_from(b, &c), 2);
}
END_TEST

START_TEST(leading_into_a_cycle_of_others_is_left_to_them)
{
    lr_thread_info *a = thread(), *b = thread(), *x = thread();
    holders[0] = a->id;
    holders[1] = b->id;
    waits_for_lock(a, 1);
    waits_for_lock(b, 0);
    waits_for_lock(x, 0);               /* x waits for a, which is in the a-b cycle */
    lr_cycle c;
    ck_assert_uint_eq(cycle_from(x, &c), 0);
}
END_TEST

START_TEST(a_new_wait_is_not_the_same_cycle)
{
    lr_thread_info *a = thread(), *b = thread();
    holders[0] = a->id;
    holders[1] = b->id;
    waits_for_lock(a, 1);
    waits_for_lock(b, 0);
    lr_cycle c;
    ck_assert_uint_eq(cycle_from(a, &c), 2);
    lr_wait_end(b);
    waits_for_lock(b, 0);               /* b got going and waits again */
    ck_assert(!lr_waitfor_unchanged(&c));
    lr_wait_end(a);
    ck_assert_uint_eq(cycle_from(b, &c), 0);
}
END_TEST

static uint32_t hidden_thread;
static uintptr_t hidden_lock;

static uintptr_t synthetic_kernel(const lr_thread_info *t)
{
    return t->id == hidden_thread ? hidden_lock : 0;
}

START_TEST(a_thread_blocked_without_saying_so)
{
    lr_thread_info *a = thread(), *b = thread();
    holders[0] = a->id;
    holders[1] = b->id;
    waits_for_lock(b, 0);               /* b said it waits for lock 0 */
    lr_cycle c;
    ck_assert_uint_eq(cycle_from(b, &c), 0);
    /* a lost the race between seeing lock 1 free and locking it */
    hidden_thread = a->id;
    hidden_lock = (uintptr_t)&locks[1];
    lr_waitfor_hidden_wait = synthetic_kernel;
    lr_cycle_init(&c);
    ck_assert_uint_eq(lr_waitfor_cycle(b, holder, &c, 0), 0);   /* the quick first look */
    ck_assert_uint_eq(cycle_from(b, &c), 2);
    ck_assert(lr_waitfor_unchanged(&c));
    hidden_lock = 0;                    /* it got the lock after all */
    ck_assert(!lr_waitfor_unchanged(&c));
    lr_waitfor_hidden_wait = NULL;
}
END_TEST

START_TEST(a_writer_waits_for_every_reader)
{
    /* rwlock 5 is held for reading by `running` and by `a`; w waits to write
     * it; a waits for lock 6, held by w. The running reader will let go, a
     * never will: a deadlock, found through the second reader. */
    lr_thread_info *running = thread(), *a = thread(), *w = thread();
    holders[5] = running->id;
    extra_reader[5] = a->id;
    holders[6] = w->id;
    waits_for_lock(w, 5);
    waits_for_lock(a, 6);
    lr_cycle c;
    ck_assert_uint_eq(cycle_from(w, &c), 2);
    ck_assert_uint_eq(c.threads[0], a->id);
    ck_assert_uint_eq(c.threads[1], w->id);
    extra_reader[5] = UINT32_MAX;       /* only the running reader is left */
    ck_assert_uint_eq(cycle_from(w, &c), 0);
}
END_TEST

START_TEST(a_cycle_of_a_hundred_threads)
{
    lr_thread_info *t[100];
    for (int i = 0; i < 100; i++)
        t[i] = thread();
    for (int i = 0; i < 100; i++) {
        holders[i] = t[i]->id;
        waits_for_lock(t[i], (i + 1) % 100);
    }
    lr_cycle c;
    ck_assert_uint_eq(cycle_from(t[57], &c), 100);
    ck_assert(lr_waitfor_unchanged(&c));
    lr_cycle_free(&c);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("waitfor");
    TCase *tc = tcase_create("core");
    tcase_add_checked_fixture(tc, setup, NULL);
    tcase_add_test(tc, two_threads_each_waiting_for_the_other);
    tcase_add_test(tc, a_chain_to_a_running_thread_is_no_deadlock);
    tcase_add_test(tc, a_released_lock_breaks_the_cycle);
    tcase_add_test(tc, a_timed_wait_in_the_cycle_is_no_deadlock);
    tcase_add_test(tc, relocking_a_held_lock_is_a_cycle_of_one);
    tcase_add_test(tc, two_threads_joining_each_other);
    tcase_add_test(tc, a_join_and_a_lock_in_one_cycle);
    tcase_add_test(tc, leading_into_a_cycle_of_others_is_left_to_them);
    tcase_add_test(tc, a_new_wait_is_not_the_same_cycle);
    tcase_add_test(tc, a_thread_blocked_without_saying_so);
    tcase_add_test(tc, a_writer_waits_for_every_reader);
    tcase_add_test(tc, a_cycle_of_a_hundred_threads);
    suite_add_tcase(s, tc);
    return s;
}

LR_UNIT_MAIN(suite)
