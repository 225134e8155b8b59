/* exit_release: a thread that ends holding a lock it lets go on the way
 * out: in a cleanup handler run by pthread_exit (the POSIX idiom), or in a
 * pthread key destructor. Neither ends holding it: no report, and the
 * main thread takes the lock afterwards as natively. `keep`: the thread
 * really ends holding it (the true report stays).
 *
 *     exit_release cleanup | key | keep */
#include <pthread.h>
#include <stdio.h>
#include <string.h>

static pthread_mutex_t m = PTHREAD_MUTEX_INITIALIZER;
static pthread_key_t key;
static const char *mode;

static void let_go(void *lock)
{
    pthread_mutex_unlock(lock);
}

static void *worker(void *arg)
{
    (void)arg;
    pthread_mutex_lock(&m);
    if (!strcmp(mode, "key")) {
        pthread_setspecific(key, &m);
        return NULL;
    }
    if (!strcmp(mode, "keep"))
        return NULL;
    pthread_cleanup_push(let_go, &m);
    pthread_exit(NULL);
    pthread_cleanup_pop(0);
    return NULL;
}

int main(int argc, char **argv)
{
    mode = argc > 1 ? argv[1] : "cleanup";
    pthread_key_create(&key, let_go);
    pthread_t t;
    pthread_create(&t, NULL, worker, NULL);
    pthread_join(t, NULL);
    if (strcmp(mode, "keep")) {
        pthread_mutex_lock(&m);
        pthread_mutex_unlock(&m);
    }
    puts("ok");
    return 0;
}
