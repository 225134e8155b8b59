/* Where reports are written (inside src/report/ only): stderr as the
 * process started with it, log_path, json and log_dir files (output.c).
 * Called under report_lock. */
#ifndef LR_REPORT_OUTPUT_H
#define LR_REPORT_OUTPUT_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* At start: keeps a copy of stderr and opens the files, so that one that
 * cannot be written is said at once. */
void lr_out_init(void);
/* Text: the log_path file, else stderr. */
void lr_out_text(const char *data, size_t len);
/* JSON lines: the json file and the log_dir file. */
void lr_out_json(const char *data, size_t len);
/* A JSON report has somewhere to go. */
int lr_out_json_wanted(void);
/* The exit record: only in this process's own log_dir file (a forked
 * child that never reported has none, and gets none for this). */
void lr_out_exit(int status, uint32_t threads, uint32_t locks);
/* The exit record of a child the caller reaped (its exit status, or the
 * signal that ended it), in the child's log_dir file when there is one
 * (never created here: a child lockrace did not run in, or a forked one
 * that never reported, has none). Any thread, no lock needed. */
void lr_out_child_exit(pid_t pid, int code, int signaled);
/* A forked child lets go of its parent's stderr copy. */
void lr_out_fork_child(void);

#endif
