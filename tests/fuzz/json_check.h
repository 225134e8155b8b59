/* The fuzz targets' oracle for JSON: a strict RFC 8259 checker written
 * apart from lockrace's own reader (src/launcher/json.c), so that the two cannot
 * share a mistake. Text must be valid UTF-8 and \u escapes must make whole
 * code points (a lone surrogate is refused). */
#ifndef LR_FUZZ_JSON_CHECK_H
#define LR_FUZZ_JSON_CHECK_H

#include <stddef.h>

/* Called with every string value and member name, decoded to UTF-8. */
typedef void (*json_string_fn)(const char *s, size_t len, void *arg);

/* 0 when text[0..len) is exactly one JSON value with optional whitespace
 * around it; else -1 and *where is the offset of the first bad byte. */
int json_check(const char *text, size_t len, json_string_fn each, void *arg, size_t *where);

/* The UTF-8 sequence at s[0..len): its length (1 to 4) when it is one
 * well-formed character (Unicode 15, table 3-7), else 0. */
size_t utf8_char(const unsigned char *s, size_t len);

#endif
