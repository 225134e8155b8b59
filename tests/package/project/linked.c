/* linked: built with liblockrace.so as a debug library (lockrace::lockrace,
 * or pkg-config's flags), so lockrace checks it with no launcher and no
 * LD_PRELOAD. It names two locks through lockrace.h, then has a library
 * (lock_both.c) take them in both orders on one thread: a cycle that
 * deadlocks once two threads run these two paths.
 *
 * The program itself calls no lock function, and its lockrace.h calls are
 * weak references: a linker run with --as-needed (gcc's default on Debian)
 * would leave liblockrace.so out unless the package says otherwise. */
#include <lockrace.h>
#include <pthread.h>
#include <stdio.h>

void lock_both(pthread_mutex_t *outer, pthread_mutex_t *inner);

static pthread_mutex_t first = PTHREAD_MUTEX_INITIALIZER;
static pthread_mutex_t second = PTHREAD_MUTEX_INITIALIZER;

int main(void)
{
    lockrace_lock_name(&first, "queue_lock");
    lockrace_lock_name(&second, "stats_lock");
    lock_both(&first, &second);
    lock_both(&second, &first);
    printf("linked: queue_lock then stats_lock, stats_lock then queue_lock\n");
    return 0;
}
