/* Python programs in Python's terms: a stack's Python frames as printed
 * frames, the interpreter's C frames folded away (python_c_frames=1 shows
 * them), and a lock named by the Python line that made it. Report layer:
 * called only while a report is printed. */
#ifndef LR_PYSTACK_H
#define LR_PYSTACK_H

#include "support/stack.h"
#include "support/symbolize.h"

#include <stddef.h>
#include <stdint.h>

/* pcs[0..n) and info[0..n): a stack's C frames, expanded (inlined frames
 * share their pc); py[0..npy): its Python frames, innermost first. Makes
 * the frames to print in place (at most max) and returns their number. A
 * Python frame keeps its tagged value as its pc (lr_python_is_frame) and
 * has no module. */
int lr_pystack_merge(uintptr_t *pcs, lr_code_info *info, int n, int max, const uintptr_t *py,
                     int npy);

/* The name of a lock made where this stack was taken, from its Python
 * frames: "accounts_lock (demos/python/abba.py:11)", the variable read from
 * that source line (NAME = ...), else "lock made at FILE:LINE". The line
 * is the innermost of the program's own (not the standard library's: a
 * Condition's lock is named by the line that made the Condition); " via
 * FUNCTION" names the library function that made it. Returns -1 when the
 * stack has no Python frame. */
int lr_pystack_lock_name(lr_stack_id stack, char *buf, size_t len);

#endif
