/* deadlock_real: two threads that really deadlock. transfer-1 holds
 * ledger_lock and wants audit_lock; transfer-2 holds audit_lock and wants
 * ledger_lock; a barrier makes sure both hold their first lock before either
 * asks for its second. Natively it hangs forever (try: timeout 5 ...);
 * under lockrace it is reported and ended within a second, exit status 66. */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdio.h>

pthread_mutex_t ledger_lock = PTHREAD_MUTEX_INITIALIZER;
pthread_mutex_t audit_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_barrier_t both_hold_one;

static void post_entry(void)
{
    pthread_mutex_lock(&ledger_lock);
    pthread_barrier_wait(&both_hold_one);
    pthread_mutex_lock(&audit_lock);        /* waits for transfer-2 */
    pthread_mutex_unlock(&audit_lock);
    pthread_mutex_unlock(&ledger_lock);
}

static void audit_entry(void)
{
    pthread_mutex_lock(&audit_lock);
    pthread_barrier_wait(&both_hold_one);
    pthread_mutex_lock(&ledger_lock);       /* waits for transfer-1 */
    pthread_mutex_unlock(&ledger_lock);
    pthread_mutex_unlock(&audit_lock);
}

static void *transfer1(void *arg)
{
    (void)arg;
    pthread_setname_np(pthread_self(), "transfer-1");
    post_entry();
    return NULL;
}

static void *transfer2(void *arg)
{
    (void)arg;
    pthread_setname_np(pthread_self(), "transfer-2");
    audit_entry();
    return NULL;
}

int main(void)
{
    pthread_t t1, t2;
    pthread_barrier_init(&both_hold_one, NULL, 2);
    pthread_create(&t1, NULL, transfer1, NULL);
    pthread_create(&t2, NULL, transfer2, NULL);
    pthread_join(t1, NULL);
    pthread_join(t2, NULL);
    puts("deadlock_real: finished (it should not have)");
    return 0;
}
