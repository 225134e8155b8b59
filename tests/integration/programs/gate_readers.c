/* gate_readers: lock_a and lock_b taken in both orders, each time under
 * the rwlock outer. Held for reading by both threads, outer excludes
 * nobody: the two threads can be inside it together and deadlock on
 * lock_a and lock_b (one inversion). Held for writing by one of them, it
 * keeps them apart: no report.
 *
 *     gate_readers read | write */
#include <pthread.h>
#include <stdio.h>
#include <string.h>

static pthread_rwlock_t outer = PTHREAD_RWLOCK_INITIALIZER;
static pthread_mutex_t lock_a = PTHREAD_MUTEX_INITIALIZER;
static pthread_mutex_t lock_b = PTHREAD_MUTEX_INITIALIZER;
static int writer;

static void *forward(void *arg)
{
    (void)arg;
    pthread_rwlock_rdlock(&outer);
    pthread_mutex_lock(&lock_a);
    pthread_mutex_lock(&lock_b);
    pthread_mutex_unlock(&lock_b);
    pthread_mutex_unlock(&lock_a);
    pthread_rwlock_unlock(&outer);
    return NULL;
}

static void *backward(void *arg)
{
    (void)arg;
    if (writer)
        pthread_rwlock_wrlock(&outer);
    else
        pthread_rwlock_rdlock(&outer);
    pthread_mutex_lock(&lock_b);
    pthread_mutex_lock(&lock_a);
    pthread_mutex_unlock(&lock_a);
    pthread_mutex_unlock(&lock_b);
    pthread_rwlock_unlock(&outer);
    return NULL;
}

int main(int argc, char **argv)
{
    writer = argc > 1 && !strcmp(argv[1], "write");
    pthread_t t;
    pthread_create(&t, NULL, forward, NULL);
    pthread_join(t, NULL);
    pthread_create(&t, NULL, backward, NULL);
    pthread_join(t, NULL);
    puts("done");
    return 0;
}
