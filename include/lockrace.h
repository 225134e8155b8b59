/* lockrace's public API, for programs that link lockrace as a debug library
 * or want better reports under LD_PRELOAD. Every function is safe to call
 * with or without lockrace, as Valgrind's client requests are: each is a
 * small inline function that calls liblockrace.so's entry point of the same
 * name (a weak reference) when the library is loaded, and otherwise does
 * nothing and returns what a program without lockrace would see (0, or for
 * lockrace_load and lockrace_store, the plain access). So a program built
 * with these calls runs normally without lockrace, and the LOCKRACE_*
 * macros below are only shorthands.
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

/* LOCKRACE_API_(type, name, (parameters)) declares lockrace_NAME: in the
 * library (LOCKRACE_BUILDING_LIBRARY), the exported function; in a program,
 * a weak reference to it, lockrace_real_NAME_ (NULL without the library),
 * and the inline function lockrace_NAME that calls it. Both carry explicit
 * symbol names, so that the inline one never takes the library's name.
 * always_inline and artificial: reports show the caller's line, not the
 * wrapper's (lockrace skips artificial inlined frames, as GDB does). */
#ifdef LOCKRACE_BUILDING_LIBRARY
#define LOCKRACE_API_(type, name, params) type lockrace_##name params;
#else
#define LOCKRACE_API_(type, name, params)                                               \
    extern type lockrace_real_##name##_ params __asm__("lockrace_" #name)               \
        __attribute__((weak));                                                          \
    static __inline__ type lockrace_##name params __asm__("lockrace_inline_" #name)     \
        __attribute__((unused, always_inline, artificial));
#endif

/* ---- names ---- */

/* Names a lock (mutex, ...) in reports, instead of its variable or address.
 * The name is copied. */
LOCKRACE_API_(void, lock_name, (const void *lock, const char *name))

/* Names the calling thread in reports (pthread_setname_np does too). */
LOCKRACE_API_(void, thread_name, (const char *name))

/* ---- access tracking ---- */

/* Tracks [addr, addr + size) as one variable called name (copied; NULL:
 * named from the debug information, as "accounts[2].balance"). Starts a
 * fresh history for that memory. Returns 0, or -1 when lockrace is out of
 * room (it tracks up to 8 MB). Memory never watched is tracked anyway from
 * its first annotated access, named from the debug information. */
LOCKRACE_API_(int, watch, (const volatile void *addr, size_t size, const char *name))

/* Forgets the history of that memory: call it before freeing memory that
 * was tracked, so that its next use starts clean. */
LOCKRACE_API_(void, unwatch, (const volatile void *addr, size_t size))

/* The calling thread read / wrote [addr, addr + size): call it right after
 * the access. A read followed by a write of the same variable by the same
 * thread, with no access of its own between, is a read-modify-write. */
LOCKRACE_API_(void, read, (const volatile void *addr, size_t size))
LOCKRACE_API_(void, write, (const volatile void *addr, size_t size))

/* Atomic accesses never race with each other (only with plain accesses),
 * and an atomic read-modify-write cannot lose an update. They order
 * nothing: use LOCKRACE_HAPPENS_BEFORE/AFTER for that. */
LOCKRACE_API_(void, atomic_read, (const volatile void *addr, size_t size))
LOCKRACE_API_(void, atomic_write, (const volatile void *addr, size_t size))
LOCKRACE_API_(void, atomic_rmw, (const volatile void *addr, size_t size))

/* The access and its annotation in one: lockrace loads or stores the value
 * itself (size 1, 2, 4 or 8), so it knows the values and the order of the
 * accesses for certain. Lost updates seen happening this way are reported
 * as observed, with the values: "T1 read 5, T2 read 5, T2 wrote 6, T1 wrote
 * 6". Use them through LOCKRACE_LOAD and LOCKRACE_STORE. */
LOCKRACE_API_(unsigned long long, load, (const volatile void *addr, size_t size))
LOCKRACE_API_(void, store, (volatile void *addr, size_t size, unsigned long long value))

/* Custom synchronization: everything the calling thread did before
 * lockrace_happens_before(obj) happens before everything a thread does
 * after a later lockrace_happens_after(obj). obj is any address that
 * names the synchronization (the queue, the flag). */
LOCKRACE_API_(void, happens_before, (const volatile void *obj))
LOCKRACE_API_(void, happens_after, (const volatile void *obj))

/* ---- control ---- */

/* 1 when liblockrace.so is loaded in this process (preloaded or linked),
 * 0 otherwise; as Valgrind's RUNNING_ON_VALGRIND. */
LOCKRACE_API_(int, running, (void))

/* Number of reports this process has issued so far. */
LOCKRACE_API_(unsigned long, report_count, (void))

/* Lost updates observed so far (exact accesses only), all variables. */
LOCKRACE_API_(unsigned long long, lost_updates, (void))

/* Writes the reports lockrace holds back: a race on a read waits for the
 * thread's next access to that variable, which may turn it into a lost
 * update. Held-back reports are also written when the thread ends and at
 * exit. */
LOCKRACE_API_(void, flush, (void))

#ifndef LOCKRACE_BUILDING_LIBRARY
/* Without the library: what the program does by itself. */
static __inline__ void lockrace_lock_name(const void *lock, const char *name)
{
    if (lockrace_real_lock_name_)
        lockrace_real_lock_name_(lock, name);
}
static __inline__ void lockrace_thread_name(const char *name)
{
    if (lockrace_real_thread_name_)
        lockrace_real_thread_name_(name);
}
static __inline__ int lockrace_watch(const volatile void *addr, size_t size, const char *name)
{
    return lockrace_real_watch_ ? lockrace_real_watch_(addr, size, name) : 0;
}
static __inline__ void lockrace_unwatch(const volatile void *addr, size_t size)
{
    if (lockrace_real_unwatch_)
        lockrace_real_unwatch_(addr, size);
}
static __inline__ void lockrace_read(const volatile void *addr, size_t size)
{
    if (lockrace_real_read_)
        lockrace_real_read_(addr, size);
}
static __inline__ void lockrace_write(const volatile void *addr, size_t size)
{
    if (lockrace_real_write_)
        lockrace_real_write_(addr, size);
}
static __inline__ void lockrace_atomic_read(const volatile void *addr, size_t size)
{
    if (lockrace_real_atomic_read_)
        lockrace_real_atomic_read_(addr, size);
}
static __inline__ void lockrace_atomic_write(const volatile void *addr, size_t size)
{
    if (lockrace_real_atomic_write_)
        lockrace_real_atomic_write_(addr, size);
}
static __inline__ void lockrace_atomic_rmw(const volatile void *addr, size_t size)
{
    if (lockrace_real_atomic_rmw_)
        lockrace_real_atomic_rmw_(addr, size);
}
/* The plain access: one load or store for 1, 2, 4 and 8 bytes, else a copy
 * of up to 8 bytes (the value in the low bytes, as the library gives it). */
static __inline__ unsigned long long lockrace_load(const volatile void *addr, size_t size)
{
    unsigned long long v = 0;
    if (lockrace_real_load_)
        return lockrace_real_load_(addr, size);
    switch (size) {
    case 1: v = *(const volatile unsigned char *)addr; break;
    case 2: v = *(const volatile unsigned short *)addr; break;
    case 4: v = *(const volatile unsigned int *)addr; break;
    case 8: v = *(const volatile unsigned long long *)addr; break;
    default: __builtin_memcpy(&v, (const void *)addr, size < 8 ? size : 8); break;
    }
    return v;
}
static __inline__ void lockrace_store(volatile void *addr, size_t size, unsigned long long value)
{
    if (lockrace_real_store_) {
        lockrace_real_store_(addr, size, value);
        return;
    }
    switch (size) {
    case 1: *(volatile unsigned char *)addr = (unsigned char)value; break;
    case 2: *(volatile unsigned short *)addr = (unsigned short)value; break;
    case 4: *(volatile unsigned int *)addr = (unsigned int)value; break;
    case 8: *(volatile unsigned long long *)addr = value; break;
    default: __builtin_memcpy((void *)addr, &value, size < 8 ? size : 8); break;
    }
}
static __inline__ void lockrace_happens_before(const volatile void *obj)
{
    if (lockrace_real_happens_before_)
        lockrace_real_happens_before_(obj);
}
static __inline__ void lockrace_happens_after(const volatile void *obj)
{
    if (lockrace_real_happens_after_)
        lockrace_real_happens_after_(obj);
}
static __inline__ int lockrace_running(void)
{
    return lockrace_real_running_ ? lockrace_real_running_() : 0;
}
static __inline__ unsigned long lockrace_report_count(void)
{
    return lockrace_real_report_count_ ? lockrace_real_report_count_() : 0UL;
}
static __inline__ unsigned long long lockrace_lost_updates(void)
{
    return lockrace_real_lost_updates_ ? lockrace_real_lost_updates_() : 0ULL;
}
static __inline__ void lockrace_flush(void)
{
    if (lockrace_real_flush_)
        lockrace_real_flush_();
}
#endif

/* Shorthands; like the functions, each does nothing without lockrace. */
#define LOCKRACE_RUNNING() lockrace_running()
#define LOCKRACE_LOCK_NAME(lock, name) lockrace_lock_name((lock), (name))
#define LOCKRACE_THREAD_NAME(name) lockrace_thread_name(name)
#define LOCKRACE_REPORT_COUNT() lockrace_report_count()
#define LOCKRACE_LOST_UPDATES() lockrace_lost_updates()
#define LOCKRACE_FLUSH() lockrace_flush()

/* LOCKRACE_WATCH(counter, "counter"); LOCKRACE_READ(counter); ... */
#define LOCKRACE_WATCH(var, name) ((void)lockrace_watch(&(var), sizeof(var), (name)))
#define LOCKRACE_UNWATCH(var) lockrace_unwatch(&(var), sizeof(var))
#define LOCKRACE_READ(var) lockrace_read(&(var), sizeof(var))
#define LOCKRACE_WRITE(var) lockrace_write(&(var), sizeof(var))
#define LOCKRACE_ATOMIC_RMW(var) lockrace_atomic_rmw(&(var), sizeof(var))
#define LOCKRACE_HAPPENS_BEFORE(obj) lockrace_happens_before(obj)
#define LOCKRACE_HAPPENS_AFTER(obj) lockrace_happens_after(obj)

/* v = LOCKRACE_LOAD(counter); LOCKRACE_STORE(counter, v + 1);
 * For scalar variables of up to 8 bytes (GNU C statement expressions);
 * larger ones are accessed plainly, unchecked. */
#define LOCKRACE_SIZE8_(var) (sizeof(var) <= 8 ? sizeof(var) : 8)
#define LOCKRACE_LOAD(var)                                                               \
    __extension__({                                                                      \
        __typeof__(var) lockrace_v_;                                                     \
        if (sizeof(var) <= 8) {                                                          \
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
        if (sizeof(var) <= 8) {                                                          \
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
