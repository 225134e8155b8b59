/* Producer/consumer over a bounded queue with one mutex and two condition
 * variables, done right: every wait is in a loop on its predicate, and the
 * predicate changes under the mutex. The queue's slots are annotated for
 * lockrace's race engine (include/lockrace.h): the item a producer writes
 * is read by a consumer with the mutex and the conditions ordering them.
 * Clean: no report. */
#include "lockrace.h"

#include <pthread.h>
#include <stdio.h>

#define SLOTS 8
#define ITEMS 20000
#define CONSUMERS 2

static pthread_mutex_t queue_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t not_empty = PTHREAD_COND_INITIALIZER;
static pthread_cond_t not_full = PTHREAD_COND_INITIALIZER;
static long slots[SLOTS];
static int head, count, done;

static void *producer(void *arg)
{
    (void)arg;
    for (long i = 1; i <= ITEMS; i++) {
        pthread_mutex_lock(&queue_lock);
        while (count == SLOTS)
            pthread_cond_wait(&not_full, &queue_lock);
        int tail = (head + count) % SLOTS;
        slots[tail] = i;
        LOCKRACE_WRITE(slots[tail]);
        count++;
        pthread_cond_signal(&not_empty);
        pthread_mutex_unlock(&queue_lock);
    }
    pthread_mutex_lock(&queue_lock);
    done = 1;
    pthread_cond_broadcast(&not_empty);
    pthread_mutex_unlock(&queue_lock);
    return NULL;
}

static void *consumer(void *arg)
{
    long *sum = arg;
    for (;;) {
        pthread_mutex_lock(&queue_lock);
        while (count == 0 && !done)
            pthread_cond_wait(&not_empty, &queue_lock);
        if (count == 0) {
            pthread_mutex_unlock(&queue_lock);
            return NULL;
        }
        long item = slots[head];
        LOCKRACE_READ(slots[head]);
        head = (head + 1) % SLOTS;
        count--;
        pthread_cond_signal(&not_full);
        pthread_mutex_unlock(&queue_lock);
        *sum += item;
    }
}

int main(void)
{
    LOCKRACE_WATCH(slots, "slots");
    pthread_t p, c[CONSUMERS];
    long sums[CONSUMERS] = { 0 };
    for (int i = 0; i < CONSUMERS; i++)
        pthread_create(&c[i], NULL, consumer, &sums[i]);
    pthread_create(&p, NULL, producer, NULL);
    pthread_join(p, NULL);
    long total = 0;
    for (int i = 0; i < CONSUMERS; i++) {
        pthread_join(c[i], NULL);
        total += sums[i];
    }
    printf("consumed %d items, sum %ld (expected %ld)\n", ITEMS, total, (long)ITEMS * (ITEMS + 1) / 2);
    return total == (long)ITEMS * (ITEMS + 1) / 2 ? 0 : 1;
}
