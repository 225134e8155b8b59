/* Small helpers shared by the runtime, the reports and the launcher:
 * complete writes, and a growable text buffer on lockrace's own memory. */
#ifndef LR_UTIL_H
#define LR_UTIL_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#define LR_LIKELY(x) __builtin_expect(!!(x), 1)
#define LR_UNLIKELY(x) __builtin_expect(!!(x), 0)

/* write(2) until done or a real error; EINTR is retried; errno is kept.
 * Returns 0, or minus the error number. */
int lr_write_all(int fd, const char *buf, size_t len);
int lr_write_str(int fd, const char *s);

/* Opens a file lockrace writes (a report log, a SARIF or JUnit file) the
 * one way: never through a symbolic link (O_NOFOLLOW: a link planted where a
 * report is expected cannot redirect it), created with `mode`, close-on-exec.
 * Returns the descriptor, or minus the error number. */
int lr_output_open(const char *path, int append, int mode);
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
int lr_cancel_off(void);
void lr_cancel_restore(int previous);

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

#endif
