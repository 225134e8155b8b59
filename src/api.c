/* The public API of include/lockrace.h. */
#include "../include/lockrace.h"
#include "arena.h"
#include "lockreg.h"
#include "report.h"
#include "thread.h"

#define LR_API __attribute__((visibility("default")))

LR_API void lockrace_lock_name(const void *lock, const char *name)
{
    lr_thread *self = lr_self();
    if (!self || !lock || !name)
        return;
    lr_enter(self);
    lr_lock *l = lr_lock_get((uintptr_t)lock, LR_NORMAL);
    if (l)
        l->name = lr_arena_strdup(name);
    lr_leave(self);
}

LR_API void lockrace_thread_name(const char *name)
{
    lr_thread *self = lr_self();
    if (self && name)
        lr_thread_set_name(self->info, name);
}

LR_API unsigned long lockrace_report_count(void)
{
    return lr_report_count();
}
