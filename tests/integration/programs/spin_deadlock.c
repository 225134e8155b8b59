/* spin_deadlock (buggy): a real ABBA deadlock through spinlocks: both
 * threads spin forever. Natively it burns two CPUs forever. */
#include <pthread.h>
#include <stdio.h>

pthread_spinlock_t spin_x, spin_y;
static pthread_barrier_t both_hold;

static void *first(void *arg)
{
    (void)arg;
    pthread_spin_lock(&spin_x);
    pthread_barrier_wait(&both_hold);
    pthread_spin_lock(&spin_y);
    return NULL;
}

static void *second(void *arg)
{
    (void)arg;
    pthread_spin_lock(&spin_y);
    pthread_barrier_wait(&both_hold);
    pthread_spin_lock(&spin_x);
    return NULL;
}

int main(void)
{
    pthread_spin_init(&spin_x, PTHREAD_PROCESS_PRIVATE);
    pthread_spin_init(&spin_y, PTHREAD_PROCESS_PRIVATE);
    pthread_barrier_init(&both_hold, NULL, 2);
    pthread_t a, b;
    pthread_create(&a, NULL, first, NULL);
    pthread_create(&b, NULL, second, NULL);
    pthread_join(a, NULL);
    pthread_join(b, NULL);
    puts("spin_deadlock: finished (it should not have)");
    return 0;
}
