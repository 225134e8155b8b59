/* Reading a run directory back: one lr_proc per process record, the
 * reports that follow it, and where each report points in the source. */
#include "launcher/run.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

const lr_kind lr_kinds[] = {
    { "lock-order-inversion", "Lock-order inversion",
      "Locks were taken in orders that form a cycle: when the threads run these paths at the same "
      "time, each waits for a lock the next one holds and the program deadlocks, even if this run "
      "did not. Take the locks in one order everywhere.", 0 },
    { "deadlock", "Deadlock",
      "Threads were blocked for good, each waiting for a lock or a join the next one holds, or every "
      "thread of the process was blocked with none able to wake another (a lost wakeup): the "
      "program hung, and lockrace ended it.", 0 },
    { "stall", "Stall",
      "Threads waited longer than stall_ms for a lock whose holder was not blocked itself: not a "
      "deadlock, but a lock held for too long.", 1 },
    { "data-race", "Data race",
      "Two threads accessed the same variable, at least one wrote, and nothing ordered the two "
      "accesses: no lock handed over, no thread create or join, signal or post between them.", 0 },
    { "lost-update", "Lost update",
      "A read-modify-write of a shared variable can be, or was, overwritten by another thread's: "
      "an update is lost. Hold one lock from the read to the write, or make it atomic.", 0 },
    { "misuse", "Thread API misuse",
      "A pthread call broke the API's rules: unlocking a mutex the thread does not hold, relocking "
      "or destroying a locked mutex, waiting on a condition without its mutex, a thread ending "
      "with locks held, and the other sub-kinds of docs/json.md.", 0 },
};
const size_t lr_nkinds = sizeof lr_kinds / sizeof lr_kinds[0];

/* ---- reading ---- */

static int keep_line(lr_run *run, lr_json *v)
{
    lr_json **lines = realloc(run->lines, (run->nlines + 1) * sizeof *lines);
    if (!lines)
        return -1;
    run->lines = lines;
    run->lines[run->nlines++] = v;
    return 0;
}

static int shell_safe(const char *s)
{
    if (!*s)
        return 0;
    for (; *s; s++)
        if (!strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-./=:,+@%", *s))
            return 0;
    return 1;
}

void lr_shell_word(lr_buf *b, const char *arg)
{
    if (shell_safe(arg)) {
        lr_buf_puts(b, arg);
        return;
    }
    lr_buf_puts(b, "'");
    for (const char *s = arg; *s; s++)
        if (*s == '\'')
            lr_buf_puts(b, "'\\''");
        else
            lr_buf_printf(b, "%c", *s);
    lr_buf_puts(b, "'");
}

/* the arguments as one line: sh -c 'a & b' */
static char *join_cmdline(const lr_json *args)
{
    lr_buf b = { 0 };
    for (const lr_json *a = args ? args->child : NULL; a; a = a->next) {
        if (a != args->child)
            lr_buf_puts(&b, " ");
        lr_shell_word(&b, lr_json_str(a, ""));
    }
    char *out = strdup(b.data ? b.data : "");
    lr_buf_free(&b);
    return out;
}

static lr_proc *add_proc(lr_run *run, const lr_json *record)
{
    lr_proc *procs = realloc(run->procs, (run->nprocs + 1) * sizeof *procs);
    if (!procs)
        return NULL;
    run->procs = procs;
    lr_proc *p = &procs[run->nprocs++];
    memset(p, 0, sizeof *p);
    p->seq = run->nprocs - 1;
    p->pid = lr_json_long(lr_json_get(record, "pid"), 0);
    p->ppid = lr_json_long(lr_json_get(record, "ppid"), 0);
    p->start = lr_json_num(lr_json_get(record, "start"), 0);
    p->threads = p->locks = -1;
    p->cmdline = join_cmdline(lr_json_get(record, "cmdline"));
    const char *first = lr_json_str(lr_json_at(lr_json_get(record, "cmdline"), 0), "");
    p->program = strdup(strrchr(first, '/') ? strrchr(first, '/') + 1 : first);
    return p;
}

/* its exit record: how it ended, and what it used */
static void end_proc(lr_proc *p, const lr_json *record)
{
    long sig = lr_json_long(lr_json_get(record, "signal"), -1);
    if (sig > 0) {
        /* written by its parent, which reaped it: a signal ended it */
        p->how = LR_PROC_SIGNALED;
        p->status = (int)sig;
        p->end = lr_json_num(lr_json_get(record, "end"), 0);
        return;
    }
    if (lr_json_get(record, "reaped_by")) {
        /* its parent saw it exit: after its own record, if it wrote one
         * (it did not when it became a program lockrace cannot run in) */
        if (p->how == LR_PROC_UNKNOWN) {
            p->how = LR_PROC_EXITED;
            p->status = (int)lr_json_long(lr_json_get(record, "status"), 0);
            p->end = lr_json_num(lr_json_get(record, "end"), 0);
        }
        return;
    }
    p->end = lr_json_num(lr_json_get(record, "end"), 0);
    p->how = LR_PROC_EXITED;
    p->status = (int)lr_json_long(lr_json_get(record, "status"), 0);
    p->threads = lr_json_long(lr_json_get(record, "threads"), -1);
    p->locks = lr_json_long(lr_json_get(record, "locks"), -1);
}

static int add_report(lr_run *run, lr_proc *p, const lr_json *report)
{
    const lr_json **reports = realloc(p->reports, (p->nreports + 1) * sizeof *reports);
    if (!reports)
        return -1;
    p->reports = reports;
    p->reports[p->nreports++] = report;
    run->nreports++;
    return 0;
}

/* One file, the entry `name` of the directory open at `at`: a process
 * record, its reports; again after an exec. Procs are found again by
 * index: add_proc may move them. Read only if it is a regular file, not
 * through a link: the processes that write in the run directory may be
 * other users (a server's workers), and the launcher may be root. */
static void read_file(lr_run *run, int at, const char *name)
{
    int fd = openat(at, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
    struct stat st;
    FILE *f = fd >= 0 && fstat(fd, &st) == 0 && S_ISREG(st.st_mode) ? fdopen(fd, "re") : NULL;
    if (!f) {
        if (fd >= 0)
            close(fd);
        return;
    }
    char *line = NULL;
    size_t cap = 0;
    long current = -1;
    while (getline(&line, &cap, f) >= 0) {
        if (!line[strspn(line, " \t\r\n")])
            continue;
        lr_json *v = lr_json_parse(line);
        if (!v || keep_line(run, v) < 0) {
            lr_json_free(v);
            run->unreadable++;
            continue;
        }
        const char *kind = lr_json_str(lr_json_get(v, "kind"), NULL);
        if (!kind || !strcmp(kind, "summary"))
            continue;
        if (!strcmp(kind, "graph")) {
            /* the program's lock-order graph at exit (order_graph=1): not a report */
            if (current >= 0)
                run->procs[current].graph = v;
            continue;
        }
        if (!strcmp(kind, "exit")) {
            if (current >= 0)
                end_proc(&run->procs[current], v);
            continue;
        }
        if (!strcmp(kind, "process") || current < 0) {
            /* reports with no record before them: a file not made by log_dir */
            if (current >= 0 && !strcmp(kind, "process") && run->procs[current].how == LR_PROC_UNKNOWN) {
                run->procs[current].how = LR_PROC_EXECED;
                run->procs[current].end = lr_json_num(lr_json_get(v, "start"), 0);
            }
            lr_proc *p = add_proc(run, v);
            current = p ? (long)(p - run->procs) : -1;
            if (!p || !strcmp(kind, "process"))
                continue;
        }
        add_report(run, &run->procs[current], v);
    }
    free(line);
    fclose(f);
}

/* The directory `name` at `at` (the run directory: AT_FDCWD and its path,
 * which may be a link the user made; below it, never through a link), and
 * its subdirectories to `depth` levels. */
static int read_dir(lr_run *run, int at, const char *name, int depth, char *err, size_t errlen)
{
    int fd = openat(at, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC | (at == AT_FDCWD ? 0 : O_NOFOLLOW));
    DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
    if (!d) {
        snprintf(err, errlen, "cannot read the run directory %s: %s", name, strerror(errno));
        if (fd >= 0)
            close(fd);
        return -1;
    }
    struct dirent *e;
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.')
            continue;
        size_t n = strlen(e->d_name);
        struct stat st;
        int is_dir = e->d_type == DT_DIR ||
                     (e->d_type == DT_UNKNOWN && fstatat(dirfd(d), e->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
                      S_ISDIR(st.st_mode));
        if (is_dir && depth > 0)
            read_dir(run, dirfd(d), e->d_name, depth - 1, err, errlen);     /* the run of a lockrace this one ran */
        else if (!is_dir && n > 5 && !strcmp(e->d_name + n - 5, ".json"))
            read_file(run, dirfd(d), e->d_name);
    }
    closedir(d);
    return 0;
}

/* by pid; the programs of one pid in the order they ran (read) */
static int by_pid(const void *a, const void *b)
{
    const lr_proc *x = a, *y = b;
    if (x->pid != y->pid)
        return x->pid < y->pid ? -1 : 1;
    return x->seq < y->seq ? -1 : x->seq > y->seq;
}

int lr_run_read(lr_run *run, const char *dir, char *err, size_t errlen)
{
    memset(run, 0, sizeof *run);
    if (read_dir(run, AT_FDCWD, dir, 16, err, errlen) < 0)
        return -1;
    if (run->nprocs > 1)
        qsort(run->procs, run->nprocs, sizeof *run->procs, by_pid);
    return 0;
}

void lr_run_reaped(lr_run *run, long pid, int wait_status, double when)
{
    lr_proc *last = NULL;
    for (size_t i = 0; i < run->nprocs; i++)
        if (run->procs[i].pid == pid)
            last = &run->procs[i];      /* by pid, then in the order they ran */
    if (!last || last->how == LR_PROC_EXECED)
        return;
    if (WIFSIGNALED(wait_status)) {
        last->how = LR_PROC_SIGNALED;
        last->status = WTERMSIG(wait_status);
    } else if (last->how == LR_PROC_UNKNOWN) {
        last->how = LR_PROC_EXITED;
        last->status = WEXITSTATUS(wait_status);
    }
    if (!last->end)
        last->end = when;
}

void lr_run_free(lr_run *run)
{
    for (size_t i = 0; i < run->nprocs; i++) {
        free(run->procs[i].cmdline);
        free(run->procs[i].program);
        free(run->procs[i].reports);
    }
    for (size_t i = 0; i < run->nlines; i++)
        lr_json_free(run->lines[i]);
    free(run->procs);
    free(run->lines);
    memset(run, 0, sizeof *run);
}

/* ---- places ---- */

static void thread_label(const lr_json *t, char *buf, size_t len)
{
    const char *name = lr_json_str(lr_json_get(t, "name"), "");
    long id = lr_json_long(lr_json_get(t, "id"), -1);
    if (*name)
        snprintf(buf, len, "T%ld (%s)", id, name);
    else
        snprintf(buf, len, "T%ld", id);
}

/* "lock_a", else "heap mutex 0x5555..." as the text report says it */
static void lock_label(const lr_json *report, long index, char *buf, size_t len)
{
    const lr_json *l = lr_json_at(lr_json_get(report, "locks"), (size_t)index);
    const char *name = lr_json_str(lr_json_get(l, "name"), NULL);
    if (name)
        snprintf(buf, len, "%s", name);
    else if (l)
        snprintf(buf, len, "%s %s %s", lr_json_str(lr_json_get(l, "where"), ""),
                 lr_json_str(lr_json_get(l, "kind"), "lock"), lr_json_str(lr_json_get(l, "addr"), ""));
    else
        snprintf(buf, len, "a lock");
}

typedef struct places {
    lr_place *out;
    size_t n, max;
} places;

/* The stack's first frame with a source line, else its first frame. */
static void add_place(places *ps, const lr_json *stack, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void add_place(places *ps, const lr_json *stack, const char *fmt, ...)
{
    if (ps->n >= ps->max || !stack || stack->type != LR_JSON_ARRAY || !stack->child)
        return;
    const lr_json *at = stack->child;
    for (const lr_json *f = stack->child; f; f = f->next) {
        const char *file = lr_json_str(lr_json_get(f, "file"), NULL);
        if (file && *file && lr_json_long(lr_json_get(f, "line"), 0) > 0) {
            at = f;
            break;
        }
    }
    lr_place *p = &ps->out[ps->n++];
    p->file = lr_json_str(lr_json_get(at, "file"), NULL);
    p->line = lr_json_long(lr_json_get(at, "line"), 0);
    if (!p->file || !*p->file || p->line <= 0)
        p->file = NULL, p->line = 0;
    p->module = lr_json_str(lr_json_get(at, "module"), NULL);
    p->offset = lr_json_str(lr_json_get(at, "offset"), NULL);
    p->file_offset = lr_json_str(lr_json_get(at, "file_offset"), NULL);
    p->function = lr_json_str(lr_json_get(at, "function"), NULL);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(p->what, sizeof p->what, fmt, ap);
    va_end(ap);
}

static void lock_order_places(places *ps, const lr_json *r)
{
    char t[80], from[120], to[120];
    for (const lr_json *e = lr_json_get(r, "edges") ? lr_json_get(r, "edges")->child : NULL; e; e = e->next) {
        thread_label(lr_json_get(e, "thread"), t, sizeof t);
        lock_label(r, lr_json_long(lr_json_get(e, "from"), -1), from, sizeof from);
        lock_label(r, lr_json_long(lr_json_get(e, "to"), -1), to, sizeof to);
        add_place(ps, lr_json_get(e, "second_stack"), "%s took %s while holding %s", t, to, from);
        add_place(ps, lr_json_get(e, "first_stack"), "%s took %s, then %s", t, from, to);
    }
}

static void deadlock_places(places *ps, const lr_json *r)
{
    char t[80], other[80], lock[120];
    const lr_json *threads = lr_json_get(r, "threads");
    for (const lr_json *e = threads ? threads->child : NULL; e; e = e->next) {
        thread_label(lr_json_get(e, "thread"), t, sizeof t);
        const lr_json *w = lr_json_get(e, "waits_for");
        const char *kind = lr_json_str(lr_json_get(w, "kind"), "");
        if (!strcmp(kind, "lock")) {
            lock_label(r, lr_json_long(lr_json_get(w, "lock"), -1), lock, sizeof lock);
            long holder = lr_json_long(lr_json_get(w, "held_by"), -1);
            if (holder >= 0)
                add_place(ps, lr_json_get(e, "stack"), "%s waits for %s, held by T%ld", t, lock, holder);
            else
                add_place(ps, lr_json_get(e, "stack"), "%s waits for %s", t, lock);
        } else if (!strcmp(kind, "join")) {
            snprintf(other, sizeof other, "T%ld", lr_json_long(lr_json_get(w, "thread"), -1));
            add_place(ps, lr_json_get(e, "stack"), "%s waits to join %s", t, other);
        } else {
            add_place(ps, lr_json_get(e, "stack"), "%s waits on %s %s", t, kind,
                      lr_json_str(lr_json_get(w, "name"), ""));
        }
        const lr_json *holds = lr_json_get(e, "holds");
        for (const lr_json *h = holds ? holds->child : NULL; h; h = h->next) {
            lock_label(r, lr_json_long(lr_json_get(h, "lock"), -1), lock, sizeof lock);
            add_place(ps, lr_json_get(h, "stack"), "%s took %s, which it holds", t, lock);
        }
    }
}

static void stall_places(places *ps, const lr_json *r)
{
    char t[80], lock[120];
    lock_label(r, 0, lock, sizeof lock);
    const lr_json *holder = lr_json_get(r, "holder");
    thread_label(lr_json_get(holder, "thread"), t, sizeof t);
    add_place(ps, lr_json_get(holder, "stack"), "%s took %s and holds it", t, lock);
    const lr_json *waiters = lr_json_get(r, "waiters");
    for (const lr_json *w = waiters ? waiters->child : NULL; w; w = w->next) {
        thread_label(lr_json_get(w, "thread"), t, sizeof t);
        add_place(ps, lr_json_get(w, "stack"), "%s waited %ld ms for %s", t,
                  lr_json_long(lr_json_get(w, "waited_ms"), 0), lock);
    }
}

static void access_place(places *ps, const lr_json *r, size_t i, const char *when)
{
    char t[80];
    const lr_json *a = lr_json_at(lr_json_get(r, "accesses"), i);
    if (!a)
        return;
    thread_label(lr_json_get(a, "thread"), t, sizeof t);
    add_place(ps, lr_json_get(a, "stack"), "%s %s %s%s", t,
              !strcmp(lr_json_str(lr_json_get(a, "op"), ""), "write") ? "wrote" : "read",
              lr_json_str(lr_json_get(lr_json_get(r, "variable"), "name"), "the variable"), when);
}

static void misuse_places(places *ps, const lr_json *r)
{
    char t[80], what[64];
    thread_label(lr_json_get(r, "thread"), t, sizeof t);
    add_place(ps, lr_json_get(r, "stack"), "%s made the call", t);
    const lr_json *earlier = lr_json_get(r, "earlier");
    if (earlier) {
        thread_label(lr_json_get(earlier, "thread"), t, sizeof t);
        snprintf(what, sizeof what, "%s", lr_json_str(lr_json_get(earlier, "what"), "took it"));
        size_t n = strlen(what);
        if (n > 3 && !strcmp(what + n - 3, " at"))
            what[n - 3] = 0;    /* "took it at" introduces a stack in the text report */
        add_place(ps, lr_json_get(earlier, "stack"), "%s %s", t, what);
    }
}

const char *lr_place_where(const lr_place *p, char *buf, size_t len)
{
    if (p->file)
        snprintf(buf, len, "%s:%ld", p->file, p->line);
    else
        snprintf(buf, len, "%s%s%s+%s", p->function ? p->function : "", p->function ? " in " : "",
                 p->module ? p->module : "?", p->offset ? p->offset : "?");
    return buf;
}

size_t lr_run_places(const lr_json *report, lr_place *out, size_t max)
{
    places ps = { out, 0, max };
    const char *kind = lr_json_str(lr_json_get(report, "kind"), "");
    if (!strcmp(kind, "lock-order-inversion")) {
        lock_order_places(&ps, report);
    } else if (!strcmp(kind, "deadlock")) {
        deadlock_places(&ps, report);
    } else if (!strcmp(kind, "stall")) {
        stall_places(&ps, report);
    } else if (!strcmp(kind, "data-race")) {
        access_place(&ps, report, 1, "");
        access_place(&ps, report, 0, " earlier");
    } else if (!strcmp(kind, "lost-update")) {
        /* the write that overwrote, its read, then the update it overwrote */
        int observed = !strcmp(lr_json_str(lr_json_get(report, "certainty"), ""), "observed");
        access_place(&ps, report, 1, observed ? ", overwriting the other update"
                                              : ", which can overwrite the other update");
        access_place(&ps, report, 0, " before that");
        access_place(&ps, report, 3, " (the update overwritten)");
        access_place(&ps, report, 2, " before that");
    } else if (!strcmp(kind, "misuse")) {
        misuse_places(&ps, report);
    }
    return ps.n;
}
