/* In liblockrace.so built with LOCKRACE_SANITIZE only: the sanitizer
 * defaults it needs wherever it runs (under the launcher, a plain
 * LD_PRELOAD, or linked into a program), read by the sanitizer runtimes as
 * they start, before any of lockrace's code has run. ASAN_OPTIONS and
 * UBSAN_OPTIONS in the environment still override them. */
#define LR_SANITIZER_HOOK __attribute__((visibility("default"), no_sanitize_address, no_sanitize_undefined))

const char *__asan_default_options(void);
const char *__ubsan_default_options(void);

/* verify_asan_link_order=0: liblockrace.so comes first in LD_PRELOAD, the
 * ASan runtime second. The other order puts ASan's pthread_create and
 * pthread_join interceptors in front of lockrace's wrappers: the wrappers
 * would then see ASan's frames as the caller's and ASan's thread start
 * routine in place of the program's. ASan still replaces malloc, as it is
 * before libc.
 * detect_leaks=0: ASan's malloc serves the whole process, so LeakSanitizer
 * would report what the program under test leaks (bash, sort and python3
 * all do), not lockrace. lockrace's own lasting memory is mmap'ed (arena.c),
 * which LeakSanitizer does not track. The unit tests and the launcher, which
 * run lockrace's code alone, keep ASan's default: leaks are reported.
 * handle_segv=0, handle_abort=0 and the like: ASan's handlers for those
 * signals would turn the program's own crash into an ASan report and exit
 * status 1, where the program alone dies by the signal (crash_after_report
 * checks that lockrace leaves that alone). A fault in lockrace's own code
 * is still a crash that fails its test. */
LR_SANITIZER_HOOK const char *__asan_default_options(void)
{
    return "verify_asan_link_order=0:detect_leaks=0:handle_segv=0:handle_sigbus=0:handle_abort=0:"
           "handle_sigfpe=0:handle_sigill=0";
}

LR_SANITIZER_HOOK const char *__ubsan_default_options(void)
{
    return "print_stacktrace=1";
}
