/* Resolving the real functions. Called from the runtime's bootstrap before
 * anything else, and from the wrappers themselves when one is called before
 * the bootstrap finished (another library's constructor, another thread):
 * a look-up is idempotent and allocation-free on glibc 2.36 when the symbol
 * exists, so racing resolvers store the same pointers. */
#include "real.h"
#include "../src/runtime.h"
#include "../src/util.h"

#include <dlfcn.h>
#include <stdio.h>
#include <sys/syscall.h>
#include <unistd.h>

lr_real_table lr_real_fns;
int lr_real_resolved;

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
    if (__atomic_load_n(&lr_real_resolved, __ATOMIC_ACQUIRE))
        return;
#define RESOLVE(name, ret, args, required) \
    lr_real_fns.name = (ret(*) args)must(dlsym(RTLD_NEXT, #name), #name, required);
#define RESOLVE_COND(name, ret, args, required) \
    lr_real_fns.name = (ret(*) args)must(cond_symbol(#name), #name, required);
    LR_COND_FUNCTIONS(RESOLVE_COND)
    LR_REAL_FUNCTIONS(RESOLVE)
#undef RESOLVE
#undef RESOLVE_COND
    __atomic_store_n(&lr_real_resolved, 1, __ATOMIC_RELEASE);
}
