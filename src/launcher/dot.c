/* The run's lock-order graphs (each process's `graph` line, docs/json.md)
 * as one Graphviz DOT graph: a cluster per process, labelled with its pid
 * and command line; a node per lock, named as reports name it; an edge per
 * order seen, labelled with where its two locks were taken and how many
 * acquisition contexts made it; the edges of reported cycles in red. */
#include "launcher/run.h"

#include <stdio.h>
#include <string.h>

/* A DOT string's contents: quotes and backslashes escaped, line breaks
 * as DOT's \n. */
static void dot_text(lr_buf *b, const char *s)
{
    for (; *s; s++) {
        if (*s == '"' || *s == '\\')
            lr_buf_printf(b, "\\%c", *s);
        else if (*s == '\n')
            lr_buf_puts(b, "\\n");
        else
            lr_buf_printf(b, "%c", *s);
    }
}

static const char *base_name(const char *path)
{
    const char *slash = strrchr(path, '/');
    return slash ? slash + 1 : path;
}

/* "abba.c:14", or "?" when the stack had no source line */
static void place(lr_buf *b, const lr_json *p, int full)
{
    const char *file = lr_json_str(lr_json_get(p, "file"), NULL);
    if (!file) {
        lr_buf_puts(b, "?");
        return;
    }
    if (full) {
        dot_text(b, lr_json_str(lr_json_get(p, "function"), "?"));
        lr_buf_puts(b, " ");
    }
    dot_text(b, full ? file : base_name(file));
    lr_buf_printf(b, ":%ld", lr_json_long(lr_json_get(p, "line"), 0));
}

static void cluster(lr_buf *b, size_t k, const lr_proc *p)
{
    const lr_json *locks = lr_json_get(p->graph, "locks");
    const lr_json *edges = lr_json_get(p->graph, "edges");
    char cmd[120];
    snprintf(cmd, sizeof cmd, "%s", p->cmdline ? p->cmdline : "");
    if (p->cmdline && strlen(p->cmdline) >= sizeof cmd)
        strcpy(cmd + sizeof cmd - 4, "...");
    lr_buf_printf(b, "  subgraph cluster_%zu {\n    label=\"pid %ld: ", k, p->pid);
    dot_text(b, cmd);
    lr_buf_puts(b, "\";\n");
    if (!locks || !locks->n)
        lr_buf_printf(b, "    p%zu_none [label=\"(no lock taken while holding another)\", shape=plaintext];\n", k);
    size_t i = 0;
    for (const lr_json *l = locks ? locks->child : NULL; l; l = l->next, i++) {
        lr_buf_printf(b, "    p%zu_%zu [label=\"", k, i);
        dot_text(b, lr_json_str(lr_json_get(l, "label"), "?"));
        lr_buf_puts(b, "\", tooltip=\"");
        dot_text(b, lr_json_str(lr_json_get(l, "where"), ""));
        lr_buf_puts(b, " ");
        dot_text(b, lr_json_str(lr_json_get(l, "kind"), "lock"));
        lr_buf_puts(b, " ");
        dot_text(b, lr_json_str(lr_json_get(l, "addr"), ""));
        lr_buf_puts(b, "\"];\n");
    }
    for (const lr_json *e = edges ? edges->child : NULL; e; e = e->next) {
        const lr_json *cycle = lr_json_get(e, "cycle");
        int red = cycle && cycle->type == LR_JSON_BOOL && cycle->boolean;
        long count = lr_json_long(lr_json_get(e, "count"), 1);
        lr_buf_printf(b, "    p%zu_%ld -> p%zu_%ld [label=\"", k, lr_json_long(lr_json_get(e, "from"), 0),
                      k, lr_json_long(lr_json_get(e, "to"), 0));
        place(b, lr_json_get(e, "first"), 0);
        lr_buf_puts(b, " → ");
        place(b, lr_json_get(e, "second"), 0);
        if (count > 1)          /* ×1, the usual, would only crowd the picture */
            lr_buf_printf(b, "\\n×%ld", count);
        lr_buf_printf(b, "\", tooltip=\"T%ld took the first lock at ",
                      lr_json_long(lr_json_get(e, "thread"), 0));
        place(b, lr_json_get(e, "first"), 1);
        lr_buf_puts(b, ", then the second at ");
        place(b, lr_json_get(e, "second"), 1);
        lr_buf_printf(b, "\", count=%ld%s];\n", count,
                      red ? ", color=red, fontcolor=red, penwidth=2, cycle=true" : "");
    }
    lr_buf_puts(b, "  }\n");
}

size_t lr_dot_build(lr_buf *b, const lr_run *run)
{
    size_t n = 0;
    lr_buf_puts(b, "digraph lockrace {\n"
                   "  label=\"lockrace: the lock order\\nA → B: a thread took B while holding A, "
                   "at FILE:LINE → FILE:LINE\\n×N: made in N acquisition contexts (when more than one); "
                   "red: a reported cycle\";\n"
                   "  labelloc=t; fontname=\"Helvetica\";\n"
                   "  node [shape=box, style=rounded, fontname=\"Helvetica\"];\n"
                   "  edge [fontname=\"Helvetica\", fontsize=10];\n");
    for (size_t i = 0; i < run->nprocs; i++)
        if (run->procs[i].graph)
            cluster(b, n++, &run->procs[i]);
    lr_buf_puts(b, "}\n");
    return n;
}
