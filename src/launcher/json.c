/* Recursive descent over RFC 8259 JSON, nesting limited so that a
 * malformed line cannot exhaust the stack. */
#include "launcher/json.h"

#include <stdlib.h>
#include <string.h>

enum { MAX_DEPTH = 64 };

typedef struct parser {
    const char *p;
} parser;

static lr_json *value(parser *ps, int depth);

static void skip_space(parser *ps)
{
    while (*ps->p == ' ' || *ps->p == '\t' || *ps->p == '\n' || *ps->p == '\r')
        ps->p++;
}

static lr_json *make(lr_json_type type)
{
    lr_json *v = calloc(1, sizeof *v);
    if (v)
        v->type = type;
    return v;
}

static int hex4(const char *p, unsigned *out)
{
    *out = 0;
    for (int i = 0; i < 4; i++) {
        char c = p[i];
        int d = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10
                : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
        if (d < 0)
            return -1;
        *out = *out * 16 + (unsigned)d;
    }
    return 0;
}

static size_t put_utf8(char *out, unsigned cp)
{
    if (cp < 0x80) {
        out[0] = (char)cp;
        return 1;
    }
    if (cp < 0x800) {
        out[0] = (char)(0xc0 | cp >> 6);
        out[1] = (char)(0x80 | (cp & 0x3f));
        return 2;
    }
    if (cp < 0x10000) {
        out[0] = (char)(0xe0 | cp >> 12);
        out[1] = (char)(0x80 | (cp >> 6 & 0x3f));
        out[2] = (char)(0x80 | (cp & 0x3f));
        return 3;
    }
    out[0] = (char)(0xf0 | cp >> 18);
    out[1] = (char)(0x80 | (cp >> 12 & 0x3f));
    out[2] = (char)(0x80 | (cp >> 6 & 0x3f));
    out[3] = (char)(0x80 | (cp & 0x3f));
    return 4;
}

/* \uXXXX, and the low half of a surrogate pair when this is the high one;
 * a lone surrogate becomes U+FFFD. p is just past the 'u'. */
static const char *unicode_escape(const char *p, unsigned *cp)
{
    if (hex4(p, cp) < 0)
        return NULL;
    p += 4;
    if (*cp >= 0xd800 && *cp <= 0xdbff) {
        unsigned low;
        if (p[0] == '\\' && p[1] == 'u' && hex4(p + 2, &low) == 0 && low >= 0xdc00 && low <= 0xdfff) {
            *cp = 0x10000 + ((*cp - 0xd800) << 10) + (low - 0xdc00);
            return p + 6;
        }
        *cp = 0xfffd;
    } else if (*cp >= 0xdc00 && *cp <= 0xdfff) {
        *cp = 0xfffd;
    }
    return p;
}

/* ps->p is at the opening quote. Decoded text is never longer than the
 * escaped one, so the copy is sized by the length of the source. */
static char *string(parser *ps)
{
    const char *end = ps->p + 1;
    while (*end && *end != '"')
        end += *end == '\\' && end[1] ? 2 : 1;
    if (*end != '"')
        return NULL;
    char *out = malloc((size_t)(end - ps->p)), *o = out;
    if (!out)
        return NULL;
    const char *p = ps->p + 1;
    while (p < end) {
        if ((unsigned char)*p < 0x20)
            goto bad;
        if (*p != '\\') {
            *o++ = *p++;
            continue;
        }
        p++;
        static const char from[] = "\"\\/bfnrt", to[] = "\"\\/\b\f\n\r\t";
        const char *e = *p ? strchr(from, *p) : NULL;
        if (e) {
            *o++ = to[e - from];
            p++;
        } else if (*p == 'u') {
            unsigned cp;
            p = unicode_escape(p + 1, &cp);
            if (!p || cp == 0)
                goto bad;
            o += put_utf8(o, cp);
        } else {
            goto bad;
        }
    }
    *o = 0;
    ps->p = end + 1;
    return out;
bad:
    free(out);
    return NULL;
}

static lr_json *number(parser *ps)
{
    const char *p = ps->p, *start = p;
    if (*p == '-')
        p++;
    if (*p == '0')
        p++;
    else if (*p >= '1' && *p <= '9')
        while (*p >= '0' && *p <= '9')
            p++;
    else
        return NULL;
    if (*p == '.') {
        if (!(*++p >= '0' && *p <= '9'))
            return NULL;
        while (*p >= '0' && *p <= '9')
            p++;
    }
    if (*p == 'e' || *p == 'E') {
        p++;
        if (*p == '+' || *p == '-')
            p++;
        if (!(*p >= '0' && *p <= '9'))
            return NULL;
        while (*p >= '0' && *p <= '9')
            p++;
    }
    lr_json *v = make(LR_JSON_NUMBER);
    if (v)
        v->number = strtod(start, NULL);
    ps->p = p;
    return v;
}

/* Elements of an array (close ']') or members of an object (close '}'). */
static lr_json *elements(parser *ps, lr_json_type type, char close, int depth)
{
    lr_json *v = make(type), **tail = v ? &v->child : NULL;
    if (!v)
        return NULL;
    ps->p++;
    skip_space(ps);
    if (*ps->p == close) {
        ps->p++;
        return v;
    }
    for (;;) {
        char *key = NULL;
        skip_space(ps);
        if (type == LR_JSON_OBJECT) {
            if (*ps->p != '"' || !(key = string(ps)))
                goto bad;
            skip_space(ps);
            if (*ps->p != ':') {
                free(key);
                goto bad;
            }
            ps->p++;
        }
        lr_json *e = value(ps, depth + 1);
        if (!e) {
            free(key);
            goto bad;
        }
        e->key = key;
        *tail = e;
        tail = &e->next;
        v->n++;
        skip_space(ps);
        if (*ps->p == ',') {
            ps->p++;
            continue;
        }
        if (*ps->p != close)
            goto bad; /* without moving: the end of the text may be here */
        ps->p++;
        return v;
    }
bad:
    lr_json_free(v);
    return NULL;
}

static lr_json *word(parser *ps, const char *w, lr_json_type type, int boolean)
{
    size_t n = strlen(w);
    if (strncmp(ps->p, w, n) != 0)
        return NULL;
    ps->p += n;
    lr_json *v = make(type);
    if (v)
        v->boolean = boolean;
    return v;
}

static lr_json *value(parser *ps, int depth)
{
    if (depth > MAX_DEPTH)
        return NULL;
    skip_space(ps);
    switch (*ps->p) {
    case '{':
        return elements(ps, LR_JSON_OBJECT, '}', depth);
    case '[':
        return elements(ps, LR_JSON_ARRAY, ']', depth);
    case '"': {
        char *s = string(ps);
        lr_json *v = s ? make(LR_JSON_STRING) : NULL;
        if (v)
            v->string = s;
        else
            free(s);
        return v;
    }
    case 't':
        return word(ps, "true", LR_JSON_BOOL, 1);
    case 'f':
        return word(ps, "false", LR_JSON_BOOL, 0);
    case 'n':
        return word(ps, "null", LR_JSON_NULL, 0);
    default:
        return number(ps);
    }
}

lr_json *lr_json_parse(const char *text)
{
    parser ps = { text };
    lr_json *v = value(&ps, 0);
    skip_space(&ps);
    if (v && *ps.p) {
        lr_json_free(v);
        return NULL;
    }
    return v;
}

void lr_json_free(lr_json *v)
{
    while (v) {
        lr_json *next = v->next;
        lr_json_free(v->child);
        free(v->string);
        free(v->key);
        free(v);
        v = next;
    }
}

const lr_json *lr_json_get(const lr_json *v, const char *key)
{
    if (!v || v->type != LR_JSON_OBJECT)
        return NULL;
    for (const lr_json *e = v->child; e; e = e->next)
        if (!strcmp(e->key, key))
            return e;
    return NULL;
}

const lr_json *lr_json_at(const lr_json *v, size_t i)
{
    if (!v || (v->type != LR_JSON_ARRAY && v->type != LR_JSON_OBJECT))
        return NULL;
    const lr_json *e = v->child;
    while (e && i--)
        e = e->next;
    return e;
}

const char *lr_json_str(const lr_json *v, const char *fallback)
{
    return v && v->type == LR_JSON_STRING ? v->string : fallback;
}

long lr_json_long(const lr_json *v, long fallback)
{
    /* -2^63 <= n < 2^63, whole: what a long holds (a cast of any other
     * double is undefined) */
    if (!v || v->type != LR_JSON_NUMBER || !(v->number >= -0x1p63 && v->number < 0x1p63) ||
        v->number != (double)(long)v->number)
        return fallback;
    return (long)v->number;
}

double lr_json_num(const lr_json *v, double fallback)
{
    return v && v->type == LR_JSON_NUMBER ? v->number : fallback;
}
