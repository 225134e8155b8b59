/* Vector clocks for happens-before: one entry per thread id (lockrace's
 * T0, T1, ...), missing entries are 0. A thread's own entry starts at 1 and
 * grows at each release it makes, so an access is named by an epoch
 * (thread, clock) and "a happened before b's thread" is one comparison:
 * clock <= b's clock of a's thread (FastTrack).
 *
 * Storage comes from the arena, which never frees: a clock that grows
 * leaves its old array behind, at most as much again as its final size. */
#ifndef LR_VCLOCK_H
#define LR_VCLOCK_H

#include "support/arena.h"

#include <stdint.h>
#include <string.h>

typedef struct lr_vc {
    uint32_t n;                 /* entries in c */
    uint32_t *c;
} lr_vc;

static inline uint32_t lr_vc_get(const lr_vc *v, uint32_t thread)
{
    return thread < v->n ? v->c[thread] : 0;
}

/* Makes room for n entries; -1 when out of memory (the clock is unchanged). */
static inline int lr_vc_reserve(lr_vc *v, uint32_t n)
{
    if (n <= v->n)
        return 0;
    uint32_t cap = v->n ? v->n : 8;
    while (cap < n)
        cap *= 2;
    uint32_t *c = lr_arena_alloc((size_t)cap * sizeof *c);
    if (!c)
        return -1;
    if (v->n)
        memcpy(c, v->c, (size_t)v->n * sizeof *c);
    v->c = c;
    v->n = cap;
    return 0;
}

static inline void lr_vc_set(lr_vc *v, uint32_t thread, uint32_t clock)
{
    if (lr_vc_reserve(v, thread + 1) == 0)
        v->c[thread] = clock;
}

/* dst = max(dst, src), entry by entry. */
static inline void lr_vc_join(lr_vc *dst, const lr_vc *src)
{
    uint32_t n = src->n;
    while (n && src->c[n - 1] == 0)
        n--;
    if (lr_vc_reserve(dst, n) != 0)
        return;
    for (uint32_t i = 0; i < n; i++)
        if (src->c[i] > dst->c[i])
            dst->c[i] = src->c[i];
}

/* dst = src */
static inline void lr_vc_copy(lr_vc *dst, const lr_vc *src)
{
    if (lr_vc_reserve(dst, src->n) != 0)
        return;
    memcpy(dst->c, src->c, (size_t)src->n * sizeof *dst->c);
    if (dst->n > src->n)
        memset(dst->c + src->n, 0, (size_t)(dst->n - src->n) * sizeof *dst->c);
}

/* The epoch (thread, clock) happened before the owner of v's present. */
static inline int lr_vc_covers(const lr_vc *v, uint32_t thread, uint32_t clock)
{
    return clock <= lr_vc_get(v, thread);
}

#endif
