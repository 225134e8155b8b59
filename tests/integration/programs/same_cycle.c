/* same_cycle: one bug, met four times. Each round makes two accounts on
 * the heap (often at the addresses of the round before), and two threads
 * take their mutexes in opposite orders, ab() and ba(), one after the
 * other; then they are destroyed and freed. The cycle is the same code
 * paths every round, on new locks: one report, not one per round. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

struct acct {
    pthread_mutex_t m;
    long bal;
};

static struct acct *A, *B;

static void ab(void)
{
    pthread_mutex_lock(&A->m);
    pthread_mutex_lock(&B->m);
    A->bal--;
    B->bal++;
    pthread_mutex_unlock(&B->m);
    pthread_mutex_unlock(&A->m);
}

static void ba(void)
{
    pthread_mutex_lock(&B->m);
    pthread_mutex_lock(&A->m);
    A->bal++;
    B->bal--;
    pthread_mutex_unlock(&A->m);
    pthread_mutex_unlock(&B->m);
}

static void *run(void *f)
{
    ((void (*)(void))f)();
    return NULL;
}

int main(void)
{
    for (int i = 0; i < 4; i++) {
        A = malloc(sizeof *A);
        B = malloc(sizeof *B);
        pthread_mutex_init(&A->m, NULL);
        pthread_mutex_init(&B->m, NULL);
        pthread_t t;
        pthread_create(&t, NULL, run, (void *)((i & 1) ? ba : ab));
        pthread_join(t, NULL);
        pthread_create(&t, NULL, run, (void *)((i & 1) ? ab : ba));
        pthread_join(t, NULL);
        pthread_mutex_destroy(&A->m);
        pthread_mutex_destroy(&B->m);
        free(A);
        free(B);
    }
    puts("ok");
    return 0;
}
