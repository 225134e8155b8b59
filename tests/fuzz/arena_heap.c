/* src/support/arena.c for the fuzz targets: every lockrace allocation on malloc,
 * so that AddressSanitizer knows its bounds (a write one byte past an
 * lr_buf inside an mmap'd page goes unseen otherwise). Arena records are
 * kept in a list, which keeps them reachable for LeakSanitizer and lets a
 * target free what one input allocated (fuzz_arena_release). Very large
 * maps (tables sized for the worst case, touched sparsely) stay mmap'd.
 * Not thread-safe: the targets run lockrace's code on one thread. */
#include "support/arena.h"
#include "fuzz.h"

#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

enum { HEAP_MAX = 64 << 20 };

static void **records;
static size_t nrecords, records_cap;

void *lr_map(size_t size)
{
    if (size > HEAP_MAX) {
        void *p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        return p == MAP_FAILED ? NULL : p;
    }
    return calloc(1, size ? size : 1);
}

void *lr_map_filled(size_t size)
{
    return lr_map(size);
}

void lr_unmap(void *p, size_t size)
{
    if (size > HEAP_MAX)
        munmap(p, size);
    else
        free(p);
}

void *lr_arena_alloc(size_t size)
{
    if (nrecords == records_cap) {
        records_cap = records_cap ? records_cap * 2 : 1024;
        records = realloc(records, records_cap * sizeof *records);
        if (!records)
            abort();
    }
    void *p;
    /* the exact size, for AddressSanitizer: aligned_alloc would want a multiple of 16 */
    if (posix_memalign(&p, 16, size ? size : 1) != 0)
        return NULL;
    memset(p, 0, size);
    records[nrecords++] = p;
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

size_t fuzz_arena_mark(void)
{
    return nrecords;
}

void fuzz_arena_release(size_t mark)
{
    while (nrecords > mark)
        free(records[--nrecords]);
}

void lr_arena_fork_prepare(void) {}
void lr_arena_fork_parent(void) {}
void lr_arena_fork_child(void) {}
