/* The bump arena behind lr_arena_alloc: chunks of 1 MiB from mmap, carved
 * under one internal lock. Only slow paths allocate (a new lock, a new
 * edge, a new stack), so the lock is never on a lock/unlock fast path. */
#include "arena.h"
#include "ilock.h"

#include <string.h>
#include <sys/mman.h>

#define CHUNK (1u << 20)

static lr_ilock arena_lock = LR_ILOCK_INIT;
static char *cur, *end;

void *lr_map(size_t size)
{
    void *p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    return p == MAP_FAILED ? NULL : p;
}

void lr_unmap(void *p, size_t size)
{
    if (p)
        munmap(p, size);
}

void *lr_arena_alloc(size_t size)
{
    size = (size + 15) & ~(size_t)15;
    if (size > CHUNK / 4)
        return lr_map(size);
    lr_ilock_take(&arena_lock);
    if (!cur || (size_t)(end - cur) < size) {
        char *chunk = lr_map(CHUNK);
        if (!chunk) {
            lr_ilock_drop(&arena_lock);
            return NULL;
        }
        cur = chunk;
        end = chunk + CHUNK;
    }
    void *p = cur;
    cur += size;
    lr_ilock_drop(&arena_lock);
    return p;
}

char *lr_arena_strdup(const char *s)
{
    size_t n = strlen(s) + 1;
    char *p = lr_arena_alloc(n);
    if (p)
        memcpy(p, s, n);
    return p;
}

void lr_arena_fork_prepare(void) { lr_ilock_take(&arena_lock); }
void lr_arena_fork_parent(void) { lr_ilock_drop(&arena_lock); }
void lr_arena_fork_child(void) { lr_ilock_reset(&arena_lock); }
