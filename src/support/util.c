/* Complete writes and the text buffer used to build reports. */
#include "support/util.h"
#include "support/ilock.h"
#include "support/arena.h"

#include <errno.h>
#include <fcntl.h>
#include <link.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

/* How long a write waits for room in a non-blocking descriptor (a pipe
 * whose reader is slow) with nothing written meanwhile, before it gives up:
 * long enough for any reader that reads at all, short enough that a
 * reader that stopped does not hang the program for good. */
enum { STALL_MS = 10000 };

/* Waits for room to write in fd; 0, or -EAGAIN when none came in time.
 * ppoll through syscall(): not a cancellation point, which a wrapper of a
 * function that is not one must not contain (glibc's poll() is one). */
static int wait_writable(int fd)
{
    struct pollfd p = { .fd = fd, .events = POLLOUT };
    struct timespec ts = { .tv_sec = STALL_MS / 1000, .tv_nsec = (STALL_MS % 1000) * 1000000L };
    long n;
    do
        n = syscall(SYS_ppoll, &p, 1, &ts, NULL, 0);   /* the kernel counts ts down */
    while (n < 0 && errno == EINTR);
    return n > 0 ? 0 : -EAGAIN;
}

int lr_write_all(int fd, const char *buf, size_t len)
{
    int saved = errno;
    while (len > 0) {
        ssize_t n = write(fd, buf, len);
        if (n < 0 && errno == EINTR)
            continue;
        /* a non-blocking descriptor (the program's, or shared with another
         * process) that is full: wait for room rather than drop the rest */
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK) && wait_writable(fd) == 0)
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

/* Length of the byte sequence at s[i] that a terminal must not get as it
 * is (0: none): a control character but the newline (C0, DEL, or C1 as
 * UTF-8: U+0080 to U+009F, which some terminals act on as ESC sequences),
 * or a byte that does not start a whole UTF-8 character. */
static size_t unsafe_at(const char *s, size_t i, size_t len)
{
    unsigned char c = (unsigned char)s[i];
    if (c == '\n')
        return 0;
    if (c < 0x20 || c == 0x7f)
        return 1;
    if (c < 0x80)
        return 0;
    /* the length the lead byte announces, checked against len before
     * lr_utf8_len reads that far: s need not end in a NUL */
    size_t need = c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : c >= 0xc0 ? 2 : 1;
    if (need > len - i || lr_utf8_len(s + i) == 0)
        return 1;
    return c == 0xc2 && (unsigned char)s[i + 1] < 0xa0 ? 2 : 0;
}

int lr_write_text(int fd, const char *s, size_t len)
{
    size_t i = 0;
    while (i < len && !unsafe_at(s, i, len))
        i += (unsigned char)s[i] < 0x80 ? 1 : lr_utf8_len(s + i);
    if (i >= len)
        return lr_write_all(fd, s, len);    /* all of it as it is: one write */
    /* else through a buffer on the stack (no allocation: this may run in a
     * signal handler), written when full */
    char out[1024];
    size_t n = 0;
    int rc = 0;
    for (i = 0; i < len && rc == 0;) {
        size_t bad = unsafe_at(s, i, len);
        size_t step = bad ? bad : (unsigned char)s[i] < 0x80 ? 1 : lr_utf8_len(s + i);
        if (n + 4 * step >= sizeof out) {   /* room for step escapes and snprintf's NUL */
            rc = lr_write_all(fd, out, n);
            n = 0;
        }
        for (size_t k = 0; k < step; k++, i++) {
            if (bad)
                n += (size_t)snprintf(out + n, sizeof out - n, "\\x%02x", (unsigned char)s[i]);
            else
                out[n++] = s[i];
        }
    }
    return rc == 0 && n ? lr_write_all(fd, out, n) : rc;
}

int lr_write_str(int fd, const char *s)
{
    return lr_write_all(fd, s, strlen(s));
}

/* support/ilock.h's state: here, not in arena.c, which the fuzz targets
 * replace */
__thread struct lr_ilock_held lr_ilock_held __attribute__((tls_model("initial-exec")));
int lr_ilock_masking;

int lr_output_open(const char *path, int append, int mode)
{
    return lr_output_open_at(AT_FDCWD, path, append, mode);
}

int lr_output_open_at(int at, const char *path, int append, int mode)
{
    int saved = errno;
    /* O_NONBLOCK: opening a FIFO for writing waits for a reader, forever if
     * none comes; this way it fails (ENXIO) or opens, and is then refused.
     * No O_TRUNC before the file is known to be ours. */
    int fd = openat(at, path, O_WRONLY | O_CREAT | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK | (append ? O_APPEND : 0),
                  (mode_t)mode);
    int error = fd < 0 ? (errno == ENXIO ? LR_OUTPUT_NOT_REGULAR : -errno) : 0;
    struct stat st;
    if (fd >= 0 && fstat(fd, &st) < 0)
        error = -errno;
    else if (fd >= 0 && !S_ISREG(st.st_mode))
        error = LR_OUTPUT_NOT_REGULAR;
    else if (fd >= 0 && st.st_uid != geteuid())
        error = LR_OUTPUT_NOT_OWNED;
    else if (fd >= 0 && !append && ftruncate(fd, 0) < 0)
        error = -errno;
    else if (fd >= 0)
        fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);   /* a regular file: writes wait */
    if (fd >= 0 && error < 0) {
        close(fd);
        fd = -1;
    }
    errno = saved;
    return fd >= 0 ? fd : error;
}

int lr_secure(void)
{
    return getauxval(AT_SECURE) != 0;
}

const char *lr_getenv(const char *name)
{
    return lr_secure() ? NULL : getenv(name);
}

int lr_launched_command(void)
{
    const char *launcher = lr_getenv("LOCKRACE_LAUNCHER_PID");
    return !launcher || atoi(launcher) == (int)getppid();
}

void lr_say_missing_unwinder(int fd, const char *name)
{
    char line[400];
    snprintf(line, sizeof line, "lockrace: cannot load %.200s (libunwind; Debian: libunwind8): stacks taken "
             "in signal handlers, and wherever glibc's backtrace() gives none, are not shown\n", name);
    lr_write_str(fd, line);
}

const char *lr_output_error(int error)
{
    if (error == -ELOOP)
        return "it is a symbolic link, and lockrace never writes through one";
    if (error == LR_OUTPUT_NOT_REGULAR)
        return "it is a FIFO, socket or device, not a regular file; lockrace writes only to regular "
               "files of the user it runs as";
    if (error == LR_OUTPUT_NOT_OWNED)
        return "it belongs to another user; lockrace writes only to regular files of the user it "
               "runs as";
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

static int covers(struct dl_phdr_info *info, size_t size, void *arg)
{
    (void)size;
    uintptr_t addr = *(uintptr_t *)arg;
    for (int i = 0; i < info->dlpi_phnum; i++) {
        const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
        uintptr_t lo = info->dlpi_addr + ph->p_vaddr;
        if (ph->p_type == PT_LOAD && (ph->p_flags & PF_W) && addr >= lo && addr - lo < ph->p_memsz)
            return 1;
    }
    return 0;
}

int lr_static_storage(uintptr_t addr)
{
    return dl_iterate_phdr(covers, &addr) == 1;
}

uint64_t lr_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}
