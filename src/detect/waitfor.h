/* Real deadlocks: the wait-for graph at block time. A thread that must wait
 * says what for (a lock, a thread to join); the thread that closes a cycle
 * of threads each waiting for the next finds it by following holders. An
 * engine: it learns who holds a lock from a function the runtime gives it
 * (glibc's owner field for mutexes), so unit tests drive it with synthetic
 * waits and holders. Nothing here runs unless a thread actually blocks. */
#ifndef LR_WAITFOR_H
#define LR_WAITFOR_H

#include "model/thread.h"

/* Who holds the lock at `object`: writes up to `max` thread ids to `out`
 * and returns how many (a mutex has one holder, an rwlock held for reading
 * may have several; 0 when nobody or only threads lockrace does not know). */
typedef int (*lr_holder_fn)(uintptr_t object, uint32_t *out, int max);

#define LR_MAX_HOLDERS 64

/* For a thread that published no wait: the lock it is nonetheless blocked
 * on (it lost the race between looking at a lock and locking it), 0 when
 * none. Set by the runtime; NULL in the unit tests. */
extern uintptr_t (*lr_waitfor_hidden_wait)(const lr_thread_info *t);

typedef struct lr_cycle {
    uint32_t n, cap;
    uint32_t *threads;          /* threads[i] waits for something threads[i + 1] holds */
    uint32_t *seqs;             /* their wait numbers when the cycle was seen */
    uint32_t inline_threads[16], inline_seqs[16];
} lr_cycle;

/* Asks the model for the engine's per-thread part; once, before the
 * first thread state. */
void lr_waitfor_init(void);

void lr_cycle_init(lr_cycle *c);
void lr_cycle_free(lr_cycle *c);


/* The cycle of waits through `self`, if there is one where every wait is
 * untimed; returns its length (0: none). A thread waiting for an rwlock
 * held by several readers waits for all of them: the search follows each.
 * `hidden`: also ask lr_waitfor_hidden_wait about threads that published
 * no wait (a system call each: not on the first look at a new wait). */
uint32_t lr_waitfor_cycle(lr_thread_info *self, lr_holder_fn holder, lr_cycle *out, int hidden);

/* 1 when every thread of the cycle is still in the same wait. */
int lr_waitfor_unchanged(const lr_cycle *c);

/* Builds and emits the deadlock report for a confirmed cycle. */
void lr_waitfor_report(const lr_cycle *c, lr_holder_fn holder);

/* Fills r->threads and r->locks from blocked threads (sized by the caller:
 * one thread entry each, locks and holds for all they hold and wait for). */
struct lr_report;
void lr_waitfor_describe(struct lr_report *r, lr_thread_info **threads, int n, lr_holder_fn holder,
                         int cycle);


#endif
