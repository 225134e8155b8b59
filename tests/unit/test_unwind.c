/* The fast walk of support/unwind.c against libgcc's own: through frames
 * of every shape this file and libc make (rbp-based frames at -O0, frames
 * that alloca moves, libc's qsort and bsearch built with rsp-based CFAs),
 * the two give the same return addresses, and the fast walk says when it
 * cannot follow a frame instead of guessing. */
#include "support/unwind.h"

#include "unit.h"

#include <alloca.h>
#include <check.h>
#include <dlfcn.h>
#include <stdlib.h>
#include <string.h>
#include <unwind.h>

#define FRAMES 64

typedef struct walk {
    void **out;
    int max, n;
} walk;

static _Unwind_Reason_Code step(struct _Unwind_Context *context, void *arg)
{
    walk *w = arg;
    if (w->n >= 0)
        w->out[w->n] = (void *)_Unwind_GetIP(context);
    return ++w->n == w->max ? _URC_END_OF_STACK : _URC_NO_REASON;
}

/* As support/stack.c walks with libgcc: its own frame left out. */
static __attribute__((noinline)) int by_libgcc(void **out, int max)
{
    walk w = { out, max, -1 };
    _Unwind_Backtrace(step, &w);
    if (w.n > 1 && out[w.n - 1] == NULL)
        w.n--;
    return w.n > 0 ? w.n : 0;
}

static int keep_frames = FRAMES;

static int compared, unfollowed;

/* Both walks from here; out[0] is each one's return address into this
 * function, the rest must be the same. */
static __attribute__((noinline)) void compare_here(void)
{
    void *a[FRAMES], *b[FRAMES];
    lr_unwind_limits limits = { FRAMES, keep_frames, 0, 0, NULL };
    int n = by_libgcc(a, FRAMES);
    int m = lr_unwind_fast(b, &limits);
    if (m < 0) {
        unfollowed++;
        return;
    }
    /* the same frames, to the end of the stack or to keep_frames */
    ck_assert(m == n || (m == keep_frames && n > m));
    ck_assert_int_gt(m, 3);
    ck_assert(!memcmp(a + 1, b + 1, (size_t)(m - 1) * sizeof *a));
    compared++;
}

static volatile int sink;

static __attribute__((noinline)) void dig(int depth);

static __attribute__((noinline)) void dig_alloca(int depth)
{
    volatile char *room = alloca(64 + (size_t)depth * 24);   /* the frame moves rsp: CFA from rbp */
    room[0] = (char)depth;
    dig(depth - 1);
    sink += room[0];
}

static __attribute__((noinline)) void dig_big(int depth)
{
    volatile char room[5000];
    room[depth] = 1;
    dig(depth - 1);
    sink += room[depth];
}

static int by_value(const void *x, const void *y)
{
    compare_here();
    return *(const int *)x - *(const int *)y;
}

static __attribute__((noinline)) void dig_libc(int depth)
{
    int v[3] = { 3, 1, 2 }, key = 2;
    qsort(v, 3, sizeof *v, by_value);           /* libc's frames, rsp-based */
    bsearch(&key, v, 3, sizeof *v, by_value);
    dig(depth - 1);
}

static __attribute__((noinline)) void dig(int depth)
{
    if (depth <= 0) {
        compare_here();
        return;
    }
    switch (depth % 3) {
    case 0: dig_alloca(depth); break;
    case 1: dig_big(depth); break;
    default: dig_libc(depth); break;
    }
    compare_here();
}

START_TEST(the_fast_walk_gives_libgcc_s_frames)
{
    lr_unwind_init((const void *(*)(void *, void *))dlsym(RTLD_DEFAULT, "_Unwind_Find_FDE"));
    keep_frames = 24;           /* the walk ends before this test's callers */
    for (int depth = 0; depth < 12; depth++)
        dig(depth);
    ck_assert_int_gt(compared, 50);
    ck_assert_int_eq(unfollowed, 0);
}
END_TEST

/* A whole walk reaches the end of the stack (_start, or the thread's
 * start in libc): the walk ends there as libgcc's does, or leaves the
 * stack to libgcc, never running past it. */
START_TEST(a_walk_to_the_end_of_the_stack)
{
    lr_unwind_init((const void *(*)(void *, void *))dlsym(RTLD_DEFAULT, "_Unwind_Find_FDE"));
    keep_frames = FRAMES;
    dig(4);
    ck_assert_int_gt(compared + unfollowed, 0);
}
END_TEST

/* Without libgcc's FDE search there is no fast walk. */
START_TEST(no_fde_search_no_fast_walk)
{
    lr_unwind_init(NULL);
    void *out[FRAMES];
    lr_unwind_limits limits = { FRAMES, FRAMES, 0, 0, NULL };
    ck_assert_int_eq(lr_unwind_fast(out, &limits), -1);
}
END_TEST

static Suite *unwind_suite(void)
{
    Suite *s = suite_create("unwind");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, the_fast_walk_gives_libgcc_s_frames);
    tcase_add_test(tc, a_walk_to_the_end_of_the_stack);
    tcase_add_test(tc, no_fde_search_no_fast_walk);
    suite_add_tcase(s, tc);
    return s;
}

LR_UNIT_MAIN(unwind_suite)
