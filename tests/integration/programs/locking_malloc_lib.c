/* A malloc that takes a pthread mutex, preloaded after lockrace, as
 * jemalloc is for redis: lockrace's first wrapper call resolves the real
 * functions, which may call malloc, which locks the mutex through
 * lockrace's wrapper again before anything is resolved. */
#include <pthread.h>
#include <stddef.h>

extern void *__libc_malloc(size_t);
static pthread_mutex_t malloc_lock = PTHREAD_MUTEX_INITIALIZER;

void *malloc(size_t n)
{
    pthread_mutex_lock(&malloc_lock);
    void *p = __libc_malloc(n);
    pthread_mutex_unlock(&malloc_lock);
    return p;
}
