/* Suppression patterns: '*' matches any run of characters, nothing else
 * is special. */
#include "suppress.h"
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

static Suite *suite(void)
{
    Suite *s = suite_create("suppress");
    TCase *tc = tcase_create("glob");
    tcase_add_test(tc, glob_matches_like_the_sanitizers);
    suite_add_tcase(s, tc);
    return s;
}

LR_UNIT_MAIN(suite)
