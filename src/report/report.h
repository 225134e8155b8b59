/* Reports are data first: a plain struct built by an engine, then printed
 * as text (stderr or log_path) and as a JSON line (json=, and the
 * process's file in log_dir) by report.c.
 * Everything a printer needs is copied in, so an engine can hand a report
 * over after dropping its own lock. */
#ifndef LR_REPORT_H
#define LR_REPORT_H

#include "support/stack.h"

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

enum lr_report_kind { LR_REPORT_LOCK_ORDER, LR_REPORT_DEADLOCK, LR_REPORT_STALL, LR_REPORT_DATA_RACE,
                      LR_REPORT_LOST_UPDATE, LR_REPORT_MISUSE, LR_REPORT_KINDS };

/* The misuse report's sub-kinds. */
enum lr_misuse {
    LR_MISUSE_UNLOCK_NOT_HELD,      /* mutex unlocked by a thread that does not hold it */
    LR_MISUSE_UNLOCK_NOT_LOCKED,    /* rwlock or spinlock unlocked while not locked */
    LR_MISUSE_RELOCK,               /* error-checking mutex locked again by its owner (EDEADLK) */
    LR_MISUSE_DESTROY_LOCKED,       /* mutex destroyed while locked (EBUSY) */
    LR_MISUSE_LOCK_DESTROYED,       /* mutex locked after pthread_mutex_destroy, not initialised again */
    LR_MISUSE_REINIT_LOCKED,        /* mutex initialised again while locked */
    LR_MISUSE_COND_UNHELD,          /* condition wait with a mutex the waiter does not hold */
    LR_MISUSE_COND_TWO_MUTEXES,     /* one condition waited on with two mutexes at once */
    LR_MISUSE_EXIT_HOLDING,         /* a thread ended holding locks */
    LR_MISUSE_BARRIER_ZERO,         /* barrier initialised with a count of 0 (EINVAL) */
    LR_MISUSE_COND_DESTROY_WAITED,  /* condition destroyed while a thread still waits on it */
    LR_MISUSE_RWLOCK_RELOCK,        /* rwlock asked for (read or write) by its writer (EDEADLK) */
    LR_MISUSE_REINIT,               /* mutex, rwlock or condition initialised again, not destroyed */
    LR_MISUSE_REUSED_LOCKED,        /* a mutex initialised where one still locked was (not static) */
    LR_MISUSE_DESTROY_MISCOUNTED,   /* unlocked mutex whose destroy fails (EBUSY) after a bad unlock */
    LR_MISUSE_LOCK_INVALID,         /* mutex that reads as destroyed, with no destroy on record */
    /* semaphores from here on (misuse.c names the object so) */
    LR_MISUSE_SEM_DESTROY_WAITED,   /* semaphore destroyed while threads are blocked on it */
    LR_MISUSE_SEM_DESTROYED,        /* semaphore posted or waited after sem_destroy */
    LR_MISUSE_SEM_INIT_INVALID,     /* sem_init with a value over SEM_VALUE_MAX (EINVAL) */
    LR_MISUSE_SEM_OVERFLOW,         /* sem_post of a semaphore at SEM_VALUE_MAX (EOVERFLOW) */
    LR_MISUSE_SEM_INVALID,          /* wait or post on bytes that cannot be a semaphore */
    LR_MISUSE_KINDS
};

const char *lr_misuse_name(int kind);


typedef struct lr_report_lock {
    uint64_t id;
    int type;                   /* enum lr_lock_type */
    uintptr_t addr;
    lr_stack_id first_seen;
    uint32_t first_thread;
    const char *name;           /* from lockrace_lock_name(), else NULL */
} lr_report_lock;

typedef struct lr_report_edge {
    int from, to;               /* indexes into locks */
    uint32_t thread;
    lr_stack_id first_stack, second_stack;
    int bounded;
    int first_shared, second_shared;    /* read locks of rwlocks */
} lr_report_edge;

typedef struct lr_report_hold {
    int lock;                   /* index into locks */
    lr_stack_id stack;          /* where it was taken */
    uint8_t shared;             /* held for reading (an rwlock's read lock) */
    uint8_t retaken;            /* the write of a read-modify-write: the thread let the lock
                                   go after its read and took it again before this write */
} lr_report_hold;

/* A thread of a deadlock: what it waits for, where, and what it holds. */
typedef struct lr_report_thread {
    uint32_t id;
    int wait_kind;              /* enum lr_wait_kind (thread.h) */
    int wait_lock;              /* index into locks (for a condition wait: its mutex), -1 none */
    uintptr_t wait_object;      /* for a condition wait: the condition variable */
    uint32_t waits_for;         /* the thread holding that lock, or being joined */
    lr_stack_id wait_stack;
    uint64_t waited_ms;         /* stall: how long it has waited */
    size_t nholds;
    lr_report_hold *holds;
} lr_report_thread;

/* Race reports: the variable and the accesses. */
typedef struct lr_report_var {
    uintptr_t addr;
    size_t size;
    const char *name;           /* given to lockrace_watch(), else NULL */
    uintptr_t at;               /* the bytes of it the accesses share (an element), */
    size_t bytes;               /* 0: not known */
} lr_report_var;

typedef struct lr_report_access {
    uint32_t thread;
    int write, atomic;
    int has_value;              /* made by lockrace (lockrace_load/store): value is what was read or written */
    uint64_t value;
    lr_stack_id stack;
    size_t hold_first, nholds;  /* the locks it held: holds[hold_first ..] */
} lr_report_access;

typedef struct lr_report {
    int kind;
    size_t nlocks, nedges, nthreads, nholds;
    lr_report_lock *locks;
    lr_report_edge *edges;
    lr_report_thread *threads;
    lr_report_hold *holds;
    int single_thread;
    int threads_short;          /* lock-order: fewer threads made its edges than it has (one thread included) */
    lr_report_lock gate;        /* lock-order: the gate lock every edge was made under (id 0: none) */
    int whole_process;          /* deadlock: every thread blocked, not a cycle */
    /* data-race: accesses 0 (earlier) and 1; lost-update: the read and write
     * of the read-modify-write that overwrote (0, 1), and of the one whose
     * update it overwrote (2, 3) */
    lr_report_var var;
    size_t naccesses;
    lr_report_access accesses[4];
    int order[4];               /* lost-update: the accesses in the order they happened */
    int observed;               /* lost-update: seen happening (values), not only possible */
    uint64_t lost;              /* observed lost updates on the variable so far */
    int common_lock;            /* the two sides held a lock in common */
    /* misuse: the sub-kind (enum lr_misuse); threads[0] made the call
     * (wait_stack, wait_object: a condition or barrier), threads[1] if any
     * made the earlier event it conflicts with */
    int misuse;
    void *scratch;              /* room for the builder: nlocks pointers + nlocks words */
    size_t size;
} lr_report;

lr_report *lr_report_new(int kind, size_t nlocks, size_t nedges, size_t nthreads, size_t nholds);
void lr_report_free(lr_report *r);

/* Prints the report (text and JSON) with write(2), right now, and counts it.
 * Called without any engine lock held. Returns 0 when a suppression hid it. */
int lr_report_emit(const lr_report *r);

/* 1: a lock-order cycle with the same code paths as this one, each frame
 * named by its module and offset in it, was met before (a library loaded
 * again at another address makes the same bug from other addresses); 0,
 * and it is remembered. Not from under a lock of lockrace's engines. */
int lr_report_cycle_again(const lr_report *r);
/* Called after a report that was written (not suppressed), outside the
 * report module's lock, by the thread that reported: the runtime's
 * halt_on_error / abort_on_error. NULL: nothing. */
extern void (*lr_report_after)(void);

/* Loads the suppressions (status 2 if they are bad), keeps a copy of the
 * stderr the process starts with for the text reports, and opens the json=
 * file and the process's file in log_dir, writing its process record (one
 * line on stderr for a file that cannot be used). */
void lr_report_init(void);

/* One line on stderr: how many reports of each kind, and the exit status:
 * `status` the program's, `final` the one lockrace ends it with. */
void lr_report_summary(int status, int final);

/* The process ends normally (exit, a return from main, _exit, or lockrace
 * ending it) with `status`: an `exit` record in its log_dir file, when it
 * has one (docs/json.md), with how many threads and locks it used. */
void lr_report_process_end(int status, uint32_t threads, uint32_t locks);

/* The caller reaped its child `pid`, which exited with status `code` or
 * was ended by signal `code` (signaled): an `exit` record saying so in the
 * child's log_dir file, when it has one. */
void lr_report_child_ended(pid_t pid, int code, int signaled);

/* The race engine's summary at exit: reports that recurred (each written
 * once) and the lost updates counted per variable. */
typedef struct lr_report_recurrence {
    lr_report_var var;
    int kind;                   /* LR_REPORT_DATA_RACE or LR_REPORT_LOST_UPDATE */
    int observed;               /* a lost update seen happening, not only possible */
    uint64_t repeats;           /* times seen after the report */
} lr_report_recurrence;

typedef struct lr_report_lost {
    lr_report_var var;
    uint64_t lost;
} lr_report_lost;

void lr_report_race_summary(const lr_report_recurrence *rec, size_t nrec, const lr_report_lost *lost,
                            size_t nlost);

/* Names a variable for reports: its given name, else from the debug
 * information ("accounts[2].balance"), else "heap 0x..." / "stack 0x...". */
void lr_report_var_label(const lr_report_var *v, char *buf, size_t len);

/* The part of the variable the accesses share, when they do not cover it
 * whole and the debug information names it ("balance[15]", "tape[16]",
 * "stats.misses"): 1 with its label (the variable's, then the part's path)
 * and its bytes; 0 otherwise. */
int lr_report_var_part(const lr_report_var *v, char *buf, size_t len, uintptr_t *addr, size_t *size);

/* Writes end-of-run lines that are not reports (race repeats, lost-update
 * totals): text as is, json as one JSON line when json= or log_dir is set. */
void lr_report_write_extra(const char *text, size_t tlen, const char *json, size_t jlen);
/* lr_sym_main_defines, on lockrace's own stack under the report lock: the
 * index of the first of names the executable defines itself, -1 none. */
int lr_report_main_defines(const char *const *names, int n);
/* lr_sym_keep_files, likewise: the process is about to chroot. */
void lr_report_before_chroot(void);

/* The lock-order graph at exit (order_graph=1): not a report. Each edge carries
 * copies of its two locks; the report layer names them, finds each stack's
 * top source line, and writes one JSON line of kind "graph". */
typedef struct lr_report_graph_edge {
    lr_report_lock from, to;
    uint32_t thread;            /* the thread lockrace saw make it first */
    lr_stack_id first_stack, second_stack;
    uint32_t times;             /* acquisition contexts that made it */
    int in_cycle;               /* on a reported cycle */
    int bounded;                /* `to` only ever taken with a timed call */
} lr_report_graph_edge;

/* total: edges the graph had, more than n when it was cut short. */
void lr_report_graph(const lr_report_graph_edge *edges, size_t n, uint64_t total);
/* Unit tests: receive the graph instead of writing it. */
extern void (*lr_report_graph_sink)(const lr_report_graph_edge *edges, size_t n, uint64_t total);

/* Reports matched by a suppression: not printed, counted. */
unsigned long lr_report_suppressed(void);

/* Number of reports this process issued. */
unsigned long lr_report_count(void);

/* Unit tests: receive every report instead of printing it. */
extern void (*lr_report_sink)(const lr_report *r);

/* Kind names as in JSON and the docs. */
const char *lr_report_kind_name(int kind);

void lr_report_fork_prepare(void);
void lr_report_fork_parent(void);
void lr_report_fork_child(void);

#endif
