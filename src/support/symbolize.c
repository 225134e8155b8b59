/* Symbolization with elfutils libdwfl. One Dwfl session describes the
 * modules of this process; it is built on first use and kept until
 * lr_sym_reset(). Calls are serialized by the caller.
 *
 * Code: function, file and line of an address, and the functions inlined
 * at it. Data names and member paths: symbolize_data.c. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "support/symbolize.h"
#include "support/symbolize_internal.h"
#include "support/util.h"

#include <dlfcn.h>
#include <dwarf.h>
#include <elfutils/libdw.h>
#include <elfutils/libdwfl.h>
#include <gelf.h>
#include <inttypes.h>
#include <limits.h>
#include <errno.h>
#include <fcntl.h>
#include <link.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/stat.h>
#include <unistd.h>


/* GNU debuglink's checksum: CRC-32 (as zlib's) of the whole debug file. */
static uint32_t file_crc32(int fd)
{
    static uint32_t table[256];
    if (!table[1])
        for (uint32_t i = 0; i < 256; i++) {
            uint32_t c = i;
            for (int k = 0; k < 8; k++)
                c = c & 1 ? 0xedb88320u ^ (c >> 1) : c >> 1;
            table[i] = c;
        }
    unsigned char buf[16384];
    uint32_t crc = 0xffffffffu;
    ssize_t n;
    off_t at = 0;
    while ((n = pread(fd, buf, sizeof buf, at)) > 0 || (n < 0 && errno == EINTR)) {
        for (ssize_t i = 0; i < n; i++)
            crc = table[(crc ^ buf[i]) & 0xff] ^ (crc >> 8);
        at += n > 0 ? n : 0;
    }
    return crc ^ 0xffffffffu;
}

/* The file a .gnu_debuglink names, where GDB and elfutils look: under
 * /usr/lib/debug with the object's directory, beside the object, in .debug/
 * beside it; a file whose checksum differs is another build's. */
static int find_debuglink(const char *file_name, const char *debuglink, GElf_Word crc, char **found)
{
    if (!file_name || !debuglink || !*debuglink || strchr(debuglink, '/'))
        return -1;
    char dir[PATH_MAX];
    const char *slash = strrchr(file_name, '/');
    if (!slash || (size_t)(slash - file_name) >= sizeof dir)
        return -1;
    memcpy(dir, file_name, (size_t)(slash - file_name));
    dir[slash - file_name] = 0;
    static const char *const places[] = { "/usr/lib/debug%s/%s", "%s/%s", "%s/.debug/%s" };
    struct stat self;
    int have_self = stat(file_name, &self) == 0;
    /* a set-uid program reads no debug file a user could have put beside it */
    size_t nplaces = lr_secure() ? 1 : sizeof places / sizeof places[0];
    for (size_t i = 0; i < nplaces; i++) {
        char path[PATH_MAX];
        if (snprintf(path, sizeof path, places[i], dir, debuglink) >= (int)sizeof path)
            continue;
        int fd = open(path, O_RDONLY | O_CLOEXEC);
        struct stat st;
        if (fd < 0)
            continue;
        if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) &&
            !(have_self && st.st_dev == self.st_dev && st.st_ino == self.st_ino) &&
            (crc == 0 || file_crc32(fd) == crc) && (*found = strdup(path))) {
            return fd;
        }
        close(fd);
    }
    return -1;
}

/* Separate debug files are looked up on this machine only, where libdwfl's
 * standard lookup looks first: by build ID under /usr/lib/debug (where
 * Debian's -dbgsym packages put them; for a .gnu_debugaltlink, the dwz file
 * of that build ID), then in the places the object's .gnu_debuglink names.
 *
 * dwfl_standard_find_debuginfo is never called: when those fail it asks
 * debuginfod, and elfutils 0.188 dlopens libdebuginfod.so.1 for that
 * whether DEBUGINFOD_URLS is set or not. That loads it, libcurl, gnutls and
 * their dependencies (33 objects, as ldd lists them) into the program and
 * runs their constructors, while a report is written, often from inside
 * exit() (a stripped program such as Debian's redis-server has no symbol
 * table but in a debug file, so every report of it asks); with
 * DEBUGINFOD_URLS set (Debian's profile sets it for login shells) it would
 * download as well. Those constructors take glibc's locale and catalog
 * locks for writing (libp11-kit's newlocale, gnutls's bindtextdomain),
 * which hangs the program for ever where a thread that is gone left one
 * held: in the child of a fork made while a thread was in strerror (test
 * fork_in_gettext), or after ASan's start-up broke _nl_state_lock (redis
 * in the sanitized build; docs/real-programs.md). The build-ID lookup
 * reads no environment, so the same holds in a set-uid program, whose
 * environment is its caller's. */
static int find_debuginfo(Dwfl_Module *mod, void **userdata, const char *modname, GElf_Addr base,
                          const char *file_name, const char *debuglink_file,
                          GElf_Word debuglink_crc, char **debuginfo_file_name)
{
    int fd = dwfl_build_id_find_debuginfo(mod, userdata, modname, base, file_name, debuglink_file,
                                          debuglink_crc, debuginfo_file_name);
    if (fd >= 0)
        return fd;
    return find_debuglink(file_name, debuglink_file, debuglink_crc, debuginfo_file_name);
}

static const Dwfl_Callbacks callbacks = {
    .find_elf = dwfl_linux_proc_find_elf,
    .find_debuginfo = find_debuginfo,
};

static Dwfl *session;
/* lr_sym_keep_files ran: the session is kept whatever is missing from it,
 * since the process can no longer see its files to make another */
static bool files_kept;

/* ---- bounded text ---- */

void lr_sym_text_add(text *t, const char *fmt, ...)
{
    if (t->len + 1 >= t->cap)
        return;
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(t->buf + t->len, t->cap - t->len, fmt, ap);
    va_end(ap);
    if (n < 0) {
        t->buf[t->len] = '\0';
        return;
    }
    t->len = (size_t)n < t->cap - t->len ? t->len + (size_t)n : t->cap - 1;
}

static void copy_text(char *dst, size_t cap, const char *src)
{
    text t = { dst, cap, 0 };
    dst[0] = '\0';
    lr_sym_text_add(&t, "%s", src ? src : "");
}

/* ---- names ---- */

typedef char *demangle_fn(const char *mangled, char *buf, size_t *len, int *status);

static demangle_fn *demangler;
static bool demangler_looked_up;

/* Looked up at run time: only C++ programs have libstdc++ loaded, and
 * lockrace must not pull it into C programs. */
static demangle_fn *find_demangler(void)
{
    if (!demangler_looked_up) {
        demangler = (demangle_fn *)dlsym(RTLD_DEFAULT, "__cxa_demangle");
        demangler_looked_up = true;
    }
    return demangler;
}

/* A malloc'd plain name; NULL when name is not mangled or cannot be demangled. */
static char *demangled(const char *name)
{
    if (name[0] != '_' || name[1] != 'Z')
        return NULL;
    demangle_fn *demangle = find_demangler();
    int status = -1;
    char *plain = demangle ? demangle(name, NULL, NULL, &status) : NULL;
    if (status != 0) {
        free(plain);
        return NULL;
    }
    return plain;
}

void lr_sym_add_symbol_name(text *t, const char *name)
{
    char *plain = demangled(name);
    lr_sym_text_add(t, "%s", plain ? plain : name);
    free(plain);
}

static void copy_module_name(char *dst, size_t cap, const char *path)
{
    static const char deleted[] = " (deleted)";
    if (!path) {
        copy_text(dst, cap, "");
        return;
    }
    if (strncmp(path, "[vdso", 5) == 0) {
        copy_text(dst, cap, "[vdso]");
        return;
    }
    const char *slash = strrchr(path, '/');
    copy_text(dst, cap, slash ? slash + 1 : path);
    size_t n = strlen(dst), d = sizeof deleted - 1;
    if (n > d && strcmp(dst + n - d, deleted) == 0)
        dst[n - d] = '\0';
}

/* ---- the session and its modules ---- */

static Dwfl *open_session(void)
{
    if (session)
        return session;
    Dwfl *d = dwfl_begin(&callbacks);
    if (!d)
        return NULL;
    dwfl_report_begin(d);
    /* A failure part way still leaves the modules reported so far usable.
     * libdw reads /proc/PID/auxv first, for the vDSO, and gives up when it
     * cannot: the kernel makes it unreadable to a process that switched
     * users (a server's workers after setuid), whose maps stay readable.
     * Then the maps alone: every module but the vDSO. */
    int failed = dwfl_linux_proc_report(d, getpid());
    if (failed == EACCES || failed == EPERM) {
        FILE *maps = fopen("/proc/self/maps", "re");
        if (maps) {
            dwfl_linux_proc_maps_report(d, maps);
            fclose(maps);
        }
    }
    if (dwfl_report_end(d, NULL, NULL) != 0) {
        dwfl_end(d);
        return NULL;
    }
    session = d;
    return d;
}

static int free_module_index(Dwfl_Module *mod, void **userdata, const char *name,
                             Dwarf_Addr start, void *arg)
{
    (void)mod, (void)name, (void)start, (void)arg;
    var_index *ix = *userdata;
    if (ix) {
        free(ix->v);
        free(ix);
        *userdata = NULL;
    }
    return DWARF_CB_OK;
}

void lr_sym_reset(void)
{
    if (session) {
        dwfl_getmodules(session, free_module_index, NULL, 0);
        dwfl_end(session);
        session = NULL;
    }
    demangler_looked_up = false;
}

static int open_module_files(Dwfl_Module *mod, void **userdata, const char *name, Dwarf_Addr start,
                             void *arg)
{
    (void)userdata, (void)name, (void)start, (void)arg;
    Dwarf_Addr bias;
    dwfl_module_getelf(mod, &bias);
    dwfl_module_getdwarf(mod, &bias);
    return DWARF_CB_OK;
}

void lr_sym_keep_files(void)
{
    Dwfl *d = open_session();
    if (d)
        dwfl_getmodules(d, open_module_files, NULL, 0);
    files_kept = d != NULL;
}

typedef struct segment_probe {
    uintptr_t addr;
    uintptr_t anchor;          /* a file-backed address of the covering object */
    bool found;
} segment_probe;

static int find_covering_object(struct dl_phdr_info *info, size_t size, void *data)
{
    (void)size;
    segment_probe *p = data;
    uintptr_t anchor = 0;
    bool covers = false;
    for (int i = 0; i < info->dlpi_phnum; i++) {
        const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
        if (ph->p_type != PT_LOAD)
            continue;
        uintptr_t lo = info->dlpi_addr + ph->p_vaddr;
        if (!anchor && ph->p_filesz > 0)
            anchor = lo;
        if (p->addr >= lo && p->addr - lo < ph->p_memsz)
            covers = true;
    }
    if (covers && anchor) {
        p->anchor = anchor;
        p->found = true;
        return 1;
    }
    return 0;
}

/* dwfl_addrmodule also answers for addresses past the last module (the
 * stack, typically) with that module; hence the range check. */
static Dwfl_Module *module_covering(Dwfl *d, uintptr_t addr)
{
    Dwfl_Module *mod = dwfl_addrmodule(d, addr);
    Dwarf_Addr lo = 0, hi = 0;
    if (!mod || !dwfl_module_info(mod, NULL, &lo, &hi, NULL, NULL, NULL, NULL))
        return NULL;
    return addr >= lo && addr < hi ? mod : NULL;
}

/* The maps-based module ranges miss two things: objects dlopen'ed after the
 * session was built, and .bss pages past an object's last file-backed
 * mapping. The loader's own segment list tells both apart from memory that
 * belongs to no object (stacks, heap), which must not cost a re-report. */
Dwfl_Module *lr_sym_module_at(uintptr_t addr)
{
    Dwfl *d = open_session();
    Dwfl_Module *mod = d ? module_covering(d, addr) : NULL;
    if (mod)
        return mod;
    segment_probe probe = { .addr = addr };
    dl_iterate_phdr(find_covering_object, &probe);
    if (!probe.found)
        return NULL;
    if (d && (mod = module_covering(d, probe.anchor)) != NULL)
        return mod;
    if (files_kept)
        return NULL;
    lr_sym_reset();
    d = open_session();
    if (!d)
        return NULL;
    mod = module_covering(d, addr);
    return mod ? mod : module_covering(d, probe.anchor);
}

int lr_sym_main_defines(const char *const *names, int n)
{
    /* the executable's program headers lie in its first mapping */
    Dwfl_Module *mod = lr_sym_module_at((uintptr_t)getauxval(AT_PHDR));
    int nsyms = mod ? dwfl_module_getsymtab(mod) : -1;
    for (int i = 1; i < nsyms; i++) {
        GElf_Sym sym;
        GElf_Addr addr;
        const char *name = dwfl_module_getsym_info(mod, i, &sym, &addr, NULL, NULL, NULL);
        if (!name || sym.st_shndx == SHN_UNDEF || GELF_ST_TYPE(sym.st_info) != STT_FUNC)
            continue;
        for (int k = 0; k < n; k++)
            if (strcmp(name, names[k]) == 0)
                return k;
    }
    return -1;
}

/* ---- DIE attributes ---- */

/* The _integrate lookups follow DW_AT_abstract_origin and DW_AT_specification
 * to the DIE that holds the attribute. */
bool lr_sym_attr_unsigned(Dwarf_Die *die, unsigned int name, Dwarf_Word *value)
{
    Dwarf_Attribute attr;
    return dwarf_attr_integrate(die, name, &attr) && dwarf_formudata(&attr, value) == 0;
}

const char *lr_sym_attr_string(Dwarf_Die *die, unsigned int name)
{
    Dwarf_Attribute attr;
    return dwarf_attr_integrate(die, name, &attr) ? dwarf_formstring(&attr) : NULL;
}

/* ---- code ---- */

static void clear_code_info(lr_code_info *out)
{
    out->function[0] = '\0';
    out->file[0] = '\0';
    out->line = 0;
    out->module[0] = '\0';
    out->module_offset = 0;
    out->file_offset = 0;
}

static void name_function(Dwfl_Module *mod, uintptr_t pc, lr_code_info *out)
{
    GElf_Off off;
    GElf_Sym sym;
    const char *name = dwfl_module_addrinfo(mod, pc, &off, &sym, NULL, NULL, NULL);
    if (!name || !name[0])
        return;
    text t = { out->function, sizeof out->function, 0 };
    lr_sym_add_symbol_name(&t, name);
}

/* libdwfl 0.188 finds the CU of an address through .debug_aranges only;
 * clang emits none, so then the CUs' own address ranges are searched. */
static bool unit_from_ranges(Dwfl_Module *mod, uintptr_t pc, Dwarf_Die *unit, Dwarf_Addr *bias)
{
    Dwarf *dw = dwfl_module_getdwarf(mod, bias);
    Dwarf_CU *cu = NULL;
    while (dw && dwarf_get_units(dw, cu, &cu, NULL, NULL, unit, NULL) == 0)
        if (dwarf_haspc(unit, pc - *bias) == 1)
            return true;
    return false;
}

static Dwarf_Line *line_from_unit_ranges(Dwfl_Module *mod, uintptr_t pc)
{
    Dwarf_Addr bias;
    Dwarf_Die unit;
    return unit_from_ranges(mod, pc, &unit, &bias) ? dwarf_getsrc_die(&unit, pc - bias) : NULL;
}

static void find_source_line(Dwfl_Module *mod, uintptr_t pc, lr_code_info *out)
{
    int lineno = 0;
    const char *file = NULL;
    Dwfl_Line *dwfl_line = dwfl_module_getsrc(mod, pc);
    if (dwfl_line) {
        file = dwfl_lineinfo(dwfl_line, NULL, &lineno, NULL, NULL, NULL);
    } else {
        Dwarf_Line *line = line_from_unit_ranges(mod, pc);
        if (line && (file = dwarf_linesrc(line, NULL, NULL)) != NULL && dwarf_lineno(line, &lineno) != 0)
            lineno = 0;
    }
    if (!file)
        return;
    copy_text(out->file, sizeof out->file, file);
    out->line = lineno > 0 ? lineno : 0;
}

/* The byte of the object's file that holds its link-time address vaddr:
 * the PT_LOAD segment that maps it says where; vaddr itself when none does. */
static uintptr_t file_offset(Elf *elf, uintptr_t vaddr)
{
    size_t n = 0;
    if (!elf || elf_getphdrnum(elf, &n) != 0)
        return vaddr;
    for (size_t i = 0; i < n; i++) {
        GElf_Phdr ph;
        if (gelf_getphdr(elf, (int)i, &ph) && ph.p_type == PT_LOAD && vaddr >= ph.p_vaddr
            && vaddr - ph.p_vaddr < ph.p_filesz)
            return vaddr - ph.p_vaddr + ph.p_offset;
    }
    return vaddr;
}

static Dwfl_Module *describe_code(uintptr_t pc, lr_code_info *out)
{
    clear_code_info(out);
    Dwfl_Module *mod = lr_sym_module_at(pc);
    if (!mod)
        return NULL;
    Dwarf_Addr start = 0;
    const char *path = dwfl_module_info(mod, NULL, &start, NULL, NULL, NULL, NULL, NULL);
    copy_module_name(out->module, sizeof out->module, path);
    /* The offset is the link-time address, as addr2line -e takes it: pc
     * less the load bias, which is the load address of a PIE program or a
     * shared library (their first segment is linked at 0) and 0 for a
     * program linked at a fixed address (ET_EXEC, -no-pie), whose first
     * mapping is at 0x400000. Without the object's file, the distance from
     * its first mapping is the best there is. */
    Dwarf_Addr bias = 0;
    Elf *elf = dwfl_module_getelf(mod, &bias);
    out->module_offset = pc - (elf ? bias : start);
    out->file_offset = elf ? file_offset(elf, out->module_offset) : out->module_offset;
    name_function(mod, pc, out);
    find_source_line(mod, pc, out);
    return mod;
}

int lr_sym_data_module(uintptr_t addr, char *module, size_t len, uintptr_t *offset)
{
    Dwfl_Module *mod = lr_sym_module_at(addr);
    if (!mod)
        return -1;
    Dwarf_Addr bias = 0;
    const char *path = dwfl_module_info(mod, NULL, NULL, NULL, NULL, NULL, NULL, NULL);
    Elf *elf = dwfl_module_getelf(mod, &bias);
    size_t n = 0;
    if (!elf || elf_getphdrnum(elf, &n) != 0)
        return -1;
    /* in a writable segment of the object itself: not a file mapped by
     * the program, which the session may list as a module too */
    uintptr_t vaddr = addr - bias;
    for (size_t i = 0; i < n; i++) {
        GElf_Phdr ph;
        if (gelf_getphdr(elf, (int)i, &ph) && ph.p_type == PT_LOAD && (ph.p_flags & PF_W)
            && vaddr >= ph.p_vaddr && vaddr - ph.p_vaddr < ph.p_memsz) {
            copy_module_name(module, len, path);
            *offset = vaddr;
            return 0;
        }
    }
    return -1;
}

int lr_sym_code(uintptr_t pc, lr_code_info *out)
{
    if (!out)
        return -1;
    return describe_code(pc, out) ? 0 : -1;
}

/* ---- inlined frames ---- */

/* With -gsplit-dwarf the functions are in the split unit, and libdwfl
 * answers with the skeleton. */
static bool unit_at(Dwfl_Module *mod, uintptr_t pc, Dwarf_Die *unit, Dwarf_Addr *bias)
{
    Dwarf_Die *die = dwfl_module_addrdie(mod, pc, bias);
    if (die)
        *unit = *die;
    else if (!unit_from_ranges(mod, pc, unit, bias))
        return false;
    uint8_t unit_type;
    Dwarf_Die split;
    if (dwarf_cu_info(unit->cu, NULL, &unit_type, NULL, &split, NULL, NULL, NULL) == 0
        && unit_type == DW_UT_skeleton) {
        if (dwarf_tag(&split) != DW_TAG_compile_unit)
            return false;
        *unit = split;
    }
    return true;
}

/* The child of scope whose code holds pc. Namespaces and classes hold
 * functions without having code of their own, so they are looked through,
 * as are blocks without addresses. */
static bool child_holding(Dwarf_Die *scope, Dwarf_Addr pc, Dwarf_Die *found, int depth)
{
    Dwarf_Die child;
    if (depth > MAX_SCOPE_DEPTH || dwarf_child(scope, &child) != 0)
        return false;
    do {
        switch (dwarf_tag(&child)) {
        case DW_TAG_lexical_block:
            if (!dwarf_hasattr(&child, DW_AT_low_pc) && !dwarf_hasattr(&child, DW_AT_ranges)) {
                if (child_holding(&child, pc, found, depth + 1))
                    return true;
                break;
            }
            /* fall through */
        case DW_TAG_subprogram:
        case DW_TAG_inlined_subroutine:
        case DW_TAG_try_block:
        case DW_TAG_catch_block:
        case DW_TAG_with_stmt:
            if (dwarf_haspc(&child, pc) == 1) {
                *found = child;
                return true;
            }
            break;
        case DW_TAG_namespace:
        case DW_TAG_module:
        case DW_TAG_class_type:
        case DW_TAG_structure_type:
        case DW_TAG_union_type:
            if (child_holding(&child, pc, found, depth + 1))
                return true;
            break;
        default:
            break;
        }
    } while (dwarf_siblingof(&child, &child) == 0);
    return false;
}

/* The concrete scopes holding pc, outermost first. Not dwarf_getscopes:
 * above the innermost inlined instance it gives the scopes of the inlined
 * function's abstract definition instead of those of the caller, and none
 * at all when that definition is in another unit, as with LTO. */
static int scopes_holding(Dwarf_Die *unit, Dwarf_Addr pc, Dwarf_Die *chain, int max)
{
    int n = 0;
    Dwarf_Die *scope = unit;
    while (n < max && child_holding(scope, pc, &chain[n], 0))
        scope = &chain[n++];
    return n;
}

/* C++ names come demangled from the linkage name, with their parameters,
 * like the symbol table's. */
static void name_scope(Dwarf_Die *fn, char *dst, size_t cap)
{
    const char *linkage = lr_sym_attr_string(fn, DW_AT_linkage_name);
    if (!linkage)
        linkage = lr_sym_attr_string(fn, DW_AT_MIPS_linkage_name);
    char *plain = linkage ? demangled(linkage) : NULL;
    const char *name = plain ? plain : lr_sym_attr_string(fn, DW_AT_name);
    copy_text(dst, cap, name ? name : linkage);
    free(plain);
}

static void locate_call(Dwarf_Die *inlined, lr_code_info *frame)
{
    Dwarf_Word file_index, line;
    Dwarf_Die cu;
    Dwarf_Files *files;
    size_t nfiles;
    const char *file = NULL;
    if (lr_sym_attr_unsigned(inlined, DW_AT_call_file, &file_index) && dwarf_diecu(inlined, &cu, NULL, NULL)
        && dwarf_getsrcfiles(&cu, &files, &nfiles) == 0 && file_index < nfiles)
        file = dwarf_filesrc(files, file_index, NULL, NULL);
    copy_text(frame->file, sizeof frame->file, file);
    frame->line = lr_sym_attr_unsigned(inlined, DW_AT_call_line, &line) && line <= INT_MAX ? (int)line : 0;
}

/* out[0] comes filled from the symbol table and the line table. Each
 * inlined instance names its frame and places the next one at its call
 * site; the first subprogram is the function that holds them all, named as
 * lr_sym_code names it. */
static int expand_frames(Dwarf_Die *chain, int depth, lr_code_info *out, int max)
{
    lr_code_info base = out[0];
    Dwarf_Die *callee = NULL;
    int n = 0;
    for (int i = depth - 1; i >= 0 && n < max; i--) {
        int tag = dwarf_tag(&chain[i]);
        if (tag != DW_TAG_inlined_subroutine && tag != DW_TAG_subprogram)
            continue;
        /* an inline wrapper marked artificial (lockrace.h's own, glibc's
         * _FORTIFY_SOURCE ones) shows as its caller, at the line of the
         * call, as in GDB. Not a member function: GCC marks a C++ lambda's
         * operator() artificial too, and its body is the program's code. */
        Dwarf_Attribute attr;
        bool artificial = false;
        if (tag == DW_TAG_inlined_subroutine && n == 0 &&
            dwarf_attr_integrate(&chain[i], DW_AT_artificial, &attr) && dwarf_formflag(&attr, &artificial) == 0 &&
            artificial && !dwarf_attr_integrate(&chain[i], DW_AT_object_pointer, &attr)) {
            callee = &chain[i];
            continue;
        }
        lr_code_info *frame = &out[n++];
        *frame = base;
        if (callee)
            locate_call(callee, frame);
        if (tag == DW_TAG_inlined_subroutine || (callee && !frame->function[0]))
            name_scope(&chain[i], frame->function, sizeof frame->function);
        if (tag == DW_TAG_subprogram)
            break;
        callee = &chain[i];
    }
    return n ? n : 1;
}

int lr_sym_code_returns(uintptr_t pc)
{
    Dwfl_Module *mod = lr_sym_module_at(pc);
    Dwarf_Die unit, chain[MAX_SCOPE_DEPTH];
    Dwarf_Addr bias;
    if (!mod || !unit_at(mod, pc, &unit, &bias))
        return -1;
    int depth = scopes_holding(&unit, pc - bias, chain, MAX_SCOPE_DEPTH);
    Dwarf_Attribute attr;
    Dwarf_Die type;
    for (int i = 0; i < depth; i++) {
        if (dwarf_tag(&chain[i]) != DW_TAG_subprogram)
            continue;
        if (!dwarf_attr_integrate(&chain[i], DW_AT_type, &attr) || !dwarf_formref_die(&attr, &type))
            return 0;       /* void */
        /* a float or double comes back in xmm0 */
        for (int k = 0; k < 8 && (dwarf_tag(&type) == DW_TAG_typedef || dwarf_tag(&type) == DW_TAG_const_type ||
                                  dwarf_tag(&type) == DW_TAG_volatile_type); k++)
            if (!dwarf_attr_integrate(&type, DW_AT_type, &attr) || !dwarf_formref_die(&attr, &type))
                return 1;
        Dwarf_Word encoding;
        return !(dwarf_tag(&type) == DW_TAG_base_type && lr_sym_attr_unsigned(&type, DW_AT_encoding, &encoding) &&
                 (encoding == DW_ATE_float || encoding == DW_ATE_complex_float));
    }
    return -1;
}

int lr_sym_code_frames(uintptr_t pc, lr_code_info *out, int max)
{
    if (!out || max <= 0)
        return 0;
    Dwfl_Module *mod = describe_code(pc, out);
    if (!mod)
        return 0;
    Dwarf_Die unit, chain[MAX_SCOPE_DEPTH];
    Dwarf_Addr bias;
    if (!unit_at(mod, pc, &unit, &bias))
        return 1;
    int depth = scopes_holding(&unit, pc - bias, chain, MAX_SCOPE_DEPTH);
    return expand_frames(chain, depth, out, max);
}
