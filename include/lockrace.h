/* lockrace's public API, for programs that link lockrace as a debug library
 * or want better reports under LD_PRELOAD. Every function is declared weak:
 * a program built with these calls still runs normally without lockrace,
 * where the LOCKRACE_* macros do nothing. */
#ifndef LOCKRACE_H
#define LOCKRACE_H

#ifdef __cplusplus
extern "C" {
#endif

/* Names a lock (mutex, ...) in reports, instead of its variable or address.
 * The name is copied. */
void lockrace_lock_name(const void *lock, const char *name) __attribute__((weak));

/* Names the calling thread in reports (pthread_setname_np does too). */
void lockrace_thread_name(const char *name) __attribute__((weak));

/* Number of reports this process has issued so far. */
unsigned long lockrace_report_count(void) __attribute__((weak));

#define LOCKRACE_LOCK_NAME(lock, name) \
    do { if (lockrace_lock_name) lockrace_lock_name((lock), (name)); } while (0)
#define LOCKRACE_THREAD_NAME(name) \
    do { if (lockrace_thread_name) lockrace_thread_name(name); } while (0)
#define LOCKRACE_REPORT_COUNT() (lockrace_report_count ? lockrace_report_count() : 0UL)

#ifdef __cplusplus
}
#endif

#endif
