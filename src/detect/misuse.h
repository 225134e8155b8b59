/* API misuse: calls that POSIX leaves undefined or that fail, found on the
 * paths lockrace already takes and checked against the objects' own state
 * (glibc's owner and kind fields), so that a lock lockrace did not see
 * being taken is never reported as not held. Each kind is reported once
 * per call site, with the stack of the call and of the earlier event it
 * conflicts with (where the holder took the lock, where it was destroyed,
 * where the other thread waits). */
#ifndef LR_MISUSE_H
#define LR_MISUSE_H

#include "model/thread.h"

#include <pthread.h>
#include <semaphore.h>

enum lr_misuse {
    LR_MISUSE_UNLOCK_NOT_HELD,      /* mutex unlocked by a thread that does not hold it */
    LR_MISUSE_UNLOCK_NOT_LOCKED,    /* rwlock or spinlock unlocked while not locked */
    LR_MISUSE_RELOCK,               /* error-checking mutex locked again by its owner (EDEADLK) */
    LR_MISUSE_DESTROY_LOCKED,       /* mutex destroyed while locked (EBUSY) */
    LR_MISUSE_LOCK_DESTROYED,       /* mutex locked after pthread_mutex_destroy, not initialised again */
    LR_MISUSE_REINIT_LOCKED,        /* mutex initialised again while locked */
    LR_MISUSE_COND_UNHELD,          /* condition wait with a mutex the waiter does not hold */
    LR_MISUSE_COND_TWO_MUTEXES,     /* one condition waited on with two mutexes at once */
    LR_MISUSE_EXIT_HOLDING,         /* a thread ended holding locks */
    LR_MISUSE_BARRIER_ZERO,         /* barrier initialised with a count of 0 (EINVAL) */
    LR_MISUSE_COND_DESTROY_WAITED,  /* condition destroyed while a thread still waits on it */
    LR_MISUSE_RWLOCK_RELOCK,        /* rwlock asked for (read or write) by its writer (EDEADLK) */
    LR_MISUSE_REINIT,               /* mutex, rwlock or condition initialised again, not destroyed */
    LR_MISUSE_REUSED_LOCKED,        /* a mutex initialised where one still locked was (not static) */
    LR_MISUSE_DESTROY_MISCOUNTED,   /* unlocked mutex whose destroy fails (EBUSY) after a bad unlock */
    LR_MISUSE_LOCK_INVALID,         /* mutex that reads as destroyed, with no destroy on record */
    /* semaphores from here on (report.c names the object so) */
    LR_MISUSE_SEM_DESTROY_WAITED,   /* semaphore destroyed while threads are blocked on it */
    LR_MISUSE_SEM_DESTROYED,        /* semaphore posted or waited after sem_destroy */
    LR_MISUSE_SEM_INIT_INVALID,     /* sem_init with a value over SEM_VALUE_MAX (EINVAL) */
    LR_MISUSE_SEM_OVERFLOW,         /* sem_post of a semaphore at SEM_VALUE_MAX (EOVERFLOW) */
    LR_MISUSE_SEM_INVALID,          /* wait or post on bytes that cannot be a semaphore */
    LR_MISUSE_KINDS
};

const char *lr_misuse_name(int kind);

/* Checks made by the runtime's glue; self may be NULL (passing through). */
void lr_misuse_mutex_unlock(lr_thread *self, pthread_mutex_t *m) __attribute__((cold));
void lr_misuse_mutex_lock(lr_thread *self, pthread_mutex_t *m) __attribute__((cold));
void lr_misuse_mutex_init(lr_thread *self, pthread_mutex_t *m) __attribute__((cold));
void lr_misuse_mutex_destroy(lr_thread *self, pthread_mutex_t *m) __attribute__((cold));
void lr_misuse_mutex_destroyed(lr_thread *self, pthread_mutex_t *m) __attribute__((cold));
void lr_misuse_rwlock_unlock(lr_thread *self, pthread_rwlock_t *rw) __attribute__((cold));
void lr_misuse_rwlock_relock(lr_thread *self, pthread_rwlock_t *rw) __attribute__((cold));
/* Before the wait (1: reported waiting without the mutex); after it is
 * published (lr_wait_begin): another waiter with another mutex. */
int lr_misuse_cond_wait(lr_thread *self, pthread_cond_t *c, pthread_mutex_t *m) __attribute__((cold));
void lr_misuse_cond_waiting(lr_thread *self, pthread_cond_t *c, pthread_mutex_t *m) __attribute__((cold));
/* exited: through pthread_exit, whose call site is the report's stack;
 * else the start routine returned, and there is no call to show. */
void lr_misuse_thread_end(lr_thread *self, int exited) __attribute__((cold));
/* main returned or called exit(): the runtime calls it only then. */
void lr_misuse_main_end(lr_thread *self) __attribute__((cold));
/* 1 when the destroy will wait forever for a waiter (reported): the
 * runtime then treats it as a deadlock (lr_cond_destroy). */
int lr_misuse_cond_destroy(lr_thread *self, pthread_cond_t *c) __attribute__((cold));
void lr_misuse_sem_init(lr_thread *self, sem_t *s) __attribute__((cold));
void lr_misuse_sem_destroy(lr_thread *self, sem_t *s) __attribute__((cold));
void lr_misuse_sem_destroyed(lr_thread *self, sem_t *s) __attribute__((cold));
void lr_misuse_sem_use(lr_thread *self, sem_t *s);
/* After a sem_init or sem_post that failed (rc -1) with err. */
void lr_misuse_sem_init_failed(lr_thread *self, sem_t *s, unsigned value, int err) __attribute__((cold));
void lr_misuse_sem_post_failed(lr_thread *self, sem_t *s, int err) __attribute__((cold));
void lr_misuse_barrier_init(lr_thread *self, pthread_barrier_t *b, unsigned count) __attribute__((cold));

/* What an init made at an address: only the same kind made again without
 * a destroy is a re-initialisation; another kind is the memory reused. */
enum lr_obj_kind { LR_OBJ_OTHER, LR_OBJ_MUTEX, LR_OBJ_RWLOCK, LR_OBJ_COND, LR_OBJ_SEM };

/* After an init (rc its result) and a destroy of any kind of object. */
void lr_misuse_initialised(lr_thread *self, void *obj, int kind, int rc) __attribute__((cold));
void lr_misuse_uninitialised(lr_thread *self, void *obj, int rc) __attribute__((cold));

/* A glibc mutex that pthread_mutex_destroy marked and nothing re-initialised. */
static inline int lr_mutex_destroyed(const pthread_mutex_t *m)
{
    return m->__data.__kind == -1;
}

/* After fork, in the child: lockrace's misuse tables start afresh (misuse.c). */
void lr_misuse_fork_child(void);

#endif
