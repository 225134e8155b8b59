/* C++'s guards of function-local statics: __cxa_guard_acquire, _release
 * and _abort (the Itanium C++ ABI's; libstdc++ implements them). The
 * thread that initialises a static holds its guard until it is done, and
 * another thread that meets the static meanwhile waits for it, in the
 * kernel, on the guard's first word. lockrace takes the guard for a lock
 * (LR_GUARD): an initialiser that waits for a lock whose holder waits for
 * the static is a deadlock like any other, and the watchdog finds the
 * waiter from the kernel's side. The compiler calls these only while the
 * static is not initialised yet (it tests the guard's first byte inline),
 * so a static costs nothing once made. The real functions are looked up
 * when first needed, not with the others: a C program that loads a C++
 * library later has no libstdc++ when lockrace starts. */
#include "real.h"
#include "runtime/runtime.h"

#include <dlfcn.h>
#include <errno.h>
#include <stdint.h>

#define LR_CALLER __builtin_return_address(0)

typedef int acquire_fn(uint64_t *);
typedef void release_fn(uint64_t *);

static void *next_function(void **cache, const char *name)
{
    void *f = __atomic_load_n(cache, __ATOMIC_ACQUIRE);
    if (!f) {
        f = dlsym(RTLD_NEXT, name);
        __atomic_store_n(cache, f, __ATOMIC_RELEASE);
    }
    return f;
}

/* With no C++ runtime behind lockrace (a call no program can make without
 * one), the ABI's meaning, unguarded: 1 while the first byte says "not
 * initialised". */
LR_WRAPPER int __cxa_guard_acquire(uint64_t *g)
{
    static void *real;
    acquire_fn *f = (acquire_fn *)next_function(&real, "__cxa_guard_acquire");
    if (!f)
        return !__atomic_load_n((const char *)g, __ATOMIC_ACQUIRE);
    if (__atomic_load_n((const char *)g, __ATOMIC_ACQUIRE)) {
        int rc = f(g);
        lr_guard_passed(lr_self(), g);
        return rc;
    }
    lr_thread *self = lr_self();
    lr_acquisition a;
    lr_sync_before(self, g, LR_GUARD, LR_BLOCKING, 0, LR_CALLER, &a);
    int rc = f(g);
    int saved = errno;
    lr_sync_after(self, &a, rc == 1 ? 0 : EBUSY);     /* 1: this thread initialises it */
    if (rc == 0)
        lr_guard_passed(self, g);       /* another thread made it meanwhile */
    errno = saved;
    return rc;
}

/* The initialiser lets the guard go: done (made) or by an exception. */
static void let_go(uint64_t *g, void **cache, const char *name, int made)
{
    release_fn *f = (release_fn *)next_function(cache, name);
    lr_sync_release(lr_self(), g);
    if (f)
        f(g);
    else if (made)
        __atomic_store_n((char *)g, 1, __ATOMIC_RELEASE);
}

LR_WRAPPER void __cxa_guard_release(uint64_t *g)
{
    static void *real;
    let_go(g, &real, "__cxa_guard_release", 1);
}

LR_WRAPPER void __cxa_guard_abort(uint64_t *g)
{
    static void *real;
    let_go(g, &real, "__cxa_guard_abort", 0);
}
