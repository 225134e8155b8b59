/* Suppression patterns: '*' matches any run of characters, nothing else
 * is special. */
#include "report/suppress.h"
#include "unit.h"

#include <check.h>

START_TEST(glob_matches_like_the_sanitizers)
{
    ck_assert(lr_glob("audit_*", "audit_both"));
    ck_assert(lr_glob("*_both", "audit_both"));
    ck_assert(lr_glob("*", ""));
    ck_assert(lr_glob("a*b*c", "aXXbYYc"));
    ck_assert(lr_glob("a*b*c", "abc"));
    ck_assert(lr_glob("forks[2].lock", "forks[2].lock"));
    ck_assert(!lr_glob("audit_*", "update_both"));
    ck_assert(!lr_glob("a*b*c", "aXXbYY"));
    ck_assert(!lr_glob("abc", "abcd"));
    ck_assert(!lr_glob("", "x"));
    ck_assert(lr_glob("*.c", "demos/abba.c"));
    ck_assert(lr_glob("**x*", "yyx"));
}
END_TEST

START_TEST(parses_a_file_from_memory)
{
    static const char text[] = "# comment\n\n  lock-order-inversion : vendor_* \r\n*:third_party/*.c";
    ck_assert_int_eq(lr_suppress_parse("mem.supp", text, sizeof text - 1), 0);
    ck_assert(lr_suppress_any());
    ck_assert(lr_suppress_match("lock-order-inversion", "vendor_queue_push"));
    ck_assert(!lr_suppress_match("deadlock", "vendor_queue_push"));
    ck_assert(lr_suppress_match("deadlock", "third_party/q.c"));
    /* the text need not end in a NUL: its length is given */
    ck_assert_int_eq(lr_suppress_parse("mem.supp", "data-race:flagXXXX", 14), 0);
    ck_assert(lr_suppress_match("data-race", "flag"));
    ck_assert(!lr_suppress_match("data-race", "flagX"));
    ck_assert_int_eq(lr_suppress_parse("bad.supp", "deadlock:x\ndeadlok:y\n", 22), -1);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("suppress");
    TCase *tc = tcase_create("glob");
    tcase_add_test(tc, glob_matches_like_the_sanitizers);
    tcase_add_test(tc, parses_a_file_from_memory);
    suite_add_tcase(s, tc);
    return s;
}

LR_UNIT_MAIN(suite)
