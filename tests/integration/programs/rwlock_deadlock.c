/* rwlock_deadlock (buggy): a real deadlock through rwlocks. Each thread
 * holds one rwlock for reading and then wants the other for writing: each
 * writer waits for the other's reader. A third thread then read-locks and
 * write-locks one rwlock itself (a deadlock of one thread), but the process
 * is ended before. Natively it hangs forever. */
#include <pthread.h>
#include <stdio.h>

pthread_rwlock_t left_lock = PTHREAD_RWLOCK_INITIALIZER;
pthread_rwlock_t right_lock = PTHREAD_RWLOCK_INITIALIZER;
static pthread_barrier_t both_read;

static void *left(void *arg)
{
    (void)arg;
    pthread_rwlock_rdlock(&left_lock);
    pthread_barrier_wait(&both_read);
    pthread_rwlock_wrlock(&right_lock);
    return NULL;
}

static void *right(void *arg)
{
    (void)arg;
    pthread_rwlock_rdlock(&right_lock);
    pthread_barrier_wait(&both_read);
    pthread_rwlock_wrlock(&left_lock);
    return NULL;
}

int main(void)
{
    pthread_t a, b;
    pthread_barrier_init(&both_read, NULL, 2);
    pthread_create(&a, NULL, left, NULL);
    pthread_create(&b, NULL, right, NULL);
    pthread_join(a, NULL);
    pthread_join(b, NULL);
    puts("rwlock_deadlock: finished (it should not have)");
    return 0;
}
