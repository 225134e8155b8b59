/* What the report printers share (inside src/report/ only): how a lock,
 * a thread, an object and a stack are described, and each kind's text and
 * JSON printer. All of it runs under report_lock (report.c), on lockrace's
 * own stack: some of it keeps its working memory in static buffers. */
#ifndef LR_REPORT_FORMAT_H
#define LR_REPORT_FORMAT_H

#include "report/report.h"
#include "support/symbolize.h"
#include "support/util.h"

#include <stdint.h>

/* ---- locks and objects (describe.c) ---- */

/* Where a lock or variable is: a named global; without a symbol, an
 * object's data or .bss (a stripped program's global), a MAP_SHARED
 * mapping, a thread's stack, else the heap (malloc's, or any anonymous
 * private memory: malloc's other arenas are such mappings). */
enum { LR_WHERE_GLOBAL, LR_WHERE_HEAP, LR_WHERE_STACK, LR_WHERE_DATA, LR_WHERE_SHARED };
extern const char *const lr_where_names[];

typedef struct lr_lock_desc {
    char name[160];             /* "" when it has none */
    int where;
    uint32_t stack_owner;       /* for LR_WHERE_STACK */
    char module[128];           /* for LR_WHERE_DATA: the object ("abba") */
    uintptr_t offset;           /* and the address in it, as nm shows it */
} lr_lock_desc;

void lr_describe_lock(const lr_report_lock *l, lr_lock_desc *d);
const char *lr_lock_kind_word(int type);
/* " for reading" / " for writing" after the name of an rwlock or an
 * annotated lock, "" for others */
const char *lr_mode_words(const lr_report_lock *l, int shared);
/* "lock_a", else "mutex at abba+0x4090", "heap mutex 0x5555...", "stack mutex 0x7ffd..." */
void lr_lock_label(const lr_report_lock *l, const lr_lock_desc *d, char *buf, size_t len);
/* "T2 (worker)", else "T2" */
void lr_thread_label(uint32_t id, char *buf, size_t len);
/* a global's name ("item_ready"), else what it is and its address */
const char *lr_named_object(uintptr_t object, const char *what, char *buf, size_t len);
const char *lr_object_label(uintptr_t object, char *buf, size_t len);
const char *lr_cond_label(uintptr_t cond, char *buf, size_t len);
/* "global", "heap", "stack", "data" or "shared", for a variable */
const char *lr_where_of(const lr_report_var *v);

/* Origins: where heap and stack locks were first seen, where threads were
 * created. */
void lr_text_thread_origins(lr_buf *b, const uint32_t *ids, size_t n);
void lr_text_lock_origins(lr_buf *b, const lr_report *r, const lr_lock_desc *d, char (*labels)[200]);
void lr_text_origins(lr_buf *b, const lr_report *r, const lr_lock_desc *d, char (*labels)[200]);

void lr_json_thread(lr_buf *b, uint32_t id);
void lr_json_header(lr_buf *b, const lr_report *r, unsigned long seq, const char *summary,
                    const char *certainty);
void lr_json_locks(lr_buf *b, const lr_report *r, const lr_lock_desc *d);

/* ---- stacks (stacks.c) ---- */

/* A stack as printed: each return address expanded into its inlined
 * frames, entry frames cut off. */
#define LR_MAX_FRAMES (LR_STACK_MAX * 4)
typedef struct lr_frames {
    int n;
    uintptr_t pcs[LR_MAX_FRAMES];
    lr_code_info info[LR_MAX_FRAMES];
} lr_frames;

void lr_symbolize_stack(lr_stack_id id, lr_frames *f);
void lr_text_stack(lr_buf *b, lr_stack_id id, const char *indent);
void lr_json_stack(lr_buf *b, lr_stack_id id);
/* A stack another thread unwound at the same call site and shared
 * (lr_stack_shared_from): 1 with that thread, when the stack has callers
 * that could differ. The text says so under the frames; in JSON,
 * lr_json_stack_unwound_in adds ,"KEY_unwound_in":THREAD after the field
 * KEY, where the stack stands for a thread's own acquisition. */
int lr_stack_unwound_in(lr_stack_id id, uint32_t *thread);
void lr_json_stack_unwound_in(lr_buf *b, const char *key, lr_stack_id id);

/* ---- one printer per kind ---- */

/* lockorder.c */
void lr_text_lock_order(lr_buf *b, const lr_report *r, lr_lock_desc *d, char (*labels)[200]);
void lr_json_lock_order(lr_buf *b, const lr_report *r, lr_lock_desc *d, char (*labels)[200],
                        unsigned long seq);
/* deadlock.c: deadlocks and stalls */
void lr_text_deadlock(lr_buf *b, const lr_report *r, lr_lock_desc *d, char (*labels)[200]);
void lr_text_stall(lr_buf *b, const lr_report *r, lr_lock_desc *d, char (*labels)[200]);
void lr_json_deadlock(lr_buf *b, const lr_report *r, lr_lock_desc *d, char (*labels)[200],
                      unsigned long seq);
void lr_json_stall(lr_buf *b, const lr_report *r, lr_lock_desc *d, char (*labels)[200],
                   unsigned long seq);
/* race.c: data races and lost updates */
void lr_text_data_race(lr_buf *b, const lr_report *r, lr_lock_desc *d, char (*labels)[200]);
void lr_text_lost_update(lr_buf *b, const lr_report *r, lr_lock_desc *d, char (*labels)[200]);
void lr_json_race(lr_buf *b, const lr_report *r, lr_lock_desc *d, unsigned long seq);
/* misuse.c */
void lr_text_misuse(lr_buf *b, const lr_report *r, lr_lock_desc *d, char (*labels)[200]);
void lr_json_misuse(lr_buf *b, const lr_report *r, lr_lock_desc *d, char (*labels)[200],
                    unsigned long seq);

/* graph.c: the lock-order graph at exit (not a report) */
void lr_json_graph(lr_buf *b, const lr_report_graph_edge *edges, size_t n, uint64_t total);

/* ---- suppressions (suppress.c) ---- */

/* A rule of the report's kind matches one of its stacks' functions or
 * files, or one of its lock or variable names. */
int lr_report_suppressed_by_rule(const lr_report *r, char (*labels)[200]);
/* gen_suppressions: a "To suppress" paragraph with a rule that hides r. */
void lr_report_suggest_suppression(const lr_report *r, char (*labels)[200], lr_buf *b);

#endif
