/* A library whose constructor calls every wrapper lockrace exports, before
 * lockrace's own constructor runs (a DT_NEEDED library is initialised
 * before the preload): first from the constructor's thread and a thread it
 * creates, at the same time, then across the two (condition variables and a
 * barrier that need both), then from a C11 thread and from a thread that
 * ends with pthread_exit. Each call is logged as "WHO NAME RESULT"; main
 * (early_all.c) prints the log, which must be the same natively and under
 * lockrace. The case (check.py: early_all_wrappers) checks that every name
 * in interpose/exports.map is in the log, so a new wrapper needs a call
 * here. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <stdint.h>
#include <pthread.h>
#include <sched.h>
#include <stdlib.h>
#include <semaphore.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <threads.h>
#include <time.h>
#include <unistd.h>

#include "early_all.h"

call_log early_all_logs[4] = { { .who = "ctor" }, { .who = "thread" }, { .who = "c11" }, { .who = "exiting" } };

static void log_call(call_log *log, const char *name, int rc)
{
    if (log->n < LOG_MAX) {
        log->calls[log->n].name = name;
        log->calls[log->n].rc = rc;
        log->n++;
    }
}

#define CALL(log, name, ...) log_call(log, #name, name(__VA_ARGS__))
#define CALL_VOID(log, name, ...) (name(__VA_ARGS__), log_call(log, #name, 0))

static struct timespec in_past(clockid_t clock)
{
    struct timespec ts;
    clock_gettime(clock, &ts);
    ts.tv_sec -= 1;
    return ts;
}

static struct timespec soon(clockid_t clock)
{
    struct timespec ts;
    clock_gettime(clock, &ts);
    ts.tv_sec += 5;
    return ts;
}

/* C++'s static guards (the Itanium ABI's; this library links libstdc++) */
int __cxa_guard_acquire(uint64_t *g);
void __cxa_guard_release(uint64_t *g);
void __cxa_guard_abort(uint64_t *g);

static int once_runs;
static void once_routine(void) { once_runs++; }

/* Everything one thread can do alone, on objects of its own. */
static void alone(call_log *log)
{
    struct timespec past = in_past(CLOCK_REALTIME), mono_past = in_past(CLOCK_MONOTONIC);
    struct timespec later = soon(CLOCK_REALTIME), mono_later = soon(CLOCK_MONOTONIC);

    pthread_mutex_t m;
    CALL(log, pthread_mutex_init, &m, NULL);
    CALL(log, pthread_mutex_lock, &m);
    CALL(log, pthread_mutex_trylock, &m);      /* EBUSY: taken by this thread */
    CALL(log, pthread_mutex_unlock, &m);
    CALL(log, pthread_mutex_trylock, &m);
    CALL(log, pthread_mutex_unlock, &m);
    CALL(log, pthread_mutex_timedlock, &m, &later);
    CALL(log, pthread_mutex_unlock, &m);
    CALL(log, pthread_mutex_clocklock, &m, CLOCK_MONOTONIC, &mono_later);

    pthread_cond_t c;
    CALL(log, pthread_cond_init, &c, NULL);
    CALL(log, pthread_cond_timedwait, &c, &m, &past);          /* ETIMEDOUT */
    CALL(log, pthread_cond_clockwait, &c, &m, CLOCK_MONOTONIC, &mono_past);
    CALL(log, pthread_cond_signal, &c);
    CALL(log, pthread_cond_broadcast, &c);
    CALL(log, pthread_mutex_unlock, &m);
    CALL(log, pthread_cond_destroy, &c);
    CALL(log, pthread_mutex_destroy, &m);

    pthread_rwlock_t rw;
    CALL(log, pthread_rwlock_init, &rw, NULL);
    CALL(log, pthread_rwlock_rdlock, &rw);
    CALL(log, pthread_rwlock_tryrdlock, &rw);
    CALL(log, pthread_rwlock_trywrlock, &rw);               /* EBUSY */
    CALL(log, pthread_rwlock_unlock, &rw);
    CALL(log, pthread_rwlock_unlock, &rw);
    CALL(log, pthread_rwlock_wrlock, &rw);
    CALL(log, pthread_rwlock_unlock, &rw);
    CALL(log, pthread_rwlock_trywrlock, &rw);
    CALL(log, pthread_rwlock_unlock, &rw);
    CALL(log, pthread_rwlock_timedrdlock, &rw, &later);
    CALL(log, pthread_rwlock_unlock, &rw);
    CALL(log, pthread_rwlock_timedwrlock, &rw, &later);
    CALL(log, pthread_rwlock_unlock, &rw);
    CALL(log, pthread_rwlock_clockrdlock, &rw, CLOCK_MONOTONIC, &mono_later);
    CALL(log, pthread_rwlock_unlock, &rw);
    CALL(log, pthread_rwlock_clockwrlock, &rw, CLOCK_MONOTONIC, &mono_later);
    CALL(log, pthread_rwlock_unlock, &rw);
    CALL(log, pthread_rwlock_destroy, &rw);

    pthread_spinlock_t s;
    CALL(log, pthread_spin_init, &s, PTHREAD_PROCESS_PRIVATE);
    CALL(log, pthread_spin_lock, &s);
    CALL(log, pthread_spin_trylock, &s);                    /* EBUSY */
    CALL(log, pthread_spin_unlock, &s);
    CALL(log, pthread_spin_destroy, &s);

    sem_t sem;
    CALL(log, sem_init, &sem, 0, 2);
    CALL(log, sem_wait, &sem);
    CALL(log, sem_trywait, &sem);
    errno = 0;
    CALL(log, sem_trywait, &sem);                           /* -1, EAGAIN */
    log_call(log, "errno==EAGAIN", errno == EAGAIN);
    CALL(log, sem_post, &sem);
    CALL(log, sem_timedwait, &sem, &later);
    CALL(log, sem_post, &sem);
    CALL(log, sem_clockwait, &sem, CLOCK_MONOTONIC, &mono_later);
    CALL(log, sem_destroy, &sem);

    pthread_barrier_t b;
    CALL(log, pthread_barrier_init, &b, NULL, 1);
    log_call(log, "pthread_barrier_wait", pthread_barrier_wait(&b) == PTHREAD_BARRIER_SERIAL_THREAD);
    pthread_barrier_destroy(&b);

    static pthread_once_t once = PTHREAD_ONCE_INIT;
    static once_flag c11_once = ONCE_FLAG_INIT;
    CALL(log, pthread_once, &once, once_routine);
    CALL_VOID(log, call_once, &c11_once, once_routine);

    static uint64_t guards[4][2];           /* each log its own: they run at once */
    uint64_t *made = guards[log - early_all_logs], *failed = made + 1;
    CALL(log, __cxa_guard_acquire, made);                   /* 1: initialise it */
    CALL_VOID(log, __cxa_guard_release, made);
    CALL(log, __cxa_guard_acquire, made);                   /* 0: made */
    CALL(log, __cxa_guard_acquire, failed);                 /* 1 */
    CALL_VOID(log, __cxa_guard_abort, failed);

    mtx_t mtx;
    CALL(log, mtx_init, &mtx, mtx_timed);
    CALL(log, mtx_lock, &mtx);
    CALL(log, mtx_trylock, &mtx);                           /* thrd_busy */
    CALL(log, mtx_unlock, &mtx);
    CALL(log, mtx_timedlock, &mtx, &later);
    cnd_t cnd;
    cnd_init(&cnd);
    CALL(log, cnd_timedwait, &cnd, &mtx, &past);            /* thrd_timedout */
    CALL(log, cnd_signal, &cnd);
    CALL(log, cnd_broadcast, &cnd);
    CALL(log, mtx_unlock, &mtx);
    cnd_destroy(&cnd);
    CALL_VOID(log, mtx_destroy, &mtx);

    CALL(log, pthread_setname_np, pthread_self(), "early-all");
    CALL(log, unshare, 0);                                  /* nothing to unshare: 0 */
    CALL(log, setns, -1, 0);                                /* -1, EBADF */
    CALL(log, chroot, "");                                  /* -1, ENOENT */
    CALL(log, sigaction, SIGUSR2, NULL, NULL);              /* asks nothing: 0 */
    log_call(log, "signal", signal(0, SIG_DFL) == SIG_ERR ? -1 : 0);   /* no signal 0: SIG_ERR */
    CALL(log, sigaltstack, &(stack_t){ .ss_flags = SS_DISABLE }, NULL);   /* none: 0 */
    /* no child to wait for: each -1, ECHILD, at once */
    siginfo_t info;
    CALL(log, wait, NULL);
    CALL(log, waitpid, -1, NULL, WNOHANG);
    CALL(log, wait3, NULL, WNOHANG, NULL);
    CALL(log, wait4, -1, NULL, WNOHANG, NULL);
    CALL(log, waitid, P_ALL, 0, &info, WEXITED | WNOHANG);

    /* system calls that move memory, on a socket pair of this thread's */
    int fds[2];
    char buf[8] = "early";
    if (socketpair(AF_UNIX, SOCK_STREAM, 0, fds) == 0) {
        CALL(log, write, fds[1], buf, 5);                   /* 5 */
        CALL(log, read, fds[0], buf, sizeof buf);           /* 5 */
        CALL(log, send, fds[1], buf, 3, 0);                 /* 3 */
        CALL(log, recv, fds[0], buf, sizeof buf, 0);        /* 3 */
        CALL(log, sendto, fds[1], buf, 2, 0, NULL, 0);      /* 2 */
        CALL(log, recvfrom, fds[0], buf, sizeof buf, 0, NULL, NULL);   /* 2 */
        CALL(log, pwrite, fds[1], buf, 1, 0);               /* -1, ESPIPE */
        CALL(log, pread, fds[0], buf, 1, 0);                /* -1, ESPIPE */
        CALL(log, pwrite64, fds[1], buf, 1, 0);             /* -1, ESPIPE */
        CALL(log, pread64, fds[0], buf, 1, 0);              /* -1, ESPIPE */
        close(fds[0]);
        close(fds[1]);
    }
}

/* The first wrapper call of the process, named by EARLY_ALL_FIRST: the one
 * that finds lockrace not started yet. Whatever it needs set up beforehand
 * (a lock to unlock, a thread to join or to signal) is done with libc's own
 * functions, which lockrace does not see, so that this call is the first. */
#define LIBC(fn) ((__typeof__(&fn))dlsym(RTLD_NEXT, #fn))
/* libc's default version of the condition functions is the old ABI */
#define LIBC_COND(fn) ((__typeof__(&fn))dlvsym(RTLD_NEXT, #fn, "GLIBC_2.3.2"))

static pthread_mutex_t first_m = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t first_c = PTHREAD_COND_INITIALIZER;
static mtx_t first_mtx;
static cnd_t first_cnd;
static int first_signalled;
static uint64_t first_guard;

static void *libc_signaller(void *arg)
{
    (void)arg;
    LIBC(pthread_mutex_lock)(&first_m);
    first_signalled = 1;
    LIBC_COND(pthread_cond_broadcast)(&first_c);
    LIBC(pthread_mutex_unlock)(&first_m);
    return NULL;
}

static int libc_signaller_c11(void *arg)
{
    (void)arg;
    LIBC(mtx_lock)(&first_mtx);
    first_signalled = 1;
    LIBC(cnd_broadcast)(&first_cnd);
    LIBC(mtx_unlock)(&first_mtx);
    return 0;
}

static void *libc_exiting(void *arg)
{
    pthread_exit(arg);          /* the wrapper: the first call */
}

static void *libc_noop(void *arg) { return arg; }
static int libc_noop_c11(void *arg) { return (int)(intptr_t)arg; }
static void first_once(void) { }

static int first_call(const char *name)
{
    struct timespec later = soon(CLOCK_REALTIME), mono_later = soon(CLOCK_MONOTONIC);
    struct timespec past = in_past(CLOCK_REALTIME), mono_past = in_past(CLOCK_MONOTONIC);
    pthread_rwlock_t rw = PTHREAD_RWLOCK_INITIALIZER;
    pthread_spinlock_t spin;
    pthread_barrier_t barrier;
    sem_t sem;
    mtx_t mtx;
    pthread_t t;
    thrd_t c11;
    void *result;
    int rc = -1000;             /* a name this function does not know */

    LIBC(pthread_spin_init)(&spin, PTHREAD_PROCESS_PRIVATE);
    LIBC(sem_init)(&sem, 0, 1);
    LIBC(mtx_init)(&first_mtx, mtx_timed);
    LIBC(cnd_init)(&first_cnd);
    LIBC(pthread_barrier_init)(&barrier, NULL, 1);

#define FIRST(fn, call, ...) if (!strcmp(name, #fn)) { rc = call; __VA_ARGS__; }
    FIRST(pthread_mutex_init, pthread_mutex_init(&first_m, NULL))
    FIRST(pthread_mutex_destroy, pthread_mutex_destroy(&first_m))
    FIRST(pthread_mutex_lock, pthread_mutex_lock(&first_m), LIBC(pthread_mutex_unlock)(&first_m))
    FIRST(pthread_mutex_trylock, pthread_mutex_trylock(&first_m), LIBC(pthread_mutex_unlock)(&first_m))
    FIRST(pthread_mutex_timedlock, pthread_mutex_timedlock(&first_m, &later),
          LIBC(pthread_mutex_unlock)(&first_m))
    FIRST(pthread_mutex_clocklock, pthread_mutex_clocklock(&first_m, CLOCK_MONOTONIC, &mono_later),
          LIBC(pthread_mutex_unlock)(&first_m))
    FIRST(pthread_mutex_unlock, (LIBC(pthread_mutex_lock)(&first_m), pthread_mutex_unlock(&first_m)))
    FIRST(pthread_cond_init, pthread_cond_init(&first_c, NULL))
    FIRST(pthread_cond_destroy, pthread_cond_destroy(&first_c))
    FIRST(pthread_cond_signal, pthread_cond_signal(&first_c))
    FIRST(pthread_cond_broadcast, pthread_cond_broadcast(&first_c))
    FIRST(pthread_cond_wait, (LIBC(pthread_mutex_lock)(&first_m),
                              LIBC(pthread_create)(&t, NULL, libc_signaller, NULL), 0),
          while (!first_signalled && rc == 0) rc = pthread_cond_wait(&first_c, &first_m),
          LIBC(pthread_mutex_unlock)(&first_m), LIBC(pthread_join)(t, NULL))
    FIRST(pthread_cond_timedwait, (LIBC(pthread_mutex_lock)(&first_m),
                                   pthread_cond_timedwait(&first_c, &first_m, &past)),
          LIBC(pthread_mutex_unlock)(&first_m))
    FIRST(pthread_cond_clockwait, (LIBC(pthread_mutex_lock)(&first_m),
                                   pthread_cond_clockwait(&first_c, &first_m, CLOCK_MONOTONIC, &mono_past)),
          LIBC(pthread_mutex_unlock)(&first_m))
    FIRST(pthread_create, pthread_create(&t, NULL, libc_noop, NULL), LIBC(pthread_join)(t, NULL))
    FIRST(pthread_join, (LIBC(pthread_create)(&t, NULL, libc_noop, (void *)3),
                         pthread_join(t, &result)), rc += result == (void *)3 ? 0 : 100)
    FIRST(pthread_exit, (LIBC(pthread_create)(&t, NULL, libc_exiting, (void *)4),
                         LIBC(pthread_join)(t, &result)), rc += result == (void *)4 ? 0 : 100)
    FIRST(pthread_setname_np, pthread_setname_np(pthread_self(), "early-first"))
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    static once_flag c11_once = ONCE_FLAG_INIT;
    FIRST(pthread_once, pthread_once(&once, first_once))
    FIRST(call_once, (call_once(&c11_once, first_once), 0))
    FIRST(__cxa_guard_acquire, __cxa_guard_acquire(&first_guard), __cxa_guard_release(&first_guard))
    FIRST(__cxa_guard_release, (__cxa_guard_acquire(&first_guard), __cxa_guard_release(&first_guard), 0))
    FIRST(__cxa_guard_abort, (__cxa_guard_acquire(&first_guard), __cxa_guard_abort(&first_guard), 0))
    FIRST(pthread_rwlock_init, pthread_rwlock_init(&rw, NULL))
    FIRST(pthread_rwlock_destroy, pthread_rwlock_destroy(&rw))
    FIRST(pthread_rwlock_rdlock, pthread_rwlock_rdlock(&rw), LIBC(pthread_rwlock_unlock)(&rw))
    FIRST(pthread_rwlock_wrlock, pthread_rwlock_wrlock(&rw), LIBC(pthread_rwlock_unlock)(&rw))
    FIRST(pthread_rwlock_tryrdlock, pthread_rwlock_tryrdlock(&rw), LIBC(pthread_rwlock_unlock)(&rw))
    FIRST(pthread_rwlock_trywrlock, pthread_rwlock_trywrlock(&rw), LIBC(pthread_rwlock_unlock)(&rw))
    FIRST(pthread_rwlock_timedrdlock, pthread_rwlock_timedrdlock(&rw, &later),
          LIBC(pthread_rwlock_unlock)(&rw))
    FIRST(pthread_rwlock_timedwrlock, pthread_rwlock_timedwrlock(&rw, &later),
          LIBC(pthread_rwlock_unlock)(&rw))
    FIRST(pthread_rwlock_clockrdlock, pthread_rwlock_clockrdlock(&rw, CLOCK_MONOTONIC, &mono_later),
          LIBC(pthread_rwlock_unlock)(&rw))
    FIRST(pthread_rwlock_clockwrlock, pthread_rwlock_clockwrlock(&rw, CLOCK_MONOTONIC, &mono_later),
          LIBC(pthread_rwlock_unlock)(&rw))
    FIRST(pthread_rwlock_unlock, (LIBC(pthread_rwlock_wrlock)(&rw), pthread_rwlock_unlock(&rw)))
    FIRST(pthread_spin_init, pthread_spin_init(&spin, PTHREAD_PROCESS_PRIVATE))
    FIRST(pthread_spin_destroy, pthread_spin_destroy(&spin))
    FIRST(pthread_spin_lock, pthread_spin_lock(&spin), LIBC(pthread_spin_unlock)(&spin))
    FIRST(pthread_spin_trylock, pthread_spin_trylock(&spin), LIBC(pthread_spin_unlock)(&spin))
    FIRST(pthread_spin_unlock, (LIBC(pthread_spin_lock)(&spin), pthread_spin_unlock(&spin)))
    FIRST(pthread_barrier_init, pthread_barrier_init(&barrier, NULL, 1))
    FIRST(pthread_barrier_wait, pthread_barrier_wait(&barrier))
    FIRST(sem_init, sem_init(&sem, 0, 1))
    FIRST(sem_destroy, sem_destroy(&sem))
    FIRST(sem_wait, sem_wait(&sem))
    FIRST(sem_trywait, sem_trywait(&sem))
    FIRST(sem_timedwait, sem_timedwait(&sem, &later))
    FIRST(sem_clockwait, sem_clockwait(&sem, CLOCK_MONOTONIC, &mono_later))
    FIRST(sem_post, sem_post(&sem))
    FIRST(mtx_init, mtx_init(&mtx, mtx_plain), LIBC(mtx_destroy)(&mtx))
    FIRST(mtx_destroy, (mtx_destroy(&first_mtx), 0))
    FIRST(mtx_lock, mtx_lock(&first_mtx), LIBC(mtx_unlock)(&first_mtx))
    FIRST(mtx_trylock, mtx_trylock(&first_mtx), LIBC(mtx_unlock)(&first_mtx))
    FIRST(mtx_timedlock, mtx_timedlock(&first_mtx, &later), LIBC(mtx_unlock)(&first_mtx))
    FIRST(mtx_unlock, (LIBC(mtx_lock)(&first_mtx), mtx_unlock(&first_mtx)))
    FIRST(cnd_wait, (LIBC(mtx_lock)(&first_mtx),
                     LIBC(thrd_create)(&c11, libc_signaller_c11, NULL), thrd_success),
          while (!first_signalled && rc == thrd_success) rc = cnd_wait(&first_cnd, &first_mtx),
          LIBC(mtx_unlock)(&first_mtx), LIBC(thrd_join)(c11, NULL))
    FIRST(cnd_timedwait, (LIBC(mtx_lock)(&first_mtx), cnd_timedwait(&first_cnd, &first_mtx, &past)),
          LIBC(mtx_unlock)(&first_mtx))
    FIRST(cnd_signal, cnd_signal(&first_cnd))
    FIRST(cnd_broadcast, cnd_broadcast(&first_cnd))
    FIRST(thrd_create, thrd_create(&c11, libc_noop_c11, NULL), LIBC(thrd_join)(c11, NULL))
    FIRST(unshare, unshare(0))
    FIRST(sigaltstack, sigaltstack(&(stack_t){ .ss_flags = SS_DISABLE }, NULL))
    int fds[2] = { -1, -1 };
    char buf[8] = "first";
    if (!strcmp(name, "read") || !strcmp(name, "write") || !strncmp(name, "pread", 5) ||
        !strncmp(name, "pwrite", 6) || !strncmp(name, "recv", 4) || !strncmp(name, "send", 4)) {
        if (socketpair(AF_UNIX, SOCK_STREAM, 0, fds) != 0)
            return 99;
        if (!strncmp(name, "read", 4) || !strncmp(name, "recv", 4))
            LIBC(write)(fds[1], buf, 5);
    }
    FIRST(write, (int)write(fds[1], buf, 5))
    FIRST(read, (int)read(fds[0], buf, sizeof buf))
    FIRST(send, (int)send(fds[1], buf, 5, 0))
    FIRST(recv, (int)recv(fds[0], buf, sizeof buf, 0))
    FIRST(sendto, (int)sendto(fds[1], buf, 5, 0, NULL, 0))
    FIRST(recvfrom, (int)recvfrom(fds[0], buf, sizeof buf, 0, NULL, NULL))
    FIRST(pwrite, (int)pwrite(fds[1], buf, 1, 0))
    FIRST(pread, (int)pread(fds[0], buf, 1, 0))
    FIRST(pwrite64, (int)pwrite64(fds[1], buf, 1, 0))
    FIRST(pread64, (int)pread64(fds[0], buf, 1, 0))
    FIRST(setns, setns(-1, 0))
    FIRST(chroot, chroot(""))
    FIRST(sigaction, sigaction(SIGUSR2, NULL, NULL))
    FIRST(signal, signal(0, SIG_DFL) == SIG_ERR ? -1 : 0)
    siginfo_t info;
    FIRST(wait, wait(NULL))
    FIRST(waitpid, waitpid(-1, NULL, WNOHANG))
    FIRST(wait3, wait3(NULL, WNOHANG, NULL))
    FIRST(wait4, wait4(-1, NULL, WNOHANG, NULL))
    FIRST(waitid, waitid(P_ALL, 0, &info, WEXITED | WNOHANG))
    FIRST(_exit, (_exit(7), 0))
    FIRST(_Exit, (_Exit(7), 0))
    int c11_result = 0;
    FIRST(thrd_join, (LIBC(thrd_create)(&c11, libc_noop_c11, (void *)6), thrd_join(c11, &c11_result)),
          rc += c11_result == 6 ? 0 : 100)
#undef FIRST
    return rc;
}

/* Across the constructor's thread and the one it created: each waits on a
 * condition for the other, with pthread's and C11's functions, then both
 * meet at a barrier. */
static pthread_mutex_t cross_m = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cross_c = PTHREAD_COND_INITIALIZER;
static mtx_t cross_mtx;
static cnd_t cross_cnd;
static pthread_barrier_t cross_barrier;
static int turn;

/* The waiter says it waits, under the mutex it holds until the wait
 * releases it; the giver hands over only once it sees that, so every
 * handover is a real wait and a real wake-up, whatever the timing. A
 * spurious wake-up waits again without another log entry. */
static int waiting;

static void wait_turn(call_log *log, int mine)
{
    CALL(log, pthread_mutex_lock, &cross_m);
    waiting = mine;
    int rc = 0;
    while (turn != mine)
        rc |= pthread_cond_wait(&cross_c, &cross_m);
    log_call(log, "pthread_cond_wait", rc);
    CALL(log, pthread_mutex_unlock, &cross_m);
}

static void give_turn(call_log *log, int next)
{
    pthread_mutex_lock(&cross_m);
    while (waiting != next) {
        pthread_mutex_unlock(&cross_m);
        sched_yield();
        pthread_mutex_lock(&cross_m);
    }
    turn = next;
    CALL(log, pthread_cond_broadcast, &cross_c);
    CALL(log, pthread_mutex_unlock, &cross_m);
}

static void wait_turn_c11(call_log *log, int mine)
{
    CALL(log, mtx_lock, &cross_mtx);
    waiting = mine;
    int rc = 0;
    while (turn != mine)
        rc |= cnd_wait(&cross_cnd, &cross_mtx);
    log_call(log, "cnd_wait", rc);
    CALL(log, mtx_unlock, &cross_mtx);
}

static void give_turn_c11(call_log *log, int next)
{
    mtx_lock(&cross_mtx);
    while (waiting != next) {
        mtx_unlock(&cross_mtx);
        sched_yield();
        mtx_lock(&cross_mtx);
    }
    turn = next;
    CALL(log, cnd_signal, &cross_cnd);
    CALL(log, mtx_unlock, &cross_mtx);
}

/* The barrier's one serial thread is whichever arrives last: either way. */
static int barrier_ok(int rc)
{
    return rc == 0 || rc == PTHREAD_BARRIER_SERIAL_THREAD;
}

static void *second(void *arg)
{
    call_log *log = arg;
    alone(log);
    give_turn(log, 1);
    wait_turn(log, 2);
    give_turn_c11(log, 3);
    wait_turn_c11(log, 4);
    log_call(log, "pthread_barrier_wait", barrier_ok(pthread_barrier_wait(&cross_barrier)));
    return (void *)7;
}

static int c11_start(void *arg)
{
    alone(arg);
    return 5;
}

static void *exiting(void *arg)
{
    call_log *log = arg;
    log_call(log, "pthread_exit", 0);
    pthread_exit((void *)9);
}

__attribute__((constructor)) static void early_all_init(void)
{
    call_log *log = &early_all_logs[0];
    const char *first = getenv("EARLY_ALL_FIRST");
    if (first)
        log_call(log, first, first_call(first));
    mtx_init(&cross_mtx, mtx_plain);
    cnd_init(&cross_cnd);
    pthread_barrier_init(&cross_barrier, NULL, 2);

    pthread_t t;
    void *result = NULL;
    CALL(log, pthread_create, &t, NULL, second, &early_all_logs[1]);
    alone(log);                 /* at the same time as the second thread */
    wait_turn(log, 1);
    give_turn(log, 2);
    wait_turn_c11(log, 3);
    give_turn_c11(log, 4);
    log_call(log, "pthread_barrier_wait", barrier_ok(pthread_barrier_wait(&cross_barrier)));
    CALL(log, pthread_join, t, &result);
    log_call(log, "result==7", result == (void *)7);

    thrd_t c11;
    int c11_result = 0;
    CALL(log, thrd_create, &c11, c11_start, &early_all_logs[2]);
    CALL(log, thrd_join, c11, &c11_result);
    log_call(log, "result==5", c11_result == 5);

    CALL(log, pthread_create, &t, NULL, exiting, &early_all_logs[3]);
    CALL(log, pthread_join, t, &result);
    log_call(log, "result==9", result == (void *)9);
    log_call(log, "once_runs==1", once_runs == 1);
}
