/* many_locks (clean): 200000 heap mutexes, each taken under one outer lock
 * (200000 edges out of it), then walked hand-over-hand (199999 more edges
 * in one long consistent chain), then all destroyed and freed. No cycle; the
 * point is that lockrace has no limit that silently stops it watching, and
 * that a long chain costs time in proportion to its length. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

#define N 200000

static pthread_mutex_t outer = PTHREAD_MUTEX_INITIALIZER;

int main(void)
{
    pthread_mutex_t *m = malloc(N * sizeof *m);
    if (!m)
        return 1;
    for (int i = 0; i < N; i++)
        pthread_mutex_init(&m[i], NULL);
    for (int round = 0; round < 2; round++) {
        pthread_mutex_lock(&outer);
        for (int i = 0; i < N; i++) {
            pthread_mutex_lock(&m[i]);
            pthread_mutex_unlock(&m[i]);
        }
        pthread_mutex_unlock(&outer);
        pthread_mutex_lock(&m[0]);
        for (int i = 1; i < N; i++) {
            pthread_mutex_lock(&m[i]);
            pthread_mutex_unlock(&m[i - 1]);
        }
        pthread_mutex_unlock(&m[N - 1]);
    }
    for (int i = 0; i < N; i++)
        pthread_mutex_destroy(&m[i]);
    free(m);
    puts("many_locks: done");
    return 0;
}
