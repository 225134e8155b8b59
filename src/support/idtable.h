/* Records interned under a number: each new record gets the next id (1,
 * 2, ...), found again by its hash through an open-addressing index, and
 * by its id with no lock (pages that never move). Stacks (stack.c) and
 * Python frames (python.c) are kept this way. Finding and adding run
 * under the owner's lock; a record's first field is its uint64_t hash. */
#ifndef LR_IDTABLE_H
#define LR_IDTABLE_H

#include <stddef.h>
#include <stdint.h>

#define LR_IDTABLE_PAGE_BITS 12
#define LR_IDTABLE_PAGES 65536          /* 2^28 records: no practical limit */

typedef struct lr_idtable {
    void **pages[LR_IDTABLE_PAGES];
    uint32_t count;                     /* ids 1..count are used */
    uint32_t *slots;                    /* hash → id, 0 empty */
    uint32_t cap;
} lr_idtable;

/* The record with this id, NULL for one not (yet) added. Any thread. */
static inline void *lr_idtable_get(lr_idtable *t, uint32_t id)
{
    if ((id >> LR_IDTABLE_PAGE_BITS) >= LR_IDTABLE_PAGES)
        return NULL;
    void **page = __atomic_load_n(&t->pages[id >> LR_IDTABLE_PAGE_BITS], __ATOMIC_ACQUIRE);
    return page ? __atomic_load_n(&page[id & ((1u << LR_IDTABLE_PAGE_BITS) - 1)], __ATOMIC_ACQUIRE) : NULL;
}

/* The id of the record with this hash that same(record, key) accepts, or
 * 0 with *slot set to where a new one goes (UINT32_MAX: out of memory). */
uint32_t lr_idtable_find(lr_idtable *t, uint64_t hash, int (*same)(const void *record, const void *key),
                         const void *key, uint32_t *slot);

/* Gives record the next id, at the slot find returned; 0 when out of
 * room or memory (the record is then not in the table). */
uint32_t lr_idtable_add(lr_idtable *t, uint32_t slot, void *record);

#endif
