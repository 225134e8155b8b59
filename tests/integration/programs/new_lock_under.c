/* new_lock_under: a cache that makes an entry, and locks the entry's new
 * lock under the cache lock until the entry is built; once built, it takes
 * the cache lock again, still holding the entry's lock, to mark the entry
 * valid and let both go (ghostscript's ICC link cache, base/gsicc_cache.c).
 * A reader that finds an entry not yet valid lets the cache lock go before
 * it waits on the entry's lock. This cannot deadlock: the entry's lock is
 * taken under the cache lock only on its first acquisition, a moment after
 * it was made, when nobody else can hold it.
 *
 *     new_lock_under            two builders, one reader: no report
 *     new_lock_under existing   one thread; the entry's lock is made before
 *                               the cache lock is taken, so taking it under
 *                               the cache lock can wait: an inversion */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ENTRIES 50

struct entry {
    pthread_mutex_t lock;
    int key, value, valid;
    struct entry *next;
};

static pthread_mutex_t cache_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_mutex_t entry_lock;     /* the existing variant's entry lock */
static struct entry *head;
static volatile int done;

static struct entry *build(int key)
{
    struct entry *e = calloc(1, sizeof *e);
    pthread_mutex_lock(&cache_lock);
    pthread_mutex_init(&e->lock, NULL);
    pthread_mutex_lock(&e->lock);          /* kept from use until built */
    e->key = key;
    e->next = head;
    head = e;
    pthread_mutex_unlock(&cache_lock);

    e->value = key * 2;                     /* built outside the cache lock */

    pthread_mutex_lock(&cache_lock);
    e->valid = 1;
    pthread_mutex_unlock(&e->lock);
    pthread_mutex_unlock(&cache_lock);
    return e;
}

static int lookup(int key)
{
    pthread_mutex_lock(&cache_lock);
    struct entry *e = head;
    while (e && e->key != key)
        e = e->next;
    if (!e) {
        pthread_mutex_unlock(&cache_lock);
        return -1;
    }
    if (!e->valid) {                        /* wait for the builder, without the cache lock */
        pthread_mutex_unlock(&cache_lock);
        pthread_mutex_lock(&e->lock);
        int v = e->value;
        pthread_mutex_unlock(&e->lock);
        return v;
    }
    int v = e->value;
    pthread_mutex_unlock(&cache_lock);
    return v;
}

static void *builder(void *arg)
{
    long first = (long)arg;
    for (int i = 0; i < ENTRIES; i++)
        build((int)first + i);
    return NULL;
}

static void *reader(void *arg)
{
    (void)arg;
    long found = 0;
    while (!done)
        for (int key = 0; key < 2 * ENTRIES; key++)
            found += lookup(key) >= 0;
    return (void *)found;
}

int main(int argc, char **argv)
{
    if (argc > 1 && strcmp(argv[1], "existing") == 0) {
        pthread_mutex_init(&entry_lock, NULL);
        pthread_mutex_lock(&cache_lock);
        pthread_mutex_lock(&entry_lock);
        pthread_mutex_unlock(&cache_lock);
        pthread_mutex_lock(&cache_lock);
        pthread_mutex_unlock(&entry_lock);
        pthread_mutex_unlock(&cache_lock);
        puts("new_lock_under: existing");
        return 0;
    }
    pthread_t b[2], r;
    pthread_create(&r, NULL, reader, NULL);
    for (long i = 0; i < 2; i++)
        pthread_create(&b[i], NULL, builder, (void *)(i * ENTRIES));
    for (int i = 0; i < 2; i++)
        pthread_join(b[i], NULL);
    done = 1;
    pthread_join(r, NULL);
    long sum = 0;
    for (struct entry *e = head; e; e = e->next)
        sum += e->valid ? e->value : 0;
    printf("new_lock_under: %ld\n", sum);
    return 0;
}
