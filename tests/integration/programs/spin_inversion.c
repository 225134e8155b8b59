/* spin_inversion (buggy): two spinlocks taken in both orders by two threads
 * that run one after the other, and a spin_trylock back-off that is clean.
 * Expected: one cycle of 2 (spin_a, spin_b). */
#include <pthread.h>
#include <stdio.h>

pthread_spinlock_t spin_a, spin_b, spin_c;

static void *forward(void *arg)
{
    (void)arg;
    pthread_spin_lock(&spin_a);
    pthread_spin_lock(&spin_b);
    pthread_spin_unlock(&spin_b);
    pthread_spin_unlock(&spin_a);
    pthread_spin_lock(&spin_c);
    if (pthread_spin_trylock(&spin_a) == 0)     /* a trylock: no edge into spin_a */
        pthread_spin_unlock(&spin_a);
    pthread_spin_unlock(&spin_c);
    return NULL;
}

static void *backward(void *arg)
{
    (void)arg;
    pthread_spin_lock(&spin_b);
    pthread_spin_lock(&spin_a);
    pthread_spin_unlock(&spin_a);
    pthread_spin_unlock(&spin_b);
    pthread_spin_lock(&spin_a);
    pthread_spin_lock(&spin_c);
    pthread_spin_unlock(&spin_c);
    pthread_spin_unlock(&spin_a);
    return NULL;
}

int main(void)
{
    pthread_spin_init(&spin_a, PTHREAD_PROCESS_PRIVATE);
    pthread_spin_init(&spin_b, PTHREAD_PROCESS_PRIVATE);
    pthread_spin_init(&spin_c, PTHREAD_PROCESS_PRIVATE);
    pthread_t t;
    pthread_create(&t, NULL, forward, NULL);
    pthread_join(t, NULL);
    pthread_create(&t, NULL, backward, NULL);
    pthread_join(t, NULL);
    pthread_spin_destroy(&spin_c);
    pthread_spin_destroy(&spin_b);
    pthread_spin_destroy(&spin_a);
    puts("spin_inversion: done");
    return 0;
}
