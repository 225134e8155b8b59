/* The runtime's side of interpose/io.c: a system call moved n bytes into
 * or out of the program's buffer; where the race engine tracks that
 * memory, it is an access by the calling thread at its call site. */
#include "detect/race.h"
#include "runtime/runtime.h"

#include <errno.h>

void lr_io_access(const void *buf, size_t n, int into, void *pc)
{
    int saved = errno;
    lr_thread *self = lr_self();
    if (self && lr_race_tracks((uintptr_t)buf, n))
        lr_race_access_at(self, (uintptr_t)buf, n, LR_ACC_TRACKED | (into ? LR_ACC_WRITE : 0), NULL,
                          lr_site_stack(self, (uintptr_t)pc));
    errno = saved;
}
