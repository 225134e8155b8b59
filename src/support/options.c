/* Option parsing and description, all driven by options.def. */
#include "support/options.h"
#include "support/util.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

lr_options lr_opt;

enum { LR_BOOL, LR_INT, LR_MODE, LR_PATH, LR_CHOICE };

typedef struct option_desc {
    const char *name;
    int type;
    const char *def;
    long min, max;
    const char *choices;
    const char *help;
    size_t offset;
} option_desc;

/* INT options give a number as max, CHOICE options a string */
#define LR_MAX_INT(max) _Generic((max), char *: 0, default: (max))
#define LR_MAX_CHOICES(max) _Generic((max), char *: (max), default: "")

static const option_desc table[] = {
#define LR_OPT(name, type, def, min, max, help) \
    { #name, LR_##type, def, min, LR_MAX_INT(max), LR_MAX_CHOICES(max), help, \
      offsetof(lr_options, name) },
#include "support/options.def"
#undef LR_OPT
};

#define NOPTS (sizeof table / sizeof table[0])

static const option_desc *find(const char *key, size_t len)
{
    for (size_t i = 0; i < NOPTS; i++) {
        const char *n = table[i].name;
        size_t j = 0;
        /* launcher flags spell '_' as '-' */
        for (; j < len && n[j]; j++)
            if (n[j] != key[j] && !(n[j] == '_' && key[j] == '-'))
                break;
        if (j == len && n[j] == 0)
            return &table[i];
    }
    return NULL;
}

void lr_options_accepted(char *buf, size_t len)
{
    size_t used = 0;
    buf[0] = 0;
    for (size_t i = 0; i < NOPTS && used < len; i++)
        used += snprintf(buf + used, len - used, "%s%s", i ? ", " : "", table[i].name);
}

static int parse_bool(const char *v, int *out)
{
    static const char *yes[] = { "1", "true", "yes", "on" }, *no[] = { "0", "false", "no", "off" };
    for (int i = 0; i < 4; i++) {
        if (!strcmp(v, yes[i])) { *out = 1; return 0; }
        if (!strcmp(v, no[i])) { *out = 0; return 0; }
    }
    return -1;
}

static int parse_int(const char *v, int base, long min, long max, int *out)
{
    char *end;
    /* digits only: strtol would also take leading blanks, a '+' or "0x" */
    if (!((*v >= '0' && *v <= '9') || (*v == '-' && base == 10 && v[1] >= '0' && v[1] <= '9')))
        return -1;
    errno = 0;
    long n = strtol(v, &end, base);
    if (*end || errno || n < min || n > max)
        return -1;
    *out = (int)n;
    return 0;
}

int lr_options_is_bool(const char *key, size_t keylen)
{
    const option_desc *d = find(key, keylen);
    return d ? d->type == LR_BOOL : -1;
}

int lr_options_set(lr_options *o, const char *key, size_t keylen, const char *value,
                   char *err, size_t errlen)
{
    const option_desc *d = find(key, keylen);
    char shown[80];
    if (!d) {
        char keys[512];
        lr_options_accepted(keys, sizeof keys);
        snprintf(err, errlen, "unknown option '%s' (accepted: %s)", lr_shown(shown, sizeof shown, key, keylen),
                 keys);
        return -1;
    }
    lr_shown(shown, sizeof shown, value, strlen(value));
    void *field = (char *)o + d->offset;
    switch (d->type) {
    case LR_BOOL:
        if (parse_bool(value, field) == 0)
            return 0;
        snprintf(err, errlen, "%s=%s: not a boolean (accepted: 0, 1, true, false, yes, no, on, off)",
                 d->name, shown);
        return -1;
    case LR_INT:
        if (parse_int(value, 10, d->min, d->max, field) == 0)
            return 0;
        snprintf(err, errlen, "%s=%s: not a whole number from %ld to %ld", d->name, shown,
                 d->min, d->max);
        return -1;
    case LR_MODE:
        if (parse_int(value, 8, d->min, d->max, field) == 0)
            return 0;
        snprintf(err, errlen, "%s=%s: not an octal file mode from 0 to %#lo (such as 0600 or 0644)",
                 d->name, shown, d->max);
        return -1;
    case LR_CHOICE: {
        int index = 0;
        for (const char *c = d->choices; *c; index++) {
            size_t n = strcspn(c, "|");
            if (strlen(value) == n && !strncmp(c, value, n)) {
                *(int *)field = index;
                return 0;
            }
            c += n + (c[n] == '|');
        }
        char accepted[128];
        snprintf(accepted, sizeof accepted, "%s", d->choices);
        for (char *p = accepted; *p; p++)
            if (*p == '|')
                *p = '/';
        snprintf(err, errlen, "%s=%s: not one of %s", d->name, shown, accepted);
        return -1;
    }
    default:
        if (strlen(value) >= sizeof o->log_path) {
            snprintf(err, errlen, "%s=%s: longer than %zu characters", d->name,
                     lr_shown(shown, 48, value, sizeof o->log_path), sizeof o->log_path - 1);
            return -1;
        }
        strcpy(field, value);
        return 0;
    }
}

void lr_options_defaults(lr_options *o)
{
    char err[128];
    memset(o, 0, sizeof *o);
    for (size_t i = 0; i < NOPTS; i++)
        lr_options_set(o, table[i].name, strlen(table[i].name), table[i].def, err, sizeof err);
}

/* Settings are separated by ':', ',' or white space, as ThreadSanitizer's
 * are. A ':' or ',' belongs to the value when what follows it, up to the
 * next separator, is not a new "key=" and, for ':', starts with a digit or
 * is the second half of C++'s "::": watch=counter,stats+8:8 and
 * watch=stats::hits are one setting each, exitcode=7,verbosity=0 two. */
#define SEPARATORS ":, \t\n\r"

int lr_options_value_continues(const char *c)
{
    int scope = c[0] == ':' && c[1] == ':';
    if (scope)
        c++;                    /* judged by what follows the pair */
    size_t next = strcspn(c + 1, SEPARATORS);
    if (next == 0 || memchr(c + 1, '=', next))
        return 0;
    return scope || *c == ',' || (c[1] >= '0' && c[1] <= '9');
}

int lr_options_parse(lr_options *o, const char *s, char *err, size_t errlen)
{
    while (*s) {
        s += strspn(s, SEPARATORS);
        if (!*s)
            break;
        size_t len = strcspn(s, SEPARATORS);
        while ((s[len] == ':' || s[len] == ',') && lr_options_value_continues(s + len)) {
            size_t sep = s[len] == ':' && s[len + 1] == ':' ? 2 : 1;   /* "::" as one */
            len += sep + strcspn(s + len + sep, SEPARATORS);
        }
        const char *eq = memchr(s, '=', len);
        if (!eq) {
            char shown[80];
            snprintf(err, errlen, "'%s' is not key=value (LOCKRACE_OPTIONS is key=value settings "
                     "separated by ':', ',' or spaces)", lr_shown(shown, sizeof shown, s, len));
            return -1;
        }
        char value[sizeof o->log_path + 1];
        size_t vlen = len - (size_t)(eq + 1 - s);
        if (vlen >= sizeof value)
            vlen = sizeof value - 1;
        memcpy(value, eq + 1, vlen);
        value[vlen] = 0;
        if (lr_options_set(o, s, (size_t)(eq - s), value, err, errlen) < 0)
            return -1;
        s += len;
    }
    return 0;
}

void lr_options_format(const lr_options *o, lr_buf *b)
{
    lr_options defaults;
    lr_options_defaults(&defaults);
    for (size_t i = 0; i < NOPTS; i++) {
        const option_desc *d = &table[i];
        const void *field = (const char *)o + d->offset;
        if (!memcmp(field, (const char *)&defaults + d->offset,
                    d->type == LR_PATH ? strlen(field) + 1 : sizeof(int)))
            continue;
        lr_buf_printf(b, "%s%s=", b->len ? ":" : "", d->name);
        if (d->type == LR_PATH) {
            lr_buf_puts(b, field);
            continue;
        }
        int n = *(const int *)field;
        if (d->type == LR_MODE) {
            lr_buf_printf(b, "%#o", n);
        } else if (d->type == LR_CHOICE) {
            const char *c = d->choices;
            for (int k = 0; k < n; k++)
                c += strcspn(c, "|") + 1;
            lr_buf_printf(b, "%.*s", (int)strcspn(c, "|"), c);
        } else {
            lr_buf_printf(b, "%d", n);
        }
    }
}

static const char *type_name(const option_desc *d)
{
    return d->type == LR_BOOL ? "bool" : d->type == LR_INT ? "int" : d->type == LR_MODE ? "octal" :
           d->type == LR_CHOICE ? "choice" : "path";
}

/* Help text as roff: a backslash is roff's escape character, and a line
 * that starts with '.' or '\'' would be read as a request. */
static void roff_text(char *out, size_t len, const char *s)
{
    size_t j = 0;
    if (*s == '.' || *s == '\'')
        j = (size_t)snprintf(out, len, "\\&");
    for (; *s && j + 3 < len; s++) {
        out[j++] = *s;
        if (*s == '\\')
            out[j++] = 'e';
    }
    out[j] = 0;
}

void lr_options_describe(int fd, int format)
{
    char line[1024];
    if (format == LR_DESCRIBE_MARKDOWN)
        lr_write_str(fd, "| option | type | default | meaning |\n|---|---|---|---|\n");
    for (size_t i = 0; i < NOPTS; i++) {
        const option_desc *d = &table[i];
        char range[48] = "";
        if (d->type == LR_INT)
            snprintf(range, sizeof range, " (%ld..%ld)", d->min, d->max);
        if (d->type == LR_MODE)
            snprintf(range, sizeof range, " (0..%#lo)", d->max);
        if (d->type == LR_CHOICE) {
            snprintf(range, sizeof range, " (%s)", d->choices);
            for (char *p = range; *p; p++)
                if (*p == '|')
                    *p = '/';   /* '|' would split a markdown table cell */
        }
        int n;
        if (format == LR_DESCRIBE_MARKDOWN) {
            n = snprintf(line, sizeof line, "| `%s` | %s%s | `%s` | %s |\n", d->name,
                         type_name(d), range, *d->def ? d->def : "\"\"", d->help);
        } else if (format == LR_DESCRIBE_MAN) {
            char help[512];
            roff_text(help, sizeof help, d->help);
            n = snprintf(line, sizeof line, ".TP\n\\fB\\-\\-%s\\fR=\\fI%s\\fR%s, default %s%s%s\n%s\n",
                         d->name, type_name(d), range, *d->def ? "\\fB" : "",
                         *d->def ? d->def : "none", *d->def ? "\\fR" : "", help);
        } else {
            n = snprintf(line, sizeof line, "  %-22s %s%s, default '%s'\n  %-22s %s\n", d->name,
                         type_name(d), range, d->def, "", d->help);
        }
        lr_write_all(fd, line, (size_t)n < sizeof line ? (size_t)n : sizeof line - 1);
    }
}
