/* Two lock-order inversions, each taken through the program's own lock
 * helper, as many programs lock (a mutex_lock() of their own, glib's
 * g_mutex_lock, mono's mono_os_mutex_lock): transfer() and audit() invert
 * accounts and journal, flush() and rotate() invert cache and log. Every
 * acquisition's innermost function is lock_it(), so a suppression rule
 * named after it would hide both inversions, and every other one the
 * program could make. Threads run one after another: no deadlock. */
#include <pthread.h>
#include <stdio.h>

static pthread_mutex_t accounts = PTHREAD_MUTEX_INITIALIZER, journal = PTHREAD_MUTEX_INITIALIZER;
static pthread_mutex_t cache = PTHREAD_MUTEX_INITIALIZER, log_lock = PTHREAD_MUTEX_INITIALIZER;

static __attribute__((noinline)) void lock_it(pthread_mutex_t *m)
{
    pthread_mutex_lock(m);
    __asm__ volatile("" ::: "memory");      /* not a tail call: lock_it stays in the stack */
}

static __attribute__((noinline)) void unlock_it(pthread_mutex_t *m)
{
    pthread_mutex_unlock(m);
}

static __attribute__((noinline)) void pair(pthread_mutex_t *first, pthread_mutex_t *second)
{
    lock_it(first);
    lock_it(second);
    unlock_it(second);
    unlock_it(first);
}

static __attribute__((noinline)) void *transfer(void *arg) { (void)arg; pair(&accounts, &journal); return NULL; }
static __attribute__((noinline)) void *audit(void *arg) { (void)arg; pair(&journal, &accounts); return NULL; }
static __attribute__((noinline)) void *flush(void *arg) { (void)arg; pair(&cache, &log_lock); return NULL; }
static __attribute__((noinline)) void *rotate(void *arg) { (void)arg; pair(&log_lock, &cache); return NULL; }

int main(void)
{
    void *(*steps[])(void *) = { transfer, audit, flush, rotate };
    for (int i = 0; i < 4; i++) {
        pthread_t t;
        pthread_create(&t, NULL, steps[i], NULL);
        pthread_join(t, NULL);
    }
    puts("done");
    return 0;
}
