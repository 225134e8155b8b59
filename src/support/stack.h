/* The stack store: stacks are captured with libunwind only when a new fact
 * must be remembered, and kept once each (deduplicated) under a 32-bit id.
 * Symbolization happens only when a report is printed (symbolize.c). */
#ifndef LR_STACK_H
#define LR_STACK_H

#include <stdint.h>

typedef uint32_t lr_stack_id;      /* 0: no stack */

#define LR_STACK_MAX 64

/* Loads the unwinder (libunwind, dlopen'ed RTLD_LOCAL so its _Unwind_*
 * symbols stay out of the program's scope) and learns lockrace's own code
 * range, whose frames are left out of every stack. */
void lr_stack_init(void);

/* Unwinds the calling thread; lockrace's frames are dropped. */
lr_stack_id lr_stack_capture(void);
/* The stack of an interrupted context (a ucontext_t whose instruction
 * pointer is the instruction itself): frame 0 is that instruction. */
lr_stack_id lr_stack_capture_context(void *context);

/* Calls off the lock path (a lock's init and destroy, a thread's
 * creation) happen at a few call sites from which many threads come the
 * same way, each once: ten thousand short threads, each making and
 * destroying its own mutex, unwound the same stacks forty thousand times.
 * Between lr_stack_site_begin and _end, lr_stack_capture returns the
 * stack of that call site (the program's return address pc, at `depth`
 * bytes below the top of the thread's stack: two paths to one call site
 * are nearly always at two depths), unwound once per process; another
 * thread's is shared from it (lr_stack_shared_from), so a report says
 * whose callers it shows. In a Python process, whose stacks end with the
 * Python lines above the same C call sites, per Python call path too, and
 * only where that can be read (lr_python_path). One site at a time per
 * thread; `thread` is the caller's id (model/thread.h). Only the stacks
 * taken while *inside == at count (lockrace's own depth, model/thread.h,
 * in the call the wrapper makes): a signal handler that runs in between
 * and takes a lock is at another depth, and is unwound as it is. */
void lr_stack_site_begin(uintptr_t pc, uintptr_t depth, uint32_t thread, const int *inside, int at);
void lr_stack_site_end(void);

/* The calling thread's Python call path as far as a stack keeps it
 * (lr_python_path, stack_depth frames): for keeping stacks per call path
 * in a Python process; 0 where it cannot be read. Inside lockrace only. */
uint64_t lr_stack_python_path(void);

/* Unit tests: when set, lr_stack_capture returns what this returns. */
extern lr_stack_id (*lr_stack_capture_override)(void);

/* Stores a stack given as return addresses, innermost first. */
lr_stack_id lr_stack_intern(const uintptr_t *pcs, int n);

/* A stack one thread unwound, for other threads to use where they would
 * unwind the same call site (lockorder.c shares contexts and acquisition
 * sites): the same frames under another id, which remembers the thread
 * (an id of model/thread.h), so that a report can say the frames above the
 * call site are that thread's. A stack shared already is returned as is. */
lr_stack_id lr_stack_shared_from(lr_stack_id plain, uint32_t thread);
/* 1 for a stack made by lr_stack_shared_from, with its thread and the
 * stack itself; 0 for any other. */
int lr_stack_origin(lr_stack_id id, uint32_t *thread, lr_stack_id *plain);
/* The stack itself, for one made by lr_stack_shared_from; id for any
 * other. What to compare or hash where a stack stands for a code path (a
 * report seen before). */
lr_stack_id lr_stack_plain(lr_stack_id id);
/* How many stacks are stored: ids are given in order, so a stack stored
 * later has a greater id. Any thread; may be behind by a stack being
 * stored at the moment. */
uint32_t lr_stack_count(void);

/* The frames of a stored stack; returns their number (0 for id 0). */
int lr_stack_frames(lr_stack_id id, const uintptr_t **pcs);

void lr_stack_fork_prepare(void);
void lr_stack_fork_parent(void);
void lr_stack_fork_child(void);

#endif
