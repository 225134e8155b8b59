/* Barrier and semaphore waits: not locks, but a thread blocked in one is
 * blocked, and the watchdog must know it to tell a hang from a pause.
 * Only the blocking calls are wrapped; posts, tries and the rest of these
 * families go straight to glibc. */
#include "real.h"
#include "../src/runtime.h"

#include <errno.h>

#define LR_CALLER __builtin_return_address(0)

LR_WRAPPER int pthread_barrier_wait(pthread_barrier_t *b)
{
    lr_thread *self = lr_self();
    lr_object_wait_enter(self, LR_WAIT_BARRIER, b, 0, LR_CALLER);
    int rc = lr_real.pthread_barrier_wait(b);
    lr_object_wait_exit(self);
    return rc;
}

LR_WRAPPER int sem_wait(sem_t *s)
{
    lr_thread *self = lr_self();
    lr_object_wait_enter(self, LR_WAIT_SEM, s, 0, LR_CALLER);
    int rc = lr_real.sem_wait(s);
    lr_object_wait_exit(self);
    return rc;
}

LR_WRAPPER int sem_timedwait(sem_t *s, const struct timespec *deadline)
{
    lr_thread *self = lr_self();
    lr_object_wait_enter(self, LR_WAIT_SEM, s, 1, LR_CALLER);
    int rc = lr_real.sem_timedwait(s, deadline);
    lr_object_wait_exit(self);
    return rc;
}

LR_WRAPPER int sem_clockwait(sem_t *s, clockid_t clock, const struct timespec *deadline)
{
    lr_thread *self = lr_self();
    if (!lr_real.sem_clockwait) {
        errno = ENOSYS;
        return -1;
    }
    lr_object_wait_enter(self, LR_WAIT_SEM, s, 1, LR_CALLER);
    int rc = lr_real.sem_clockwait(s, clock, deadline);
    lr_object_wait_exit(self);
    return rc;
}
