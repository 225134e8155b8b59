/* The real functions behind every wrapper, resolved once in one place:
 * dlsym(RTLD_NEXT) so other preloads stack, and dlvsym at the modern ABI
 * version for the condition-variable family (INTERPOSITION.md §2.1). */
#ifndef LR_REAL_H
#define LR_REAL_H

#include <pthread.h>
#include <sched.h>
#include <semaphore.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <threads.h>
#include <time.h>

#define LR_REAL_FUNCTIONS(X)                                                                   \
    X(pthread_mutex_init, int, (pthread_mutex_t *, const pthread_mutexattr_t *), 1)            \
    X(pthread_mutex_destroy, int, (pthread_mutex_t *), 1)                                      \
    X(pthread_mutex_lock, int, (pthread_mutex_t *), 1)                                         \
    X(pthread_mutex_trylock, int, (pthread_mutex_t *), 1)                                      \
    X(pthread_mutex_timedlock, int, (pthread_mutex_t *, const struct timespec *), 1)           \
    X(pthread_mutex_clocklock, int, (pthread_mutex_t *, clockid_t, const struct timespec *), 0) \
    X(pthread_mutex_unlock, int, (pthread_mutex_t *), 1)                                       \
    X(pthread_create, int, (pthread_t *, const pthread_attr_t *, void *(*)(void *), void *), 1) \
    X(pthread_join, int, (pthread_t, void **), 1)                                              \
    X(pthread_clockjoin_np, int, (pthread_t, void **, clockid_t, const struct timespec *), 0)   \
    X(pthread_setname_np, int, (pthread_t, const char *), 0)                                   \
    X(pthread_rwlock_init, int, (pthread_rwlock_t *, const pthread_rwlockattr_t *), 1)         \
    X(pthread_rwlock_destroy, int, (pthread_rwlock_t *), 1)                                    \
    X(pthread_rwlock_rdlock, int, (pthread_rwlock_t *), 1)                                     \
    X(pthread_rwlock_wrlock, int, (pthread_rwlock_t *), 1)                                     \
    X(pthread_rwlock_tryrdlock, int, (pthread_rwlock_t *), 1)                                  \
    X(pthread_rwlock_trywrlock, int, (pthread_rwlock_t *), 1)                                  \
    X(pthread_rwlock_timedrdlock, int, (pthread_rwlock_t *, const struct timespec *), 1)       \
    X(pthread_rwlock_timedwrlock, int, (pthread_rwlock_t *, const struct timespec *), 1)       \
    X(pthread_rwlock_clockrdlock, int, (pthread_rwlock_t *, clockid_t, const struct timespec *), 0) \
    X(pthread_rwlock_clockwrlock, int, (pthread_rwlock_t *, clockid_t, const struct timespec *), 0) \
    X(pthread_rwlock_unlock, int, (pthread_rwlock_t *), 1)                                     \
    X(pthread_spin_init, int, (pthread_spinlock_t *, int), 1)                                  \
    X(pthread_spin_destroy, int, (pthread_spinlock_t *), 1)                                    \
    X(pthread_spin_lock, int, (pthread_spinlock_t *), 1)                                       \
    X(pthread_spin_trylock, int, (pthread_spinlock_t *), 1)                                    \
    X(pthread_spin_unlock, int, (pthread_spinlock_t *), 1)                                     \
    X(pthread_barrier_wait, int, (pthread_barrier_t *), 1)                                     \
    X(pthread_barrier_init, int, (pthread_barrier_t *, const pthread_barrierattr_t *, unsigned), 1) \
    X(pthread_exit, void, (void *), 1)                                                         \
    X(sem_wait, int, (sem_t *), 1)                                                             \
    X(sem_timedwait, int, (sem_t *, const struct timespec *), 1)                               \
    X(sem_clockwait, int, (sem_t *, clockid_t, const struct timespec *), 0)                    \
    X(sem_trywait, int, (sem_t *), 1)                                                          \
    X(sem_init, int, (sem_t *, int, unsigned), 1)                                              \
    X(sem_destroy, int, (sem_t *), 1)                                                          \
    X(pthread_once, int, (pthread_once_t *, void (*)(void)), 1)                                \
    X(call_once, void, (once_flag *, void (*)(void)), 1)                                       \
    X(sem_post, int, (sem_t *), 1)                                                             \
    X(mtx_init, int, (mtx_t *, int), 1)                                                        \
    X(mtx_destroy, void, (mtx_t *), 1)                                                         \
    X(mtx_trylock, int, (mtx_t *), 1)                                                          \
    X(mtx_timedlock, int, (mtx_t *, const struct timespec *), 1)                               \
    X(mtx_unlock, int, (mtx_t *), 1)                                                           \
    X(cnd_wait, int, (cnd_t *, mtx_t *), 1)                                                    \
    X(cnd_timedwait, int, (cnd_t *, mtx_t *, const struct timespec *), 1)                      \
    X(cnd_signal, int, (cnd_t *), 1)                                                           \
    X(cnd_broadcast, int, (cnd_t *), 1)                                                        \
    X(thrd_create, int, (thrd_t *, thrd_start_t, void *), 1)                                   \
    X(_exit, void, (int), 1)                                                                   \
    X(_Exit, void, (int), 1)                                                                   \
    X(unshare, int, (int), 1)                                                                  \
    X(sigaltstack, int, (const stack_t *, stack_t *), 1)                                       \
    X(wait, pid_t, (int *), 1)                                                                 \
    X(waitpid, pid_t, (pid_t, int *, int), 1)                                                  \
    X(wait3, pid_t, (int *, int, struct rusage *), 1)                                          \
    X(wait4, pid_t, (pid_t, int *, int, struct rusage *), 1)                                   \
    X(waitid, int, (idtype_t, id_t, siginfo_t *, int), 1)                                      \
    X(setns, int, (int, int), 1)                                                               \
    X(chroot, int, (const char *), 1)                                                          \
    X(sigaction, int, (int, const struct sigaction *, struct sigaction *), 1)                  \
    X(signal, sighandler_t, (int, sighandler_t), 1)                                            \
    X(read, ssize_t, (int, void *, size_t), 1)                                                 \
    X(write, ssize_t, (int, const void *, size_t), 1)                                          \
    X(pread, ssize_t, (int, void *, size_t, off_t), 1)                                         \
    X(pwrite, ssize_t, (int, const void *, size_t, off_t), 1)                                  \
    X(pread64, ssize_t, (int, void *, size_t, off64_t), 1)                                     \
    X(pwrite64, ssize_t, (int, const void *, size_t, off64_t), 1)                              \
    X(recv, ssize_t, (int, void *, size_t, int), 1)                                            \
    X(recvfrom, ssize_t, (int, void *, size_t, int, struct sockaddr *, socklen_t *), 1)        \
    X(send, ssize_t, (int, const void *, size_t, int), 1)                                      \
    X(sendto, ssize_t, (int, const void *, size_t, int, const struct sockaddr *, socklen_t), 1) \
    /* only ever one version (GLIBC_2.30): looked up by name, not as a condition function */ \
    X(pthread_cond_clockwait, int,                                                             \
      (pthread_cond_t *, pthread_mutex_t *, clockid_t, const struct timespec *), 0)

#define LR_COND_FUNCTIONS(X)                                                                   \
    X(pthread_cond_init, int, (pthread_cond_t *, const pthread_condattr_t *), 1)               \
    X(pthread_cond_destroy, int, (pthread_cond_t *), 1)                                        \
    X(pthread_cond_signal, int, (pthread_cond_t *), 1)                                         \
    X(pthread_cond_broadcast, int, (pthread_cond_t *), 1)                                      \
    X(pthread_cond_wait, int, (pthread_cond_t *, pthread_mutex_t *), 1)                        \
    X(pthread_cond_timedwait, int, (pthread_cond_t *, pthread_mutex_t *, const struct timespec *), 1)

typedef struct lr_real_table {
#define LR_REAL_FIELD(name, ret, args, required) ret(*name) args;
    LR_REAL_FUNCTIONS(LR_REAL_FIELD)
    LR_COND_FUNCTIONS(LR_REAL_FIELD)
#undef LR_REAL_FIELD
} lr_real_table;

/* Read only through LR_REAL(name), which resolves the table when the
 * pointer is not there yet (a wrapper called before lockrace started: from
 * another library's constructor, or a thread it made), so no wrapper can
 * read a pointer not yet resolved, whatever order C evaluates its
 * arguments in. Resolving may call malloc (dlsym does, for a symbol it
 * does not find), and a malloc may lock a mutex through its wrapper
 * (jemalloc does): such a call, made on the resolving thread, gets what is
 * resolved so far, the mutex functions first (lr_real_resolve). A missing
 * optional function stays NULL; callers test those. Costs one load and a
 * branch that is always predicted: the load of the pointer itself. */
extern lr_real_table lr_real_fns;
void lr_real_resolve(void);

#define LR_REAL(name)                                                                 \
    ({                                                                                \
        __typeof__(lr_real_fns.name) real_ = __atomic_load_n(&lr_real_fns.name,     \
                                                             __ATOMIC_ACQUIRE);       \
        if (__builtin_expect(!real_, 0)) {                                            \
            lr_real_resolve();                                                        \
            real_ = __atomic_load_n(&lr_real_fns.name, __ATOMIC_ACQUIRE);             \
        }                                                                             \
        real_;                                                                        \
    })

/* The same for a function whose entry is never empty: it starts as one
 * that resolves the table, then calls the real function (real.c). The lock
 * path's lock and unlock: no test, and no registers saved for a call. */
#define LR_REAL_SET(name) __atomic_load_n(&lr_real_fns.name, __ATOMIC_ACQUIRE)

/* Wrappers are the library's exports; everything else is hidden. */
#define LR_WRAPPER __attribute__((visibility("default")))

/* The lock and join paths, shared by the pthread and C11 wrappers (a C11
 * mtx_t is a pthread_mutex_t, a thrd_t a pthread_t, in glibc). The lock
 * path takes the thread's state itself. */
struct lr_thread;
int lr_lock_mutex(pthread_mutex_t *m, void *pc);
int lr_join_thread(struct lr_thread *self, pthread_t thread, void **result, void *pc);

#endif
