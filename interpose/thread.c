/* pthread_create, pthread_join and pthread_setname_np. A new thread starts
 * in a trampoline that registers it with the record its creator made
 * (its id, parent and creation stack), then runs the real start routine.
 * The creator does not wait for the child: registering costs the child,
 * not the creator's scheduling. */
#include "real.h"
#include "../src/runtime.h"

#include <errno.h>

static void *trampoline(void *arg)
{
    lr_thread_info *info = arg;
    lr_thread_started(info);
    void *result = info->start(info->start_arg);
    lr_thread_finished(info);
    return result;
}

LR_WRAPPER int pthread_create(pthread_t *thread, const pthread_attr_t *attr, void *(*start)(void *), void *arg)
{
    lr_thread *self = lr_self();
    lr_thread_info *info = lr_thread_before_create(self);
    if (!info)
        return lr_real.pthread_create(thread, attr, start, arg);
    info->start = start;
    info->start_arg = arg;
    int rc = lr_real.pthread_create(thread, attr, trampoline, info);
    if (rc == 0)
        info->handle = (uintptr_t)*thread;
    return rc;
}

/* Joining a thread that is still running waits in bounded rounds too: two
 * threads joining each other, or a join of a thread blocked on a lock the
 * joiner holds, is a deadlock lockrace reports. */
LR_WRAPPER int pthread_join(pthread_t thread, void **result)
{
    lr_thread *self = lr_self();
    if (!lr_real.pthread_clockjoin_np || !lr_join_wait_begin(self, thread))
        return lr_real.pthread_join(thread, result);
    struct timespec deadline;
    int rc;
    while ((rc = lr_real.pthread_clockjoin_np(thread, result, CLOCK_MONOTONIC,
                                               lr_wait_deadline(self, &deadline))) == ETIMEDOUT)
        lr_wait_check(self);
    lr_wait_done(self);
    return rc;
}

LR_WRAPPER int pthread_setname_np(pthread_t thread, const char *name)
{
    lr_thread *self = lr_self();
    if (!lr_real.pthread_setname_np)
        return ENOSYS;
    int rc = lr_real.pthread_setname_np(thread, name);
    lr_thread_named(self, thread, name, rc);
    return rc;
}
