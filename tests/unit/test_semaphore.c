/* The runtime's semaphores (src/runtime/semaphore.c), driven like the
 * engines: a semaphore initialised to 1 is a lock in the lock-order graph
 * until it behaves as a signal (posted by a thread that did not take it,
 * waited on by the thread that holds it). */
#include "detect/lockorder.h"
#include "runtime/runtime.h"
#include "support/options.h"
#include "report/report.h"

#include <semaphore.h>

#include "unit.h"

#include <check.h>

static int nreports;

static void sink(const lr_report *r)
{
    ck_assert_int_eq(r->kind, LR_REPORT_LOCK_ORDER);
    nreports++;
}

static void setup(void)
{
    lr_order_init();
    lr_options_defaults(&lr_opt);
    lr_report_sink = sink;
    lr_stack_capture_override = unit_site_stack;
    nreports = 0;
}

/* Semaphores initialised to 1 are locks until they behave as signals. */
static sem_t sems[4];

static void sem_take(lr_thread *t, int i)
{
    lr_acquisition a;
    current_site = 0x9000 + (uintptr_t)i * 16;
    lr_sem_before_wait(t, &sems[i], LR_BLOCKING, (void *)current_site, &a);
    lr_sem_after_wait(t, &a, 0);
}

START_TEST(semaphore_locks_in_both_orders_are_an_inversion)
{
    lr_thread *t1 = lr_thread_new_synthetic(), *t2 = lr_thread_new_synthetic();
    for (int i = 0; i < 2; i++)
        lr_sem_init(t1, &sems[i], 1, 0);
    sem_take(t1, 0);
    sem_take(t1, 1);
    lr_sem_post(t1, &sems[1]);
    lr_sem_post(t1, &sems[0]);
    sem_take(t2, 1);
    sem_take(t2, 0);
    ck_assert_int_eq(nreports, 1);
    ck_assert_int_eq(t2->nheld, 2);
}
END_TEST

START_TEST(a_semaphore_posted_by_another_thread_is_a_signal)
{
    lr_thread *t1 = lr_thread_new_synthetic(), *t2 = lr_thread_new_synthetic();
    for (int i = 0; i < 2; i++)
        lr_sem_init(t1, &sems[i], 1, 0);
    lr_sem_init(t1, &sems[2], 0, 0);    /* initial 0: never a lock */
    sem_take(t1, 0);
    sem_take(t1, 1);
    lr_sem_post(t2, &sems[1]);          /* t2 posts what t1 took: a signal */
    lr_sem_post(t1, &sems[0]);
    sem_take(t2, 1);
    sem_take(t2, 0);
    ck_assert_int_eq(nreports, 0);
    sem_take(t1, 2);
    ck_assert_int_eq(t1->nheld, 0);
}
END_TEST

START_TEST(waiting_on_a_semaphore_one_holds_makes_it_a_signal)
{
    lr_thread *t1 = lr_thread_new_synthetic(), *t2 = lr_thread_new_synthetic();
    for (int i = 0; i < 2; i++)
        lr_sem_init(t1, &sems[i], 1, 0);
    sem_take(t1, 0);                    /* Condition.wait: take the waiter lock, */
    sem_take(t1, 1);
    sem_take(t1, 0);                    /* and wait on it until notified */
    lr_sem_post(t1, &sems[1]);
    sem_take(t2, 1);
    sem_take(t2, 0);
    ck_assert_int_eq(nreports, 0);
}
END_TEST

/* A wait's stack is unwound once per call site and stack depth
 * (runtime/wait.c, lr_site_stack). CPython's GIL is one condition wait
 * reached from wherever the Python code is: each depth keeps its stack,
 * rather than the two pushing each other out. */
static int wait_captures;

static lr_stack_id counted_wait_stack(void)
{
    wait_captures++;
    return unit_site_stack();
}

__attribute__((noinline)) static lr_stack_id wait_at_depth(lr_thread *t, int depth)
{
    volatile char frame[64];
    frame[0] = (char)depth;
    if (depth > 0)
        return wait_at_depth(t, depth - 1) + (lr_stack_id)(frame[0] - depth);
    return lr_site_stack(t, 0x7000);
}

START_TEST(a_wait_site_reached_at_two_depths_is_unwound_once_at_each)
{
    lr_wait_init();
    lr_stack_capture_override = counted_wait_stack;
    lr_thread *t = lr_thread_new_synthetic();
    t->info->stack_base = (uintptr_t)__builtin_frame_address(0) + 4096;
    wait_captures = 0;
    for (int i = 0; i < 10; i++) {
        current_site = 0x100;
        lr_stack_id shallow = wait_at_depth(t, 0);
        current_site = 0x200;
        lr_stack_id deep = wait_at_depth(t, 4);
        ck_assert_uint_ne(shallow, deep);
    }
    ck_assert_int_eq(wait_captures, 2);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("semaphore");
    TCase *tc = tcase_create("core");
    tcase_add_checked_fixture(tc, setup, NULL);
    tcase_add_test(tc, semaphore_locks_in_both_orders_are_an_inversion);
    tcase_add_test(tc, a_semaphore_posted_by_another_thread_is_a_signal);
    tcase_add_test(tc, waiting_on_a_semaphore_one_holds_makes_it_a_signal);
    tcase_add_test(tc, a_wait_site_reached_at_two_depths_is_unwound_once_at_each);
    suite_add_tcase(s, tc);
    return s;
}

LR_UNIT_MAIN(suite)
