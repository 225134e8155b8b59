/* What a report says about locks, threads and objects: names from the
 * debug information (globals) or from lockrace_lock_name, else where the
 * memory is (heap, a thread's stack) and its address; threads by number and
 * name; where each came from. */
#include "report/pystack.h"
#include "support/python.h"
#include "report/format.h"
#include "model/lockreg.h"
#include "model/thread.h"
#include "support/options.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

const char *const lr_where_names[] = { "global", "heap", "stack", "data", "shared" };

/* The mapping of /proc/self/maps that holds addr. Read when a report is
 * written, so that mapping memory and starting threads cost nothing. */
typedef struct mapping {
    unsigned long hi;
    int shared;                 /* MAP_SHARED ('s'): memory another process may map too */
    int main_stack;             /* [stack] */
} mapping;

static int find_mapping(uintptr_t addr, mapping *m)
{
    char line[256], perms[8];
    unsigned long lo = 0, hi = 0;
    int found = 0;
    FILE *f = fopen("/proc/self/maps", "re");
    if (!f)
        return -1;
    while (!found && fgets(line, sizeof line, f)) {
        if (sscanf(line, "%lx-%lx %7s", &lo, &hi, perms) == 3 && addr >= lo && addr < hi) {
            found = 1;
            m->hi = hi;
            m->shared = perms[3] == 's';
            m->main_stack = strstr(line, "[stack]") != NULL;
        }
        while (!strchr(line, '\n') && fgets(line, sizeof line, f))
            ;                   /* the rest of a long line */
    }
    fclose(f);
    return found ? 0 : -1;
}

/* The thread on whose stack addr lies, UINT32_MAX when none. The main
 * thread's stack is the [stack] mapping. A thread glibc started has its
 * descriptor (its pthread_t) at the top of its stack block, above every
 * frame, also on a stack the program gave (allocate_stack, glibc 2.36):
 * the owner is the thread whose descriptor is the nearest above addr in
 * the same mapping (mappings of stacks without guard pages may merge). A
 * stack reused from an ended thread's belongs to the running one. */
static uint32_t stack_owner(uintptr_t addr, const mapping *m)
{
    uintptr_t hi = m->hi;
    if (m->main_stack)
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

void lr_describe_lock(const lr_report_lock *l, lr_lock_desc *d)
{
    memset(d, 0, sizeof *d);
    int global = lr_sym_data(l->addr, d->name, sizeof d->name) == 0;
    if (l->name)
        snprintf(d->name, sizeof d->name, "%s", l->name);
    else if (!global)
        lr_pystack_lock_name(l->first_seen, d->name, sizeof d->name);
    d->where = global ? LR_WHERE_GLOBAL : LR_WHERE_HEAP;
    if (global)
        return;
    /* Without a symbol (a stripped program): the object's data by its
     * address there, which the unstripped object's nm or gdb can name. */
    if (lr_sym_data_module(l->addr, d->module, sizeof d->module, &d->offset) == 0) {
        d->where = LR_WHERE_DATA;
        return;
    }
    /* Anonymous private memory stays "heap": malloc's arenas other than
     * the main one are such mappings, as are the program's own, which
     * nothing tells apart from them. */
    mapping m;
    if (find_mapping(l->addr, &m) < 0)
        return;
    if (m.shared) {
        d->where = LR_WHERE_SHARED;
        return;
    }
    uint32_t owner = stack_owner(l->addr, &m);
    if (owner != UINT32_MAX) {
        d->where = LR_WHERE_STACK;
        d->stack_owner = owner;
    }
}

const char *lr_lock_kind_word(int type)
{
    return type == LR_RWLOCK      ? "rwlock"
           : type == LR_SPINLOCK  ? "spinlock"
           : type == LR_SEMAPHORE ? "semaphore"
           : type == LR_ANNOTATED ? "annotated lock"
           : type == LR_GUARD     ? "static's guard"
                                  : "mutex";
}

/* " for reading" / " for writing" after an rwlock's name, "" for others */
const char *lr_mode_words(const lr_report_lock *l, int shared)
{
    if (!lr_lock_has_modes(l->type))
        return "";
    return shared ? " for reading" : " for writing";
}

/* "lock_a", else "mutex at abba+0x4090", "heap mutex 0x5555...", "stack mutex 0x7ffd..." */
void lr_lock_label(const lr_report_lock *l, const lr_lock_desc *d, char *buf, size_t len)
{
    if (d->name[0])
        snprintf(buf, len, "%s", d->name);
    else if (d->where == LR_WHERE_DATA)
        snprintf(buf, len, "%s at %s+%#lx", lr_lock_kind_word(l->type), d->module, (unsigned long)d->offset);
    else
        snprintf(buf, len, "%s %s %#lx", lr_where_names[d->where], lr_lock_kind_word(l->type),
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

void lr_thread_label(uint32_t id, char *buf, size_t len)
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

/* Where each thread came from, once per thread. */
void lr_text_thread_origins(lr_buf *b, const uint32_t *ids, size_t n)
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
        lr_thread_label(ids[i], tl, sizeof tl);
        if (t->parent == UINT32_MAX) {
            lr_buf_printf(b, "  %s is the main thread\n", tl);
            continue;
        }
        char parent[64];
        lr_thread_label(t->parent, parent, sizeof parent);
        lr_buf_printf(b, "  %s was created by %s at:\n", tl, parent);
        lr_text_stack(b, t->created_at, "      ");
    }
    lr_buf_puts(b, "\n");
}

/* Where a lock without a symbol was first seen (globals are named already). */
void lr_text_lock_origins(lr_buf *b, const lr_report *r, const lr_lock_desc *d,
                              char (*labels)[200])
{
    char tl[64], place[160];
    for (size_t i = 0; i < r->nlocks; i++) {
        if (d[i].where == LR_WHERE_GLOBAL)
            continue;
        const lr_report_lock *l = &r->locks[i];
        lr_thread_label(d[i].where == LR_WHERE_STACK ? d[i].stack_owner : l->first_thread, tl, sizeof tl);
        snprintf(place, sizeof place, "%s", d[i].where == LR_WHERE_STACK ? "on a thread's stack"
                                           : d[i].where == LR_WHERE_SHARED ? "in shared memory"
                                                                            : "in heap memory");
        if (d[i].where == LR_WHERE_DATA)
            snprintf(place, sizeof place, "in %s's data", d[i].module);
        lr_buf_printf(b, "\n  %s is %s, first seen in %s at:\n", labels[i], place, tl);
        lr_text_stack(b, l->first_seen, "      ");
    }
}

/* The origins section of every report: heap and stack locks, then the
 * threads (of the cycle's edges, or of the report's thread list). */
void lr_text_origins(lr_buf *b, const lr_report *r, const lr_lock_desc *d, char (*labels)[200])
{
    uint32_t ids[64];
    size_t n = 0;
    for (size_t i = 0; i < r->nthreads && n < 64; i++)
        ids[n++] = r->threads[i].id;
    for (size_t i = 0; i < r->nedges && n < 64; i++)
        ids[n++] = r->edges[i].thread;
    lr_text_lock_origins(b, r, d, labels);
    lr_text_thread_origins(b, ids, n);
}

/* a global's name ("item_ready"), else what it is and its address */
const char *lr_named_object(uintptr_t object, const char *what, char *buf, size_t len)
{
    char name[160];
    if (lr_sym_data(object, name, sizeof name) == 0)
        snprintf(buf, len, "%s", name);
    else
        snprintf(buf, len, "%s%s%#lx", what, *what ? " " : "", (unsigned long)object);
    return buf;
}

const char *lr_object_label(uintptr_t object, char *buf, size_t len)
{
    return lr_named_object(object, "", buf, len);
}

const char *lr_cond_label(uintptr_t cond, char *buf, size_t len)
{
    return lr_named_object(cond, "condition variable", buf, len);
}

void lr_json_thread(lr_buf *b, uint32_t id)
{
    lr_thread_info *t = lr_thread_info_get(id);
    char name[128] = "";
    if (t)
        thread_name(t, name, sizeof name);
    lr_buf_printf(b, "{\"id\":%u,\"tid\":%d,\"name\":", id, t ? (int)t->tid : 0);
    lr_buf_json_string(b, name);
    if (t && t->parent != UINT32_MAX) {
        lr_buf_printf(b, ",\"parent\":%u,\"created_at\":", t->parent);
        lr_json_stack(b, t->created_at);
    }
    lr_buf_puts(b, "}");
}

void lr_json_header(lr_buf *b, const lr_report *r, unsigned long seq, const char *summary,
                        const char *certainty)
{
    lr_buf_printf(b, "{\"lockrace\":1,\"kind\":\"%s\",\"pid\":%d,\"seq\":%lu,\"summary\":",
                  lr_report_kind_name(r->kind), (int)getpid(), seq);
    lr_buf_json_string(b, summary);
    lr_buf_printf(b, ",\"certainty\":\"%s\"", certainty);
}

void lr_json_locks(lr_buf *b, const lr_report *r, const lr_lock_desc *d)
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
        lr_buf_printf(b, ",\"kind\":\"%s\",\"where\":\"%s\"", lr_lock_kind_word(l->type),
                      lr_where_names[d[i].where]);
        if (d[i].where == LR_WHERE_DATA) {
            lr_buf_puts(b, ",\"module\":");
            lr_buf_json_string(b, d[i].module);
            lr_buf_printf(b, ",\"offset\":\"%#lx\"", (unsigned long)d[i].offset);
        }
        lr_buf_puts(b, ",\"first_seen\":");
        lr_json_stack(b, l->first_seen);
        lr_buf_puts(b, "}");
    }
    lr_buf_puts(b, "]");
}

void lr_report_var_label(const lr_report_var *v, char *buf, size_t len)
{
    lr_report_lock as_lock = { .addr = v->addr, .name = v->name };
    lr_lock_desc d;
    lr_describe_lock(&as_lock, &d);
    if (d.name[0])
        snprintf(buf, len, "%s", d.name);
    else if (d.where == LR_WHERE_DATA)
        snprintf(buf, len, "variable at %s+%#lx", d.module, (unsigned long)d.offset);
    else
        snprintf(buf, len, "%s variable %#lx", lr_where_names[d.where], (unsigned long)v->addr);
}

int lr_report_var_part(const lr_report_var *v, char *buf, size_t len, uintptr_t *addr, size_t *size)
{
    if (!v->bytes || (v->at == v->addr && v->bytes == v->size))
        return 0;
    char label[200], part[200];
    if (lr_sym_data(v->at, part, sizeof part) != 0)
        return 0;
    lr_report_var_label(v, label, sizeof label);
    /* a name given (watch=balance): the part's path after it, "[15]";
     * else the debug information names both */
    size_t n = v->name ? strlen(v->name) : 0;
    if (v->name && (strncmp(part, v->name, n) != 0 || (part[n] != '[' && part[n] != '.')))
        return 0;
    if (!strcmp(part, label))
        return 0;
    snprintf(buf, len, "%s", part);
    *addr = v->at;
    *size = v->bytes;
    return 1;
}

const char *lr_where_of(const lr_report_var *v)
{
    lr_report_lock as_lock = { .addr = v->addr };
    lr_lock_desc d;
    lr_describe_lock(&as_lock, &d);
    return lr_where_names[d.where];
}
