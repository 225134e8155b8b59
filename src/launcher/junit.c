/* JUnit XML, as CI systems show test results: one test case per process
 * (per program it ran), named by its command line, failed when it
 * reported, its failure listing the reports and where each is. */
#include "launcher/run.h"
#include "support/util.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
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

static void failure(lr_buf *b, const lr_proc *p)
{
    lr_place place;
    lr_buf_puts(b, "      <failure type=\"");
    xml_attr(b, lr_json_str(lr_json_get(p->reports[0], "kind"), "lockrace"));
    lr_buf_printf(b, "\" message=\"%zu report%s:", p->nreports, p->nreports == 1 ? "" : "s");
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
    lr_buf_puts(b, "</failure>\n");
}

void lr_junit_build(lr_buf *b, const lr_run *run)
{
    size_t failed = 0;
    for (size_t i = 0; i < run->nprocs; i++)
        failed += run->procs[i].nreports > 0;
    lr_buf_printf(b, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
                      "<testsuites name=\"lockrace\" tests=\"%zu\" failures=\"%zu\" errors=\"0\">\n"
                      "  <testsuite name=\"lockrace\" tests=\"%zu\" failures=\"%zu\" errors=\"0\" skipped=\"0\">\n",
                  run->nprocs, failed, run->nprocs, failed);
    for (size_t i = 0; i < run->nprocs; i++) {
        const lr_proc *p = &run->procs[i];
        lr_buf_puts(b, "    <testcase classname=\"lockrace\" name=\"");
        xml_attr(b, p->cmdline ? p->cmdline : "?");
        if (name_taken(run, i))
            lr_buf_printf(b, " [pid %ld]", p->pid);
        lr_buf_puts(b, p->nreports ? "\">\n" : "\"/>\n");
        if (p->nreports) {
            failure(b, p);
            lr_buf_puts(b, "    </testcase>\n");
        }
    }
    lr_buf_puts(b, "  </testsuite>\n</testsuites>\n");
}
