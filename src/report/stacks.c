/* Stacks as a report prints them: symbolized, inlined frames expanded,
 * entry frames and library code inlined from system headers cut off. */
#include "report/format.h"
#include "report/pystack.h"
#include "support/python.h"

#include <stdio.h>
#include <string.h>

/* Frames below a thread's or the process's entry point (start_thread,
 * clone3, __libc_start_main, _start) say nothing to the user. */
static int is_entry_frame(const char *function)
{
    static const char *const entry[] = { "start_thread", "__clone3", "clone", "__clone",
                                         "__libc_start_call_main", "__libc_start_main",
                                         "__libc_start_main@@GLIBC_2.34", "_start" };
    for (size_t i = 0; i < sizeof entry / sizeof entry[0]; i++)
        if (!strcmp(function, entry[i]))
            return 1;
    return 0;
}

/* The kernel's return into a signal handler's interrupted code: the frame
 * of glibc's __restore_rt (x86-64: mov $15, %rax; syscall), which has no
 * symbol in a stripped libc. Named as GDB names it. Its pc is the
 * function's first byte (the unwinder's signal frame), in code already
 * symbolized as a module's, so the bytes are there to read. */
static int is_sigreturn(uintptr_t pc)
{
    static const unsigned char restore_rt[] = { 0x48, 0xc7, 0xc0, 0x0f, 0x00, 0x00, 0x00, 0x0f, 0x05 };
    return memcmp((const void *)pc, restore_rt, sizeof restore_rt) == 0;
}

/* A stack as printed: each return address expanded into its inlined
 * lr_frames, entry lr_frames cut off. */
void lr_symbolize_stack(lr_stack_id id, lr_frames *f)
{
    const uintptr_t *pcs;
    int n = lr_stack_frames(id, &pcs);
    int python = n;             /* a Python program's stack: its Python frames follow the C frames */
    while (python > 0 && lr_python_is_frame(pcs[python - 1]))
        python--;
    f->n = 0;
    for (int i = 0; i < python && f->n < LR_MAX_FRAMES; i++) {
        lr_code_info *out = &f->info[f->n];
        int k = lr_sym_code_frames(pcs[i] - 1, out, LR_MAX_FRAMES - f->n);
        if (k == 0) {
            lr_sym_code(pcs[i] - 1, out);
            k = 1;
        }
        if (f->n > 0 && is_entry_frame(out[k - 1].function))
            break;
        if (k == 1 && !out[0].function[0] && out[0].module[0] && is_sigreturn(pcs[i]))
            snprintf(out[0].function, sizeof out[0].function, "<signal handler called>");
        for (int j = 0; j < k; j++)
            f->pcs[f->n + j] = pcs[i];
        f->n += k;
    }
    /* Below the program's frames, a library's thread entry without
     * symbols (libstdc++'s execute_native_thread_routine, which starts
     * every std::thread) says nothing: "?? (libstdc++.so.6+0xd44a2)". Not
     * when nothing above is known either (a stripped program's offsets are
     * all a user has). */
    int known = 0;
    for (int i = 0; i < f->n && !known; i++)
        known = f->info[i].function[0] != 0;
    while (known && f->n > 1 && !f->info[f->n - 1].function[0] && strstr(f->info[f->n - 1].module, ".so"))
        f->n--;
    f->n = lr_pystack_merge(f->pcs, f->info, f->n, LR_MAX_FRAMES, pcs + python, n - python);
    /* Library code inlined into the program from system headers
     * (std::lock_guard, std::mutex::lock, __gthread_mutex_lock) is not
     * where the program took the lock: start at the program's own frame. */
    int skip = 0;
    while (skip + 1 < f->n && f->pcs[skip] == f->pcs[skip + 1] &&
           strncmp(f->info[skip].file, "/usr/include/", 13) == 0)
        skip++;
    if (skip) {
        memmove(f->pcs, f->pcs + skip, (size_t)(f->n - skip) * sizeof f->pcs[0]);
        memmove(f->info, f->info + skip, (size_t)(f->n - skip) * sizeof f->info[0]);
        f->n -= skip;
    }
}

/* Frame i was inlined into frame i + 1 (both come from one address). */
static int inlined(const lr_frames *f, int i)
{
    return i + 1 < f->n && f->pcs[i + 1] == f->pcs[i] && !lr_python_is_frame(f->pcs[i]);
}

void lr_text_stack(lr_buf *b, lr_stack_id id, const char *indent)
{
    static lr_frames f;            /* under report_lock */
    lr_symbolize_stack(id, &f);
    if (f.n == 0) {
        lr_buf_printf(b, "%s(no stack)\n", indent);
        return;
    }
    for (int i = 0; i < f.n; i++) {
        const lr_code_info *c = &f.info[i];
        if (lr_python_is_frame(f.pcs[i])) {
            lr_buf_printf(b, "%s#%d %s %s:%d\n", indent, i, c->function, c->file, c->line);
            continue;
        }
        lr_buf_printf(b, "%s#%d %#lx %s", indent, i, (unsigned long)f.pcs[i],
                      c->function[0] ? c->function : "??");
        if (c->file[0])
            lr_buf_printf(b, " %s:%d", c->file, c->line);
        if (c->module[0])
            lr_buf_printf(b, " (%s+%#lx)", c->module, (unsigned long)c->module_offset);
        lr_buf_puts(b, inlined(&f, i) ? " [inlined]\n" : "\n");
    }
    uint32_t thread;
    if (lr_stack_unwound_in(id, &thread)) {
        char tl[96];
        lr_thread_label(thread, tl, sizeof tl);
        lr_buf_printf(b, "%s(as unwound in %s at the same call site: the callers above it may differ)\n",
                      indent, tl);
    }
}

int lr_stack_unwound_in(lr_stack_id id, uint32_t *thread)
{
    lr_stack_id plain;
    const uintptr_t *pcs;
    /* one return address: no caller to differ */
    return lr_stack_origin(id, thread, &plain) && lr_stack_frames(plain, &pcs) > 1;
}

void lr_json_stack_unwound_in(lr_buf *b, const char *key, lr_stack_id id)
{
    uint32_t thread;
    if (lr_stack_unwound_in(id, &thread))
        lr_buf_printf(b, ",\"%s_unwound_in\":%u", key, thread);
}

void lr_json_stack(lr_buf *b, lr_stack_id id)
{
    static lr_frames f;            /* under report_lock */
    lr_symbolize_stack(id, &f);
    lr_buf_puts(b, "[");
    for (int i = 0; i < f.n; i++) {
        const lr_code_info *c = &f.info[i];
        if (lr_python_is_frame(f.pcs[i])) {
            lr_buf_printf(b, "%s{\"language\":\"python\",\"function\":", i ? "," : "");
            lr_buf_json_string(b, c->function);
            lr_buf_puts(b, ",\"file\":");
            lr_buf_json_string(b, c->file);
            lr_buf_printf(b, ",\"line\":%d}", c->line);
            continue;
        }
        lr_buf_printf(b, "%s{\"pc\":\"%#lx\"", i ? "," : "", (unsigned long)f.pcs[i]);
        if (c->function[0]) {
            lr_buf_puts(b, ",\"function\":");
            lr_buf_json_string(b, c->function);
        }
        if (c->file[0]) {
            lr_buf_puts(b, ",\"file\":");
            lr_buf_json_string(b, c->file);
            lr_buf_printf(b, ",\"line\":%d", c->line);
        }
        lr_buf_puts(b, ",\"module\":");
        lr_buf_json_string(b, c->module);
        lr_buf_printf(b, ",\"offset\":\"%#lx\"", (unsigned long)c->module_offset);
        if (c->file_offset != c->module_offset)
            lr_buf_printf(b, ",\"file_offset\":\"%#lx\"", (unsigned long)c->file_offset);
        lr_buf_puts(b, inlined(&f, i) ? ",\"inlined\":true}" : "}");
    }
    lr_buf_puts(b, "]");
}
