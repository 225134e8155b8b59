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
    char *program;              /* its first argument's file name: "ctest", "sh" */
    const lr_json **reports;
    size_t nreports;
    size_t seq;                 /* the order it was read in */
    const lr_json *graph;       /* its lock-order graph at exit (order_graph=1), NULL if none */
    double start, end;          /* wall-clock seconds since the epoch; 0: not known */
    enum lr_proc_end {
        LR_PROC_UNKNOWN,        /* no exit seen: killed by a signal, or still running */
        LR_PROC_EXITED,         /* status is its exit status */
        LR_PROC_SIGNALED,       /* status is the signal that ended it */
        LR_PROC_EXECED,         /* it became the next program of its pid */
    } how;
    int status;
    long threads, locks;        /* threads and locks it used, from its exit record; -1: not known */
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
/* What waitpid told the launcher of a process it reaped (the command, or
 * an orphan of the tree) at time `when`: the last program of that pid
 * ended so, which only a signal's end adds to its exit record. */
void lr_run_reaped(lr_run *run, long pid, int wait_status, double when);
void lr_run_free(lr_run *run);

/* A place a report shows, and what happened there: a source line, or in
 * code without debug information the module and the offset in it. */
typedef struct lr_place {
    const char *file;           /* as in the debug information (into the report); NULL: none */
    long line;
    const char *module;         /* "abba", "libfoo.so.1": the object's file name */
    const char *offset;         /* "0x1245", the link-time address (addr2line -e MODULE takes it) */
    const char *file_offset;    /* the byte of the module's file there; NULL: the same as offset */
    const char *function;       /* from the symbol table, NULL when there is none */
    char what[240];
} lr_place;

/* The places of a report: for each stack it has, its first frame with a
 * source line, else its first frame (module and offset), the one the
 * report is about first (the lock taken that closed the cycle, the wait,
 * the access that found the race, the call). Empty stacks are left out.
 * Returns how many, up to max. */
size_t lr_run_places(const lr_json *report, lr_place *out, size_t max);

/* Where a place is, as a person reads it: "demos/abba.c:15", else
 * "update_both in abba+0x1245" (no source line), written to buf. */
const char *lr_place_where(const lr_place *p, char *buf, size_t len);

/* An argument as the shell takes it back: as is, or in single quotes. */
void lr_shell_word(lr_buf *b, const char *arg);

/* The launcher's summary on fd. status: the launcher's exit status;
 * command_status: the command's own. */
void lr_run_summary(const lr_run *run, int fd, int status, int command_status);

/* The run as a SARIF 2.1.0 log and as JUnit XML, appended to b. */
/* source_root: the directory file URIs are relative to; NULL: the
 * repository (the nearest directory with a .git) that holds the files,
 * else the working directory. */
void lr_sarif_build(lr_buf *b, const lr_run *run, char *const *command, int status,
                    const char *source_root);
/* What JUnit is asked for. */
typedef struct lr_junit_options {
    double started, elapsed;    /* the command's wall-clock start (seconds since the epoch), how long it ran */
    int all;                    /* every process, not only those that did something lockrace
                                   watches, reported or did not end well */
    const char *skip;           /* "ctest,make": programs left out by name unless they reported */
} lr_junit_options;

void lr_junit_build(lr_buf *b, const lr_run *run, const lr_junit_options *o);

/* The lock-order graphs of the run's processes as one Graphviz DOT graph,
 * a cluster per process (dot.c). Returns how many processes had one. */
size_t lr_dot_build(lr_buf *b, const lr_run *run);

#endif
