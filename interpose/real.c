/* Resolving the real functions, from LR_REAL when a wrapper finds one
 * missing (the first wrapper call of the process, whichever it is). A
 * look-up is idempotent and allocation-free on glibc 2.36 when the symbol
 * exists, so racing resolvers store the same pointers; one that does not
 * exist mallocs its error message, which is why nothing looks up a
 * version a symbol does not have. */
#include "real.h"
#include "runtime/runtime.h"
#include "support/util.h"

#include <dlfcn.h>
#include <stdio.h>
#include <sys/syscall.h>
#include <unistd.h>

static int first_mutex_lock(pthread_mutex_t *m);
static int first_mutex_unlock(pthread_mutex_t *m);

/* The lock path's two start as functions that resolve the table first
 * (LR_REAL_SET); every other entry starts empty (LR_REAL). */
lr_real_table lr_real_fns = {
    .pthread_mutex_lock = first_mutex_lock,
    .pthread_mutex_unlock = first_mutex_unlock,
};
static int resolved;
/* this thread is resolving: a call back into it gets what is resolved so far */
static __thread int resolving __attribute__((tls_model("initial-exec")));

/* The condition-variable ABI that new programs bind to, per architecture
 * (the GLIBC_2.2.5 versions on x86-64 are an older, incompatible ABI). */
#if defined(__x86_64__)
#define COND_VERSION "GLIBC_2.3.2"
#elif defined(__aarch64__)
#define COND_VERSION "GLIBC_2.17"
#else
#define COND_VERSION NULL
#endif

static void *must(void *p, const char *name, int required)
{
    if (!p && required) {
        char msg[200];
        snprintf(msg, sizeof msg,
                 "lockrace: cannot find the real %s in the libraries after lockrace; is this glibc?\n",
                 name);
        lr_write_str(2, msg);
        syscall(SYS_exit_group, 2);     /* not _exit: that is a wrapper, and resolves */
    }
    return p;
}

static void *cond_symbol(const char *name)
{
    void *p = COND_VERSION ? dlvsym(RTLD_NEXT, name, COND_VERSION) : NULL;
    return p ? p : dlsym(RTLD_NEXT, name);
}

void lr_real_resolve(void)
{
    if (__atomic_load_n(&resolved, __ATOMIC_ACQUIRE) || resolving)
        return;
    resolving = 1;
    /* Stored as each is found, the mutex functions first (LR_REAL_FUNCTIONS
     * opens with them): a malloc that dlsym calls and that locks a mutex
     * finds the real functions it needs. */
#define RESOLVE(name, ret, args, required) \
    __atomic_store_n(&lr_real_fns.name, (ret(*) args)must(dlsym(RTLD_NEXT, #name), #name, required), \
                     __ATOMIC_RELEASE);
#define RESOLVE_COND(name, ret, args, required) \
    __atomic_store_n(&lr_real_fns.name, (ret(*) args)must(cond_symbol(#name), #name, required), \
                     __ATOMIC_RELEASE);
    LR_REAL_FUNCTIONS(RESOLVE)
    LR_COND_FUNCTIONS(RESOLVE_COND)
#undef RESOLVE
#undef RESOLVE_COND
    resolving = 0;
    __atomic_store_n(&resolved, 1, __ATOMIC_RELEASE);
}

/* A lock or unlock through LR_REAL_SET before the table is resolved. The
 * mutex functions are resolved first: only a call back from the first
 * look-up itself would find this function still there, and there is no
 * real function to call then (LR_REAL would call a null pointer). */
typedef int (*mutex_fn)(pthread_mutex_t *);

static int first_call(mutex_fn *entry, mutex_fn first, const char *name, pthread_mutex_t *m)
{
    lr_real_resolve();
    mutex_fn real = __atomic_load_n(entry, __ATOMIC_ACQUIRE);
    if (real == first)
        must(NULL, name, 1);
    return real(m);
}

static int first_mutex_lock(pthread_mutex_t *m)
{
    return first_call(&lr_real_fns.pthread_mutex_lock, first_mutex_lock, "pthread_mutex_lock", m);
}

static int first_mutex_unlock(pthread_mutex_t *m)
{
    return first_call(&lr_real_fns.pthread_mutex_unlock, first_mutex_unlock, "pthread_mutex_unlock", m);
}
