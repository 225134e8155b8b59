/* ordered: two threads take ledger then audit, always in that order: clean.
 * With --fail it exits with status 1 after the same work, as a failing
 * test does. */
#include <pthread.h>
#include <stdio.h>
#include <string.h>

static pthread_mutex_t ledger = PTHREAD_MUTEX_INITIALIZER;
static pthread_mutex_t audit = PTHREAD_MUTEX_INITIALIZER;
static long entries;

static void *post(void *arg)
{
    (void)arg;
    for (int i = 0; i < 1000; i++) {
        pthread_mutex_lock(&ledger);
        pthread_mutex_lock(&audit);
        entries++;
        pthread_mutex_unlock(&audit);
        pthread_mutex_unlock(&ledger);
    }
    return NULL;
}

int main(int argc, char **argv)
{
    pthread_t t[2];

    for (int i = 0; i < 2; i++)
        pthread_create(&t[i], NULL, post, NULL);
    for (int i = 0; i < 2; i++)
        pthread_join(t[i], NULL);
    printf("ordered: %ld entries\n", entries);
    if (argc > 1 && !strcmp(argv[1], "--fail")) {
        printf("ordered: failing as asked\n");
        return 1;
    }
    return 0;
}
