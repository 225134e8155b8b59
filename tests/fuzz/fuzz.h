/* What the fuzz targets share with their stand-ins for two of lockrace's
 * modules: the arena (arena_heap.c) and the symbolizer (symbolize_names.c). */
#ifndef LR_FUZZ_H
#define LR_FUZZ_H

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>

/* A property that failed: said with its line, then a crash for libFuzzer. */
#define CHECK(cond) ((cond) ? (void)0 : fuzz_fail(#cond, __FILE__, __LINE__))

static inline void fuzz_fail(const char *what, const char *file, int line)
{
    fprintf(stderr, "%s:%d: check failed: %s\n", file, line, what);
    abort();
}

/* Frees the arena records allocated since the mark. */
size_t fuzz_arena_mark(void);
void fuzz_arena_release(size_t mark);

/* What the symbolizer answers for every code address: these function,
 * file and module names (lr_sym_code_frames adds a caller frame, "main",
 * at the same address, as an inlined call would). Addresses below
 * FUZZ_GLOBAL_END are globals named fuzz_data_name (lr_sym_data). */
#define FUZZ_GLOBAL_END 0x10000
extern const char *fuzz_function, *fuzz_file, *fuzz_module, *fuzz_data_name;

#endif
