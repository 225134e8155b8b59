/* Complete writes and the text buffer used to build reports. */
#include "util.h"
#include "arena.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

int lr_write_all(int fd, const char *buf, size_t len)
{
    int saved = errno;
    while (len > 0) {
        ssize_t n = write(fd, buf, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            int error = n < 0 ? errno : ENOSPC;
            errno = saved;
            return -error;
        }
        buf += n;
        len -= (size_t)n;
    }
    errno = saved;
    return 0;
}

int lr_cancel_off(void)
{
    int previous = PTHREAD_CANCEL_ENABLE;
    pthread_setcancelstate(PTHREAD_CANCEL_DISABLE, &previous);
    return previous;
}

void lr_cancel_restore(int previous)
{
    int ignored;
    if (previous != PTHREAD_CANCEL_DISABLE)
        pthread_setcancelstate(previous, &ignored);
}

int lr_write_str(int fd, const char *s)
{
    return lr_write_all(fd, s, strlen(s));
}

int lr_output_open(const char *path, int append, int mode)
{
    int saved = errno;
    int fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC | O_NOFOLLOW | (append ? O_APPEND : O_TRUNC),
                  (mode_t)mode);
    int error = errno;
    errno = saved;
    return fd >= 0 ? fd : -error;
}

const char *lr_output_error(int error)
{
    if (error == -ELOOP)
        return "it is a symbolic link, and lockrace never writes through one";
    return strerror(-error);
}

static int reserve(lr_buf *b, size_t more)
{
    if (b->len + more + 1 <= b->cap)
        return 0;
    size_t cap = b->cap ? b->cap : 4096;
    while (cap < b->len + more + 1)
        cap *= 2;
    char *p = lr_map(cap);
    if (!p)
        return -1;
    if (b->data) {
        memcpy(p, b->data, b->len + 1);
        lr_unmap(b->data, b->cap);
    }
    b->data = p;
    b->cap = cap;
    return 0;
}

void lr_buf_printf(lr_buf *b, const char *fmt, ...)
{
    char small[512];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(small, sizeof small, fmt, ap);
    va_end(ap);
    if (n < 0 || reserve(b, (size_t)n) < 0)
        return;
    if ((size_t)n < sizeof small) {
        memcpy(b->data + b->len, small, (size_t)n + 1);
    } else {
        va_start(ap, fmt);
        vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
        va_end(ap);
    }
    b->len += (size_t)n;
}

void lr_buf_puts(lr_buf *b, const char *s)
{
    size_t n = strlen(s);
    if (reserve(b, n) < 0)
        return;
    memcpy(b->data + b->len, s, n + 1);
    b->len += n;
}

size_t lr_utf8_len(const char *p)
{
    const unsigned char *s = (const unsigned char *)p;
    size_t n = s[0] < 0x80 ? 1 : s[0] >= 0xc2 && s[0] <= 0xdf ? 2 : s[0] >= 0xe0 && s[0] <= 0xef ? 3
                             : s[0] >= 0xf0 && s[0] <= 0xf4 ? 4 : 0;
    for (size_t i = 1; i < n; i++)
        if ((s[i] & 0xc0) != 0x80)
            return 0;
    /* overlong forms, UTF-16 surrogates and code points past U+10FFFF */
    if ((n == 3 && s[0] == 0xe0 && s[1] < 0xa0) || (n == 3 && s[0] == 0xed && s[1] >= 0xa0) ||
        (n == 4 && s[0] == 0xf0 && s[1] < 0x90) || (n == 4 && s[0] == 0xf4 && s[1] >= 0x90))
        return 0;
    return n;
}

void lr_buf_json_string(lr_buf *b, const char *s)
{
    lr_buf_puts(b, "\"");
    while (*s) {
        unsigned char c = (unsigned char)*s;
        size_t n = lr_utf8_len(s);
        if (c == '"' || c == '\\')
            lr_buf_printf(b, "\\%c", c);
        else if (c < 0x20)
            lr_buf_printf(b, "\\u%04x", c);
        else if (n == 0)        /* not UTF-8 (a file name, an argument): JSON cannot carry it */
            lr_buf_puts(b, "\\ufffd");
        else
            lr_buf_printf(b, "%.*s", (int)n, s);
        s += n ? n : 1;
    }
    lr_buf_puts(b, "\"");
}

void lr_utf8_trim(char *s)
{
    size_t n = strlen(s);
    for (size_t back = 1; back <= 3 && back <= n; back++) {
        unsigned char c = (unsigned char)s[n - back];
        if ((c & 0xc0) == 0x80)
            continue;           /* a continuation byte: the lead is further back */
        size_t need = c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : c >= 0xc0 ? 2 : 1;
        if (need > back && lr_utf8_len(s + n - back) == 0)
            s[n - back] = 0;
        return;
    }
}

const char *lr_shown(char *out, size_t size, const char *s, size_t len)
{
    size_t j = 0, i = 0;
    while (i < len && s[i] && j + 8 < size) {
        size_t n = lr_utf8_len(s + i);
        unsigned char c = (unsigned char)s[i];
        if (c == '\n' || c == '\t' || c == '\r') {
            j += (size_t)snprintf(out + j, size - j, "\\%c", c == '\n' ? 'n' : c == '\t' ? 't' : 'r');
            i++;
        } else if (n == 0 || c < 0x20 || c == 0x7f || n > len - i) {
            j += (size_t)snprintf(out + j, size - j, "\\x%02x", c);
            i++;
        } else {
            memcpy(out + j, s + i, n);
            j += n;
            i += n;
        }
    }
    if (i < len && s[i] && size >= 4) {
        if (j > size - 4)
            j = size - 4;
        memcpy(out + j, "...", 3);
        j += 3;
    }
    if (size)
        out[j < size ? j : size - 1] = 0;
    return out;
}

void lr_buf_free(lr_buf *b)
{
    lr_unmap(b->data, b->cap);
    b->data = NULL;
    b->len = b->cap = 0;
}
