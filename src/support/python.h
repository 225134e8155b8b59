/* CPython's frames in lockrace's stacks. When the process runs CPython
 * (a libpython, or a python executable linked with the interpreter), a
 * stack captured on a thread that holds the GIL also records that
 * thread's Python frames, read through the interpreter's own C API
 * (found with dlsym). A Python frame is stored in a stack as a tagged
 * value that no code address can be (above the user address space); it
 * names an interned (file, function, line). Support layer: it knows
 * nothing of locks or threads, and never runs Python code. */
#ifndef LR_PYTHON_H
#define LR_PYTHON_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define LR_PY_TAG 0xfff0000000000000ull

static inline int lr_python_is_frame(uintptr_t pc)
{
    return (pc & LR_PY_TAG) == LR_PY_TAG;
}

/* Looks for the interpreter's API in the process (at start-up). */
void lr_python_init(void);

/* 1 once an interpreter was found: a Python process. */
int lr_python_present(void);

/* Appends the calling thread's Python frames, innermost first, to out (at
 * most max); returns how many. 0 unless the process runs CPython, the
 * interpreter is initialised and not finalizing, and the thread holds the
 * GIL. c_pcs are the C frames just unwound: a signal frame among them (a
 * handler that interrupted the interpreter) means no reading either. */
int lr_python_capture(void *const *c_pcs, int nc, uintptr_t *out, int max);

/* Where the calling thread's innermost Python frame is: an address that
 * names its code and instruction (the line), for keying what is learnt
 * per call site by the Python line too; 0 when unknown (no Python code
 * runs, the thread does not hold the GIL, or this interpreter's layout
 * was not confirmed by a first lr_python_capture). A few loads and two of
 * the interpreter's functions that read its state, no Python code: cheap
 * enough for every lock acquisition. Call it from inside lockrace
 * (lr_enter), as lr_python_readable. */
uintptr_t lr_python_position(void);

/* The calling thread's Python call path, its `depth` innermost frames
 * (code and instruction of each), as a hash: the same whenever the Python
 * frames a stack would show are the same; 0 when unknown (as for
 * lr_python_position, or the caller links were not confirmed yet). For
 * keeping stacks per call site in a Python process. Inside lockrace only. */
uint64_t lr_python_path(int depth);

/* 1 once lr_python_path can read call paths: from then on it returns 0
 * only where a stack has no Python frame (the thread does not hold the GIL,
 * or runs no Python code). */
int lr_python_paths_known(void);

/* 1 when lr_python_capture would read the calling thread's frames now (the
 * interpreter runs and this thread holds the GIL), signal frames aside. It
 * asks the interpreter (PyGILState_Check): call it, as lr_python_capture,
 * only from inside lockrace (lr_enter), or the interpreter's code it runs
 * counts as the program's (a watched field of the interpreter's). */
int lr_python_readable(void);

typedef struct lr_py_frame {
    const char *file;           /* as Python has it: relative if the script was given so */
    const char *function;       /* the code's qualified name */
    int line;
} lr_py_frame;

/* The frame a tagged value names; -1 for none. */
int lr_python_frame(uintptr_t pc, lr_py_frame *out);

/* A frame's file as a report shows it: Python (3.9 on) makes the main
 * script's path absolute; under the directory the process started in it
 * is shown relative to it again, as the user typed it. */
const char *lr_python_shown_file(const char *file);

/* 1 when pc lies in the interpreter's code (libpython, or the python
 * executable that contains it). */
int lr_python_interpreter_code(uintptr_t pc);

/* 1 when pc lies in the interpreter's eval loop (_PyEval_EvalFrameDefault,
 * the function that runs Python code), 0 also when its extent is unknown.
 * No C signal handler runs Python code, so a signal frame on a stack that
 * runs Python lies above that loop's innermost frame. */
int lr_python_eval_loop(uintptr_t pc);

/* 1 when file is a module of the interpreter's standard library (its test
 * package excepted), not the program's own code. */
int lr_python_library_file(const char *file);

/* The name of the threading.Thread a thread runs ("worker-1", "Thread-2
 * (transfer)", with ", running FUNCTION" when the name does not say it),
 * read once, from its Thread._bootstrap_inner frame, the first time a
 * stack is captured there (its _tstate_lock is made there); NULL when none.
 * The thread is named by its kernel id and its pthread_t. */
const char *lr_python_thread_name(pid_t tid, uintptr_t handle);

void lr_python_fork_prepare(void);
void lr_python_fork_parent(void);
void lr_python_fork_child(void);

#endif
