/* src/support/symbolize.c for the report target: names come from the fuzzer
 * instead of debug information, and are stored with the real module's
 * bounds (the lr_code_info fields and the caller's buffer), so that the
 * report printers get what a real program's names could be. */
#include "support/symbolize.h"
#include "fuzz.h"

#include <stdio.h>
#include <string.h>

const char *fuzz_function = "", *fuzz_file = "", *fuzz_module = "", *fuzz_data_name = "";

int lr_sym_code(uintptr_t pc, lr_code_info *out)
{
    memset(out, 0, sizeof *out);
    snprintf(out->function, sizeof out->function, "%s", fuzz_function);
    snprintf(out->file, sizeof out->file, "%s", fuzz_file);
    snprintf(out->module, sizeof out->module, "%s", fuzz_module);
    out->line = (int)(pc & 0xff);
    out->module_offset = pc;
    return out->module[0] ? 0 : -1;
}

int lr_sym_code_frames(uintptr_t pc, lr_code_info *out, int max)
{
    if (lr_sym_code(pc, &out[0]) < 0)
        return 0;
    if (max < 2)
        return 1;
    out[1] = out[0];
    snprintf(out[1].function, sizeof out[1].function, "main");
    return 2;
}

int lr_sym_data(uintptr_t addr, char *buf, size_t len)
{
    if (addr >= FUZZ_GLOBAL_END || !fuzz_data_name[0])
        return -1;
    snprintf(buf, len, "%s", fuzz_data_name);
    return 0;
}

/* a lock or variable with no name: in the fuzzed module's data, at its
 * address, as a stripped program's global is named */
int lr_sym_data_module(uintptr_t addr, char *module, size_t len, uintptr_t *offset)
{
    if (addr >= FUZZ_GLOBAL_END || !fuzz_module[0])
        return -1;
    snprintf(module, len, "%s", fuzz_module);
    *offset = addr;
    return 0;
}

void lr_sym_reset(void)
{
}

void lr_sym_keep_files(void)
{
}

/* watch= member paths: the targets watch nothing */
int lr_sym_member(uintptr_t addr, const char *name, const char *path, uint64_t *offset,
                  uint64_t *size, char *err, size_t errlen)
{
    (void)addr, (void)path, (void)offset, (void)size;
    snprintf(err, errlen, "no debug information describes %s's type", name);
    return -1;
}

/* the targets define no dynamic annotation */
int lr_sym_main_defines(const char *const *names, int n)
{
    (void)names, (void)n;
    return -1;
}
