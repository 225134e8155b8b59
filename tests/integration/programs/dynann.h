/* The dynamic-annotations ABI (Valgrind's dynamic_annotations.h, TSan's
 * runtime, Abseil's dynamic_annotations.h), declared as those headers do:
 * weak, so that a program with no definition still links. dynann.c calls
 * them through DYNANN(), which skips a function nothing defines. */
#ifndef DYNANN_H
#define DYNANN_H

#define DYNANN_WEAK __attribute__((weak))

void AnnotateRWLockCreate(const char *file, int line, const volatile void *lock) DYNANN_WEAK;
void AnnotateRWLockCreateStatic(const char *file, int line, const volatile void *lock) DYNANN_WEAK;
void AnnotateRWLockDestroy(const char *file, int line, const volatile void *lock) DYNANN_WEAK;
void AnnotateRWLockAcquired(const char *file, int line, const volatile void *lock, long is_w) DYNANN_WEAK;
void AnnotateRWLockReleased(const char *file, int line, const volatile void *lock, long is_w) DYNANN_WEAK;
void AnnotateHappensBefore(const char *file, int line, const volatile void *obj) DYNANN_WEAK;
void AnnotateHappensAfter(const char *file, int line, const volatile void *obj) DYNANN_WEAK;
void AnnotateCondVarSignal(const char *file, int line, const volatile void *cv) DYNANN_WEAK;
void AnnotateCondVarSignalAll(const char *file, int line, const volatile void *cv) DYNANN_WEAK;
void AnnotateCondVarWait(const char *file, int line, const volatile void *cv,
                         const volatile void *lock) DYNANN_WEAK;
void AnnotateBenignRace(const char *file, int line, const volatile void *mem,
                        const char *description) DYNANN_WEAK;
void AnnotateBenignRaceSized(const char *file, int line, const volatile void *mem, long size,
                             const char *description) DYNANN_WEAK;
void AnnotateThreadName(const char *file, int line, const char *name) DYNANN_WEAK;
void AnnotateIgnoreReadsBegin(const char *file, int line) DYNANN_WEAK;
void AnnotateIgnoreReadsEnd(const char *file, int line) DYNANN_WEAK;
void AnnotateIgnoreWritesBegin(const char *file, int line) DYNANN_WEAK;
void AnnotateIgnoreWritesEnd(const char *file, int line) DYNANN_WEAK;
void AnnotateIgnoreSyncBegin(const char *file, int line) DYNANN_WEAK;
void AnnotateIgnoreSyncEnd(const char *file, int line) DYNANN_WEAK;
void AnnotateNewMemory(const char *file, int line, const volatile void *mem, long size) DYNANN_WEAK;
void AnnotateMemoryIsInitialized(const char *file, int line, const volatile void *mem,
                                 long size) DYNANN_WEAK;
void AnnotatePublishMemoryRange(const char *file, int line, const volatile void *address,
                                long size) DYNANN_WEAK;
void AnnotateEnableRaceDetection(const char *file, int line, int enable) DYNANN_WEAK;
int RunningOnValgrind(void) DYNANN_WEAK;
double ValgrindSlowdown(void) DYNANN_WEAK;

#define DYNANN(name, ...)                           \
    do {                                            \
        if (name)                                   \
            name(__FILE__, __LINE__, __VA_ARGS__);  \
    } while (0)
#define DYNANN0(name)                               \
    do {                                            \
        if (name)                                   \
            name(__FILE__, __LINE__);               \
    } while (0)

#endif
