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

/* ThreadSanitizer's types: a substring unless anchored, for the lockrace
 * kinds each stands for; lockrace's kinds take the anchors too. */
START_TEST(tsan_types_and_anchors)
{
    lr_suppress_reset();
    static const char text[] = "race:counter\ndeadlock:^audit_\nmutex:both$\nthread:x\nsignal:y\n"
                               "called_from_lib:libvendor\nrace_top:top_fn\nmisuse:^whole$\n";
    ck_assert_int_eq(lr_suppress_parse("tsan.supp", text, sizeof text - 1), 0);
    ck_assert(lr_suppress_match("data-race", "my_counter_var"));
    ck_assert(lr_suppress_match("lost-update", "counter"));
    ck_assert(!lr_suppress_match("misuse", "counter"));
    ck_assert(lr_suppress_match("lock-order-inversion", "audit_both"));
    ck_assert(lr_suppress_match("deadlock", "audit_both"));
    ck_assert(!lr_suppress_match("lock-order-inversion", "pre_audit_both"));
    ck_assert(lr_suppress_match("misuse", "update_both"));
    ck_assert(!lr_suppress_match("misuse", "both_ways"));
    ck_assert(lr_suppress_match("misuse", "whole"));
    ck_assert(!lr_suppress_match("misuse", "wholesale"));
    /* a library, only as a frame's module */
    ck_assert(!lr_suppress_match("deadlock", "libvendor.so.1"));
    ck_assert(lr_suppress_match_frame("deadlock", "f", "a.c", "/usr/lib/libvendor.so.1", 0));
    ck_assert(!lr_suppress_match_frame("deadlock", "f", "a.c", "/usr/bin/prog", 0));
    /* race_top: the first frame only */
    ck_assert(lr_suppress_match_frame("data-race", "top_fn", "a.c", "prog", 1));
    ck_assert(!lr_suppress_match_frame("data-race", "top_fn", "a.c", "prog", 0));
    lr_suppress_reset();
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("suppress");
    TCase *tc = tcase_create("glob");
    tcase_add_test(tc, glob_matches_like_the_sanitizers);
    tcase_add_test(tc, parses_a_file_from_memory);
    tcase_add_test(tc, tsan_types_and_anchors);
    suite_add_tcase(s, tc);
    return s;
}

LR_UNIT_MAIN(suite)
