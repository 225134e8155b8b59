/* The public API of include/lockrace.h: the library's entry points, which
 * the header's inline functions call when the library is loaded. */
#define LOCKRACE_BUILDING_LIBRARY 1
#include "lockrace.h"
#include "support/arena.h"
#include "model/lockreg.h"
#include "detect/race.h"
#include "report/report.h"
#include "model/thread.h"
#include "runtime/runtime.h"

#define LR_API __attribute__((visibility("default")))
#define LR_CALLER ((uintptr_t)__builtin_return_address(0))

LR_API void lockrace_lock_name(const void *lock, const char *name)
{
    lr_thread *self = lr_self();
    if (!self || !lock || !name)
        return;
    lr_enter(self);
    lr_lock *l = lr_lock_get((uintptr_t)lock, LR_UNTYPED);
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

LR_API int lockrace_running(void)
{
    return 1;
}

LR_API unsigned long lockrace_report_count(void)
{
    return lr_report_count();
}

LR_API int lockrace_watch(const volatile void *addr, size_t size, const char *name)
{
    return addr ? lr_race_watch(lr_self(), (uintptr_t)addr, size, name) : -1;
}

LR_API void lockrace_unwatch(const volatile void *addr, size_t size)
{
    lr_race_unwatch(lr_self(), (uintptr_t)addr, size);
}

/* An annotated access by the caller of lockrace_*: its stack is unwound
 * once per call site and thread. */
static void access(lr_thread *self, uintptr_t addr, size_t size, int flags, uint64_t *value,
                   uintptr_t pc)
{
    lr_race_access_at(self, addr, size, flags, value, self && size ? lr_site_stack(self, pc) : 0);
}

LR_API void lockrace_read(const volatile void *addr, size_t size)
{
    access(lr_self(), (uintptr_t)addr, size, 0, NULL, LR_CALLER);
}

LR_API void lockrace_write(const volatile void *addr, size_t size)
{
    access(lr_self(), (uintptr_t)addr, size, LR_ACC_WRITE, NULL, LR_CALLER);
}

LR_API void lockrace_atomic_read(const volatile void *addr, size_t size)
{
    access(lr_self(), (uintptr_t)addr, size, LR_ACC_ATOMIC, NULL, LR_CALLER);
}

LR_API void lockrace_atomic_write(const volatile void *addr, size_t size)
{
    access(lr_self(), (uintptr_t)addr, size, LR_ACC_ATOMIC | LR_ACC_WRITE, NULL, LR_CALLER);
}

/* An atomic read-modify-write is one access that reads and writes: as a
 * write it orders nothing and races only with plain accesses. */
LR_API void lockrace_atomic_rmw(const volatile void *addr, size_t size)
{
    access(lr_self(), (uintptr_t)addr, size, LR_ACC_ATOMIC | LR_ACC_WRITE, NULL, LR_CALLER);
}

LR_API unsigned long long lockrace_load(const volatile void *addr, size_t size)
{
    uint64_t value = 0;
    access(lr_self(), (uintptr_t)addr, size, LR_ACC_EXACT, &value, LR_CALLER);
    return value;
}

LR_API void lockrace_store(volatile void *addr, size_t size, unsigned long long value)
{
    uint64_t v = value;
    access(lr_self(), (uintptr_t)addr, size, LR_ACC_EXACT | LR_ACC_WRITE, &v, LR_CALLER);
}

LR_API void lockrace_happens_before(const volatile void *obj)
{
    lr_thread *self = lr_self();
    if (!self)
        return;
    lr_race_activate();
    lr_race_release(self, (uintptr_t)obj);
}

LR_API void lockrace_happens_after(const volatile void *obj)
{
    lr_thread *self = lr_self();
    if (!self)
        return;
    lr_race_activate();
    lr_race_acquire(self, (uintptr_t)obj);
}

LR_API void lockrace_flush(void)
{
    lr_thread *self = lr_self();
    if (self)
        lr_race_flush();
}

LR_API unsigned long long lockrace_lost_updates(void)
{
    return lr_race_lost_updates();
}
