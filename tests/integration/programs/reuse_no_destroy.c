/* Mutexes whose memory is reused without pthread_mutex_destroy: one on the
 * stack of a function called twice, one in a heap object freed and
 * allocated again (a std::mutex in a C++ object behaves so). Each life
 * takes the global lock in one order only, the next life in the other:
 * two different locks, no cycle. Clean. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

static pthread_mutex_t registry_lock = PTHREAD_MUTEX_INITIALIZER;

struct session {
    pthread_mutex_t lock;
    int id;
};

static void __attribute__((noinline)) with_local_lock(int registry_first)
{
    pthread_mutex_t local = PTHREAD_MUTEX_INITIALIZER;
    if (registry_first) {
        pthread_mutex_lock(&registry_lock);
        pthread_mutex_lock(&local);
    } else {
        pthread_mutex_lock(&local);
        pthread_mutex_lock(&registry_lock);
    }
    pthread_mutex_unlock(&registry_lock);
    pthread_mutex_unlock(&local);
}

static void use_session(int registry_first)
{
    struct session *s = malloc(sizeof *s);
    *s = (struct session){ PTHREAD_MUTEX_INITIALIZER, 1 };
    if (registry_first) {
        pthread_mutex_lock(&registry_lock);
        pthread_mutex_lock(&s->lock);
    } else {
        pthread_mutex_lock(&s->lock);
        pthread_mutex_lock(&registry_lock);
    }
    pthread_mutex_unlock(&registry_lock);
    pthread_mutex_unlock(&s->lock);
    free(s);                    /* no pthread_mutex_destroy */
}

int main(void)
{
    with_local_lock(0);
    with_local_lock(1);
    use_session(0);
    use_session(1);
    puts("done");
    return 0;
}
