/* rwlock_inversion: two rwlocks taken in both orders. The "reporter" thread
 * only reads both, in either order: readers never block each other, so
 * that is no deadlock and lockrace says nothing about it. The "indexer"
 * holds table_lock for reading and takes index_lock for writing; the
 * "compactor" holds index_lock for reading and takes table_lock for
 * writing: each writer waits for the other's reader, a real cycle. They run
 * one after the other, so this run never hangs. */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdio.h>

pthread_rwlock_t table_lock = PTHREAD_RWLOCK_INITIALIZER;
pthread_rwlock_t index_lock = PTHREAD_RWLOCK_INITIALIZER;
static int rows, entries;

static void *reporter(void *arg)
{
    (void)arg;
    pthread_setname_np(pthread_self(), "reporter");
    pthread_rwlock_rdlock(&table_lock);
    pthread_rwlock_rdlock(&index_lock);
    printf("report: %d rows, %d entries\n", rows, entries);
    pthread_rwlock_unlock(&index_lock);
    pthread_rwlock_unlock(&table_lock);
    pthread_rwlock_rdlock(&index_lock);
    pthread_rwlock_rdlock(&table_lock);
    pthread_rwlock_unlock(&table_lock);
    pthread_rwlock_unlock(&index_lock);
    return NULL;
}

static void reindex(void)
{
    pthread_rwlock_rdlock(&table_lock);
    pthread_rwlock_wrlock(&index_lock);
    entries = rows;
    pthread_rwlock_unlock(&index_lock);
    pthread_rwlock_unlock(&table_lock);
}

static void compact(void)
{
    pthread_rwlock_rdlock(&index_lock);
    pthread_rwlock_wrlock(&table_lock);
    rows = entries;
    pthread_rwlock_unlock(&table_lock);
    pthread_rwlock_unlock(&index_lock);
}

static void *indexer(void *arg)
{
    (void)arg;
    pthread_setname_np(pthread_self(), "indexer");
    reindex();
    return NULL;
}

static void *compactor(void *arg)
{
    (void)arg;
    pthread_setname_np(pthread_self(), "compactor");
    compact();
    return NULL;
}

int main(void)
{
    void *(*steps[])(void *) = { reporter, indexer, compactor };
    for (int i = 0; i < 3; i++) {
        pthread_t t;
        pthread_create(&t, NULL, steps[i], NULL);
        pthread_join(t, NULL);
    }
    puts("rwlock_inversion: done");
    return 0;
}
