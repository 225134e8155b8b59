/* Publishing data through a flag, done right: the producer fills the data,
 * then sets the flag, both under a mutex; the consumer polls the flag under
 * the same mutex and reads the data once it is set. The mutex hands the
 * data over (the producer's unlock happens before the consumer's lock), so
 * the data is read outside the lock without a race. Clean. */
#include "lockrace.h"

#include <pthread.h>
#include <sched.h>
#include <stdio.h>

static pthread_mutex_t flag_lock = PTHREAD_MUTEX_INITIALIZER;
static int ready;
static int data[4];

static void *producer(void *arg)
{
    (void)arg;
    for (int i = 0; i < 4; i++) {
        data[i] = (i + 1) * 10;
        LOCKRACE_WRITE(data[i]);
    }
    pthread_mutex_lock(&flag_lock);
    ready = 1;
    LOCKRACE_WRITE(ready);
    pthread_mutex_unlock(&flag_lock);
    return NULL;
}

static void *consumer(void *arg)
{
    int *sum = arg;
    for (;;) {
        pthread_mutex_lock(&flag_lock);
        int r = ready;
        LOCKRACE_READ(ready);
        pthread_mutex_unlock(&flag_lock);
        if (r)
            break;
        sched_yield();
    }
    for (int i = 0; i < 4; i++) {
        *sum += data[i];
        LOCKRACE_READ(data[i]);
    }
    return NULL;
}

int main(void)
{
    LOCKRACE_WATCH(ready, "ready");
    LOCKRACE_WATCH(data, "data");
    int sum = 0;
    pthread_t p, c;
    pthread_create(&c, NULL, consumer, &sum);
    pthread_create(&p, NULL, producer, NULL);
    pthread_join(p, NULL);
    pthread_join(c, NULL);
    printf("consumer read %d (expected 100)\n", sum);
    return sum == 100 ? 0 : 1;
}
