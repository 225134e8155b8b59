/* The bump arena behind lr_arena_alloc: chunks of 1 MiB from mmap, carved
 * under one internal lock. Only slow paths allocate (a new lock, a new
 * edge, a new stack), so the lock is never on a lock/unlock fast path. */
#include "support/arena.h"
#include "support/ilock.h"

#include <sanitizer/asan_interface.h>
#include <string.h>
#include <sys/mman.h>

#define CHUNK (1u << 20)
/* In the ASan build (LOCKRACE_SANITIZE) a chunk starts poisoned and each
 * allocation is unpoisoned to its exact size and followed by a gap, as
 * malloc's blocks are: without them ASan would see no overrun of lockrace's
 * own records, which nearly all live here. */
#ifdef __SANITIZE_ADDRESS__
#define REDZONE 16
#else
#define REDZONE 0
#endif

static lr_ilock arena_lock = LR_ILOCK_INIT;
static char *cur, *end;

static void *map(size_t size, int flags)
{
    void *p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | flags, -1, 0);
    return p == MAP_FAILED ? NULL : p;
}

void *lr_map(size_t size)
{
    return map(size, 0);
}

void *lr_map_filled(size_t size)
{
    return map(size, MAP_POPULATE);
}

void lr_unmap(void *p, size_t size)
{
    if (p)
        munmap(p, size);
}

void *lr_arena_alloc(size_t want)
{
    size_t size = ((want + 15) & ~(size_t)15) + REDZONE;
    if (size > CHUNK / 4)
        return lr_map(size);
    lr_ilock_take(&arena_lock);
    if (!cur || (size_t)(end - cur) < size) {
        /* the first chunk fills as the process goes; a process that
         * needs another uses it all, and takes its pages in one call */
        char *chunk = cur ? lr_map_filled(CHUNK) : lr_map(CHUNK);
        if (!chunk) {
            lr_ilock_drop(&arena_lock);
            return NULL;
        }
        ASAN_POISON_MEMORY_REGION(chunk, CHUNK);
        cur = chunk;
        end = chunk + CHUNK;
    }
    void *p = cur;
    cur += size;
    lr_ilock_drop(&arena_lock);
    ASAN_UNPOISON_MEMORY_REGION(p, want);
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
