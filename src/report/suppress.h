/* Suppressions (suppressions=FILE): lines "KIND:PATTERN", as the sanitizers
 * have them. KIND is a report kind (lock-order-inversion, deadlock, stall,
 * data-race, lost-update, misuse) or *, whose PATTERN ('*' matching any run
 * of characters) must match a whole name; or one of ThreadSanitizer's types
 * (race, race_top, deadlock, mutex, thread, signal, called_from_lib), for
 * the lockrace kinds it stands for, whose PATTERN matches anywhere in a
 * name unless anchored with '^' or '$' (docs/suppressions.md). Names are
 * the functions, source files and (TSan's types) modules of the report's
 * stacks, and its lock and variable names. '#' starts a comment; blank
 * lines are ignored. A suppressed report is not printed and does not
 * change the exit status, but is counted at exit. */
#ifndef LR_SUPPRESS_H
#define LR_SUPPRESS_H

#include <stddef.h>

/* Reads the file named by the option; on a bad file or line, writes one
 * line naming it (file:line, what is accepted) and returns -1. */
int lr_suppress_load(const char *path);

/* The rules of a suppressions file's text, added to those already read;
 * name is the file's, for the error line. NUL bytes end their line. */
int lr_suppress_parse(const char *name, const char *data, size_t len);

#ifdef LR_TEST_HOOKS
/* Forgets every rule (the fuzz target reads many files in one process). */
void lr_suppress_reset(void);
#endif

/* What of a report a rule may look at. */
enum { LR_SUPPRESS_NAME = 1,    /* a lock or variable name */
       LR_SUPPRESS_FRAME = 2,   /* a frame's function or file, any frame */
       LR_SUPPRESS_TOP = 4,     /* the same, of a stack's top frame (TSan's race_top) */
       LR_SUPPRESS_MODULE = 8   /* a frame's module: the program or a library (called_from_lib) */ };

/* 1 when a rule for this kind (name as in JSON) matches text: a lock or
 * variable name, or a function or file. */
int lr_suppress_match(const char *kind, const char *text);
/* The same, for a lock or variable name only. */
int lr_suppress_match_name(const char *kind, const char *text);

/* 1 when a rule for this kind matches a frame of one of the report's
 * stacks: its function, file (and the file's base name), module; top: it is
 * the stack's first frame. Any of the names may be NULL. */
int lr_suppress_match_frame(const char *kind, const char *function, const char *file, const char *module,
                            int top);

/* Whether any rule exists (nothing to match otherwise). */
int lr_suppress_any(void);

/* glob with '*' only, matching the whole text; exposed for the unit tests */
int lr_glob(const char *pattern, const char *text);

#endif
