/* Small helpers shared by the runtime, the reports and the launcher:
 * complete writes, and a growable text buffer on lockrace's own memory. */
#ifndef LR_UTIL_H
#define LR_UTIL_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#define LR_LIKELY(x) __builtin_expect(!!(x), 1)
#define LR_UNLIKELY(x) __builtin_expect(!!(x), 0)

/* write(2) until done or a real error; EINTR is retried, and EAGAIN (a
 * non-blocking descriptor that is full) waits for room, up to 10 s with
 * nothing written; errno is kept. Returns 0, or minus the error number. */
int lr_write_all(int fd, const char *buf, size_t len);
int lr_write_str(int fd, const char *s);
/* lr_write_all for text read on a terminal (reports, the launcher's
 * summary): control characters but the newline, C1 controls and bytes
 * that are not UTF-8 are written \xNN, so that a thread name or a command
 * line cannot retitle the window, clear the screen or hide a report. All
 * the text lockrace prints goes through here, once, at the end. No
 * allocation; one write when nothing needs escaping. */
int lr_write_text(int fd, const char *s, size_t len);

/* Opens a file lockrace writes (a report log, a SARIF or JUnit file) the
 * one way: never through a symbolic link (O_NOFOLLOW: a link planted where a
 * report is expected cannot redirect it), created with `mode`, close-on-exec,
 * and only a regular file of the effective user: a FIFO would block the
 * open (or the writes) for as long as nobody reads it, and a file another
 * user made beforehand in a shared directory is theirs to read. Without
 * append it is emptied, once known to be ours. Returns the descriptor, or
 * minus the error number, or one of these two: */
enum { LR_OUTPUT_NOT_REGULAR = -100000, LR_OUTPUT_NOT_OWNED = -100001 };
int lr_output_open(const char *path, int append, int mode);
/* The same, path relative to the directory open at `at` (AT_FDCWD: the
 * working directory). */
int lr_output_open_at(int at, const char *path, int append, int mode);
/* Why lr_output_open or a write failed, in words (-error as returned). */
const char *lr_output_error(int error);

/* lockrace's own work in a thread the program may cancel: cancellation is
 * off (pthread_setcancelstate) from lr_cancel_off until lr_cancel_restore,
 * so that none of the system calls that work makes (write, open, read,
 * nanosleep, those inside libunwind and libdw) is where the thread ends: a
 * thread the program cancels ends at the program's own cancellation points,
 * as natively, and never inside lockrace holding its locks. A cancel that
 * arrives meanwhile stays pending. About 10 ns: slow paths only (a report,
 * an unwind, a wait round), never on the lock fast path. Async-signal-safe. */
/* addr lies in a writable segment of a loaded object (a global or static
 * variable): memory that is never freed. Takes the dynamic loader's lock. */
int lr_static_storage(uintptr_t addr);

int lr_cancel_off(void);
void lr_cancel_restore(int previous);

/* 1 in a secure-execution process (set-uid, set-gid or with file
 * capabilities: the kernel's AT_SECURE). Its environment belongs to the
 * user who started it, not to the process: lockrace then reads no
 * variable of it, writes no file and loads nothing a user named. */
int lr_secure(void);
/* getenv, but NULL in a secure-execution process: every variable lockrace
 * reads is read here. */
const char *lr_getenv(const char *name);
/* 1 in the process the user named: run without the launcher, or the
 * launcher's child. The other processes of a tree (a shell, make) keep
 * quiet about warnings the command says once. */
int lr_launched_command(void);

/* libunwind, loaded at run time (stack.c): it unwinds signal contexts, and
 * wherever glibc's backtrace() gives nothing. Its absence is said in one
 * line on fd, by the launcher for a tree or else by each process. */
#define LR_LIBUNWIND "libunwind.so.8"
void lr_say_missing_unwinder(int fd, const char *name);

typedef struct lr_buf {
    char *data;
    size_t len, cap;
} lr_buf;

void lr_buf_printf(lr_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void lr_buf_puts(lr_buf *b, const char *s);
/* Quoted and escaped; bytes that are not UTF-8 become U+FFFD. */
void lr_buf_json_string(lr_buf *b, const char *s);
/* Length of the UTF-8 character at p (1 to 4), 0 when the bytes there are not one. */
size_t lr_utf8_len(const char *p);
void lr_buf_free(lr_buf *b);
/* Drops a UTF-8 character cut short at the end of s (a name cut to a
 * number of bytes), so that it is not shown as a bad byte. */
void lr_utf8_trim(char *s);

/* Input quoted back in a one-line message: up to len bytes of s (or to its
 * end), with \n, \t and \r written so, other control bytes and bytes that
 * are not UTF-8 as \xNN, cut with "..." to fit in size. Returns out. */
const char *lr_shown(char *out, size_t size, const char *s, size_t len);

/* CLOCK_MONOTONIC, in nanoseconds. */
uint64_t lr_now_ns(void);

#endif
