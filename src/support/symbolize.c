/* Symbolization with elfutils libdwfl. One Dwfl session describes the
 * modules of this process; it is built on first use and kept until
 * lr_sym_reset(). Calls are serialized by the caller.
 *
 * Data names come from the symbol table (the variable and the offset in it)
 * and are refined with DWARF: the variable's DIE is found by its address in
 * a per-module index, and its type is walked down to the member or element
 * the offset falls in. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "support/symbolize.h"
#include "support/util.h"

#include <dlfcn.h>
#include <dwarf.h>
#include <elfutils/libdw.h>
#include <elfutils/libdwfl.h>
#include <inttypes.h>
#include <limits.h>
#include <errno.h>
#include <fcntl.h>
#include <link.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define MAX_TYPE_DEPTH 32
#define MAX_SCOPE_DEPTH 64
#define MAX_DIMS 8
#define MAX_WALK_STEPS 4096

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

/* Separate debug files are looked up on this machine only. With
 * DEBUGINFOD_URLS set (Debian's profile sets it for login shells), libdwfl's
 * standard lookup would download them, from inside the program being
 * watched, in the middle of writing a report: the places libdwfl would
 * look first are searched instead, the build-id directory (where Debian's
 * -dbgsym packages put them), then those of the object's .gnu_debuglink.
 * So it is in a set-uid program, whose environment (DEBUGINFOD_URLS, the
 * cache's path, which libdebuginfod reads with getenv) is its caller's. */
static int find_debuginfo(Dwfl_Module *mod, void **userdata, const char *modname, GElf_Addr base,
                          const char *file_name, const char *debuglink_file,
                          GElf_Word debuglink_crc, char **debuginfo_file_name)
{
    const char *urls = lr_getenv("DEBUGINFOD_URLS");
    if (!lr_secure() && (!urls || !*urls))
        return dwfl_standard_find_debuginfo(mod, userdata, modname, base, file_name,
                                            debuglink_file, debuglink_crc, debuginfo_file_name);
    const unsigned char *id;
    GElf_Addr vaddr;
    int n = dwfl_module_build_id(mod, &id, &vaddr);
    if (n >= 2) {
        char path[64 + 2 * 64] = "/usr/lib/debug/.build-id/";
        size_t len = strlen(path);
        for (int i = 0; i < n && len + 8 < sizeof path; i++) {
            len += (size_t)snprintf(path + len, sizeof path - len, "%02x", id[i]);
            if (i == 0)
                path[len++] = '/';
        }
        snprintf(path + len, sizeof path - len, ".debug");
        int fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd >= 0) {
            *debuginfo_file_name = strdup(path);
            return fd;
        }
    }
    return find_debuglink(file_name, debuglink_file, debuglink_crc, debuginfo_file_name);
}

static const Dwfl_Callbacks callbacks = {
    .find_elf = dwfl_linux_proc_find_elf,
    .find_debuginfo = find_debuginfo,
};

static Dwfl *session;
static int walk_steps_left;    /* unions are walked once per member: bound the work */

/* ---- bounded text ---- */

typedef struct text {
    char *buf;
    size_t cap, len;           /* len < cap: there is always room for the NUL */
} text;

static void text_add(text *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void text_add(text *t, const char *fmt, ...)
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
    text_add(&t, "%s", src ? src : "");
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

static void add_symbol_name(text *t, const char *name)
{
    char *plain = demangled(name);
    text_add(t, "%s", plain ? plain : name);
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

typedef struct var_entry {
    Dwarf_Addr addr;           /* run-time address of the variable */
    Dwarf_Die die;
} var_entry;

typedef struct var_index {
    var_entry *v;
    size_t n, cap;
} var_index;

static Dwfl *open_session(void)
{
    if (session)
        return session;
    Dwfl *d = dwfl_begin(&callbacks);
    if (!d)
        return NULL;
    dwfl_report_begin(d);
    /* A failure part way still leaves the modules reported so far usable. */
    dwfl_linux_proc_report(d, getpid());
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
static Dwfl_Module *module_at(uintptr_t addr)
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
    lr_sym_reset();
    d = open_session();
    if (!d)
        return NULL;
    mod = module_covering(d, addr);
    return mod ? mod : module_covering(d, probe.anchor);
}

/* ---- DIE attributes ---- */

/* The _integrate lookups follow DW_AT_abstract_origin and DW_AT_specification
 * to the DIE that holds the attribute. */
static bool attr_unsigned(Dwarf_Die *die, unsigned int name, Dwarf_Word *value)
{
    Dwarf_Attribute attr;
    return dwarf_attr_integrate(die, name, &attr) && dwarf_formudata(&attr, value) == 0;
}

static const char *attr_string(Dwarf_Die *die, unsigned int name)
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
}

static void name_function(Dwfl_Module *mod, uintptr_t pc, lr_code_info *out)
{
    GElf_Off off;
    GElf_Sym sym;
    const char *name = dwfl_module_addrinfo(mod, pc, &off, &sym, NULL, NULL, NULL);
    if (!name || !name[0])
        return;
    text t = { out->function, sizeof out->function, 0 };
    add_symbol_name(&t, name);
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

static Dwfl_Module *describe_code(uintptr_t pc, lr_code_info *out)
{
    clear_code_info(out);
    Dwfl_Module *mod = module_at(pc);
    if (!mod)
        return NULL;
    Dwarf_Addr start = 0;
    const char *path = dwfl_module_info(mod, NULL, &start, NULL, NULL, NULL, NULL, NULL);
    copy_module_name(out->module, sizeof out->module, path);
    out->module_offset = pc - start;
    name_function(mod, pc, out);
    find_source_line(mod, pc, out);
    return mod;
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
    const char *linkage = attr_string(fn, DW_AT_linkage_name);
    if (!linkage)
        linkage = attr_string(fn, DW_AT_MIPS_linkage_name);
    char *plain = linkage ? demangled(linkage) : NULL;
    const char *name = plain ? plain : attr_string(fn, DW_AT_name);
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
    if (attr_unsigned(inlined, DW_AT_call_file, &file_index) && dwarf_diecu(inlined, &cu, NULL, NULL)
        && dwarf_getsrcfiles(&cu, &files, &nfiles) == 0 && file_index < nfiles)
        file = dwarf_filesrc(files, file_index, NULL, NULL);
    copy_text(frame->file, sizeof frame->file, file);
    frame->line = attr_unsigned(inlined, DW_AT_call_line, &line) && line <= INT_MAX ? (int)line : 0;
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
        /* an inline wrapper marked artificial (lockrace.h's own) shows as
         * its caller, at the line of the call, as in GDB */
        Dwarf_Attribute attr;
        bool artificial = false;
        if (tag == DW_TAG_inlined_subroutine && n == 0 &&
            dwarf_attr_integrate(&chain[i], DW_AT_artificial, &attr) && dwarf_formflag(&attr, &artificial) == 0 &&
            artificial) {
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

/* ---- the variable index ---- */

static bool variable_address(Dwarf_Die *var, Dwarf_Addr *addr)
{
    Dwarf_Attribute attr;
    Dwarf_Op *expr;
    size_t n;
    if (!dwarf_attr(var, DW_AT_location, &attr) || dwarf_getlocation(&attr, &expr, &n) != 0 || n != 1)
        return false;
    if (expr[0].atom == DW_OP_addr) {
        *addr = expr[0].number;
        return true;
    }
    if (expr[0].atom == DW_OP_addrx || expr[0].atom == DW_OP_GNU_addr_index) {
        Dwarf_Attribute value;
        return dwarf_getlocation_attr(&attr, &expr[0], &value) == 0 && dwarf_formaddr(&value, addr) == 0;
    }
    return false;
}

static void add_variable(var_index *ix, Dwarf_Die *var, Dwarf_Addr bias)
{
    Dwarf_Addr addr;
    if (!variable_address(var, &addr))
        return;
    if (ix->n == ix->cap) {
        size_t cap = ix->cap ? ix->cap * 2 : 256;
        var_entry *v = realloc(ix->v, cap * sizeof *v);
        if (!v)
            return;
        ix->v = v;
        ix->cap = cap;
    }
    ix->v[ix->n++] = (var_entry){ addr + bias, *var };
}

/* Statics live at file scope, in namespaces, and inside functions and
 * their blocks; class bodies only declare, the definition is outside. */
static void index_scope(var_index *ix, Dwarf_Die *scope, Dwarf_Addr bias, int depth)
{
    Dwarf_Die child;
    if (depth > MAX_SCOPE_DEPTH || dwarf_child(scope, &child) != 0)
        return;
    do {
        switch (dwarf_tag(&child)) {
        case DW_TAG_variable:
            add_variable(ix, &child, bias);
            break;
        case DW_TAG_namespace:
        case DW_TAG_module:
        case DW_TAG_subprogram:
        case DW_TAG_lexical_block:
        case DW_TAG_inlined_subroutine:
            index_scope(ix, &child, bias, depth + 1);
            break;
        default:
            break;
        }
    } while (dwarf_siblingof(&child, &child) == 0);
}

static int by_address(const void *a, const void *b)
{
    Dwarf_Addr x = ((const var_entry *)a)->addr, y = ((const var_entry *)b)->addr;
    return x < y ? -1 : x > y;
}

static var_index *build_index(Dwfl_Module *mod)
{
    var_index *ix = calloc(1, sizeof *ix);
    if (!ix)
        return NULL;
    Dwarf_Addr bias;
    Dwarf *dw = dwfl_module_getdwarf(mod, &bias);
    Dwarf_CU *cu = NULL;
    uint8_t unit_type;
    Dwarf_Die unit, split_unit;
    /* With -gsplit-dwarf the variables are in the split unit (.dwo). */
    while (dw && dwarf_get_units(dw, cu, &cu, NULL, &unit_type, &unit, &split_unit) == 0) {
        if (unit_type == DW_UT_skeleton)
            index_scope(ix, &split_unit, bias, 0);
        else if (unit_type == DW_UT_compile || unit_type == DW_UT_partial)
            index_scope(ix, &unit, bias, 0);
    }
    if (ix->n)
        qsort(ix->v, ix->n, sizeof *ix->v, by_address);
    return ix;
}

/* Built once per module and kept in the module's user data slot; a module
 * without DWARF gets an empty index, so it is not searched again. */
static var_index *module_index(Dwfl_Module *mod)
{
    void **slot = NULL;
    dwfl_module_info(mod, &slot, NULL, NULL, NULL, NULL, NULL, NULL);
    if (!slot)
        return NULL;
    if (!*slot)
        *slot = build_index(mod);
    return *slot;
}

static Dwarf_Die *type_of(Dwarf_Die *die, Dwarf_Die *type)
{
    Dwarf_Attribute attr;
    if (!dwarf_attr_integrate(die, DW_AT_type, &attr))
        return NULL;
    return dwarf_formref_die(&attr, type);
}

/* A variable's DIE may be a definition that points at its declaration
 * (DW_AT_specification); dwarf_attr_integrate follows that for the type. */
static bool find_variable(Dwfl_Module *mod, Dwarf_Addr start, Dwarf_Die *var, Dwarf_Die *type)
{
    var_index *ix = module_index(mod);
    if (!ix || !ix->n)
        return false;
    size_t lo = 0, hi = ix->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (ix->v[mid].addr < start)
            lo = mid + 1;
        else
            hi = mid;
    }
    for (; lo < ix->n && ix->v[lo].addr == start; lo++) {
        if (type_of(&ix->v[lo].die, type)) {
            *var = ix->v[lo].die;
            return true;
        }
    }
    return false;
}

/* GCC names a function's static "lock.0"; the source says "lock". */
static bool is_numbered_copy(const char *sym, const char *name)
{
    size_t n = strlen(name);
    if (strncmp(sym, name, n) != 0 || sym[n] != '.' || !sym[n + 1])
        return false;
    return strspn(sym + n + 1, "0123456789") == strlen(sym + n + 1);
}

/* ---- naming inside a type ---- */

static bool names_lock_type(const char *name)
{
    static const char *const lock_names[] = {
        "mtx_t", "cnd_t", "sem_t", "mutex", "recursive_mutex", "timed_mutex",
        "recursive_timed_mutex", "shared_mutex", "shared_timed_mutex",
        "condition_variable", "condition_variable_any",
    };
    if (!name)
        return false;
    size_t n = strlen(name);
    if (strncmp(name, "pthread_", 8) == 0 && n > 10 && strcmp(name + n - 2, "_t") == 0)
        return true;
    for (size_t i = 0; i < sizeof lock_names / sizeof lock_names[0]; i++)
        if (strcmp(name, lock_names[i]) == 0)
            return true;
    return false;
}

static bool member_offset(Dwarf_Die *member, Dwarf_Word *start)
{
    Dwarf_Attribute attr;
    if (!dwarf_attr_integrate(member, DW_AT_data_member_location, &attr)) {
        *start = 0;            /* union members carry no location */
        return true;
    }
    switch (dwarf_whatform(&attr)) {
    case DW_FORM_block:
    case DW_FORM_block1:
    case DW_FORM_block2:
    case DW_FORM_block4:
    case DW_FORM_exprloc: {
        Dwarf_Op *expr;
        size_t n;
        if (dwarf_getlocation(&attr, &expr, &n) != 0 || n != 1 || expr[0].atom != DW_OP_plus_uconst)
            return false;
        *start = expr[0].number;
        return true;
    }
    default:
        return dwarf_formudata(&attr, start) == 0;
    }
}

/* Whether m is a data member (or base class) whose bytes hold off. */
static bool member_covers(Dwarf_Die *m, Dwarf_Word off, Dwarf_Word *start, Dwarf_Die *type)
{
    int tag = dwarf_tag(m);
    Dwarf_Word size;
    if (tag != DW_TAG_member && tag != DW_TAG_inheritance)
        return false;
    if (dwarf_hasattr(m, DW_AT_bit_size))
        return false;
    if (!member_offset(m, start) || !type_of(m, type) || dwarf_aggregate_size(type, &size) != 0)
        return false;
    return off >= *start && off - *start < size;
}

static void add_member_name(text *t, Dwarf_Die *m)
{
    const char *name = dwarf_tag(m) == DW_TAG_member ? dwarf_diename(m) : NULL;
    if (name)
        text_add(t, ".%s", name);
}

static bool step_into_member(Dwarf_Die *agg, Dwarf_Word *off, text *t, Dwarf_Die *next)
{
    Dwarf_Die m;
    Dwarf_Word start;
    if (dwarf_child(agg, &m) != 0)
        return false;
    do {
        if (member_covers(&m, *off, &start, next)) {
            add_member_name(t, &m);
            *off -= start;
            return true;
        }
    } while (dwarf_siblingof(&m, &m) == 0);
    return false;
}

static Dwarf_Word name_inside(Dwarf_Die *type, Dwarf_Word off, text *t, int depth);

/* Every member of a union covers its first bytes; the member whose walk
 * ends closest to the start of something names the data best. */
static bool name_inside_union(Dwarf_Die *u, Dwarf_Word *off, text *t, int depth)
{
    char best[256], trial[256];
    Dwarf_Word best_rest = UINT64_MAX, start;
    Dwarf_Die m, type;
    if (dwarf_child(u, &m) != 0)
        return false;
    do {
        if (!member_covers(&m, *off, &start, &type))
            continue;
        text tt = { trial, sizeof trial, 0 };
        trial[0] = '\0';
        add_member_name(&tt, &m);
        Dwarf_Word rest = name_inside(&type, *off - start, &tt, depth + 1);
        if (rest < best_rest) {
            best_rest = rest;
            memcpy(best, trial, tt.len + 1);
        }
    } while (dwarf_siblingof(&m, &m) == 0);
    if (best_rest == UINT64_MAX)
        return false;
    text_add(t, "%s", best);
    *off = best_rest;
    return true;
}

/* counts[i] == 0 means unknown (a flexible or variable length dimension). */
static int array_dims(Dwarf_Die *array, Dwarf_Word *counts, Dwarf_Word *lower)
{
    Dwarf_Die sub;
    int dims = 0;
    if (dwarf_child(array, &sub) != 0)
        return 0;
    do {
        if (dwarf_tag(&sub) != DW_TAG_subrange_type)
            continue;
        if (dims == MAX_DIMS)
            return -1;
        Dwarf_Word lo = 0, hi, count = 0;
        attr_unsigned(&sub, DW_AT_lower_bound, &lo);
        if (!attr_unsigned(&sub, DW_AT_count, &count) && attr_unsigned(&sub, DW_AT_upper_bound, &hi) && hi >= lo)
            count = hi - lo + 1;
        counts[dims] = count;
        lower[dims] = lo;
        dims++;
    } while (dwarf_siblingof(&sub, &sub) == 0);
    return dims;
}

static bool step_into_element(Dwarf_Die *array, Dwarf_Word *off, text *t, Dwarf_Die *next)
{
    Dwarf_Die elem;
    Dwarf_Word elem_size, counts[MAX_DIMS], lower[MAX_DIMS], index[MAX_DIMS];
    if (!type_of(array, &elem) || dwarf_aggregate_size(&elem, &elem_size) != 0 || elem_size == 0)
        return false;
    int dims = array_dims(array, counts, lower);
    if (dims <= 0)
        return false;
    Dwarf_Word stride[MAX_DIMS];
    stride[dims - 1] = elem_size;
    for (int i = dims - 1; i > 0; i--) {
        if (counts[i] == 0 || stride[i] > UINT64_MAX / counts[i])
            return false;
        stride[i - 1] = stride[i] * counts[i];
    }
    Dwarf_Word rest = *off;
    for (int i = 0; i < dims; i++) {
        index[i] = rest / stride[i];
        rest %= stride[i];
        if (counts[i] && index[i] >= counts[i])
            return false;
    }
    for (int i = 0; i < dims; i++)
        text_add(t, "[%" PRIu64 "]", (uint64_t)(index[i] + lower[i]));
    *off = rest;
    *next = elem;
    return true;
}

/* Appends the path to off inside type and returns what is left of off.
 * Descends while the offset lies inside a member or an element; stops at
 * lock types (their insides are the library's business), at scalars, and
 * at unions reached at their start, where no member is better than another. */
static Dwarf_Word name_inside(Dwarf_Die *type, Dwarf_Word off, text *t, int depth)
{
    Dwarf_Die cur = *type, next;
    for (; depth < MAX_TYPE_DEPTH && walk_steps_left > 0; depth++, walk_steps_left--) {
        bool descended = false;
        switch (dwarf_tag(&cur)) {
        case DW_TAG_typedef:
            if (names_lock_type(dwarf_diename(&cur)))
                break;
            /* fall through */
        case DW_TAG_const_type:
        case DW_TAG_volatile_type:
        case DW_TAG_restrict_type:
        case DW_TAG_atomic_type:
            descended = type_of(&cur, &next) != NULL;
            break;
        case DW_TAG_array_type:
            descended = step_into_element(&cur, &off, t, &next);
            break;
        case DW_TAG_union_type:
            if (off != 0 && !names_lock_type(dwarf_diename(&cur)))
                name_inside_union(&cur, &off, t, depth);
            return off;
        case DW_TAG_structure_type:
        case DW_TAG_class_type:
            if (!names_lock_type(dwarf_diename(&cur)))
                descended = step_into_member(&cur, &off, t, &next);
            break;
        default:
            break;
        }
        if (!descended)
            break;
        cur = next;
    }
    return off;
}

int lr_sym_data(uintptr_t addr, char *buf, size_t len)
{
    if (!buf || len == 0)
        return -1;
    buf[0] = '\0';
    Dwfl_Module *mod = module_at(addr);
    if (!mod)
        return -1;
    GElf_Off off;
    GElf_Sym sym;
    const char *name = dwfl_module_addrinfo(mod, addr, &off, &sym, NULL, NULL, NULL);
    if (!name || !name[0] || GELF_ST_TYPE(sym.st_info) != STT_OBJECT || off >= sym.st_size)
        return -1;
    text t = { buf, len, 0 };
    Dwarf_Die var, type;
    if (find_variable(mod, addr - off, &var, &type)) {
        const char *source_name = attr_string(&var, DW_AT_name);
        add_symbol_name(&t, source_name && is_numbered_copy(name, source_name) ? source_name : name);
        walk_steps_left = MAX_WALK_STEPS;
        off = name_inside(&type, off, &t, 0);
    } else {
        add_symbol_name(&t, name);
    }
    if (off)
        text_add(&t, "+%" PRIu64, (uint64_t)off);
    return 0;
}

/* ---- member paths: NAME.member[3].x to an offset and a size ---- */

/* The type below typedefs and qualifiers. */
static bool strip_type(Dwarf_Die *type)
{
    for (int depth = 0; depth < MAX_TYPE_DEPTH; depth++) {
        switch (dwarf_tag(type)) {
        case DW_TAG_typedef:
        case DW_TAG_const_type:
        case DW_TAG_volatile_type:
        case DW_TAG_restrict_type:
        case DW_TAG_atomic_type: {
            Dwarf_Die next;
            if (!type_of(type, &next))
                return false;
            *type = next;
            break;
        }
        default:
            return true;
        }
    }
    return false;
}

static const char *type_word(Dwarf_Die *type)
{
    switch (dwarf_tag(type)) {
    case DW_TAG_structure_type: return "a struct";
    case DW_TAG_class_type: return "a class";
    case DW_TAG_union_type: return "a union";
    case DW_TAG_array_type: return "an array";
    case DW_TAG_pointer_type: return "a pointer (lockrace does not follow pointers)";
    default: return "a scalar";
    }
}

/* The data member called name of a struct, class or union, at *off. */
static bool find_member(Dwarf_Die *agg, const char *name, Dwarf_Word *off, Dwarf_Die *type)
{
    Dwarf_Die m;
    if (dwarf_child(agg, &m) != 0)
        return false;
    do {
        const char *n = dwarf_diename(&m);
        Dwarf_Word start;
        if (dwarf_tag(&m) == DW_TAG_member && n && !strcmp(n, name) &&
            !dwarf_hasattr(&m, DW_AT_bit_size) && member_offset(&m, &start) && type_of(&m, type)) {
            *off += start;
            return true;
        }
    } while (dwarf_siblingof(&m, &m) == 0);
    return false;
}

int lr_sym_member(uintptr_t addr, const char *name, const char *path, uint64_t *offset,
                  uint64_t *size, char *err, size_t errlen)
{
    Dwfl_Module *mod = module_at(addr);
    Dwarf_Die var, type;
    if (!mod || !find_variable(mod, addr, &var, &type)) {
        snprintf(err, errlen, "no debug information describes %s's type (build with -g)", name);
        return -1;
    }
    Dwarf_Word off = 0, counts[MAX_DIMS], lower[MAX_DIMS];
    int dims = 0, dim = 0;      /* inside an array: its dimensions, and how many are indexed */
    char what[160];
    snprintf(what, sizeof what, "%s", name);
    const char *p = path;
    while (*p) {
        if (dim == dims && !strip_type(&type)) {
            snprintf(err, errlen, "%s: its type cannot be read", what);
            return -1;
        }
        if (*p == '.') {
            size_t n = strcspn(p + 1, ".[");
            char member[96];
            if (n == 0 || n >= sizeof member) {
                snprintf(err, errlen, "no member name after '.' in %s", path);
                return -1;
            }
            memcpy(member, p + 1, n);
            member[n] = 0;
            int tag = dwarf_tag(&type);
            if (dim < dims || (tag != DW_TAG_structure_type && tag != DW_TAG_class_type &&
                               tag != DW_TAG_union_type)) {
                snprintf(err, errlen, "%s is %s, not a struct", what,
                         dim < dims ? "an array" : type_word(&type));
                return -1;
            }
            Dwarf_Die next;
            if (!find_member(&type, member, &off, &next)) {
                const char *tn = dwarf_diename(&type);
                snprintf(err, errlen, "%s (%s%s%s) has no member %s", what,
                         tag == DW_TAG_union_type ? "union" : "struct", tn ? " " : "", tn ? tn : "",
                         member);
                return -1;
            }
            type = next;
            size_t w = strlen(what);
            snprintf(what + w, sizeof what - w, ".%s", member);
            p += 1 + n;
        } else if (*p == '[') {
            char *end;
            errno = 0;
            unsigned long long index = strtoull(p + 1, &end, 10);
            if (end == p + 1 || *end != ']' || errno || p[1] == '-' || p[1] == '+') {
                snprintf(err, errlen, "[%.*s is not an index from 0 up", (int)strcspn(p + 1, "]"), p + 1);
                return -1;
            }
            if (dim == dims) {
                if (dwarf_tag(&type) != DW_TAG_array_type) {
                    snprintf(err, errlen, "%s is %s, not an array", what, type_word(&type));
                    return -1;
                }
                dims = array_dims(&type, counts, lower);
                dim = 0;
                if (dims <= 0) {
                    snprintf(err, errlen, "%s: its dimensions cannot be read", what);
                    return -1;
                }
            }
            Dwarf_Die elem;
            Dwarf_Word stride;
            if (!type_of(&type, &elem) || dwarf_aggregate_size(&elem, &stride) != 0) {
                snprintf(err, errlen, "%s: its elements' size cannot be read", what);
                return -1;
            }
            for (int i = dim + 1; i < dims; i++)
                stride *= counts[i];
            if (counts[dim] && index >= counts[dim]) {
                snprintf(err, errlen, "%s has %llu element%s: [%llu] is past its end", what,
                         (unsigned long long)counts[dim], counts[dim] == 1 ? "" : "s", index);
                return -1;
            }
            off += index * stride;
            size_t w = strlen(what);
            snprintf(what + w, sizeof what - w, "[%llu]", index);
            if (++dim == dims) {
                type = elem;
                dims = dim = 0;
            }
            p = end + 1;
        } else {
            snprintf(err, errlen, "unexpected '%s' in %s", p, path);
            return -1;
        }
    }
    Dwarf_Word bytes;
    if (dim < dims) {           /* a row of a many-dimensional array */
        Dwarf_Die elem;
        if (!type_of(&type, &elem) || dwarf_aggregate_size(&elem, &bytes) != 0)
            return -1;
        for (int i = dim; i < dims; i++)
            bytes *= counts[i];
    } else if (dwarf_aggregate_size(&type, &bytes) != 0) {
        snprintf(err, errlen, "%s: its size cannot be read", what);
        return -1;
    }
    *offset = off;
    *size = bytes;
    return 0;
}
