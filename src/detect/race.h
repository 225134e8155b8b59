/* The race engine: accesses to tracked variables, checked against
 * happens-before (vector clocks advanced by every synchronization event
 * lockrace sees) and reported as data races and lost updates. Engine code:
 * it takes addresses, threads and call sites, knows nothing of pthreads,
 * and is driven directly by the unit tests.
 *
 * Nothing here runs until a program asks for access tracking (a watch, an
 * access annotation or a happens-before annotation): until then a lock
 * operation pays one load of lr_race_on. Synchronization before that
 * moment needs no clock: every access it could order comes after it. */
#ifndef LR_RACE_H
#define LR_RACE_H

#include "model/thread.h"

#include <stddef.h>
#include <stdint.h>

extern int lr_race_on;

static inline int lr_race_active(void)
{
    return __builtin_expect(__atomic_load_n(&lr_race_on, __ATOMIC_RELAXED), 0);
}

/* Asks the model for the engine's per-thread part; once, before the
 * first thread state. */
void lr_race_init(void);

/* Turns the engine on (idempotent). */
void lr_race_activate(void);

enum lr_access_flags {
    LR_ACC_WRITE = 1,
    LR_ACC_ATOMIC = 2,          /* an atomic access: never races another atomic one */
    LR_ACC_EXACT = 4,           /* lockrace makes the access itself (load/store): *value and
                                   the order against other exact accesses are certain */
    LR_ACC_GIVEN = 8,           /* with EXACT: the caller made the access, under a lock that
                                   orders it against every other access of the variable,
                                   and *value is what it read or wrote (watch.c) */
    LR_ACC_TRACKED = 16,        /* only memory already tracked: a system call's buffer is no
                                   new variable (lr_race_tracks first) */
};

/* Tracks [addr, addr + size) under a name (copied; NULL: named from the
 * debug information when reported). Replaces what was known of that
 * memory. Returns 0, or -1 when lockrace is out of room. */
int lr_race_watch(lr_thread *self, uintptr_t addr, size_t size, const char *name);
/* Some of [addr, addr + size) is tracked (watched, or annotated before):
 * cheap enough to ask on every read(2) and write(2) while the engine is
 * on. */
int lr_race_tracks(uintptr_t addr, size_t size);
/* Forgets the history of the memory (freed, or reused for something else). */
void lr_race_unwatch(lr_thread *self, uintptr_t addr, size_t size);

/* One access by self, made where `stack` says. Memory never watched is tracked from its first
 * annotated access on. With LR_ACC_EXACT, a read loads *value from addr and
 * a write stores *value to addr (size 1, 2, 4 or 8, aligned), under the
 * lock that orders the variable's events. */
void lr_race_access_at(lr_thread *self, uintptr_t addr, size_t size, int flags, uint64_t *value,
                       lr_stack_id stack);

/* Races on [addr, addr + size) are benign (the program says so): accesses
 * to those bytes are no longer looked at. Kept in the memory's cells (8
 * bytes each), so a later watch of the memory keeps it and an unwatch
 * forgets it. Does not start the engine: ranges declared before it runs
 * are marked when it starts. */
void lr_race_benign(lr_thread *self, uintptr_t addr, size_t size);

/* The memory was handed out anew (an allocator's own reuse): its history
 * starts again; what tracks it, its name and its benign bytes stay. */
void lr_race_forget(lr_thread *self, uintptr_t addr, size_t size);

/* The thread stops (delta 1) or starts again (delta -1) looking at its own
 * reads, writes or synchronization; calls nest. A synchronization ignored
 * orders nothing: its accesses stay unordered by it. */
enum lr_ignore { LR_IGNORE_READS, LR_IGNORE_WRITES, LR_IGNORE_SYNC };
void lr_race_ignore(lr_thread *self, int what, int delta);

/* Synchronization: a release of obj happens before every later acquire of
 * obj (mutexes, rwlocks, spinlocks, condition variables, semaphores,
 * barriers, happens-before annotations). */
void lr_race_release_slow(lr_thread *self, uintptr_t obj) __attribute__((cold));
void lr_race_acquire_slow(lr_thread *self, uintptr_t obj) __attribute__((cold));

static inline void lr_race_release(lr_thread *self, uintptr_t obj)
{
    if (lr_race_active())
        lr_race_release_slow(self, obj);
}

static inline void lr_race_acquire(lr_thread *self, uintptr_t obj)
{
    if (lr_race_active())
        lr_race_acquire_slow(self, obj);
}

/* The same for an rwlock's read lock: readers exclude nobody, so a read
 * unlock orders only later writers, and a read lock follows only writers. */
void lr_race_release_shared_slow(lr_thread *self, uintptr_t obj) __attribute__((cold));
void lr_race_acquire_shared_slow(lr_thread *self, uintptr_t obj) __attribute__((cold));

static inline void lr_race_release_shared(lr_thread *self, uintptr_t obj)
{
    if (lr_race_active())
        lr_race_release_shared_slow(self, obj);
}

static inline void lr_race_acquire_shared(lr_thread *self, uintptr_t obj)
{
    if (lr_race_active())
        lr_race_acquire_shared_slow(self, obj);
}

/* Threads: creation happens before the child's first step, the child's
 * last step before the join that returns it. */
void lr_race_thread_create(lr_thread *parent, lr_thread_info *child);
void lr_race_thread_joined(lr_thread *self, lr_thread_info *child);
/* The thread ends: its held-back reports are written. */
void lr_race_thread_finished(lr_thread *self);

/* Writes every held-back report (lockrace_flush, exit). */
void lr_race_flush(void);
/* At exit: how often each race report repeated, and the lost updates seen
 * (text line and a JSON "summary" record); nothing when there were none. */
void lr_race_summary(void);
/* Lost updates observed so far, all variables: counted as they happen, a
 * lower bound. */
uint64_t lr_race_lost_updates(void);
/* The same once the program is done (its threads joined): from each
 * variable's whole history, every update that nothing was built on.
 * Computed once; for a counter of increments, exactly what it lost. */
uint64_t lr_race_lost_at_exit(void);

void lr_race_fork_child(void);

#endif
