/* Watching the variables of a program that was not annotated:
 * watch=NAME[,NAME...] (launcher: --watch).
 *
 * The plan the design started from was the debug registers (perf_event_open
 * breakpoints with a synchronous SIGTRAP). On the machines lockrace is built
 * on they cannot be used: the kernel accepts the breakpoint and it never
 * fires (gdb's hardware watchpoints do not fire either), and every signal
 * costs 12 us there, so even a working trap would make a counter loop
 * hundreds of times slower. lockrace rewrites code instead, the way
 * binary instrumentation tools do, and needs no signal at all:
 *
 *   - The variable's name is looked up in the ELF symbol tables of the
 *     program and of the libraries it loaded.
 *   - x86-64 code reaches its own globals and statics RIP-relatively. Every
 *     function of the lr_watch_objects that define the variable or hold its address
 *     in their GOT is disassembled from its first byte (Capstone, so that
 *     instruction boundaries are certain),
 *     and every instruction whose RIP-relative operand falls in the variable
 *     is a watched access, its kind (read, write, both; lock-prefixed or
 *     not) read off the decoded operand.
 *   - Such an instruction is at least 6 bytes (opcode, ModRM, 32-bit
 *     displacement), room for a 5-byte jump to a trampoline placed within
 *     2 GiB of it: call lr_watch_pre, the instruction itself relocated,
 *     call lr_watch_post, jump back. No other instruction is touched.
 *   - A pointer to the variable loaded RIP-relatively (`lea`, or from the
 *     GOT for a library's exported variable) and used in the straight-line
 *     code after it: the run from the load to the last use moves to the
 *     trampoline, each use between calls, its address computed from the
 *     saved registers when it runs. The load is the instruction replaced;
 *     the rest of the run is never entered from elsewhere (no branch
 *     target in it, no indirect jump in the function).
 *   - A pointer that outlives that straight line (kept in a callee-saved
 *     register across a loop's lock calls, moved along an array, copied,
 *     alive past a branch): the registers that may hold it are followed
 *     over the function's branches (flow.c), and each access through one
 *     is rewritten the same way, in a run of its own, counting only when
 *     its address falls in a watched variable.
 *   - A direct call that passes such a pointer in an argument register
 *     calls a copy of the callee instead (callee.c, patch.c
 *     write_clone): the whole function, its branches re-aimed at the copy,
 *     each access that may go through the pointer between the calls, and
 *     the variable found when it runs (the copy also runs with other
 *     pointers). Its own calls return to the original, whose frames have
 *     unwind tables: what follows them runs unwatched.
 *   - A member through a global pointer (watch=meter->ticks): the runs
 *     start at a load of the pointer's value (`mov meter(%rip), %reg`),
 *     and pre computes the member's bytes from the pointer's value when
 *     the access runs (access.c); a new object is named to the race engine
 *     by its first access.
 *   - pre takes the variable's lock and reads its value; post reads it
 *     again and gives both to the race engine as one exact access, then lets
 *     the lock go. Every watched access of a variable is thus ordered, with
 *     the values it really read and wrote: lost updates are observed, not
 *     guessed, as with LOCKRACE_LOAD / LOCKRACE_STORE.
 *
 * Limits (README): a pointer stored (spilled too), returned, or passed
 * further than three direct calls is not followed; a variable of
 * which some instruction is lock-prefixed is taken for an atomic one, and
 * all its accesses for atomic (x86 atomic loads and stores are plain
 * moves); variables defined in the C library or the dynamic linker are
 * refused. */

#include "watch/watch.h"
#include "watch/internal.h"
#include "support/arena.h"
#include "support/ilock.h"
#include "support/options.h"
#include "detect/race.h"
#include "runtime/runtime.h"
#include "support/stack.h"
#include "support/util.h"

#include <capstone/capstone.h>
#include <cpuid.h>
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <libelf.h>
#include <link.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <ucontext.h>
#include <unistd.h>

patch *lr_watch_patches;
uint32_t lr_watch_npatches;
int lr_watch_vector_mode;

/* How wide the stubs save the vector registers: 0 xmm, 1 ymm, 2 zmm with
 * 16-bit masks, 3 zmm with 64-bit masks (watch_stub.S). */
static int vector_mode(void)
{
    unsigned a, b, c, d;
    if (!__get_cpuid(1, &a, &b, &c, &d))
        return 0;
    int avx = (c & bit_OSXSAVE) && (c & bit_AVX);
    uint64_t xcr0 = 0;
    if (c & bit_OSXSAVE) {
        unsigned lo, hi;
        __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
        xcr0 = ((uint64_t)hi << 32) | lo;
    }
    if (!avx || (xcr0 & 6) != 6)
        return 0;
    if (__get_cpuid_max(0, NULL) < 7)
        return 1;
    __cpuid_count(7, 0, a, b, c, d);
    if (!(b & bit_AVX512F) || (xcr0 & 0xe0) != 0xe0)
        return 1;
    return b & bit_AVX512BW ? 3 : 2;
}

static void fail(const char *msg, int stop)
{
    char line[768];
    snprintf(line, sizeof line, "lockrace: %s\n", msg);
    lr_write_str(2, line);
    if (stop)
        _exit(2);
}

/* The object defines a watched variable, or its GOT (in its writable
 * segments, relocated by now) holds a pointer into one: only then can its
 * code reach it RIP-relatively or through a loaded pointer. */
static int reaches_a_variable(const object *o)
{
    for (int i = 0; i < lr_watch_nvars; i++) {
        uintptr_t at = lr_watch_vars[i].through ? lr_watch_vars[i].through : lr_watch_vars[i].lo;
        if (at >= o->lo && at < o->hi)
            return 1;
    }
    for (int d = 0; d < o->ndata; d++)
        for (uintptr_t a = (o->data_lo[d] + 7) & ~(uintptr_t)7; a + 8 <= o->data_hi[d]; a += 8)
            if (lr_watch_symbol_at(*(const uintptr_t *)a) >= 0)
                return 1;
    return 0;
}

static const object *object_of(uintptr_t addr)
{
    for (int i = 0; i < lr_watch_nobjects; i++)
        if (addr >= lr_watch_objects[i].lo && addr < lr_watch_objects[i].hi)
            return &lr_watch_objects[i];
    return NULL;
}

static void fork_child(void)
{
    for (int i = 0; i < lr_watch_nvars; i++)
        lr_ilock_reset(&lr_watch_vars[i].lock);
}

void lr_watch_start(const char *spec)
{
    if (!spec || !spec[0])
        return;
    char err[600];
    elf_version(EV_CURRENT);
    dl_iterate_phdr(lr_watch_collect_object, NULL);
    char items[sizeof lr_opt.watch];
    snprintf(items, sizeof items, "%s", spec);
    for (char *save = NULL, *item = strtok_r(items, ",", &save); item; item = strtok_r(NULL, ",", &save)) {
        err[0] = 0;
        int rc = lr_watch_add_item(item, err, sizeof err);
        if (rc == 0 && err[0])
            fail(err, 0);       /* what a glob found, with verbosity=2 */
        if (rc == -1)
            fail(err, 1);
        if (rc == -2 && (lr_opt.verbosity >= 2 || lr_launched_command()))
            fail(err, 0);
    }
    if (lr_watch_nvars == 0 || lr_watch_index() < 0)
        return;
    /* a forked child's copies of the variables' locks may be taken */
    pthread_atfork(NULL, NULL, fork_child);
    lr_watch_vector_mode = vector_mode();
    if (lr_watch_load_capstone() < 0) {
        snprintf(err, sizeof err, "watch: cannot load %s, the disassembler watching needs "
                 "(Debian: apt-get install libcapstone4); nothing is watched", lr_watch_capstone_name());
        fail(err, 0);
        return;
    }
    lr_watch_patches = lr_map(MAX_PATCHES * sizeof *lr_watch_patches);
    int mem = open("/proc/self/mem", O_RDWR | O_CLOEXEC);
    if (!lr_watch_patches || mem < 0) {
        snprintf(err, sizeof err, "watch: cannot open /proc/self/mem to rewrite code (%s); "
                 "nothing is watched", strerror(errno));
        fail(err, 0);
        return;
    }
    lr_thread *self = lr_self();
    uint32_t *found = calloc((size_t)lr_watch_nvars, sizeof *found);
    if (!found)
        return;
    for (int o = 0; o < lr_watch_nobjects; o++) {
        if (lr_watch_objects[o].skip || !reaches_a_variable(&lr_watch_objects[o]))
            continue;
        scan s = { 0 };
        lr_watch_scan_object(&lr_watch_objects[o], &s);
        err[0] = 0;
        uint32_t before = lr_watch_npatches;
        lr_watch_rewrite(&lr_watch_objects[o], &s, mem, err, sizeof err);
        for (uint32_t k = before; k < lr_watch_npatches; k++) {
            /* a copy's accesses are counted as calls followed; an indexed
             * one through a pointer's value (any) is its variable's, and
             * one the register flow found is its first seed's */
            const patch *p = &lr_watch_patches[k];
            found[p->var] += p->size != 0 && (!p->any || p->flow || (p->index >= 0 && lr_watch_vars[p->var].through));
        }
        free(s.c);
        for (int i = 0; i < s.nclones; i++)
            free(s.clones[i].in);
        free(s.clones);
        free(s.follows);
        if (err[0]) {
            char line[700];
            snprintf(line, sizeof line, "watch: %s", err);
            fail(line, 0);
        }
    }
    close(mem);
    for (int i = 0; i < lr_watch_nvars; i++) {
        const watch_var *v = &lr_watch_vars[i];
        /* a member, a raw range or what a glob found: the debug information
         * names it best. Through a pointer: each object when an access
         * first reaches it (access.c), the engine on from now, so that it
         * sees the locks taken before that */
        if (v->through)
            lr_race_activate();
        else
            lr_race_watch(self, v->lo, v->hi - v->lo, v->unnamed || strpbrk(v->name, "+:") ? NULL : v->name);
        if (v->unnamed && lr_opt.verbosity < 2)
            continue;           /* a glob's: only accesses through pointers, or none at all */
        if (!found[i] && !v->followed) {
            snprintf(err, sizeof err, "watch=%s: no instruction reaches it directly or through its "
                     "address loaded just before; other accesses through pointers are not seen, so "
                     "nothing of it will be", lr_watch_vars[i].name);
            fail(err, 0);
        } else if (v->escapes) {
            /* once, as for none: a clean run then proves less than it seems */
            const object *o = object_of(v->escape_at);
            snprintf(err, sizeof err, "watch=%s: its %s is also stored, returned, passed to a "
                     "function lockrace does not follow, or used by an instruction it cannot move "
                     "(%u place%s, the first at %s+%#lx); accesses through it there are not seen", v->name,
                     v->through ? "pointer's value" : "address", v->escapes,
                     v->escapes == 1 ? "" : "s", o ? lr_watch_base_name(o->path) : "?",
                     (unsigned long)(v->escape_at - (o ? o->base : 0)));
            fail(err, 0);
        }
        if ((found[i] || v->followed) && lr_opt.verbosity >= 2) {
            snprintf(err, sizeof err, "watching %s (%zu bytes): %u instruction%s, %u call%s followed into the "
                     "callee", lr_watch_vars[i].name, (size_t)(v->through ? v->len : v->hi - v->lo),
                     found[i], found[i] == 1 ? "" : "s", v->followed, v->followed == 1 ? "" : "s");
            fail(err, 0);
        }
    }
    free(found);
}
