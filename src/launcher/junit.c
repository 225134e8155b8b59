/* JUnit XML, as CI systems show test results: one test case per program
 * a process ran, named by its command line, timed, failed when it
 * reported or crashed (its failure listing the reports and where each
 * is), an error when it was killed; the shells and tools that did nothing
 * lockrace watches are left out unless all are asked for. */
#include "launcher/run.h"
#include "support/util.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* Text for an attribute or an element: markup escaped, line breaks kept
 * in an attribute as character references, what XML 1.0 cannot hold
 * (other control characters, bytes that are not UTF-8) replaced. */
static void xml_escaped(lr_buf *b, const char *s, int attribute)
{
    while (*s) {
        unsigned char c = (unsigned char)*s;
        size_t n = lr_utf8_len(s);
        if (c == '&')
            lr_buf_puts(b, "&amp;");
        else if (c == '<')
            lr_buf_puts(b, "&lt;");
        else if (c == '>')
            lr_buf_puts(b, "&gt;");
        else if (c == '"')
            lr_buf_puts(b, "&quot;");
        else if (c == '\'')
            lr_buf_puts(b, "&apos;");
        else if ((c == '\n' || c == '\t') && attribute)
            lr_buf_printf(b, "&#%d;", c);
        else if (c == '\n' || c == '\t')
            lr_buf_printf(b, "%c", c);
        else if (c < 0x20 || n == 0)
            lr_buf_puts(b, "\xef\xbf\xbd");
        else
            lr_buf_printf(b, "%.*s", (int)n, s);
        s += n ? n : 1;
    }
}

static void xml_attr(lr_buf *b, const char *s) { xml_escaped(b, s, 1); }
static void xml_text(lr_buf *b, const char *s) { xml_escaped(b, s, 0); }

/* An earlier test case of the same name: a forked child keeps its
 * parent's command line. */
static int name_taken(const lr_run *run, size_t i)
{
    for (size_t j = 0; j < i; j++)
        if (!strcmp(run->procs[j].cmdline ? run->procs[j].cmdline : "",
                    run->procs[i].cmdline ? run->procs[i].cmdline : ""))
            return 1;
    return 0;
}

/* How a process's end reads in CI: a crash fails its test case, a kill (a
 * test runner's timeout, a user) is an error, one still running is
 * skipped, the rest pass; why says it, for the message. */
enum verdict { PASSED, FAILED, ERROR, RUNNING };

static enum verdict verdict_of(const lr_proc *p, char *why, size_t len)
{
    why[0] = 0;
    if (p->how == LR_PROC_SIGNALED) {
        int sig = p->status;
        const char *name = sigabbrev_np(sig);
        int crash = sig == SIGSEGV || sig == SIGBUS || sig == SIGILL || sig == SIGFPE || sig == SIGABRT ||
                    sig == SIGTRAP || sig == SIGSYS;
        if (sig == SIGPIPE)
            return PASSED;      /* its reader went first: `yes | head` */
        snprintf(why, len, "%s by signal %d (SIG%s)%s", crash ? "crashed: killed" : "killed", sig,
                 name ? name : "?", crash ? "" : ": timed out, or stopped by a user or a tool");
        return crash ? FAILED : ERROR;
    }
    if (p->how != LR_PROC_UNKNOWN)
        return PASSED;
    /* no exit record: a signal its parent did not tell (a parent lockrace
     * does not run in, or one that never waited), or it runs on */
    if (p->pid > 0 && kill((pid_t)p->pid, 0) == 0) {
        snprintf(why, len, "still running when the command ended");
        return RUNNING;
    }
    snprintf(why, len, "ended without exiting: killed by a signal (a crash, or a kill), or it ran "
                       "a program lockrace does not run in (static, set-uid)");
    return FAILED;
}

/* name is one of the comma-separated names of list */
static int listed(const char *list, const char *name)
{
    size_t n = strlen(name);
    for (const char *s = list; s && *s; s += strcspn(s, ",") + (s[strcspn(s, ",")] == ',')) {
        if (n && strcspn(s, ",") == n && !strncmp(s, name, n))
            return 1;
    }
    return 0;
}

/* What a CI user wants listed: a program that reported; unless it is one
 * of those named to leave out, one that did something lockrace watches or
 * did not end well; not the shells, make and tools around them, nor a
 * program that became another by exec. */
static int wanted(const lr_proc *p, enum verdict v, const lr_junit_options *o)
{
    if (p->nreports)
        return 1;
    if (listed(o->skip, p->program ? p->program : ""))
        return 0;
    if (o->all || v != PASSED)
        return 1;
    if (p->how == LR_PROC_EXECED)
        return 0;
    return p->threads > 1 || p->locks > 0 || p->threads < 0;
}

static void failure(lr_buf *b, const lr_proc *p, const char *tag, const char *why)
{
    lr_place place;
    lr_buf_printf(b, "      <%s type=\"", tag);
    xml_attr(b, p->nreports ? lr_json_str(lr_json_get(p->reports[0], "kind"), "lockrace")
                            : strcmp(tag, "error") ? "crash" : "killed");
    lr_buf_puts(b, "\" message=\"");
    if (p->nreports)
        lr_buf_printf(b, "%zu report%s:", p->nreports, p->nreports == 1 ? "" : "s");
    for (size_t k = 0; k < p->nreports; k++) {
        const char *kind = lr_json_str(lr_json_get(p->reports[k], "kind"), "?");
        size_t j = 0;
        while (j < k && strcmp(kind, lr_json_str(lr_json_get(p->reports[j], "kind"), "?")))
            j++;
        if (j == k) {
            lr_buf_puts(b, k ? ", " : " ");
            xml_attr(b, kind);
        }
    }
    if (*why) {
        lr_buf_puts(b, p->nreports ? "; " : "");
        xml_attr(b, why);
    }
    lr_buf_puts(b, "\">");
    for (size_t k = 0; k < p->nreports; k++) {
        const lr_json *r = p->reports[k];
        xml_text(b, lr_json_str(lr_json_get(r, "summary"), lr_json_str(lr_json_get(r, "kind"), "?")));
        if (lr_run_places(r, &place, 1)) {
            char at[600], where[300];
            snprintf(at, sizeof at, "\n  at %s: %s", lr_place_where(&place, where, sizeof where), place.what);
            xml_text(b, at);
        }
        xml_text(b, "\n");
    }
    if (*why) {
        xml_text(b, why);
        xml_text(b, "\n");
    }
    lr_buf_printf(b, "</%s>\n", tag);
}

static double duration(const lr_proc *p)
{
    return p->start > 0 && p->end >= p->start ? p->end - p->start : 0;
}

void lr_junit_build(lr_buf *b, const lr_run *run, const lr_junit_options *o)
{
    enum { WHY = 200 };
    size_t tests = 0, failed = 0, errors = 0, skipped = 0;
    char why[WHY];
    for (size_t i = 0; i < run->nprocs; i++) {
        enum verdict v = verdict_of(&run->procs[i], why, sizeof why);
        if (!wanted(&run->procs[i], v, o))
            continue;
        tests++;
        if (run->procs[i].nreports || v == FAILED)
            failed++;
        else if (v == ERROR)
            errors++;
        else if (v == RUNNING)
            skipped++;
    }
    char stamp[32] = "";
    time_t t0 = (time_t)o->started;
    struct tm tm;
    if (gmtime_r(&t0, &tm))
        strftime(stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%S", &tm);
    lr_buf_printf(b, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
                      "<testsuites name=\"lockrace\" tests=\"%zu\" failures=\"%zu\" errors=\"%zu\" "
                      "skipped=\"%zu\" time=\"%.3f\" timestamp=\"%s\">\n"
                      "  <testsuite name=\"lockrace\" tests=\"%zu\" failures=\"%zu\" errors=\"%zu\" "
                      "skipped=\"%zu\" time=\"%.3f\" timestamp=\"%s\">\n",
                  tests, failed, errors, skipped, o->elapsed, stamp, tests, failed, errors, skipped,
                  o->elapsed, stamp);
    for (size_t i = 0; i < run->nprocs; i++) {
        const lr_proc *p = &run->procs[i];
        enum verdict v = verdict_of(p, why, sizeof why);
        if (!wanted(p, v, o))
            continue;
        lr_buf_puts(b, "    <testcase classname=\"lockrace\" name=\"");
        xml_attr(b, p->cmdline ? p->cmdline : "?");
        if (name_taken(run, i))
            lr_buf_printf(b, " [pid %ld]", p->pid);
        lr_buf_printf(b, "\" time=\"%.3f\">\n", duration(p));
        if (p->nreports || v == FAILED)
            failure(b, p, "failure", why);
        else if (v == ERROR)
            failure(b, p, "error", why);
        else if (v == RUNNING)
            lr_buf_printf(b, "      <skipped message=\"%s\"/>\n", why);
        /* what the test case's page shows as its output */
        lr_buf_printf(b, "      <system-out>pid %ld, parent %ld", p->pid, p->ppid);
        if (p->how == LR_PROC_EXITED)
            lr_buf_printf(b, ", exit status %d", p->status);
        else if (p->how == LR_PROC_EXECED)
            lr_buf_puts(b, ", then ran another program (exec)");
        lr_buf_puts(b, "</system-out>\n    </testcase>\n");
    }
    lr_buf_puts(b, "  </testsuite>\n</testsuites>\n");
}
