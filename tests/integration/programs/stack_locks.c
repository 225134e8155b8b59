/* Mutexes on threads' stacks, each pair taken in both orders by one
 * thread (a single-thread cycle, reported): by main, by a thread with
 * glibc's default stack, by one with a 64 KiB stack and by one on a stack
 * the program allocated (pthread_attr_setstack). Each report must say
 * the locks are on that thread's stack. */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

/* a macro, so that each thread's cycle is made at its own lines: the
 * same cycle of code paths would be reported once */
#define INVERT_ON_MY_STACK()                     \
    do {                                         \
        pthread_mutex_t first, second;           \
        pthread_mutex_init(&first, NULL);        \
        pthread_mutex_init(&second, NULL);       \
        pthread_mutex_lock(&first);              \
        pthread_mutex_lock(&second);             \
        pthread_mutex_unlock(&second);           \
        pthread_mutex_unlock(&first);            \
        pthread_mutex_lock(&second);             \
        pthread_mutex_lock(&first);              \
        pthread_mutex_unlock(&first);            \
        pthread_mutex_unlock(&second);           \
        pthread_mutex_destroy(&first);           \
        pthread_mutex_destroy(&second);          \
    } while (0)

static void *default_stack(void *arg)
{
    pthread_setname_np(pthread_self(), "default-stack");
    INVERT_ON_MY_STACK();
    return arg;
}

static void *small_stack(void *arg)
{
    pthread_setname_np(pthread_self(), "small-stack");
    INVERT_ON_MY_STACK();
    return arg;
}

static void *own_stack(void *arg)
{
    pthread_setname_np(pthread_self(), "own-stack");
    INVERT_ON_MY_STACK();
    return arg;
}

static void run(void *(*worker)(void *), size_t stack_size, void *stack)
{
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    if (stack)
        pthread_attr_setstack(&attr, stack, stack_size);
    else if (stack_size)
        pthread_attr_setstacksize(&attr, stack_size);
    pthread_t t;
    pthread_create(&t, &attr, worker, NULL);
    pthread_join(t, NULL);
    pthread_attr_destroy(&attr);
}

int main(void)
{
    INVERT_ON_MY_STACK();
    run(default_stack, 0, NULL);
    run(small_stack, 64 << 10, NULL);
    size_t size = 1 << 20;
    void *own = NULL;
    if (posix_memalign(&own, 4096, size) != 0)
        return 1;
    run(own_stack, size, own);
    free(own);
    puts("stack_locks: done");
    return 0;
}
