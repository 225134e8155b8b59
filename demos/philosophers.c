/* philosophers: dining philosophers with the naive order. Each philosopher
 * takes its left fork then its right one, so the five forks form a cycle of 5.
 * They eat one at a time here, so this run never hangs. */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdio.h>

#define N 5

struct fork {
    pthread_mutex_t lock;
    int uses;
} forks[N];

static void eat(int i)
{
    struct fork *left = &forks[i], *right = &forks[(i + 1) % N];

    pthread_mutex_lock(&left->lock);
    pthread_mutex_lock(&right->lock);
    left->uses++;
    right->uses++;
    pthread_mutex_unlock(&right->lock);
    pthread_mutex_unlock(&left->lock);
}

static void *philosopher(void *arg)
{
    int i = (int)(long)arg;
    char name[16];

    snprintf(name, sizeof name, "philosopher-%d", i);
    pthread_setname_np(pthread_self(), name);
    eat(i);
    return NULL;
}

int main(void)
{
    for (int i = 0; i < N; i++)
        pthread_mutex_init(&forks[i].lock, NULL);

    /* One philosopher at a time: the cycle is in the lock order, not in this run. */
    for (int i = 0; i < N; i++) {
        pthread_t t;
        pthread_create(&t, NULL, philosopher, (void *)(long)i);
        pthread_join(t, NULL);
    }

    printf("philosophers: all %d ate; fork uses:", N);
    for (int i = 0; i < N; i++)
        printf(" %d", forks[i].uses);
    printf("\n");

    for (int i = 0; i < N; i++)
        pthread_mutex_destroy(&forks[i].lock);
    return 0;
}
