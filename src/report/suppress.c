/* Suppressions (suppress.h). Read once at start-up into lockrace's arena;
 * matched only when a report is printed. */
#include "report/suppress.h"
#include "support/arena.h"
#include "report/report.h"
#include "report/format.h"
#include "support/util.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

typedef struct rule {
    const char *kind;           /* a report kind's name, or "*" */
    const char *pattern;
    struct rule *next;
} rule;

static rule *rules;

int lr_glob(const char *p, const char *t)
{
    const char *star = NULL, *resume = NULL;
    while (*t) {
        if (*p == '*') {
            star = p++;
            resume = t;
        } else if (*p == *t) {
            p++;
            t++;
        } else if (star) {
            p = star + 1;
            t = ++resume;
        } else {
            return 0;
        }
    }
    while (*p == '*')
        p++;
    return *p == 0;
}

static int known_kind(const char *k)
{
    if (strcmp(k, "*") == 0)
        return 1;
    for (int i = 0; i < LR_REPORT_KINDS; i++)
        if (strcmp(k, lr_report_kind_name(i)) == 0)
            return 1;
    return 0;
}

static int bad(const char *path, int line, const char *what)
{
    char msg[900], shown[300], at[16] = "";
    if (line)
        snprintf(at, sizeof at, ":%d", line);
    snprintf(msg, sizeof msg, "lockrace: suppressions=%s%s: %s (expected KIND:PATTERN, KIND one of "
             "lock-order-inversion, deadlock, stall, data-race, lost-update, misuse, *)\n",
             lr_shown(shown, sizeof shown, path, strlen(path)), at, what);
    lr_write_str(2, msg);
    return -1;
}

static char *trim(char *s)
{
    while (*s == ' ' || *s == '\t')
        s++;
    char *e = s + strlen(s);
    while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r'))
        *--e = 0;
    return s;
}

static int parse_line(const char *path, int n, char *line)
{
    char *hash = strchr(line, '#');
    if (hash)
        *hash = 0;
    char *s = trim(line);
    if (!*s)
        return 0;
    char *colon = strchr(s, ':');
    if (!colon)
        return bad(path, n, "no ':'");
    *colon = 0;
    char *kind = trim(s), *pattern = trim(colon + 1);
    if (!known_kind(kind)) {
        char what[300], shown[200];
        snprintf(what, sizeof what, "unknown kind '%s'", lr_shown(shown, sizeof shown, kind, strlen(kind)));
        return bad(path, n, what);
    }
    if (!*pattern)
        return bad(path, n, "empty pattern");
    rule *r = lr_arena_alloc(sizeof *r);
    if (!r)
        return bad(path, n, "out of memory");
    r->kind = lr_arena_strdup(kind);
    r->pattern = lr_arena_strdup(pattern);
    r->next = rules;
    rules = r;
    return 0;
}

int lr_suppress_parse(const char *name, const char *data, size_t len)
{
    char line[1024];
    size_t used = 0;
    int n = 1;
    if (len >= 3 && !memcmp(data, "\xef\xbb\xbf", 3)) {    /* a UTF-8 byte-order mark */
        data += 3;
        len -= 3;
    }
    for (size_t i = 0; i <= len; i++) {
        unsigned char c = i < len ? (unsigned char)data[i] : 0;
        if (i < len && c < 0x20 && c != '\n' && c != '\t' && c != '\r') {
            char what[80];
            snprintf(what, sizeof what, "byte %#04x at column %zu: not a text file", c, used + 1);
            return bad(name, n, what);
        }
        if (i == len || data[i] == '\n') {
            line[used] = 0;
            if (parse_line(name, n++, line) < 0)
                return -1;
            used = 0;
        } else if (used + 1 < sizeof line) {
            line[used++] = data[i];
        } else {
            return bad(name, n, "line too long");
        }
    }
    return 0;
}

static int cannot(const char *path, const char *what)
{
    char msg[600], shown[300];
    snprintf(msg, sizeof msg, "lockrace: suppressions=%s: cannot %s (%s)\n",
             lr_shown(shown, sizeof shown, path, strlen(path)), what, strerror(errno));
    lr_write_str(2, msg);
    return -1;
}

int lr_suppress_load(const char *path)
{
    enum { MAX_FILE = 16 << 20 };
    if (!path || !path[0])
        return 0;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return cannot(path, "open");
    /* the whole file in lockrace's memory (never malloc: see arena.h) */
    size_t len = 0, cap = 0;
    char *data = NULL;
    ssize_t got = 1;
    while (got > 0) {
        if (len == MAX_FILE)        /* /dev/zero, a log given by mistake */
            break;
        if (len == cap) {
            char *more = lr_map(cap ? cap * 2 : 4096);
            if (!more) {
                errno = ENOMEM;
                got = -1;
                break;
            }
            if (data)
                memcpy(more, data, len);
            lr_unmap(data, cap);
            data = more;
            cap = cap ? cap * 2 : 4096;
        }
        got = read(fd, data + len, cap - len);
        if (got > 0)
            len += (size_t)got;
        else if (got < 0 && errno == EINTR)
            got = 1;
    }
    int rc = got < 0 ? cannot(path, "read") :
             len == MAX_FILE ? bad(path, 0, "over 16 MiB: not a suppressions file") :
             lr_suppress_parse(path, data, len);
    close(fd);
    lr_unmap(data, cap);
    return rc;
}

#ifdef LR_TEST_HOOKS
void lr_suppress_reset(void)
{
    rules = NULL;
}
#endif

int lr_suppress_any(void)
{
    return rules != NULL;
}

int lr_suppress_match(const char *kind, const char *text)
{
    if (!text || !*text)
        return 0;
    for (const rule *r = rules; r; r = r->next)
        if ((strcmp(r->kind, "*") == 0 || strcmp(r->kind, kind) == 0) && lr_glob(r->pattern, text))
            return 1;
    return 0;
}

/* ---- reports ---- */

static int stack_matches(const char *kind, lr_stack_id id)
{
    static lr_frames f;            /* under report_lock */
    if (!id)
        return 0;
    lr_symbolize_stack(id, &f);
    for (int i = 0; i < f.n; i++) {
        const char *file = f.info[i].file, *base = strrchr(file, '/');
        if (lr_suppress_match(kind, f.info[i].function) || lr_suppress_match(kind, file) ||
            (base && lr_suppress_match(kind, base + 1)))
            return 1;
    }
    return 0;
}

int lr_report_suppressed_by_rule(const lr_report *r, char (*labels)[200])
{
    const char *kind = lr_report_kind_name(r->kind);
    for (size_t i = 0; i < r->nlocks; i++)
        if (lr_suppress_match(kind, labels[i]))
            return 1;
    if (r->naccesses) {
        char var[200];
        lr_report_var_label(&r->var, var, sizeof var);
        if (lr_suppress_match(kind, var))
            return 1;
    }
    for (size_t i = 0; i < r->nedges; i++)
        if (stack_matches(kind, r->edges[i].first_stack) || stack_matches(kind, r->edges[i].second_stack))
            return 1;
    for (size_t i = 0; i < r->nthreads; i++) {
        if (stack_matches(kind, r->threads[i].wait_stack))
            return 1;
        for (size_t k = 0; k < r->threads[i].nholds; k++)
            if (stack_matches(kind, r->threads[i].holds[k].stack))
                return 1;
    }
    for (size_t i = 0; i < r->nholds; i++)
        if (stack_matches(kind, r->holds[i].stack))
            return 1;
    for (size_t i = 0; i < r->naccesses; i++)
        if (stack_matches(kind, r->accesses[i].stack))
            return 1;
    return 0;
}
