/* signal_unattached: threads lockrace has not met yet (made with libc's
 * pthread_create, not through the wrapper, as a sanitizer's or a runtime's
 * own start code would) are signalled while they are inside
 * pthread_getattr_np, which holds the thread's own lock; the handler locks
 * a mutex, the thread's first call that lockrace sees. lockrace must meet
 * the thread there without taking that lock again (it hung). */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

#define THREADS 200

static pthread_mutex_t handler_lock = PTHREAD_MUTEX_INITIALIZER;
static __thread volatile sig_atomic_t signalled;
static volatile int started;

static void on_signal(int sig)
{
    (void)sig;
    pthread_mutex_lock(&handler_lock);
    signalled = 1;
    pthread_mutex_unlock(&handler_lock);
}

static void *busy(void *arg)
{
    (void)arg;
    __atomic_add_fetch(&started, 1, __ATOMIC_RELEASE);
    while (!signalled) {
        pthread_attr_t attr;
        if (pthread_getattr_np(pthread_self(), &attr) == 0)
            pthread_attr_destroy(&attr);
    }
    return NULL;
}

int main(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigaction(SIGUSR1, &sa, NULL);
    void *libc = dlopen("libc.so.6", RTLD_NOW | RTLD_NOLOAD);
    int (*real_create)(pthread_t *, const pthread_attr_t *, void *(*)(void *), void *) =
        libc ? (int (*)(pthread_t *, const pthread_attr_t *, void *(*)(void *), void *))dlsym(libc, "pthread_create")
             : NULL;
    if (!real_create)
        return 2;
    for (int i = 0; i < THREADS; i++) {
        pthread_t t;
        int before = __atomic_load_n(&started, __ATOMIC_ACQUIRE);
        if (real_create(&t, NULL, busy, NULL) != 0)
            return 2;
        while (__atomic_load_n(&started, __ATOMIC_ACQUIRE) == before)
            ;
        pthread_kill(t, SIGUSR1);
        pthread_join(t, NULL);
    }
    printf("signal_unattached: %d threads\n", THREADS);
    return 0;
}
