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

/* What a rule's type covers: lockrace's report kinds (bits of 1 << kind),
 * how its pattern is matched, and against what. */
enum { MATCH_WHOLE, MATCH_TSAN };

typedef struct rule_type {
    const char *name;
    unsigned kinds;             /* 1 << lr_report_kind; 0: nothing lockrace reports */
    int match;                  /* MATCH_WHOLE or MATCH_TSAN */
    int where;                  /* LR_SUPPRESS_NAME | LR_SUPPRESS_FRAME | LR_SUPPRESS_TOP | LR_SUPPRESS_MODULE */
    const char *why_never;      /* for kinds == 0: why it never matches */
} rule_type;

#define K(kind) (1u << LR_REPORT_##kind)
#define ALL_KINDS ((1u << LR_REPORT_KINDS) - 1)
#define NAMES_AND_FRAMES (LR_SUPPRESS_NAME | LR_SUPPRESS_FRAME | LR_SUPPRESS_TOP | LR_SUPPRESS_MODULE)

/* lockrace's own kinds (whole names), then ThreadSanitizer's types, with
 * the lockrace kinds each stands for (docs/suppressions.md); TSan matches
 * a frame's function, file and module, and a race's variable. lockrace's
 * "deadlock" is both: TSan's (a lock-order inversion, what TSan calls a
 * potential deadlock) and lockrace's (threads blocked now). */
static const rule_type types[] = {
    { "lock-order-inversion", K(LOCK_ORDER), MATCH_WHOLE, LR_SUPPRESS_NAME | LR_SUPPRESS_FRAME | LR_SUPPRESS_TOP, NULL },
    { "stall", K(STALL), MATCH_WHOLE, LR_SUPPRESS_NAME | LR_SUPPRESS_FRAME | LR_SUPPRESS_TOP, NULL },
    { "data-race", K(DATA_RACE), MATCH_WHOLE, LR_SUPPRESS_NAME | LR_SUPPRESS_FRAME | LR_SUPPRESS_TOP, NULL },
    { "lost-update", K(LOST_UPDATE), MATCH_WHOLE, LR_SUPPRESS_NAME | LR_SUPPRESS_FRAME | LR_SUPPRESS_TOP, NULL },
    { "misuse", K(MISUSE), MATCH_WHOLE, LR_SUPPRESS_NAME | LR_SUPPRESS_FRAME | LR_SUPPRESS_TOP, NULL },
    { "*", ALL_KINDS, MATCH_WHOLE, LR_SUPPRESS_NAME | LR_SUPPRESS_FRAME | LR_SUPPRESS_TOP, NULL },
    { "deadlock", K(LOCK_ORDER) | K(DEADLOCK), MATCH_TSAN, NAMES_AND_FRAMES, NULL },
    { "race", K(DATA_RACE) | K(LOST_UPDATE), MATCH_TSAN, NAMES_AND_FRAMES, NULL },
    { "race_top", K(DATA_RACE) | K(LOST_UPDATE), MATCH_TSAN, LR_SUPPRESS_NAME | LR_SUPPRESS_TOP, NULL },
    { "mutex", K(MISUSE), MATCH_TSAN, NAMES_AND_FRAMES, NULL },
    { "called_from_lib", ALL_KINDS, MATCH_TSAN, LR_SUPPRESS_MODULE, NULL },
    { "thread", 0, MATCH_TSAN, 0, "lockrace has no thread-leak report, which TSan's thread: hides" },
    { "signal", 0, MATCH_TSAN, 0, "lockrace has no signal-unsafe-call report, which TSan's signal: hides" },
};

typedef struct rule {
    const rule_type *type;
    const char *pattern;        /* without the anchors */
    int start, end;             /* anchored at the start ('^') or the end ('$') of the text */
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

/* ThreadSanitizer's matching: the pattern anywhere in the text ('*' for
 * any run of characters), unless anchored: glob("*P*"), with the '*' left
 * out at an anchored end. */
static int tsan_match(const rule *r, const char *text)
{
    char glob[1200];
    int n = snprintf(glob, sizeof glob, "%s%s%s", r->start ? "" : "*", r->pattern, r->end ? "" : "*");
    return n > 0 && (size_t)n < sizeof glob && lr_glob(glob, text);
}

static const rule_type *find_type(const char *k)
{
    for (size_t i = 0; i < sizeof types / sizeof types[0]; i++)
        if (strcmp(k, types[i].name) == 0)
            return &types[i];
    return NULL;
}

static int bad(const char *path, int line, const char *what)
{
    char msg[900], shown[300], at[16] = "";
    if (line)
        snprintf(at, sizeof at, ":%d", line);
    snprintf(msg, sizeof msg, "lockrace: suppressions=%s%s: %s (expected KIND:PATTERN, KIND one of "
             "lock-order-inversion, deadlock, stall, data-race, lost-update, misuse, *, or TSan's race, "
             "race_top, mutex, thread, signal, called_from_lib)\n",
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

/* One line of warning about a rule that can never match; the program runs
 * on. Under the launcher only the command it started says it, not every
 * process of the tree (lr_launched_command). */
static void never(const char *path, int line, const char *kind, const char *pattern, const char *why)
{
    if (!lr_launched_command())
        return;
    char msg[1400], shown[300], p[300];
    snprintf(msg, sizeof msg, "lockrace: suppressions=%s:%d: %s:%s can never match: %s\n",
             lr_shown(shown, sizeof shown, path, strlen(path)), line, kind,
             lr_shown(p, sizeof p, pattern, strlen(pattern)), why);
    lr_write_str(2, msg);
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
    const rule_type *type = find_type(kind);
    if (!type) {
        char what[300], shown[200];
        snprintf(what, sizeof what, "unknown kind '%s'", lr_shown(shown, sizeof shown, kind, strlen(kind)));
        return bad(path, n, what);
    }
    if (!*pattern)
        return bad(path, n, "empty pattern");
    if (!type->kinds) {
        never(path, n, kind, pattern, type->why_never);
        return 0;
    }
    /* '^' and '$' anchor the pattern at the start and end of a name, as in
     * TSan; a whole-name pattern is anchored at both anyway. A '$' before
     * the end would need the name to end there and go on. */
    size_t len = strlen(pattern);
    int start = pattern[0] == '^', end = len > (size_t)start && pattern[len - 1] == '$';
    char *body = pattern + start;
    body[len - start - end] = 0;
    if (strchr(body, '$')) {
        never(path, n, kind, pattern, "'$' marks the end of a name, and text follows it");
        return 0;
    }
    if (!*body && !(start && end))
        body = "*";                 /* "^" or "$" alone: any name */
    rule *r = lr_arena_alloc(sizeof *r);
    if (!r)
        return bad(path, n, "out of memory");
    r->type = type;
    r->pattern = lr_arena_strdup(body);
    r->start = start || type->match == MATCH_WHOLE;
    r->end = end || type->match == MATCH_WHOLE;
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

static int rule_matches(const rule *r, const char *text)
{
    if (!text || !*text)
        return 0;
    return r->start && r->end ? lr_glob(r->pattern, text) : tsan_match(r, text);
}

/* A rule of a type that covers this kind (name as in JSON) and may look at
 * this part of a report. */
static int applies(const rule *r, const char *kind, int where)
{
    if (!(r->type->where & where))
        return 0;
    for (int i = 0; i < LR_REPORT_KINDS; i++)
        if ((r->type->kinds & (1u << i)) && strcmp(kind, lr_report_kind_name(i)) == 0)
            return 1;
    return 0;
}

/* A lock or variable name: no rule for frames only (race_top's are, the
 * top frame's and the variable's) */
int lr_suppress_match_name(const char *kind, const char *text)
{
    for (const rule *r = rules; r; r = r->next)
        if (applies(r, kind, LR_SUPPRESS_NAME) && rule_matches(r, text))
            return 1;
    return 0;
}

int lr_suppress_match(const char *kind, const char *text)
{
    for (const rule *r = rules; r; r = r->next)
        if (applies(r, kind, LR_SUPPRESS_NAME | LR_SUPPRESS_FRAME) && rule_matches(r, text))
            return 1;
    return 0;
}

int lr_suppress_match_frame(const char *kind, const char *function, const char *file, const char *module,
                            int top)
{
    const char *base = file ? strrchr(file, '/') : NULL;
    const char *module_base = module ? strrchr(module, '/') : NULL;
    for (const rule *r = rules; r; r = r->next) {
        if (applies(r, kind, top ? LR_SUPPRESS_FRAME | LR_SUPPRESS_TOP : LR_SUPPRESS_FRAME) &&
            (rule_matches(r, function) || rule_matches(r, file) || (base && rule_matches(r, base + 1))))
            return 1;
        if (applies(r, kind, LR_SUPPRESS_MODULE) &&
            (rule_matches(r, module) || (module_base && rule_matches(r, module_base + 1))))
            return 1;
    }
    return 0;
}

/* ---- reports ---- */

/* Each stack of the report, in the order a suggested rule looks for its
 * function: the edges' (where the second lock was taken, then the first),
 * the accesses', where the threads wait, the locks held; then, with
 * `all`, the locks each of those threads holds. Stops at the first visit
 * that returns 1, and returns 1. */
static int each_stack(const lr_report *r, int all, int (*visit)(lr_stack_id id, void *arg), void *arg)
{
    for (size_t i = 0; i < r->nedges; i++)
        if (visit(r->edges[i].second_stack, arg) || visit(r->edges[i].first_stack, arg))
            return 1;
    for (size_t i = 0; i < r->naccesses; i++)
        if (visit(r->accesses[i].stack, arg))
            return 1;
    for (size_t i = 0; i < r->nthreads; i++)
        if (visit(r->threads[i].wait_stack, arg))
            return 1;
    for (size_t i = 0; i < r->nholds; i++)
        if (visit(r->holds[i].stack, arg))
            return 1;
    for (size_t i = 0; all && i < r->nthreads; i++)
        for (size_t k = 0; k < r->threads[i].nholds; k++)
            if (visit(r->threads[i].holds[k].stack, arg))
                return 1;
    return 0;
}

/* A frame of the stack matches a rule of kind (arg). */
static int stack_matches(lr_stack_id id, void *kind)
{
    static lr_frames f;            /* under report_lock */
    if (!id)
        return 0;
    lr_symbolize_stack(id, &f);
    for (int i = 0; i < f.n; i++)
        if (lr_suppress_match_frame((const char *)kind, f.info[i].function, f.info[i].file, f.info[i].module,
                                    i == 0))
            return 1;
    return 0;
}

/* A rule of the report's kind matches one of its stacks' frames, or one of
 * its lock or variable names. */
int lr_report_suppressed_by_rule(const lr_report *r, char (*labels)[200])
{
    const char *kind = lr_report_kind_name(r->kind);
    for (size_t i = 0; i < r->nlocks; i++)
        if (lr_suppress_match_name(kind, labels[i]))
            return 1;
    if (r->naccesses) {
        char var[200];
        lr_report_var_label(&r->var, var, sizeof var);
        if (lr_suppress_match_name(kind, var))
            return 1;
        uintptr_t addr;
        size_t size;
        if (lr_report_var_part(&r->var, var, sizeof var, &addr, &size) && lr_suppress_match_name(kind, var))
            return 1;       /* balance[15] as well as balance */
    }
    return each_stack(r, 1, stack_matches, (void *)kind);
}

/* gen_suppressions: a rule that hides this report, as the user would write
 * it: the report's kind and a function of its first stack that has one
 * (where the second lock was taken, the access, where the thread waits or
 * called): the innermost one that not every stack of the report has.
 * Programs lock through helpers of their own (a mutex_lock() of theirs,
 * glib's g_mutex_lock, mono's mono_os_mutex_lock, inlined): the helper,
 * innermost in every stack, would hide every report of the kind. Without
 * a function, its variable's or first lock's name. Under report_lock. */
#define SUGGEST_CANDIDATES 32

static lr_frames suggest_frames;
static char candidates[SUGGEST_CANDIDATES][sizeof suggest_frames.info[0].function];
static int ncandidates, everywhere[SUGGEST_CANDIDATES];

/* The functions of the first stack that has one, innermost first, as
 * candidates, each in every stack so far. */
static int take_candidates(lr_stack_id id, void *unused)
{
    (void)unused;
    if (!id)
        return 0;
    lr_symbolize_stack(id, &suggest_frames);
    ncandidates = 0;
    for (int i = 0; i < suggest_frames.n && ncandidates < SUGGEST_CANDIDATES; i++)
        if (suggest_frames.info[i].function[0]) {
            snprintf(candidates[ncandidates], sizeof candidates[0], "%s", suggest_frames.info[i].function);
            everywhere[ncandidates++] = 1;
        }
    return ncandidates > 0;
}

/* Candidates this stack does not have are not in every stack. */
static int compare_stack(lr_stack_id id, void *unused)
{
    (void)unused;
    if (!id)
        return 0;
    lr_symbolize_stack(id, &suggest_frames);
    for (int c = 0; c < ncandidates; c++) {
        int here = 0;
        for (int i = 0; i < suggest_frames.n && !here; i++)
            here = !strcmp(suggest_frames.info[i].function, candidates[c]);
        everywhere[c] &= here;
    }
    return 0;
}

void lr_report_suggest_suppression(const lr_report *r, char (*labels)[200], lr_buf *b)
{
    char name[200] = "";
    if (each_stack(r, 0, take_candidates, NULL)) {
        each_stack(r, 1, compare_stack, NULL);
        int c = 0;
        while (c < ncandidates && everywhere[c])
            c++;
        snprintf(name, sizeof name, "%s", candidates[c < ncandidates ? c : 0]);
    } else if (r->naccesses) {
        lr_report_var_label(&r->var, name, sizeof name);
    } else if (r->nlocks) {
        snprintf(name, sizeof name, "%s", labels[0]);
    }
    /* a name with a '#' (a comment) or blanks at its ends cannot be written
     * in the file as it is */
    size_t n = strlen(name);
    if (!n || strchr(name, '#') || name[0] == ' ' || name[n - 1] == ' ' || strchr(name, '\n'))
        return;
    lr_buf_printf(b, "  To suppress this report, a line for suppressions=FILE:\n    %s:%s\n\n",
                  lr_report_kind_name(r->kind), name);
}
