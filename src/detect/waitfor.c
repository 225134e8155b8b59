/* The wait-for graph. Each thread publishes its current wait in its
 * permanent record (lr_thread_info.wait); there is no global structure and
 * no lock. A thread about to block stores its wait, then follows
 * wait → holder → the holder's wait → ... : if that comes back to itself,
 * every thread on the way is blocked on the next one. Because every waiter
 * publishes before it looks, of two threads closing a cycle at the same
 * time at least one sees the other. What is read of other threads can be a
 * moment stale, so a cycle is only reported once it has been seen twice with
 * the same wait numbers (the caller waits a little in between): threads in a
 * real deadlock do not move. */
#include "detect/waitfor.h"
#include "support/arena.h"
#include "report/report.h"

#include <string.h>
#include <time.h>

void lr_cycle_init(lr_cycle *c)
{
    memset(c, 0, sizeof *c);
    c->threads = c->inline_threads;
    c->seqs = c->inline_seqs;
    c->cap = 16;
}

void lr_cycle_free(lr_cycle *c)
{
    if (c->threads != c->inline_threads) {
        lr_unmap(c->threads, c->cap * sizeof *c->threads);
        lr_unmap(c->seqs, c->cap * sizeof *c->seqs);
    }
    lr_cycle_init(c);
}

static int cycle_push(lr_cycle *c, uint32_t thread, uint32_t seq)
{
    if (c->n == c->cap) {
        uint32_t cap = c->cap * 2;
        uint32_t *threads = lr_map(cap * sizeof *threads), *seqs = lr_map(cap * sizeof *seqs);
        if (!threads || !seqs) {
            lr_unmap(threads, cap * sizeof *threads);
            lr_unmap(seqs, cap * sizeof *seqs);
            return -1;
        }
        memcpy(threads, c->threads, c->n * sizeof *threads);
        memcpy(seqs, c->seqs, c->n * sizeof *seqs);
        if (c->threads != c->inline_threads) {
            lr_unmap(c->threads, c->cap * sizeof *c->threads);
            lr_unmap(c->seqs, c->cap * sizeof *c->seqs);
        }
        c->threads = threads;
        c->seqs = seqs;
        c->cap = cap;
    }
    c->threads[c->n] = thread;
    c->seqs[c->n] = seq;
    c->n++;
    return 0;
}

uintptr_t (*lr_waitfor_hidden_wait)(const lr_thread_info *t);

/* The lock a thread waits for without having said so, 0 when none. */
static uintptr_t hidden_wait(const lr_thread_info *t)
{
    if (!lr_waitfor_hidden_wait || __atomic_load_n(&t->wait.kind, __ATOMIC_SEQ_CST) != LR_WAIT_NONE)
        return 0;
    return lr_waitfor_hidden_wait(t);
}

/* The threads the wait of t is blocked on; returns how many. A thread
 * that published no wait is asked about (hidden_wait) only when `hidden`. */
static int blockers(const lr_thread_info *t, lr_holder_fn holder, uint32_t *out, int hidden)
{
    uint32_t kind = __atomic_load_n(&t->wait.kind, __ATOMIC_SEQ_CST);
    if (kind == LR_WAIT_NONE) {
        uintptr_t lock = hidden ? hidden_wait(t) : 0;
        return lock ? holder(lock, out, LR_MAX_HOLDERS) : 0;
    }
    if (t->wait.bounded || !lr_wait_on_thread(kind))
        return 0;
    if (kind == LR_WAIT_LOCK)
        return holder(t->wait.object, out, LR_MAX_HOLDERS);
    lr_thread_info *target = lr_thread_info_get((uint32_t)t->wait.object);     /* a join */
    if (!target || __atomic_load_n(&target->finished, __ATOMIC_ACQUIRE))
        return 0;
    out[0] = target->id;
    return 1;
}

/* Every member of a cycle finds it starting from itself; starting it at
 * the lowest thread id makes them all describe it the same way. */
static void rotate_to_lowest(lr_cycle *c)
{
    uint32_t low = 0;
    for (uint32_t i = 1; i < c->n; i++)
        if (c->threads[i] < c->threads[low])
            low = i;
    for (uint32_t k = 0; k < low; k++) {
        uint32_t t = c->threads[0], q = c->seqs[0];
        memmove(c->threads, c->threads + 1, (c->n - 1) * sizeof *c->threads);
        memmove(c->seqs, c->seqs + 1, (c->n - 1) * sizeof *c->seqs);
        c->threads[c->n - 1] = t;
        c->seqs[c->n - 1] = q;
    }
}

/* One level of the depth-first search: a thread of the path and the
 * threads it waits for. */
typedef struct level {
    uint32_t next, n;
    uint32_t waits_for[LR_MAX_HOLDERS];
} level;

/* The engine's part of a thread's state: the searching thread's own
 * memory, kept while the thread runs and for the next thread that gets
 * its state (a join or a contended lock searches every round, and mapping
 * memory each time cost 60 us). */
typedef struct search_memory {
    void *search;
    size_t search_size;
} search_memory;

static size_t part_offset;

static int keep_memory(lr_thread *t, void *part, int reused)
{
    (void)t, (void)part, (void)reused;
    return 0;
}

void lr_waitfor_init(void)
{
    if (!part_offset)
        part_offset = lr_thread_add_part(sizeof(search_memory), keep_memory);
}

/* Whether the wait of one of these threads could lead on: the usual
 * contended lock is held by a thread that runs, and then there is no cycle
 * to search for (hidden waits aside: a thread that runs may be one). */
static int any_blocked(const lr_thread_info *self, const uint32_t *ids, int n, int hidden)
{
    if (hidden)
        return n > 0;
    for (int i = 0; i < n; i++) {
        if (ids[i] == self->id)
            return 1;
        lr_thread_info *t = lr_thread_info_get(ids[i]);
        if (t && __atomic_load_n(&t->wait.kind, __ATOMIC_SEQ_CST) != LR_WAIT_NONE)
            return 1;
    }
    return 0;
}

uint32_t lr_waitfor_cycle(lr_thread_info *self, lr_holder_fn holder, lr_cycle *out, int hidden)
{
    out->n = 0;
    lr_thread *t = self->state;
    uint32_t found = 0, first[LR_MAX_HOLDERS];
    if (!t || !part_offset)
        return 0;
    int nfirst = blockers(self, holder, first, hidden);
    if (!any_blocked(self, first, nfirst, hidden))
        return 0;
    /* the memory: the threads seen (a bit each), then a level per thread
     * on the path, touched only as deep as the search goes; it grows by
     * four (each new mapping is page faults, each one left an munmap) */
    uint32_t threads = lr_thread_count() + 1;
    size_t seen_size = ((threads + 63) / 64) * 8, levels_size = threads * sizeof(level);
    search_memory *s = lr_thread_part(t, part_offset);
    if (s->search_size < levels_size + seen_size) {
        size_t size = (levels_size + seen_size) * 4;
        void *memory = lr_map(size);
        if (!memory)
            return 0;
        lr_unmap(s->search, s->search_size);
        s->search = memory;
        s->search_size = size;
    }
    uint8_t *seen = s->search;
    level *levels = (level *)((uint8_t *)s->search + seen_size);
    memset(seen, 0, seen_size);
    levels[0].next = 0;
    cycle_push(out, self->id, __atomic_load_n(&self->wait.seq, __ATOMIC_RELAXED));
    levels[0].n = (uint32_t)nfirst;
    memcpy(levels[0].waits_for, first, (size_t)nfirst * sizeof *first);
    seen[self->id / 8] |= (uint8_t)(1u << (self->id % 8));
    while (out->n > 0) {
        level *l = &levels[out->n - 1];
        if (l->next == l->n) {
            out->n--;
            continue;
        }
        uint32_t id = l->waits_for[l->next++];
        if (id == self->id) {
            rotate_to_lowest(out);
            found = out->n;
            goto done;
        }
        lr_thread_info *t = id < threads ? lr_thread_info_get(id) : NULL;
        if (!t || (seen[id / 8] & (1u << (id % 8))) || out->n >= threads)
            continue;           /* a thread already explored leads nowhere new */
        seen[id / 8] |= (uint8_t)(1u << (id % 8));
        if (cycle_push(out, id, __atomic_load_n(&t->wait.seq, __ATOMIC_RELAXED)) < 0)
            break;
        levels[out->n - 1].next = 0;
        levels[out->n - 1].n = (uint32_t)blockers(t, holder, levels[out->n - 1].waits_for, hidden);
    }
done:
    if (!found)
        out->n = 0;
    return found;
}

int lr_waitfor_unchanged(const lr_cycle *c)
{
    for (uint32_t i = 0; i < c->n; i++) {
        lr_thread_info *t = lr_thread_info_get(c->threads[i]);
        if (!t || __atomic_load_n(&t->wait.seq, __ATOMIC_RELAXED) != c->seqs[i])
            return 0;
        if (__atomic_load_n(&t->wait.kind, __ATOMIC_SEQ_CST) == LR_WAIT_NONE && !hidden_wait(t))
            return 0;
    }
    return c->n > 0;
}

/* The locks a blocked thread holds, read while it is blocked (and so not
 * changing them). */
static uint32_t held_count(lr_thread_info *t)
{
    lr_thread *s = __atomic_load_n(&t->state, __ATOMIC_ACQUIRE);
    return s ? s->nheld : 0;
}

static int lock_index(lr_report *r, size_t *nlocks, lr_lock *l, uintptr_t addr)
{
    for (size_t i = 0; i < *nlocks; i++)
        if (r->locks[i].addr == addr)
            return (int)i;
    lr_report_lock *rl = &r->locks[(*nlocks)++];
    rl->addr = addr;
    if (l && l->addr == addr) {
        rl->id = l->id;
        rl->type = l->type;
        rl->first_seen = l->first_seen;
        rl->first_thread = l->first_thread;
        rl->name = l->name;
    }
    return (int)(*nlocks - 1);
}

void lr_waitfor_describe(lr_report *r, lr_thread_info **threads, int n, lr_holder_fn holder,
                         int cycle)
{
    size_t nlocks = 0, hold = 0;
    for (int i = 0; i < n; i++) {
        lr_thread_info *t = threads[i];
        lr_report_thread *rt = &r->threads[i];
        rt->id = t->id;
        rt->wait_kind = (int)t->wait.kind;
        rt->wait_stack = t->wait.stack;
        rt->wait_lock = -1;
        uint32_t waits_for[LR_MAX_HOLDERS];
        rt->waits_for = blockers(t, holder, waits_for, 1) ? waits_for[0] : UINT32_MAX;
        if (cycle)              /* in a cycle, the holder that closes it: the next thread */
            rt->waits_for = threads[(i + 1) % n]->id;
        uintptr_t hidden = hidden_wait(t);
        if (hidden) {           /* blocked before it could say so: no stack of its wait */
            rt->wait_kind = LR_WAIT_LOCK;
            rt->wait_stack = 0;
            rt->wait_lock = lock_index(r, &nlocks, lr_lock_find(hidden), hidden);
        } else if (rt->wait_kind == LR_WAIT_LOCK) {
            rt->wait_lock = lock_index(r, &nlocks, t->wait.lock, t->wait.object);
        } else if (rt->wait_kind == LR_WAIT_BARRIER || rt->wait_kind == LR_WAIT_SEM) {
            rt->wait_object = t->wait.object;
        } else if (rt->wait_kind == LR_WAIT_COND) {
            rt->wait_object = t->wait.object;
            if (t->wait.lock)
                rt->wait_lock = lock_index(r, &nlocks, t->wait.lock, t->wait.lock->addr);
        }
        rt->holds = &r->holds[hold];
        lr_thread *s = __atomic_load_n(&t->state, __ATOMIC_ACQUIRE);
        for (uint32_t h = 0; s && h < s->nheld && hold < r->nholds; h++) {
            if (!s->held[h].lock)       /* a hole, or a push half made */
                continue;
            r->holds[hold].lock = lock_index(r, &nlocks, s->held[h].lock, s->held[h].addr);
            r->holds[hold].stack = s->held[h].stack;
            rt->nholds++;
            hold++;
        }
    }
    r->nlocks = nlocks;
}

void lr_waitfor_report(const lr_cycle *c, lr_holder_fn holder)
{
    size_t nholds = 0;
    lr_thread_info *inline_threads[16], **threads = inline_threads;
    if (c->n > 16 && !(threads = lr_map(c->n * sizeof *threads)))
        return;
    for (uint32_t i = 0; i < c->n; i++) {
        threads[i] = lr_thread_info_get(c->threads[i]);
        nholds += held_count(threads[i]);
    }
    lr_report *r = lr_report_new(LR_REPORT_DEADLOCK, nholds + c->n, 0, c->n, nholds);
    if (r) {
        lr_waitfor_describe(r, threads, (int)c->n, holder, 1);
        lr_report_emit(r);
        lr_report_free(r);
    }
    if (threads != inline_threads)
        lr_unmap(threads, c->n * sizeof *threads);
}
