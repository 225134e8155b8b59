#include <pthread.h>
#include <stdlib.h>
#include "pool.h"

#define SLOTS 16
#define BUCKETS 8

static struct {
	pthread_mutex_t lock;
	pthread_cond_t not_empty, not_full;
	int items[SLOTS], head, count, done;
} q = { PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, PTHREAD_COND_INITIALIZER };

static pthread_rwlock_t table_lock = PTHREAD_RWLOCK_INITIALIZER;
static struct { pthread_mutex_t lock; uint64_t sum; } bucket[BUCKETS];
static pthread_once_t once = PTHREAD_ONCE_INIT;

static void init_buckets(void)
{
	for (int i = 0; i < BUCKETS; i++)
		pthread_mutex_init(&bucket[i].lock, NULL);
}

static void *worker(void *arg)
{
	(void)arg;
	for (;;) {
		pthread_mutex_lock(&q.lock);
		while (q.count == 0 && !q.done)
			pthread_cond_wait(&q.not_empty, &q.lock);
		if (q.count == 0) {
			pthread_mutex_unlock(&q.lock);
			return NULL;
		}
		int item = q.items[q.head];
		q.head = (q.head + 1) % SLOTS;
		q.count--;
		pthread_cond_signal(&q.not_full);
		pthread_mutex_unlock(&q.lock);

		/* the table lock (read) before a bucket lock, always in this order */
		pthread_rwlock_rdlock(&table_lock);
		int b = item % BUCKETS;
		pthread_mutex_lock(&bucket[b].lock);
		bucket[b].sum += mix((uint64_t)item);
		pthread_mutex_unlock(&bucket[b].lock);
		pthread_rwlock_unlock(&table_lock);
	}
}

uint64_t pool_run(int threads, int items)
{
	pthread_t *t = calloc((size_t)threads, sizeof *t);
	uint64_t sums[BUCKETS];

	pthread_once(&once, init_buckets);
	for (int i = 0; i < threads; i++)
		pthread_create(&t[i], NULL, worker, NULL);
	for (int i = 0; i < items; i++) {
		pthread_mutex_lock(&q.lock);
		while (q.count == SLOTS)
			pthread_cond_wait(&q.not_full, &q.lock);
		q.items[(q.head + q.count) % SLOTS] = i;
		q.count++;
		pthread_cond_signal(&q.not_empty);
		pthread_mutex_unlock(&q.lock);
	}
	pthread_mutex_lock(&q.lock);
	q.done = 1;
	pthread_cond_broadcast(&q.not_empty);
	pthread_mutex_unlock(&q.lock);
	for (int i = 0; i < threads; i++)
		pthread_join(t[i], NULL);
	free(t);

	/* the writer side: read every bucket with the table locked for writing */
	pthread_rwlock_wrlock(&table_lock);
	for (int i = 0; i < BUCKETS; i++)
		sums[i] = bucket[i].sum;
	pthread_rwlock_unlock(&table_lock);
	return checksum(sums, BUCKETS);
}
