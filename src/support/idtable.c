/* The id table of idtable.h. */
#include "support/idtable.h"
#include "support/arena.h"

static uint64_t hash_of(lr_idtable *t, uint32_t id)
{
    return *(const uint64_t *)lr_idtable_get(t, id);
}

static int grow(lr_idtable *t)
{
    uint32_t cap = t->cap ? t->cap * 2 : 1024;
    uint32_t *slots = lr_map(cap * sizeof *slots);
    if (!slots)
        return -1;
    for (uint32_t i = 0; i < t->cap; i++) {
        uint32_t id = t->slots[i];
        if (!id)
            continue;
        uint32_t j = (uint32_t)hash_of(t, id) & (cap - 1);
        while (slots[j])
            j = (j + 1) & (cap - 1);
        slots[j] = id;
    }
    lr_unmap(t->slots, t->cap * sizeof *t->slots);
    t->slots = slots;
    t->cap = cap;
    return 0;
}

uint32_t lr_idtable_find(lr_idtable *t, uint64_t hash, int (*same)(const void *record, const void *key),
                         const void *key, uint32_t *slot)
{
    *slot = UINT32_MAX;
    if ((t->count + 1) * 2 >= t->cap && grow(t) < 0)
        return 0;
    uint32_t j = (uint32_t)hash & (t->cap - 1);
    for (; t->slots[j]; j = (j + 1) & (t->cap - 1)) {
        uint32_t id = t->slots[j];
        if (hash_of(t, id) == hash && same(lr_idtable_get(t, id), key))
            return id;
    }
    *slot = j;
    return 0;
}

uint32_t lr_idtable_add(lr_idtable *t, uint32_t slot, void *record)
{
    uint32_t id = t->count + 1;
    if (slot == UINT32_MAX || (id >> LR_IDTABLE_PAGE_BITS) >= LR_IDTABLE_PAGES)
        return 0;
    void **page = t->pages[id >> LR_IDTABLE_PAGE_BITS];
    if (!page) {
        page = lr_arena_alloc(sizeof(void *) << LR_IDTABLE_PAGE_BITS);
        if (!page)
            return 0;
        __atomic_store_n(&t->pages[id >> LR_IDTABLE_PAGE_BITS], page, __ATOMIC_RELEASE);
    }
    __atomic_store_n(&page[id & ((1u << LR_IDTABLE_PAGE_BITS) - 1)], record, __ATOMIC_RELEASE);
    __atomic_store_n(&t->count, id, __ATOMIC_RELAXED);     /* read without the lock too */
    t->slots[slot] = id;
    return id;
}
