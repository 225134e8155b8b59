/* A library whose constructor locks mutexes: it runs before lockrace's own
 * constructor (a DT_NEEDED library is initialised before the preload). */
#include <pthread.h>

pthread_mutex_t early_outer = PTHREAD_MUTEX_INITIALIZER;
pthread_mutex_t early_inner = PTHREAD_MUTEX_INITIALIZER;

__attribute__((constructor)) static void early_init(void)
{
    pthread_mutex_lock(&early_outer);
    pthread_mutex_lock(&early_inner);
    pthread_mutex_unlock(&early_inner);
    pthread_mutex_unlock(&early_outer);
}
