/* lock_places (buggy): one thread takes three locks in a cycle, one in a
 * MAP_SHARED mapping (process-shared), one from malloc, one in an anonymous
 * private mapping (as malloc's other arenas are). Expected: one lock-order
 * inversion whose locks are in shared memory, on the heap and on the heap:
 * each named by where it really is, none by a symbol. */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>

static void in_order(pthread_mutex_t *first, pthread_mutex_t *second)
{
    pthread_mutex_lock(first);
    pthread_mutex_lock(second);
    pthread_mutex_unlock(second);
    pthread_mutex_unlock(first);
}

int main(void)
{
    pthread_mutex_t *shared = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    pthread_mutex_t *private = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    pthread_mutex_t *heap = malloc(sizeof *heap);
    if (shared == MAP_FAILED || private == MAP_FAILED || !heap)
        return 1;
    pthread_mutexattr_t attr;
    pthread_mutexattr_init(&attr);
    pthread_mutexattr_setpshared(&attr, PTHREAD_PROCESS_SHARED);
    pthread_mutex_init(shared, &attr);
    pthread_mutex_init(private, NULL);
    pthread_mutex_init(heap, NULL);
    in_order(shared, heap);
    in_order(heap, private);
    in_order(private, shared);
    printf("lock_places: shared %p heap %p private %p\n", (void *)shared, (void *)heap, (void *)private);
    return 0;
}
