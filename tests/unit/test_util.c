/* JSON strings: escaped, and always valid UTF-8 whatever bytes a command
 * line or a file name holds. Input shown back in messages: one line, cut.
 * Options: parsed from strings of any size, and written back. Stacks
 * shared from the thread that unwound them keep its frames and say whose. */
#include "support/options.h"
#include "support/stack.h"
#include "support/util.h"
#include "unit.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

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

START_TEST(shown_escapes_and_cuts)
{
    char out[16];
    ck_assert_str_eq(lr_shown(out, sizeof out, "plain", 5), "plain");
    ck_assert_str_eq(lr_shown(out, sizeof out, "a\nb\x1b", 4), "a\\nb\\x1b");
    ck_assert_str_eq(lr_shown(out, sizeof out, "caf\xc3\xa9\xff", 6), "caf\xc3\xa9\\xff");
    ck_assert_str_eq(lr_shown(out, sizeof out, "abcdefghijklmnopqrstuvwxyz", 26), "abcdefgh...");
    ck_assert_str_eq(lr_shown(out, sizeof out, "abcdef", 3), "abc");      /* a word of a longer string */
    ck_assert_str_eq(lr_shown(out, sizeof out, "\xc3\xa9", 1), "\\xc3");   /* a character cut there */
}
END_TEST

START_TEST(utf8_trim_drops_only_a_cut_character)
{
    char s[32];
    strcpy(s, "caf\xc3\xa9");            /* whole: kept */
    lr_utf8_trim(s);
    ck_assert_str_eq(s, "caf\xc3\xa9");
    strcpy(s, "\xe5\xb7\xa5\xe4\xbd");   /* 工 then two bytes of 作 */
    lr_utf8_trim(s);
    ck_assert_str_eq(s, "\xe5\xb7\xa5");
    strcpy(s, "ab\xf0\x9f\x94");          /* three of four bytes */
    lr_utf8_trim(s);
    ck_assert_str_eq(s, "ab");
    strcpy(s, "stray \x80\x80\x80\x80");   /* no lead byte: not a cut character, left as it is */
    lr_utf8_trim(s);
    ck_assert_str_eq(s, "stray \x80\x80\x80\x80");
    strcpy(s, "");
    lr_utf8_trim(s);
    ck_assert_str_eq(s, "");
}
END_TEST

/* what lr_write_text writes of in[0, len), read back through a pipe */
static void expect_text(const char *in, size_t len, const char *out)
{
    int p[2];
    ck_assert_int_eq(pipe(p), 0);
    ck_assert_int_eq(lr_write_text(p[1], in, len), 0);
    close(p[1]);
    static char got[65536];
    size_t n = 0;
    ssize_t r;
    while ((r = read(p[0], got + n, sizeof got - 1 - n)) > 0)
        n += (size_t)r;
    close(p[0]);
    got[n] = 0;
    ck_assert_str_eq(got, out);
}

#define EXPECT_TEXT(in, out) expect_text(in, sizeof in - 1, out)

START_TEST(text_escapes_what_a_terminal_acts_on)
{
    EXPECT_TEXT("plain\nlines\n", "plain\nlines\n");
    EXPECT_TEXT("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x94\x92", "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x94\x92");
    EXPECT_TEXT("\033]0;pwned\007", "\\x1b]0;pwned\\x07");
    EXPECT_TEXT("tab\tcr\rdel\x7f", "tab\\x09cr\\x0ddel\\x7f");
    EXPECT_TEXT("csi\xc2\x9b" "2J nbsp\xc2\xa0", "csi\\xc2\\x9b2J nbsp\xc2\xa0");   /* C1, not U+00A0 */
    EXPECT_TEXT("latin1 \xe9t\xe9", "latin1 \\xe9t\\xe9");
    expect_text("cut \xe2\x82\xac", 6, "cut \\xe2\\x82");     /* cut by len, not by a NUL */
}
END_TEST

/* escapes past the stack buffer's size are written in several pieces,
 * none lost or cut inside an escape */
START_TEST(text_longer_than_the_buffer)
{
    enum { N = 3000 };
    static char in[N], out[2 * N + 1];
    char *o = out;
    for (size_t i = 0; i < N; i++) {
        in[i] = i % 3 ? 'a' : '\033';
        o = stpcpy(o, i % 3 ? "a" : "\\x1b");
    }
    expect_text(in, N, out);
}
END_TEST

/* a megabyte of settings: parsed in one pass, the last one wins */
START_TEST(options_of_a_megabyte)
{
    enum { SIZE = 1 << 20 };
    char *s = malloc(SIZE + 1), err[512];
    size_t n = 0;
    while (n + 12 <= SIZE)
        n += (size_t)sprintf(s + n, "verbosity=%d:", (int)(n / 12 % 3));
    lr_options o;
    lr_options_defaults(&o);
    ck_assert_int_eq(lr_options_parse(&o, s, err, sizeof err), 0);
    ck_assert_int_eq(o.verbosity, (int)((n / 12 - 1) % 3));
    memset(s, 'x', SIZE);           /* one word, no '=' */
    s[SIZE] = 0;
    ck_assert_int_eq(lr_options_parse(&o, s, err, sizeof err), -1);
    ck_assert_msg(strlen(err) < 200 && strstr(err, "is not key=value"), "%s", err);
    memcpy(s, "json=", 5);          /* one value of a megabyte */
    ck_assert_int_eq(lr_options_parse(&o, s, err, sizeof err), -1);
    ck_assert_msg(strstr(err, "longer than 255 characters"), "%s", err);
    free(s);
}
END_TEST

START_TEST(options_written_back)
{
    lr_options o, back;
    char err[512];
    lr_options_defaults(&o);
    ck_assert_int_eq(lr_options_parse(&o, "exitcode=3:file_mode=0640:deadlock=report:watch=stats+8:8:"
                                          "single_thread_cycles=no", err, sizeof err), 0);
    lr_buf b = { 0 };
    lr_options_format(&o, &b);
    ck_assert_str_eq(b.data, "exitcode=3:file_mode=0640:watch=stats+8:8:single_thread_cycles=0:deadlock=report");
    lr_options_defaults(&back);
    ck_assert_int_eq(lr_options_parse(&back, b.data, err, sizeof err), 0);
    ck_assert_int_eq(memcmp(&o, &back, sizeof o), 0);
    lr_buf_free(&b);
}
END_TEST

START_TEST(stack_shared_from_a_thread)
{
    uintptr_t pcs[] = { 0x1010, 0x2020, 0x3030 };
    lr_stack_id plain = lr_stack_intern(pcs, 3);
    ck_assert_uint_ne(plain, 0);
    uint32_t thread = 99;
    lr_stack_id same = 0;
    ck_assert_int_eq(lr_stack_origin(plain, &thread, &same), 0);

    lr_stack_id shared = lr_stack_shared_from(plain, 7);
    ck_assert_uint_ne(shared, plain);
    ck_assert_uint_eq(lr_stack_shared_from(plain, 7), shared);      /* interned once */
    ck_assert_uint_ne(lr_stack_shared_from(plain, 8), shared);      /* per thread */
    ck_assert_uint_eq(lr_stack_shared_from(shared, 8), shared);     /* keeps its thread */
    ck_assert_int_eq(lr_stack_origin(shared, &thread, &same), 1);
    ck_assert_uint_eq(thread, 7);
    ck_assert_uint_eq(same, plain);

    const uintptr_t *frames;
    ck_assert_int_eq(lr_stack_frames(shared, &frames), 3);
    ck_assert_uint_eq(frames[0], 0x1010);
    ck_assert_uint_eq(frames[2], 0x3030);
    ck_assert_uint_eq(lr_stack_shared_from(0, 7), 0);
    ck_assert_uint_eq(lr_stack_intern(pcs, 3), plain);              /* the plain one is unchanged */
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("util");
    TCase *tc = tcase_create("json");
    tcase_add_test(tc, json_string_escapes);
    tcase_add_test(tc, json_string_keeps_utf8_and_replaces_the_rest);
    tcase_add_test(tc, utf8_len_of_each_form);
    tcase_add_test(tc, shown_escapes_and_cuts);
    tcase_add_test(tc, utf8_trim_drops_only_a_cut_character);
    tcase_add_test(tc, text_escapes_what_a_terminal_acts_on);
    tcase_add_test(tc, text_longer_than_the_buffer);
    suite_add_tcase(s, tc);
    tc = tcase_create("options");
    tcase_add_test(tc, options_of_a_megabyte);
    tcase_add_test(tc, options_written_back);
    suite_add_tcase(s, tc);
    tc = tcase_create("stacks");
    tcase_add_test(tc, stack_shared_from_a_thread);
    suite_add_tcase(s, tc);
    return s;
}

LR_UNIT_MAIN(suite)
