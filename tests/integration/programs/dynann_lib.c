/* The annotations' empty definitions, as Valgrind's dynamic_annotations.c
 * and Abseil's dynamic_annotations.cc give them to a program that is not
 * built for a tool: weak, doing nothing. Built as a shared library
 * (dynann_lib), which lockrace's definitions replace, and into the
 * executable itself (dynann_inexe), where they cannot be replaced. */
#include "dynann.h"

#pragma GCC diagnostic ignored "-Wunused-parameter"

void AnnotateRWLockCreate(const char *file, int line, const volatile void *lock) {}
void AnnotateRWLockCreateStatic(const char *file, int line, const volatile void *lock) {}
void AnnotateRWLockDestroy(const char *file, int line, const volatile void *lock) {}
void AnnotateRWLockAcquired(const char *file, int line, const volatile void *lock, long is_w) {}
void AnnotateRWLockReleased(const char *file, int line, const volatile void *lock, long is_w) {}
void AnnotateHappensBefore(const char *file, int line, const volatile void *obj) {}
void AnnotateHappensAfter(const char *file, int line, const volatile void *obj) {}
void AnnotateCondVarSignal(const char *file, int line, const volatile void *cv) {}
void AnnotateCondVarSignalAll(const char *file, int line, const volatile void *cv) {}
void AnnotateCondVarWait(const char *file, int line, const volatile void *cv,
                         const volatile void *lock) {}
void AnnotateBenignRace(const char *file, int line, const volatile void *mem,
                        const char *description) {}
void AnnotateBenignRaceSized(const char *file, int line, const volatile void *mem, long size,
                             const char *description) {}
void AnnotateThreadName(const char *file, int line, const char *name) {}
void AnnotateIgnoreReadsBegin(const char *file, int line) {}
void AnnotateIgnoreReadsEnd(const char *file, int line) {}
void AnnotateIgnoreWritesBegin(const char *file, int line) {}
void AnnotateIgnoreWritesEnd(const char *file, int line) {}
void AnnotateIgnoreSyncBegin(const char *file, int line) {}
void AnnotateIgnoreSyncEnd(const char *file, int line) {}
void AnnotateNewMemory(const char *file, int line, const volatile void *mem, long size) {}
void AnnotateMemoryIsInitialized(const char *file, int line, const volatile void *mem, long size) {}
void AnnotatePublishMemoryRange(const char *file, int line, const volatile void *address, long size) {}
void AnnotateEnableRaceDetection(const char *file, int line, int enable) {}
int RunningOnValgrind(void) { return 0; }
double ValgrindSlowdown(void) { return 1.0; }
