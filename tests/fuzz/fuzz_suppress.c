/* Fuzz target: the suppressions parser and matcher (src/report/suppress.c).
 * Any bytes as a suppressions file: either every rule line is taken, and
 * each rule then matches its own pattern, or the file is refused with one
 * line naming it and the line. The glob is also compared with a plain
 * dynamic-programming one. */
#include "fuzz.h"
#include "report/suppress.h"

#include <sanitizer/common_interface_defs.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

static int err_fd = -1, saved_stderr = -1;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc, (void)argv;
    /* the parser's error lines are read back from a memory file; the
     * sanitizers report on the real stderr even while fd 2 is that file */
    saved_stderr = dup(2);
    __sanitizer_set_report_fd((void *)(intptr_t)saved_stderr);
    err_fd = memfd_create("lockrace-fuzz-stderr", 0);
    return 0;
}

/* '*' matches any run of bytes, every other byte itself */
static int glob_reference(const char *p, size_t np, const char *t, size_t nt)
{
    /* m[j]: p[0..i) matches t[0..j) */
    char *m = calloc(nt + 1, 1), *next = calloc(nt + 1, 1);
    m[0] = 1;
    for (size_t i = 0; i < np; i++) {
        memset(next, 0, nt + 1);
        for (size_t j = 0; j <= nt; j++)
            if (p[i] == '*')
                next[j] = m[j] || (j > 0 && next[j - 1]);
            else
                next[j] = j > 0 && m[j - 1] && p[i] == t[j - 1];
        char *swap = m;
        m = next;
        next = swap;
    }
    int r = m[nt];
    free(m);
    free(next);
    return r;
}

static char *trim(char *s)
{
    while (*s == ' ' || *s == '\t')
        s++;
    size_t n = strlen(s);
    while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r'))
        s[--n] = 0;
    return s;
}

/* docs/suppressions.md, read again: each KIND:PATTERN line's rule must
 * match its pattern itself ('*' matches '*') */
static void check_rules_match_themselves(const char *data, size_t size)
{
    if (size >= 3 && !memcmp(data, "\xef\xbb\xbf", 3)) {    /* a byte-order mark is skipped */
        data += 3;
        size -= 3;
    }
    char *copy = malloc(size + 1);
    memcpy(copy, data, size);
    copy[size] = 0;
    for (char *line = copy, *end; line; line = end) {
        end = memchr(line, '\n', (size_t)(copy + size - line));
        if (end)
            *end++ = 0;
        char *hash = strchr(line, '#');
        if (hash)
            *hash = 0;
        char *colon = strchr(line, ':');
        if (!colon)
            continue;
        *colon = 0;
        char *kind = trim(line), *pattern = trim(colon + 1);
        /* TSan's types stand for lockrace kinds; thread, signal and
         * called_from_lib (modules only) match no name, nor do anchors
         * match themselves */
        const char *as = !strcmp(kind, "*") ? "deadlock" : !strncmp(kind, "race", 4) ? "data-race" :
                         !strcmp(kind, "mutex") ? "misuse" : kind;
        if (*pattern && !strpbrk(pattern, "^$") && strcmp(kind, "thread") && strcmp(kind, "signal") &&
            strcmp(kind, "called_from_lib"))
            CHECK(lr_suppress_match(as, pattern));
    }
    free(copy);
}

static void check_error_line(void)
{
    /* a warning per rule that can never match: a file of many is long */
    static char buf[1 << 20];
    ssize_t n = pread(err_fd, buf, sizeof buf - 1, 0);
    CHECK(n > 0 && n < (ssize_t)sizeof buf - 1);
    buf[n] = 0;
    /* warnings about rules that can never match, then the one error line */
    char *line = buf;
    for (char *nl; (nl = strchr(line, '\n')) && nl < buf + n - 1; line = nl + 1)
        CHECK(strstr(line, "can never match") && strstr(line, "can never match") < nl);
    CHECK(strncmp(line, "lockrace: suppressions=fuzz.supp:", 33) == 0);
    CHECK(buf[n - 1] == '\n' && strchr(line, '\n') == buf + n - 1);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    size_t mark = fuzz_arena_mark();
    ftruncate(err_fd, 0);
    lseek(err_fd, 0, SEEK_SET);     /* shared with fd 2, which writes at it */
    dup2(err_fd, 2);
    int rc = lr_suppress_parse("fuzz.supp", (const char *)data, size);
    dup2(saved_stderr, 2);
    if (rc == 0)
        check_rules_match_themselves((const char *)data, size);
    else
        check_error_line();
    lr_suppress_reset();
    fuzz_arena_release(mark);

    /* the glob: pattern and text on either side of the first NUL (or halves) */
    const char *nul = memchr(data, 0, size);
    size_t np = nul ? (size_t)(nul - (const char *)data) : size / 2;
    size_t start = nul ? np + 1 : np;
    char *p = strndup((const char *)data, np);
    char *t = strndup((const char *)data + start, size - start);
    CHECK(lr_glob(p, t) == glob_reference(p, strlen(p), t, strlen(t)));
    free(p);
    free(t);
    return 0;
}
