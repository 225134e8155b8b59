/* Reports: one model (lr_report, built by the engines), printed as text
 * and as a JSON line, written with write(2) the moment a report is found
 * so that nothing is lost if the program then crashes, hangs or is killed.
 * Each kind has its printer (lockorder.c, deadlock.c, race.c, misuse.c),
 * they share describe.c and stacks.c, and output.c knows where reports go.
 * Symbolization is done in this folder and only here. report_lock
 * serializes printing; it is the outermost internal lock and nothing is
 * held while taking it. */
#include "report/report.h"
#include "report/format.h"
#include "report/output.h"
#include "report/suppress.h"
#include "support/arena.h"
#include "support/bigstack.h"
#include "support/ilock.h"
#include "support/options.h"
#include "support/stack.h"
#include "support/symbolize.h"
#include "model/thread.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

void (*lr_report_sink)(const lr_report *r);
void (*lr_report_graph_sink)(const lr_report_graph_edge *edges, size_t n, uint64_t total);

static lr_ilock report_lock = LR_ILOCK_INIT;
static unsigned long counts[LR_REPORT_KINDS];
static unsigned long suppressed_counts[LR_REPORT_KINDS];

static const char *kind_names[] = { [LR_REPORT_LOCK_ORDER] = "lock-order-inversion",
                                    [LR_REPORT_DEADLOCK] = "deadlock",
                                    [LR_REPORT_STALL] = "stall",
                                    [LR_REPORT_DATA_RACE] = "data-race",
                                    [LR_REPORT_LOST_UPDATE] = "lost-update",
                                    [LR_REPORT_MISUSE] = "misuse" };

const char *lr_report_kind_name(int kind)
{
    return kind_names[kind];
}

lr_report *lr_report_new(int kind, size_t nlocks, size_t nedges, size_t nthreads, size_t nholds)
{
    size_t size = sizeof(lr_report) + nlocks * sizeof(lr_report_lock) +
                  nedges * sizeof(lr_report_edge) + nthreads * sizeof(lr_report_thread) +
                  nholds * sizeof(lr_report_hold) + nlocks * (sizeof(void *) + sizeof(uint64_t));
    lr_report *r = lr_map(size);
    if (!r)
        return NULL;
    r->kind = kind;
    r->size = size;
    r->nlocks = nlocks;
    r->nedges = nedges;
    r->nthreads = nthreads;
    r->nholds = nholds;
    r->locks = (lr_report_lock *)(r + 1);
    r->edges = (lr_report_edge *)(r->locks + nlocks);
    r->threads = (lr_report_thread *)(r->edges + nedges);
    r->holds = (lr_report_hold *)(r->threads + nthreads);
    r->scratch = r->holds + nholds;
    return r;
}

void lr_report_free(lr_report *r)
{
    if (r)
        lr_unmap(r, r->size);
}

unsigned long lr_report_count(void)
{
    unsigned long n = 0;
    for (size_t i = 0; i < sizeof counts / sizeof counts[0]; i++)
        n += __atomic_load_n(&counts[i], __ATOMIC_RELAXED);
    return n;
}

void lr_report_init(void)
{
    if (lr_suppress_load(lr_opt.suppressions) < 0)
        _exit(2);
    lr_out_init();
}

unsigned long lr_report_suppressed(void)
{
    unsigned long n = 0;
    for (size_t i = 0; i < LR_REPORT_KINDS; i++)
        n += __atomic_load_n(&suppressed_counts[i], __ATOMIC_RELAXED);
    return n;
}

/* ---- one report for one bug, wherever its library was loaded ----
 * The lock-order engine names a cycle by the stacks of its edges, which
 * are addresses, under its graph lock, where no module can be looked up
 * (lockgraph.c): a library unloaded and loaded again at another address
 * (a plugin reloaded) makes the same bug again from other locks and other
 * addresses, and it was reported once per load. Before a cycle is
 * written, its stacks are named again by each frame's module and offset
 * in it; a cycle whose every edge has the same code paths as one met
 * before is that bug. Under report_lock. */
#define SEEN_CYCLES 1024

static uint64_t seen_cycles[SEEN_CYCLES];

static uint64_t stable_stack(lr_stack_id id)
{
    const uintptr_t *pcs;
    int n = lr_stack_frames(lr_stack_plain(id), &pcs);
    uint64_t h = 0xcbf29ce484222325ull;
    for (int i = 0; i < n; i++) {
        lr_code_info info;
        uint64_t frame = pcs[i];
        if (lr_sym_code(pcs[i] - 1, &info) == 0 && info.module[0]) {
            frame = info.module_offset;
            for (const char *c = info.module; *c; c++)
                h = (h ^ (uint8_t)*c) * 0x100000001b3ull;
        }
        h = (h ^ frame) * 0x100000001b3ull;
    }
    return h;
}

/* 1: a cycle with these code paths was written already. Its edges in
 * any order, wherever the cycle starts: a sum of each one's mix. */
static int cycle_seen(const lr_report *r)
{
    uint64_t h = 0;
    for (size_t i = 0; i < r->nlocks; i++) {
        const lr_report_edge *e = &r->edges[i];
        /* no stack known: its first lock, as the engine names it then */
        uint64_t path = e->first_stack || e->second_stack
                            ? stable_stack(e->first_stack) * 0x9e3779b97f4a7c15ull ^
                                  stable_stack(e->second_stack)
                            : r->locks[e->from].addr;
        path *= 0xff51afd7ed558ccdull;
        h += path ^ (path >> 33);
    }
    h |= 1;
    for (size_t i = 0; i < SEEN_CYCLES; i++) {
        if (seen_cycles[i] == h)
            return 1;
        if (!seen_cycles[i]) {
            seen_cycles[i] = h;
            return 0;
        }
    }
    return 0;   /* full: a duplicate beats a missing report */
}

/* Runs fn(arg) as the report module does all its work: inside lockrace,
 * not cancellable (a thread cancelled in it would leave report_lock taken
 * for ever), under report_lock, on lockrace's own stack (symbolizing needs
 * about 150 KB, more than a small thread stack or an alternate signal
 * stack has; report_lock makes this thread its only user), errno kept. */
static void on_report_stack(void (*fn)(void *), void *arg)
{
    int saved = errno;
    int cancel = lr_cancel_off();
    lr_thread *self = lr_thread_current();
    if (self)
        lr_enter(self);
    lr_ilock_take(&report_lock);
    lr_bigstack_call(fn, arg);
    lr_ilock_drop(&report_lock);
    if (self)
        lr_leave(self);
    lr_cancel_restore(cancel);
    errno = saved;
}

/* A report and what became of it, for a function run on_report_stack. */
typedef struct report_call {
    const lr_report *r;
    int suppressed;             /* emit: a suppression hid it */
    int again;                  /* seen: a cycle met before */
} report_call;

static void seen(void *arg)
{
    report_call *call = arg;
    call->again = cycle_seen(call->r);
}

int lr_report_cycle_again(const lr_report *r)
{
    if (lr_report_sink)
        return 0;       /* the unit tests' reports have no code to name */
    report_call call = { r, 0, 0 };
    on_report_stack(seen, &call);
    return call.again;
}

/* The report, formatted and written (suppressed, it is only counted); run
 * under report_lock on lockrace's own stack. */

static void emit(void *arg)
{
    report_call *call = arg;
    const lr_report *r = call->r;
    unsigned long seq = lr_report_count() + 1;
    lr_lock_desc *d = lr_map((r->nlocks + 1) * (sizeof *d + 200));
    char (*labels)[200] = d ? (char (*)[200])(d + r->nlocks) : NULL;
    if (!d)
        return;
    for (size_t i = 0; i < r->nlocks; i++) {
        lr_describe_lock(&r->locks[i], &d[i]);
        lr_lock_label(&r->locks[i], &d[i], labels[i], 200);
    }
    if (lr_suppress_any() && lr_report_suppressed_by_rule(r, labels)) {
        call->suppressed = 1;
        lr_unmap(d, (r->nlocks + 1) * (sizeof *d + 200));
        return;
    }
    lr_buf text = { 0 }, json = { 0 };
    if (r->kind == LR_REPORT_DEADLOCK)
        lr_text_deadlock(&text, r, d, labels);
    else if (r->kind == LR_REPORT_STALL)
        lr_text_stall(&text, r, d, labels);
    else if (r->kind == LR_REPORT_DATA_RACE)
        lr_text_data_race(&text, r, d, labels);
    else if (r->kind == LR_REPORT_LOST_UPDATE)
        lr_text_lost_update(&text, r, d, labels);
    else if (r->kind == LR_REPORT_MISUSE)
        lr_text_misuse(&text, r, d, labels);
    else
        lr_text_lock_order(&text, r, d, labels);
    if (lr_opt.gen_suppressions)
        lr_report_suggest_suppression(r, labels, &text);
    if (text.data)
        lr_out_text(text.data, text.len);
    if (lr_out_json_wanted()) {
        if (r->kind == LR_REPORT_DEADLOCK)
            lr_json_deadlock(&json, r, d, labels, seq);
        else if (r->kind == LR_REPORT_STALL)
            lr_json_stall(&json, r, d, labels, seq);
        else if (r->kind == LR_REPORT_DATA_RACE || r->kind == LR_REPORT_LOST_UPDATE)
            lr_json_race(&json, r, d, seq);
        else if (r->kind == LR_REPORT_MISUSE)
            lr_json_misuse(&json, r, d, labels, seq);
        else
            lr_json_lock_order(&json, r, d, labels, seq);
        if (json.data)
            lr_out_json(json.data, json.len);
    }
    lr_buf_free(&text);
    lr_buf_free(&json);
    lr_unmap(d, (r->nlocks + 1) * (sizeof *d + 200));
}

/* emit, and the count that numbers the next report, under report_lock */
static void emit_counted(void *arg)
{
    report_call *call = arg;
    emit(call);
    __atomic_add_fetch(call->suppressed ? &suppressed_counts[call->r->kind] : &counts[call->r->kind], 1,
                       __ATOMIC_RELAXED);
}

void (*lr_report_after)(void);

int lr_report_emit(const lr_report *r)
{
    if (lr_report_sink) {
        lr_report_sink(r);
        return 1;
    }
    report_call call = { r, 0, 0 };
    on_report_stack(emit_counted, &call);
    if (!call.suppressed && lr_report_after)
        lr_report_after();
    return !call.suppressed;
}

void lr_report_write_extra(const char *text, size_t tlen, const char *json, size_t jlen)
{
    lr_ilock_take(&report_lock);
    if (text && tlen)
        lr_out_text(text, tlen);
    if (json && jlen)
        lr_out_json(json, jlen);
    lr_ilock_drop(&report_lock);
}

typedef struct defines_call {
    const char *const *names;
    int n, found;
} defines_call;

static void find_defined(void *arg)
{
    defines_call *call = arg;
    call->found = lr_sym_main_defines(call->names, call->n);
}

static void keep_files(void *arg)
{
    (void)arg;
    lr_sym_keep_files();
}

void lr_report_before_chroot(void)
{
    lr_ilock_take(&report_lock);
    lr_bigstack_call(keep_files, NULL);
    lr_ilock_drop(&report_lock);
}

int lr_report_main_defines(const char *const *names, int n)
{
    defines_call call = { names, n, -1 };
    lr_ilock_take(&report_lock);
    lr_bigstack_call(find_defined, &call);
    lr_ilock_drop(&report_lock);
    return call.found;
}

typedef struct graph_call {
    const lr_report_graph_edge *edges;
    size_t n;
    uint64_t total;
} graph_call;

static void write_graph(void *arg)
{
    graph_call *call = arg;
    lr_buf b = { 0 };
    lr_json_graph(&b, call->edges, call->n, call->total);
    if (b.data)
        lr_out_json(b.data, b.len);
    lr_buf_free(&b);
}

/* Like a report, symbolized on lockrace's own stack under report_lock;
 * unlike one, not suppressed, not counted, never text. */
void lr_report_graph(const lr_report_graph_edge *edges, size_t n, uint64_t total)
{
    if (lr_report_graph_sink) {
        lr_report_graph_sink(edges, n, total);
        return;
    }
    graph_call call = { edges, n, total };
    lr_ilock_take(&report_lock);
    if (lr_out_json_wanted())
        lr_bigstack_call(write_graph, &call);
    lr_ilock_drop(&report_lock);
}

void lr_report_summary(int status, int final)
{
    char line[512];
    int n = snprintf(line, sizeof line, "==%d== lockrace: %lu report%s (", (int)getpid(),
                     lr_report_count(), lr_report_count() == 1 ? "" : "s");
    const char *sep = "";
    for (size_t k = 0; k < sizeof counts / sizeof counts[0]; k++)
        if (counts[k]) {
            n += snprintf(line + n, sizeof line - (size_t)n, "%s%s: %lu", sep, kind_names[k], counts[k]);
            sep = ", ";
        }
    if (lr_report_suppressed())
        n += snprintf(line + n, sizeof line - (size_t)n, "%s%lu suppressed", sep,
                      lr_report_suppressed());
    if (lr_opt.exitcode && lr_report_count() && final != status)
        snprintf(line + n, sizeof line - (size_t)n,
                 "); exit status %d (the program's was %d; exitcode=0 keeps it)\n", final, status);
    else if (lr_opt.exitcode && lr_report_count())
        snprintf(line + n, sizeof line - (size_t)n,
                 "); exit status %d (the program's own; exitcode=%d replaces only a 0)\n", status,
                 lr_opt.exitcode);
    else
        snprintf(line + n, sizeof line - (size_t)n, ")\n");
    lr_out_text(line, strlen(line));
}

void lr_report_process_end(int status, uint32_t threads, uint32_t locks)
{
    lr_ilock_take(&report_lock);
    lr_out_exit(status, threads, locks);
    lr_ilock_drop(&report_lock);
}

void lr_report_child_ended(pid_t pid, int code, int signaled)
{
    lr_out_child_exit(pid, code, signaled);     /* its own file, opened and closed: no lock */
}

void lr_report_fork_prepare(void) { lr_ilock_take(&report_lock); }
void lr_report_fork_parent(void) { lr_ilock_drop(&report_lock); }

/* The child's reports are its own: it starts with a count of zero. */
void lr_report_fork_child(void)
{
    lr_ilock_reset(&report_lock);
    memset(counts, 0, sizeof counts);
    lr_out_fork_child();
}
