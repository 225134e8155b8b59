/* Naming data: the variable an address lies in, from the symbol table,
 * refined with DWARF (the variable's DIE found by its address in a
 * per-module index, its type walked down to the member or element the
 * offset falls in); and the reverse, a member path (".misses[2]") to the
 * bytes it names. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "support/symbolize.h"
#include "support/symbolize_internal.h"

#include <dwarf.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int walk_steps_left;    /* unions are walked once per member: bound the work */

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
        lr_sym_text_add(t, ".%s", name);
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
    lr_sym_text_add(t, "%s", best);
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
        lr_sym_attr_unsigned(&sub, DW_AT_lower_bound, &lo);
        if (!lr_sym_attr_unsigned(&sub, DW_AT_count, &count) && lr_sym_attr_unsigned(&sub, DW_AT_upper_bound, &hi) && hi >= lo)
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
        lr_sym_text_add(t, "[%" PRIu64 "]", (uint64_t)(index[i] + lower[i]));
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
    Dwfl_Module *mod = lr_sym_module_at(addr);
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
        const char *source_name = lr_sym_attr_string(&var, DW_AT_name);
        lr_sym_add_symbol_name(&t, source_name && is_numbered_copy(name, source_name) ? source_name : name);
        walk_steps_left = MAX_WALK_STEPS;
        off = name_inside(&type, off, &t, 0);
    } else {
        lr_sym_add_symbol_name(&t, name);
    }
    if (off)
        lr_sym_text_add(&t, "+%" PRIu64, (uint64_t)off);
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
    case DW_TAG_pointer_type: return "a pointer (write NAME->MEMBER)";
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

/* The bytes path names inside type, which the user calls name. */
static int walk_path(Dwarf_Die type, const char *name, const char *path, uint64_t *offset,
                     uint64_t *size, char *err, size_t errlen)
{
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

int lr_sym_member(uintptr_t addr, const char *name, const char *path, uint64_t *offset,
                  uint64_t *size, char *err, size_t errlen)
{
    Dwfl_Module *mod = lr_sym_module_at(addr);
    Dwarf_Die var, type;
    if (!mod || !find_variable(mod, addr, &var, &type)) {
        snprintf(err, errlen, "no debug information describes %s's type (build with -g)", name);
        return -1;
    }
    return walk_path(type, name, path, offset, size, err, errlen);
}

int lr_sym_pointee_member(uintptr_t addr, const char *name, const char *path, uint64_t *offset,
                          uint64_t *size, char *err, size_t errlen)
{
    Dwfl_Module *mod = lr_sym_module_at(addr);
    Dwarf_Die var, type, pointee;
    if (!mod || !find_variable(mod, addr, &var, &type)) {
        snprintf(err, errlen, "no debug information describes %s's type (build with -g)", name);
        return -1;
    }
    if (!strip_type(&type) || dwarf_tag(&type) != DW_TAG_pointer_type) {
        snprintf(err, errlen, "%s is %s, not a pointer", name, type_word(&type));
        return -1;
    }
    if (!type_of(&type, &pointee)) {
        snprintf(err, errlen, "%s is a void pointer: what it points to has no type", name);
        return -1;
    }
    char what[100];
    snprintf(what, sizeof what, "*%s", name);
    return walk_path(pointee, what, path, offset, size, err, errlen);
}
