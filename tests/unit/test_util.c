/* JSON strings: escaped, and always valid UTF-8 whatever bytes a command
 * line or a file name holds. */
#include "util.h"
#include "unit.h"

#include <check.h>
#include <string.h>

static void expect_json(const char *in, const char *out)
{
    lr_buf b = { 0 };
    lr_buf_json_string(&b, in);
    ck_assert_str_eq(b.data, out);
    lr_buf_free(&b);
}

START_TEST(json_string_escapes)
{
    expect_json("plain", "\"plain\"");
    expect_json("", "\"\"");
    expect_json("a\"b\\c", "\"a\\\"b\\\\c\"");
    expect_json("tab\there\n", "\"tab\\u0009here\\u000a\"");
}
END_TEST

START_TEST(json_string_keeps_utf8_and_replaces_the_rest)
{
    expect_json("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x94\x92", "\"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x94\x92\"");
    expect_json("latin1 \xe9t\xe9", "\"latin1 \\ufffdt\\ufffd\"");
    expect_json("cut \xe2\x82", "\"cut \\ufffd\\ufffd\"");
    expect_json("overlong \xc0\xaf", "\"overlong \\ufffd\\ufffd\"");
    expect_json("surrogate \xed\xa0\x80", "\"surrogate \\ufffd\\ufffd\\ufffd\"");
}
END_TEST

START_TEST(utf8_len_of_each_form)
{
    ck_assert_uint_eq(lr_utf8_len("a"), 1);
    ck_assert_uint_eq(lr_utf8_len("\xc3\xa9"), 2);
    ck_assert_uint_eq(lr_utf8_len("\xe2\x82\xac"), 3);
    ck_assert_uint_eq(lr_utf8_len("\xf0\x9f\x94\x92"), 4);
    ck_assert_uint_eq(lr_utf8_len("\xf4\x90\x80\x80"), 0);   /* past U+10FFFF */
    ck_assert_uint_eq(lr_utf8_len("\x80"), 0);
    ck_assert_uint_eq(lr_utf8_len("\xe2"), 0);               /* cut by the end of the string */
}
END_TEST

START_TEST(printable_keeps_a_message_on_one_line)
{
    char buf[32];
    ck_assert_str_eq(lr_printable(buf, sizeof buf, "6\n6\t\r\x01\x7f", 7), "6\\n6\\t\\r\\x01\\x7f");
    ck_assert_str_eq(lr_printable(buf, sizeof buf, "plain", 3), "pla");
    ck_assert_str_eq(lr_printable(buf, 8, "abcdefghij", 10), "abcd...");
    ck_assert_str_eq(lr_printable(buf, 8, "abc", 3), "abc");
    ck_assert_str_eq(lr_printable(buf, 3, "abc", 3), "");
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("util");
    TCase *tc = tcase_create("json");
    tcase_add_test(tc, json_string_escapes);
    tcase_add_test(tc, json_string_keeps_utf8_and_replaces_the_rest);
    tcase_add_test(tc, utf8_len_of_each_form);
    tcase_add_test(tc, printable_keeps_a_message_on_one_line);
    suite_add_tcase(s, tc);
    return s;
}

LR_UNIT_MAIN(suite)
