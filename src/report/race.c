/* The data-race and lost-update reports: the variable, each access with
 * its thread, stack, value and the locks it held, and the interleaving. */
#include "report/format.h"

#include <unistd.h>

/* "accounts_lock, stats_lock" or "no lock" */
static void held_words(lr_buf *b, const lr_report *r, const lr_report_access *a, char (*labels)[200])
{
    if (!a->nholds) {
        lr_buf_puts(b, "no lock");
        return;
    }
    for (size_t i = 0; i < a->nholds; i++) {
        const lr_report_hold *h = &r->holds[a->hold_first + i];
        lr_buf_printf(b, "%s%s%s", i ? ", " : "", labels[h->lock], h->shared ? " for reading" : "");
    }
}

/* The variable as a report names it: the element its accesses share,
 * when the debug information names one ("balance[15]"), with that
 * element's address and size; else the whole variable. */
static void var_words(const lr_report *r, char *var, size_t len, uintptr_t *addr, size_t *size)
{
    if (!lr_report_var_part(&r->var, var, len, addr, size)) {
        lr_report_var_label(&r->var, var, len);
        *addr = r->var.addr;
        *size = r->var.size;
    }
}

/* a value as the program's integer of that size (signed) */
static long long value_of(const lr_report *r, const lr_report_access *a)
{
    size_t size = r->var.bytes ? r->var.bytes : r->var.size;
    size = size < 8 ? size : 8;
    uint64_t v = a->value;
    if (size < 8 && (v >> (size * 8 - 1) & 1))
        v |= ~0ull << (size * 8);
    return (long long)v;
}

static void text_access(lr_buf *b, const lr_report *r, const lr_report_access *a, const char *var,
                        const char *when, char (*labels)[200])
{
    char tl[64];
    lr_thread_label(a->thread, tl, sizeof tl);
    lr_buf_printf(b, "\n  %s %s%s %s%s", tl, a->atomic ? "atomically " : "",
                  a->write ? "wrote" : "read", var, when);
    if (a->has_value)
        lr_buf_printf(b, " (value %lld)", value_of(r, a));
    lr_buf_puts(b, ", holding ");
    held_words(b, r, a, labels);
    lr_buf_puts(b, ", at:\n");
    lr_text_stack(b, a->stack, "      ");
}

static void race_threads(const lr_report *r, uint32_t *ids, size_t *n)
{
    *n = 0;
    for (size_t i = 0; i < r->naccesses; i++)
        ids[(*n)++] = r->accesses[i].thread;
}

static void text_race_origins(lr_buf *b, const lr_report *r, lr_lock_desc *d, char (*labels)[200])
{
    uint32_t ids[4];
    size_t n;
    race_threads(r, ids, &n);
    lr_text_lock_origins(b, r, d, labels);
    lr_text_thread_origins(b, ids, n);
}

void lr_text_data_race(lr_buf *b, const lr_report *r, lr_lock_desc *d, char (*labels)[200])
{
    char var[200], t0[64], t1[64];
    pid_t pid = getpid();
    const lr_report_access *a = &r->accesses[0], *c = &r->accesses[1];
    uintptr_t addr;
    size_t size;
    var_words(r, var, sizeof var, &addr, &size);
    lr_thread_label(a->thread, t0, sizeof t0);
    lr_thread_label(c->thread, t1, sizeof t1);
    lr_buf_printf(b, "==%d== lockrace: data-race on %s (%zu byte%s at %#lx): %s %s, then %s %s\n", (int)pid,
                  var, size, size == 1 ? "" : "s", (unsigned long)addr, t0, a->write ? "wrote" : "read", t1,
                  c->write ? "wrote" : "read");
    lr_buf_printf(b, "==%d== Nothing orders these two accesses (no lock handed over, no thread "
                     "create/join, signal or post between them), and %s.\n", (int)pid,
                  r->common_lock ? "although they held a lock in common, it did not order them"
                                 : "they held no lock in common");
    text_access(b, r, a, var, "", labels);     /* in the order they happened */
    text_access(b, r, c, var, " then", labels);
    text_race_origins(b, r, d, labels);
}

/* A read-modify-write that held a lock at its read and its write, but let it
 * go in between: the usual cause of a lost update in locked code. Said only
 * of a lock the engine saw released and taken again (retaken). */
static void released_between(lr_buf *b, const lr_report *r, int write, char (*labels)[200])
{
    const lr_report_access *y = &r->accesses[write];
    for (size_t j = 0; j < y->nholds; j++)
        if (r->holds[y->hold_first + j].retaken) {
            char tl[64];
            lr_thread_label(y->thread, tl, sizeof tl);
            lr_buf_printf(b, "  %s held %s at its read and at its write, but released it in "
                             "between.\n", tl, labels[r->holds[y->hold_first + j].lock]);
        }
}

static void interleaving(lr_buf *b, const lr_report *r)
{
    char tl[64];
    for (int i = 0; i < 4; i++) {
        const lr_report_access *a = &r->accesses[r->order[i]];
        lr_thread_label(a->thread, tl, sizeof tl);
        lr_buf_printf(b, "%s%s %s %lld", i ? ", " : "", tl, a->write ? "wrote" : "read", value_of(r, a));
    }
}

/* lockrace saw the values of all four accesses: it would have seen an
 * overwrite happen. */
static int values_seen(const lr_report *r)
{
    for (size_t i = 0; i < r->naccesses; i++)
        if (!r->accesses[i].has_value)
            return 0;
    return 1;
}

/* Both read-modify-writes are one instruction each (a watched x++: its
 * read and write come from one rewritten instruction, at one stack): the
 * variable's lock around it makes it atomic while watched. */
static int one_instruction(const lr_report *r)
{
    return r->accesses[0].stack == r->accesses[1].stack && r->accesses[2].stack == r->accesses[3].stack;
}

void lr_text_lost_update(lr_buf *b, const lr_report *r, lr_lock_desc *d, char (*labels)[200])
{
    char var[200], t0[64], t1[64];
    pid_t pid = getpid();
    uintptr_t addr;
    size_t size;
    var_words(r, var, sizeof var, &addr, &size);
    lr_thread_label(r->accesses[0].thread, t0, sizeof t0);
    lr_thread_label(r->accesses[2].thread, t1, sizeof t1);
    if (r->observed) {
        lr_buf_printf(b, "==%d== lockrace: lost-update on %s (%zu byte%s at %#lx): observed\n", (int)pid,
                      var, size, size == 1 ? "" : "s", (unsigned long)addr);
        lr_buf_printf(b, "==%d== ", (int)pid);
        interleaving(b, r);
        lr_buf_printf(b, ": %s's update was overwritten by %s, which wrote a value computed from what "
                         "it read before that update.\n", t1, t0);
        lr_buf_printf(b, "==%d== Lost updates observed on %s so far: %lu (the total is at exit).\n",
                      (int)pid, var, (unsigned long)r->lost);
    } else {
        lr_buf_printf(b, "==%d== lockrace: lost-update on %s (%zu byte%s at %#lx): possible\n", (int)pid,
                      var, size, size == 1 ? "" : "s", (unsigned long)addr);
        lr_buf_printf(b, "==%d== %s and %s each read %s and then wrote it, and nothing orders the two "
                         "read-modify-writes: either write can fall between the other thread's read "
                         "and write and overwrite its update. %s\n",
                      (int)pid, t0, t1, var,
                      !values_seen(r) ? "lockrace cannot tell whether it did this time: the accesses "
                                        "were annotated without their values (LOCKRACE_LOAD and "
                                        "LOCKRACE_STORE, or watch=, give them)."
                      : one_instruction(r) ? "Not seen overwriting this time: each read-modify-write "
                                             "is one instruction, which watching makes atomic, so "
                                             "it cannot while watched; unwatched, it can."
                                           : "Not seen overwriting this time.");
    }
    released_between(b, r, 1, labels);
    released_between(b, r, 3, labels);
    text_access(b, r, &r->accesses[0], var, "", labels);
    text_access(b, r, &r->accesses[1], var, " then", labels);
    text_access(b, r, &r->accesses[2], var, "", labels);
    text_access(b, r, &r->accesses[3], var, " then", labels);
    text_race_origins(b, r, d, labels);
}

static void json_variable(lr_buf *b, const lr_report *r)
{
    char var[200], whole[200];
    uintptr_t addr;
    size_t size;
    var_words(r, var, sizeof var, &addr, &size);
    lr_buf_puts(b, ",\"variable\":{\"name\":");
    lr_buf_json_string(b, var);
    lr_buf_printf(b, ",\"addr\":\"%#lx\",\"size\":%zu,\"where\":\"%s\"", (unsigned long)addr, size,
                  lr_where_of(&r->var));
    if (addr != r->var.addr || size != r->var.size) {
        /* an element of it: the variable watched */
        lr_report_var_label(&r->var, whole, sizeof whole);
        lr_buf_puts(b, ",\"of\":{\"name\":");
        lr_buf_json_string(b, whole);
        lr_buf_printf(b, ",\"addr\":\"%#lx\",\"size\":%zu}", (unsigned long)r->var.addr, r->var.size);
    }
    lr_buf_puts(b, "}");
}

static void json_accesses(lr_buf *b, const lr_report *r)
{
    lr_buf_puts(b, ",\"accesses\":[");
    for (size_t i = 0; i < r->naccesses; i++) {
        const lr_report_access *a = &r->accesses[i];
        lr_buf_printf(b, "%s{\"thread\":", i ? "," : "");
        lr_json_thread(b, a->thread);
        lr_buf_printf(b, ",\"op\":\"%s\",\"atomic\":%s", a->write ? "write" : "read",
                      a->atomic ? "true" : "false");
        if (a->has_value)
            lr_buf_printf(b, ",\"value\":%lld", value_of(r, a));
        lr_buf_puts(b, ",\"locks_held\":[");
        int reading = 0;
        for (size_t k = 0; k < a->nholds; k++) {
            lr_buf_printf(b, "%s%d", k ? "," : "", r->holds[a->hold_first + k].lock);
            reading |= r->holds[a->hold_first + k].shared;
        }
        lr_buf_puts(b, "]");
        if (reading) {          /* which of them for reading only: they exclude no reader */
            lr_buf_puts(b, ",\"locks_held_for_reading\":[");
            for (size_t k = 0, n = 0; k < a->nholds; k++)
                if (r->holds[a->hold_first + k].shared)
                    lr_buf_printf(b, "%s%d", n++ ? "," : "", r->holds[a->hold_first + k].lock);
            lr_buf_puts(b, "]");
        }
        int retaken = 0;
        for (size_t k = 0; k < a->nholds; k++)
            retaken |= r->holds[a->hold_first + k].retaken;
        if (retaken) {          /* let go after the thread's read and taken again */
            lr_buf_puts(b, ",\"locks_released_since_read\":[");
            for (size_t k = 0, n = 0; k < a->nholds; k++)
                if (r->holds[a->hold_first + k].retaken)
                    lr_buf_printf(b, "%s%d", n++ ? "," : "", r->holds[a->hold_first + k].lock);
            lr_buf_puts(b, "]");
        }
        lr_buf_puts(b, ",\"stack\":");
        lr_json_stack(b, a->stack);
        lr_buf_puts(b, "}");
    }
    lr_buf_puts(b, "]");
}

void lr_json_race(lr_buf *b, const lr_report *r, lr_lock_desc *d, unsigned long seq)
{
    char var[200];
    uintptr_t addr;
    size_t size;
    var_words(r, var, sizeof var, &addr, &size);
    lr_buf summary = { 0 };
    if (r->kind == LR_REPORT_DATA_RACE)
        lr_buf_printf(&summary, "data race on %s: T%u %s, T%u %s", var, r->accesses[0].thread,
                      r->accesses[0].write ? "wrote" : "read", r->accesses[1].thread,
                      r->accesses[1].write ? "wrote" : "read");
    else if (r->observed)
        lr_buf_printf(&summary, "observed lost update on %s: T%u overwrote T%u's update", var,
                      r->accesses[0].thread, r->accesses[2].thread);
    else
        lr_buf_printf(&summary, "possible lost update on %s: T%u and T%u can overwrite each "
                      "other's update", var, r->accesses[0].thread, r->accesses[2].thread);
    lr_json_header(b, r, seq, summary.data ? summary.data : "",
                r->kind == LR_REPORT_DATA_RACE ? "unordered" : r->observed ? "observed" : "possible");
    lr_buf_free(&summary);
    json_variable(b, r);
    lr_json_locks(b, r, d);
    json_accesses(b, r);
    lr_buf_printf(b, ",\"common_lock\":%s", r->common_lock ? "true" : "false");
    if (r->kind == LR_REPORT_LOST_UPDATE) {
        if (r->observed)
            lr_buf_printf(b, ",\"interleaving\":[%d,%d,%d,%d],\"lost_so_far\":%lu", r->order[0],
                          r->order[1], r->order[2], r->order[3], (unsigned long)r->lost);
    }
    lr_buf_puts(b, "}\n");
}

/* The race engine's summary at exit: the reports that recurred (each was
 * written once) and the lost updates counted per variable; nothing when
 * there is neither. */
void lr_report_race_summary(const lr_report_recurrence *rec, size_t nrec, const lr_report_lost *lost,
                            size_t nlost)
{
    lr_buf text = { 0 }, json = { 0 };
    char var[200];
    int pid = (int)getpid();
    lr_buf_printf(&json, "{\"lockrace\":1,\"kind\":\"summary\",\"pid\":%d,\"repeats\":[", pid);
    for (size_t i = 0; i < nrec; i++) {
        const lr_report_recurrence *s = &rec[i];
        int race = s->kind == LR_REPORT_DATA_RACE;
        lr_report_var_label(&s->var, var, sizeof var);
        const char *kind = race ? "data-race" : s->observed ? "observed lost-update"
                                                           : "possible lost-update";
        if (s->repeats)
            lr_buf_printf(&text, "==%d== lockrace: %s on %s: reported once, seen %lu more time%s\n",
                          pid, kind, var, (unsigned long)s->repeats, s->repeats == 1 ? "" : "s");
        lr_buf_printf(&json, "%s{\"kind\":\"%s\",\"certainty\":\"%s\",\"variable\":", i ? "," : "",
                      race ? "data-race" : "lost-update",
                      race ? "unordered" : s->observed ? "observed" : "possible");
        lr_buf_json_string(&json, var);
        lr_buf_printf(&json, ",\"repeats\":%lu}", (unsigned long)s->repeats);
    }
    lr_buf_puts(&json, "],\"lost_updates\":[");
    for (size_t i = 0; i < nlost; i++) {
        lr_report_var_label(&lost[i].var, var, sizeof var);
        lr_buf_printf(&text, "==%d== lockrace: lost updates observed on %s: %lu\n", pid, var,
                      (unsigned long)lost[i].lost);
        lr_buf_printf(&json, "%s{\"variable\":", i ? "," : "");
        lr_buf_json_string(&json, var);
        lr_buf_printf(&json, ",\"observed\":%lu}", (unsigned long)lost[i].lost);
    }
    lr_buf_puts(&json, "]}\n");
    if (text.data || json.data)
        lr_report_write_extra(text.data, text.len, json.data, json.len);
    lr_buf_free(&text);
    lr_buf_free(&json);
}
