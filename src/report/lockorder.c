/* The lock-order inversion report: the cycle, each edge with the stacks
 * of both acquisitions, and whether this run's threads could close it. */
#include "report/format.h"
#include "model/lockreg.h"

#include <unistd.h>

/* A cycle whose edges came from fewer threads than it has edges: it
 * closes only with a thread per edge, so the edges one thread made must
 * run in different threads. */
/* A cycle with an edge taken by a timed lock cannot hang for good: that
 * acquisition gives up at its deadline (ETIMEDOUT), and the threads stall
 * until it does rather than deadlock. */
static int any_bounded(const lr_report *r)
{
    for (size_t i = 0; i < r->nedges; i++)
        if (r->edges[i].bounded)
            return 1;
    return 0;
}

static void text_threads_short(lr_buf *b, const lr_report *r, char (*labels)[200], pid_t pid)
{
    const char *verb = any_bounded(r) ? "stalls" : "deadlocks";
    char tl[64];
    size_t threads = 0;
    for (size_t i = 0; i < r->nedges; i++) {
        size_t j = 0;
        while (j < i && r->edges[j].thread != r->edges[i].thread)
            j++;
        threads += j == i;
    }
    lr_buf_printf(b, "==%d== This run's threads alone cannot close "
                     "it: its %zu edges were made by %zu threads, and it %s only with a thread "
                     "per edge, each holding its edge's first lock at once. It %s when these "
                     "paths run in different threads at the same time:", (int)pid, r->nedges, threads,
                  verb, verb);
    const char *sep = " ";
    for (size_t i = 0; i < r->nedges; i++) {
        size_t j = 0, count = 0;
        while (j < i && r->edges[j].thread != r->edges[i].thread)
            j++;
        if (j < i)
            continue;               /* listed with its thread's first edge */
        for (size_t k = i; k < r->nedges; k++)
            count += r->edges[k].thread == r->edges[i].thread;
        if (count < 2)
            continue;
        size_t all = count;
        lr_thread_label(r->edges[i].thread, tl, sizeof tl);
        const char *and = sep;
        for (size_t k = i; k < r->nedges; k++) {
            const lr_report_edge *e = &r->edges[k];
            if (e->thread != r->edges[i].thread)
                continue;
            count--;
            lr_buf_printf(b, "%s%s -> %s", and, labels[e->from], labels[e->to]);
            and = count == 1 ? " and " : ", ";
        }
        lr_buf_printf(b, ", %s made by %s", all == 2 ? "both" : "all", tl);
        sep = "; ";
    }
    lr_buf_puts(b, ".\n");
}

void lr_text_lock_order(lr_buf *b, const lr_report *r, lr_lock_desc *d, char (*labels)[200])
{
    char tl[64];
    pid_t pid = getpid();
    lr_buf_printf(b, "==%d== lockrace: lock-order-inversion: ", (int)pid);
    for (size_t i = 0; i < r->nlocks; i++)
        lr_buf_printf(b, "%s -> ", labels[i]);
    lr_buf_printf(b, "%s\n", labels[0]);
    int bounded = any_bounded(r);
    if (bounded)
        lr_buf_printf(b, "==%d== These %zu locks are taken in orders that form a cycle. Not a hang for "
                         "good: its edge taken with a timed lock gives up at its deadline, so the "
                         "threads that run these paths together stall until then, and that lock call "
                         "fails with ETIMEDOUT.\n", (int)pid, r->nlocks);
    else
        lr_buf_printf(b, "==%d== These %zu locks are taken in orders that form a cycle: the program can "
                         "deadlock.\n", (int)pid, r->nlocks);
    if (r->gate.id) {
        lr_lock_desc gd;
        char gl[200];
        lr_describe_lock(&r->gate, &gd);
        lr_lock_label(&r->gate, &gd, gl, sizeof gl);
        lr_buf_printf(b, "==%d== Every edge of it was made while holding %s, taken before them: it cannot "
                         "deadlock while that stays so (shown because show_gated=1).\n", (int)pid, gl);
    }
    if (r->single_thread) {
        lr_thread_label(r->edges[0].thread, tl, sizeof tl);
        /* a thread per edge, each holding its edge's first lock */
        static const char *const counts[] = { "two", "three", "four", "five", "six", "seven", "eight" };
        lr_buf_printf(b, "==%d== One thread, %s, made every edge of the cycle, so it could not %s "
                         "this time; it will once ", (int)pid, tl, bounded ? "stall" : "deadlock");
        if (r->nedges >= 2 && r->nedges <= 8)
            lr_buf_puts(b, counts[r->nedges - 2]);
        else
            lr_buf_printf(b, "%zu", r->nedges);
        lr_buf_printf(b, " threads run these paths at once%s.\n",
                      r->nedges > 2 ? ", each holding one of these locks" : "");
    } else if (r->threads_short) {
        text_threads_short(b, r, labels, pid);
    } else {
        lr_buf_printf(b, "==%d== Found from the orders the locks were taken in, which needs no hang: "
                         "it %s when these threads run these paths at the same time.\n", (int)pid,
                      bounded ? "stalls" : "deadlocks");
    }
    for (size_t i = 0; i < r->nedges; i++) {
        const lr_report_edge *e = &r->edges[i];
        lr_thread_label(e->thread, tl, sizeof tl);
        lr_buf_printf(b, "\n  %s took %s%s while holding %s%s%s:\n", tl, labels[e->to],
                      lr_mode_words(&r->locks[e->to], e->second_shared), labels[e->from],
                      lr_mode_words(&r->locks[e->from], e->first_shared),
                      e->bounded ? " (with a timed lock: it gives up at its deadline)" : "");
        lr_buf_printf(b, "    %s taken at:\n", labels[e->to]);
        lr_text_stack(b, e->second_stack, "      ");
        lr_buf_printf(b, "    %s taken earlier at:\n", labels[e->from]);
        lr_text_stack(b, e->first_stack, "      ");
    }
    lr_text_origins(b, r, d, labels);
}

void lr_json_lock_order(lr_buf *b, const lr_report *r, lr_lock_desc *d, char (*labels)[200],
                            unsigned long seq)
{
    lr_buf summary = { 0 };
    lr_buf_printf(&summary, "lock-order inversion: cycle of %zu locks (", r->nlocks);
    for (size_t i = 0; i < r->nlocks; i++)
        lr_buf_printf(&summary, "%s%s", i ? ", " : "", labels[i]);
    lr_buf_puts(&summary, ")");
    lr_json_header(b, r, seq, summary.data ? summary.data : "", "can-deadlock");
    lr_buf_free(&summary);
    lr_buf_printf(b, ",\"single_thread\":%s", r->single_thread ? "true" : "false");
    lr_buf_printf(b, ",\"threads_short\":%s", r->threads_short ? "true" : "false");
    if (r->gate.id) {
        lr_lock_desc gd;
        char gl[200];
        lr_describe_lock(&r->gate, &gd);
        lr_lock_label(&r->gate, &gd, gl, sizeof gl);
        lr_buf_puts(b, ",\"gated_by\":");
        lr_buf_json_string(b, gl);
    }
    lr_json_locks(b, r, d);
    lr_buf_puts(b, ",\"edges\":[");
    for (size_t i = 0; i < r->nedges; i++) {
        const lr_report_edge *e = &r->edges[i];
        lr_buf_printf(b, "%s{\"from\":%d,\"to\":%d,\"thread\":", i ? "," : "", e->from, e->to);
        lr_json_thread(b, e->thread);
        lr_buf_puts(b, ",\"first_stack\":");
        lr_json_stack(b, e->first_stack);
        lr_json_stack_unwound_in(b, "first_stack", e->first_stack);
        lr_buf_puts(b, ",\"second_stack\":");
        lr_json_stack(b, e->second_stack);
        lr_json_stack_unwound_in(b, "second_stack", e->second_stack);
        lr_buf_printf(b, ",\"bounded\":%s", e->bounded ? "true" : "false");
        if (lr_lock_has_modes(r->locks[e->from].type) || lr_lock_has_modes(r->locks[e->to].type))
            lr_buf_printf(b, ",\"first_mode\":\"%s\",\"second_mode\":\"%s\"",
                          e->first_shared ? "read" : "write", e->second_shared ? "read" : "write");
        lr_buf_puts(b, "}");
    }
    lr_buf_puts(b, "]}\n");
}
