/* What the race engine's files share (inside the engine only): race.c
 * checks accesses against the cells' histories, race_clock.c keeps the
 * happens-before clocks and the locksets, race_report.c turns findings into
 * reports and holds back the ones a later access may improve. */
#ifndef LR_RACE_INTERNAL_H
#define LR_RACE_INTERNAL_H

#include "detect/race.h"
#include "detect/vclock.h"
#include "report/report.h"
#include "support/ilock.h"

#include <stdint.h>

/* ---- address maps: lock-free lookup, insert by compare-and-swap (race.c) ---- */

typedef struct map_slot {
    uintptr_t key;
    void *value;
} map_slot;

typedef struct addr_map {
    uint64_t mask;
    uint64_t used;
    map_slot *slots;
} addr_map;

#define CELL_SLOTS (1u << 20)       /* 8 MB of tracked memory at most */
#define SYNC_SLOTS (1u << 18)

extern addr_map lr_race_syncs;
/* The value slot of key; with create, a new key is added (NULL when the
 * map is three quarters full: lockrace stops tracking new addresses). */
void **lr_race_map_find(addr_map *m, uintptr_t key, int create);

/* ---- clocks and locksets (race_clock.c) ---- */

/* The engine's part of a thread's state (model/thread.h), zeroed for each
 * thread. */
/* A release the thread made: the object, and the thread's own clock entry
 * just before it (so a release after an access at clock k has clock >= k). */
typedef struct release_mark {
    uintptr_t obj;
    uint32_t clock;
} release_mark;

#define RELEASES 16

typedef struct race_thread {
    uint64_t vc_version;        /* one more whenever an acquire may have grown the clock */
    uint64_t lockset_chain;     /* the key of the lockset interned last */
    const struct lr_lockset *lockset;
    /* the dynamic annotations' Ignore{Reads,Writes,Sync}Begin, not yet
     * ended (they nest): the thread's reads, writes, synchronization are
     * not looked at */
    uint32_t ignore_reads, ignore_writes, ignore_sync;
    release_mark released[RELEASES];    /* its last releases, a ring: which locks a
                                           read-modify-write let go in between */
    uint32_t nreleased;
} race_thread;

typedef struct sync_obj {
    lr_ilock lock;
    lr_vc vc;                   /* what its exclusive holders released */
    lr_vc read_vc;              /* what its readers released (an rwlock's read locks): only
                                   an exclusive acquire takes it, readers exclude nobody */
} sync_obj;

typedef struct lr_lockset_entry {
    lr_report_lock lock;
    uint8_t shared;             /* held for reading: excludes no other reader */
} lr_lockset_entry;

typedef struct lr_lockset {
    uint64_t key;               /* the chain key, mixed with which locks are read locks */
    struct lr_lockset *next;
    uint32_t n;
    lr_lockset_entry locks[];
} lr_lockset;

race_thread *lr_race_part(lr_thread *t);
/* The caller's clock, its own entry at least 1 (an epoch of 0 means none). */
lr_vc *lr_race_clock_of(lr_thread *t);
/* The locks held now, interned. */
const lr_lockset *lr_race_lockset_of(lr_thread *t);
/* a and b hold a lock in common that excludes one from the other (not
 * both only for reading) */
int lr_race_common_lock(const lr_lockset *a, const lr_lockset *b);
void lr_race_clock_fork_child(void);

/* ---- variables, cells and accesses (race.c) ---- */

typedef struct lr_var {
    uintptr_t addr;
    size_t size;
    const char *name;           /* NULL: named from the debug information */
    uint64_t lost;              /* lost updates observed, counted as they happen */
    uint64_t lost_at_exit;      /* the same from the whole history, at exit */
    int lost_shown;             /* a lost-update report on it was written (not suppressed):
                                   the summary counts its losses only then */
    struct lr_var *next;        /* all variables, for the summary */
} lr_var;

typedef struct lr_access {
    uint64_t seq;               /* the cell's event number; 0: none */
    uint64_t source;            /* a read (and its RMW's write): number of the write it read */
    uint64_t num;               /* a write: its number */
    uint64_t value;
    const lr_lockset *locks;
    lr_stack_id stack;
    uint32_t thread, clock;     /* epoch */
    uint32_t retaken;           /* the write of a read-modify-write: lr_race_retaken */
    uint8_t mask, write, atomic, exact;
} lr_access;

/* Which locks of write's lockset (bit i: locks[i]) the thread also held at
 * read, its own earlier access, and let go of in between; a lock whose
 * release lockrace no longer remembers is not claimed. */
/* (race_clock.c) */
uint32_t lr_race_retaken(lr_thread *t, const lr_access *read, const lr_access *write);

/* One thread's history in one cell. */
typedef struct cell_thread {
    uint32_t thread;
    lr_access last;             /* its last access */
    lr_vc read_vc;              /* its clock at its last read */
    uint64_t read_version;
    lr_access rmw_read, rmw_write;  /* its last read-modify-write */
    int pending;                /* a race on its last read, held back */
    lr_access pend_mine, pend_other;
} cell_thread;

/* Exact read-modify-writes, newest last: the evidence for observed lost updates. */
#define RING 64
typedef struct rmw_pair {
    lr_access read, write;
} rmw_pair;

#define TIDS 8
typedef struct lr_cell {
    lr_ilock lock;
    lr_var *var;
    uintptr_t granule;
    uint8_t benign;             /* bytes whose races the program declared benign: accesses
                                   to them are not looked at */
    uint64_t seq;               /* events so far */
    lr_access w;                /* the last write */
    cell_thread **threads;
    uint32_t nthreads, cap;
    uint32_t tids[TIDS];        /* the first threads' ids, in the order of threads */
    rmw_pair *ring;
    uint64_t ring_count;
    /* writes in order: the write numbered n is the n-th (0: the initial value) */
    uint64_t nwrites;
    uint32_t *src;              /* src[n]: 1 + the write that write n's read-modify-write
                                   read (both exact), 0 for any other write */
    uint64_t src_cap;
    uint64_t dead_upto;         /* writes up to this one were counted as lost */
    int inexact;                /* a write not made by lockrace: no claim is certain */
    struct lr_cell *next;       /* all cells, for the flush at exit */
} lr_cell;

/* Every variable tracked, newest first (for the summary). */
lr_var *lr_race_vars(void);
/* Held-back races of thread's reads (or all threads'), reported now. */
void lr_race_flush_cells(lr_thread *self, uint32_t thread, int all);

/* ---- findings and reports (race_report.c) ---- */

enum { F_RACE, F_LOST };

typedef struct finding {
    int kind;
    int observed;
    lr_var *var;
    uintptr_t granule;          /* the cell's: the accesses' masks are its bytes */
    lr_access a[4];             /* race: earlier, later; lost: overwriter's read and write, victim's read and write */
} finding;

#define MAX_FINDINGS 8
typedef struct findings {
    int n;
    finding f[MAX_FINDINGS];
} findings;

void lr_race_add_finding(findings *fs, int kind, const lr_cell *c, const lr_access *a, int n, int observed);
/* A data race between two accesses of one cell, whichever came first. */
void lr_race_add_race(findings *fs, const lr_cell *c, const lr_access *x, const lr_access *y);
/* Reports the findings met for the first time. */
void lr_race_report_findings(lr_thread *self, findings *fs);
/* A finding held back until now, reported. */
void lr_race_release_pending(findings *fs, lr_cell *c, cell_thread *ct);
extern uint64_t lr_race_lost_total;
void lr_race_report_fork_child(void);

#endif
