/* System calls that read or write the program's memory: read(2) into a
 * buffer writes it, write(2) out of one reads it, and so do their pread,
 * pwrite, recv and send kin. For memory the race engine tracks (a watched
 * buffer, or one annotated before) the bytes the call moved are an access
 * by the calling thread at its call site; any other buffer costs one load.
 * memcpy and the other string functions are not wrapped: compilers inline
 * them, and a program's copies into a watched variable are seen by the
 * watch engine's rewriting or by annotations instead. */
#include "real.h"
#include "runtime/runtime.h"

#include <sys/socket.h>
#include <unistd.h>

/* The call moved rc bytes into (into = 1) or out of buf, called from pc. */
static inline __attribute__((always_inline)) ssize_t moved(ssize_t rc, const void *buf, int into,
                                                           void *pc)
{
    if (rc > 0 && lr_io_watched())
        lr_io_access(buf, (size_t)rc, into, pc);
    return rc;
}

#define CALLER __builtin_return_address(0)

LR_WRAPPER ssize_t read(int fd, void *buf, size_t n)
{
    return moved(LR_REAL(read)(fd, buf, n), buf, 1, CALLER);
}

LR_WRAPPER ssize_t pread(int fd, void *buf, size_t n, off_t at)
{
    return moved(LR_REAL(pread)(fd, buf, n, at), buf, 1, CALLER);
}

LR_WRAPPER ssize_t pread64(int fd, void *buf, size_t n, off64_t at)
{
    return moved(LR_REAL(pread64)(fd, buf, n, at), buf, 1, CALLER);
}

LR_WRAPPER ssize_t recv(int fd, void *buf, size_t n, int flags)
{
    return moved(LR_REAL(recv)(fd, buf, n, flags), buf, 1, CALLER);
}

LR_WRAPPER ssize_t recvfrom(int fd, void *buf, size_t n, int flags, struct sockaddr *from,
                            socklen_t *len)
{
    return moved(LR_REAL(recvfrom)(fd, buf, n, flags, from, len), buf, 1, CALLER);
}

LR_WRAPPER ssize_t write(int fd, const void *buf, size_t n)
{
    return moved(LR_REAL(write)(fd, buf, n), buf, 0, CALLER);
}

LR_WRAPPER ssize_t pwrite(int fd, const void *buf, size_t n, off_t at)
{
    return moved(LR_REAL(pwrite)(fd, buf, n, at), buf, 0, CALLER);
}

LR_WRAPPER ssize_t pwrite64(int fd, const void *buf, size_t n, off64_t at)
{
    return moved(LR_REAL(pwrite64)(fd, buf, n, at), buf, 0, CALLER);
}

LR_WRAPPER ssize_t send(int fd, const void *buf, size_t n, int flags)
{
    return moved(LR_REAL(send)(fd, buf, n, flags), buf, 0, CALLER);
}

LR_WRAPPER ssize_t sendto(int fd, const void *buf, size_t n, int flags, const struct sockaddr *to,
                          socklen_t len)
{
    return moved(LR_REAL(sendto)(fd, buf, n, flags, to, len), buf, 0, CALLER);
}
