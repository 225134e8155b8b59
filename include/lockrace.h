/* lockrace's public API, for programs that link lockrace as a debug library
 * or want better reports under LD_PRELOAD. Every function is declared weak:
 * a program built with these calls still runs normally without lockrace,
 * where the LOCKRACE_* macros do nothing (or, for LOCKRACE_LOAD and
 * LOCKRACE_STORE, make the plain access).
 *
 * Access tracking: lockrace sees every lock call, but not plain memory
 * accesses. Annotate the accesses to a shared variable and lockrace reports
 * data races (two threads, at least one writing, nothing ordering them) and
 * lost updates (a read-modify-write whose write can overwrite, or did
 * overwrite, another thread's update). Happens-before comes from every
 * synchronization call lockrace wraps, plus LOCKRACE_HAPPENS_BEFORE/AFTER
 * for synchronization it cannot see (lock-free queues, futexes). */
#ifndef LOCKRACE_H
#define LOCKRACE_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ---- names ---- */

/* Names a lock (mutex, ...) in reports, instead of its variable or address.
 * The name is copied. */
void lockrace_lock_name(const void *lock, const char *name) __attribute__((weak));

/* Names the calling thread in reports (pthread_setname_np does too). */
void lockrace_thread_name(const char *name) __attribute__((weak));

/* ---- access tracking ---- */

/* Tracks [addr, addr + size) as one variable called name (copied; NULL:
 * named from the debug information, as "accounts[2].balance"). Starts a
 * fresh history for that memory. Returns 0, or -1 when lockrace is out of
 * room (it tracks up to 8 MB). Memory never watched is tracked anyway from
 * its first annotated access, named from the debug information. */
int lockrace_watch(const volatile void *addr, size_t size, const char *name) __attribute__((weak));

/* Forgets the history of that memory: call it before freeing memory that
 * was tracked, so that its next use starts clean. */
void lockrace_unwatch(const volatile void *addr, size_t size) __attribute__((weak));

/* The calling thread read / wrote [addr, addr + size): call it right after
 * the access. A read followed by a write of the same variable by the same
 * thread, with no access of its own between, is a read-modify-write. */
void lockrace_read(const volatile void *addr, size_t size) __attribute__((weak));
void lockrace_write(const volatile void *addr, size_t size) __attribute__((weak));

/* Atomic accesses never race with each other (only with plain accesses),
 * and an atomic read-modify-write cannot lose an update. They order
 * nothing: use LOCKRACE_HAPPENS_BEFORE/AFTER for that. */
void lockrace_atomic_read(const volatile void *addr, size_t size) __attribute__((weak));
void lockrace_atomic_write(const volatile void *addr, size_t size) __attribute__((weak));
void lockrace_atomic_rmw(const volatile void *addr, size_t size) __attribute__((weak));

/* The access and its annotation in one: lockrace loads or stores the value
 * itself (size 1, 2, 4 or 8), so it knows the values and the order of the
 * accesses for certain. Lost updates seen happening this way are reported
 * as observed, with the values: "T1 read 5, T2 read 5, T2 wrote 6, T1 wrote
 * 6". Use them through LOCKRACE_LOAD and LOCKRACE_STORE. */
unsigned long long lockrace_load(const volatile void *addr, size_t size) __attribute__((weak));
void lockrace_store(volatile void *addr, size_t size, unsigned long long value) __attribute__((weak));

/* Custom synchronization: everything the calling thread did before
 * lockrace_happens_before(obj) happens before everything a thread does
 * after a later lockrace_happens_after(obj). obj is any address that
 * names the synchronization (the queue, the flag). */
void lockrace_happens_before(const volatile void *obj) __attribute__((weak));
void lockrace_happens_after(const volatile void *obj) __attribute__((weak));

/* ---- control ---- */

/* Number of reports this process has issued so far. */
unsigned long lockrace_report_count(void) __attribute__((weak));

/* Lost updates observed so far (exact accesses only), all variables. */
unsigned long long lockrace_lost_updates(void) __attribute__((weak));

/* Writes the reports lockrace holds back: a race on a read waits for the
 * thread's next access to that variable, which may turn it into a lost
 * update. Held-back reports are also written when the thread ends and at
 * exit. */
void lockrace_flush(void) __attribute__((weak));

#define LOCKRACE_LOCK_NAME(lock, name) \
    do { if (lockrace_lock_name) lockrace_lock_name((lock), (name)); } while (0)
#define LOCKRACE_THREAD_NAME(name) \
    do { if (lockrace_thread_name) lockrace_thread_name(name); } while (0)
#define LOCKRACE_REPORT_COUNT() (lockrace_report_count ? lockrace_report_count() : 0UL)
#define LOCKRACE_LOST_UPDATES() (lockrace_lost_updates ? lockrace_lost_updates() : 0ULL)
#define LOCKRACE_FLUSH() do { if (lockrace_flush) lockrace_flush(); } while (0)

/* LOCKRACE_WATCH(counter, "counter"); LOCKRACE_READ(counter); ... */
#define LOCKRACE_WATCH(var, name) \
    do { if (lockrace_watch) lockrace_watch(&(var), sizeof(var), (name)); } while (0)
#define LOCKRACE_UNWATCH(var) \
    do { if (lockrace_unwatch) lockrace_unwatch(&(var), sizeof(var)); } while (0)
#define LOCKRACE_READ(var) \
    do { if (lockrace_read) lockrace_read(&(var), sizeof(var)); } while (0)
#define LOCKRACE_WRITE(var) \
    do { if (lockrace_write) lockrace_write(&(var), sizeof(var)); } while (0)
#define LOCKRACE_ATOMIC_RMW(var) \
    do { if (lockrace_atomic_rmw) lockrace_atomic_rmw(&(var), sizeof(var)); } while (0)
#define LOCKRACE_HAPPENS_BEFORE(obj) \
    do { if (lockrace_happens_before) lockrace_happens_before(obj); } while (0)
#define LOCKRACE_HAPPENS_AFTER(obj) \
    do { if (lockrace_happens_after) lockrace_happens_after(obj); } while (0)

/* v = LOCKRACE_LOAD(counter); LOCKRACE_STORE(counter, v + 1);
 * For scalar variables of up to 8 bytes (GNU C statement expressions). */
#define LOCKRACE_SIZE8_(var) (sizeof(var) <= 8 ? sizeof(var) : 8)
#define LOCKRACE_LOAD(var)                                                               \
    __extension__({                                                                      \
        __typeof__(var) lockrace_v_;                                                     \
        if (lockrace_load && sizeof(var) <= 8) {                                         \
            unsigned long long lockrace_b_ = lockrace_load(&(var), sizeof(var));         \
            __builtin_memcpy(&lockrace_v_, &lockrace_b_, LOCKRACE_SIZE8_(var));          \
        } else {                                                                         \
            lockrace_v_ = *(volatile __typeof__(var) *)&(var);                           \
        }                                                                                \
        lockrace_v_;                                                                     \
    })
#define LOCKRACE_STORE(var, val)                                                         \
    do {                                                                                 \
        __typeof__(var) lockrace_v_ = (val);                                             \
        if (lockrace_store && sizeof(var) <= 8) {                                        \
            unsigned long long lockrace_b_ = 0;                                          \
            __builtin_memcpy(&lockrace_b_, &lockrace_v_, LOCKRACE_SIZE8_(var));          \
            lockrace_store(&(var), sizeof(var), lockrace_b_);                            \
        } else {                                                                         \
            *(volatile __typeof__(var) *)&(var) = lockrace_v_;                           \
        }                                                                                \
    } while (0)

#ifdef __cplusplus
}
#endif

#endif
