/* inversion_three (buggy): three threads take lock_a -> lock_b, lock_b -> lock_c
 * and lock_c -> lock_a. They run one after another so this run cannot hang.
 * Expected: one lock-order inversion, a cycle of 3. With "two-threads", one
 * thread takes a -> b then b -> c, another c -> a: these two cannot close
 * the cycle (the first would have to be in two places), a third could. */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdio.h>
#include <string.h>

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

static void *take_two_pairs(void *arg)
{
    struct pair *p = arg;
    pthread_setname_np(pthread_self(), "take-ab-bc");
    for (int i = 0; i < 2; i++) {
        pthread_mutex_lock(p[i].first);
        pthread_mutex_lock(p[i].second);
        pthread_mutex_unlock(p[i].second);
        pthread_mutex_unlock(p[i].first);
    }
    return NULL;
}

int main(int argc, char **argv)
{
    struct pair pairs[] = {
        { "take-ab", &lock_a, &lock_b },
        { "take-bc", &lock_b, &lock_c },
        { "take-ca", &lock_c, &lock_a },
    };

    if (argc > 1 && strcmp(argv[1], "two-threads") == 0) {
        pthread_t t;
        pthread_create(&t, NULL, take_two_pairs, pairs);
        pthread_join(t, NULL);
        pthread_create(&t, NULL, take_pair, &pairs[2]);
        pthread_join(t, NULL);
        printf("inversion_three: a->b and b->c in one thread, c->a in another\n");
        return 0;
    }
    for (int i = 0; i < 3; i++) {
        pthread_t t;
        pthread_create(&t, NULL, take_pair, &pairs[i]);
        pthread_join(t, NULL);
    }
    printf("inversion_three: a->b, b->c, c->a\n");
    return 0;
}
