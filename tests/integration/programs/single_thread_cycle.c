/* single_thread_cycle (buggy): the main thread alone takes lock_a -> lock_b and
 * later lock_b -> lock_a. No hang is possible with one thread, but two threads
 * on these paths can deadlock. Expected: one cycle of 2, made by one thread. */
#include <pthread.h>
#include <stdio.h>

pthread_mutex_t lock_a = PTHREAD_MUTEX_INITIALIZER;
pthread_mutex_t lock_b = PTHREAD_MUTEX_INITIALIZER;

static void a_then_b(void)
{
    pthread_mutex_lock(&lock_a);
    pthread_mutex_lock(&lock_b);
    pthread_mutex_unlock(&lock_b);
    pthread_mutex_unlock(&lock_a);
}

static void b_then_a(void)
{
    pthread_mutex_lock(&lock_b);
    pthread_mutex_lock(&lock_a);
    pthread_mutex_unlock(&lock_a);
    pthread_mutex_unlock(&lock_b);
}

int main(void)
{
    a_then_b();
    b_then_a();
    printf("single_thread_cycle: main took a->b, then b->a\n");
    return 0;
}
