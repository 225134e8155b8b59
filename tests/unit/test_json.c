/* The launcher's JSON reader: what lockrace writes reads back, and what is
 * not JSON is refused rather than half read. */
#include "launcher/json.h"
#include "unit.h"

#include <check.h>
#include <string.h>

START_TEST(reads_a_report_line)
{
    lr_json *v = lr_json_parse("{\"lockrace\":1,\"kind\":\"deadlock\",\"pid\":4242,"
                               "\"locks\":[{\"name\":\"lock_a\"},{\"id\":2}],\"ok\":true,\"x\":null}\n");
    ck_assert_ptr_nonnull(v);
    ck_assert_int_eq(v->type, LR_JSON_OBJECT);
    ck_assert_uint_eq(v->n, 6);
    ck_assert_str_eq(lr_json_str(lr_json_get(v, "kind"), ""), "deadlock");
    ck_assert_int_eq(lr_json_long(lr_json_get(v, "pid"), 0), 4242);
    const lr_json *locks = lr_json_get(v, "locks");
    ck_assert_uint_eq(locks->n, 2);
    ck_assert_str_eq(lr_json_str(lr_json_get(lr_json_at(locks, 0), "name"), ""), "lock_a");
    ck_assert_ptr_null(lr_json_get(lr_json_at(locks, 1), "name"));
    ck_assert_ptr_null(lr_json_at(locks, 2));
    ck_assert_int_eq(lr_json_get(v, "ok")->boolean, 1);
    ck_assert_int_eq(lr_json_get(v, "x")->type, LR_JSON_NULL);
    ck_assert_str_eq(lr_json_str(lr_json_get(v, "pid"), "not a string"), "not a string");
    lr_json_free(v);
}
END_TEST

START_TEST(decodes_strings)
{
    lr_json *v = lr_json_parse("[\"a\\\"b\\\\c\\/d\\n\", \"\\u00e9\\u20ac\", \"\\ud83d\\udd12\", \"\\ud800x\", \"caf\xc3\xa9\"]");
    ck_assert_ptr_nonnull(v);
    ck_assert_str_eq(lr_json_at(v, 0)->string, "a\"b\\c/d\n");
    ck_assert_str_eq(lr_json_at(v, 1)->string, "\xc3\xa9\xe2\x82\xac");
    ck_assert_str_eq(lr_json_at(v, 2)->string, "\xf0\x9f\x94\x92");
    ck_assert_str_eq(lr_json_at(v, 3)->string, "\xef\xbf\xbdx");     /* a lone surrogate */
    ck_assert_str_eq(lr_json_at(v, 4)->string, "caf\xc3\xa9");
    lr_json_free(v);
}
END_TEST

START_TEST(reads_numbers)
{
    lr_json *v = lr_json_parse(" [0, -12, 3.5, 1e3, -0.25E-2] ");
    ck_assert_ptr_nonnull(v);
    ck_assert_int_eq(lr_json_long(lr_json_at(v, 1), 0), -12);
    ck_assert(lr_json_at(v, 2)->number == 3.5);
    ck_assert(lr_json_at(v, 3)->number == 1000);
    ck_assert(lr_json_at(v, 4)->number == -0.0025);
    lr_json_free(v);
    /* a whole number a long can hold, or the fallback (a pid of 26E96 in a
     * damaged file must not be undefined behaviour) */
    v = lr_json_parse("[26E96, -1e300, 9223372036854775808, 4.5, 42]");
    ck_assert_ptr_nonnull(v);
    for (int i = 0; i < 4; i++)
        ck_assert_int_eq(lr_json_long(lr_json_at(v, (size_t)i), -7), -7);
    ck_assert_int_eq(lr_json_long(lr_json_at(v, 4), -7), 42);
    lr_json_free(v);
}
END_TEST

START_TEST(refuses_what_is_not_json)
{
    static const char *bad[] = { "", "{", "{\"a\":1", "{\"a\" 1}", "{\"a\":1,}", "[1,]", "[01]", "[1.]",
                                 "[-]", "\"open", "\"bad \\x escape\"", "\"\\u12\"", "\"\\u0000\"",
                                 "\"raw\ttab\"", "tru", "nul", "{} {}", "{a:1}", "[1] x", "{\"k\":}" };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        ck_assert_msg(lr_json_parse(bad[i]) == NULL, "parsed %s", bad[i]);
    /* a line cut by a killed process */
    ck_assert_ptr_null(lr_json_parse("{\"lockrace\":1,\"kind\":\"data-race\",\"sum"));
}
END_TEST

START_TEST(nesting_is_bounded)
{
    char deep[401];
    memset(deep, '[', 200);
    memset(deep + 200, ']', 200);
    deep[400] = 0;
    ck_assert_ptr_null(lr_json_parse(deep));
    lr_json *v = lr_json_parse("[[[[[[[[[[1]]]]]]]]]]");
    ck_assert_ptr_nonnull(v);
    lr_json_free(v);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("json");
    TCase *tc = tcase_create("parse");
    tcase_add_test(tc, reads_a_report_line);
    tcase_add_test(tc, decodes_strings);
    tcase_add_test(tc, reads_numbers);
    tcase_add_test(tc, refuses_what_is_not_json);
    tcase_add_test(tc, nesting_is_bounded);
    suite_add_tcase(s, tc);
    return s;
}

LR_UNIT_MAIN(suite)
