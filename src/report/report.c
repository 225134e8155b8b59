/* Printing reports: one model (lr_report), two printers (text, JSON line),
 * written with write(2) the moment a report is found so that nothing is
 * lost if the program then crashes, hangs or is killed. Symbolization is
 * done here and only here. report_lock serializes printing; it is the
 * outermost internal lock and nothing is held while taking it. */
#include "report/report.h"
#include "report/pystack.h"
#include "support/python.h"
#include "support/arena.h"
#include "support/bigstack.h"
#include "support/ilock.h"
#include "detect/lockorder.h"
#include "model/lockreg.h"
#include "detect/misuse.h"
#include "support/options.h"
#include "report/suppress.h"
#include "support/symbolize.h"
#include "model/thread.h"
#include "support/util.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

void (*lr_report_sink)(const lr_report *r);

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

/* ---- what a report says about locks, threads and code ---- */

enum { WHERE_GLOBAL, WHERE_HEAP, WHERE_STACK };
static const char *where_names[] = { "global", "heap", "stack" };

typedef struct lock_desc {
    char name[160];             /* "" when it has none */
    int where;
    uint32_t stack_owner;       /* for WHERE_STACK */
} lock_desc;

/* The thread on whose stack addr lies, UINT32_MAX when none. The main
 * thread's stack is the [stack] mapping. A thread glibc started has its
 * descriptor (its pthread_t) at the top of its stack block, above every
 * frame, also on a stack the program gave (allocate_stack, glibc 2.36):
 * the owner is the thread whose descriptor is the nearest above addr in
 * the same mapping (mappings of stacks without guard pages may merge). A
 * stack reused from an ended thread's belongs to the running one. Read
 * when a report is written, so that starting a thread costs nothing. */
static uint32_t stack_owner(uintptr_t addr)
{
    char line[256];
    unsigned long lo = 0, hi = 0;
    int found = 0, main_stack = 0;
    FILE *f = fopen("/proc/self/maps", "re");
    if (!f)
        return UINT32_MAX;
    while (!found && fgets(line, sizeof line, f)) {
        if (sscanf(line, "%lx-%lx", &lo, &hi) == 2 && addr >= lo && addr < hi) {
            found = 1;
            main_stack = strstr(line, "[stack]") != NULL;
        }
        while (!strchr(line, '\n') && fgets(line, sizeof line, f))
            ;                   /* the rest of a long line */
    }
    fclose(f);
    if (!found)
        return UINT32_MAX;
    if (main_stack)
        return 0;
    uint32_t owner = UINT32_MAX;
    uintptr_t best = 0;
    int best_alive = 0;
    for (uint32_t id = 1; id < lr_thread_count(); id++) {
        lr_thread_info *t = lr_thread_info_get(id);
        if (!t || !t->descriptor_on_stack || t->handle <= addr || t->handle >= hi)
            continue;
        int alive = __atomic_load_n(&t->state, __ATOMIC_ACQUIRE) != NULL;
        if (owner == UINT32_MAX || t->handle < best || (t->handle == best && (alive || !best_alive))) {
            owner = id;
            best = t->handle;
            best_alive = alive;
        }
    }
    return owner;
}

static void describe_lock(const lr_report_lock *l, lock_desc *d)
{
    memset(d, 0, sizeof *d);
    int global = lr_sym_data(l->addr, d->name, sizeof d->name) == 0;
    if (l->name)
        snprintf(d->name, sizeof d->name, "%s", l->name);
    else if (!global)
        lr_pystack_lock_name(l->first_seen, d->name, sizeof d->name);
    d->where = global ? WHERE_GLOBAL : WHERE_HEAP;
    if (global)
        return;
    uint32_t owner = stack_owner(l->addr);
    if (owner != UINT32_MAX) {
        d->where = WHERE_STACK;
        d->stack_owner = owner;
    }
}

static const char *lock_kind(int type)
{
    return type == LR_RWLOCK      ? "rwlock"
           : type == LR_SPINLOCK  ? "spinlock"
           : type == LR_SEMAPHORE ? "semaphore"
                                  : "mutex";
}

/* " for reading" / " for writing" after an rwlock's name, "" for others */
static const char *mode_words(const lr_report_lock *l, int shared)
{
    if (l->type != LR_RWLOCK)
        return "";
    return shared ? " for reading" : " for writing";
}

/* "lock_a", else "heap mutex 0x5555...", "stack mutex 0x7ffd..." */
static void lock_label(const lr_report_lock *l, const lock_desc *d, char *buf, size_t len)
{
    if (d->name[0])
        snprintf(buf, len, "%s", d->name);
    else
        snprintf(buf, len, "%s %s %#lx", where_names[d->where], lock_kind(l->type),
                 (unsigned long)l->addr);
}

static void thread_name(lr_thread_info *t, char *buf, size_t len)
{
    buf[0] = 0;
    const char *python = lr_python_thread_name(t->tid, t->handle);
    if (python && !t->name[0]) {
        snprintf(buf, len, "%s", python);
        return;
    }
    if (t->name[0]) {
        snprintf(buf, len, "%s", t->name);
        return;
    }
    char path[64];
    snprintf(path, sizeof path, "/proc/self/task/%d/comm", (int)t->tid);
    int fd = t->tid ? open(path, O_RDONLY | O_CLOEXEC) : -1;
    if (fd < 0)
        return;
    ssize_t n = read(fd, buf, len - 1);
    close(fd);
    buf[n > 0 ? n : 0] = 0;
    buf[strcspn(buf, "\n")] = 0;
    lr_utf8_trim(buf);          /* the kernel keeps 15 bytes of a name, not 15 characters */
    /* a name inherited from the program is no name: "T3 (prog)" says nothing */
    if (strncmp(buf, program_invocation_short_name, 15) == 0)
        buf[0] = 0;
}

static void thread_label(uint32_t id, char *buf, size_t len)
{
    char name[128];
    lr_thread_info *t = lr_thread_info_get(id);
    if (t)
        thread_name(t, name, sizeof name);
    if (t && name[0])
        snprintf(buf, len, "T%u (%s)", id, name);
    else
        snprintf(buf, len, "T%u", id);
}

/* ---- text ---- */

/* Frames below a thread's or the process's entry point (start_thread,
 * clone3, __libc_start_main, _start) say nothing to the user. */
static int is_entry_frame(const char *function)
{
    static const char *const entry[] = { "start_thread", "__clone3", "clone", "__clone",
                                         "__libc_start_call_main", "__libc_start_main",
                                         "__libc_start_main@@GLIBC_2.34", "_start" };
    for (size_t i = 0; i < sizeof entry / sizeof entry[0]; i++)
        if (!strcmp(function, entry[i]))
            return 1;
    return 0;
}

/* A stack as printed: each return address expanded into its inlined
 * frames, entry frames cut off. */
#define MAX_FRAMES (LR_STACK_MAX * 4)
typedef struct frames {
    int n;
    uintptr_t pcs[MAX_FRAMES];
    lr_code_info info[MAX_FRAMES];
} frames;

static void symbolize_stack(lr_stack_id id, frames *f)
{
    const uintptr_t *pcs;
    int n = lr_stack_frames(id, &pcs);
    int python = n;             /* a Python program's stack: its Python frames follow the C frames */
    while (python > 0 && lr_python_is_frame(pcs[python - 1]))
        python--;
    f->n = 0;
    for (int i = 0; i < python && f->n < MAX_FRAMES; i++) {
        lr_code_info *out = &f->info[f->n];
        int k = lr_sym_code_frames(pcs[i] - 1, out, MAX_FRAMES - f->n);
        if (k == 0) {
            lr_sym_code(pcs[i] - 1, out);
            k = 1;
        }
        if (f->n > 0 && is_entry_frame(out[k - 1].function))
            break;
        for (int j = 0; j < k; j++)
            f->pcs[f->n + j] = pcs[i];
        f->n += k;
    }
    f->n = lr_pystack_merge(f->pcs, f->info, f->n, MAX_FRAMES, pcs + python, n - python);
    /* Library code inlined into the program from system headers
     * (std::lock_guard, std::mutex::lock, __gthread_mutex_lock) is not
     * where the program took the lock: start at the program's own frame. */
    int skip = 0;
    while (skip + 1 < f->n && f->pcs[skip] == f->pcs[skip + 1] &&
           strncmp(f->info[skip].file, "/usr/include/", 13) == 0)
        skip++;
    if (skip) {
        memmove(f->pcs, f->pcs + skip, (size_t)(f->n - skip) * sizeof f->pcs[0]);
        memmove(f->info, f->info + skip, (size_t)(f->n - skip) * sizeof f->info[0]);
        f->n -= skip;
    }
}

/* Frame i was inlined into frame i + 1 (both come from one address). */
static int inlined(const frames *f, int i)
{
    return i + 1 < f->n && f->pcs[i + 1] == f->pcs[i] && !lr_python_is_frame(f->pcs[i]);
}

static void text_stack(lr_buf *b, lr_stack_id id, const char *indent)
{
    static frames f;            /* under report_lock */
    symbolize_stack(id, &f);
    if (f.n == 0) {
        lr_buf_printf(b, "%s(no stack)\n", indent);
        return;
    }
    for (int i = 0; i < f.n; i++) {
        const lr_code_info *c = &f.info[i];
        if (lr_python_is_frame(f.pcs[i])) {
            lr_buf_printf(b, "%s#%d %s %s:%d\n", indent, i, c->function, c->file, c->line);
            continue;
        }
        lr_buf_printf(b, "%s#%d %#lx %s", indent, i, (unsigned long)f.pcs[i],
                      c->function[0] ? c->function : "??");
        if (c->file[0])
            lr_buf_printf(b, " %s:%d", c->file, c->line);
        if (c->module[0])
            lr_buf_printf(b, " (%s+%#lx)", c->module, (unsigned long)c->module_offset);
        lr_buf_puts(b, inlined(&f, i) ? " [inlined]\n" : "\n");
    }
}

/* Where each thread came from, once per thread. */
static void text_thread_origins(lr_buf *b, const uint32_t *ids, size_t n)
{
    char tl[64];
    lr_buf_puts(b, "\n");
    for (size_t i = 0; i < n; i++) {
        int seen = 0;
        for (size_t j = 0; j < i; j++)
            seen |= ids[j] == ids[i];
        lr_thread_info *t = lr_thread_info_get(ids[i]);
        if (seen || !t)
            continue;
        thread_label(ids[i], tl, sizeof tl);
        if (t->parent == UINT32_MAX) {
            lr_buf_printf(b, "  %s is the main thread\n", tl);
            continue;
        }
        char parent[64];
        thread_label(t->parent, parent, sizeof parent);
        lr_buf_printf(b, "  %s was created by %s at:\n", tl, parent);
        text_stack(b, t->created_at, "      ");
    }
    lr_buf_puts(b, "\n");
}

/* Where a heap or stack lock was first seen (globals are named already). */
static void text_lock_origins(lr_buf *b, const lr_report *r, const lock_desc *d,
                              char (*labels)[200])
{
    char tl[64];
    for (size_t i = 0; i < r->nlocks; i++) {
        if (d[i].where == WHERE_GLOBAL)
            continue;
        const lr_report_lock *l = &r->locks[i];
        thread_label(d[i].where == WHERE_STACK ? d[i].stack_owner : l->first_thread, tl, sizeof tl);
        lr_buf_printf(b, "\n  %s is %s, first seen in %s at:\n", labels[i],
                      d[i].where == WHERE_STACK ? "on a thread's stack" : "in heap memory", tl);
        text_stack(b, l->first_seen, "      ");
    }
}

/* The origins section of every report: heap and stack locks, then the
 * threads (of the cycle's edges, or of the report's thread list). */
static void text_origins(lr_buf *b, const lr_report *r, const lock_desc *d, char (*labels)[200])
{
    uint32_t ids[64];
    size_t n = 0;
    for (size_t i = 0; i < r->nthreads && n < 64; i++)
        ids[n++] = r->threads[i].id;
    for (size_t i = 0; i < r->nedges && n < 64; i++)
        ids[n++] = r->edges[i].thread;
    text_lock_origins(b, r, d, labels);
    text_thread_origins(b, ids, n);
}

/* A cycle whose edges came from fewer threads than it has edges: it
 * closes only with a thread per edge, so the edges one thread made must
 * run in different threads. */
static void text_threads_short(lr_buf *b, const lr_report *r, char (*labels)[200], pid_t pid)
{
    char tl[64];
    size_t threads = 0;
    for (size_t i = 0; i < r->nedges; i++) {
        size_t j = 0;
        while (j < i && r->edges[j].thread != r->edges[i].thread)
            j++;
        threads += j == i;
    }
    lr_buf_printf(b, "==%d== Nothing was blocked this time, and this run's threads alone cannot close "
                     "it: its %zu edges were made by %zu threads, and it deadlocks only with a thread "
                     "per edge, each holding its edge's first lock at once. It deadlocks when these "
                     "paths run in different threads at the same time:", (int)pid, r->nedges, threads);
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
        thread_label(r->edges[i].thread, tl, sizeof tl);
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

static void text_lock_order(lr_buf *b, const lr_report *r, lock_desc *d, char (*labels)[200])
{
    char tl[64];
    pid_t pid = getpid();
    lr_buf_printf(b, "==%d== lockrace: lock-order-inversion: ", (int)pid);
    for (size_t i = 0; i < r->nlocks; i++)
        lr_buf_printf(b, "%s -> ", labels[i]);
    lr_buf_printf(b, "%s\n", labels[0]);
    lr_buf_printf(b, "==%d== These %zu locks are taken in orders that form a cycle: the program can "
                     "deadlock.\n", (int)pid, r->nlocks);
    if (r->gate.id) {
        lock_desc gd;
        char gl[200];
        describe_lock(&r->gate, &gd);
        lock_label(&r->gate, &gd, gl, sizeof gl);
        lr_buf_printf(b, "==%d== Every edge of it was made while holding %s, taken before them: it cannot "
                         "deadlock while that stays so (shown because show_gated=1).\n", (int)pid, gl);
    }
    if (r->single_thread) {
        thread_label(r->edges[0].thread, tl, sizeof tl);
        lr_buf_printf(b, "==%d== One thread, %s, made every edge of the cycle, so it could not deadlock "
                         "this time; it will once two threads run these paths at once.\n", (int)pid, tl);
    } else if (r->threads_short) {
        text_threads_short(b, r, labels, pid);
    } else {
        lr_buf_printf(b, "==%d== Nothing was blocked this time; it deadlocks when these threads run "
                         "these paths at the same time.\n", (int)pid);
    }
    for (size_t i = 0; i < r->nedges; i++) {
        const lr_report_edge *e = &r->edges[i];
        thread_label(e->thread, tl, sizeof tl);
        lr_buf_printf(b, "\n  %s took %s%s while holding %s%s%s:\n", tl, labels[e->to],
                      mode_words(&r->locks[e->to], e->second_shared), labels[e->from],
                      mode_words(&r->locks[e->from], e->first_shared),
                      e->bounded ? " (with a timed lock: it gives up at its deadline)" : "");
        lr_buf_printf(b, "    %s taken at:\n", labels[e->to]);
        text_stack(b, e->second_stack, "      ");
        lr_buf_printf(b, "    %s taken earlier at:\n", labels[e->from]);
        text_stack(b, e->first_stack, "      ");
    }
    text_origins(b, r, d, labels);
}

/* a global's name ("item_ready"), else what it is and its address */
static const char *named_object(uintptr_t object, const char *what, char *buf, size_t len)
{
    char name[160];
    if (lr_sym_data(object, name, sizeof name) == 0)
        snprintf(buf, len, "%s", name);
    else
        snprintf(buf, len, "%s%s%#lx", what, *what ? " " : "", (unsigned long)object);
    return buf;
}

static const char *object_label(uintptr_t object, char *buf, size_t len)
{
    return named_object(object, "", buf, len);
}

static const char *cond_label(uintptr_t cond, char *buf, size_t len)
{
    return named_object(cond, "condition variable", buf, len);
}

static const char *policy_line(void)
{
    switch (lr_opt.deadlock) {
    case LR_DEADLOCK_ABORT:
        return "deadlock=abort: the process is ended now (deadlock=report lets it hang)";
    default:
        return "deadlock=report: the threads stay blocked (deadlock=abort ends the process)";
    }
}

/* The first line of a one-thread deadlock, after "deadlock: ". "relocked
 * by its own holder" is what users of Helgrind and lockdep ("recursive
 * locking") search for. Blocking on an rwlock it holds means holding it
 * for reading: glibc refuses its writer at once (EDEADLK). */
static void self_deadlock_words(lr_buf *b, const lr_report *r, const char *tl, char (*labels)[200])
{
    int w = r->threads[0].wait_lock;
    const char *lock = w >= 0 ? labels[w] : "?";
    if (w >= 0 && r->locks[w].type == LR_RWLOCK)
        lr_buf_printf(b, "%s asks for %s, an rwlock it holds for reading, and waits for its own read "
                         "lock: relocked by its own holder", tl, lock);
    else
        lr_buf_printf(b, "%s locks %s, which it already holds: relocked by its own holder", tl, lock);
}

static void text_deadlock(lr_buf *b, const lr_report *r, lock_desc *d, char (*labels)[200])
{
    char tl[64], other[64], cond[180];
    pid_t pid = getpid();
    const lr_report_thread *t0 = &r->threads[0];
    thread_label(t0->id, tl, sizeof tl);
    if (r->whole_process) {
        lr_buf_printf(b, "==%d== lockrace: deadlock: all %zu threads of the process are blocked, and none "
                         "can wake another\n", (int)pid, r->nthreads);
        lr_buf_printf(b, "==%d== No lock cycle explains it: threads wait on condition variables or joins "
                         "that nothing left running will signal (a lost wakeup looks like this).\n",
                      (int)pid);
    } else if (r->nthreads == 1) {
        lr_buf_printf(b, "==%d== lockrace: deadlock: ", (int)pid);
        self_deadlock_words(b, r, tl, labels);
        lr_buf_puts(b, "\n");
        int type = t0->wait_lock >= 0 ? r->locks[t0->wait_lock].type : LR_NORMAL;
        lr_buf_printf(b, "==%d== %s\n", (int)pid,
                      type == LR_RWLOCK ? "A write lock waits until every reader has left, itself "
                                          "included (glibc's default rwlock): the thread waits for "
                                          "itself, forever."
                      : type == LR_SPINLOCK ? "A spinlock is not recursive: the thread spins on "
                                              "itself, forever."
                                            : "It is not a recursive mutex: the thread waits for "
                                              "itself, forever.");
    } else {
        lr_buf_printf(b, "==%d== lockrace: deadlock: %zu threads are blocked for good, each waiting "
                         "for the next:", (int)pid, r->nthreads);
        for (size_t i = 0; i < r->nthreads; i++) {
            thread_label(r->threads[i].id, tl, sizeof tl);
            lr_buf_printf(b, " %s ->", tl);
        }
        thread_label(t0->id, tl, sizeof tl);
        lr_buf_printf(b, " %s\n==%d== Nothing can wake any of them: this is not a risk, the program is "
                         "stuck now.\n", tl, (int)pid);
    }
    for (size_t i = 0; i < r->nthreads; i++) {
        const lr_report_thread *t = &r->threads[i];
        thread_label(t->id, tl, sizeof tl);
        thread_label(t->waits_for, other, sizeof other);
        if (t->wait_kind == LR_WAIT_JOIN)
            lr_buf_printf(b, "\n  %s waits to join %s, at:\n", tl, other);
        else if (t->wait_kind == LR_WAIT_COND)
            lr_buf_printf(b, "\n  %s waits on %s%s%s, with no deadline, at:\n", tl,
                          cond_label(t->wait_object, cond, sizeof cond),
                          t->wait_lock >= 0 ? " with mutex " : "",
                          t->wait_lock >= 0 ? labels[t->wait_lock] : "");
        else if (t->wait_kind == LR_WAIT_BARRIER || t->wait_kind == LR_WAIT_SEM)
            lr_buf_printf(b, "\n  %s waits %s %s, with no deadline, at:\n", tl,
                          t->wait_kind == LR_WAIT_BARRIER ? "at barrier" : "on semaphore",
                          object_label(t->wait_object, cond, sizeof cond));
        else if (t->waits_for == UINT32_MAX)
            lr_buf_printf(b, "\n  %s waits for %s, at:\n", tl, labels[t->wait_lock]);
        else if (t->waits_for == t->id)
            lr_buf_printf(b, "\n  %s waits for %s, which it holds itself, at:\n", tl,
                          labels[t->wait_lock]);
        else
            lr_buf_printf(b, "\n  %s waits for %s, held by %s, at:\n", tl, labels[t->wait_lock],
                          other);
        if (t->wait_stack)
            text_stack(b, t->wait_stack, "      ");
        else
            lr_buf_puts(b, "      (not known: it was asleep in the kernel before lockrace saw it wait)\n");
        for (size_t h = 0; h < t->nholds; h++) {
            lr_buf_printf(b, "    it holds %s, taken at:\n", labels[t->holds[h].lock]);
            text_stack(b, t->holds[h].stack, "      ");
        }
    }
    text_origins(b, r, d, labels);
    lr_buf_printf(b, "==%d== lockrace: %s\n", (int)pid, policy_line());
}

/* threads[0] holds locks[0]; the others wait for it */
static void text_stall(lr_buf *b, const lr_report *r, lock_desc *d, char (*labels)[200])
{
    char holder[64], tl[64];
    pid_t pid = getpid();
    thread_label(r->threads[0].id, holder, sizeof holder);
    thread_label(r->threads[1].id, tl, sizeof tl);
    lr_buf_printf(b, "==%d== lockrace: stall: %s has waited %.1f s for %s, held by %s, which is not "
                     "blocked\n", (int)pid, tl, (double)r->threads[1].waited_ms / 1000.0, labels[0],
                  holder);
    lr_buf_printf(b, "==%d== Not a deadlock: the holder may still let go; it keeps %zu thread%s waiting "
                     "(stall_ms=%d).\n", (int)pid, r->nthreads - 1, r->nthreads == 2 ? "" : "s",
                  lr_opt.stall_ms);
    lr_buf_printf(b, "\n  %s holds %s, taken at:\n", holder, labels[0]);
    text_stack(b, r->holds[0].stack, "      ");
    for (size_t i = 1; i < r->nthreads; i++) {
        thread_label(r->threads[i].id, tl, sizeof tl);
        lr_buf_printf(b, "  %s has waited %lu ms for it, at:\n", tl,
                      (unsigned long)r->threads[i].waited_ms);
        text_stack(b, r->threads[i].wait_stack, "      ");
    }
    text_origins(b, r, d, labels);
}

/* ---- JSON ---- */

static void json_stack(lr_buf *b, lr_stack_id id)
{
    static frames f;            /* under report_lock */
    symbolize_stack(id, &f);
    lr_buf_puts(b, "[");
    for (int i = 0; i < f.n; i++) {
        const lr_code_info *c = &f.info[i];
        if (lr_python_is_frame(f.pcs[i])) {
            lr_buf_printf(b, "%s{\"language\":\"python\",\"function\":", i ? "," : "");
            lr_buf_json_string(b, c->function);
            lr_buf_puts(b, ",\"file\":");
            lr_buf_json_string(b, c->file);
            lr_buf_printf(b, ",\"line\":%d}", c->line);
            continue;
        }
        lr_buf_printf(b, "%s{\"pc\":\"%#lx\"", i ? "," : "", (unsigned long)f.pcs[i]);
        if (c->function[0]) {
            lr_buf_puts(b, ",\"function\":");
            lr_buf_json_string(b, c->function);
        }
        if (c->file[0]) {
            lr_buf_puts(b, ",\"file\":");
            lr_buf_json_string(b, c->file);
            lr_buf_printf(b, ",\"line\":%d", c->line);
        }
        lr_buf_puts(b, ",\"module\":");
        lr_buf_json_string(b, c->module);
        lr_buf_printf(b, ",\"offset\":\"%#lx\"%s}", (unsigned long)c->module_offset,
                      inlined(&f, i) ? ",\"inlined\":true" : "");
    }
    lr_buf_puts(b, "]");
}

static void json_thread(lr_buf *b, uint32_t id)
{
    lr_thread_info *t = lr_thread_info_get(id);
    char name[128] = "";
    if (t)
        thread_name(t, name, sizeof name);
    lr_buf_printf(b, "{\"id\":%u,\"tid\":%d,\"name\":", id, t ? (int)t->tid : 0);
    lr_buf_json_string(b, name);
    if (t && t->parent != UINT32_MAX) {
        lr_buf_printf(b, ",\"parent\":%u,\"created_at\":", t->parent);
        json_stack(b, t->created_at);
    }
    lr_buf_puts(b, "}");
}

static void json_header(lr_buf *b, const lr_report *r, unsigned long seq, const char *summary,
                        const char *certainty)
{
    lr_buf_printf(b, "{\"lockrace\":1,\"kind\":\"%s\",\"pid\":%d,\"seq\":%lu,\"summary\":",
                  lr_report_kind_name(r->kind), (int)getpid(), seq);
    lr_buf_json_string(b, summary);
    lr_buf_printf(b, ",\"certainty\":\"%s\"", certainty);
}

static void json_locks(lr_buf *b, const lr_report *r, const lock_desc *d)
{
    lr_buf_puts(b, ",\"locks\":[");
    for (size_t i = 0; i < r->nlocks; i++) {
        const lr_report_lock *l = &r->locks[i];
        lr_buf_printf(b, "%s{\"id\":%lu,\"addr\":\"%#lx\"", i ? "," : "", (unsigned long)l->id,
                      (unsigned long)l->addr);
        if (d[i].name[0]) {
            lr_buf_puts(b, ",\"name\":");
            lr_buf_json_string(b, d[i].name);
        }
        lr_buf_printf(b, ",\"kind\":\"%s\",\"where\":\"%s\",\"first_seen\":", lock_kind(l->type),
                      where_names[d[i].where]);
        json_stack(b, l->first_seen);
        lr_buf_puts(b, "}");
    }
    lr_buf_puts(b, "]");
}

static void json_lock_order(lr_buf *b, const lr_report *r, lock_desc *d, char (*labels)[200],
                            unsigned long seq)
{
    lr_buf summary = { 0 };
    lr_buf_printf(&summary, "lock-order inversion: cycle of %zu locks (", r->nlocks);
    for (size_t i = 0; i < r->nlocks; i++)
        lr_buf_printf(&summary, "%s%s", i ? ", " : "", labels[i]);
    lr_buf_puts(&summary, ")");
    json_header(b, r, seq, summary.data ? summary.data : "", "can-deadlock");
    lr_buf_free(&summary);
    lr_buf_printf(b, ",\"single_thread\":%s", r->single_thread ? "true" : "false");
    lr_buf_printf(b, ",\"threads_short\":%s", r->threads_short ? "true" : "false");
    if (r->gate.id) {
        lock_desc gd;
        char gl[200];
        describe_lock(&r->gate, &gd);
        lock_label(&r->gate, &gd, gl, sizeof gl);
        lr_buf_puts(b, ",\"gated_by\":");
        lr_buf_json_string(b, gl);
    }
    json_locks(b, r, d);
    lr_buf_puts(b, ",\"edges\":[");
    for (size_t i = 0; i < r->nedges; i++) {
        const lr_report_edge *e = &r->edges[i];
        lr_buf_printf(b, "%s{\"from\":%d,\"to\":%d,\"thread\":", i ? "," : "", e->from, e->to);
        json_thread(b, e->thread);
        lr_buf_puts(b, ",\"first_stack\":");
        json_stack(b, e->first_stack);
        lr_buf_puts(b, ",\"second_stack\":");
        json_stack(b, e->second_stack);
        lr_buf_printf(b, ",\"bounded\":%s", e->bounded ? "true" : "false");
        if (r->locks[e->from].type == LR_RWLOCK || r->locks[e->to].type == LR_RWLOCK)
            lr_buf_printf(b, ",\"first_mode\":\"%s\",\"second_mode\":\"%s\"",
                          e->first_shared ? "read" : "write", e->second_shared ? "read" : "write");
        lr_buf_puts(b, "}");
    }
    lr_buf_puts(b, "]}\n");
}

static void json_deadlock(lr_buf *b, const lr_report *r, lock_desc *d, char (*labels)[200],
                          unsigned long seq)
{
    lr_buf summary = { 0 };
    if (r->whole_process)
        lr_buf_printf(&summary, "deadlock: all %zu threads blocked, none can wake another",
                      r->nthreads);
    else if (r->nthreads == 1 && r->threads[0].wait_lock >= 0) {
        char tl[64];
        snprintf(tl, sizeof tl, "T%u", r->threads[0].id);
        lr_buf_puts(&summary, "deadlock: ");
        self_deadlock_words(&summary, r, tl, labels);
    }
    else
        lr_buf_printf(&summary, "deadlock: %zu threads blocked, each waiting for the next",
                      r->nthreads);
    json_header(b, r, seq, summary.data ? summary.data : "", "deadlocked");
    lr_buf_free(&summary);
    lr_buf_printf(b, ",\"policy\":\"%s\",\"scope\":\"%s\"",
                  lr_opt.deadlock == LR_DEADLOCK_ABORT ? "abort" : "report",
                  r->whole_process ? "process" : "cycle");
    json_locks(b, r, d);
    lr_buf_puts(b, ",\"threads\":[");
    for (size_t i = 0; i < r->nthreads; i++) {
        const lr_report_thread *t = &r->threads[i];
        lr_buf_puts(b, i ? ",{\"thread\":" : "{\"thread\":");
        json_thread(b, t->id);
        if (t->wait_kind == LR_WAIT_JOIN)
            lr_buf_printf(b, ",\"waits_for\":{\"kind\":\"join\",\"thread\":%u}", t->waits_for);
        else if (t->wait_kind == LR_WAIT_COND) {
            char cond[180];
            lr_buf_printf(b, ",\"waits_for\":{\"kind\":\"condition\",\"cond\":\"%#lx\",\"mutex\":%d,"
                             "\"name\":", (unsigned long)t->wait_object, t->wait_lock);
            lr_buf_json_string(b, cond_label(t->wait_object, cond, sizeof cond));
            lr_buf_puts(b, "}");
        }
        else if (t->wait_kind == LR_WAIT_BARRIER || t->wait_kind == LR_WAIT_SEM) {
            char object[180];
            lr_buf_printf(b, ",\"waits_for\":{\"kind\":\"%s\",\"object\":\"%#lx\",\"name\":",
                          t->wait_kind == LR_WAIT_BARRIER ? "barrier" : "semaphore",
                          (unsigned long)t->wait_object);
            lr_buf_json_string(b, object_label(t->wait_object, object, sizeof object));
            lr_buf_puts(b, "}");
        } else if (t->waits_for == UINT32_MAX)
            lr_buf_printf(b, ",\"waits_for\":{\"kind\":\"lock\",\"lock\":%d}", t->wait_lock);
        else
            lr_buf_printf(b, ",\"waits_for\":{\"kind\":\"lock\",\"lock\":%d,\"held_by\":%u}",
                          t->wait_lock, t->waits_for);
        lr_buf_puts(b, ",\"stack\":");
        json_stack(b, t->wait_stack);
        lr_buf_puts(b, ",\"holds\":[");
        for (size_t h = 0; h < t->nholds; h++) {
            lr_buf_printf(b, "%s{\"lock\":%d,\"stack\":", h ? "," : "", t->holds[h].lock);
            json_stack(b, t->holds[h].stack);
            lr_buf_puts(b, "}");
        }
        lr_buf_puts(b, "]}");
    }
    lr_buf_puts(b, "]}\n");
}

static void json_stall(lr_buf *b, const lr_report *r, lock_desc *d, char (*labels)[200],
                       unsigned long seq)
{
    lr_buf summary = { 0 };
    lr_buf_printf(&summary, "stall: %zu thread%s waited %.1f s or more for %s, held by T%u",
                  r->nthreads - 1, r->nthreads == 2 ? "" : "s", (double)lr_opt.stall_ms / 1000.0,
                  labels[0], r->threads[0].id);
    json_header(b, r, seq, summary.data ? summary.data : "", "stalled");
    lr_buf_free(&summary);
    json_locks(b, r, d);
    lr_buf_puts(b, ",\"lock\":0,\"holder\":{\"thread\":");
    json_thread(b, r->threads[0].id);
    lr_buf_puts(b, ",\"stack\":");
    json_stack(b, r->holds[0].stack);
    lr_buf_puts(b, "},\"waiters\":[");
    for (size_t i = 1; i < r->nthreads; i++) {
        lr_buf_puts(b, i > 1 ? ",{\"thread\":" : "{\"thread\":");
        json_thread(b, r->threads[i].id);
        lr_buf_printf(b, ",\"waited_ms\":%lu,\"stack\":", (unsigned long)r->threads[i].waited_ms);
        json_stack(b, r->threads[i].wait_stack);
        lr_buf_puts(b, "}");
    }
    lr_buf_puts(b, "]}\n");
}

/* ---- races ---- */

void lr_report_var_label(const lr_report_var *v, char *buf, size_t len)
{
    lr_report_lock as_lock = { .addr = v->addr, .name = v->name };
    lock_desc d;
    describe_lock(&as_lock, &d);
    if (d.name[0])
        snprintf(buf, len, "%s", d.name);
    else
        snprintf(buf, len, "%s variable %#lx", where_names[d.where], (unsigned long)v->addr);
}

static const char *where_of(const lr_report_var *v)
{
    lr_report_lock as_lock = { .addr = v->addr };
    lock_desc d;
    describe_lock(&as_lock, &d);
    return where_names[d.where];
}

/* "accounts_lock, stats_lock" or "no lock" */
static void held_words(lr_buf *b, const lr_report *r, const lr_report_access *a, char (*labels)[200])
{
    if (!a->nholds) {
        lr_buf_puts(b, "no lock");
        return;
    }
    for (size_t i = 0; i < a->nholds; i++)
        lr_buf_printf(b, "%s%s", i ? ", " : "", labels[r->holds[a->hold_first + i].lock]);
}

/* a value as the program's integer of that size (signed) */
static long long value_of(const lr_report *r, const lr_report_access *a)
{
    size_t size = r->var.size < 8 ? r->var.size : 8;
    uint64_t v = a->value;
    if (size < 8 && (v >> (size * 8 - 1) & 1))
        v |= ~0ull << (size * 8);
    return (long long)v;
}

static void text_access(lr_buf *b, const lr_report *r, const lr_report_access *a, const char *var,
                        const char *when, char (*labels)[200])
{
    char tl[64];
    thread_label(a->thread, tl, sizeof tl);
    lr_buf_printf(b, "\n  %s %s%s %s%s", tl, a->atomic ? "atomically " : "",
                  a->write ? "wrote" : "read", var, when);
    if (a->has_value)
        lr_buf_printf(b, " (value %lld)", value_of(r, a));
    lr_buf_puts(b, ", holding ");
    held_words(b, r, a, labels);
    lr_buf_puts(b, ", at:\n");
    text_stack(b, a->stack, "      ");
}

static void race_threads(const lr_report *r, uint32_t *ids, size_t *n)
{
    *n = 0;
    for (size_t i = 0; i < r->naccesses; i++)
        ids[(*n)++] = r->accesses[i].thread;
}

static void text_race_origins(lr_buf *b, const lr_report *r, lock_desc *d, char (*labels)[200])
{
    uint32_t ids[4];
    size_t n;
    race_threads(r, ids, &n);
    text_lock_origins(b, r, d, labels);
    text_thread_origins(b, ids, n);
}

static void text_data_race(lr_buf *b, const lr_report *r, lock_desc *d, char (*labels)[200])
{
    char var[200], t0[64], t1[64];
    pid_t pid = getpid();
    const lr_report_access *a = &r->accesses[0], *c = &r->accesses[1];
    lr_report_var_label(&r->var, var, sizeof var);
    thread_label(a->thread, t0, sizeof t0);
    thread_label(c->thread, t1, sizeof t1);
    lr_buf_printf(b, "==%d== lockrace: data-race on %s (%zu bytes at %#lx): %s %s, then %s %s\n", (int)pid,
                  var, r->var.size, (unsigned long)r->var.addr, t0, a->write ? "wrote" : "read", t1,
                  c->write ? "wrote" : "read");
    lr_buf_printf(b, "==%d== Nothing orders these two accesses (no lock handed over, no thread "
                     "create/join, signal or post between them), and %s.\n", (int)pid,
                  r->common_lock ? "although they held a lock in common, it did not order them"
                                 : "they held no lock in common");
    text_access(b, r, c, var, "", labels);
    text_access(b, r, a, var, " earlier", labels);
    text_race_origins(b, r, d, labels);
}

/* A read-modify-write that held a lock at its read and its write, but let it
 * go in between: the usual cause of a lost update in locked code. */
static void released_between(lr_buf *b, const lr_report *r, int read, int write, char (*labels)[200])
{
    const lr_report_access *x = &r->accesses[read], *y = &r->accesses[write];
    for (size_t i = 0; i < x->nholds; i++)
        for (size_t j = 0; j < y->nholds; j++)
            if (r->holds[x->hold_first + i].lock == r->holds[y->hold_first + j].lock) {
                char tl[64];
                thread_label(x->thread, tl, sizeof tl);
                lr_buf_printf(b, "  %s held %s at its read and at its write, but released it in "
                                 "between.\n", tl, labels[r->holds[x->hold_first + i].lock]);
                return;
            }
}

static void interleaving(lr_buf *b, const lr_report *r)
{
    char tl[64];
    for (int i = 0; i < 4; i++) {
        const lr_report_access *a = &r->accesses[r->order[i]];
        thread_label(a->thread, tl, sizeof tl);
        lr_buf_printf(b, "%s%s %s %lld", i ? ", " : "", tl, a->write ? "wrote" : "read", value_of(r, a));
    }
}

static void text_lost_update(lr_buf *b, const lr_report *r, lock_desc *d, char (*labels)[200])
{
    char var[200], t0[64], t1[64];
    pid_t pid = getpid();
    lr_report_var_label(&r->var, var, sizeof var);
    thread_label(r->accesses[0].thread, t0, sizeof t0);
    thread_label(r->accesses[2].thread, t1, sizeof t1);
    if (r->observed) {
        lr_buf_printf(b, "==%d== lockrace: lost-update on %s (%zu bytes at %#lx): observed\n", (int)pid,
                      var, r->var.size, (unsigned long)r->var.addr);
        lr_buf_printf(b, "==%d== ", (int)pid);
        interleaving(b, r);
        lr_buf_printf(b, ": %s's update was overwritten by %s, which wrote a value computed from what "
                         "it read before that update.\n", t1, t0);
        lr_buf_printf(b, "==%d== Lost updates observed on %s so far: %lu (the total is at exit).\n",
                      (int)pid, var, (unsigned long)r->lost);
    } else {
        lr_buf_printf(b, "==%d== lockrace: lost-update on %s (%zu bytes at %#lx): possible\n", (int)pid,
                      var, r->var.size, (unsigned long)r->var.addr);
        lr_buf_printf(b, "==%d== %s and %s each read %s and then wrote it, and nothing orders the two "
                         "read-modify-writes: either write can fall between the other thread's read "
                         "and write and overwrite its update. Not seen overwriting this time.\n",
                      (int)pid, t0, t1, var);
    }
    released_between(b, r, 0, 1, labels);
    released_between(b, r, 2, 3, labels);
    text_access(b, r, &r->accesses[0], var, "", labels);
    text_access(b, r, &r->accesses[1], var, " then", labels);
    text_access(b, r, &r->accesses[2], var, "", labels);
    text_access(b, r, &r->accesses[3], var, " then", labels);
    text_race_origins(b, r, d, labels);
}

static void json_variable(lr_buf *b, const lr_report *r)
{
    char var[200];
    lr_report_var_label(&r->var, var, sizeof var);
    lr_buf_puts(b, ",\"variable\":{\"name\":");
    lr_buf_json_string(b, var);
    lr_buf_printf(b, ",\"addr\":\"%#lx\",\"size\":%zu,\"where\":\"%s\"}", (unsigned long)r->var.addr,
                  r->var.size, where_of(&r->var));
}

static void json_accesses(lr_buf *b, const lr_report *r)
{
    lr_buf_puts(b, ",\"accesses\":[");
    for (size_t i = 0; i < r->naccesses; i++) {
        const lr_report_access *a = &r->accesses[i];
        lr_buf_printf(b, "%s{\"thread\":", i ? "," : "");
        json_thread(b, a->thread);
        lr_buf_printf(b, ",\"op\":\"%s\",\"atomic\":%s", a->write ? "write" : "read",
                      a->atomic ? "true" : "false");
        if (a->has_value)
            lr_buf_printf(b, ",\"value\":%lld", value_of(r, a));
        lr_buf_puts(b, ",\"locks_held\":[");
        for (size_t k = 0; k < a->nholds; k++)
            lr_buf_printf(b, "%s%d", k ? "," : "", r->holds[a->hold_first + k].lock);
        lr_buf_puts(b, "],\"stack\":");
        json_stack(b, a->stack);
        lr_buf_puts(b, "}");
    }
    lr_buf_puts(b, "]");
}

static void json_race(lr_buf *b, const lr_report *r, lock_desc *d, unsigned long seq)
{
    char var[200];
    lr_report_var_label(&r->var, var, sizeof var);
    lr_buf summary = { 0 };
    if (r->kind == LR_REPORT_DATA_RACE)
        lr_buf_printf(&summary, "data race on %s: T%u %s, T%u %s", var, r->accesses[0].thread,
                      r->accesses[0].write ? "wrote" : "read", r->accesses[1].thread,
                      r->accesses[1].write ? "wrote" : "read");
    else
        lr_buf_printf(&summary, "%s lost update on %s: T%u overwrote T%u's update",
                      r->observed ? "observed" : "possible", var, r->accesses[0].thread,
                      r->accesses[2].thread);
    json_header(b, r, seq, summary.data ? summary.data : "",
                r->kind == LR_REPORT_DATA_RACE ? "unordered" : r->observed ? "observed" : "possible");
    lr_buf_free(&summary);
    json_variable(b, r);
    json_locks(b, r, d);
    json_accesses(b, r);
    lr_buf_printf(b, ",\"common_lock\":%s", r->common_lock ? "true" : "false");
    if (r->kind == LR_REPORT_LOST_UPDATE) {
        if (r->observed)
            lr_buf_printf(b, ",\"interleaving\":[%d,%d,%d,%d],\"lost_so_far\":%lu", r->order[0],
                          r->order[1], r->order[2], r->order[3], (unsigned long)r->lost);
    }
    lr_buf_puts(b, "}\n");
}

/* ---- misuse ---- */

/* What the call did wrong, after "T1 ": "unlocks lock_a, which it does not hold" */
static void misuse_words(lr_buf *b, const lr_report *r, char (*labels)[200])
{
    char obj[200] = "", other[64] = "";
    uintptr_t object = r->threads[0].wait_object;
    if (object)
        named_object(object, r->misuse == LR_MISUSE_BARRIER_ZERO ? "barrier"
                             : r->misuse >= LR_MISUSE_SEM_DESTROY_WAITED ? "semaphore"
                                                                      : "condition", obj, sizeof obj);
    if (r->nthreads > 1)
        thread_label(r->threads[1].id, other, sizeof other);
    const char *lock = r->nlocks ? labels[0] : "";
    switch (r->misuse) {
    case LR_MISUSE_UNLOCK_NOT_HELD:
        if (r->nthreads > 1)
            lr_buf_printf(b, "unlocks %s, which %s holds, not it", lock, other);
        else
            lr_buf_printf(b, "unlocks %s, which is not locked", lock);
        break;
    case LR_MISUSE_UNLOCK_NOT_LOCKED:
        lr_buf_printf(b, "unlocks %s, which is not locked", lock);
        break;
    case LR_MISUSE_RELOCK:
        lr_buf_printf(b, "locks the error-checking mutex %s, which it already holds: the call fails "
                         "with EDEADLK", lock);
        break;
    case LR_MISUSE_DESTROY_LOCKED:
        lr_buf_printf(b, "destroys %s while it is locked: the call fails with EBUSY", lock);
        break;
    case LR_MISUSE_LOCK_DESTROYED:
        lr_buf_printf(b, "locks %s, which was destroyed and not initialised again", lock);
        break;
    case LR_MISUSE_LOCK_INVALID:
        lr_buf_printf(b, "locks %s, which is not an initialised mutex: its bytes read as a destroyed "
                         "one, and lockrace has no record of a destroy of it (never initialised, or "
                         "overwritten)", lock);
        break;
    case LR_MISUSE_DESTROY_MISCOUNTED:
        lr_buf_printf(b, "destroys %s, which is not locked: the call fails with EBUSY all the same, "
                         "because an unlock while it was not locked left glibc's count of its users "
                         "below zero", lock);
        break;
    case LR_MISUSE_REINIT_LOCKED:
        lr_buf_printf(b, "initialises %s again while %s holds it", lock, other);
        break;
    case LR_MISUSE_REUSED_LOCKED:
        lr_buf_printf(b, "initialises a mutex at %s, where %s locked one and never unlocked it: its "
                         "memory was freed or went out of scope while it was locked (or it is "
                         "initialised again while held)", lock, other);
        break;
    case LR_MISUSE_COND_UNHELD:
        lr_buf_printf(b, "waits on %s with %s, which it does not hold", obj, lock);
        break;
    case LR_MISUSE_COND_TWO_MUTEXES:
        lr_buf_printf(b, "waits on %s with %s while %s waits on it with %s", obj, lock, other,
                      labels[r->nlocks - 1]);
        break;
    case LR_MISUSE_EXIT_HOLDING:
        if (r->threads[0].id == 0)
            lr_buf_printf(b, "(main) ends the process, returning from main or calling exit, while it "
                             "holds %s: an exit handler, destructor or thread still running that "
                             "locks it waits forever", lock);
        else
            lr_buf_printf(b, "ends while it holds %s: whoever locks it next waits forever", lock);
        break;
    case LR_MISUSE_BARRIER_ZERO:
        lr_buf_printf(b, "initialises %s with a count of 0: the call fails with EINVAL", obj);
        break;
    case LR_MISUSE_COND_DESTROY_WAITED:
        lr_buf_printf(b, "destroys %s while %s still waits on it: the destroy waits for it forever",
                      obj, other);
        break;
    case LR_MISUSE_RWLOCK_RELOCK:
        lr_buf_printf(b, "asks again for %s, an rwlock it holds for writing: the call fails with "
                         "EDEADLK", lock);
        break;
    case LR_MISUSE_REINIT:
        lr_buf_printf(b, "initialises %s again, which was initialised and not destroyed (POSIX "
                         "leaves this undefined)", r->nlocks ? lock : obj);
        break;
    case LR_MISUSE_SEM_DESTROY_WAITED:
        lr_buf_printf(b, "destroys semaphore %s while threads are blocked on it", obj);
        break;
    case LR_MISUSE_SEM_DESTROYED:
        lr_buf_printf(b, "uses semaphore %s after it was destroyed", obj);
        break;
    case LR_MISUSE_SEM_INIT_INVALID:
        lr_buf_printf(b, "initialises semaphore %s with a value over SEM_VALUE_MAX (%d): the call "
                         "fails with EINVAL", obj, SEM_VALUE_MAX);
        break;
    case LR_MISUSE_SEM_OVERFLOW:
        lr_buf_printf(b, "posts semaphore %s, whose value is already SEM_VALUE_MAX (%d): the call "
                         "fails with EOVERFLOW", obj, SEM_VALUE_MAX);
        break;
    case LR_MISUSE_SEM_INVALID:
        lr_buf_printf(b, "waits on or posts %s, which is not a semaphore: its bytes cannot be one "
                         "(a value over SEM_VALUE_MAX, or an unknown private flag), and lockrace "
                         "never saw it initialised", obj);
        break;
    }
}

static const char *earlier_words(const lr_report *r)
{
    switch (r->misuse) {
    case LR_MISUSE_LOCK_DESTROYED:
    case LR_MISUSE_SEM_DESTROYED: return "destroyed it at";
    case LR_MISUSE_COND_TWO_MUTEXES:
    case LR_MISUSE_COND_DESTROY_WAITED: return "waits on it at";
    case LR_MISUSE_RELOCK:
    case LR_MISUSE_EXIT_HOLDING: return "took it at";
    case LR_MISUSE_REINIT: return "initialised it at";
    case LR_MISUSE_DESTROY_MISCOUNTED: return "unlocked it at";
    default: return "took it at";
    }
}

static void text_misuse(lr_buf *b, const lr_report *r, lock_desc *d, char (*labels)[200])
{
    char tl[64], other[64];
    pid_t pid = getpid();
    thread_label(r->threads[0].id, tl, sizeof tl);
    lr_buf_printf(b, "==%d== lockrace: misuse (%s): %s ", (int)pid, lr_misuse_name(r->misuse), tl);
    misuse_words(b, r, labels);
    lr_buf_puts(b, "\n");
    if (r->threads[0].wait_stack) {
        lr_buf_printf(b, "\n  %s made the call at:\n", tl);
        text_stack(b, r->threads[0].wait_stack, "      ");
    } else {
        lr_buf_puts(b, "\n");
    }
    if (r->nthreads > 1 && r->threads[1].wait_stack) {
        thread_label(r->threads[1].id, other, sizeof other);
        lr_buf_printf(b, "  %s %s:\n", other, earlier_words(r));
        text_stack(b, r->threads[1].wait_stack, "      ");
    }
    uint32_t ids[2] = { r->threads[0].id, r->nthreads > 1 ? r->threads[1].id : r->threads[0].id };
    text_lock_origins(b, r, d, labels);
    text_thread_origins(b, ids, r->nthreads > 1 ? 2 : 1);
    if (r->misuse == LR_MISUSE_COND_DESTROY_WAITED)   /* a hang, ended as a deadlock is */
        lr_buf_printf(b, "==%d== lockrace: %s\n", (int)pid,
                      lr_opt.deadlock == LR_DEADLOCK_ABORT
                          ? "deadlock=abort: the process is ended now, as for a deadlock "
                            "(deadlock=report lets it hang)"
                          : lr_opt.deadlock == LR_DEADLOCK_REPORT
                          ? "deadlock=report: the destroying thread stays blocked (deadlock=abort "
                            "ends the process)"
                          : "the destroying thread stays blocked (deadlock=abort ends the process)");
}

static void json_misuse(lr_buf *b, const lr_report *r, lock_desc *d, char (*labels)[200],
                        unsigned long seq)
{
    char tl[64];
    lr_buf summary = { 0 };
    thread_label(r->threads[0].id, tl, sizeof tl);
    lr_buf_printf(&summary, "misuse (%s): %s ", lr_misuse_name(r->misuse), tl);
    misuse_words(&summary, r, labels);
    json_header(b, r, seq, summary.data ? summary.data : "", "misuse");
    lr_buf_free(&summary);
    lr_buf_printf(b, ",\"misuse\":\"%s\"", lr_misuse_name(r->misuse));
    json_locks(b, r, d);
    if (r->threads[0].wait_object) {
        char obj[200];
        lr_buf_printf(b, ",\"object\":{\"addr\":\"%#lx\",\"name\":", (unsigned long)r->threads[0].wait_object);
        lr_buf_json_string(b, named_object(r->threads[0].wait_object, "", obj, sizeof obj));
        lr_buf_puts(b, "}");
    }
    lr_buf_puts(b, ",\"thread\":");
    json_thread(b, r->threads[0].id);
    lr_buf_puts(b, ",\"stack\":");
    json_stack(b, r->threads[0].wait_stack);
    if (r->nthreads > 1) {
        lr_buf_printf(b, ",\"earlier\":{\"what\":\"%s\",\"thread\":", earlier_words(r));
        json_thread(b, r->threads[1].id);
        lr_buf_puts(b, ",\"stack\":");
        json_stack(b, r->threads[1].wait_stack);
        lr_buf_puts(b, "}");
    }
    lr_buf_puts(b, "}\n");
}

/* ---- output ----
 * Reports go to stderr, or to the files the options name: log_path (text,
 * PATH.PID), json (JSON lines, one file for every process) and log_dir
 * (DIR/PID.json, after a record of the process: a program writes it when it
 * starts, so that the launcher also lists the processes that reported
 * nothing; a forked child that does not exec writes its own file when it
 * first reports, so its reports are never taken for its parent's).
 *
 * A file is opened on first use in a process, never through a symbolic
 * link, and checked before each write to still be the one lockrace opened:
 * a program may close any descriptor and open a file of its own under the
 * same number, and lockrace must not write into it. A file that cannot be
 * opened or written is said once on stderr and the program runs on; its
 * text reports then go to stderr. All of this runs under report_lock. */

/* The stderr the process started with. A program may close descriptor 2
 * and open a file of its own there (a data file, a socket): lockrace
 * writes its text to a copy of descriptor 2 made at start (close-on-exec,
 * at a high number, out of the way of the program's own), while the copy
 * is still that file (a program that closes every descriptor may have
 * opened another under its number), else to descriptor 2 while it is
 * still that file, else nowhere. A forked child closes the copy: a daemon
 * that forks and sends its stdio to /dev/null must not keep its parent's
 * stderr pipe open, or whoever reads that pipe to its end waits as long as
 * the daemon lives. Before lr_report_init, descriptor 2 as it is. */
static struct {
    int ready;                  /* lr_report_init ran */
    int known;                  /* there was a stderr at start: dev and ino are its */
    int fd;                     /* the copy, -1 none */
    dev_t dev;
    ino_t ino;
} err_out = { .fd = -1 };

static int is_stderr(int fd)
{
    struct stat st;
    return fd >= 0 && err_out.known && fstat(fd, &st) == 0 && st.st_dev == err_out.dev &&
           st.st_ino == err_out.ino;
}

static void stderr_keep(void)
{
    struct stat st;
    err_out.ready = 1;
    if (fstat(2, &st) < 0)
        return;                 /* started without a stderr: text has nowhere to go */
    err_out.known = 1;
    err_out.dev = st.st_dev;
    err_out.ino = st.st_ino;
    /* three quarters up the soft limit, at most 768: above the numbers a
     * program opens or closes by themselves, and the kernel's table of
     * descriptors stays small */
    struct rlimit rl;
    rlim_t limit = getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < 1024 ? rl.rlim_cur : 1024;
    err_out.fd = fcntl(2, F_DUPFD_CLOEXEC, (int)(limit - limit / 4));
    if (err_out.fd < 0)
        err_out.fd = fcntl(2, F_DUPFD_CLOEXEC, 3);
}

/* Writes text to the stderr of the start (see err_out); under report_lock
 * once lr_report_init ran. */
static void stderr_write(const char *data, size_t len)
{
    int fd = !err_out.ready ? 2 : is_stderr(err_out.fd) ? err_out.fd : is_stderr(2) ? 2 : -1;
    if (fd >= 0)
        lr_write_text(fd, data, len);
}

static void process_record(lr_buf *b)
{
    enum { MAX_CMDLINE = 65536 };
    lr_buf_printf(b, "{\"lockrace\":1,\"kind\":\"process\",\"pid\":%d,\"ppid\":%d,\"cmdline\":[",
                  (int)getpid(), (int)getppid());
    char *raw = lr_map(MAX_CMDLINE);
    int fd = raw ? open("/proc/self/cmdline", O_RDONLY | O_CLOEXEC) : -1;
    size_t len = 0;
    ssize_t n = 0;
    while (fd >= 0 && len < MAX_CMDLINE - 1 &&
           ((n = read(fd, raw + len, MAX_CMDLINE - 1 - len)) > 0 || (n < 0 && errno == EINTR)))
        len += n > 0 ? (size_t)n : 0;
    if (fd >= 0)
        close(fd);
    if (raw)
        raw[len] = 0;   /* a command line longer than MAX_CMDLINE ends in a cut argument */
    for (size_t at = 0; at < len; at += strlen(raw + at) + 1) {
        lr_buf_puts(b, at ? "," : "");
        lr_buf_json_string(b, raw + at);
    }
    if (raw)
        lr_unmap(raw, MAX_CMDLINE);
    lr_buf_puts(b, "]}\n");
}

typedef struct output {
    const char *option;     /* for messages */
    const char *value;      /* the option's value: lr_opt's field */
    const char *format;     /* the file's path from value and pid */
    int per_process;        /* each process has a file of its own */
    char path[sizeof lr_opt.log_path + 32];    /* the file last opened, from format */
    int fd;                 /* -1: not open in this process */
    pid_t pid;              /* the process that last used it */
    dev_t dev;
    ino_t ino;
    int failed;             /* said why it cannot be used: not tried again */
} output;

static output text_out = { .option = "log_path", .value = lr_opt.log_path, .format = "%s.%d",
                           .per_process = 1, .fd = -1 };
static output json_out = { .option = "json", .value = lr_opt.json, .format = "%s", .fd = -1 };
static output dir_out = { .option = "log_dir", .value = lr_opt.log_dir, .format = "%s/%d.json",
                          .per_process = 1, .fd = -1 };

static int still_ours(const output *o)
{
    struct stat st;
    return o->fd >= 0 && fstat(o->fd, &st) == 0 && st.st_dev == o->dev && st.st_ino == o->ino;
}

static void output_failed(output *o, const char *what, int error)
{
    char msg[PATH_MAX + 400];
    snprintf(msg, sizeof msg, "lockrace: %s=%s: cannot %s %s (%s); %s\n", o->option, o->value, what,
             o->path, lr_output_error(error),
             o == &text_out ? "reports go to stderr instead" : "JSON reports are not written there (the text reports are)");
    stderr_write(msg, strlen(msg));
    if (still_ours(o))
        close(o->fd);
    o->fd = -1;
    o->failed = 1;
}

/* o's descriptor in this process, opened now if need be; -1 when its
 * option is not set or it cannot be used. */
static int output_fd(output *o)
{
    if (!o->value[0])
        return -1;
    pid_t pid = getpid();
    if (o->pid != pid && o->per_process) {
        /* the parent's file, inherited by fork: this process has its own */
        if (still_ours(o))
            close(o->fd);
        o->fd = -1;
        o->failed = 0;
    }
    o->pid = pid;
    if (o->failed)
        return -1;
    if (still_ours(o))
        return o->fd;
    snprintf(o->path, sizeof o->path, o->format, o->value, (int)pid);
    int fd = lr_output_open(o->path, 1, lr_opt.file_mode);
    if (fd < 0) {
        o->fd = -1;
        output_failed(o, "open", fd);
        return -1;
    }
    struct stat st;
    fstat(fd, &st);
    o->fd = fd;
    o->dev = st.st_dev;
    o->ino = st.st_ino;
    if (o == &dir_out && st.st_size == 0) {
        lr_buf b = { 0 };
        process_record(&b);
        int rc = b.data ? lr_write_all(fd, b.data, b.len) : 0;
        lr_buf_free(&b);
        if (rc < 0) {
            output_failed(o, "write", rc);
            return -1;
        }
    }
    return fd;
}

static void output_write(output *o, const char *data, size_t len)
{
    int fd = output_fd(o);
    if (fd >= 0) {
        /* text is read on a terminal (lr_write_text escapes what it would
         * act on); JSON escapes by itself */
        int rc = o == &text_out ? lr_write_text(fd, data, len) : lr_write_all(fd, data, len);
        if (rc == 0)
            return;
        output_failed(o, "write", rc);
    }
    if (o == &text_out)
        stderr_write(data, len);
}

void lr_report_init(void)
{
    if (lr_suppress_load(lr_opt.suppressions) < 0)
        _exit(2);
    stderr_keep();
    /* opened now, so that a file that cannot be written is said at the start */
    output_fd(&dir_out);
    output_fd(&json_out);
}

/* ---- suppressions ---- */

static int stack_matches(const char *kind, lr_stack_id id)
{
    static frames f;            /* under report_lock */
    if (!id)
        return 0;
    symbolize_stack(id, &f);
    for (int i = 0; i < f.n; i++) {
        const char *file = f.info[i].file, *base = strrchr(file, '/');
        if (lr_suppress_match(kind, f.info[i].function) || lr_suppress_match(kind, file) ||
            (base && lr_suppress_match(kind, base + 1)))
            return 1;
    }
    return 0;
}

/* A rule of the report's kind matches one of its stacks' functions or
 * files, or one of its lock or variable names. */
static int suppressed(const lr_report *r, char (*labels)[200])
{
    const char *kind = lr_report_kind_name(r->kind);
    for (size_t i = 0; i < r->nlocks; i++)
        if (lr_suppress_match(kind, labels[i]))
            return 1;
    if (r->naccesses) {
        char var[200];
        lr_report_var_label(&r->var, var, sizeof var);
        if (lr_suppress_match(kind, var))
            return 1;
    }
    for (size_t i = 0; i < r->nedges; i++)
        if (stack_matches(kind, r->edges[i].first_stack) || stack_matches(kind, r->edges[i].second_stack))
            return 1;
    for (size_t i = 0; i < r->nthreads; i++) {
        if (stack_matches(kind, r->threads[i].wait_stack))
            return 1;
        for (size_t k = 0; k < r->threads[i].nholds; k++)
            if (stack_matches(kind, r->threads[i].holds[k].stack))
                return 1;
    }
    for (size_t i = 0; i < r->nholds; i++)
        if (stack_matches(kind, r->holds[i].stack))
            return 1;
    for (size_t i = 0; i < r->naccesses; i++)
        if (stack_matches(kind, r->accesses[i].stack))
            return 1;
    return 0;
}

unsigned long lr_report_suppressed(void)
{
    unsigned long n = 0;
    for (size_t i = 0; i < LR_REPORT_KINDS; i++)
        n += __atomic_load_n(&suppressed_counts[i], __ATOMIC_RELAXED);
    return n;
}

/* The report, formatted and written (suppressed, it is only counted); run
 * under report_lock on lockrace's own stack. */
typedef struct emit_call {
    const lr_report *r;
    int suppressed;
} emit_call;

static void emit(void *arg)
{
    emit_call *call = arg;
    const lr_report *r = call->r;
    unsigned long seq = lr_report_count() + 1;
    lock_desc *d = lr_map((r->nlocks + 1) * (sizeof *d + 200));
    char (*labels)[200] = d ? (char (*)[200])(d + r->nlocks) : NULL;
    if (!d)
        return;
    for (size_t i = 0; i < r->nlocks; i++) {
        describe_lock(&r->locks[i], &d[i]);
        lock_label(&r->locks[i], &d[i], labels[i], 200);
    }
    if (lr_suppress_any() && suppressed(r, labels)) {
        call->suppressed = 1;
        lr_unmap(d, (r->nlocks + 1) * (sizeof *d + 200));
        return;
    }
    lr_buf text = { 0 }, json = { 0 };
    if (r->kind == LR_REPORT_DEADLOCK)
        text_deadlock(&text, r, d, labels);
    else if (r->kind == LR_REPORT_STALL)
        text_stall(&text, r, d, labels);
    else if (r->kind == LR_REPORT_DATA_RACE)
        text_data_race(&text, r, d, labels);
    else if (r->kind == LR_REPORT_LOST_UPDATE)
        text_lost_update(&text, r, d, labels);
    else if (r->kind == LR_REPORT_MISUSE)
        text_misuse(&text, r, d, labels);
    else
        text_lock_order(&text, r, d, labels);
    if (text.data)
        output_write(&text_out, text.data, text.len);
    if (output_fd(&json_out) >= 0 || output_fd(&dir_out) >= 0) {
        if (r->kind == LR_REPORT_DEADLOCK)
            json_deadlock(&json, r, d, labels, seq);
        else if (r->kind == LR_REPORT_STALL)
            json_stall(&json, r, d, labels, seq);
        else if (r->kind == LR_REPORT_DATA_RACE || r->kind == LR_REPORT_LOST_UPDATE)
            json_race(&json, r, d, seq);
        else if (r->kind == LR_REPORT_MISUSE)
            json_misuse(&json, r, d, labels, seq);
        else
            json_lock_order(&json, r, d, labels, seq);
        if (json.data) {
            output_write(&json_out, json.data, json.len);
            output_write(&dir_out, json.data, json.len);
        }
    }
    lr_buf_free(&text);
    lr_buf_free(&json);
    lr_unmap(d, (r->nlocks + 1) * (sizeof *d + 200));
}

void lr_report_emit(const lr_report *r)
{
    if (lr_report_sink) {
        lr_report_sink(r);
        return;
    }
    int saved = errno;
    /* a thread cancelled while it writes would lose the report and leave
     * report_lock taken for ever */
    int cancel = lr_cancel_off();
    lr_thread *self = lr_thread_current();
    if (self)
        lr_enter(self);
    lr_ilock_take(&report_lock);
    /* symbolizing needs about 150 KB of stack, more than a small thread
     * stack or alternate signal stack has; report_lock makes this thread
     * the big stack's only user */
    emit_call call = { r, 0 };
    lr_bigstack_call(emit, &call);
    if (call.suppressed)
        __atomic_add_fetch(&suppressed_counts[r->kind], 1, __ATOMIC_RELAXED);
    else
        __atomic_add_fetch(&counts[r->kind], 1, __ATOMIC_RELAXED);
    lr_ilock_drop(&report_lock);
    if (self)
        lr_leave(self);
    lr_cancel_restore(cancel);
    errno = saved;
}

void lr_report_write_extra(const char *text, size_t tlen, const char *json, size_t jlen)
{
    lr_ilock_take(&report_lock);
    if (text && tlen)
        output_write(&text_out, text, tlen);
    if (json && jlen) {
        output_write(&json_out, json, jlen);
        output_write(&dir_out, json, jlen);
    }
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
    output_write(&text_out, line, strlen(line));
}

void lr_report_fork_prepare(void) { lr_ilock_take(&report_lock); }
void lr_report_fork_parent(void) { lr_ilock_drop(&report_lock); }

/* The child's reports are its own: it starts with a count of zero. */
void lr_report_fork_child(void)
{
    lr_ilock_reset(&report_lock);
    memset(counts, 0, sizeof counts);
    if (is_stderr(err_out.fd))
        close(err_out.fd);
    err_out.fd = -1;
}
