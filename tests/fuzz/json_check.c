/* A strict JSON checker for the fuzz targets (json_check.h): a recursive
 * descent over RFC 8259's grammar, decoding every string into a scratch
 * buffer so that a target can compare it with what it gave the writer. */
#include "json_check.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

enum { MAX_DEPTH = 64 };

typedef struct cursor {
    const unsigned char *p, *end, *start;
    json_string_fn each;
    void *arg;
    char *out;                  /* the string being decoded */
    size_t out_len, out_cap;
} cursor;

static int value(cursor *c, int depth);

size_t utf8_char(const unsigned char *s, size_t len)
{
    if (len == 0)
        return 0;
    uint32_t cp;
    size_t n;
    if (s[0] < 0x80)
        return 1;
    else if ((s[0] & 0xe0) == 0xc0)
        cp = s[0] & 0x1f, n = 2;
    else if ((s[0] & 0xf0) == 0xe0)
        cp = s[0] & 0x0f, n = 3;
    else if ((s[0] & 0xf8) == 0xf0)
        cp = s[0] & 0x07, n = 4;
    else
        return 0;
    if (len < n)
        return 0;
    for (size_t i = 1; i < n; i++) {
        if ((s[i] & 0xc0) != 0x80)
            return 0;
        cp = cp << 6 | (s[i] & 0x3f);
    }
    static const uint32_t least[] = { 0, 0, 0x80, 0x800, 0x10000 };
    if (cp < least[n] || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
        return 0;
    return n;
}

static void ws(cursor *c)
{
    while (c->p < c->end && (*c->p == ' ' || *c->p == '\t' || *c->p == '\n' || *c->p == '\r'))
        c->p++;
}

static void put(cursor *c, const void *bytes, size_t n)
{
    if (c->out_len + n > c->out_cap) {
        c->out_cap = (c->out_len + n) * 2 + 64;
        c->out = realloc(c->out, c->out_cap);
        if (!c->out)
            abort();
    }
    memcpy(c->out + c->out_len, bytes, n);
    c->out_len += n;
}

static void put_code_point(cursor *c, uint32_t cp)
{
    unsigned char b[4];
    size_t n;
    if (cp < 0x80)
        b[0] = (unsigned char)cp, n = 1;
    else if (cp < 0x800)
        b[0] = (unsigned char)(0xc0 | cp >> 6), b[1] = (unsigned char)(0x80 | (cp & 0x3f)), n = 2;
    else if (cp < 0x10000)
        b[0] = (unsigned char)(0xe0 | cp >> 12), b[1] = (unsigned char)(0x80 | (cp >> 6 & 0x3f)),
        b[2] = (unsigned char)(0x80 | (cp & 0x3f)), n = 3;
    else
        b[0] = (unsigned char)(0xf0 | cp >> 18), b[1] = (unsigned char)(0x80 | (cp >> 12 & 0x3f)),
        b[2] = (unsigned char)(0x80 | (cp >> 6 & 0x3f)), b[3] = (unsigned char)(0x80 | (cp & 0x3f)), n = 4;
    put(c, b, n);
}

static int hex4(cursor *c, uint32_t *out)
{
    if (c->end - c->p < 4)
        return -1;
    uint32_t v = 0;
    for (int i = 0; i < 4; i++) {
        unsigned char h = *c->p++;
        int d = h >= '0' && h <= '9' ? h - '0' : h >= 'a' && h <= 'f' ? h - 'a' + 10
                : h >= 'A' && h <= 'F' ? h - 'A' + 10 : -1;
        if (d < 0)
            return -1;
        v = v << 4 | (uint32_t)d;
    }
    *out = v;
    return 0;
}

static int string(cursor *c)
{
    if (c->p >= c->end || *c->p != '"')
        return -1;
    c->p++;
    c->out_len = 0;
    for (;;) {
        if (c->p >= c->end)
            return -1;
        unsigned char ch = *c->p;
        if (ch == '"') {
            c->p++;
            break;
        }
        if (ch < 0x20)
            return -1;
        if (ch != '\\') {
            size_t n = utf8_char(c->p, (size_t)(c->end - c->p));
            if (n == 0)
                return -1;
            put(c, c->p, n);
            c->p += n;
            continue;
        }
        if (++c->p >= c->end)
            return -1;
        static const char from[] = "\"\\/bfnrt", to[] = "\"\\/\b\f\n\r\t";
        const char *e = memchr(from, *c->p, sizeof from - 1);
        if (e) {
            put(c, &to[e - from], 1);
            c->p++;
            continue;
        }
        if (*c->p++ != 'u')
            return -1;
        uint32_t cp, low;
        if (hex4(c, &cp) < 0 || (cp >= 0xdc00 && cp <= 0xdfff))
            return -1;
        if (cp >= 0xd800 && cp <= 0xdbff) {
            if (c->end - c->p < 2 || c->p[0] != '\\' || c->p[1] != 'u')
                return -1;
            c->p += 2;
            if (hex4(c, &low) < 0 || low < 0xdc00 || low > 0xdfff)
                return -1;
            cp = 0x10000 + ((cp - 0xd800) << 10) + (low - 0xdc00);
        }
        put_code_point(c, cp);
    }
    if (c->each) {
        put(c, "", 1);
        c->each(c->out, c->out_len - 1, c->arg);
    }
    return 0;
}

static int digits(cursor *c)
{
    const unsigned char *from = c->p;
    while (c->p < c->end && *c->p >= '0' && *c->p <= '9')
        c->p++;
    return c->p > from ? 0 : -1;
}

static int number(cursor *c)
{
    if (c->p < c->end && *c->p == '-')
        c->p++;
    if (c->p < c->end && *c->p == '0')
        c->p++;
    else if (digits(c) < 0)
        return -1;
    if (c->p < c->end && *c->p == '.') {
        c->p++;
        if (digits(c) < 0)
            return -1;
    }
    if (c->p < c->end && (*c->p == 'e' || *c->p == 'E')) {
        c->p++;
        if (c->p < c->end && (*c->p == '+' || *c->p == '-'))
            c->p++;
        if (digits(c) < 0)
            return -1;
    }
    return 0;
}

static int word(cursor *c, const char *w)
{
    size_t n = strlen(w);
    if ((size_t)(c->end - c->p) < n || memcmp(c->p, w, n) != 0)
        return -1;
    c->p += n;
    return 0;
}

/* the elements of an array or the members of an object, after its '[' or '{' */
static int elements(cursor *c, int depth, char close, int members)
{
    ws(c);
    if (c->p < c->end && *c->p == close) {
        c->p++;
        return 0;
    }
    for (;;) {
        ws(c);
        if (members) {
            if (string(c) < 0)
                return -1;
            ws(c);
            if (c->p >= c->end || *c->p++ != ':')
                return -1;
        }
        if (value(c, depth + 1) < 0)
            return -1;
        ws(c);
        if (c->p >= c->end)
            return -1;
        unsigned char next = *c->p++;
        if (next == close)
            return 0;
        if (next != ',')
            return -1;
    }
}

static int value(cursor *c, int depth)
{
    if (depth > MAX_DEPTH)
        return -1;
    ws(c);
    if (c->p >= c->end)
        return -1;
    switch (*c->p) {
    case '{': c->p++; return elements(c, depth, '}', 1);
    case '[': c->p++; return elements(c, depth, ']', 0);
    case '"': return string(c);
    case 't': return word(c, "true");
    case 'f': return word(c, "false");
    case 'n': return word(c, "null");
    default: return number(c);
    }
}

int json_check(const char *text, size_t len, json_string_fn each, void *arg, size_t *where)
{
    cursor c = { .p = (const unsigned char *)text, .end = (const unsigned char *)text + len,
                 .start = (const unsigned char *)text, .each = each, .arg = arg };
    int rc = value(&c, 0);
    if (rc == 0) {
        ws(&c);
        if (c.p != c.end)
            rc = -1;
    }
    if (where)
        *where = (size_t)(c.p - c.start);
    free(c.out);
    return rc;
}
