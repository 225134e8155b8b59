/* linked: built with liblockrace.so as a debug library (lockrace::lockrace,
 * or pkg-config's flags), so lockrace checks it with no launcher and no
 * LD_PRELOAD. It names its locks through lockrace.h, then takes them in
 * both orders on one thread: a cycle that deadlocks once two threads run
 * these two paths. */
#include <lockrace.h>
#include <pthread.h>
#include <stdio.h>

static pthread_mutex_t first = PTHREAD_MUTEX_INITIALIZER;
static pthread_mutex_t second = PTHREAD_MUTEX_INITIALIZER;

static void both(pthread_mutex_t *outer, pthread_mutex_t *inner)
{
    pthread_mutex_lock(outer);
    pthread_mutex_lock(inner);
    pthread_mutex_unlock(inner);
    pthread_mutex_unlock(outer);
}

int main(void)
{
    lockrace_lock_name(&first, "queue_lock");
    lockrace_lock_name(&second, "stats_lock");
    both(&first, &second);
    both(&second, &first);
    printf("linked: queue_lock then stats_lock, stats_lock then queue_lock\n");
    return 0;
}
