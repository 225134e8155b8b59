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
    uintptr_t module_offset;
} lr_code_info;

/* Describes the instruction at pc (already adjusted: for a return address
 * pass pc - 1). Returns 0 when at least the module is known, -1 otherwise
 * (the struct is then filled with empty strings). */
int lr_sym_code(uintptr_t pc, lr_code_info *out);

/* Names the data at addr when it lies inside a global or static variable of
 * a loaded object: "fork_lock", "accounts[3].lock" (member and index from
 * DWARF types when present), else "accounts+120" from the symbol table.
 * Returns 0 and fills buf when named, -1 when addr is in no variable. */
int lr_sym_data(uintptr_t addr, char *buf, size_t len);

/* Forgets the cached module list (after dlopen/dlclose) */
void lr_sym_reset(void);

#endif
