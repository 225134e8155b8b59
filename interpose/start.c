/* lockrace starts with the library: the runtime, the main thread's state
 * and the watch engine's rewriting of the program's code. A library whose
 * constructor runs before this one and calls a wrapper starts the runtime
 * earlier, on that call (lr_self). */
#include "runtime/runtime.h"
#include "support/options.h"
#include "watch/watch.h"

__attribute__((constructor)) static void lockrace_constructor(void)
{
    lr_runtime_ready();
    lr_self();   /* the main thread gets T0 even when it locks nothing */
    /* here, not in the bootstrap: every library loaded at start is mapped
     * and relocated, and no thread of the program's runs yet */
    lr_watch_start(lr_opt.watch);
}
