/* rw_contended (clean): readers and writers on one rwlock, with a mutex
 * and a spinlock always taken inside it, and a second rwlock read in both
 * orders by readers only. Lots of real waiting, no deadlock, no report. */
#include <pthread.h>
#include <stdio.h>

static pthread_rwlock_t table = PTHREAD_RWLOCK_INITIALIZER;
static pthread_rwlock_t stats = PTHREAD_RWLOCK_INITIALIZER;
static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_spinlock_t counter_lock;
static long counter, reads;

static void *reader(void *arg)
{
    long n = (long)arg;
    for (int i = 0; i < 20000; i++) {
        pthread_rwlock_rdlock(i % 2 ? &table : &stats);
        pthread_rwlock_rdlock(i % 2 ? &stats : &table);   /* both orders, reads only */
        pthread_spin_lock(&counter_lock);
        reads += n;
        pthread_spin_unlock(&counter_lock);
        pthread_rwlock_unlock(i % 2 ? &stats : &table);
        pthread_rwlock_unlock(i % 2 ? &table : &stats);
    }
    return NULL;
}

static void *writer(void *arg)
{
    (void)arg;
    for (int i = 0; i < 20000; i++) {
        pthread_rwlock_wrlock(&table);
        pthread_mutex_lock(&log_lock);
        pthread_spin_lock(&counter_lock);
        counter++;
        pthread_spin_unlock(&counter_lock);
        pthread_mutex_unlock(&log_lock);
        pthread_rwlock_unlock(&table);
    }
    return NULL;
}

int main(void)
{
    pthread_t t[6];
    pthread_spin_init(&counter_lock, PTHREAD_PROCESS_PRIVATE);
    for (int i = 0; i < 4; i++)
        pthread_create(&t[i], NULL, reader, (void *)1L);
    for (int i = 4; i < 6; i++)
        pthread_create(&t[i], NULL, writer, NULL);
    for (int i = 0; i < 6; i++)
        pthread_join(t[i], NULL);
    printf("rw_contended: counter=%ld reads=%ld\n", counter, reads);
    return !(counter == 40000 && reads == 80000);
}
