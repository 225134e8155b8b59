/* A run read back: what every process of the command's tree wrote in the
 * run directory (docs/json.md), as the launcher sees it after the command
 * ended, and the three things it makes of it: the summary on stderr,
 * SARIF and JUnit. */
#ifndef LR_RUN_H
#define LR_RUN_H

#include "launcher/json.h"
#include "support/util.h"

#include <stddef.h>

/* One program a process ran (a process that execs runs a second one under
 * the same pid), and the reports it wrote. */
typedef struct lr_proc {
    long pid, ppid;
    char *cmdline;              /* its arguments as a shell would take them back */
    const lr_json **reports;
    size_t nreports;
    size_t seq;                 /* the order it was read in */
    const lr_json *graph;       /* its lock-order graph at exit (order_graph=1), NULL if none */
} lr_proc;

typedef struct lr_run {
    lr_proc *procs;             /* by pid; programs of one pid in the order they ran */
    size_t nprocs;
    size_t nreports;
    size_t unreadable;          /* lines that are not JSON: cut by a process that was killed */
    lr_json **lines;            /* every line read, owned here */
    size_t nlines;
} lr_run;

/* What lockrace reports, in the order the summary lists them. */
typedef struct lr_kind {
    const char *name;           /* as in the JSON and the docs */
    const char *title;          /* a few words */
    const char *description;    /* what it means and what to do */
    int warning;                /* not an error: a stall may end by itself */
} lr_kind;

extern const lr_kind lr_kinds[];
extern const size_t lr_nkinds;

/* Reads every *.json file in dir and the directories under it. -1, with a
 * message in err, when dir cannot be read. */
int lr_run_read(lr_run *run, const char *dir, char *err, size_t errlen);
void lr_run_free(lr_run *run);

/* A source line a report shows, and what happened there. */
typedef struct lr_place {
    const char *file;           /* as in the debug information (into the report) */
    long line;
    char what[240];
} lr_place;

/* The places of a report: for each stack it has, its first frame with a
 * source line, the one the report is about first (the lock taken that
 * closed the cycle, the wait, the access that found the race, the call).
 * Stacks without a source line are left out. Returns how many, up to max. */
size_t lr_run_places(const lr_json *report, lr_place *out, size_t max);

/* An argument as the shell takes it back: as is, or in single quotes. */
void lr_shell_word(lr_buf *b, const char *arg);

/* The launcher's summary on fd. status: the launcher's exit status;
 * command_status: the command's own. */
void lr_run_summary(const lr_run *run, int fd, int status, int command_status);

/* The run as a SARIF 2.1.0 log and as JUnit XML, appended to b. */
void lr_sarif_build(lr_buf *b, const lr_run *run, char *const *command, int status);
void lr_junit_build(lr_buf *b, const lr_run *run);

/* The lock-order graphs of the run's processes as one Graphviz DOT graph,
 * a cluster per process (dot.c). Returns how many processes had one. */
size_t lr_dot_build(lr_buf *b, const lr_run *run);

#endif
