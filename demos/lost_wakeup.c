/* lost_wakeup: the producer signals the condition variable before the
 * consumer waits on it, and the consumer waits without checking a
 * predicate first, so the wakeup is lost: the consumer sleeps forever and
 * main, joining it, with it. No lock cycle is involved; every thread is
 * simply blocked and none can wake another. Natively it hangs forever;
 * `lockrace --watchdog 1` reports it after hang_ms (1 s) and ends it. */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdio.h>

pthread_mutex_t queue_lock = PTHREAD_MUTEX_INITIALIZER;
pthread_cond_t item_ready = PTHREAD_COND_INITIALIZER;
static int items;

static void *producer(void *arg)
{
    (void)arg;
    pthread_setname_np(pthread_self(), "producer");
    pthread_mutex_lock(&queue_lock);
    items++;
    pthread_cond_signal(&item_ready);       /* nobody waits yet: the signal is lost */
    pthread_mutex_unlock(&queue_lock);
    return NULL;
}

static void *consumer(void *arg)
{
    (void)arg;
    pthread_setname_np(pthread_self(), "consumer");
    pthread_mutex_lock(&queue_lock);
    pthread_cond_wait(&item_ready, &queue_lock);   /* the bug: no `while (items == 0)` */
    items--;
    pthread_mutex_unlock(&queue_lock);
    return NULL;
}

int main(void)
{
    pthread_t p, c;
    pthread_create(&p, NULL, producer, NULL);
    pthread_join(p, NULL);
    pthread_create(&c, NULL, consumer, NULL);
    pthread_join(c, NULL);
    printf("lost_wakeup: items=%d (it should have hung)\n", items);
    return 0;
}
