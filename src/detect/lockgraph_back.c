/* Edges held back from the lock-order graph. An edge H → X can be on a
 * cycle only once an edge leaves X; until then the edges into X wait in
 * the log of the thread that made them, and the graph, its lock and its
 * search never see them. A lock a thread makes, takes innermost and
 * destroys (a thread's own mutex under the shared ones, made and ended
 * by every one of ten thousand short threads) never costs the graph
 * anything: its edges are dropped from the log once it has ended.
 *
 * The first edge out of X (made by any thread) opens X: the edges held
 * back are added to the graph first, then the edge out, so the graph has
 * every edge of every cycle when the edge that closes it arrives, as if
 * nothing had been held back: the cycles, the moment they are found and
 * what their reports say are the same. An edge is held back only by the
 * first thread state to make one into X (X->back_state), so that an
 * opener reads one log; edges from other threads go to the graph.
 *
 * A log is its state's (kept when the state is recycled) and written by
 * its thread only; an opener in another thread reads it under a
 * sequence count, which is odd while the owner rewrites the log to drop
 * what is no longer held back. An edge being held back while X is opened
 * is added by whichever of the two comes second: both mark X with an
 * atomic or (LR_BACK_LOGGED, LR_BACK_OPEN), and one sees the other's.
 * Engine code: no report of its own, nothing from pthreads. */
#include "detect/lockgraph.h"
#include "detect/lockorder.h"
#include "support/arena.h"
#include "support/options.h"

#include <sched.h>
#include <string.h>

#define LOG_BYTES (64u << 10)
#define BACK_HELD 8             /* more held locks than this: into the graph at once */
#define OPEN_TRIES 10000        /* an owner rewriting its log this long is gone (a fork's child) */

/* One acquisition's edges: lr_graph_add's arguments, the held locks
 * copied. */
typedef struct entry {
    lr_lock *to;
    uint64_t to_id;
    uint32_t thread;
    lr_stack_id second;
    uint8_t how, shared, from, nheld;
    uint32_t size;              /* bytes, this header included */
    lr_held held[];
} entry;

#define LOG_LOCKS 4

/* The locks that entries in the log are into, as far as LOG_LOCKS of
 * them (more: nlocks is LOG_LOCKS + 1 until a rewrite counts them again).
 * Read and written by the owner only. */
typedef struct logged {
    lr_lock *lock;
    uint64_t id;
} logged;

struct lr_back_log {
    uint32_t seq;               /* odd while the owner rewrites the log */
    uint32_t used;              /* bytes of entries, published with release */
    uint32_t nlocks;
    logged locks[LOG_LOCKS];
    _Alignas(16) char bytes[];
};

#define LOG_ROOM (LOG_BYTES - sizeof(struct lr_back_log))

static size_t entry_size(uint32_t nheld)
{
    return (sizeof(entry) + nheld * sizeof(lr_held) + 15) & ~(size_t)15;
}

static void add(const entry *e)
{
    lr_graph_add(e->thread, e->held, e->from, e->nheld, e->to, e->how, e->shared, e->second);
}

static void note(struct lr_back_log *log, lr_lock *l, uint64_t id)
{
    for (uint32_t i = 0; i < log->nlocks && i < LOG_LOCKS; i++)
        if (log->locks[i].lock == l && log->locks[i].id == id)
            return;
    if (log->nlocks < LOG_LOCKS)
        log->locks[log->nlocks] = (logged){ l, id };
    if (log->nlocks <= LOG_LOCKS)
        log->nlocks++;
}

/* Every lock with entries in the log has ended: what the log holds back
 * is of no use any more. */
static int all_ended(const struct lr_back_log *log)
{
    if (log->nlocks > LOG_LOCKS)
        return 0;
    for (uint32_t i = 0; i < log->nlocks; i++)
        if (__atomic_load_n(&log->locks[i].lock->id, __ATOMIC_RELAXED) == log->locks[i].id)
            return 0;
    return 1;
}

/* The owner, with its log full: drops the entries of locks that ended,
 * and those of locks opened since (adding them to the graph: an opener
 * reading the log meanwhile starts again and finds them gone); when that
 * frees too little, adds the rest to the graph (early, which changes
 * nothing the graph finds) and starts empty. */
static void make_room(struct lr_back_log *log, size_t need)
{
    uint32_t seq = log->seq;
    __atomic_store_n(&log->seq, seq + 1, __ATOMIC_RELAXED);
    __atomic_thread_fence(__ATOMIC_RELEASE);
    uint32_t kept = 0;
    log->nlocks = 0;
    for (uint32_t off = 0; off < log->used;) {
        entry *e = (entry *)(log->bytes + off);
        uint32_t size = e->size;
        if (__atomic_load_n(&e->to->id, __ATOMIC_RELAXED) == e->to_id) {
            if (__atomic_load_n(&e->to->held_back, __ATOMIC_ACQUIRE) & LR_BACK_OPEN) {
                add(e);
            } else {
                /* noted before the move: an entry moved by less than its
                 * size is written over its own header */
                note(log, e->to, e->to_id);
                if (kept != off)
                    memmove(log->bytes + kept, e, size);
                kept += size;
            }
        }
        off += size;
    }
    if (kept + need > LOG_ROOM / 2) {
        for (uint32_t off = 0; off < kept; off += ((entry *)(log->bytes + off))->size)
            add((entry *)(log->bytes + off));
        kept = 0;
        log->nlocks = 0;
    }
    __atomic_store_n(&log->used, kept, __ATOMIC_RELEASE);
    __atomic_store_n(&log->seq, seq + 2, __ATOMIC_RELEASE);
}

/* The owner: drops every entry, of locks that all ended. */
static void restart(struct lr_back_log *log)
{
    uint32_t seq = log->seq;
    __atomic_store_n(&log->seq, seq + 1, __ATOMIC_RELAXED);
    __atomic_thread_fence(__ATOMIC_RELEASE);
    log->nlocks = 0;
    __atomic_store_n(&log->used, 0, __ATOMIC_RELEASE);
    __atomic_store_n(&log->seq, seq + 2, __ATOMIC_RELEASE);
}

int lr_graph_hold_back(lr_thread *t, const lr_held *held, uint32_t from, uint32_t nheld, lr_lock *to,
                       int how, int shared, lr_stack_id second)
{
    if (lr_opt.order_graph || nheld > BACK_HELD || !t->number ||
        (__atomic_load_n(&to->held_back, __ATOMIC_ACQUIRE) & LR_BACK_OPEN))
        return 0;
    /* read first: a lock this state holds back already (each of the ~200
     * contexts of a short thread's own mutex) needs no locked instruction,
     * which would wait for every store before it */
    uint32_t owner = __atomic_load_n(&to->back_state, __ATOMIC_ACQUIRE);
    if (owner != t->number &&
        (owner || !__atomic_compare_exchange_n(&to->back_state, &owner, t->number, 0, __ATOMIC_ACQ_REL,
                                               __ATOMIC_ACQUIRE)))
        return 0;
    lr_order_thread *o = lr_order_of(t);
    if (!o->back && !(o->back = lr_map(LOG_BYTES)))
        return 0;
    struct lr_back_log *log = o->back;
    size_t size = entry_size(nheld);
    int first = !(__atomic_load_n(&to->held_back, __ATOMIC_RELAXED) & LR_BACK_LOGGED);
    /* A lock new to the log, after every lock in it has ended (a short
     * thread's own mutex, after the one of the thread before on this
     * state): the log starts again at once, as it would once full, and
     * no entry is read to drop them all. A log written from its start
     * again is fewer cache lines, warmer ones; one read through when full
     * missed the cache on every entry (tests/stress/threads). */
    if (first && log->used && all_ended(log))
        restart(log);
    if (log->used + size > LOG_ROOM)
        make_room(log, size);
    if (first) {
        to->back_first = log->used;     /* an opener reads from here on */
        to->back_seq = log->seq;
    }
    note(log, to, to->id);
    entry *e = (entry *)(log->bytes + log->used);
    *e = (entry){ to, to->id, t->info->id, second, (uint8_t)how, (uint8_t)shared, (uint8_t)from,
                  (uint8_t)nheld, (uint32_t)size };
    memcpy(e->held, held, nheld * sizeof *held);
    __atomic_store_n(&log->used, log->used + (uint32_t)size, __ATOMIC_RELEASE);
    /* opened meanwhile: the opener may have read the log before this entry */
    return !(__atomic_fetch_or(&to->held_back, LR_BACK_LOGGED, __ATOMIC_ACQ_REL) & LR_BACK_OPEN);
}

/* Adds to the graph the edges into l that the log of state `owner` holds
 * back, from l's first entry on (from the start if the log was rewritten
 * since: a log holds the entries of many locks, and reading it all for
 * each lock opened was two fifths of tests/stress churn). Another
 * thread's log is read an entry at a time, copied, and used only if the
 * owner did not rewrite the log meanwhile. */
static void open_log(lr_lock *l, uint64_t id, uint32_t owner)
{
    lr_thread *t = lr_thread_numbered(owner);
    struct lr_back_log *log = t ? __atomic_load_n(&lr_order_of(t)->back, __ATOMIC_ACQUIRE) : NULL;
    if (!log)
        return;
    _Alignas(16) char copy[sizeof(entry) + BACK_HELD * sizeof(lr_held) + 16];
    entry *e = (entry *)copy;
    uint32_t base = __atomic_load_n(&log->seq, __ATOMIC_ACQUIRE);
    uint32_t off = base == l->back_seq ? l->back_first : 0;
    for (int tries = 0; tries < OPEN_TRIES;) {
        uint32_t seq = __atomic_load_n(&log->seq, __ATOMIC_ACQUIRE);
        if (seq & 1) {
            tries++;
            sched_yield();
            continue;
        }
        if (seq != base) {
            base = seq;         /* rewritten since off was found */
            off = 0;
        }
        if (off >= __atomic_load_n(&log->used, __ATOMIC_ACQUIRE))
            return;
        memcpy(copy, log->bytes + off, sizeof(entry));
        uint32_t size = e->size;
        int sane = size >= sizeof(entry) && size <= sizeof copy && off + size <= LOG_ROOM;
        if (sane)
            memcpy(copy, log->bytes + off, size);
        __atomic_thread_fence(__ATOMIC_ACQUIRE);
        if (__atomic_load_n(&log->seq, __ATOMIC_RELAXED) != seq || !sane) {
            off = 0;            /* rewritten under the copy: from the start again */
            tries++;
            continue;
        }
        off += size;
        if (e->to == l && e->to_id == id)
            add(e);
    }
}

void lr_graph_open(const lr_held *held, uint32_t from, uint32_t nheld)
{
    for (uint32_t i = from; i < nheld; i++) {
        lr_lock *l = held[i].lock;
        if (!l || held[i].id != l->id ||
            (__atomic_load_n(&l->held_back, __ATOMIC_ACQUIRE) & LR_BACK_OPEN))
            continue;
        uint8_t was = __atomic_fetch_or(&l->held_back, LR_BACK_OPEN, __ATOMIC_ACQ_REL);
        if ((was & LR_BACK_LOGGED) && !(was & LR_BACK_OPEN))
            open_log(l, held[i].id, __atomic_load_n(&l->back_state, __ATOMIC_ACQUIRE));
    }
}
