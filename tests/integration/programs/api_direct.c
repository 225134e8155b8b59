/* Every public function of lockrace.h called directly, not through the
 * LOCKRACE_* macros, and through a function pointer: the same results with
 * lockrace (preloaded or linked) and without it, where they do nothing
 * (lockrace_load and lockrace_store make the access). Built as C, as C++
 * (api_direct_cxx.cpp) and linked with liblockrace.so (api_direct_linked). */
#include "lockrace.h"

#include <pthread.h>
#include <stdio.h>

static long tally;
static int flag;
static unsigned char byte;
static pthread_mutex_t tally_lock = PTHREAD_MUTEX_INITIALIZER;

int main(void)
{
    lockrace_lock_name(&tally_lock, "tally_lock");
    lockrace_thread_name("api-main");
    int watched = lockrace_watch(&tally, sizeof tally, "tally");
    pthread_mutex_lock(&tally_lock);
    tally = 1;
    lockrace_write(&tally, sizeof tally);
    long seen = tally;
    lockrace_read(&tally, sizeof tally);
    pthread_mutex_unlock(&tally_lock);
    lockrace_atomic_write(&flag, sizeof flag);
    lockrace_atomic_read(&flag, sizeof flag);
    lockrace_atomic_rmw(&flag, sizeof flag);
    lockrace_store(&tally, sizeof tally, 41);
    unsigned long long loaded = lockrace_load(&tally, sizeof tally);
    lockrace_store(&byte, sizeof byte, 7);
    unsigned long long loaded_byte = lockrace_load(&byte, sizeof byte);
    lockrace_happens_before(&flag);
    lockrace_happens_after(&flag);
    lockrace_flush();
    unsigned long reports = lockrace_report_count();
    unsigned long long lost = lockrace_lost_updates();
    lockrace_unwatch(&tally, sizeof tally);
    int (*watch)(const volatile void *, size_t, const char *) = lockrace_watch;
    unsigned long long (*load)(const volatile void *, size_t) = lockrace_load;
    int again = watch(&flag, sizeof flag, "flag");
    unsigned long long loaded_again = load(&tally, sizeof tally);
    printf("watch %d %d seen %ld load %llu %llu %llu byte %u reports %lu lost %llu\n", watched, again, seen,
           loaded, loaded_again, loaded_byte, (unsigned)byte, reports, lost);
    printf("running %d\n", lockrace_running());
    return 0;
}
