/* lock_both: a shared library that takes two locks, outer then inner.
 * linked.c takes its locks only through it. */
#include <pthread.h>

void lock_both(pthread_mutex_t *outer, pthread_mutex_t *inner)
{
    pthread_mutex_lock(outer);
    pthread_mutex_lock(inner);
    pthread_mutex_unlock(inner);
    pthread_mutex_unlock(outer);
}
