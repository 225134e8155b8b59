/* The variables watched, and which of them an address falls in: decoding
 * asks for every instruction of every function it reads, so with watch=*
 * (thousands of variables) the answer is a binary search, not a walk.
 * The index is made at start (malloc is fine there) and only read after:
 * an access in a callee's copy asks it too (lr_watch_var_running).
 * Variables through a pointer (NAME->MEMBER) have no static address and
 * stay out of it: a short list of their own, asked by the pointer's
 * address. */
#include "watch/internal.h"
#include "support/arena.h"

#include <stdlib.h>

watch_var *lr_watch_vars;
int lr_watch_nvars;

/* Variable numbers sorted by lo (and by sym_lo), and the highest hi (sym_hi)
 * up to each position: named members and ranges may overlap, so a search
 * walks down from the last start before the range while something that
 * started earlier still reaches it. */
static int *by_lo, *by_sym;
static uintptr_t *reach_lo, *reach_sym;
static size_t indexed;          /* the variables in the index: those before its last making */
static int *through;            /* the NAME->MEMBER variables, by number */
static size_t nthrough;
static uintptr_t all_lo = UINTPTR_MAX, all_hi;  /* what every variable of the index lies in */

watch_var *lr_watch_new_var(void)
{
    if (!lr_watch_vars)
        lr_watch_vars = lr_map(MAX_VARS * sizeof *lr_watch_vars);
    if (!lr_watch_vars || lr_watch_nvars == MAX_VARS)
        return NULL;
    return &lr_watch_vars[lr_watch_nvars];
}

static int cmp_lo(const void *a, const void *b)
{
    uintptr_t x = lr_watch_vars[*(const int *)a].lo, y = lr_watch_vars[*(const int *)b].lo;
    return x < y ? -1 : x > y;
}

static int cmp_sym(const void *a, const void *b)
{
    uintptr_t x = lr_watch_vars[*(const int *)a].sym_lo, y = lr_watch_vars[*(const int *)b].sym_lo;
    return x < y ? -1 : x > y;
}

int lr_watch_index(void)
{
    size_t n = (size_t)lr_watch_nvars;
    free(by_lo);
    free(by_sym);
    free(reach_lo);
    free(reach_sym);
    free(through);
    by_lo = malloc((n + 1) * sizeof *by_lo);
    by_sym = malloc((n + 1) * sizeof *by_sym);
    reach_lo = malloc((n + 1) * sizeof *reach_lo);
    reach_sym = malloc((n + 1) * sizeof *reach_sym);
    through = malloc((n + 1) * sizeof *through);
    indexed = nthrough = 0;
    if (!by_lo || !by_sym || !reach_lo || !reach_sym || !through)
        return -1;
    all_lo = UINTPTR_MAX;
    all_hi = 0;
    size_t m = 0;
    for (size_t i = 0; i < n; i++) {
        if (lr_watch_vars[i].through) {
            through[nthrough++] = (int)i;
            continue;
        }
        by_lo[m] = by_sym[m] = (int)i;
        m++;
        all_lo = lr_watch_vars[i].lo < all_lo ? lr_watch_vars[i].lo : all_lo;
        all_hi = lr_watch_vars[i].hi > all_hi ? lr_watch_vars[i].hi : all_hi;
    }
    n = indexed = m;
    qsort(by_lo, n, sizeof *by_lo, cmp_lo);
    qsort(by_sym, n, sizeof *by_sym, cmp_sym);
    for (size_t i = 0; i < n; i++) {
        uintptr_t hi = lr_watch_vars[by_lo[i]].hi, sym_hi = lr_watch_vars[by_sym[i]].sym_hi;
        reach_lo[i] = i && reach_lo[i - 1] > hi ? reach_lo[i - 1] : hi;
        reach_sym[i] = i && reach_sym[i - 1] > sym_hi ? reach_sym[i - 1] : sym_hi;
    }
    return 0;
}

/* The number of sorted starts below end. */
static size_t starts_below(const int *order, int sym, uintptr_t end)
{
    size_t lo = 0, hi = indexed;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        const watch_var *v = &lr_watch_vars[order[mid]];
        if ((sym ? v->sym_lo : v->lo) < end)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

int lr_watch_var_at(uintptr_t a, uintptr_t size)
{
    int best = -1;
    for (size_t j = starts_below(by_lo, 0, a + size); j > 0 && reach_lo[j - 1] > a; j--) {
        int i = by_lo[j - 1];
        if (lr_watch_vars[i].hi > a && (best < 0 || i < best))
            best = i;
    }
    return best;
}

int lr_watch_symbol_at(uintptr_t a)
{
    int best = -1;
    for (size_t j = starts_below(by_sym, 1, a + 1); j > 0 && reach_sym[j - 1] > a; j--) {
        int i = by_sym[j - 1];
        if (lr_watch_vars[i].sym_hi > a && (best < 0 || i < best))
            best = i;
    }
    return best;
}

/* On an access through a pointer in a callee's copy, from any thread: most
 * such pointers are not into any watched variable, and the bounds of all
 * of them turn those away with two compares. A variable through a pointer
 * is where its pointer points now. */
int lr_watch_var_running(uintptr_t a, uintptr_t size)
{
    int v = a >= all_hi || a + size <= all_lo ? -1 : lr_watch_var_at(a, size);
    for (size_t i = 0; v < 0 && i < nthrough; i++) {
        const watch_var *t = &lr_watch_vars[through[i]];
        uintptr_t lo = __atomic_load_n((const uintptr_t *)t->through, __ATOMIC_RELAXED) + t->off;
        if (a < lo + t->len && a + size > lo)
            v = through[i];
    }
    return v;
}

/* What every watched variable lies in, for a copy's accesses to turn away
 * the others before any call: everything, when one is through a pointer
 * (its object may be anywhere). */
void lr_watch_bounds(uintptr_t *lo, uintptr_t *hi)
{
    *lo = nthrough ? 0 : all_lo;
    *hi = nthrough ? UINTPTR_MAX : all_hi;
}

int lr_watch_through_var(uintptr_t pointer)
{
    for (size_t i = 0; i < nthrough; i++)
        if (lr_watch_vars[through[i]].through == pointer)
            return through[i];
    return -1;
}

int lr_watch_through_at(uintptr_t pointer, int64_t disp, uint32_t size)
{
    for (size_t i = 0; i < nthrough; i++) {
        const watch_var *v = &lr_watch_vars[through[i]];
        if (v->through == pointer && disp < (int64_t)(v->off + v->len) && disp + (int64_t)size > (int64_t)v->off)
            return through[i];
    }
    return -1;
}
