/* Reports whose sentences once said more than happened, or said it in the
 * wrong order. Nothing is annotated; run with watch=hits,seen.
 *
 * locked-one-side: one thread increments `hits` holding hits_lock the whole
 * time, the other with no lock: a possible lost update, and no lock was
 * released between any read and its write.
 * read-then-increment: the first thread reads `seen`, then lets the second
 * go through a flag lockrace does not see (a relaxed atomic), which then
 * increments `seen`: a data race, the read first and the write after. */
#include <pthread.h>
#include <stdio.h>
#include <string.h>

long hits;
long seen;
static int go;                  /* not watched: no order lockrace knows of */
static pthread_mutex_t hits_lock = PTHREAD_MUTEX_INITIALIZER;

#define ROUNDS 20000

static void *locked_side(void *arg)
{
    (void)arg;
    for (int i = 0; i < ROUNDS; i++) {
        pthread_mutex_lock(&hits_lock);
        hits++;
        pthread_mutex_unlock(&hits_lock);
    }
    return NULL;
}

static void *unlocked_side(void *arg)
{
    (void)arg;
    for (int i = 0; i < ROUNDS; i++)
        hits++;
    return NULL;
}

static void *reader(void *arg)
{
    (void)arg;
    long v = *(volatile long *)&seen;
    __atomic_store_n(&go, 1, __ATOMIC_RELAXED);
    return (void *)v;
}

static void *incrementer(void *arg)
{
    (void)arg;
    while (!__atomic_load_n(&go, __ATOMIC_RELAXED))
        ;
    seen++;
    return NULL;
}

int main(int argc, char **argv)
{
    int locked = argc > 1 && !strcmp(argv[1], "locked-one-side");
    pthread_t a, b;
    pthread_create(&a, NULL, locked ? locked_side : reader, NULL);
    pthread_create(&b, NULL, locked ? unlocked_side : incrementer, NULL);
    pthread_join(a, NULL);
    pthread_join(b, NULL);
    printf("hits %ld seen %ld\n", hits, seen);
    return 0;
}
