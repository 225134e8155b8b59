/* Naming what to watch: the loaded lr_watch_objects and their ELF symbol tables,
 * and the watch= spec resolved against them into variables. */
#include "watch/watch.h"
#include "watch/internal.h"
#include "support/arena.h"
#include "support/ilock.h"
#include "support/options.h"
#include "support/symbolize.h"
#include "detect/race.h"
#include "runtime/runtime.h"
#include "support/stack.h"
#include "support/util.h"

#include <capstone/capstone.h>
#include <cpuid.h>
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <gelf.h>
#include <libelf.h>
#include <link.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <ucontext.h>
#include <unistd.h>

object lr_watch_objects[MAX_OBJECTS];
int lr_watch_nobjects;

const char *lr_watch_base_name(const char *path)
{
    const char *b = strrchr(path, '/');
    return b ? b + 1 : path;
}

static int skipped_object(const char *path)
{
    const char *base = lr_watch_base_name(path);
    static const char *const names[] = { "libc.so", "ld-linux", "libpthread.so", "liblockrace",
                                         "libcapstone", "libunwind", "linux-vdso" };
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (!strncmp(base, names[i], strlen(names[i])))
            return 1;
    return 0;
}

int lr_watch_collect_object(struct dl_phdr_info *info, size_t size, void *data)
{
    (void)size;
    (void)data;
    if (lr_watch_nobjects == MAX_OBJECTS)
        return 1;
    object *o = &lr_watch_objects[lr_watch_nobjects];
    memset(o, 0, sizeof *o);
    if (info->dlpi_name && info->dlpi_name[0]) {
        snprintf(o->path, sizeof o->path, "%s", info->dlpi_name);
    } else if (lr_watch_nobjects == 0) {
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
        if (ph->p_type == PT_GNU_RELRO) {
            o->relro_lo = lo;
            o->relro_hi = hi;
        }
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
    lr_watch_nobjects++;
    return 0;
}

int lr_watch_elf_open(const char *path, elf_file *ef)
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

void lr_watch_elf_close(elf_file *ef)
{
    elf_end(ef->elf);
    close(ef->fd);
}

/* ---- what to watch: parsing and resolving the spec ---- */

/* The symbol after *i (a source file's symbol skipped, and kept in *file:
 * the local symbols after it are that file's); 0 at the end. */
/* The C++ name of a variable's mangled symbol, in the simple forms a
 * variable has: a member of namespaces or classes (_ZN5stats4hitsE:
 * stats::hits), a file-scope static (_ZL6misses: misses), either in an
 * anonymous namespace, which the source does not name and neither does
 * the result (_ZN12_GLOBAL__N_15dropsE: drops). 0 for any other symbol
 * (a C name, templates, std::'s abbreviations). */
static int cxx_name(const char *sym, char *out, size_t len)
{
    if (strncmp(sym, "_Z", 2) || (sym[2] != 'N' && sym[2] != 'L'))
        return 0;
    int nested = sym[2] == 'N';
    const char *p = sym + 3;
    size_t n = 0;
    out[0] = 0;
    for (int parts = 0;; parts++) {
        if (nested && *p == 'E' && !p[1] && parts > 0)
            return n > 0;
        if (!nested && !*p && parts == 1)
            return n > 0;
        if (nested && *p == 'L')
            p++;                /* internal linkage inside a nested name */
        if (*p < '1' || *p > '9' || (!nested && parts == 1))
            return 0;
        char *end;
        unsigned long k = strtoul(p, &end, 10);
        if (k > strlen(end))
            return 0;
        if (k == 12 && !strncmp(end, "_GLOBAL__N_1", 12)) {
            p = end + k;
            continue;           /* the anonymous namespace */
        }
        int w = snprintf(out + n, len - n, "%s%.*s", n ? "::" : "", (int)k, end);
        if (w < 0 || (size_t)w >= len - n)
            return 0;
        n += (size_t)w;
        p = end + k;
    }
}

/* The name a user writes for a symbol: its C++ name when it has one. */
static const char *written_name(const char *sym, char *buf, size_t len)
{
    return cxx_name(sym, buf, len) ? buf : sym;
}

static int next_symbol(elf_file *ef, size_t *i, GElf_Sym *s, const char **name, const char **file)
{
    for (; *i < ef->nsyms; (*i)++) {
        if (!gelf_getsym(ef->syms, (int)*i, s))
            continue;
        *name = elf_strptr(ef->elf, ef->strndx, s->st_name);
        if (GELF_ST_TYPE(s->st_info) != STT_FILE) {
            (*i)++;
            return 1;
        }
        *file = *name ? *name : "";
    }
    return 0;
}

typedef struct match {
    int object;
    uintptr_t addr;
    size_t size;
    int global, tls;
    char file[64];              /* the source file of a local symbol */
    char symbol[128];           /* as the symbol table has it (mangled in C++) */
} match;

#define MAX_MATCHES 8

static int find_symbol(const char *name, const char *where, match *out, int max)
{
    int n = 0;
    for (int o = 0; o < lr_watch_nobjects; o++) {
        elf_file ef;
        /* lockrace's own variables are nobody's to watch: a build whose
         * statics keep their names (seen, in misuse.c and race_report.c)
         * made the program's `seen` ambiguous */
        if (!strncmp(lr_watch_base_name(lr_watch_objects[o].path), "liblockrace", 11) ||
            lr_watch_elf_open(lr_watch_objects[o].path, &ef) < 0)
            continue;
        const char *file = "", *sname;
        GElf_Sym s;
        for (size_t i = 0; next_symbol(&ef, &i, &s, &sname, &file);) {
            int type = GELF_ST_TYPE(s.st_info);
            char cxx[128];
            if (!sname || (strcmp(sname, name) && strcmp(written_name(sname, cxx, sizeof cxx), name)) ||
                s.st_shndx == SHN_UNDEF || (type != STT_OBJECT && type != STT_TLS && type != STT_COMMON))
                continue;
            int global = GELF_ST_BIND(s.st_info) != STB_LOCAL;
            if (where && strcmp(where, lr_watch_base_name(global ? lr_watch_objects[o].path : file)) &&
                strcmp(where, lr_watch_base_name(lr_watch_objects[o].path)))
                continue;
            uintptr_t addr = lr_watch_objects[o].base + s.st_value;
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
            snprintf(m->symbol, sizeof m->symbol, "%s", sname);
            snprintf(m->file, sizeof m->file, "%s", global ? lr_watch_base_name(lr_watch_objects[o].path) : lr_watch_base_name(file));
        }
        lr_watch_elf_close(&ef);
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

/* ---- globs: watch=* and watch=stats_* ---- */

/* What a glob leaves out, besides what nobody can race on (constants,
 * thread-local variables, data read-only once relocated): the toolchain's
 * and the C library's names (a leading underscore: __dso_handle,
 * _IO_stdin_used, __TMC_END__; C++ vtables, typeinfo and guard variables),
 * but not C++ variables in a namespace or class or a function (_ZN, _ZL,
 * _ZZ). */
static int toolchain_name(const char *name)
{
    if (name[0] != '_')
        return 0;
    return !(name[1] == 'Z' && (name[2] == 'N' || name[2] == 'L' || name[2] == 'Z'));
}

/* Costs stay bounded: each watched byte costs the race engine about 25
 * bytes (a cell per 8), so a glob takes variables up to GLOB_VAR_MAX
 * bytes, GLOB_TOTAL_MAX in all; a bigger array is watched when named. */
#define GLOB_VAR_MAX (64u << 10)
#define GLOB_TOTAL_MAX (1u << 20)

typedef struct glob_match {
    uintptr_t addr;
    size_t size;
    char name[96];
} glob_match;

static int by_match_address(const void *a, const void *b)
{
    const glob_match *x = a, *y = b;
    return x->addr < y->addr ? -1 : x->addr > y->addr;
}

/* The addresses of the object's copy relocations: variables of a library
 * (stdout, environ, optind) that the program holds the copy of. */
static size_t copy_relocations(elf_file *ef, uintptr_t base, uintptr_t **out)
{
    size_t n = 0, cap = 0;
    *out = NULL;
    for (Elf_Scn *scn = NULL; (scn = elf_nextscn(ef->elf, scn));) {
        GElf_Shdr sh;
        Elf_Data *d;
        if (!gelf_getshdr(scn, &sh) || sh.sh_type != SHT_RELA || !sh.sh_entsize ||
            !(d = elf_getdata(scn, NULL)))
            continue;
        for (size_t i = 0; i < sh.sh_size / sh.sh_entsize; i++) {
            GElf_Rela r;
            if (!gelf_getrela(d, (int)i, &r) || GELF_R_TYPE(r.r_info) != R_X86_64_COPY)
                continue;
            if (n == cap) {
                cap = cap ? cap * 2 : 16;
                uintptr_t *v = realloc(*out, cap * sizeof *v);
                if (!v)
                    return n;
                *out = v;
            }
            (*out)[n++] = base + r.r_offset;
        }
    }
    return n;
}

static int writable_section(elf_file *ef, const GElf_Sym *s)
{
    if (s->st_shndx == SHN_COMMON)
        return 1;
    if (s->st_shndx == SHN_UNDEF || s->st_shndx >= SHN_LORESERVE)
        return 0;
    GElf_Shdr sh;
    Elf_Scn *scn = elf_getscn(ef->elf, s->st_shndx);
    return scn && gelf_getshdr(scn, &sh) && (sh.sh_flags & SHF_WRITE) && sh.sh_type != SHT_INIT_ARRAY &&
           sh.sh_type != SHT_FINI_ARRAY;
}

/* The variables of object o a glob matches; where: only those of that
 * source file (statics) when it is not the object's own name. */
static size_t glob_object(int o, const char *pattern, const char *where, glob_match **out, size_t *cap,
                          size_t n)
{
    const object *ob = &lr_watch_objects[o];
    elf_file ef;
    if (lr_watch_elf_open(ob->path, &ef) < 0)
        return n;
    uintptr_t *copies;
    size_t ncopies = copy_relocations(&ef, ob->base, &copies);
    int whole = !where || !strcmp(where, lr_watch_base_name(ob->path));
    const char *file = "", *sname;
    GElf_Sym s;
    for (size_t i = 0; next_symbol(&ef, &i, &s, &sname, &file);) {
        int type = GELF_ST_TYPE(s.st_info);
        char cxx[sizeof (*out)->name];
        if (!sname || !sname[0] || (type != STT_OBJECT && type != STT_COMMON) || s.st_size == 0 ||
            toolchain_name(sname) || !strcmp(lr_watch_base_name(file), "crtstuff.c") ||
            fnmatch(pattern, written_name(sname, cxx, sizeof cxx), 0) != 0 ||
            (!whole && (GELF_ST_BIND(s.st_info) != STB_LOCAL || strcmp(lr_watch_base_name(file), where))) ||
            !writable_section(&ef, &s))
            continue;
        uintptr_t addr = ob->base + s.st_value;
        if (addr >= ob->relro_lo && addr < ob->relro_hi)
            continue;
        int copy = 0;
        for (size_t k = 0; k < ncopies && !copy; k++)
            copy = copies[k] == addr;
        if (copy)
            continue;
        if (n == *cap) {
            size_t c = *cap ? *cap * 2 : 256;
            glob_match *m = realloc(*out, c * sizeof *m);
            if (!m)
                break;
            *out = m;
            *cap = c;
        }
        glob_match *m = &(*out)[n++];
        m->addr = addr;
        m->size = s.st_size;
        snprintf(m->name, sizeof m->name, "%s", written_name(sname, cxx, sizeof cxx));
    }
    free(copies);
    lr_watch_elf_close(&ef);
    return n;
}

/* The length of the name that starts item: up to '@', '+', ':', '.',
 * '[' or "->", C++'s "::" included (stats::hits). */
static size_t name_span(const char *item)
{
    size_t n = 0;
    for (;;) {
        n += strcspn(item + n, "@+:.[-");
        if (item[n] != ':' || item[n + 1] != ':')
            return n;
        n += 2;
    }
}

/* Every ':' of s is half of a "::". */
static int scope_only(const char *s)
{
    for (const char *c = s; (c = strchr(c, ':')); c += 2)
        if (c[1] != ':')
            return 0;
    return 1;
}

static size_t glob_bytes;       /* what globs watch so far, against GLOB_TOTAL_MAX */

/* GLOB[@FILE]: the program's own variables the glob matches (fnmatch:
 * `*`, `?`), or with @FILE those of that library, or the statics of that
 * source file. Returns 0, -2 when nothing matched (err says so). */
static int add_glob(const char *item, char *err, size_t errlen)
{
    char pattern[96], where[96] = "";
    size_t n = strcspn(item, "@");
    if (n >= sizeof pattern || strpbrk(item, "+.[") || (strchr(item, ':') && !scope_only(item)) || (item[n] && (!item[n + 1] || strlen(item + n + 1) >= sizeof where))) {
        snprintf(err, errlen, "watch=%s: a glob takes only a file after it (GLOB or GLOB@FILE: "
                 "`*`, `stats_*`, `*@worker.c`)", item);
        return -1;
    }
    memcpy(pattern, item, n);
    pattern[n] = 0;
    if (item[n])
        snprintf(where, sizeof where, "%s", item + n + 1);
    glob_match *m = NULL;
    size_t cap = 0, found = 0;
    for (int o = 0; o < lr_watch_nobjects; o++) {
        if (where[0] ? lr_watch_objects[o].skip : o != 0)
            continue;           /* the program alone, unless a library is named */
        found = glob_object(o, pattern, where[0] ? where : NULL, &m, &cap, found);
    }
    if (found)                  /* m is NULL when nothing matched */
        qsort(m, found, sizeof *m, by_match_address);
    lr_watch_index();
    size_t added = 0, big = 0, over = 0;
    for (size_t i = 0; i < found; i++) {
        if (i && m[i].addr < m[i - 1].addr + m[i - 1].size)
            continue;           /* an alias (environ, __environ), or inside the previous one */
        if (lr_watch_var_at(m[i].addr, m[i].size) >= 0)
            continue;           /* named, or matched by an earlier glob */
        if (m[i].size > GLOB_VAR_MAX) {
            big++;
            continue;
        }
        watch_var *v = lr_watch_new_var();
        if (!v || glob_bytes + m[i].size > GLOB_TOTAL_MAX) {
            over++;
            continue;
        }
        v->lo = v->sym_lo = m[i].addr;
        v->hi = v->sym_hi = m[i].addr + m[i].size;
        v->unnamed = 1;
        snprintf(v->name, sizeof v->name, "%s", m[i].name);
        glob_bytes += m[i].size;
        lr_watch_nvars++;
        added++;
    }
    free(m);
    if (big || over) {
        snprintf(err, errlen, "watch=%s: %zu variable%s watched; not watched: %zu over %u KiB (name "
                 "one to watch it), %zu past the %u KiB or %d variables globs may take", item, added,
                 added == 1 ? "" : "s", big, GLOB_VAR_MAX >> 10, over, GLOB_TOTAL_MAX >> 10, MAX_VARS);
        return -2;
    }
    if (!added) {
        snprintf(err, errlen, "watch=%s: no variable of %s matches it (names come from the symbol "
                 "table: a stripped program keeps only the variables it exports)", item,
                 where[0] ? where : lr_watch_base_name(lr_watch_objects[0].path));
        return -2;
    }
    if (lr_opt.verbosity >= 2)
        snprintf(err, errlen, "watch=%s: %zu variable%s", item, added, added == 1 ? "" : "s");
    return 0;
}

/* NAME->PATH (path: ".MEMBER..."): the bytes of the member in the object
 * the pointer variable m points to, found when each access runs. An
 * offset and a size count inside the member. Returns as lr_watch_add_item. */
static int add_through(watch_var *v, const char *item, const char *name, const char *path, const match *m,
                       uint64_t offset, uint64_t size, int has_size, char *err, size_t errlen)
{
    uint64_t base = 0, room = 0;
    char why[200];
    if (lr_sym_pointee_member(m->addr, name, path, &base, &room, why, sizeof why) < 0) {
        snprintf(err, errlen, "watch=%s: %s", item, why);
        return -1;
    }
    if (m->size != sizeof(void *)) {
        snprintf(err, errlen, "watch=%s: %s is %zu bytes: the debug information's pointer is not it", item, name, m->size);
        return -1;
    }
    if (!has_size)
        size = room > offset ? room - offset : 0;
    if (size == 0 || size > room || offset > room - size) {   /* no sum: it may wrap */
        snprintf(err, errlen, "watch=%s: %s->%s is %llu bytes: offset %llu and size %llu do not fit in it",
                 item, name, path + 1, (unsigned long long)room, (unsigned long long)offset,
                 (unsigned long long)size);
        return -1;
    }
    v->through = m->addr;
    v->off = base + offset;
    v->len = size;
    snprintf(v->name, sizeof v->name, "%s", item);
    lr_watch_nvars++;
    return 0;
}

/* One item of the spec: NAME[@FILE][+OFFSET][:SIZE], 0xADDR:SIZE or GLOB[@FILE];
 * NAME may go on with a member path (.MEMBER, [INDEX]) or, for a pointer,
 * with ->MEMBER and a path in the object it points to.
 * Returns 0, -1 when the item is malformed, -2 when this process has no
 * such variable (or one lockrace cannot watch): another process of the
 * tree may. */
int lr_watch_add_item(const char *item, char *err, size_t errlen)
{
    const char *accepted = "accepted: NAME, NAME.MEMBER, NAME[INDEX], NAME->MEMBER, NAME@FILE, "
                           "NAME+OFFSET:SIZE, 0xADDR:SIZE, GLOB[@FILE]";
    watch_var *v = lr_watch_new_var();
    if (!v) {
        snprintf(err, errlen, "watch=%s: at most %d variables can be watched", item, MAX_VARS);
        return -1;
    }
    if (strpbrk(item, "*?"))
        return add_glob(item, err, errlen);
    char name[96], where[96] = "", path[96] = "";
    uint64_t offset = 0, size = 0;
    int has_size = 0;
    size_t n = name_span(item);
    if (n == 0 || n >= sizeof name) {
        snprintf(err, errlen, "watch=%s: not a variable (%s)", item, accepted);
        return -1;
    }
    memcpy(name, item, n);
    name[n] = 0;
    const char *p = item + n;
    char *end;
    /* through a pointer: the path in the object it points to, written as
     * a member path of it (meter->ticks: .ticks of *meter) */
    int arrow = p[0] == '-' && p[1] == '>';
    if (arrow) {
        p += 2;
        if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || *p == '_')) {
            snprintf(err, errlen, "watch=%s: no member after '->' (%s)", item, accepted);
            return -1;
        }
        path[0] = '.';
        size_t m = strcspn(p, "@+:");
        if (m + 1 >= sizeof path) {
            snprintf(err, errlen, "watch=%s: the member path is too long", item);
            return -1;
        }
        memcpy(path + 1, p, m);
        path[m + 1] = 0;
        if (strchr(path, '-')) {
            snprintf(err, errlen, "watch=%s: one '->' at most: lockrace follows the pointer a global "
                     "or static variable holds, not the pointers in what it points to", item);
            return -1;
        }
        p += m;
    } else if (*p == '.' || *p == '[') {       /* a member path, from the debug information */
        size_t m = strcspn(p, "@+:");
        if (m >= sizeof path) {
            snprintf(err, errlen, "watch=%s: the member path is too long", item);
            return -1;
        }
        memcpy(path, p, m);
        path[m] = 0;
        p += m;
    }
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
    if (!strncmp(name, "0x", 2) || !strncmp(name, "0X", 2)) {
        uint64_t addr;
        if (parse_number(name, &end, &addr) < 0 || *end || !has_size || where[0] || offset || path[0] || arrow) {
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
        lr_watch_nvars++;
        return 0;
    }
    match m[MAX_MATCHES];
    int found = find_symbol(name, where[0] ? where : NULL, m, MAX_MATCHES);
    if (found > 1) {
        /* a library's variable and the program's copy of it (a copy
         * relocation): the one the dynamic linker bound is the variable */
        for (int i = 0; i < found; i++)
            if (m[i].global && m[i].addr == (uintptr_t)dlsym(RTLD_DEFAULT, m[i].symbol)) {
                m[0] = m[i];
                found = 1;
            }
    }
    if (found == 0) {
        snprintf(err, errlen, "watch=%s: no variable of that name in %s or the libraries it loaded "
                 "(names come from the symbol tables: a stripped program has none; %s)",
                 item, lr_watch_base_name(lr_watch_objects[0].path), accepted);
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
    if (lr_watch_objects[m[0].object].skip) {
        snprintf(err, errlen, "watch=%s: defined in %s, whose code lockrace does not rewrite",
                 item, lr_watch_base_name(lr_watch_objects[m[0].object].path));
        return -2;
    }
    char why[200];
    if (arrow)
        return add_through(v, item, name, path, &m[0], offset, size, has_size, err, errlen);
    /* a member path narrows the variable to the member's bytes, which an
     * offset and a size then count from */
    uint64_t base = 0, room = m[0].size;
    if (path[0] && lr_sym_member(m[0].addr, name, path, &base, &room, why, sizeof why) < 0) {
        snprintf(err, errlen, "watch=%s: %s", item, why);
        return -1;
    }
    if (base > m[0].size || room > m[0].size - base) {
        snprintf(err, errlen, "watch=%s: the debug information puts %s%s outside %s", item, name,
                 path, name);
        return -1;
    }
    if (!has_size)
        size = room > offset ? room - offset : 0;
    if (size == 0 || size > room || offset > room - size) {   /* no sum: it may wrap */
        snprintf(err, errlen, "watch=%s: %s%s is %llu bytes: offset %llu and size %llu do not fit in it",
                 item, name, path, (unsigned long long)room, (unsigned long long)offset,
                 (unsigned long long)size);
        return -1;
    }
    offset += base;
    v->lo = m[0].addr + offset;
    v->hi = v->lo + size;
    v->sym_lo = m[0].addr;
    v->sym_hi = m[0].addr + m[0].size;
    if (path[0] && !has_size && offset == base)
        snprintf(v->name, sizeof v->name, "%s%s", name, path);
    else if (offset || has_size)
        snprintf(v->name, sizeof v->name, "%s+%llu", name, (unsigned long long)offset);
    else
        snprintf(v->name, sizeof v->name, "%s", name);
    lr_watch_nvars++;
    return 0;
}
