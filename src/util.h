/* Small helpers shared by the runtime, the reports and the launcher:
 * complete writes, and a growable text buffer on lockrace's own memory. */
#ifndef LR_UTIL_H
#define LR_UTIL_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#define LR_LIKELY(x) __builtin_expect(!!(x), 1)
#define LR_UNLIKELY(x) __builtin_expect(!!(x), 0)

/* write(2) until done or a real error; EINTR is retried; errno is kept. */
int lr_write_all(int fd, const char *buf, size_t len);
int lr_write_str(int fd, const char *s);

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

/* s[0..len) for a one-line message: control bytes written as \n, \t, \r or
 * \xHH, cut (ending in "...") to fit size. Returns buf. */
const char *lr_printable(char *buf, size_t size, const char *s, size_t len);

#endif
