/* inversion_three (buggy): three threads take lock_a -> lock_b, lock_b -> lock_c
 * and lock_c -> lock_a. They run one after another so this run cannot hang.
 * Expected: one lock-order inversion, a cycle of 3. */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdio.h>

pthread_mutex_t lock_a = PTHREAD_MUTEX_INITIALIZER;
pthread_mutex_t lock_b = PTHREAD_MUTEX_INITIALIZER;
pthread_mutex_t lock_c = PTHREAD_MUTEX_INITIALIZER;

struct pair {
    const char *name;
    pthread_mutex_t *first, *second;
};

static void *take_pair(void *arg)
{
    struct pair *p = arg;

    pthread_setname_np(pthread_self(), p->name);
    pthread_mutex_lock(p->first);
    pthread_mutex_lock(p->second);
    pthread_mutex_unlock(p->second);
    pthread_mutex_unlock(p->first);
    return NULL;
}

int main(void)
{
    struct pair pairs[] = {
        { "take-ab", &lock_a, &lock_b },
        { "take-bc", &lock_b, &lock_c },
        { "take-ca", &lock_c, &lock_a },
    };

    for (int i = 0; i < 3; i++) {
        pthread_t t;
        pthread_create(&t, NULL, take_pair, &pairs[i]);
        pthread_join(t, NULL);
    }
    printf("inversion_three: a->b, b->c, c->a\n");
    return 0;
}
