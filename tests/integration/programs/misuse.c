/* One API misuse per mode (argv[1]), each reported once as kind "misuse"
 * with its sub-kind; mode "clean" does legal things that look close to
 * them and must not be reported. */
#define _GNU_SOURCE
#include "lockrace.h"

#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <semaphore.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static pthread_mutex_t lock_a = PTHREAD_MUTEX_INITIALIZER;
static pthread_mutex_t lock_b = PTHREAD_MUTEX_INITIALIZER;
static pthread_mutex_t errorcheck_lock;
static pthread_rwlock_t table_lock = PTHREAD_RWLOCK_INITIALIZER;
static pthread_cond_t ready = PTHREAD_COND_INITIALIZER;
static pthread_barrier_t start_line;
static volatile int waiting;
static pthread_mutex_t config_lock;
static pthread_rwlock_t cache_lock;
static pthread_cond_t changed;

static void *take_and_return(void *arg)
{
    (void)arg;
    pthread_mutex_lock(&lock_a);
    return NULL;                    /* ends holding lock_a */
}

static volatile int holding;       /* the other thread has taken its lock */

static void *take_and_wait_cancel(void *arg)
{
    (void)arg;
    pthread_mutex_lock(&lock_a);
    holding = 1;
    for (;;)
        pause();                    /* cancelled here, holding lock_a */
    return NULL;
}

static void *take_and_exit(void *arg)
{
    (void)arg;
    pthread_mutex_lock(&lock_b);
    pthread_exit(NULL);             /* ends holding lock_b */
}

static void *hold_a_while(void *arg)
{
    (void)arg;
    pthread_mutex_lock(&lock_a);
    holding = 1;
    usleep(200 * 1000);
    pthread_mutex_unlock(&lock_a);
    return NULL;
}

static void *wait_with_b(void *arg)
{
    (void)arg;
    struct timespec ts;
    pthread_mutex_lock(&lock_b);
    waiting = 1;
    clock_gettime(CLOCK_REALTIME, &ts);
    ts.tv_sec += 1;
    pthread_cond_timedwait(&ready, &lock_b, &ts);
    pthread_mutex_unlock(&lock_b);
    return NULL;
}

/* Both threads start waiting on `ready` at once, each with its own mutex:
 * they spin until both are there, then go. */
static pthread_barrier_t together;
static int arrived;

static void *wait_together(void *arg)
{
    pthread_mutex_t *m = arg;
    struct timespec ts;
    pthread_mutex_lock(m);
    pthread_barrier_wait(&together);
    __atomic_add_fetch(&arrived, 1, __ATOMIC_SEQ_CST);
    while (__atomic_load_n(&arrived, __ATOMIC_SEQ_CST) < 2)
        ;
    clock_gettime(CLOCK_REALTIME, &ts);
    ts.tv_sec += 1;                 /* long enough to overlap on a busy machine */
    pthread_cond_timedwait(&ready, m, &ts);
    pthread_mutex_unlock(m);
    return NULL;
}

static pthread_cond_t never = PTHREAD_COND_INITIALIZER;
static int go;

static void *wait_forever(void *arg)
{
    (void)arg;
    pthread_mutex_lock(&lock_b);
    waiting = 1;
    while (!go)
        pthread_cond_wait(&never, &lock_b);
    pthread_mutex_unlock(&lock_b);
    return NULL;
}

static void *destroy_never(void *arg)
{
    (void)arg;
    pthread_cond_destroy(&never);   /* glibc waits for the waiter: forever */
    return NULL;
}

static sem_t items;

static void *wait_for_item(void *arg)
{
    (void)arg;
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    ts.tv_nsec += 300 * 1000 * 1000;
    if (ts.tv_nsec >= 1000000000) {
        ts.tv_sec++;
        ts.tv_nsec -= 1000000000;
    }
    holding = 1;
    sem_timedwait(&items, &ts);     /* still blocked when main destroys it */
    return NULL;
}

static pthread_mutex_t robust_lock;

static void *die_holding_robust(void *arg)
{
    (void)arg;
    pthread_mutex_lock(&robust_lock);
    return NULL;                    /* robust: the next owner is told (EOWNERDEAD) */
}

/* A mutex in a frame that returns while it is locked: the next call's
 * frame is the same memory. */
static void __attribute__((noinline)) lock_local_and_return(int lock)
{
    pthread_mutex_t local;
    pthread_mutex_init(&local, NULL);
    if (lock)
        pthread_mutex_lock(&local); /* never unlocked: the frame goes away */
}

static int is(const char *mode, const char *name) { return strcmp(mode, name) == 0; }

static void clean(void)
{
    /* a recursive mutex locked twice, unlocked twice */
    pthread_mutexattr_t attr;
    pthread_mutexattr_init(&attr);
    pthread_mutexattr_settype(&attr, PTHREAD_MUTEX_RECURSIVE);
    pthread_mutex_t rec;
    pthread_mutex_init(&rec, &attr);
    pthread_mutex_lock(&rec);
    pthread_mutex_lock(&rec);
    pthread_mutex_unlock(&rec);
    pthread_mutex_unlock(&rec);
    pthread_mutex_destroy(&rec);
    /* destroyed, initialised again, locked */
    pthread_mutex_t m;
    pthread_mutex_init(&m, NULL);
    pthread_mutex_destroy(&m);
    pthread_mutex_init(&m, NULL);
    pthread_mutex_lock(&m);
    pthread_mutex_unlock(&m);
    pthread_mutex_destroy(&m);
    /* destroyed, then the memory reused with a static initializer */
    pthread_mutex_t *heap = malloc(sizeof *heap);
    pthread_mutex_init(heap, NULL);
    pthread_mutex_destroy(heap);
    *heap = (pthread_mutex_t)PTHREAD_MUTEX_INITIALIZER;
    pthread_mutex_lock(heap);
    pthread_mutex_unlock(heap);
    free(heap);
    /* init on fresh memory full of garbage */
    pthread_mutex_t *junk = malloc(sizeof *junk);
    memset(junk, 0x5a, sizeof *junk);
    pthread_mutex_init(junk, NULL);
    pthread_mutex_destroy(junk);
    free(junk);
    /* one condition with two mutexes, one after the other (never at once) */
    struct timespec ts;
    for (int i = 0; i < 2; i++) {
        pthread_mutex_t *mx = i ? &lock_b : &lock_a;
        pthread_mutex_lock(mx);
        clock_gettime(CLOCK_REALTIME, &ts);
        pthread_cond_timedwait(&ready, mx, &ts);
        pthread_mutex_unlock(mx);
    }
    /* a mutex locked by this thread in one function and unlocked in another */
    pthread_rwlock_rdlock(&table_lock);
    pthread_rwlock_unlock(&table_lock);
    /* an rwlock read-locked twice by one thread, unlocked twice */
    pthread_rwlock_rdlock(&table_lock);
    if (pthread_rwlock_rdlock(&table_lock) != 0)
        exit(1);
    pthread_rwlock_unlock(&table_lock);
    pthread_rwlock_unlock(&table_lock);
    /* static mutex, rwlock and condition: initialised, destroyed, initialised again */
    for (int i = 0; i < 2; i++) {
        pthread_mutex_init(&config_lock, NULL);
        pthread_mutex_lock(&config_lock);
        pthread_mutex_unlock(&config_lock);
        pthread_mutex_destroy(&config_lock);
        pthread_rwlock_init(&cache_lock, NULL);
        pthread_rwlock_wrlock(&cache_lock);
        pthread_rwlock_unlock(&cache_lock);
        pthread_rwlock_destroy(&cache_lock);
        pthread_cond_init(&changed, NULL);
        pthread_cond_destroy(&changed);
    }
    pthread_barrier_init(&start_line, NULL, 1);
    pthread_barrier_wait(&start_line);
    pthread_barrier_destroy(&start_line);
    /* a condition destroyed right after its waiter was woken: fine */
    pthread_t w;
    waiting = 0;
    pthread_create(&w, NULL, wait_forever, NULL);
    while (!waiting)
        usleep(1000);
    usleep(20 * 1000);
    pthread_mutex_lock(&lock_b);
    go = 1;
    pthread_cond_broadcast(&never);
    pthread_mutex_unlock(&lock_b);
    pthread_cond_destroy(&never);
    pthread_join(w, NULL);
    /* a semaphore destroyed, initialised again, used */
    sem_t sem;
    sem_init(&sem, 0, 0);
    sem_destroy(&sem);
    sem_init(&sem, 0, 0);
    sem_post(&sem);
    sem_wait(&sem);
    sem_destroy(&sem);
    /* a semaphore used right: init, wait, post, a trywait that finds
     * nothing (EAGAIN), destroy, init again; and one at SEM_VALUE_MAX */
    sem_init(&sem, 0, 1);
    sem_wait(&sem);
    if (sem_trywait(&sem) != -1 || errno != EAGAIN)
        exit(1);
    sem_post(&sem);
    sem_destroy(&sem);
    sem_init(&sem, 0, 0);
    sem_post(&sem);
    sem_trywait(&sem);
    sem_destroy(&sem);
    sem_init(&sem, 0, SEM_VALUE_MAX);
    sem_wait(&sem);
    sem_post(&sem);
    sem_destroy(&sem);
    /* a robust mutex whose owner died: the next lock is told, and repairs it */
    pthread_mutexattr_t rattr;
    pthread_mutexattr_init(&rattr);
    pthread_mutexattr_setrobust(&rattr, PTHREAD_MUTEX_ROBUST);
    pthread_mutex_init(&robust_lock, &rattr);
    pthread_t t;
    pthread_create(&t, NULL, die_holding_robust, NULL);
    pthread_join(t, NULL);
    if (pthread_mutex_lock(&robust_lock) == EOWNERDEAD)
        pthread_mutex_consistent(&robust_lock);
    pthread_mutex_unlock(&robust_lock);
    /* a process-shared mutex */
    pthread_mutexattr_t pattr;
    pthread_mutexattr_init(&pattr);
    pthread_mutexattr_setpshared(&pattr, PTHREAD_PROCESS_SHARED);
    pthread_mutex_t shared;
    pthread_mutex_init(&shared, &pattr);
    pthread_mutex_lock(&shared);
    pthread_mutex_unlock(&shared);
    pthread_mutex_destroy(&shared);
    /* memory that held a mutex, reused as an rwlock and then as a spinlock */
    void *mem = malloc(64);
    pthread_mutex_init(mem, NULL);
    pthread_mutex_lock(mem);
    pthread_mutex_unlock(mem);
    free(mem);
    mem = malloc(64);
    pthread_rwlock_init(mem, NULL);
    pthread_rwlock_wrlock(mem);
    pthread_mutex_lock(&lock_a);
    pthread_mutex_unlock(&lock_a);
    pthread_rwlock_unlock(mem);
    pthread_rwlock_destroy(mem);
    pthread_spin_init(mem, PTHREAD_PROCESS_PRIVATE);
    pthread_spin_lock(mem);
    pthread_spin_unlock(mem);
    free(mem);
}

int main(int argc, char **argv)
{
    const char *mode = argc > 1 ? argv[1] : "clean";
    pthread_t t;
    if (is(mode, "clean")) {
        clean();
    } else if (is(mode, "unlock-not-locked")) {
        pthread_mutex_unlock(&lock_a);                  /* never locked */
    } else if (is(mode, "unlock-not-held")) {
        pthread_create(&t, NULL, hold_a_while, NULL);
        while (!holding)
            usleep(1000);
        pthread_mutex_unlock(&lock_a);                  /* held by the other thread */
        pthread_join(t, NULL);
    } else if (is(mode, "relock")) {
        pthread_mutexattr_t attr;
        pthread_mutexattr_init(&attr);
        pthread_mutexattr_settype(&attr, PTHREAD_MUTEX_ERRORCHECK);
        pthread_mutex_init(&errorcheck_lock, &attr);
        pthread_mutex_lock(&errorcheck_lock);
        if (pthread_mutex_lock(&errorcheck_lock) != EDEADLK)
            return 1;
        pthread_mutex_unlock(&errorcheck_lock);
    } else if (is(mode, "destroy-locked")) {
        pthread_mutex_lock(&lock_a);
        if (pthread_mutex_destroy(&lock_a) != EBUSY)
            return 1;
        pthread_mutex_unlock(&lock_a);
    } else if (is(mode, "lock-destroyed")) {
        pthread_mutex_destroy(&lock_a);
        pthread_mutex_lock(&lock_a);
    } else if (is(mode, "reinit-locked")) {
        pthread_create(&t, NULL, hold_a_while, NULL);
        while (!holding)
            usleep(1000);
        pthread_mutex_init(&lock_b, NULL);              /* not locked: fine */
        pthread_mutex_init(&lock_a, NULL);              /* locked by the other thread */
        pthread_join(t, NULL);
    } else if (is(mode, "destroy-after-double-unlock")) {
        pthread_mutex_lock(&lock_a);
        pthread_mutex_unlock(&lock_a);
        pthread_mutex_unlock(&lock_a);                  /* glibc's count of users goes to -1 */
        if (pthread_mutex_destroy(&lock_a) != EBUSY)    /* not locked, refused all the same */
            return 1;
    } else if (is(mode, "lock-uninitialised")) {
        static pthread_mutex_t garbage;
        memset(&garbage, 0xff, sizeof garbage);         /* never initialised: reads as destroyed */
        if (pthread_mutex_lock(&garbage) != EINVAL)
            return 1;
    } else if (is(mode, "main-return-holding")) {
        pthread_mutex_lock(&lock_a);                    /* held when main returns */
    } else if (is(mode, "main-exit-holding")) {
        pthread_mutex_lock(&lock_b);
        puts(mode);
        fflush(stdout);
        exit(0);                                        /* held when main calls exit */
    } else if (is(mode, "main-exit-holding-failed")) {
        pthread_mutex_lock(&lock_b);
        puts(mode);
        fflush(stdout);
        exit(3);                                        /* a failure, and the lock held */
    } else if (is(mode, "reused-while-locked")) {
        lock_local_and_return(1);
        lock_local_and_return(0);                       /* inits the same memory, still locked */
    } else if (is(mode, "reinit-mutex")) {
        pthread_mutex_init(&config_lock, NULL);
        pthread_mutex_lock(&config_lock);
        pthread_mutex_unlock(&config_lock);
        pthread_mutex_init(&config_lock, NULL);         /* unlocked, but not destroyed */
    } else if (is(mode, "reinit-rwlock")) {
        pthread_rwlock_init(&cache_lock, NULL);
        pthread_rwlock_init(&cache_lock, NULL);
    } else if (is(mode, "reinit-cond")) {
        pthread_cond_init(&changed, NULL);
        pthread_cond_init(&changed, NULL);
    } else if (is(mode, "rwlock-unlock")) {
        pthread_rwlock_unlock(&table_lock);             /* never locked */
    } else if (is(mode, "rwlock-relock-write")) {
        pthread_rwlock_wrlock(&table_lock);
        if (pthread_rwlock_wrlock(&table_lock) != EDEADLK)   /* glibc: at once */
            return 1;
        pthread_rwlock_unlock(&table_lock);
    } else if (is(mode, "rwlock-relock-read")) {
        pthread_rwlock_wrlock(&table_lock);
        if (pthread_rwlock_rdlock(&table_lock) != EDEADLK)
            return 1;
        pthread_rwlock_unlock(&table_lock);
    } else if (is(mode, "rwlock-upgrade")) {
        pthread_rwlock_rdlock(&table_lock);
        pthread_rwlock_wrlock(&table_lock);             /* waits for its own read lock: forever */
        pthread_rwlock_unlock(&table_lock);
    } else if (is(mode, "cond-unheld")) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        pthread_cond_timedwait(&ready, &lock_a, &ts);   /* lock_a not held */
    } else if (is(mode, "cond-two-mutexes")) {
        pthread_create(&t, NULL, wait_with_b, NULL);
        while (!waiting)
            usleep(1000);
        usleep(50 * 1000);
        struct timespec ts;
        pthread_mutex_lock(&lock_a);
        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_nsec += 10 * 1000 * 1000;
        if (ts.tv_nsec >= 1000000000) {
            ts.tv_sec++;
            ts.tv_nsec -= 1000000000;
        }
        pthread_cond_timedwait(&ready, &lock_a, &ts);   /* the other waits with lock_b */
        pthread_mutex_unlock(&lock_a);
        pthread_join(t, NULL);
    } else if (is(mode, "cond-two-mutexes-together")) {
        pthread_t u;
        pthread_barrier_init(&together, NULL, 2);
        pthread_create(&t, NULL, wait_together, &lock_a);
        pthread_create(&u, NULL, wait_together, &lock_b);
        while (__atomic_load_n(&arrived, __ATOMIC_SEQ_CST) < 2)
            usleep(1000);
        usleep(100 * 1000);             /* both are waiting (or time out in 1 s): wake them */
        pthread_cond_broadcast(&ready);
        pthread_join(t, NULL);
        pthread_join(u, NULL);
        pthread_barrier_destroy(&together);
    } else if (is(mode, "exit-holding")) {
        pthread_create(&t, NULL, take_and_return, NULL);
        pthread_join(t, NULL);
    } else if (is(mode, "exit-holding-pthread-exit")) {
        pthread_create(&t, NULL, take_and_exit, NULL);
        pthread_join(t, NULL);
    } else if (is(mode, "exit-holding-cancel")) {
        pthread_create(&t, NULL, take_and_wait_cancel, NULL);
        while (!holding)
            usleep(1000);
        pthread_cancel(t);
        pthread_join(t, NULL);
    } else if (is(mode, "cond-destroy-waited")) {
        pthread_t d;
        pthread_create(&t, NULL, wait_forever, NULL);
        while (!waiting)
            usleep(1000);
        usleep(50 * 1000);
        puts(mode);
        fflush(stdout);
        pthread_create(&d, NULL, destroy_never, NULL);
        /* deadlock=abort: lockrace ends the process once it said so (it
         * confirms for 200 ms, then symbolizes); deadlock=report: the
         * destroyer stays stuck, and 3 says the process was left running */
        for (int i = 0; i < 1000 && LOCKRACE_REPORT_COUNT() == 0; i++)
            usleep(10 * 1000);
        usleep(1000 * 1000);
        _exit(3);
    } else if (is(mode, "sem-destroy-waited")) {
        sem_init(&items, 0, 0);
        pthread_create(&t, NULL, wait_for_item, NULL);
        while (!holding)
            usleep(1000);
        usleep(100 * 1000);
        sem_destroy(&items);
        pthread_join(t, NULL);
    } else if (is(mode, "sem-destroyed")) {
        sem_init(&items, 0, 0);
        sem_destroy(&items);
        sem_post(&items);
    } else if (is(mode, "sem-init-invalid")) {
        if (sem_init(&items, 0, (unsigned)SEM_VALUE_MAX + 1) != -1 || errno != EINVAL)
            return 1;
    } else if (is(mode, "sem-post-overflow")) {
        sem_init(&items, 0, SEM_VALUE_MAX);
        if (sem_post(&items) != -1 || errno != EOVERFLOW)   /* errno as glibc left it */
            return 1;
        sem_destroy(&items);
    } else if (is(mode, "sem-invalid")) {
        static sem_t garbage_sem;
        memset(&garbage_sem, 0xff, sizeof garbage_sem);  /* never initialised */
        sem_trywait(&garbage_sem);                       /* glibc takes one of 2^32-1 */
    } else if (is(mode, "barrier-zero")) {
        if (pthread_barrier_init(&start_line, NULL, 0) != EINVAL)
            return 1;
    } else {
        fprintf(stderr, "misuse: unknown mode %s\n", mode);
        return 2;
    }
    puts(mode);
    return 0;
}
