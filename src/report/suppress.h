/* Suppressions (suppressions=FILE): lines "KIND:PATTERN", as the sanitizers
 * have them. KIND is a report kind (lock-order-inversion, deadlock, stall,
 * data-race, lost-update, misuse) or *; PATTERN, with * matching any run of
 * characters, is matched against every function and source file of the
 * report's stacks and against its lock and variable names. '#' starts a
 * comment; blank lines are ignored. A suppressed report is not printed and
 * does not change the exit status, but is counted at exit. */
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

/* 1 when a rule of this kind (name as in JSON) matches text. */
int lr_suppress_match(const char *kind, const char *text);

/* Whether any rule exists (nothing to match otherwise). */
int lr_suppress_any(void);

/* glob with '*' only; exposed for the unit tests */
int lr_glob(const char *pattern, const char *text);

#endif
