/* The launcher's summary of a run on stderr: one line of counts, then each
 * process that reported, with its reports' one-line titles. Short on
 * purpose: every report was printed in full when it was found. */
#include "launcher/run.h"
#include "support/util.h"

#include <string.h>

enum { MAX_PROCS = 20, MAX_TITLES = 10, MAX_CMDLINE = 100, MAX_KINDS = 32 };

/* "lock-order-inversion: 1, lost-update: 2": lockrace's kinds in their
 * order, then any kind this launcher does not know, as met */
static void kind_counts(lr_buf *b, const lr_run *run)
{
    const char *names[MAX_KINDS];
    size_t counts[MAX_KINDS] = { 0 }, n = 0;
    for (; n < lr_nkinds; n++)
        names[n] = lr_kinds[n].name;
    for (size_t i = 0; i < run->nprocs; i++)
        for (size_t k = 0; k < run->procs[i].nreports; k++) {
            const char *kind = lr_json_str(lr_json_get(run->procs[i].reports[k], "kind"), "");
            size_t j = 0;
            while (j < n && strcmp(names[j], kind))
                j++;
            if (j == n && n < MAX_KINDS)
                names[n++] = kind;
            if (j < n)
                counts[j]++;
        }
    const char *sep = "";
    for (size_t j = 0; j < n; j++)
        if (counts[j]) {
            lr_buf_printf(b, "%s%s: %zu", sep, names[j], counts[j]);
            sep = ", ";
        }
}

void lr_run_summary(const lr_run *run, int fd, int status, int command_status)
{
    lr_buf b = { 0 };
    size_t reporting = 0;
    for (size_t i = 0; i < run->nprocs; i++)
        reporting += run->procs[i].nreports > 0;
    if (run->nreports) {
        lr_buf_printf(&b, "lockrace: %zu report%s from %zu of %zu process%s (", run->nreports,
                      run->nreports == 1 ? "" : "s", reporting, run->nprocs,
                      run->nprocs == 1 ? "" : "es");
        kind_counts(&b, run);
        lr_buf_puts(&b, ")");
    } else {
        lr_buf_printf(&b, "lockrace: no reports from %zu process%s", run->nprocs,
                      run->nprocs == 1 ? "" : "es");
    }
    if (status != command_status)
        lr_buf_printf(&b, "; exit status %d (the command's was %d; exitcode=0 keeps it)", status,
                      command_status);
    else
        lr_buf_printf(&b, "; exit status %d (the command's)", status);
    if (run->unreadable)
        lr_buf_printf(&b, "; %zu line%s not JSON (a process killed while writing?)", run->unreadable,
                      run->unreadable == 1 ? "" : "s");
    lr_buf_puts(&b, "\n");
    size_t shown = 0;
    for (size_t i = 0; i < run->nprocs; i++) {
        const lr_proc *p = &run->procs[i];
        if (!p->nreports || shown++ >= MAX_PROCS)
            continue;
        const char *cmd = p->cmdline ? p->cmdline : "?";
        char shown[MAX_CMDLINE + 8];    /* a newline in an argument is written \n */
        lr_buf_printf(&b, "  %ld %s\n", p->pid, lr_shown(shown, sizeof shown, cmd, strlen(cmd)));
        for (size_t k = 0; k < p->nreports && k < MAX_TITLES; k++) {
            const lr_json *r = p->reports[k];
            lr_buf_printf(&b, "    %s\n", lr_json_str(lr_json_get(r, "summary"),
                                                     lr_json_str(lr_json_get(r, "kind"), "?")));
        }
        if (p->nreports > MAX_TITLES)
            lr_buf_printf(&b, "    ... and %zu more\n", p->nreports - MAX_TITLES);
    }
    if (shown > MAX_PROCS)
        lr_buf_printf(&b, "  ... and %zu more processes with reports\n", shown - MAX_PROCS);
    if (b.data)
        lr_write_text(fd, b.data, b.len);
    lr_buf_free(&b);
}
