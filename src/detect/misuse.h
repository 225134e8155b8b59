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
#include "report/report.h"

#include <pthread.h>
#include <semaphore.h>

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
/* A thread's very end (after its cleanup handlers and exit-time
 * destructors): a lock it still holds stays held for good. exit_stack:
 * where it called pthread_exit, 0 when its start routine returned. */
void lr_misuse_thread_end(lr_thread *self, lr_stack_id exit_stack) __attribute__((cold));
/* main returned or called exit(): the runtime calls it only then. */
void lr_misuse_main_end(lr_thread *self) __attribute__((cold));
/* 1 when the destroy will wait forever for a waiter (reported): the
 * runtime then treats it as a deadlock (lr_cond_destroy). */
int lr_misuse_cond_destroy(lr_thread *self, pthread_cond_t *c) __attribute__((cold));
void lr_misuse_sem_init(lr_thread *self, sem_t *s) __attribute__((cold));
void lr_misuse_sem_destroy(lr_thread *self, sem_t *s) __attribute__((cold));
/* where: whether to keep the destroy's stack (a use after it names it) */
void lr_misuse_sem_destroyed(lr_thread *self, sem_t *s, int where) __attribute__((cold));
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
