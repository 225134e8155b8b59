/* inlined (buggy): the function that takes the two locks is inlined into
 * both thread functions. The report must still name it, as an inlined
 * frame above its caller, with the caller's line of the call. */
#include <pthread.h>
#include <stdio.h>

pthread_mutex_t lock_x = PTHREAD_MUTEX_INITIALIZER;
pthread_mutex_t lock_y = PTHREAD_MUTEX_INITIALIZER;

static inline __attribute__((always_inline)) void lock_pair(pthread_mutex_t *first,
                                                            pthread_mutex_t *second)
{
    pthread_mutex_lock(first);
    pthread_mutex_lock(second);
    pthread_mutex_unlock(second);
    pthread_mutex_unlock(first);
}

static void *forward(void *arg)
{
    (void)arg;
    lock_pair(&lock_x, &lock_y);
    return NULL;
}

static void *backward(void *arg)
{
    (void)arg;
    lock_pair(&lock_y, &lock_x);
    return NULL;
}

int main(void)
{
    pthread_t t;
    pthread_create(&t, NULL, forward, NULL);
    pthread_join(t, NULL);
    pthread_create(&t, NULL, backward, NULL);
    pthread_join(t, NULL);
    puts("inlined: done");
    return 0;
}
