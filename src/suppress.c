/* Suppressions (suppress.h). Read once at start-up into lockrace's arena;
 * matched only when a report is printed. */
#include "suppress.h"
#include "arena.h"
#include "report.h"
#include "util.h"

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
    char msg[700];
    snprintf(msg, sizeof msg, "lockrace: suppressions=%s:%d: %s (expected KIND:PATTERN, KIND one of "
             "lock-order-inversion, deadlock, stall, data-race, lost-update, misuse, *)\n",
             path, line, what);
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
        char what[300];
        snprintf(what, sizeof what, "unknown kind '%.200s'", kind);
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

int lr_suppress_load(const char *path)
{
    if (!path || !path[0])
        return 0;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        char msg[600];
        snprintf(msg, sizeof msg, "lockrace: suppressions=%s: cannot open (%s)\n", path, strerror(errno));
        lr_write_str(2, msg);
        return -1;
    }
    char line[1024];
    size_t len = 0;
    int n = 1, rc = 0;
    char c;
    ssize_t got;
    while (rc == 0 && (got = read(fd, &c, 1)) >= 0) {
        if (got == 0 || c == '\n') {
            line[len] = 0;
            rc = parse_line(path, n++, line);
            len = 0;
            if (got == 0)
                break;
        } else if (len + 1 < sizeof line) {
            line[len++] = c;
        } else {
            rc = bad(path, n, "line too long");
        }
    }
    close(fd);
    return rc;
}

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
