/* lockrace's memory: never the host's malloc (the host's allocator may take
 * locks that pass through lockrace, and malloc is not safe everywhere we run).
 * Small records come from a bump arena that is never freed; large growable
 * arrays are mapped directly. */
#ifndef LR_ARENA_H
#define LR_ARENA_H

#include <stddef.h>

void *lr_arena_alloc(size_t size);          /* zeroed, 16-byte aligned; NULL when out of memory */
char *lr_arena_strdup(const char *s);
void *lr_map(size_t size);                  /* zeroed pages; NULL on failure */
void *lr_map_filled(size_t size);           /* the same, every page made now (it will all be used) */
void lr_unmap(void *p, size_t size);
void lr_arena_fork_prepare(void);
void lr_arena_fork_parent(void);
void lr_arena_fork_child(void);

#endif
