/* condvar: producers and consumers on a bounded queue (one mutex, two condition
 * variables, cond_wait and cond_timedwait). stats_lock is always taken after
 * queue_lock, also right after a wait returns with queue_lock re-acquired. */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdio.h>
#include <time.h>

#define QSIZE 8
#define ITEMS 5000 /* per producer, and per consumer */

pthread_mutex_t queue_lock = PTHREAD_MUTEX_INITIALIZER;
pthread_cond_t not_empty = PTHREAD_COND_INITIALIZER;
pthread_cond_t not_full = PTHREAD_COND_INITIALIZER;
pthread_mutex_t stats_lock = PTHREAD_MUTEX_INITIALIZER;

static int queue[QSIZE], qhead, qlen;
static struct {
    long produced, consumed, wakeups, timeouts, sum;
} stats;

static void *producer(void *arg)
{
    pthread_setname_np(pthread_self(), arg);
    for (int i = 1; i <= ITEMS; i++) {
        pthread_mutex_lock(&queue_lock);
        while (qlen == QSIZE)
            pthread_cond_wait(&not_full, &queue_lock);
        queue[(qhead + qlen++) % QSIZE] = i;
        pthread_mutex_lock(&stats_lock);
        stats.produced++;
        pthread_mutex_unlock(&stats_lock);
        pthread_cond_signal(&not_empty);
        pthread_mutex_unlock(&queue_lock);
    }
    return NULL;
}

static void *consumer(void *arg)
{
    pthread_setname_np(pthread_self(), arg);
    for (int i = 0; i < ITEMS; i++) {
        int item;

        pthread_mutex_lock(&queue_lock);
        while (qlen == 0) {
            struct timespec deadline;
            int rc;

            clock_gettime(CLOCK_REALTIME, &deadline);
            deadline.tv_sec += 1;
            rc = pthread_cond_timedwait(&not_empty, &queue_lock, &deadline);
            /* queue_lock is held again here, so this is queue_lock -> stats_lock. */
            pthread_mutex_lock(&stats_lock);
            if (rc)
                stats.timeouts++;
            else
                stats.wakeups++;
            pthread_mutex_unlock(&stats_lock);
        }
        item = queue[qhead];
        qhead = (qhead + 1) % QSIZE;
        qlen--;
        pthread_mutex_lock(&stats_lock);
        stats.consumed++;
        stats.sum += item;
        pthread_mutex_unlock(&stats_lock);
        pthread_cond_signal(&not_full);
        pthread_mutex_unlock(&queue_lock);
    }
    return NULL;
}

int main(void)
{
    pthread_t p1, p2, c1, c2;
    long expected_sum = 2L * ITEMS * (ITEMS + 1) / 2;

    /* As many items are consumed as produced, so every consumer finishes. */
    pthread_create(&c1, NULL, consumer, "consumer-1");
    pthread_create(&c2, NULL, consumer, "consumer-2");
    pthread_create(&p1, NULL, producer, "producer-1");
    pthread_create(&p2, NULL, producer, "producer-2");
    pthread_join(p1, NULL);
    pthread_join(p2, NULL);
    pthread_join(c1, NULL);
    pthread_join(c2, NULL);

    printf("condvar: produced=%ld consumed=%ld wakeups=%ld timeouts=%ld\n",
           stats.produced, stats.consumed, stats.wakeups, stats.timeouts);
    return stats.consumed == 2 * ITEMS && stats.sum == expected_sum ? 0 : 1;
}
