/* inverted: one thread takes ledger_lock then audit_lock, the next one
 * audit_lock then ledger_lock: a lock-order inversion. The threads run one
 * after the other, so this run does not hang; the next one may. */
#include <pthread.h>
#include <stdio.h>

static pthread_mutex_t ledger_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_mutex_t audit_lock = PTHREAD_MUTEX_INITIALIZER;

static void *post(void *arg)
{
    (void)arg;
    pthread_mutex_lock(&ledger_lock);
    pthread_mutex_lock(&audit_lock);
    pthread_mutex_unlock(&audit_lock);
    pthread_mutex_unlock(&ledger_lock);
    return NULL;
}

static void *audit(void *arg)
{
    (void)arg;
    pthread_mutex_lock(&audit_lock);
    pthread_mutex_lock(&ledger_lock);
    pthread_mutex_unlock(&ledger_lock);
    pthread_mutex_unlock(&audit_lock);
    return NULL;
}

int main(void)
{
    pthread_t t;

    pthread_create(&t, NULL, post, NULL);
    pthread_join(t, NULL);
    pthread_create(&t, NULL, audit, NULL);
    pthread_join(t, NULL);
    printf("inverted: ledger_lock then audit_lock, audit_lock then ledger_lock\n");
    return 0;
}
