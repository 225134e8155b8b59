/* One write hands a variable over to another thread's write through one
 * kind of synchronization (argv[1]); lockrace must see the order and stay
 * silent. "none" hands it over through a plain flag lockrace cannot see:
 * a data race, reported. */
#define _GNU_SOURCE
#include "lockrace.h"

#include <pthread.h>
#include <sched.h>
#include <semaphore.h>
#include <stdio.h>
#include <string.h>
#include <threads.h>
#include <time.h>
#include <unistd.h>

static long shared;
static int flag;                       /* the handover, for the lock-based modes */
static const char *mode;
static pthread_mutex_t m = PTHREAD_MUTEX_INITIALIZER;
static pthread_rwlock_t rw = PTHREAD_RWLOCK_INITIALIZER;
static pthread_spinlock_t spin;
static pthread_cond_t cond = PTHREAD_COND_INITIALIZER;
static pthread_mutex_t cond_m = PTHREAD_MUTEX_INITIALIZER;
static sem_t sem;
static pthread_barrier_t barrier;
static mtx_t c11_m;
static cnd_t c11_c;

static pthread_once_t once = PTHREAD_ONCE_INIT;
static once_flag c11_once = ONCE_FLAG_INIT;

static int is(const char *name) { return strcmp(mode, name) == 0; }

static void write_shared(long v)
{
    shared = v;
    LOCKRACE_WRITE(shared);
}

static void init_once(void)
{
    write_shared(1);
}

static void run_once(void)
{
    if (is("once"))
        pthread_once(&once, init_once);
    else
        call_once(&c11_once, init_once);
}

static void *writer(void *arg)
{
    write_shared((long)arg);
    return NULL;
}

static int flag_set_under(void)
{
    int f;
    if (is("mutex")) {
        pthread_mutex_lock(&m);
        f = flag;
        pthread_mutex_unlock(&m);
    } else if (is("rwlock")) {
        pthread_rwlock_rdlock(&rw);
        f = flag;
        pthread_rwlock_unlock(&rw);
    } else if (is("spin")) {
        pthread_spin_lock(&spin);
        f = flag;
        pthread_spin_unlock(&spin);
    } else {
        mtx_lock(&c11_m);
        f = flag;
        mtx_unlock(&c11_m);
    }
    return f;
}

static void set_flag_under(void)
{
    if (is("mutex")) {
        pthread_mutex_lock(&m);
        flag = 1;
        pthread_mutex_unlock(&m);
    } else if (is("rwlock")) {
        pthread_rwlock_wrlock(&rw);
        flag = 1;
        pthread_rwlock_unlock(&rw);
    } else if (is("spin")) {
        pthread_spin_lock(&spin);
        flag = 1;
        pthread_spin_unlock(&spin);
    } else {
        mtx_lock(&c11_m);
        flag = 1;
        mtx_unlock(&c11_m);
    }
}

static void *first(void *arg)
{
    (void)arg;
    if (is("once") || is("c11once")) {   /* the routine writes; its end is seen by a plain flag */
        run_once();
        __atomic_store_n(&flag, 1, __ATOMIC_RELEASE);
        return NULL;
    }
    write_shared(1);
    if (is("none") || is("annotate")) {
        LOCKRACE_HAPPENS_BEFORE(&flag);          /* only "annotate" sees it: see second() */
        if (is("none"))
            LOCKRACE_HAPPENS_BEFORE(&shared);    /* another object: orders nothing here */
        __atomic_store_n(&flag, 1, __ATOMIC_RELEASE);
    } else if (is("cond") || is("c11cnd")) {
        usleep(100000);         /* the other thread is waiting by now */
        __atomic_store_n(&flag, 1, __ATOMIC_RELEASE);
        if (is("cond"))
            pthread_cond_signal(&cond);          /* without the mutex: only the signal orders */
        else
            cnd_signal(&c11_c);
    } else if (is("sem") || is("semtry")) {
        sem_post(&sem);
    } else if (is("barrier")) {
        pthread_barrier_wait(&barrier);
    } else {
        set_flag_under();
    }
    return NULL;
}

static void *second(void *arg)
{
    (void)arg;
    if (is("once") || is("c11once")) {   /* only the once control orders the write */
        while (!__atomic_load_n(&flag, __ATOMIC_ACQUIRE))
            sched_yield();
        run_once();
    } else if (is("none") || is("annotate")) {
        while (!__atomic_load_n(&flag, __ATOMIC_ACQUIRE))
            sched_yield();
        if (is("annotate"))
            LOCKRACE_HAPPENS_AFTER(&flag);
    } else if (is("cond")) {
        pthread_mutex_lock(&cond_m);
        while (!__atomic_load_n(&flag, __ATOMIC_ACQUIRE)) {
            struct timespec ts;
            clock_gettime(CLOCK_REALTIME, &ts);
            ts.tv_sec += 1;
            pthread_cond_timedwait(&cond, &cond_m, &ts);
        }
        pthread_mutex_unlock(&cond_m);
    } else if (is("c11cnd")) {
        mtx_lock(&c11_m);
        while (!__atomic_load_n(&flag, __ATOMIC_ACQUIRE)) {
            struct timespec ts;
            clock_gettime(CLOCK_REALTIME, &ts);
            ts.tv_sec += 1;
            cnd_timedwait(&c11_c, &c11_m, &ts);
        }
        mtx_unlock(&c11_m);
    } else if (is("sem")) {
        sem_wait(&sem);
    } else if (is("semtry")) {
        while (sem_trywait(&sem) != 0)
            sched_yield();
    } else if (is("barrier")) {
        pthread_barrier_wait(&barrier);
    } else {
        while (!flag_set_under())
            sched_yield();
    }
    write_shared(2);
    return NULL;
}

int main(int argc, char **argv)
{
    mode = argc > 1 ? argv[1] : "mutex";
    LOCKRACE_WATCH(shared, "shared");
    pthread_spin_init(&spin, 0);
    sem_init(&sem, 0, 0);
    pthread_barrier_init(&barrier, NULL, 2);
    mtx_init(&c11_m, mtx_plain);
    cnd_init(&c11_c);
    pthread_t a, b;
    if (is("create")) {             /* main writes, then creates the writer */
        write_shared(1);
        pthread_create(&b, NULL, writer, (void *)2L);
        pthread_join(b, NULL);
    } else if (is("join")) {        /* a thread writes, main joins it, then writes */
        pthread_create(&a, NULL, writer, (void *)1L);
        pthread_join(a, NULL);
        write_shared(2);
    } else {
        pthread_create(&b, NULL, second, NULL);
        pthread_create(&a, NULL, first, NULL);
        pthread_join(a, NULL);
        pthread_join(b, NULL);
    }
    printf("%s: shared = %ld\n", mode, shared);
    return 0;
}
