/* What the symbolizer's two files share (inside src/support/ only):
 * symbolize.c keeps the libdwfl session and names code, symbolize_data.c
 * names data and resolves member paths through DWARF types. */
#ifndef LR_SYMBOLIZE_INTERNAL_H
#define LR_SYMBOLIZE_INTERNAL_H

#include <elfutils/libdw.h>
#include <elfutils/libdwfl.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define MAX_TYPE_DEPTH 32
#define MAX_SCOPE_DEPTH 64
#define MAX_DIMS 8
#define MAX_WALK_STEPS 4096

/* Bounded text: appends never overflow. */
typedef struct text {
    char *buf;
    size_t cap, len;           /* len < cap: there is always room for the NUL */
} text;

void lr_sym_text_add(text *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* A symbol's name, demangled when it is C++. */
void lr_sym_add_symbol_name(text *t, const char *name);

/* The module of the session that maps addr, NULL when none. */
Dwfl_Module *lr_sym_module_at(uintptr_t addr);
/* Attributes, following DW_AT_abstract_origin and DW_AT_specification. */
bool lr_sym_attr_unsigned(Dwarf_Die *die, unsigned int name, Dwarf_Word *value);
const char *lr_sym_attr_string(Dwarf_Die *die, unsigned int name);

/* Each module's variables by address (symbolize_data.c builds it; the
 * session frees it with the module). */
typedef struct var_entry {
    Dwarf_Addr addr;           /* run-time address of the variable */
    Dwarf_Die die;
} var_entry;

typedef struct var_index {
    var_entry *v;
    size_t n, cap;
} var_index;

#endif
