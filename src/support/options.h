/* Options: parsed from LOCKRACE_OPTIONS="key=value:key=value" or from the
 * launcher's flags, both through the table in options.def. */
#ifndef LR_OPTIONS_H
#define LR_OPTIONS_H

#include <stddef.h>

typedef struct lr_options {
#define LR_OPT(name, type, def, min, max, help) LR_OPT_FIELD_##type(name)
#define LR_OPT_FIELD_BOOL(name) int name;
#define LR_OPT_FIELD_INT(name) int name;
#define LR_OPT_FIELD_MODE(name) int name;
#define LR_OPT_FIELD_PATH(name) char name[256];
#define LR_OPT_FIELD_CHOICE(name) int name;
#include "support/options.def"
#undef LR_OPT
} lr_options;

/* The words of CHOICE options, in the order options.def lists them. */
enum { LR_DEADLOCK_ABORT, LR_DEADLOCK_REPORT, LR_DEADLOCK_OFF };

extern lr_options lr_opt;

void lr_options_defaults(lr_options *o);

/* Parses one "key=value" setting; on error writes a one-line message naming
 * the key or value and what is accepted, and returns -1. */
int lr_options_set(lr_options *o, const char *key, size_t keylen, const char *value,
                   char *err, size_t errlen);

/* 1 when key names a BOOL option, 0 another option, -1 none ('-' and '_'
 * alike, as lr_options_set reads keys). */
int lr_options_is_bool(const char *key, size_t keylen);

/* The options' names, ", " between, as the error for an unknown one lists them. */
void lr_options_accepted(char *buf, size_t len);

/* Parses a whole "key=value:key=value" string (':', ',' or white space
 * between, as in TSAN_OPTIONS). */
int lr_options_parse(lr_options *o, const char *s, char *err, size_t errlen);
/* 1 when the ':' or ',' at c (inside a setting's value, or a "::") is
 * part of the value rather than a separator, as lr_options_parse reads it. */
int lr_options_value_continues(const char *c);

/* The settings of o that differ from the defaults, as "key=value:key=value"
 * appended to b (lr_options_parse reads them back). */
struct lr_buf;
void lr_options_format(const lr_options *o, struct lr_buf *b);

/* Writes the option table as --help text, as the README's markdown table,
 * or as the OPTIONS entries of the lockrace(1) man page (roff). */
enum { LR_DESCRIBE_TEXT, LR_DESCRIBE_MARKDOWN, LR_DESCRIBE_MAN };
void lr_options_describe(int fd, int format);

#endif
