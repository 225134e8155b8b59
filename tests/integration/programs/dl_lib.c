/* A library loaded and unloaded with dlopen/dlclose by dl_locks: static
 * mutexes that come back at the same address each time it is loaded, and
 * one made by its constructor and destroyed by its destructor. */
#include <pthread.h>
#include <stdlib.h>

pthread_mutex_t dl_first = PTHREAD_MUTEX_INITIALIZER;
pthread_mutex_t dl_second = PTHREAD_MUTEX_INITIALIZER;
static pthread_mutex_t *made;

__attribute__((constructor)) static void dl_init(void)
{
    made = malloc(sizeof *made);
    pthread_mutex_init(made, NULL);
    pthread_mutex_lock(made);
    pthread_mutex_unlock(made);
}

__attribute__((destructor)) static void dl_fini(void)
{
    pthread_mutex_destroy(made);
    free(made);
}

void dl_forward(void)
{
    pthread_mutex_lock(made);
    pthread_mutex_unlock(made);
    pthread_mutex_lock(&dl_first);
    pthread_mutex_lock(&dl_second);
    pthread_mutex_unlock(&dl_second);
    pthread_mutex_unlock(&dl_first);
}

void dl_backward(void)
{
    pthread_mutex_lock(&dl_second);
    pthread_mutex_lock(&dl_first);
    pthread_mutex_unlock(&dl_first);
    pthread_mutex_unlock(&dl_second);
}
