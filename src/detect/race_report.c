/* The race engine's findings, made reports: once per pair of code sites,
 * a possible lost update held back for up to a second in case the same
 * code is then seen losing an update for certain; and the summary at exit. */
#include "detect/race_internal.h"
#include "model/held.h"
#include "support/arena.h"
#include "support/util.h"

#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

void lr_race_add_finding(findings *fs, int kind, const lr_cell *c, const lr_access *a, int n, int observed)
{
    if (fs->n == MAX_FINDINGS)
        return;
    finding *f = &fs->f[fs->n++];
    f->kind = kind;
    f->var = c->var;
    f->granule = c->granule;
    f->observed = observed;
    memcpy(f->a, a, (size_t)n * sizeof *a);
}

/* x and y in the order the cell saw them (a read held back until the
 * thread's next access is the earlier one of its pair, or the later). */
void lr_race_add_race(findings *fs, const lr_cell *c, const lr_access *x, const lr_access *y)
{
    int swap = y->seq < x->seq;
    lr_access a[2] = { swap ? *y : *x, swap ? *x : *y };
    lr_race_add_finding(fs, F_RACE, c, a, 2, 0);
}

/* Reports already made, by what they are about, and how often they recurred.
 * A possible lost update is held back for up to a second (less if the
 * thread that found it ends, or the program exits): an observed one on the
 * same code often follows, and says more. */
typedef struct seen_report {
    uint64_t key;
    lr_var *var;
    int kind, observed;
    int emitted;                /* the report was written */
    int superseded;             /* a possible lost update, observed since */
    uint64_t repeats;
    uint64_t found_ns;          /* when first found */
    finding first;              /* a held-back report */
    struct seen_report *next, *order;
} seen_report;

#define SEEN_BUCKETS 1024
#define POSSIBLE_DELAY_NS 1000000000ull
static seen_report *seen[SEEN_BUCKETS];
static seen_report *seen_first, **seen_last = &seen_first;
static lr_ilock seen_lock = LR_ILOCK_INIT;
uint64_t lr_race_lost_total;

static uint64_t site_key(const lr_access *a)
{
    return lr_mix(lr_mix(a->stack, a->write), a->atomic);
}

/* Same sites, same report: the key does not depend on which thread came first. */
static uint64_t finding_key(const finding *f, int observed)
{
    uint64_t k = lr_mix((uint64_t)(uintptr_t)f->var, (uint64_t)f->kind << 8 | (uint64_t)observed);
    if (f->kind == F_RACE) {
        uint64_t x = site_key(&f->a[0]), y = site_key(&f->a[1]);
        return lr_mix(k, (x < y ? x : y) * 31 + (x < y ? y : x));
    }
    uint64_t x = lr_mix(site_key(&f->a[0]), site_key(&f->a[1]));
    uint64_t y = lr_mix(site_key(&f->a[2]), site_key(&f->a[3]));
    return lr_mix(k, (x < y ? x : y) * 31 + (x < y ? y : x));
}

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* Under seen_lock. */
static seen_report *seen_find(uint64_t key, const finding *f, int create)
{
    seen_report *s = seen[key % SEEN_BUCKETS];
    while (s && s->key != key)
        s = s->next;
    if (s || !create || !(s = lr_arena_alloc(sizeof *s)))
        return s;
    s->key = key;
    s->var = f->var;
    s->kind = f->kind;
    s->observed = f->observed;
    s->first = *f;
    s->found_ns = now_ns();
    s->next = seen[key % SEEN_BUCKETS];
    seen[key % SEEN_BUCKETS] = s;
    *seen_last = s;             /* the summary lists them in the order found */
    seen_last = &s->order;
    return s;
}

/* 1 when the finding is to be reported now. */
static int first_time(const finding *f)
{
    int possible = f->kind == F_LOST && !f->observed;
    uint64_t key = finding_key(f, f->observed);
    int now = 0;
    lr_ilock_take(&seen_lock);
    seen_report *s = seen_find(key, f, 1);
    if (s && possible && !s->superseded && seen_find(finding_key(f, 1), f, 0))
        s->superseded = 1;      /* the same code was already seen losing an update */
    if (s && s->emitted) {
        s->repeats++;
    } else if (s && !possible) {
        s->emitted = now = 1;
        if (f->kind == F_LOST) {
            seen_report *p = seen_find(finding_key(f, 0), f, 0);
            if (p)
                p->superseded = 1;
        }
    } else if (s && !s->superseded && now_ns() - s->found_ns >= POSSIBLE_DELAY_NS) {
        s->emitted = now = 1;
        s->repeats = 0;
    }
    lr_ilock_drop(&seen_lock);
    return now;
}

static void fill_access(lr_report *r, int i, const lr_access *a, size_t *nlocks, size_t *nholds)
{
    lr_report_access *ra = &r->accesses[i];
    ra->thread = a->thread;
    ra->write = a->write;
    ra->atomic = a->atomic;
    ra->has_value = a->exact;
    ra->value = a->value;
    ra->stack = a->stack;
    ra->hold_first = *nholds;
    for (uint32_t k = 0; a->locks && k < a->locks->n; k++) {
        size_t li = 0;
        const lr_lockset_entry *e = &a->locks->locks[k];
        while (li < *nlocks && r->locks[li].id != e->lock.id)
            li++;
        if (li == *nlocks)
            r->locks[(*nlocks)++] = e->lock;
        r->holds[(*nholds)++] = (lr_report_hold){ .lock = (int)li, .shared = e->shared,
                                                  .retaken = k < 32 && (a->retaken >> k & 1) };
    }
    ra->nholds = *nholds - ra->hold_first;
}

static void report_finding(const finding *f, uint64_t lost_so_far)
{
    int n = f->kind == F_RACE ? 2 : 4;
    size_t held = 0;
    for (int i = 0; i < n; i++)
        held += f->a[i].locks ? f->a[i].locks->n : 0;
    lr_report *r = lr_report_new(f->kind == F_RACE ? LR_REPORT_DATA_RACE : LR_REPORT_LOST_UPDATE,
                                 held, 0, 0, held);
    if (!r)
        return;
    r->var.addr = f->var->addr;
    r->var.size = f->var->size;
    r->var.name = f->var->name;
    /* the bytes all its accesses touched (the element both threads
     * wrote), which the report names when they are part of the variable */
    uint8_t mask = 0xff;
    for (int i = 0; i < n; i++)
        mask &= f->a[i].mask;
    if (mask) {
        int lo = __builtin_ctz(mask), hi = 8 - (__builtin_clz(mask) - 24);
        uintptr_t at = f->granule + (uintptr_t)lo, end = f->granule + (uintptr_t)hi;
        at = at > r->var.addr ? at : r->var.addr;
        end = end < r->var.addr + r->var.size ? end : r->var.addr + r->var.size;
        if (at < end) {
            r->var.at = at;
            r->var.bytes = end - at;
        }
    }
    r->naccesses = (size_t)n;
    r->observed = f->observed;
    r->lost = lost_so_far;
    size_t nlocks = 0, nholds = 0;
    for (int i = 0; i < n; i++)
        fill_access(r, i, &f->a[i], &nlocks, &nholds);
    r->nlocks = nlocks;
    r->nholds = nholds;
    if (f->kind == F_RACE) {
        r->common_lock = f->a[0].locks && f->a[1].locks && lr_race_common_lock(f->a[0].locks, f->a[1].locks);
    } else {
        /* the interleaving, in the cell's order (the memory's for exact accesses) */
        int order[4] = { 0, 1, 2, 3 };
        for (int i = 1; i < 4; i++)
            for (int j = i; j > 0 && f->a[order[j]].seq < f->a[order[j - 1]].seq; j--) {
                int t = order[j];
                order[j] = order[j - 1];
                order[j - 1] = t;
            }
        for (int i = 0; i < 4; i++)
            r->order[i] = order[i];
        r->common_lock = f->a[0].locks && f->a[2].locks && lr_race_common_lock(f->a[0].locks, f->a[2].locks) &&
                         f->a[1].locks && f->a[3].locks && lr_race_common_lock(f->a[1].locks, f->a[3].locks);
    }
    if (lr_report_emit(r) && f->kind == F_LOST)
        __atomic_store_n(&f->var->lost_shown, 1, __ATOMIC_RELAXED);
    lr_report_free(r);
}

void lr_race_report_findings(lr_thread *self, findings *fs)
{
    for (int i = 0; i < fs->n; i++) {
        finding *f = &fs->f[i];
        uint64_t lost = 0;
        if (f->kind == F_LOST && f->observed)
            lost = __atomic_load_n(&f->var->lost, __ATOMIC_RELAXED);
        if (first_time(f)) {
            lr_enter(self);
            report_finding(f, lost);
            lr_leave(self);
        }
    }
}

/* Possible lost updates still held back (found by thread, or all), written now. */
static void flush_possible(lr_thread *self, uint32_t thread, int all)
{
    for (;;) {
        finding f;
        int found = 0;
        lr_ilock_take(&seen_lock);
        for (seen_report *s = seen_first; s && !found; s = s->order)
            if (!s->emitted && !s->superseded && (all || s->first.a[1].thread == thread)) {
                s->emitted = found = 1;
                s->repeats = 0;
                f = s->first;
            }
        lr_ilock_drop(&seen_lock);
        if (!found)
            return;
        lr_enter(self);
        report_finding(&f, 0);
        lr_leave(self);
    }
}

void lr_race_thread_finished(lr_thread *self)
{
    if (self && lr_race_active()) {
        lr_race_flush_cells(self, self->info->id, 0);
        flush_possible(self, self->info->id, 0);
    }
}

void lr_race_flush(void)
{
    lr_thread *self = lr_thread_current();
    if (lr_race_active() && self) {
        lr_race_flush_cells(self, 0, 1);
        flush_possible(self, 0, 1);
    }
}

uint64_t lr_race_lost_updates(void)
{
    return __atomic_load_n(&lr_race_lost_total, __ATOMIC_RELAXED);
}

void lr_race_summary(void)
{
    if (!lr_race_active() || !seen_first)
        return;
    size_t nrec = 0, nlost = 0;
    for (seen_report *s = seen_first; s; s = s->order)
        nrec += s->emitted != 0;
    lr_race_lost_at_exit();
    for (lr_var *v = lr_race_vars(); v; v = v->next)   /* a suppressed variable's losses: not shown */
        nlost += v->lost != 0 && v->lost_shown;
    size_t size = nrec * sizeof(lr_report_recurrence) + nlost * sizeof(lr_report_lost) + 1;
    lr_report_recurrence *rec = lr_map(size);
    if (!rec)
        return;
    lr_report_lost *lost = (lr_report_lost *)(rec + nrec);
    size_t i = 0;
    for (seen_report *s = seen_first; s && i < nrec; s = s->order)
        if (s->emitted)
            rec[i++] = (lr_report_recurrence){
                .var = { s->var->addr, s->var->size, s->var->name },
                .kind = s->kind == F_RACE ? LR_REPORT_DATA_RACE : LR_REPORT_LOST_UPDATE,
                .observed = s->observed, .repeats = s->repeats };
    i = 0;
    for (lr_var *v = lr_race_vars(); v && i < nlost; v = v->next)
        if (v->lost && v->lost_shown)
            lost[i++] = (lr_report_lost){ .var = { .addr = v->addr, .size = v->size, .name = v->name },
                                          .lost = v->lost };
    lr_report_race_summary(rec, nrec, lost, nlost);
    lr_unmap(rec, size);
}

void lr_race_report_fork_child(void)
{
    lr_ilock_reset(&seen_lock);
}
