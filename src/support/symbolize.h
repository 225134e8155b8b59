/* Symbolization: turns code addresses into function + file:line and data
 * addresses into variable names ("accounts[3].lock"), with elfutils libdwfl.
 * Only called when a report is printed, never on a lock path. The caller
 * has raised the thread's "inside lockrace" depth, so the pthread calls
 * libdw makes pass straight through the wrappers. */
#ifndef LR_SYMBOLIZE_H
#define LR_SYMBOLIZE_H

#include <stddef.h>
#include <stdint.h>

typedef struct lr_code_info {
    char function[160];   /* demangled when possible; "" when unknown */
    char file[256];       /* source file as recorded in DWARF; "" when unknown */
    int line;             /* 0 when unknown */
    char module[128];     /* basename of the object ("abba", "libc.so.6") */
    uintptr_t module_offset;  /* pc less the load bias: what addr2line -e MODULE takes */
    uintptr_t file_offset;    /* the byte of the module's file at module_offset */
} lr_code_info;

/* Describes the instruction at pc (already adjusted: for a return address
 * pass pc - 1). Returns 0 when at least the module is known, -1 otherwise
 * (the struct is then filled with empty strings). */
int lr_sym_code(uintptr_t pc, lr_code_info *out);

/* Expands pc (already adjusted, as for lr_sym_code) into its frames,
 * innermost first: the functions inlined at pc, then the function that
 * contains it. Each frame's file:line is where that frame is at pc (for
 * an outer frame: the call site of the inlined callee, DW_AT_call_file /
 * DW_AT_call_line). All frames share module and module_offset. Returns
 * the number filled (>= 1 when lr_sym_code would succeed, at most max);
 * 0 when nothing is known. Frame 0 equals what lr_sym_code gives, except
 * that its function is the innermost inlined function when there is one. */
int lr_sym_code_frames(uintptr_t pc, lr_code_info *out, int max);

/* Whether the function whose code holds pc returns a value in rax (its
 * DWARF subprogram has a type, and not a floating-point one): 1, 0 for a
 * void one or one returned in xmm0, -1 when there is no debug
 * information for pc. The register flow (src/watch/flow.c) asks it of a
 * return with a watched variable's address left in rax. */
int lr_sym_code_returns(uintptr_t pc);

/* Names the data at addr when it lies inside a global or static variable of
 * a loaded object: "fork_lock", "accounts[3].lock" (member and index from
 * DWARF types when present), else "accounts+120" from the symbol table.
 * Returns 0 and fills buf when named, -1 when addr is in no variable. */
int lr_sym_data(uintptr_t addr, char *buf, size_t len);

/* The loaded object whose memory holds addr (its data or .bss, for a lock
 * or variable without a symbol: a stripped program's): its file name into
 * module and addr's link-time address in it into *offset (as `nm` on the
 * unstripped object and `addr2line -e` show addresses). 0, or -1 when addr
 * is in no object. */
int lr_sym_data_module(uintptr_t addr, char *module, size_t len, uintptr_t *offset);

/* The bytes a member path names inside the variable that starts at addr
 * and is called name: ".misses", "[3]", ".rows[2][1].count", from its
 * DWARF type. Returns 0 with *offset and *size set, or -1 with err saying
 * why (no debug information, no such member, an index past the end). */
int lr_sym_member(uintptr_t addr, const char *name, const char *path, uint64_t *offset,
                  uint64_t *size, char *err, size_t errlen);

/* The same inside the object that the pointer variable at addr points to
 * (its pointee type): ".ticks" of meter's struct for meter->ticks. -1 with
 * err when the variable is not a pointer, or a void one. */
int lr_sym_pointee_member(uintptr_t addr, const char *name, const char *path, uint64_t *offset,
                          uint64_t *size, char *err, size_t errlen);

/* Which of names (functions) the main executable defines itself, in its
 * symbol table: the index of the first one found, -1 for none or when it
 * cannot tell (no symbol table). Needs the stack and the lock a report
 * needs (lr_report_main_defines). */
int lr_sym_main_defines(const char *const *names, int n);

/* Forgets the cached module list (after dlopen/dlclose) */
void lr_sym_reset(void);
/* The process is about to lose sight of its files (chroot): every module's
 * ELF and debugging information is opened now, and the session is kept
 * from then on. */
void lr_sym_keep_files(void);

#endif
