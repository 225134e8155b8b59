/* bench/python.sh's floor: a preloaded library that wraps the calls
 * lockrace wraps in a Python threading workload (CPython's Locks are
 * semaphores; its GIL a mutex and condition variables) and passes each
 * straight on. What an interposer costs before it does anything: the
 * extra call, the library's code and data in the caches. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <pthread.h>
#include <semaphore.h>
#include <time.h>

#define REAL(ret, name, ...) static ret (*real_##name)(__VA_ARGS__)
REAL(int, sem_trywait, sem_t *);
REAL(int, sem_wait, sem_t *);
REAL(int, sem_post, sem_t *);
REAL(int, sem_clockwait, sem_t *, clockid_t, const struct timespec *);
REAL(int, sem_timedwait, sem_t *, const struct timespec *);
REAL(int, pthread_mutex_lock, pthread_mutex_t *);
REAL(int, pthread_mutex_unlock, pthread_mutex_t *);
REAL(int, pthread_cond_wait, pthread_cond_t *, pthread_mutex_t *);
REAL(int, pthread_cond_timedwait, pthread_cond_t *, pthread_mutex_t *, const struct timespec *);
REAL(int, pthread_cond_signal, pthread_cond_t *);
REAL(int, pthread_cond_broadcast, pthread_cond_t *);

__attribute__((constructor)) static void init(void)
{
    real_sem_trywait = dlsym(RTLD_NEXT, "sem_trywait");
    real_sem_wait = dlsym(RTLD_NEXT, "sem_wait");
    real_sem_post = dlsym(RTLD_NEXT, "sem_post");
    real_sem_clockwait = dlsym(RTLD_NEXT, "sem_clockwait");
    real_sem_timedwait = dlsym(RTLD_NEXT, "sem_timedwait");
    real_pthread_mutex_lock = dlsym(RTLD_NEXT, "pthread_mutex_lock");
    real_pthread_mutex_unlock = dlsym(RTLD_NEXT, "pthread_mutex_unlock");
    real_pthread_cond_wait = dlvsym(RTLD_NEXT, "pthread_cond_wait", "GLIBC_2.3.2");
    real_pthread_cond_timedwait = dlvsym(RTLD_NEXT, "pthread_cond_timedwait", "GLIBC_2.3.2");
    real_pthread_cond_signal = dlvsym(RTLD_NEXT, "pthread_cond_signal", "GLIBC_2.3.2");
    real_pthread_cond_broadcast = dlvsym(RTLD_NEXT, "pthread_cond_broadcast", "GLIBC_2.3.2");
}

int sem_trywait(sem_t *s) { return real_sem_trywait(s); }
int sem_wait(sem_t *s) { return real_sem_wait(s); }
int sem_post(sem_t *s) { return real_sem_post(s); }
int sem_clockwait(sem_t *s, clockid_t c, const struct timespec *t) { return real_sem_clockwait(s, c, t); }
int sem_timedwait(sem_t *s, const struct timespec *t) { return real_sem_timedwait(s, t); }
int pthread_mutex_lock(pthread_mutex_t *m) { return real_pthread_mutex_lock(m); }
int pthread_mutex_unlock(pthread_mutex_t *m) { return real_pthread_mutex_unlock(m); }
int pthread_cond_wait(pthread_cond_t *c, pthread_mutex_t *m) { return real_pthread_cond_wait(c, m); }
int pthread_cond_timedwait(pthread_cond_t *c, pthread_mutex_t *m, const struct timespec *t) { return real_pthread_cond_timedwait(c, m, t); }
int pthread_cond_signal(pthread_cond_t *c) { return real_pthread_cond_signal(c); }
int pthread_cond_broadcast(pthread_cond_t *c) { return real_pthread_cond_broadcast(c); }
