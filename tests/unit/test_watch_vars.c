/* Which watched variable an address is in (src/watch/vars.c): decoding
 * asks it for every instruction, so it is a binary search, and it must
 * give what the walk over all variables gave: the lowest-numbered variable
 * that overlaps, members and ranges overlapping each other included. */
#include "watch/internal.h"

#include "unit.h"

#include <check.h>

static int add(uintptr_t lo, uintptr_t hi, uintptr_t sym_lo, uintptr_t sym_hi)
{
    watch_var *v = lr_watch_new_var();
    ck_assert_ptr_nonnull(v);
    v->lo = lo;
    v->hi = hi;
    v->sym_lo = sym_lo;
    v->sym_hi = sym_hi;
    return lr_watch_nvars++;
}

/* the walk the index replaced */
static int walk_var_at(uintptr_t a, uintptr_t size)
{
    for (int i = 0; i < lr_watch_nvars; i++)
        if (a < lr_watch_vars[i].hi && a + size > lr_watch_vars[i].lo)
            return i;
    return -1;
}

static int walk_symbol_at(uintptr_t a)
{
    for (int i = 0; i < lr_watch_nvars; i++)
        if (a >= lr_watch_vars[i].sym_lo && a < lr_watch_vars[i].sym_hi)
            return i;
    return -1;
}

START_TEST(members_of_one_struct_and_a_range_inside_a_bigger_one)
{
    add(0x1008, 0x1010, 0x1000, 0x1040);    /* stats.misses */
    add(0x1000, 0x1008, 0x1000, 0x1040);    /* stats.hits */
    add(0x2000, 0x3000, 0x2000, 0x3000);    /* a big array */
    add(0x2100, 0x2108, 0x2000, 0x3000);    /* an element of it, named after */
    add(0x4000, 0x4004, 0x4000, 0x4004);
    ck_assert_int_eq(lr_watch_index(), 0);
    ck_assert_int_eq(lr_watch_var_at(0x1000, 8), 1);
    ck_assert_int_eq(lr_watch_var_at(0x1004, 8), 0);   /* both: the lowest number */
    ck_assert_int_eq(lr_watch_var_at(0x1010, 8), -1);  /* in the struct, in no member */
    ck_assert_int_eq(lr_watch_var_at(0x2100, 8), 2);
    ck_assert_int_eq(lr_watch_var_at(0x2ff8, 8), 2);
    ck_assert_int_eq(lr_watch_var_at(0x3ffc, 8), 4);     /* its last bytes reach the next */
    ck_assert_int_eq(lr_watch_var_at(0x4004, 1), -1);
    ck_assert_int_eq(lr_watch_symbol_at(0x1030), 0);
    ck_assert_int_eq(lr_watch_symbol_at(0x2100), 2);
    ck_assert_int_eq(lr_watch_symbol_at(0x1040), -1);
    ck_assert_int_eq(lr_watch_symbol_at(0xfff), -1);
}
END_TEST

/* Many variables, some overlapping, looked up everywhere: the same answers
 * as the walk. */
START_TEST(the_index_answers_as_the_walk)
{
    uint32_t seed = 12345;
    for (int i = 0; i < 2000; i++) {
        seed = seed * 1103515245 + 12345;
        uintptr_t lo = 0x10000 + (seed >> 8) % 0x8000, size = 1 + (seed >> 4) % (i % 50 ? 16 : 600);
        add(lo, lo + size, lo - (seed % 3) * 8, lo + size + (seed % 5) * 8);
    }
    ck_assert_int_eq(lr_watch_index(), 0);
    for (uintptr_t a = 0xffe0; a < 0x18400; a += 3) {
        ck_assert_int_eq(lr_watch_var_at(a, 8), walk_var_at(a, 8));
        ck_assert_int_eq(lr_watch_var_at(a, 1), walk_var_at(a, 1));
        ck_assert_int_eq(lr_watch_symbol_at(a), walk_symbol_at(a));
        /* on an access (a callee's copy), the same after the bounds */
        ck_assert_int_eq(lr_watch_var_running(a, 8), walk_var_at(a, 8));
    }
    ck_assert_int_eq(lr_watch_var_running(0x1000, 8), -1);
    ck_assert_int_eq(lr_watch_var_running(UINTPTR_MAX - 4, 4), -1);
}
END_TEST

/* NAME->MEMBER: no static address, so out of the index and its bounds;
 * found by its pointer's address (decoding) and, on an access, where the
 * pointer points then. */
static uintptr_t meter;         /* the pointer variable */

static int add_through(uintptr_t off, uintptr_t len)
{
    watch_var *v = lr_watch_new_var();
    ck_assert_ptr_nonnull(v);
    v->through = (uintptr_t)&meter;
    v->off = off;
    v->len = len;
    return lr_watch_nvars++;
}

START_TEST(a_member_through_a_pointer_is_where_the_pointer_points)
{
    add(0x1000, 0x1008, 0x1000, 0x1008);
    int misses = add_through(8, 8), ticks = add_through(0, 8);
    ck_assert_int_eq(lr_watch_index(), 0);
    ck_assert_int_eq(lr_watch_var_at(0, 8), -1);        /* lo = hi = 0: not in the index */
    ck_assert_int_eq(lr_watch_symbol_at(0), -1);
    uintptr_t lo, hi;
    lr_watch_bounds(&lo, &hi);
    ck_assert(lo == 0 && hi == UINTPTR_MAX);            /* its object may be anywhere */
    ck_assert_int_eq(lr_watch_through_var((uintptr_t)&meter), misses);
    ck_assert_int_eq(lr_watch_through_var((uintptr_t)&meter + 8), -1);
    ck_assert_int_eq(lr_watch_through_at((uintptr_t)&meter, 0, 8), ticks);
    ck_assert_int_eq(lr_watch_through_at((uintptr_t)&meter, 12, 4), misses);
    ck_assert_int_eq(lr_watch_through_at((uintptr_t)&meter, 16, 8), -1);   /* the next element */
    ck_assert_int_eq(lr_watch_through_at((uintptr_t)&meter, -8, 8), -1);
    meter = 0x50000;
    ck_assert_int_eq(lr_watch_var_running(0x50000, 8), ticks);
    ck_assert_int_eq(lr_watch_var_running(0x50008, 8), misses);
    ck_assert_int_eq(lr_watch_var_running(0x50010, 8), -1);
    ck_assert_int_eq(lr_watch_var_running(0x1000, 8), 0);
    meter = 0x60000;                                    /* replaced: the old object is not it */
    ck_assert_int_eq(lr_watch_var_running(0x50000, 8), -1);
    ck_assert_int_eq(lr_watch_var_running(0x60004, 4), ticks);
    ck_assert_int_eq(lr_watch_var_running(0x60004, 8), misses);       /* both: the lowest number */
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("watch_vars");
    TCase *tc = tcase_create("index");
    tcase_add_test(tc, members_of_one_struct_and_a_range_inside_a_bigger_one);
    tcase_add_test(tc, the_index_answers_as_the_walk);
    tcase_add_test(tc, a_member_through_a_pointer_is_where_the_pointer_points);
    suite_add_tcase(s, tc);
    return s;
}

LR_UNIT_MAIN(suite)
