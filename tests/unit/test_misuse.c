/* The misuse checks on real glibc objects, made by synthetic threads: the
 * test's own pthread calls are glibc's (nothing is interposed here), so
 * the objects are in exactly the states the checks read. Each test runs
 * in its own process (Check's fork mode). */
#include "model/held.h"
#include "detect/misuse.h"
#include "support/options.h"
#include "report/report.h"

#include "unit.h"

#include <check.h>
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

typedef struct seen_report {
    int kind, misuse;
    size_t nthreads, nlocks;
    uint32_t thread, earlier_thread;
    lr_stack_id earlier_stack;
    uintptr_t lock;
} seen_report;

static seen_report reports[8];
static int nreports;

static void sink(const lr_report *r)
{
    ck_assert_int_lt(nreports, 8);
    seen_report *s = &reports[nreports++];
    s->kind = r->kind;
    s->misuse = r->misuse;
    s->nthreads = r->nthreads;
    s->nlocks = r->nlocks;
    s->thread = r->threads[0].id;
    s->earlier_thread = r->nthreads > 1 ? r->threads[1].id : UINT32_MAX;
    s->earlier_stack = r->nthreads > 1 ? r->threads[1].wait_stack : 0;
    s->lock = r->nlocks ? r->locks[0].addr : 0;
}

static void setup(void)
{
    lr_options_defaults(&lr_opt);
    lr_report_sink = sink;
    lr_stack_capture_override = unit_site_stack;
    current_site = 0x7000;
    nreports = 0;
}

/* A synthetic thread that is not T0 (T0's exit is the process's). */
static lr_thread *thread_with_tid(pid_t tid)
{
    lr_thread *t = lr_thread_new_synthetic();
    if (t->info->id == 0)
        t = lr_thread_new_synthetic();
    t->info->tid = tid;
    return t;
}

static pid_t my_tid(void) { return (pid_t)gettid(); }

/* t takes m in lockrace's view (its held locks), at site */
static void held_by(lr_thread *t, pthread_mutex_t *m, uintptr_t site)
{
    current_site = site;
    lr_lock *l = lr_lock_get((uintptr_t)m, LR_NORMAL);
    lr_held_push(t, l, l->id, l->addr, unit_site_stack(), LR_BLOCKING, 0);
    current_site = 0x7000;
}

START_TEST(unlock_of_an_unlocked_mutex)
{
    pthread_mutex_t m = PTHREAD_MUTEX_INITIALIZER;
    lr_thread *t = thread_with_tid(my_tid());
    lr_misuse_mutex_unlock(t, &m);
    ck_assert_int_eq(nreports, 1);
    ck_assert_int_eq(reports[0].kind, LR_REPORT_MISUSE);
    ck_assert_int_eq(reports[0].misuse, LR_MISUSE_UNLOCK_NOT_HELD);
    ck_assert_uint_eq(reports[0].lock, (uintptr_t)&m);
    ck_assert_uint_eq(reports[0].nthreads, 1);      /* nobody holds it */
}
END_TEST

START_TEST(unlock_of_a_mutex_lockrace_did_not_see_taken_is_fine)
{
    pthread_mutex_t m = PTHREAD_MUTEX_INITIALIZER;
    pthread_mutex_lock(&m);                         /* glibc records this thread as owner */
    lr_thread *t = thread_with_tid(my_tid());
    lr_misuse_mutex_unlock(t, &m);
    ck_assert_int_eq(nreports, 0);
    pthread_mutex_unlock(&m);
}
END_TEST

START_TEST(unlock_of_a_mutex_another_thread_holds)
{
    pthread_mutex_t m = PTHREAD_MUTEX_INITIALIZER;
    pthread_mutex_lock(&m);                         /* owner: holder's tid */
    lr_thread *holder = thread_with_tid(my_tid());
    held_by(holder, &m, 0x7100);
    lr_thread *t = thread_with_tid(my_tid() + 100000);
    lr_misuse_mutex_unlock(t, &m);
    ck_assert_int_eq(nreports, 1);
    ck_assert_uint_eq(reports[0].earlier_thread, holder->info->id);
    uintptr_t site = 0x7100;
    ck_assert_uint_eq(reports[0].earlier_stack, lr_stack_intern(&site, 1));
    pthread_mutex_unlock(&m);
}
END_TEST

START_TEST(relock_of_an_error_checking_mutex)
{
    pthread_mutexattr_t attr;
    pthread_mutexattr_init(&attr);
    pthread_mutexattr_settype(&attr, PTHREAD_MUTEX_ERRORCHECK);
    pthread_mutex_t m;
    pthread_mutex_init(&m, &attr);
    pthread_mutex_lock(&m);
    lr_thread *t = thread_with_tid(my_tid());
    lr_misuse_mutex_lock(t, &m);
    ck_assert_int_eq(nreports, 1);
    ck_assert_int_eq(reports[0].misuse, LR_MISUSE_RELOCK);
    /* a normal mutex relocked is a deadlock, not this */
    pthread_mutex_t n = PTHREAD_MUTEX_INITIALIZER;
    pthread_mutex_lock(&n);
    lr_misuse_mutex_lock(t, &n);
    ck_assert_int_eq(nreports, 1);
    pthread_mutex_unlock(&n);
    pthread_mutex_unlock(&m);
}
END_TEST

START_TEST(destroy_of_a_locked_mutex)
{
    pthread_mutex_t m = PTHREAD_MUTEX_INITIALIZER;
    lr_thread *t = thread_with_tid(my_tid());
    lr_misuse_mutex_destroy(t, &m);           /* unlocked: fine */
    ck_assert_int_eq(nreports, 0);
    pthread_mutex_lock(&m);
    lr_misuse_mutex_destroy(t, &m);
    ck_assert_int_eq(nreports, 1);
    ck_assert_int_eq(reports[0].misuse, LR_MISUSE_DESTROY_LOCKED);
    pthread_mutex_unlock(&m);
}
END_TEST

START_TEST(destroy_after_a_double_unlock_is_not_destroy_locked)
{
    pthread_mutex_t m = PTHREAD_MUTEX_INITIALIZER;
    lr_thread *t = thread_with_tid(my_tid());
    pthread_mutex_lock(&m);
    pthread_mutex_unlock(&m);
    current_site = 0x7c00;
    lr_misuse_mutex_unlock(t, &m);                  /* the second unlock */
    pthread_mutex_unlock(&m);                       /* glibc: __nusers is now -1 */
    current_site = 0x7000;
    lr_misuse_mutex_destroy(t, &m);
    ck_assert_int_eq(nreports, 2);
    ck_assert_int_eq(reports[0].misuse, LR_MISUSE_UNLOCK_NOT_HELD);
    ck_assert_int_eq(reports[1].misuse, LR_MISUSE_DESTROY_MISCOUNTED);
    uintptr_t site = 0x7c00;
    ck_assert_uint_eq(reports[1].earlier_stack, lr_stack_intern(&site, 1));
    ck_assert_int_eq(pthread_mutex_destroy(&m), EBUSY);
}
END_TEST

START_TEST(lock_of_bytes_that_look_destroyed_claims_no_destroy)
{
    pthread_mutex_t m;
    memset(&m, 0xff, sizeof m);                     /* never initialised */
    lr_thread *t = thread_with_tid(my_tid());
    lr_misuse_mutex_lock(t, &m);
    ck_assert_int_eq(nreports, 1);
    ck_assert_int_eq(reports[0].misuse, LR_MISUSE_LOCK_INVALID);
    ck_assert_uint_eq(reports[0].nthreads, 1);      /* no earlier event */
}
END_TEST

START_TEST(lock_of_a_destroyed_mutex_says_where_it_was_destroyed)
{
    pthread_mutex_t m;
    pthread_mutex_init(&m, NULL);
    lr_thread *t = thread_with_tid(my_tid());
    current_site = 0x7200;
    pthread_mutex_destroy(&m);
    lr_misuse_mutex_destroyed(t, &m);
    current_site = 0x7000;
    lr_misuse_mutex_lock(t, &m);
    ck_assert_int_eq(nreports, 1);
    ck_assert_int_eq(reports[0].misuse, LR_MISUSE_LOCK_DESTROYED);
    uintptr_t site = 0x7200;
    ck_assert_uint_eq(reports[0].earlier_stack, lr_stack_intern(&site, 1));
    /* initialised again: fine */
    pthread_mutex_init(&m, NULL);
    current_site = 0x7300;
    lr_misuse_mutex_lock(t, &m);
    ck_assert_int_eq(nreports, 1);
}
END_TEST

START_TEST(init_is_reinit_only_of_a_mutex_a_thread_holds)
{
    lr_thread *t = thread_with_tid(my_tid() + 100000);
    pthread_mutex_t *junk = malloc(sizeof *junk);
    memset(junk, 0xa5, sizeof *junk);               /* fresh memory: its bytes mean nothing */
    lr_misuse_mutex_init(t, junk);
    ck_assert_int_eq(nreports, 0);
    free(junk);
    static pthread_mutex_t m = PTHREAD_MUTEX_INITIALIZER;     /* static: cannot have gone away */
    pthread_mutex_lock(&m);
    lr_thread *holder = thread_with_tid(my_tid());
    held_by(holder, &m, 0x7400);
    lr_misuse_mutex_init(t, &m);
    ck_assert_int_eq(nreports, 1);
    ck_assert_int_eq(reports[0].misuse, LR_MISUSE_REINIT_LOCKED);
    ck_assert_uint_eq(reports[0].earlier_thread, holder->info->id);
    pthread_mutex_unlock(&m);
}
END_TEST

/* On the stack or the heap the locked mutex's memory may have gone away
 * (a frame returned, a free) and come back: said so, not "re-initialised". */
START_TEST(init_over_a_locked_mutex_whose_memory_may_have_gone)
{
    lr_thread *t = thread_with_tid(my_tid() + 100000);
    pthread_mutex_t m = PTHREAD_MUTEX_INITIALIZER;
    pthread_mutex_lock(&m);
    lr_thread *holder = thread_with_tid(my_tid());
    held_by(holder, &m, 0x7400);
    lr_misuse_mutex_init(t, &m);
    ck_assert_int_eq(nreports, 1);
    ck_assert_int_eq(reports[0].misuse, LR_MISUSE_REUSED_LOCKED);
    ck_assert_uint_eq(reports[0].earlier_thread, holder->info->id);
    pthread_mutex_unlock(&m);
}
END_TEST

START_TEST(main_ending_with_a_lock)
{
    pthread_mutex_t m = PTHREAD_MUTEX_INITIALIZER;
    lr_thread *t0 = lr_thread_new_synthetic();
    t0->info->id = 0;                               /* plays main (the real T0 is taken) */
    lr_misuse_main_end(t0);
    ck_assert_int_eq(nreports, 0);                  /* holds nothing */
    held_by(t0, &m, 0x7800);
    lr_misuse_thread_end(t0, 0);                    /* the thread check leaves main to this one */
    ck_assert_int_eq(nreports, 0);
    lr_misuse_main_end(t0);
    ck_assert_int_eq(nreports, 1);
    ck_assert_int_eq(reports[0].misuse, LR_MISUSE_EXIT_HOLDING);
    ck_assert_uint_eq(reports[0].thread, 0);
    ck_assert_uint_eq(reports[0].lock, (uintptr_t)&m);
    uintptr_t site = 0x7800;
    ck_assert_uint_eq(reports[0].earlier_stack, lr_stack_intern(&site, 1));
}
END_TEST

static pthread_mutex_t static_mutex;
static pthread_cond_t static_cond;

START_TEST(init_again_without_destroy)
{
    lr_thread *t = thread_with_tid(my_tid());
    current_site = 0x7b00;
    pthread_mutex_init(&static_mutex, NULL);
    lr_misuse_initialised(t, &static_mutex, LR_OBJ_MUTEX, 0);
    current_site = 0x7000;
    pthread_mutex_init(&static_mutex, NULL);
    lr_misuse_initialised(t, &static_mutex, LR_OBJ_MUTEX, 0);
    ck_assert_int_eq(nreports, 1);
    ck_assert_int_eq(reports[0].misuse, LR_MISUSE_REINIT);
    ck_assert_uint_eq(reports[0].lock, (uintptr_t)&static_mutex);
    uintptr_t site = 0x7b00;
    ck_assert_uint_eq(reports[0].earlier_stack, lr_stack_intern(&site, 1));
    /* a condition too, with no lock */
    lr_misuse_initialised(t, &static_cond, LR_OBJ_COND, 0);
    current_site = 0x7b10;
    lr_misuse_initialised(t, &static_cond, LR_OBJ_COND, 0);
    ck_assert_int_eq(nreports, 2);
    ck_assert_uint_eq(reports[1].nlocks, 0);
}
END_TEST

START_TEST(init_after_destroy_or_on_reused_memory_is_fine)
{
    lr_thread *t = thread_with_tid(my_tid());
    lr_misuse_initialised(t, &static_mutex, LR_OBJ_MUTEX, 0);
    lr_misuse_uninitialised(t, &static_mutex, 0);
    lr_misuse_initialised(t, &static_mutex, LR_OBJ_MUTEX, 0);
    /* the same memory as another kind of object: reused, not re-initialised */
    lr_misuse_initialised(t, &static_mutex, LR_OBJ_OTHER, 0);
    lr_misuse_initialised(t, &static_mutex, LR_OBJ_MUTEX, 0);
    /* a failed init initialised nothing */
    lr_misuse_initialised(t, &static_cond, LR_OBJ_COND, EINVAL);
    lr_misuse_initialised(t, &static_cond, LR_OBJ_COND, 0);
    /* heap or stack memory may have been freed in between: lockrace cannot say */
    pthread_mutex_t *heap = malloc(sizeof *heap), local;
    lr_misuse_initialised(t, heap, LR_OBJ_MUTEX, 0);
    lr_misuse_initialised(t, heap, LR_OBJ_MUTEX, 0);
    lr_misuse_initialised(t, &local, LR_OBJ_MUTEX, 0);
    lr_misuse_initialised(t, &local, LR_OBJ_MUTEX, 0);
    free(heap);
    ck_assert_int_eq(nreports, 0);
}
END_TEST

START_TEST(rwlock_unlock_when_not_locked)
{
    pthread_rwlock_t rw = PTHREAD_RWLOCK_INITIALIZER;
    lr_thread *t = thread_with_tid(my_tid());
    pthread_rwlock_rdlock(&rw);                     /* read-locked (by someone): cannot say */
    lr_misuse_rwlock_unlock(t, &rw);
    ck_assert_int_eq(nreports, 0);
    pthread_rwlock_unlock(&rw);
    lr_misuse_rwlock_unlock(t, &rw);
    ck_assert_int_eq(nreports, 1);
    ck_assert_int_eq(reports[0].misuse, LR_MISUSE_UNLOCK_NOT_LOCKED);
}
END_TEST

/* t takes rw in lockrace's view, for reading or writing, at site */
static void rw_held_by(lr_thread *t, pthread_rwlock_t *rw, int shared, uintptr_t site)
{
    current_site = site;
    lr_lock *l = lr_lock_get((uintptr_t)rw, LR_RWLOCK);
    lr_held_push(t, l, l->id, l->addr, unit_site_stack(), LR_BLOCKING, shared);
    current_site = 0x7000;
}

START_TEST(rwlock_asked_again_by_its_writer)
{
    pthread_rwlock_t rw = PTHREAD_RWLOCK_INITIALIZER;
    lr_thread *t = thread_with_tid(my_tid());
    pthread_rwlock_wrlock(&rw);                     /* glibc: __cur_writer is this thread */
    rw_held_by(t, &rw, 0, 0x7a00);
    ck_assert_int_eq(pthread_rwlock_rdlock(&rw), EDEADLK);
    lr_misuse_rwlock_relock(t, &rw);
    ck_assert_int_eq(nreports, 1);
    ck_assert_int_eq(reports[0].kind, LR_REPORT_MISUSE);
    ck_assert_int_eq(reports[0].misuse, LR_MISUSE_RWLOCK_RELOCK);
    ck_assert_uint_eq(reports[0].lock, (uintptr_t)&rw);
    uintptr_t site = 0x7a00;
    ck_assert_uint_eq(reports[0].earlier_thread, t->info->id);
    ck_assert_uint_eq(reports[0].earlier_stack, lr_stack_intern(&site, 1));
    pthread_rwlock_unlock(&rw);
}
END_TEST

START_TEST(rwlock_read_twice_is_fine)
{
    pthread_rwlock_t rw = PTHREAD_RWLOCK_INITIALIZER;
    lr_thread *t = thread_with_tid(my_tid());
    pthread_rwlock_rdlock(&rw);
    rw_held_by(t, &rw, 1, 0x7a00);
    ck_assert_int_eq(pthread_rwlock_rdlock(&rw), 0);
    lr_misuse_rwlock_relock(t, &rw);                /* not its writer: says nothing */
    ck_assert_int_eq(nreports, 0);
    pthread_rwlock_unlock(&rw);
    pthread_rwlock_unlock(&rw);
}
END_TEST

START_TEST(condition_wait_without_the_mutex)
{
    pthread_mutex_t m = PTHREAD_MUTEX_INITIALIZER;
    pthread_cond_t c = PTHREAD_COND_INITIALIZER;
    lr_thread *t = thread_with_tid(my_tid());
    lr_misuse_cond_wait(t, &c, &m);
    ck_assert_int_eq(nreports, 1);
    ck_assert_int_eq(reports[0].misuse, LR_MISUSE_COND_UNHELD);
    pthread_mutex_lock(&m);
    current_site = 0x7500;
    lr_misuse_cond_wait(t, &c, &m);
    ck_assert_int_eq(nreports, 1);
    pthread_mutex_unlock(&m);
}
END_TEST

START_TEST(thread_ending_with_a_lock)
{
    pthread_mutex_t m = PTHREAD_MUTEX_INITIALIZER;
    lr_thread *t = thread_with_tid(my_tid());
    lr_misuse_thread_end(t, 1);
    ck_assert_int_eq(nreports, 0);
    held_by(t, &m, 0x7600);
    lr_misuse_thread_end(t, 1);
    ck_assert_int_eq(nreports, 1);
    ck_assert_int_eq(reports[0].misuse, LR_MISUSE_EXIT_HOLDING);
    ck_assert_uint_eq(reports[0].lock, (uintptr_t)&m);
}
END_TEST

START_TEST(barrier_of_zero)
{
    pthread_barrier_t b;
    lr_thread *t = thread_with_tid(my_tid());
    lr_misuse_barrier_init(t, &b, 1);
    ck_assert_int_eq(nreports, 0);
    lr_misuse_barrier_init(t, &b, 0);
    ck_assert_int_eq(nreports, 1);
    ck_assert_int_eq(reports[0].misuse, LR_MISUSE_BARRIER_ZERO);
}
END_TEST

START_TEST(semaphore_calls_that_fail)
{
    sem_t s;
    lr_thread *t = thread_with_tid(my_tid());
    lr_misuse_sem_init_failed(t, &s, 5, ENOSYS);             /* not a misuse: no report */
    lr_misuse_sem_post_failed(t, &s, EINVAL);
    ck_assert_int_eq(nreports, 0);
    lr_misuse_sem_init_failed(t, &s, (unsigned)SEM_VALUE_MAX + 1, EINVAL);
    current_site = 0x7100;
    lr_misuse_sem_post_failed(t, &s, EOVERFLOW);
    ck_assert_int_eq(nreports, 2);
    ck_assert_int_eq(reports[0].misuse, LR_MISUSE_SEM_INIT_INVALID);
    ck_assert_int_eq(reports[1].misuse, LR_MISUSE_SEM_OVERFLOW);
}
END_TEST

START_TEST(semaphore_bytes_that_cannot_be_one)
{
    sem_t good, garbage, odd_flag;
    lr_thread *t = thread_with_tid(my_tid());
    sem_init(&good, 0, 3);
    lr_misuse_sem_init(t, &good);
    lr_misuse_sem_use(t, &good);
    sem_t shared;
    sem_init(&shared, 1, SEM_VALUE_MAX);                     /* bytes lockrace never saw made: fine */
    lr_misuse_sem_use(t, &shared);
    ck_assert_int_eq(nreports, 0);
    memset(&garbage, 0xff, sizeof garbage);
    lr_misuse_sem_use(t, &garbage);
    ck_assert_int_eq(nreports, 1);
    ck_assert_int_eq(reports[0].misuse, LR_MISUSE_SEM_INVALID);
    ck_assert_int_eq(reports[0].nthreads, 1);
    memset(&odd_flag, 0, sizeof odd_flag);
    ((int *)(void *)&odd_flag)[2] = 7;                       /* private: neither 0 nor 128 */
    current_site = 0x7100;
    lr_misuse_sem_use(t, &odd_flag);
    ck_assert_int_eq(nreports, 2);
    /* seen initialised, then overwritten: not claimed never initialised */
    memset(&good, 0xff, sizeof good);
    current_site = 0x7200;
    lr_misuse_sem_use(t, &good);
    ck_assert_int_eq(nreports, 2);
}
END_TEST

START_TEST(semaphore_posted_after_destroy)
{
    sem_t s;
    lr_thread *t = thread_with_tid(my_tid()), *u = thread_with_tid(my_tid());
    sem_init(&s, 0, 0);
    lr_misuse_sem_init(t, &s);
    current_site = 0x7100;
    lr_misuse_sem_destroyed(t, &s, 1);
    current_site = 0x7000;
    lr_misuse_sem_use(u, &s);                                /* the post */
    ck_assert_int_eq(nreports, 1);
    ck_assert_int_eq(reports[0].misuse, LR_MISUSE_SEM_DESTROYED);
    ck_assert_uint_eq(reports[0].earlier_thread, t->info->id);
    uintptr_t where = 0x7100;
    ck_assert_uint_eq(reports[0].earlier_stack, lr_stack_intern(&where, 1));
    lr_misuse_sem_init(t, &s);                               /* initialised again: fine */
    current_site = 0x7300;
    lr_misuse_sem_use(u, &s);
    ck_assert_int_eq(nreports, 1);
}
END_TEST

/* A condition destroyed while a thread waits on it unsignalled: the
 * destroy would wait forever, and the runtime is told so (to end the
 * process as for a deadlock); one whose waiters were woken is fine. */
START_TEST(condition_destroyed_under_its_waiter_is_a_hang)
{
    pthread_cond_t c = PTHREAD_COND_INITIALIZER;
    lr_thread *destroyer = thread_with_tid(my_tid()), *waiter = thread_with_tid(my_tid() + 1);
    ck_assert_int_eq(lr_misuse_cond_destroy(destroyer, &c), 0);     /* no waiters */
    c.__data.__wrefs = 8;                                           /* one waiter, in glibc's bytes */
    waiter->info->wait = (lr_wait){ .object = (uintptr_t)&c, .seq = 1, .stack = 0 };
    __atomic_store_n(&waiter->info->wait.kind, LR_WAIT_COND, __ATOMIC_RELEASE);
    ck_assert_int_eq(lr_misuse_cond_destroy(destroyer, &c), 1);
    ck_assert_int_eq(nreports, 1);
    ck_assert_int_eq(reports[0].misuse, LR_MISUSE_COND_DESTROY_WAITED);
    ck_assert_uint_eq(reports[0].earlier_thread, waiter->info->id);
    waiter->info->wait.bounded = 1;                                 /* a timed wait ends by itself */
    current_site = 0x7100;
    ck_assert_int_eq(lr_misuse_cond_destroy(destroyer, &c), 0);
    ck_assert_int_eq(nreports, 1);
}
END_TEST

/* Two waits on one condition with two mutexes that start at the same
 * moment: each publishes, then looks, so each sees the other; one report. */
START_TEST(condition_waited_with_two_mutexes_at_the_same_moment)
{
    pthread_mutex_t ma = PTHREAD_MUTEX_INITIALIZER, mb = PTHREAD_MUTEX_INITIALIZER;
    pthread_cond_t c = PTHREAD_COND_INITIALIZER;
    lr_thread *a = thread_with_tid(my_tid()), *b = thread_with_tid(my_tid() + 1);
    held_by(a, &ma, 0x7100);
    held_by(b, &mb, 0x7200);
    for (int round = 0; round < 2; round++) {
        lr_wait_begin(a->info, LR_WAIT_COND, (uintptr_t)&c, lr_lock_find((uintptr_t)&ma), 0, 0);
        lr_wait_begin(b->info, LR_WAIT_COND, (uintptr_t)&c, lr_lock_find((uintptr_t)&mb), 0, 0);
        current_site = 0x7300 + 0x100 * (uintptr_t)round;
        lr_misuse_cond_waiting(a, &c, &ma);
        current_site = 0x7800 + 0x100 * (uintptr_t)round;
        lr_misuse_cond_waiting(b, &c, &mb);
        ck_assert_int_eq(nreports, round + 1);                  /* one per pair of waits */
        ck_assert_int_eq(reports[round].misuse, LR_MISUSE_COND_TWO_MUTEXES);
        ck_assert_uint_eq(reports[round].earlier_thread, b->info->id);
        lr_wait_end(a->info);
        lr_wait_end(b->info);
    }
}
END_TEST

/* Every condition wait asks which other threads wait on it: the threads
 * that run now, not every thread the process ever had. 5,000 threads that
 * came and went one after another leave one state to look at, and a
 * second mutex on the condition is still seen. */
static void come_and_go(void)
{
    lr_thread *t = lr_thread_new_synthetic();
    t->exit_rounds = PTHREAD_DESTRUCTOR_ITERATIONS - 1;
    lr_thread_exit(t);
}

START_TEST(a_wait_asks_the_running_threads_not_every_thread_there_was)
{
    pthread_mutex_t ma = PTHREAD_MUTEX_INITIALIZER, mb = PTHREAD_MUTEX_INITIALIZER;
    pthread_cond_t c = PTHREAD_COND_INITIALIZER;
    lr_thread *a = thread_with_tid(my_tid());
    for (int i = 0; i < 5000; i++)
        come_and_go();
    lr_thread *b = thread_with_tid(my_tid() + 1);
    come_and_go();
    ck_assert_uint_ge(lr_thread_count(), 5000);
    int steps = 0, seen_a = 0, seen_b = 0;
    lr_thread_walk walk = lr_thread_walk_start();
    for (lr_thread_info *t; (t = lr_thread_walk_next(&walk));) {
        steps++;
        seen_a += t == a->info;
        seen_b += t == b->info;
    }
    ck_assert_int_eq(seen_a, 1);
    ck_assert_int_eq(seen_b, 1);
    ck_assert_int_le(steps, 4);         /* a, b and the states the ended threads had */
    ck_assert_ptr_eq(lr_thread_info_by_tid(my_tid() + 1), b->info);
    held_by(a, &ma, 0x7100);
    held_by(b, &mb, 0x7200);
    lr_wait_begin(a->info, LR_WAIT_COND, (uintptr_t)&c, lr_lock_find((uintptr_t)&ma), 0, 0);
    lr_wait_begin(b->info, LR_WAIT_COND, (uintptr_t)&c, lr_lock_find((uintptr_t)&mb), 0, 0);
    current_site = 0x7300;
    lr_misuse_cond_waiting(b, &c, &mb);
    ck_assert_int_eq(nreports, 1);
    ck_assert_int_eq(reports[0].misuse, LR_MISUSE_COND_TWO_MUTEXES);
    ck_assert_uint_eq(reports[0].earlier_thread, a->info->id);
}
END_TEST

/* Whether any other thread runs or is about to (a Python Lock's holder
 * waiting on it may be released by one), asked at every Condition
 * notify: threads that ended long ago are not looked at, a thread created
 * and not started yet counts, and one whose creation failed does not. */
START_TEST(other_threads_run_or_are_about_to)
{
    lr_thread *a = lr_thread_new_synthetic();
    for (int i = 0; i < 5000; i++)
        come_and_go();
    ck_assert_int_eq(lr_thread_others_run(a->info), 0);
    lr_thread_info *failed = lr_thread_prepare_child(a);
    ck_assert_int_eq(lr_thread_others_run(a->info), 1);
    lr_thread_create_failed(failed);
    ck_assert_int_eq(lr_thread_others_run(a->info), 0);
    lr_thread_prepare_child(a);
    ck_assert_int_eq(lr_thread_others_run(a->info), 1);
    lr_thread *b = lr_thread_new_synthetic();   /* it starts: it has its state, then arrives */
    lr_thread_arrived();
    ck_assert_int_eq(lr_thread_others_run(a->info), 1);
    ck_assert_int_eq(lr_thread_others_run(b->info), 1);
    __atomic_store_n(&b->info->finished, 1, __ATOMIC_RELEASE);
    ck_assert_int_eq(lr_thread_others_run(a->info), 0);
}
END_TEST

START_TEST(each_call_site_is_reported_once)
{
    pthread_mutex_t m = PTHREAD_MUTEX_INITIALIZER;
    lr_thread *t = thread_with_tid(my_tid());
    for (int i = 0; i < 3; i++)
        lr_misuse_mutex_unlock(t, &m);
    current_site = 0x7700;
    lr_misuse_mutex_unlock(t, &m);
    ck_assert_int_eq(nreports, 2);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("misuse");
    TCase *tc = tcase_create("checks");
    tcase_add_checked_fixture(tc, setup, NULL);
    tcase_add_test(tc, unlock_of_an_unlocked_mutex);
    tcase_add_test(tc, unlock_of_a_mutex_lockrace_did_not_see_taken_is_fine);
    tcase_add_test(tc, unlock_of_a_mutex_another_thread_holds);
    tcase_add_test(tc, relock_of_an_error_checking_mutex);
    tcase_add_test(tc, destroy_of_a_locked_mutex);
    tcase_add_test(tc, lock_of_a_destroyed_mutex_says_where_it_was_destroyed);
    tcase_add_test(tc, destroy_after_a_double_unlock_is_not_destroy_locked);
    tcase_add_test(tc, lock_of_bytes_that_look_destroyed_claims_no_destroy);
    tcase_add_test(tc, init_is_reinit_only_of_a_mutex_a_thread_holds);
    tcase_add_test(tc, init_over_a_locked_mutex_whose_memory_may_have_gone);
    tcase_add_test(tc, main_ending_with_a_lock);
    tcase_add_test(tc, init_again_without_destroy);
    tcase_add_test(tc, init_after_destroy_or_on_reused_memory_is_fine);
    tcase_add_test(tc, rwlock_unlock_when_not_locked);
    tcase_add_test(tc, rwlock_asked_again_by_its_writer);
    tcase_add_test(tc, rwlock_read_twice_is_fine);
    tcase_add_test(tc, condition_wait_without_the_mutex);
    tcase_add_test(tc, thread_ending_with_a_lock);
    tcase_add_test(tc, barrier_of_zero);
    tcase_add_test(tc, semaphore_calls_that_fail);
    tcase_add_test(tc, semaphore_bytes_that_cannot_be_one);
    tcase_add_test(tc, semaphore_posted_after_destroy);
    tcase_add_test(tc, condition_destroyed_under_its_waiter_is_a_hang);
    tcase_add_test(tc, condition_waited_with_two_mutexes_at_the_same_moment);
    tcase_add_test(tc, a_wait_asks_the_running_threads_not_every_thread_there_was);
    tcase_add_test(tc, other_threads_run_or_are_about_to);
    tcase_add_test(tc, each_call_site_is_reported_once);
    suite_add_tcase(s, tc);
    return s;
}

LR_UNIT_MAIN(suite)
