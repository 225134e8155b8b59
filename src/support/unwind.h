/* A fast walk of the calling thread's frames (x86-64): each frame's
 * unwind rule, read once from its DWARF call frame information, is cached
 * by return address, so that a frame met before costs a table probe and
 * two loads instead of libgcc's search for its FDE and run of its CFA
 * program (about 2,000 instructions a frame). Support layer: no lock, no
 * malloc; may run in a signal handler (it never walks through one). */
#ifndef LR_UNWIND_H
#define LR_UNWIND_H

#include <stdint.h>

/* find_fde: libgcc's _Unwind_Find_FDE, which the rules are read from
 * (NULL: no fast walk). */
void lr_unwind_init(const void *(*find_fde)(void *pc, void *bases));

/* What a walk keeps: frames in [self_lo, self_hi) are lockrace's and do
 * not count towards keep; with fold, the walk ends at the first frame
 * whose return address - 1 fold() accepts. */
typedef struct lr_unwind_limits {
    int max, keep;
    uintptr_t self_lo, self_hi;
    int (*fold)(uintptr_t pc);          /* NULL: no fold */
} lr_unwind_limits;

/* The return addresses into the caller and on, innermost first, as a
 * function that the caller calls instead gets them from libgcc's
 * _Unwind_Backtrace, leaving its own frame out: the same frames, the same
 * ends. -1 when some frame's rule is not one this walker follows (a signal
 * frame, a CFA computed by an expression, no FDE, the end of the stack):
 * the caller walks with libgcc then. */
int lr_unwind_fast(void **out, const lr_unwind_limits *limits);

#endif
