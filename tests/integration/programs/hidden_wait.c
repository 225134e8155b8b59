/* hidden_wait (buggy): a real ABBA deadlock in which one thread blocks
 * without lockrace seeing it start to wait: it locks through glibc's own
 * pthread_mutex_lock, found with dlsym, as a thread that lost the race
 * between lockrace's look at the mutex and the lock would. The other thread
 * must still find the cycle, from what the kernel says the first one waits
 * on. Natively it hangs forever. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>

pthread_mutex_t first_lock = PTHREAD_MUTEX_INITIALIZER;
pthread_mutex_t second_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_barrier_t both_hold_one;
static int (*glibc_lock)(pthread_mutex_t *);

static void *quiet(void *arg)
{
    (void)arg;
    pthread_mutex_lock(&first_lock);
    pthread_barrier_wait(&both_hold_one);
    glibc_lock(&second_lock);           /* blocks where lockrace does not look */
    return NULL;
}

static void *loud(void *arg)
{
    (void)arg;
    pthread_mutex_lock(&second_lock);
    pthread_barrier_wait(&both_hold_one);
    pthread_mutex_lock(&first_lock);
    return NULL;
}

int main(void)
{
    void *libc = dlopen("libc.so.6", RTLD_NOW | RTLD_NOLOAD);
    glibc_lock = (int (*)(pthread_mutex_t *))dlsym(libc, "pthread_mutex_lock");
    pthread_barrier_init(&both_hold_one, NULL, 2);
    pthread_t a, b;
    pthread_create(&a, NULL, quiet, NULL);
    pthread_create(&b, NULL, loud, NULL);
    pthread_join(a, NULL);
    pthread_join(b, NULL);
    puts("hidden_wait: finished (it should not have)");
    return 0;
}
