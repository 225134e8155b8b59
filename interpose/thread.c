/* pthread_create, pthread_join and pthread_setname_np. A new thread starts
 * in a trampoline that registers it with the record its creator made
 * (its id, parent and creation stack), then runs the real start routine.
 * The creator does not wait for the child: registering costs the child,
 * not the creator's scheduling. */
#include "real.h"
#include "runtime/runtime.h"

#include <errno.h>

static void *trampoline(void *arg)
{
    lr_thread_info *info = arg;
    info->stack_base = (uintptr_t)__builtin_frame_address(0);
    lr_thread_started(info);
    void *result = info->start(info->start_arg);
    lr_thread_finished(info, 0);
    return result;
}

/* The same for C11 threads, whose start routine returns an int. */
static int trampoline_c11(void *arg)
{
    lr_thread_info *info = arg;
    info->stack_base = (uintptr_t)__builtin_frame_address(0);
    lr_thread_started(info);
    int result = ((int (*)(void *))(void *)info->start)(info->start_arg);
    lr_thread_finished(info, 0);
    return result;
}

/* thrd_create never calls pthread_create's symbol (glibc calls its own
 * internal one): it needs its own trampoline to be seen at all. */
LR_WRAPPER int thrd_create(thrd_t *thread, thrd_start_t start, void *arg)
{
    lr_thread *self = lr_self();
    lr_site_begin(self, __builtin_return_address(0));
    lr_thread_info *info = lr_thread_before_create(self);
    lr_site_end(self);
    if (!info)
        return LR_REAL(thrd_create)(thread, start, arg);
    info->start = (void *(*)(void *))(void *)start;
    info->start_arg = arg;
    int rc = LR_REAL(thrd_create)(thread, trampoline_c11, info);
    if (rc == thrd_success)
        info->handle = (uintptr_t)*thread;
    else
        lr_thread_not_created(info);
    return rc;
}

LR_WRAPPER int thrd_join(thrd_t thread, int *result)
{
    void *value;
    int rc = lr_join_thread(lr_self(), (pthread_t)thread, &value, __builtin_return_address(0));
    if (rc != 0)
        return thrd_error;
    if (result)
        *result = (int)(intptr_t)value;
    return thrd_success;
}

LR_WRAPPER int pthread_create(pthread_t *thread, const pthread_attr_t *attr, void *(*start)(void *), void *arg)
{
    lr_thread *self = lr_self();
    lr_site_begin(self, __builtin_return_address(0));
    lr_thread_info *info = lr_thread_before_create(self);
    lr_site_end(self);
    if (!info)
        return LR_REAL(pthread_create)(thread, attr, start, arg);
    info->start = start;
    info->start_arg = arg;
    int rc = LR_REAL(pthread_create)(thread, attr, trampoline, info);
    if (rc == 0)
        info->handle = (uintptr_t)*thread;
    else
        lr_thread_not_created(info);
    return rc;
}

/* Joining a thread that is still running waits in bounded rounds too: two
 * threads joining each other, or a join of a thread blocked on a lock the
 * joiner holds, is a deadlock lockrace reports. */
LR_WRAPPER int pthread_join(pthread_t thread, void **result)
{
    return lr_join_thread(lr_self(), thread, result, __builtin_return_address(0));
}

int lr_join_thread(lr_thread *self, pthread_t thread, void **result, void *pc)
{
    lr_thread_info *target = lr_thread_joining(self, thread);
    int rc;
    if (!LR_REAL(pthread_clockjoin_np) || !lr_join_wait_begin(self, thread, pc)) {
        rc = LR_REAL(pthread_join)(thread, result);
    } else {
        struct timespec deadline;
        while ((rc = LR_REAL(pthread_clockjoin_np)(thread, result, CLOCK_MONOTONIC,
                                                   lr_wait_deadline(self, &deadline))) == ETIMEDOUT)
            lr_wait_check(self);
        lr_wait_done(self);
    }
    lr_thread_joined(self, target, rc);
    return rc;
}

/* A thread that ends through pthread_exit ends here as much as by
 * returning from its start routine. */
LR_WRAPPER void pthread_exit(void *value)
{
    lr_thread *self = lr_self();
    if (self)
        lr_thread_finished(self->info, 1);
    LR_REAL(pthread_exit)(value);
    __builtin_unreachable();
}

LR_WRAPPER int pthread_setname_np(pthread_t thread, const char *name)
{
    lr_thread *self = lr_self();
    if (!LR_REAL(pthread_setname_np))
        return ENOSYS;
    int rc = LR_REAL(pthread_setname_np)(thread, name);
    lr_thread_named(self, thread, name, rc);
    return rc;
}

/* pthread_once and call_once: the routine's run happens before every
 * return from them on that control. The routine takes no argument, so the
 * wrapper hands it to a trampoline through thread-local variables, saved
 * and restored around nested calls (a routine that calls pthread_once). */
static __thread void (*once_routine)(void) __attribute__((tls_model("initial-exec")));
static __thread void *once_object __attribute__((tls_model("initial-exec")));

static void once_trampoline(void)
{
    void *object = once_object;
    once_routine();
    lr_object_release(lr_self(), object);
}

typedef struct once_saved {
    void (*routine)(void);
    void *object;
} once_saved;

static once_saved once_begin(void *object, void (*routine)(void))
{
    once_saved saved = { once_routine, once_object };
    once_routine = routine;
    once_object = object;
    return saved;
}

static void once_end(lr_thread *self, once_saved saved, void *object)
{
    once_routine = saved.routine;
    once_object = saved.object;
    lr_object_acquired(self, object);
}

LR_WRAPPER int pthread_once(pthread_once_t *once, void (*routine)(void))
{
    lr_thread *self = lr_self();
    if (!self)
        return LR_REAL(pthread_once)(once, routine);
    once_saved saved = once_begin(once, routine);
    int rc = LR_REAL(pthread_once)(once, once_trampoline);
    once_end(self, saved, once);
    return rc;
}

LR_WRAPPER void call_once(once_flag *once, void (*routine)(void))
{
    lr_thread *self = lr_self();
    if (!self) {
        LR_REAL(call_once)(once, routine);
        return;
    }
    once_saved saved = once_begin(once, routine);
    LR_REAL(call_once)(once, once_trampoline);
    once_end(self, saved, once);
}
