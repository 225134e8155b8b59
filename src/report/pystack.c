/* Python frames in printed stacks and Python names of locks (pystack.h).
 * Report layer: runs only while a report is printed, under the report
 * lock; it may read the program's source files, never blocks on one (a
 * FIFO or a device is not read). */
#include "report/pystack.h"
#include "support/options.h"
#include "support/python.h"

#include <ctype.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static void python_info(uintptr_t pc, lr_code_info *out)
{
    lr_py_frame f;
    memset(out, 0, sizeof *out);
    if (lr_python_frame(pc, &f) < 0)
        return;
    snprintf(out->function, sizeof out->function, "%s", f.function);
    snprintf(out->file, sizeof out->file, "%s", lr_python_shown_file(f.file));
    out->line = f.line;
}

int lr_pystack_merge(uintptr_t *pcs, lr_code_info *info, int n, int max, const uintptr_t *py,
                     int npy)
{
    if (npy <= 0)
        return n;
    int at = 0;
    if (!lr_opt.python_c_frames) {
        /* the program's C frames above the interpreter's (an extension's
         * own code), then Python's; the interpreter and what runs it go */
        while (at < n && !lr_python_interpreter_code(pcs[at] - 1))
            at++;
        n = at;
    } else {
        /* every C frame, the Python frames where the interpreter's loop
         * runs them: before the first _PyEval_EvalFrameDefault and the
         * frames inlined into it */
        while (at < n && strcmp(info[at].function, "_PyEval_EvalFrameDefault") != 0)
            at++;
        if (at == n)
            at = 0;
        while (at > 0 && pcs[at - 1] == pcs[at])
            at--;
    }
    if (npy > max - at)
        npy = max - at;
    int tail = n - at;
    if (tail > max - at - npy)
        tail = max - at - npy;
    memmove(pcs + at + npy, pcs + at, (size_t)tail * sizeof *pcs);
    memmove(info + at + npy, info + at, (size_t)tail * sizeof *info);
    for (int i = 0; i < npy; i++) {
        pcs[at + i] = py[i];
        python_info(py[i], &info[at + i]);
    }
    return at + npy + tail;
}

/* Line `line` of a regular file, without its newline; -1 when unreadable. */
static int source_line(const char *file, int line, char *out, size_t len)
{
    int fd = open(file, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
    if (fd < 0)
        return -1;
    struct stat st;
    if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_size > (64 << 20)) {
        close(fd);
        return -1;
    }
    char chunk[4096];
    int at = 1;
    size_t kept = 0;
    ssize_t got;
    int done = 0;
    while (!done && (got = read(fd, chunk, sizeof chunk)) > 0) {
        for (ssize_t i = 0; i < got; i++) {
            if (at == line) {
                if (chunk[i] == '\n') {
                    done = 1;
                    break;
                }
                if (kept + 1 < len)
                    out[kept++] = chunk[i];
            } else if (chunk[i] == '\n' && ++at > line) {
                done = 1;
                break;
            }
        }
    }
    close(fd);
    out[kept] = 0;
    return at == line ? 0 : -1;
}

/* "NAME = ..." or "a.b = ...": the name assigned, else "". */
static void assigned_name(const char *text, char *out, size_t len)
{
    const char *p = text;
    out[0] = 0;
    while (*p == ' ' || *p == '\t')
        p++;
    const char *start = p;
    if (!(isalpha((unsigned char)*p) || *p == '_'))
        return;
    while (isalnum((unsigned char)*p) || *p == '_' || *p == '.')
        p++;
    const char *stop = p;
    while (*p == ' ' || *p == '\t')
        p++;
    if (*p == ':') {                    /* an annotation: NAME: T = ... */
        while (*p && *p != '=')
            p++;
    }
    if (p[0] != '=' || p[1] == '=')
        return;
    if (stop[-1] == '.' || (size_t)(stop - start) >= len)
        return;
    memcpy(out, start, (size_t)(stop - start));
    out[stop - start] = 0;
}

int lr_pystack_lock_name(lr_stack_id stack, char *buf, size_t len)
{
    const uintptr_t *pcs;
    int n = lr_stack_frames(stack, &pcs);
    lr_py_frame inner, made;
    int first = -1, chosen = -1;
    for (int i = 0; i < n; i++) {
        lr_py_frame f;
        if (lr_python_frame(pcs[i], &f) < 0)
            continue;
        if (first < 0) {
            first = i;
            inner = f;
        }
        if (!lr_python_library_file(f.file)) {
            chosen = i;
            made = f;
            break;
        }
    }
    if (first < 0)
        return -1;
    if (chosen < 0) {
        chosen = first;
        made = inner;
    }
    char text[512], var[96];
    var[0] = 0;
    if (source_line(made.file, made.line, text, sizeof text) == 0)
        assigned_name(text, var, sizeof var);
    const char *shown = lr_python_shown_file(made.file);
    int used = var[0] ? snprintf(buf, len, "%s (%s:%d)", var, shown, made.line)
                      : snprintf(buf, len, "lock made at %s:%d", shown, made.line);
    if (chosen != first && used > 0 && (size_t)used < len)
        snprintf(buf + used, len - (size_t)used, " via %s", inner.function);
    return 0;
}
