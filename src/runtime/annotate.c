/* The dynamic annotations of ThreadSanitizer and Helgrind (Valgrind's
 * dynamic_annotations.h and its copies in other projects), given to a
 * program that already calls them: liblockrace.so exports them, so under
 * LD_PRELOAD they replace the program's empty definitions when those are in
 * a shared library or absent (declared weak), never when the executable
 * defines them (the link has bound its calls already: README, "Code
 * annotated for TSan and Helgrind"). Each maps onto the event lockrace has
 * for the same thing, or does nothing when lockrace has none; file and line
 * are not needed (stacks say where). RunningOnValgrind and ValgrindSlowdown
 * are left to the program (its definition, or Valgrind's reading of the
 * RUNNING_ON_VALGRIND variable): lockrace is not Valgrind, and the
 * program's answer is the one it gets natively. Runtime layer: callable from any
 * thread, before the constructor (lr_self() passes through), and from the
 * program's own lock code, so nothing here blocks. */
#include "detect/race.h"
#include "model/lockreg.h"
#include "report/report.h"
#include "runtime/runtime.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

#define LR_ANN __attribute__((visibility("default")))
#define LR_CALLER __builtin_return_address(0)

/* ---- the program's own locks: lock order, held locks, happens-before ---- */

/* An annotation of a lock lockrace sees through its own calls (a class
 * around a pthread mutex, annotated at the mutex's address): those calls
 * already say it all, and a second hold of the same address would undo
 * the first's release. */
static lr_thread *for_annotated(const volatile void *lock)
{
    lr_thread *self = lr_self();
    const lr_lock *l = self ? lr_lock_find((uintptr_t)lock) : NULL;
    return l && l->type != LR_ANNOTATED && l->type != LR_UNTYPED ? NULL : self;
}

/* The annotations that share a meaning share a static function, not a
 * call of one exported function from another: that call could reach the
 * program's own definition (an executable linked with -rdynamic). */
static void created(const volatile void *lock)
{
    lr_sync_created(for_annotated(lock), (void *)lock, LR_ANNOTATED, 0);
}

LR_ANN void AnnotateRWLockCreate(const char *file, int line, const volatile void *lock)
{
    (void)file, (void)line;
    created(lock);
}

LR_ANN void AnnotateRWLockCreateStatic(const char *file, int line, const volatile void *lock)
{
    (void)file, (void)line;
    created(lock);
}

LR_ANN void AnnotateRWLockDestroy(const char *file, int line, const volatile void *lock)
{
    (void)file, (void)line;
    lr_sync_destroyed(for_annotated(lock), (void *)lock, 0);
}

/* Called once the lock is taken: checked as a blocking acquisition, for
 * its order against the locks held (it can no longer block here, so a
 * deadlock through annotated locks is never seen happening, only its
 * possibility). */
LR_ANN void AnnotateRWLockAcquired(const char *file, int line, const volatile void *lock, long is_w)
{
    (void)file, (void)line;
    lr_thread *self = for_annotated(lock);
    lr_acquisition a = { 0 };
    lr_sync_before(self, (void *)lock, LR_ANNOTATED, LR_BLOCKING, !is_w, LR_CALLER, &a);
    lr_sync_after(self, &a, 0);
}

/* is_w is not needed: the thread's hold says how it was taken. */
LR_ANN void AnnotateRWLockReleased(const char *file, int line, const volatile void *lock, long is_w)
{
    (void)file, (void)line, (void)is_w;
    lr_sync_release(for_annotated(lock), (void *)lock);
}

/* ---- happens-before ---- */

/* Unlike lockrace_happens_before, these do not start the race engine: code
 * annotated for TSan calls them on every hand-over of a lock-free queue,
 * tracked accesses or not, and an ordering made before the engine runs
 * orders no access it will see (race.h). */
static void release(const volatile void *obj)
{
    lr_thread *self = lr_self();
    if (self)
        lr_race_release(self, (uintptr_t)obj);
}

static void acquire(const volatile void *obj)
{
    lr_thread *self = lr_self();
    if (self)
        lr_race_acquire(self, (uintptr_t)obj);
}

#define ANNOTATE_ORDER(name, fn)                                                        \
    LR_ANN void Annotate##name(const char *file, int line, const volatile void *obj)   \
    {                                                                                   \
        (void)file, (void)line;                                                         \
        fn(obj);                                                                        \
    }
ANNOTATE_ORDER(HappensBefore, release)
ANNOTATE_ORDER(HappensAfter, acquire)
/* Helgrind's condition annotations for synchronization it cannot see: a
 * signal happens before the wait it ends. */
ANNOTATE_ORDER(CondVarSignal, release)
ANNOTATE_ORDER(CondVarSignalAll, release)
/* A barrier of the program's own: every thread's arrival happens before
 * every thread's departure. */
ANNOTATE_ORDER(BarrierWaitBefore, release)
ANNOTATE_ORDER(BarrierWaitAfter, acquire)
/* A producer-consumer queue: a put happens before the gets after it. */
ANNOTATE_ORDER(PCQPut, release)
ANNOTATE_ORDER(PCQGet, acquire)

LR_ANN void AnnotateCondVarWait(const char *file, int line, const volatile void *cv,
                                const volatile void *lock)
{
    (void)file, (void)line, (void)lock;
    acquire(cv);
}

/* ---- which accesses count ---- */

LR_ANN void AnnotateBenignRaceSized(const char *file, int line, const volatile void *mem, long size,
                                    const char *description)
{
    (void)file, (void)line, (void)description;
    if (size > 0)
        lr_race_benign(lr_self(), (uintptr_t)mem, (size_t)size);
}

/* No size: the byte at mem, as ThreadSanitizer takes it. */
LR_ANN void AnnotateBenignRace(const char *file, int line, const volatile void *mem,
                               const char *description)
{
    (void)file, (void)line, (void)description;
    lr_race_benign(lr_self(), (uintptr_t)mem, 1);
}

#define IGNORE_PAIR(name, what)                                     \
    LR_ANN void Annotate##name##Begin(const char *file, int line)   \
    {                                                               \
        (void)file, (void)line;                                     \
        lr_race_ignore(lr_self(), what, 1);                         \
    }                                                               \
    LR_ANN void Annotate##name##End(const char *file, int line)     \
    {                                                               \
        (void)file, (void)line;                                     \
        lr_race_ignore(lr_self(), what, -1);                        \
    }
IGNORE_PAIR(IgnoreReads, LR_IGNORE_READS)
IGNORE_PAIR(IgnoreWrites, LR_IGNORE_WRITES)
IGNORE_PAIR(IgnoreSync, LR_IGNORE_SYNC)

/* Memory handed out again (an allocator's own free list): a fresh history. */
LR_ANN void AnnotateNewMemory(const char *file, int line, const volatile void *mem, long size)
{
    (void)file, (void)line;
    if (size > 0)
        lr_race_forget(lr_self(), (uintptr_t)mem, (size_t)size);
}

/* ---- names ---- */

LR_ANN void AnnotateThreadName(const char *file, int line, const char *name)
{
    (void)file, (void)line;
    lr_thread *self = lr_self();
    if (self && name)
        lr_thread_set_name(self->info, name);
}

/* ---- what lockrace has no use for: accepted, so that a program that
 * calls them finds them, and doing what ThreadSanitizer's do ---- */

/* MemorySanitizer's; ThreadSanitizer's does nothing too. */
LR_ANN void AnnotateMemoryIsInitialized(const char *file, int line, const volatile void *mem,
                                        long size)
{
    (void)file, (void)line, (void)mem, (void)size;
}

/* A pointer handed over through memory that lockrace sees ordered already
 * (the synchronization that publishes it); ThreadSanitizer's does nothing. */
LR_ANN void AnnotatePublishMemoryRange(const char *file, int line, const volatile void *address,
                                       long size)
{
    (void)file, (void)line, (void)address, (void)size;
}

/* ThreadSanitizer's does nothing either; IgnoreReadsBegin and
 * IgnoreWritesBegin say the same per thread. */
LR_ANN void AnnotateEnableRaceDetection(const char *file, int line, int enable)
{
    (void)file, (void)line, (void)enable;
}

/* A program whose executable defines the annotations (dynamic_annotations.c
 * compiled in) calls its own empty functions: its reports may be races the
 * annotations explain, or lack inversions of its own locks. Said once, at
 * exit and only after reports, because finding out reads the executable's
 * symbol table. */
void lr_annotate_exit_note(void)
{
    static const char *const names[] = { "AnnotateRWLockAcquired", "AnnotateHappensBefore",
                                         "AnnotateBenignRaceSized", "AnnotateIgnoreReadsBegin",
                                         "AnnotateIgnoreWritesBegin", "AnnotateThreadName" };
    int k = lr_report_main_defines(names, (int)(sizeof names / sizeof names[0]));
    if (k < 0)
        return;
    char line[512];
    int n = snprintf(line, sizeof line,
                     "==%d== lockrace: the program's executable defines %s and its kin itself, so its "
                     "calls to those dynamic annotations never reach lockrace: the locks, orderings and "
                     "benign races they describe were not seen. Define them in a shared library, or "
                     "nowhere (README: \"Code annotated for TSan and Helgrind\").\n",
                     (int)getpid(), names[k]);
    lr_report_write_extra(line, n > 0 && (size_t)n < sizeof line ? (size_t)n : strlen(line), NULL, 0);
}
