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
    for (int o = 0; o < lr_watch_nobjects; o++) {
        elf_file ef;
        if (lr_watch_elf_open(lr_watch_objects[o].path, &ef) < 0)
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

/* One item of the spec: NAME[@FILE][+OFFSET][:SIZE] or 0xADDR:SIZE.
 * Returns 0, -1 when the item is malformed, -2 when this process has no
 * such variable (or one lockrace cannot watch): another process of the
 * tree may. */
int lr_watch_add_item(const char *item, char *err, size_t errlen)
{
    const char *accepted = "accepted: NAME, NAME.MEMBER, NAME[INDEX], NAME@FILE, NAME+OFFSET:SIZE, "
                           "0xADDR:SIZE";
    if (lr_watch_nvars == MAX_VARS) {
        snprintf(err, errlen, "watch=%s: at most %d variables can be watched", item, MAX_VARS);
        return -1;
    }
    char name[96], where[96] = "", path[96] = "";
    uint64_t offset = 0, size = 0;
    int has_size = 0;
    size_t n = strcspn(item, "@+:.[");
    if (n == 0 || n >= sizeof name) {
        snprintf(err, errlen, "watch=%s: not a variable (%s)", item, accepted);
        return -1;
    }
    memcpy(name, item, n);
    name[n] = 0;
    const char *p = item + n;
    char *end;
    if (*p == '.' || *p == '[') {       /* a member path, from the debug information */
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
    watch_var *v = &lr_watch_vars[lr_watch_nvars];
    if (!strncmp(name, "0x", 2) || !strncmp(name, "0X", 2)) {
        uint64_t addr;
        if (parse_number(name, &end, &addr) < 0 || *end || !has_size || where[0] || offset || path[0]) {
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
    /* a member path narrows the variable to the member's bytes, which an
     * offset and a size then count from */
    uint64_t base = 0, room = m[0].size;
    char why[200];
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
