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
 *     function of the objects that define the variable or hold its address
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
 *   - pre takes the variable's lock and reads its value; post reads it
 *     again and gives both to the race engine as one exact access, then lets
 *     the lock go. Every watched access of a variable is thus ordered, with
 *     the values it really read and wrote: lost updates are observed, not
 *     guessed, as with LOCKRACE_LOAD / LOCKRACE_STORE.
 *
 * Limits (README): a pointer kept across a branch or a call is not
 * followed; a variable of which some instruction is lock-prefixed is taken
 * for an atomic one, and all its accesses for atomic (x86 atomic loads and
 * stores are plain moves); variables defined in the C library or the
 * dynamic linker are refused. */
#include "watch/watch.h"
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

#define MAX_VARS 32
#define MAX_PATCHES 65536
#define CALL_SIZE 24            /* emit_call's bytes */
#define REGION_HEADER 64        /* the addresses of the two stubs */

typedef struct watch_var {
    uintptr_t lo, hi;
    uintptr_t sym_lo, sym_hi;   /* the whole variable it is part of (a struct's member) */
    char name[96];
    int atomic;                 /* some instruction on it is lock-prefixed */
    lr_ilock lock;              /* orders every watched access of it */
} watch_var;

typedef struct patch {
    uintptr_t insn;             /* the instruction in the program */
    uintptr_t addr;             /* the bytes of the variable it reaches (static address) */
    uint32_t size;
    uint16_t var;
    uint8_t read, write, atomic;
    /* an address computed from registers (a pointer to the variable loaded
     * from the GOT or by lea): base + index * scale + disp, the registers
     * as indexes in the stubs' array, -1 none */
    uint8_t dynamic, scale;
    int8_t base, index;
    int64_t disp;
} patch;

static watch_var vars[MAX_VARS];
static int nvars;
static patch *patches;
static uint32_t npatches;

/* The access in progress in this thread, between pre and post. A signal
 * handler that touches a watched variable in that window nests here. */
typedef struct inflight {
    lr_thread *self;            /* NULL: lockrace records nothing of it */
    lr_stack_id stack;
    uint64_t before;
    uintptr_t addr;             /* what of the variable this access reaches */
    uint32_t size;              /* 0: not the variable (a dynamic address elsewhere) */
    uint8_t locked;
} inflight;

#define MAX_NESTING 4
static __thread inflight flights[MAX_NESTING] __attribute__((tls_model("initial-exec")));
static __thread int nflights __attribute__((tls_model("initial-exec")));

/* read by the stubs */
int lr_watch_vector_mode __attribute__((visibility("hidden")));
void lr_watch_stub_pre(void) __attribute__((visibility("hidden")));
void lr_watch_stub_post(void) __attribute__((visibility("hidden")));
void lr_watch_pre(uint32_t k, uint64_t *regs) __attribute__((visibility("hidden"), used));
void lr_watch_post(uint32_t k, uint64_t *regs) __attribute__((visibility("hidden"), used));

/* ---- the access path ---- */

static uint64_t load(uintptr_t addr, uint32_t size)
{
    switch (size) {
    case 1: return __atomic_load_n((const uint8_t *)addr, __ATOMIC_RELAXED);
    case 2: return __atomic_load_n((const uint16_t *)addr, __ATOMIC_RELAXED);
    case 4: return __atomic_load_n((const uint32_t *)addr, __ATOMIC_RELAXED);
    case 8: return __atomic_load_n((const uint64_t *)addr, __ATOMIC_RELAXED);
    default: return 0;
    }
}

/* The variable's lock is held for one instruction and its bookkeeping, a
 * few hundred nanoseconds: another thread spins that long before it
 * sleeps in the kernel (sleeping and waking cost more than the wait). */
static void take(lr_ilock *l)
{
    for (int i = 0; i < 2000; i++) {
        int free_state = 0;
        if (__atomic_load_n(&l->state, __ATOMIC_RELAXED) == 0 &&
            __atomic_compare_exchange_n(&l->state, &free_state, 1, 0, __ATOMIC_ACQUIRE, __ATOMIC_RELAXED))
            return;
        __builtin_ia32_pause();
    }
    lr_ilock_take(l);
}

/* The stub's register array in a ucontext, for unwinding from the
 * program's instruction (regs: see src/watch/watch_stub.S). */
static void context_of(const patch *p, const uint64_t *regs, ucontext_t *uc)
{
    static const int order[] = { REG_R15, REG_R14, REG_R13, REG_R12, REG_R11, REG_R10, REG_R9,
                                 REG_R8, REG_RDI, REG_RSI, REG_RBP, REG_RBX, REG_RDX, REG_RCX,
                                 REG_RAX, REG_EFL };
    memset(&uc->uc_mcontext, 0, sizeof uc->uc_mcontext);
    for (int i = 0; i < 16; i++)
        uc->uc_mcontext.gregs[order[i]] = (greg_t)regs[i];
    /* above the array: return address, patch number, then the red zone skipped */
    uc->uc_mcontext.gregs[REG_RSP] = (greg_t)((uintptr_t)(regs + 18) + 128);
    uc->uc_mcontext.gregs[REG_RIP] = (greg_t)p->insn;
}

/* Each thread remembers the stack of each rewritten instruction it ran,
 * by patch number: a hot variable has hundreds of access sites, which the
 * runtime's small table of call sites would keep evicting, and every miss
 * is an unwind. The table is mapped on a thread's first watched access;
 * untouched pages cost nothing. */
static __thread lr_stack_id *thread_stacks __attribute__((tls_model("initial-exec")));

static lr_stack_id stack_of(lr_thread *self, uint32_t k, const patch *p, const uint64_t *regs)
{
    lr_stack_id *known = thread_stacks;
    if (!known)
        known = thread_stacks = lr_map(MAX_PATCHES * sizeof *known);
    if (known && known[k])
        return known[k];
    ucontext_t uc;
    context_of(p, regs, &uc);
    lr_enter(self);
    lr_stack_id stack = lr_stack_capture_context(&uc);
    lr_leave(self);
    if (known)
        known[k] = stack;
    return stack;
}

void lr_watch_pre(uint32_t k, uint64_t *regs)
{
    const patch *p = &patches[k];
    int nested = nflights > 0;
    if (nflights == MAX_NESTING)
        return;                 /* post sees the same count and does nothing either */
    inflight *f = &flights[nflights];
    f->locked = 0;
    f->addr = p->addr;
    f->size = p->size;
    if (p->dynamic) {
        uintptr_t a = (uintptr_t)(regs[p->base] + (p->index >= 0 ? regs[p->index] * p->scale : 0) +
                                  (uint64_t)p->disp);
        const watch_var *v = &vars[p->var];
        uintptr_t lo = a > v->lo ? a : v->lo, hi = a + p->size < v->hi ? a + p->size : v->hi;
        f->addr = lo;
        f->size = lo < hi ? (uint32_t)(hi - lo) : 0;
    }
    nflights++;
    __atomic_signal_fence(__ATOMIC_SEQ_CST);
    f->self = NULL;
    if (!f->size)
        return;
    /* the stack before the lock: other threads wait for the lock */
    lr_thread *self = lr_self();
    if (self) {
        int saved = errno;
        f->stack = stack_of(self, k, p, regs);
        f->self = self;
        errno = saved;
    }
    if (!nested) {
        take(&vars[p->var].lock);
        f->locked = 1;
    }
    f->before = load(f->addr, f->size);
}

void lr_watch_post(uint32_t k, uint64_t *regs)
{
    (void)regs;
    const patch *p = &patches[k];
    if (nflights == MAX_NESTING || nflights == 0)
        return;
    inflight *f = &flights[nflights - 1];
    uint64_t after = load(f->addr, f->size);
    lr_thread *self = f->self;
    if (self) {
        int saved = errno;
        lr_stack_id stack = f->stack;
        int flags = f->locked ? LR_ACC_EXACT | LR_ACC_GIVEN : 0;
        if (p->atomic || vars[p->var].atomic)
            flags |= LR_ACC_ATOMIC;
        if (p->read)
            lr_race_access_at(self, f->addr, f->size, flags, &f->before, stack);
        if (p->write)
            lr_race_access_at(self, f->addr, f->size, flags | LR_ACC_WRITE, &after, stack);
        errno = saved;
    }
    if (f->locked)
        lr_ilock_drop(&vars[p->var].lock);
    __atomic_signal_fence(__ATOMIC_SEQ_CST);
    nflights--;
}

/* ---- capstone, loaded only when something is watched ---- */

static struct {
    cs_err (*open)(cs_arch, cs_mode, csh *);
    cs_err (*option)(csh, cs_opt_type, size_t);
    cs_insn *(*malloc)(csh);
    bool (*disasm_iter)(csh, const uint8_t **, size_t *, uint64_t *, cs_insn *);
    void (*free)(cs_insn *, size_t);
    cs_err (*close)(csh *);
    bool (*insn_group)(csh, const cs_insn *, unsigned int);
    cs_err (*regs_access)(csh, const cs_insn *, cs_regs, uint8_t *, cs_regs, uint8_t *);
} cs;

/* LOCKRACE_CAPSTONE names another build of the library (never in a
 * set-uid program: lr_getenv). */
static const char *capstone_name(void)
{
    const char *name = lr_getenv("LOCKRACE_CAPSTONE");
    return name && name[0] ? name : "libcapstone.so.4";
}

static int load_capstone(void)
{
    void *h = dlopen(capstone_name(), RTLD_NOW | RTLD_LOCAL);
    if (!h)
        return -1;
    cs.open = (cs_err (*)(cs_arch, cs_mode, csh *))dlsym(h, "cs_open");
    cs.option = (cs_err (*)(csh, cs_opt_type, size_t))dlsym(h, "cs_option");
    cs.malloc = (cs_insn *(*)(csh))dlsym(h, "cs_malloc");
    cs.disasm_iter = (bool (*)(csh, const uint8_t **, size_t *, uint64_t *, cs_insn *))
        dlsym(h, "cs_disasm_iter");
    cs.free = (void (*)(cs_insn *, size_t))dlsym(h, "cs_free");
    cs.close = (cs_err (*)(csh *))dlsym(h, "cs_close");
    cs.insn_group = (bool (*)(csh, const cs_insn *, unsigned int))dlsym(h, "cs_insn_group");
    cs.regs_access = (cs_err (*)(csh, const cs_insn *, cs_regs, uint8_t *, cs_regs, uint8_t *))
        dlsym(h, "cs_regs_access");
    return cs.open && cs.option && cs.malloc && cs.disasm_iter && cs.free && cs.close &&
           cs.insn_group && cs.regs_access ? 0 : -1;
}

/* ---- the loaded objects and their symbols ---- */

#define MAX_OBJECTS 256

#define MAX_SEGMENTS 8

typedef struct object {
    char path[256];
    uintptr_t base;             /* load bias */
    uintptr_t lo, hi;           /* the mapped range */
    uintptr_t code_lo[MAX_SEGMENTS], code_hi[MAX_SEGMENTS];     /* its executable segments */
    int ncode;
    uintptr_t data_lo[MAX_SEGMENTS], data_hi[MAX_SEGMENTS];     /* its writable ones (the GOT) */
    int ndata;
    uintptr_t eh_frame_hdr;     /* its unwind table's index, 0 if none */
    int skip;                   /* the C library, the dynamic linker, lockrace itself */
} object;

static object objects[MAX_OBJECTS];
static int nobjects;

static const char *base_name(const char *path)
{
    const char *b = strrchr(path, '/');
    return b ? b + 1 : path;
}

static int skipped_object(const char *path)
{
    const char *base = base_name(path);
    static const char *const names[] = { "libc.so", "ld-linux", "libpthread.so", "liblockrace",
                                         "libcapstone", "libunwind", "linux-vdso" };
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (!strncmp(base, names[i], strlen(names[i])))
            return 1;
    return 0;
}

static int collect_object(struct dl_phdr_info *info, size_t size, void *data)
{
    (void)size;
    (void)data;
    if (nobjects == MAX_OBJECTS)
        return 1;
    object *o = &objects[nobjects];
    memset(o, 0, sizeof *o);
    if (info->dlpi_name && info->dlpi_name[0]) {
        snprintf(o->path, sizeof o->path, "%s", info->dlpi_name);
    } else if (nobjects == 0) {
        ssize_t n = readlink("/proc/self/exe", o->path, sizeof o->path - 1);
        if (n <= 0)
            return 0;
        o->path[n] = 0;
    } else {
        return 0;
    }
    o->base = info->dlpi_addr;
    o->lo = UINTPTR_MAX;
    for (int i = 0; i < info->dlpi_phnum; i++) {
        const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
        uintptr_t lo = info->dlpi_addr + ph->p_vaddr, hi = lo + ph->p_memsz;
        if (ph->p_type == PT_GNU_EH_FRAME)
            o->eh_frame_hdr = lo;
        if (ph->p_type != PT_LOAD)
            continue;
        o->lo = lo < o->lo ? lo : o->lo;
        o->hi = hi > o->hi ? hi : o->hi;
        if ((ph->p_flags & PF_X) && o->ncode < MAX_SEGMENTS) {
            o->code_lo[o->ncode] = lo;
            o->code_hi[o->ncode++] = hi;
        }
        if ((ph->p_flags & PF_W) && o->ndata < MAX_SEGMENTS) {
            o->data_lo[o->ndata] = lo;
            o->data_hi[o->ndata++] = hi;
        }
    }
    o->skip = skipped_object(o->path);
    nobjects++;
    return 0;
}

/* One open ELF file and its symbol table (.symtab, else .dynsym). */
typedef struct elf_file {
    int fd;
    Elf *elf;
    Elf_Data *syms;
    size_t nsyms, strndx;
} elf_file;

static int elf_open_syms(const char *path, elf_file *ef)
{
    memset(ef, 0, sizeof *ef);
    ef->fd = open(path, O_RDONLY | O_CLOEXEC);
    if (ef->fd < 0)
        return -1;
    ef->elf = elf_begin(ef->fd, ELF_C_READ, NULL);
    Elf_Scn *scn = NULL, *dyn = NULL, *sym = NULL;
    while (ef->elf && (scn = elf_nextscn(ef->elf, scn))) {
        GElf_Shdr sh;
        if (!gelf_getshdr(scn, &sh))
            continue;
        if (sh.sh_type == SHT_SYMTAB)
            sym = scn;
        else if (sh.sh_type == SHT_DYNSYM)
            dyn = scn;
    }
    scn = sym ? sym : dyn;
    GElf_Shdr sh;
    if (!scn || !gelf_getshdr(scn, &sh) || !(ef->syms = elf_getdata(scn, NULL))) {
        if (ef->elf)
            elf_end(ef->elf);
        close(ef->fd);
        return -1;
    }
    ef->nsyms = sh.sh_entsize ? sh.sh_size / sh.sh_entsize : 0;
    ef->strndx = sh.sh_link;
    return 0;
}

static void elf_close(elf_file *ef)
{
    elf_end(ef->elf);
    close(ef->fd);
}

/* ---- what to watch: parsing and resolving the spec ---- */

typedef struct match {
    int object;
    uintptr_t addr;
    size_t size;
    int global, tls;
    char file[64];              /* the source file of a local symbol */
} match;

#define MAX_MATCHES 8

static int find_symbol(const char *name, const char *where, match *out, int max)
{
    int n = 0;
    for (int o = 0; o < nobjects; o++) {
        elf_file ef;
        if (elf_open_syms(objects[o].path, &ef) < 0)
            continue;
        const char *file = "";
        for (size_t i = 0; i < ef.nsyms; i++) {
            GElf_Sym s;
            if (!gelf_getsym(ef.syms, (int)i, &s))
                continue;
            const char *sname = elf_strptr(ef.elf, ef.strndx, s.st_name);
            int type = GELF_ST_TYPE(s.st_info);
            if (type == STT_FILE) {
                file = sname ? sname : "";
                continue;
            }
            if (!sname || strcmp(sname, name) || s.st_shndx == SHN_UNDEF ||
                (type != STT_OBJECT && type != STT_TLS && type != STT_COMMON))
                continue;
            int global = GELF_ST_BIND(s.st_info) != STB_LOCAL;
            if (where && strcmp(where, base_name(global ? objects[o].path : file)) &&
                strcmp(where, base_name(objects[o].path)))
                continue;
            uintptr_t addr = objects[o].base + s.st_value;
            int dup = 0;
            for (int j = 0; j < n; j++)
                dup |= out[j].addr == addr;
            if (dup || n == max)
                continue;
            match *m = &out[n++];
            m->object = o;
            m->addr = addr;
            m->size = s.st_size;
            m->global = global;
            m->tls = type == STT_TLS;
            snprintf(m->file, sizeof m->file, "%s", global ? base_name(objects[o].path) : base_name(file));
        }
        elf_close(&ef);
    }
    return n;
}

/* A number as written: decimal, 0x hex or 0 octal, digits first. strtoull
 * alone would also take leading blanks and a sign, and reads "-1" as
 * 2^64-1: an offset that wraps around to the bytes before the variable. */
static int parse_number(const char *s, char **end, uint64_t *out)
{
    *end = (char *)s;
    if (*s < '0' || *s > '9')
        return -1;
    errno = 0;
    unsigned long long v = strtoull(s, end, 0);
    if (*end == s || errno)
        return -1;
    *out = v;
    return 0;
}

/* One item of the spec: NAME[@FILE][+OFFSET][:SIZE] or 0xADDR:SIZE.
 * Returns 0, -1 when the item is malformed, -2 when this process has no
 * such variable (or one lockrace cannot watch): another process of the
 * tree may. */
static int add_item(const char *item, char *err, size_t errlen)
{
    const char *accepted = "accepted: NAME, NAME@FILE, NAME+OFFSET:SIZE, 0xADDR:SIZE";
    if (nvars == MAX_VARS) {
        snprintf(err, errlen, "watch=%s: at most %d variables can be watched", item, MAX_VARS);
        return -1;
    }
    char name[96], where[96] = "";
    uint64_t offset = 0, size = 0;
    int has_size = 0;
    size_t n = strcspn(item, "@+:");
    if (n == 0 || n >= sizeof name) {
        snprintf(err, errlen, "watch=%s: not a variable (%s)", item, accepted);
        return -1;
    }
    memcpy(name, item, n);
    name[n] = 0;
    const char *p = item + n;
    char *end;
    if (*p == '@') {
        size_t m = strcspn(p + 1, "+:");
        if (m == 0 || m >= sizeof where) {
            snprintf(err, errlen, "watch=%s: no file after '@' (%s)", item, accepted);
            return -1;
        }
        memcpy(where, p + 1, m);
        where[m] = 0;
        p += 1 + m;
    }
    if (*p == '+') {
        if (parse_number(p + 1, &end, &offset) < 0) {
            snprintf(err, errlen, "watch=%s: the offset is not a number of bytes from 0 up (%s)",
                     item, accepted);
            return -1;
        }
        p = end;
    }
    if (*p == ':') {
        if (parse_number(p + 1, &end, &size) < 0 || size == 0 || *end) {
            snprintf(err, errlen, "watch=%s: the size is not a number above 0 (%s)", item, accepted);
            return -1;
        }
        has_size = 1;
        p = end;
    }
    if (*p) {
        snprintf(err, errlen, "watch=%s: unexpected '%s' (%s)", item, p, accepted);
        return -1;
    }
    watch_var *v = &vars[nvars];
    if (!strncmp(name, "0x", 2) || !strncmp(name, "0X", 2)) {
        uint64_t addr;
        if (parse_number(name, &end, &addr) < 0 || *end || !has_size || where[0] || offset) {
            snprintf(err, errlen, "watch=%s: an address needs a size and nothing else (%s)", item,
                     accepted);
            return -1;
        }
        if (size > UINTPTR_MAX - addr) {
            snprintf(err, errlen, "watch=%s: the range wraps around the end of the address space "
                     "(%s)", item, accepted);
            return -1;
        }
        v->lo = v->sym_lo = (uintptr_t)addr;
        v->hi = v->sym_hi = v->lo + size;
        snprintf(v->name, sizeof v->name, "%s", item);
        nvars++;
        return 0;
    }
    match m[MAX_MATCHES];
    int found = find_symbol(name, where[0] ? where : NULL, m, MAX_MATCHES);
    if (found > 1) {
        /* a library's variable and the program's copy of it (a copy
         * relocation): the one the dynamic linker bound is the variable */
        void *bound = dlsym(RTLD_DEFAULT, name);
        for (int i = 0; i < found && bound; i++)
            if (m[i].global && m[i].addr == (uintptr_t)bound) {
                m[0] = m[i];
                found = 1;
            }
    }
    if (found == 0) {
        snprintf(err, errlen, "watch=%s: no variable of that name in %s or the libraries it loaded "
                 "(names come from the symbol tables: a stripped program has none; %s)",
                 item, base_name(objects[0].path), accepted);
        return -2;
    }
    if (found > 1) {
        snprintf(err, errlen, "watch=%s: %d variables have that name (%s, %s%s): write NAME@FILE",
                 item, found, m[0].file, m[1].file, found > 2 ? ", ..." : "");
        return -2;
    }
    if (m[0].tls) {
        snprintf(err, errlen, "watch=%s: a thread-local variable: each thread has its own, "
                 "nothing to race on", item);
        return -2;
    }
    if (objects[m[0].object].skip) {
        snprintf(err, errlen, "watch=%s: defined in %s, whose code lockrace does not rewrite",
                 item, base_name(objects[m[0].object].path));
        return -2;
    }
    if (!has_size)
        size = m[0].size > offset ? m[0].size - offset : 0;
    if (size == 0 || size > m[0].size || offset > m[0].size - size) {   /* no sum: it may wrap */
        snprintf(err, errlen, "watch=%s: %s is %zu bytes: offset %llu and size %llu do not fit in it",
                 item, name, m[0].size, (unsigned long long)offset, (unsigned long long)size);
        return -1;
    }
    v->lo = m[0].addr + offset;
    v->hi = v->lo + size;
    v->sym_lo = m[0].addr;
    v->sym_hi = m[0].addr + m[0].size;
    if (offset || has_size)
        snprintf(v->name, sizeof v->name, "%s+%llu", name, (unsigned long long)offset);
    else
        snprintf(v->name, sizeof v->name, "%s", name);
    nvars++;
    return 0;
}

/* ---- finding and rewriting the instructions ---- */

static int overlapping_var(uintptr_t a, uintptr_t size)
{
    for (int i = 0; i < nvars; i++)
        if (a < vars[i].hi && a + size > vars[i].lo)
            return i;
    return -1;
}

static uintptr_t code_end(const object *o, uintptr_t addr);
static int by_value(const void *a, const void *b);

/* A run of instructions moved to a trampoline: one that reaches the
 * variable RIP-relatively, or a pointer to it loaded (from the GOT, or by
 * lea) and the instructions after it that go through the pointer. The
 * first becomes the jump; the others are never run in place. */
#define MAX_SEQ 8

typedef struct seq_insn {
    uint8_t bytes[16];
    uint8_t len, disp_offset;   /* disp_offset 0: not RIP-relative */
    uintptr_t target;           /* where a RIP-relative operand points */
    uint8_t use;                /* a watched access, p filled */
    patch p;
} seq_insn;

typedef struct candidate {
    uintptr_t insn, end;
    int n;
    seq_insn in[MAX_SEQ];
    uint8_t jump[16];           /* what replaces the first */
    uint8_t ready;
} candidate;

typedef struct addr_list {
    uintptr_t *v;
    size_t n, cap;
} addr_list;

static void addr_push(addr_list *l, uintptr_t a)
{
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 1024;
        uintptr_t *v = realloc(l->v, cap * sizeof *v);
        if (!v)
            return;
        l->v = v;
        l->cap = cap;
    }
    l->v[l->n++] = a;
}

/* For a sorted list. */
static int addr_in(const addr_list *l, uintptr_t a)
{
    size_t lo = 0, hi = l->n;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (l->v[mid] < a)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < l->n && l->v[lo] == a;
}

typedef struct scan {
    candidate *c;
    uint32_t n, cap;
    addr_list targets;          /* direct branch targets in the object, sorted after pass 1 */
    addr_list indirect;         /* the functions (starts) with an indirect jump, sorted */
    const object *o;
    int has_indirect;           /* the function being scanned has one */
} scan;

static candidate *new_candidate(scan *s)
{
    if (s->n == s->cap) {
        uint32_t cap = s->cap ? s->cap * 2 : 64;
        candidate *c = realloc(s->c, cap * sizeof *c);
        if (!c)
            return NULL;
        s->c = c;
        s->cap = cap;
    }
    candidate *c = &s->c[s->n++];
    memset(c, 0, sizeof *c);
    return c;
}

/* A general register's index in the stubs' array (watch_stub.S), for any
 * of its names; -1 for the others (rsp, rip, segments). */
static int gpr(unsigned reg)
{
    switch (reg) {
    case X86_REG_R15: case X86_REG_R15D: case X86_REG_R15W: case X86_REG_R15B: return 0;
    case X86_REG_R14: case X86_REG_R14D: case X86_REG_R14W: case X86_REG_R14B: return 1;
    case X86_REG_R13: case X86_REG_R13D: case X86_REG_R13W: case X86_REG_R13B: return 2;
    case X86_REG_R12: case X86_REG_R12D: case X86_REG_R12W: case X86_REG_R12B: return 3;
    case X86_REG_R11: case X86_REG_R11D: case X86_REG_R11W: case X86_REG_R11B: return 4;
    case X86_REG_R10: case X86_REG_R10D: case X86_REG_R10W: case X86_REG_R10B: return 5;
    case X86_REG_R9: case X86_REG_R9D: case X86_REG_R9W: case X86_REG_R9B: return 6;
    case X86_REG_R8: case X86_REG_R8D: case X86_REG_R8W: case X86_REG_R8B: return 7;
    case X86_REG_RDI: case X86_REG_EDI: case X86_REG_DI: case X86_REG_DIL: return 8;
    case X86_REG_RSI: case X86_REG_ESI: case X86_REG_SI: case X86_REG_SIL: return 9;
    case X86_REG_RBP: case X86_REG_EBP: case X86_REG_BP: case X86_REG_BPL: return 10;
    case X86_REG_RBX: case X86_REG_EBX: case X86_REG_BX: case X86_REG_BL: case X86_REG_BH: return 11;
    case X86_REG_RDX: case X86_REG_EDX: case X86_REG_DX: case X86_REG_DL: case X86_REG_DH: return 12;
    case X86_REG_RCX: case X86_REG_ECX: case X86_REG_CX: case X86_REG_CL: case X86_REG_CH: return 13;
    case X86_REG_RAX: case X86_REG_EAX: case X86_REG_AX: case X86_REG_AL: case X86_REG_AH: return 14;
    default: return -1;
    }
}

static int control_transfer(csh h, const cs_insn *insn)
{
    return cs.insn_group(h, insn, CS_GRP_JUMP) || cs.insn_group(h, insn, CS_GRP_CALL) ||
           cs.insn_group(h, insn, CS_GRP_RET) || cs.insn_group(h, insn, CS_GRP_INT) ||
           cs.insn_group(h, insn, CS_GRP_IRET) || insn->id == X86_INS_SYSCALL ||
           insn->id == X86_INS_SYSENTER || insn->id == X86_INS_UD2;
}

/* Instructions that move the stack pointer or reach the stack implicitly
 * stay where they are. */
static int uses_stack(const cs_insn *insn)
{
    switch (insn->id) {
    case X86_INS_PUSH: case X86_INS_POP: case X86_INS_PUSHF: case X86_INS_POPF: case X86_INS_PUSHFQ:
    case X86_INS_POPFQ: case X86_INS_ENTER: case X86_INS_LEAVE:
        return 1;
    default:
        return 0;
    }
}

static void copy_insn(seq_insn *si, const cs_insn *insn)
{
    memcpy(si->bytes, insn->bytes, insn->size);
    si->len = (uint8_t)insn->size;
    const cs_x86 *x = &insn->detail->x86;
    for (int i = 0; i < x->op_count; i++)
        if (x->operands[i].type == X86_OP_MEM && x->operands[i].mem.base == X86_REG_RIP) {
            si->disp_offset = x->encoding.disp_offset;
            si->target = (uintptr_t)(insn->address + insn->size + x->operands[i].mem.disp);
        }
}

static void fill_patch(patch *p, const cs_insn *insn, const cs_x86_op *op, int var)
{
    const cs_x86 *x = &insn->detail->x86;
    p->insn = (uintptr_t)insn->address;
    p->var = (uint16_t)var;
    p->read = (op->access & CS_AC_READ) != 0;
    p->write = (op->access & CS_AC_WRITE) != 0;
    p->atomic = x->prefix[0] == X86_PREFIX_LOCK || insn->id == X86_INS_XCHG;
    if (p->atomic)
        vars[var].atomic = 1;
}

/* The memory operand an instruction accesses (not lea's address), NULL if none. */
static const cs_x86_op *accessed(const cs_insn *insn)
{
    const cs_x86 *x = &insn->detail->x86;
    if (insn->id == X86_INS_LEA || insn->id == X86_INS_NOP)
        return NULL;
    for (int i = 0; i < x->op_count; i++)
        if (x->operands[i].type == X86_OP_MEM && (x->operands[i].access & (CS_AC_READ | CS_AC_WRITE)))
            return &x->operands[i];
    return NULL;
}

/* An instruction that reaches a watched variable RIP-relatively. */
static void consider_direct(csh h, const cs_insn *insn, scan *s)
{
    const cs_x86_op *op = accessed(insn);
    if (!op || op->mem.base != X86_REG_RIP || op->mem.index != X86_REG_INVALID ||
        op->mem.segment != X86_REG_INVALID)
        return;
    uintptr_t target = (uintptr_t)(insn->address + insn->size + op->mem.disp);
    int var = overlapping_var(target, op->size ? op->size : 1);
    if (var < 0 || control_transfer(h, insn) || uses_stack(insn) ||
        insn->detail->x86.encoding.disp_size != 4 || insn->size < 5)
        return;
    candidate *c = new_candidate(s);
    if (!c)
        return;
    c->insn = (uintptr_t)insn->address;
    c->end = c->insn + insn->size;
    c->n = 1;
    seq_insn *si = &c->in[0];
    copy_insn(si, insn);
    si->use = 1;
    fill_patch(&si->p, insn, op, var);
    watch_var *v = &vars[var];
    uintptr_t lo = target > v->lo ? target : v->lo;
    uintptr_t hi = target + op->size < v->hi ? target + op->size : v->hi;
    si->p.addr = lo;
    si->p.size = (uint32_t)(hi - lo);
}

/* A pointer into a watched variable (or the struct it is a member of) put
 * in a register RIP-relatively:
 * `mov var@GOTPCREL(%rip), %reg` (the GOT slot already holds the
 * address) or `lea var(%rip), %reg`. Returns the variable, -1 if none. */
static int pointer_load(const cs_insn *insn, const object *o, int *reg, uintptr_t *pointer)
{
    const cs_x86 *x = &insn->detail->x86;
    if ((insn->id != X86_INS_MOV && insn->id != X86_INS_LEA) || x->op_count != 2 ||
        x->operands[0].type != X86_OP_REG || x->operands[0].size != 8 ||
        x->operands[1].type != X86_OP_MEM || x->operands[1].mem.base != X86_REG_RIP ||
        x->operands[1].mem.index != X86_REG_INVALID || x->operands[1].mem.segment != X86_REG_INVALID ||
        x->encoding.disp_size != 4 || insn->size < 5)
        return -1;
    *reg = gpr(x->operands[0].reg);
    if (*reg < 0)
        return -1;
    uintptr_t a = (uintptr_t)(insn->address + insn->size + x->operands[1].mem.disp);
    if (insn->id == X86_INS_MOV) {
        if (a < o->lo || a + 8 > o->hi || (a & 7))
            return -1;
        a = *(const uintptr_t *)a;
    }
    *pointer = a;
    /* into the whole variable: `lea stats(%rip)` then 8(%reg) for a member */
    for (int i = 0; i < nvars; i++)
        if (a >= vars[i].sym_lo && a < vars[i].sym_hi)
            return i;
    return -1;
}

/* From a pointer load, the instructions that follow it in a straight line
 * while the register still holds the pointer: each access through it is a
 * watched access, its address computed when it runs. The run stops before
 * a branch, a call, a branch target (code can enter there without the
 * pointer load), an instruction that uses the stack, and after one that
 * overwrites the register. */
static void consider_pointer(csh h, const cs_insn *load_insn, uintptr_t pointer, int pointed, int reg,
                             scan *s, cs_insn *tmp)
{
    candidate c;
    memset(&c, 0, sizeof c);
    c.insn = (uintptr_t)load_insn->address;
    copy_insn(&c.in[0], load_insn);
    c.n = 1;
    int uses = 0, last_use = 0;
    const uint8_t *code = (const uint8_t *)(load_insn->address + load_insn->size);
    uint64_t address = load_insn->address + load_insn->size;
    size_t size = 15 * MAX_SEQ;
    while (c.n < MAX_SEQ && cs.disasm_iter(h, &code, &size, &address, tmp)) {
        if (control_transfer(h, tmp) || uses_stack(tmp) || addr_in(&s->targets, (uintptr_t)tmp->address) ||
            code_end(s->o, (uintptr_t)tmp->address) == 0)
            break;
        const cs_x86_op *op = accessed(tmp);
        seq_insn *si = &c.in[c.n];
        copy_insn(si, tmp);
        if (si->disp_offset && tmp->detail->x86.encoding.disp_size != 4)
            break;
        int var = -1;
        uint32_t opsize = op && op->size ? op->size : 1;
        if (op && gpr(op->mem.base) == reg && op->mem.segment == X86_REG_INVALID) {
            /* no index: the address is known now; an index: any element of
             * the variable the pointer is in may be reached (pre checks) */
            if (op->mem.index == X86_REG_INVALID)
                var = overlapping_var(pointer + (uintptr_t)op->mem.disp, opsize);
            else if (gpr(op->mem.index) >= 0)
                var = pointed;
        }
        if (var >= 0) {
            si->use = 1;
            fill_patch(&si->p, tmp, op, var);
            si->p.dynamic = 1;
            si->p.base = (int8_t)reg;
            si->p.index = (int8_t)(op->mem.index == X86_REG_INVALID ? -1 : gpr(op->mem.index));
            si->p.scale = (uint8_t)op->mem.scale;
            si->p.disp = op->mem.disp;
            si->p.size = opsize;
            uses++;
            last_use = c.n + 1;
        }
        c.n++;
        cs_regs read, written;
        uint8_t nread = 0, nwritten = 0;
        int clobbers = cs.regs_access(h, tmp, read, &nread, written, &nwritten) != CS_ERR_OK;
        for (int i = 0; i < nwritten; i++)
            clobbers |= gpr(written[i]) == reg;
        if (clobbers)
            break;
    }
    if (!uses)
        return;
    c.n = last_use;
    candidate *k = new_candidate(s);
    if (!k)
        return;
    *k = c;
    k->end = k->insn;
    for (int i = 0; i < k->n; i++)
        k->end += k->in[i].len;
}

static void consider(csh h, const cs_insn *insn, scan *s, cs_insn *tmp)
{
    consider_direct(h, insn, s);
    int reg, pointed;
    uintptr_t pointer;
    if (!s->has_indirect && (pointed = pointer_load(insn, s->o, &reg, &pointer)) >= 0)
        consider_pointer(h, insn, pointer, pointed, reg, s, tmp);
}

/* Pass 1: the direct branch targets, and whether the function has an
 * indirect jump, which may land anywhere in it. */
static void note_targets(csh h, const cs_insn *insn, scan *s)
{
    const cs_x86 *x = &insn->detail->x86;
    if (!cs.insn_group(h, insn, CS_GRP_JUMP) && !cs.insn_group(h, insn, CS_GRP_CALL))
        return;
    if (x->op_count == 1 && x->operands[0].type == X86_OP_IMM)
        addr_push(&s->targets, (uintptr_t)x->operands[0].imm);
    else if (cs.insn_group(h, insn, CS_GRP_JUMP))
        s->has_indirect = 1;
}

/* Decodes one function, [start, start + size): pass 1 notes the branch
 * targets, pass 2 finds the candidates (runs of several instructions only
 * in a function with no indirect jump). Functions come in address order. */
static void disassemble(csh h, cs_insn *insn, cs_insn *tmp, uintptr_t start, size_t size, scan *s,
                        int pass)
{
    const uint8_t *code = (const uint8_t *)start;
    uint64_t address = start;
    s->has_indirect = pass == 2 && addr_in(&s->indirect, start);
    while (size > 0) {
        if (!cs.disasm_iter(h, &code, &size, &address, insn)) {
            /* not code (padding, data): step over one byte */
            code++;
            address++;
            size--;
            continue;
        }
        if (pass == 1)
            note_targets(h, insn, s);
        else
            consider(h, insn, s, tmp);
    }
    if (pass == 1 && s->has_indirect)
        addr_push(&s->indirect, start);
}

/* The executable segment holding addr: its end, 0 if none. */
static uintptr_t code_end(const object *o, uintptr_t addr)
{
    for (int i = 0; i < o->ncode; i++)
        if (addr >= o->code_lo[i] && addr < o->code_hi[i])
            return o->code_hi[i];
    return 0;
}

/* The first address of every function the unwind table describes: its
 * index (.eh_frame_hdr, as mapped) is a sorted table of them, which a
 * stripped object keeps too, static functions and .cold parts included. */
static size_t fde_starts(const object *o, uintptr_t *out, size_t n, size_t max)
{
    const uint8_t *h = (const uint8_t *)o->eh_frame_hdr;
    /* version 1; a 4-byte frame pointer and count; table entries data-relative
     * signed 4 bytes (what every linker writes) */
    if (!h || h[0] != 1 || (h[1] & 0x0f) != 0x0b || ((h[2] & 0x0f) != 0x03 && (h[2] & 0x0f) != 0x0b) ||
        h[3] != 0x3b)
        return n;
    uint32_t count;
    memcpy(&count, h + 8, 4);
    for (uint32_t i = 0; i < count && n < max; i++) {
        int32_t loc;
        memcpy(&loc, h + 12 + 8 * (size_t)i, 4);
        out[n++] = (uintptr_t)h + (uintptr_t)(intptr_t)loc;
    }
    return n;
}

static int by_value(const void *a, const void *b)
{
    uintptr_t x = *(const uintptr_t *)a, y = *(const uintptr_t *)b;
    return x < y ? -1 : x > y;
}

static uint32_t table_count(const object *o)
{
    const uint8_t *h = (const uint8_t *)o->eh_frame_hdr;
    uint32_t count = 0;
    if (h && h[0] == 1)
        memcpy(&count, h + 8, 4);
    return count;
}

/* Every function of the object, decoded from its first byte to the next
 * function's: the starts come from the function symbols and the unwind
 * table. An object with neither is swept linearly. */
static void scan_object(const object *o, scan *s)
{
    elf_file ef;
    int syms = elf_open_syms(o->path, &ef) == 0;
    size_t max = (syms ? ef.nsyms : 0) + table_count(o), n = 0;
    uintptr_t *starts = max ? malloc(max * sizeof *starts) : NULL;
    for (size_t i = 0; starts && syms && i < ef.nsyms; i++) {
        GElf_Sym sym;
        if (gelf_getsym(ef.syms, (int)i, &sym) && GELF_ST_TYPE(sym.st_info) == STT_FUNC &&
            sym.st_shndx != SHN_UNDEF)
            starts[n++] = o->base + sym.st_value;
    }
    if (syms)
        elf_close(&ef);
    if (starts)
        n = fde_starts(o, starts, n, max);
    csh h;
    cs_insn *insn = NULL;
    if (cs.open(CS_ARCH_X86, CS_MODE_64, &h) == CS_ERR_OK) {
        cs.option(h, CS_OPT_DETAIL, CS_OPT_ON);
        insn = cs.malloc(h);
    }
    cs_insn *tmp = insn ? cs.malloc(h) : NULL;
    if (tmp) {
        qsort(starts, n, sizeof *starts, by_value);
        s->o = o;
        for (int pass = 1; pass <= 2; pass++) {
            size_t decoded = 0;
            for (size_t i = 0; i < n; i++) {
                uintptr_t end = code_end(o, starts[i]);
                if (!end || (i + 1 < n && starts[i + 1] == starts[i]))
                    continue;
                if (i + 1 < n && starts[i + 1] < end)
                    end = starts[i + 1];
                disassemble(h, insn, tmp, starts[i], end - starts[i], s, pass);
                decoded++;
            }
            for (int i = 0; decoded == 0 && i < o->ncode; i++)
                disassemble(h, insn, tmp, o->code_lo[i], o->code_hi[i] - o->code_lo[i], s, pass);
            if (pass == 1)
                qsort(s->targets.v, s->targets.n, sizeof *s->targets.v, by_value);
        }
    }
    if (tmp)
        cs.free(tmp, 1);
    if (insn) {
        cs.free(insn, 1);
        cs.close(&h);
    }
    free(starts);
    free(s->targets.v);
    free(s->indirect.v);
}

static int fits_rel32(uintptr_t from, uintptr_t to)
{
    int64_t d = (int64_t)(to - from);
    return d >= INT32_MIN && d <= INT32_MAX;
}

/* A region for the trampolines within reach of the whole object. */
static uint8_t *map_near(const object *o, size_t size)
{
    long page = sysconf(_SC_PAGESIZE);
    for (int i = 0; i < 512; i++) {
        uintptr_t step = (uintptr_t)(i / 2 + 1) << 21;
        uintptr_t hint = i % 2 ? (o->lo & ~(uintptr_t)(page - 1)) - step - size
                               : ((o->hi + page - 1) & ~(uintptr_t)(page - 1)) + step;
        void *r = mmap((void *)hint, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS |
                       MAP_FIXED_NOREPLACE, -1, 0);
        if (r == MAP_FAILED)
            continue;
        uintptr_t a = (uintptr_t)r;
        if (fits_rel32(a, o->lo) && fits_rel32(a + size, o->hi) && fits_rel32(o->lo, a + size) &&
            fits_rel32(o->hi, a))
            return r;
        munmap(r, size);
    }
    return NULL;
}

static uint8_t *put32(uint8_t *at, int32_t v)
{
    memcpy(at, &v, 4);
    return at + 4;
}

/* lea -128(%rsp),%rsp; push $k; call *stub(%rip); lea 136(%rsp),%rsp */
static uint8_t *emit_call(uint8_t *at, uint32_t k, const uint8_t *stub_slot)
{
    static const uint8_t skip[] = { 0x48, 0x8d, 0x64, 0x24, 0x80 };
    static const uint8_t back[] = { 0x48, 0x8d, 0xa4, 0x24, 0x88, 0x00, 0x00, 0x00 };
    memcpy(at, skip, sizeof skip);
    at += sizeof skip;
    *at++ = 0x68;
    at = put32(at, (int32_t)k);
    *at++ = 0xff;
    *at++ = 0x15;
    at = put32(at, (int32_t)((uintptr_t)stub_slot - (uintptr_t)(at + 4)));
    memcpy(at, back, sizeof back);
    return at + sizeof back;
}

static int by_address(const void *a, const void *b)
{
    const candidate *x = a, *y = b;
    return x->insn < y->insn ? -1 : x->insn > y->insn;
}

/* Writes the trampolines of one object's candidates, then the jumps to
 * them. A trampoline: each instruction of the run, moved (a RIP-relative
 * operand re-aimed), the watched ones between a call to pre and a call to
 * post, then a jump back after the run. */
static void rewrite(const object *o, scan *s, int mem, char *err, size_t errlen)
{
    /* a function with two names is decoded twice; runs may overlap */
    qsort(s->c, s->n, sizeof *s->c, by_address);
    uint32_t n = 0;
    for (uint32_t i = 0; i < s->n; i++)
        if (n == 0 || s->c[i].insn >= s->c[n - 1].end)
            s->c[n++] = s->c[i];
    s->n = n;
    size_t need = REGION_HEADER;
    for (uint32_t i = 0; i < n; i++)
        need += (size_t)s->c[i].n * (15 + 2 * CALL_SIZE) + 5;
    size_t page = (size_t)sysconf(_SC_PAGESIZE);
    size_t size = (need + page - 1) & ~(page - 1);
    uint8_t *region = n ? map_near(o, size) : NULL;
    if (!region) {
        if (n)
            snprintf(err, errlen, "no room for code within 2 GiB of %s", base_name(o->path));
        return;
    }
    void (*stubs[2])(void) = { lr_watch_stub_pre, lr_watch_stub_post };
    memcpy(region, stubs, sizeof stubs);
    uint32_t first = npatches;
    uint8_t *at = region + REGION_HEADER;
    for (uint32_t i = 0; i < n; i++) {
        candidate *c = &s->c[i];
        uint8_t *slot = at;
        uint32_t k0 = npatches;
        int ok = 1;
        for (int j = 0; j < c->n && ok; j++) {
            seq_insn *si = &c->in[j];
            if (si->use && npatches == MAX_PATCHES)
                ok = 0;
            if (!ok)
                break;
            uint32_t k = npatches;
            if (si->use)
                at = emit_call(at, k, region);
            uint8_t *moved = at;
            memcpy(at, si->bytes, si->len);
            at += si->len;
            if (si->disp_offset) {
                if (!fits_rel32((uintptr_t)at, si->target)) {
                    ok = 0;
                    break;
                }
                int32_t disp = (int32_t)(si->target - (uintptr_t)at);
                memcpy(moved + si->disp_offset, &disp, 4);
            }
            if (si->use) {
                at = emit_call(at, k, region + 8);
                patches[k] = si->p;
                npatches++;
            }
        }
        if (!ok) {
            npatches = k0;          /* the slot's bytes stay, unused */
            continue;
        }
        *at++ = 0xe9;
        at = put32(at, (int32_t)(c->end - (uintptr_t)(at + 4)));
        /* the first instruction becomes a jump to the slot; the bytes left
         * over, and the rest of the run, are never run in place */
        c->jump[0] = 0xe9;
        put32(&c->jump[1], (int32_t)((uintptr_t)slot - (c->insn + 5)));
        memset(&c->jump[5], 0x90, c->in[0].len - 5);
        c->ready = 1;
    }
    if (mprotect(region, size, PROT_READ | PROT_EXEC) != 0) {
        snprintf(err, errlen, "cannot make the trampolines executable (%s)", strerror(errno));
        npatches = first;
        return;
    }
    for (uint32_t i = 0; i < n; i++) {
        const candidate *c = &s->c[i];
        if (c->ready && pwrite(mem, c->jump, c->in[0].len, (off_t)c->insn) != c->in[0].len) {
            snprintf(err, errlen, "cannot rewrite code in %s through /proc/self/mem (%s)",
                     base_name(o->path), strerror(errno));
            /* what was not rewritten is never reached: forget it */
            for (uint32_t k = first; k < npatches; k++)
                if (patches[k].insn >= c->insn)
                    patches[k].size = 0;
            return;
        }
    }
}

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
    for (int i = 0; i < nvars; i++)
        if (vars[i].lo >= o->lo && vars[i].lo < o->hi)
            return 1;
    for (int d = 0; d < o->ndata; d++)
        for (uintptr_t a = (o->data_lo[d] + 7) & ~(uintptr_t)7; a + 8 <= o->data_hi[d]; a += 8) {
            uintptr_t v = *(const uintptr_t *)a;
            for (int i = 0; i < nvars; i++)
                if (v >= vars[i].sym_lo && v < vars[i].sym_hi)
                    return 1;
        }
    return 0;
}

void lr_watch_start(const char *spec)
{
    if (!spec || !spec[0])
        return;
    char err[600];
    elf_version(EV_CURRENT);
    dl_iterate_phdr(collect_object, NULL);
    char items[sizeof lr_opt.watch];
    snprintf(items, sizeof items, "%s", spec);
    for (char *save = NULL, *item = strtok_r(items, ",", &save); item; item = strtok_r(NULL, ",", &save)) {
        int rc = add_item(item, err, sizeof err);
        if (rc == -1)
            fail(err, 1);
        if (rc == -2 && (lr_opt.verbosity >= 2 || lr_launched_command()))
            fail(err, 0);
    }
    if (nvars == 0)
        return;
    lr_watch_vector_mode = vector_mode();
    if (load_capstone() < 0) {
        snprintf(err, sizeof err, "watch: cannot load %s, the disassembler watching needs "
                 "(Debian: apt-get install libcapstone4); nothing is watched", capstone_name());
        fail(err, 0);
        return;
    }
    patches = lr_map(MAX_PATCHES * sizeof *patches);
    int mem = open("/proc/self/mem", O_RDWR | O_CLOEXEC);
    if (!patches || mem < 0) {
        snprintf(err, sizeof err, "watch: cannot open /proc/self/mem to rewrite code (%s); "
                 "nothing is watched", strerror(errno));
        fail(err, 0);
        return;
    }
    lr_thread *self = lr_self();
    uint32_t found[MAX_VARS] = { 0 };
    for (int o = 0; o < nobjects; o++) {
        if (objects[o].skip || !reaches_a_variable(&objects[o]))
            continue;
        scan s = { 0 };
        scan_object(&objects[o], &s);
        err[0] = 0;
        uint32_t before = npatches;
        rewrite(&objects[o], &s, mem, err, sizeof err);
        for (uint32_t k = before; k < npatches; k++)
            found[patches[k].var] += patches[k].size != 0;
        free(s.c);
        if (err[0]) {
            char line[700];
            snprintf(line, sizeof line, "watch: %s", err);
            fail(line, 0);
        }
    }
    close(mem);
    for (int i = 0; i < nvars; i++) {
        /* a member or a raw range: the debug information names it best */
        lr_race_watch(self, vars[i].lo, vars[i].hi - vars[i].lo,
                      strpbrk(vars[i].name, "+:") ? NULL : vars[i].name);
        if (!found[i]) {
            snprintf(err, sizeof err, "watch=%s: no instruction reaches it directly or through its "
                     "address loaded just before; other accesses through pointers are not seen, so "
                     "nothing of it will be", vars[i].name);
            fail(err, 0);
        } else if (lr_opt.verbosity >= 2) {
            snprintf(err, sizeof err, "watching %s (%zu bytes): %u instruction%s", vars[i].name,
                     (size_t)(vars[i].hi - vars[i].lo), found[i], found[i] == 1 ? "" : "s");
            fail(err, 0);
        }
    }
}

void lr_watch_fork_child(void)
{
    for (int i = 0; i < nvars; i++)
        lr_ilock_reset(&vars[i].lock);
}
