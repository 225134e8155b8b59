/* Unit test for symbolize.c. The variables below are named through this
 * binary's own symbol table and DWARF, so this file must be compiled with
 * -g (-O0 keeps fixture_function and its line table plain). SYMFIX_PATH is
 * the path of the shared library built from symbolize_fixture.c. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "support/symbolize.h"

#include <check.h>
#include <dlfcn.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <sys/auxv.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#ifndef SYMFIX_PATH
#error "define SYMFIX_PATH as the path of the symbolize_fixture shared library"
#endif

/* ---- fixture ---- */

pthread_mutex_t fork_lock = PTHREAD_MUTEX_INITIALIZER;

struct account {
    int id;
    pthread_mutex_t lock;
} accounts[4];

struct {
    int n;
    struct {
        char pad[3];
        pthread_mutex_t m;
    } slots[5];
} table;

int grid[3][4];

static pthread_rwlock_t file_static_lock = PTHREAD_RWLOCK_INITIALIZER;

union slot_union {
    pthread_mutex_t m;
    struct {
        long tag;
        pthread_spinlock_t spin;
    } s;
} uslots[2];

/* The lock sits past the first megabyte of .bss, far beyond the page that
 * the executable's file mapping covers. */
struct {
    char big[1 << 20];
    pthread_mutex_t lock;
} big_bss;

/* Objects with symbols but no DWARF: one with a C++ mangled name
 * (engine::lock), one without a size (which names no bytes). */
__asm__(".pushsection .data\n"
        ".balign 8\n"
        ".globl nodebug_table\n"
        ".hidden nodebug_table\n"
        ".type nodebug_table, \"object\"\n"
        ".size nodebug_table, 64\n"
        "nodebug_table:\n"
        ".zero 64\n"
        ".globl _ZN6engine4lockE\n"
        ".hidden _ZN6engine4lockE\n"
        ".type _ZN6engine4lockE, \"object\"\n"
        ".size _ZN6engine4lockE, 40\n"
        "_ZN6engine4lockE:\n"
        ".zero 40\n"
        ".globl nodebug_sizeless\n"
        ".hidden nodebug_sizeless\n"
        ".type nodebug_sizeless, \"object\"\n"
        "nodebug_sizeless:\n"
        ".zero 16\n"
        ".popsection\n");
/* Code without DWARF: its own section keeps it out of this unit's range. */
__asm__(".pushsection .text.lr_nodebug, \"ax\", @progbits\n"
        ".globl nodebug_code\n"
        ".hidden nodebug_code\n"
        ".type nodebug_code, @function\n"
        "nodebug_code:\n"
        "nop\n"
        "nop\n"
        "ret\n"
        ".size nodebug_code, .-nodebug_code\n"
        ".popsection\n");
void nodebug_code(void);
extern char nodebug_table[64];
extern char engine_lock[40] __asm__("_ZN6engine4lockE");
extern char nodebug_sizeless[16];

__attribute__((noinline)) int fixture_function(int x)
{
    return x * 7 + 3;
}

/* inl_inner is inlined into inl_outer even at -O0. marker records the pc
 * after its call, inside the inlined code, and the lines of both calls. */
static struct {
    uintptr_t ret;
    int inner_line, outer_line;
} inl_seen;

__attribute__((noinline)) static int marker(int inner_line, int outer_line)
{
    inl_seen.ret = (uintptr_t)__builtin_return_address(0);
    inl_seen.inner_line = inner_line;
    inl_seen.outer_line = outer_line;
    return 5;
}

static inline __attribute__((always_inline)) int inl_inner(int x, int call_line)
{
    return x * 7 + marker(__LINE__, call_line);
}

__attribute__((noinline)) int inl_outer(int x)
{
    return inl_inner(x, __LINE__) + 1;
}

/* GCC's symbol for it is "spare.0" or the like, clang's "spare_lock.spare" */
__attribute__((noinline)) static pthread_mutex_t *spare_lock(void)
{
    static struct account spare[2];
    return &spare[1].lock;
}

/* ---- helpers ---- */

static const char *data_name(const volatile void *addr)
{
    static char buf[256];
    memset(buf, 'x', sizeof buf);
    if (lr_sym_data((uintptr_t)addr, buf, sizeof buf) != 0)
        return buf[0] == '\0' ? NULL : "(failed but buffer not emptied)";
    return buf;
}

static int ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), m = strlen(suffix);
    return n >= m && strcmp(s + n - m, suffix) == 0;
}

static const char *exe_basename(void)
{
    static char path[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", path, sizeof path - 1);
    if (n <= 0)
        return "";
    path[n] = '\0';
    const char *slash = strrchr(path, '/');
    return slash ? slash + 1 : path;
}

/* ---- data ---- */

START_TEST(test_plain_global)
{
    ck_assert_pstr_eq(data_name(&fork_lock), "fork_lock");
    ck_assert_pstr_eq(data_name((char *)&fork_lock + 8), "fork_lock+8");
}
END_TEST

START_TEST(test_array_of_structs)
{
    ck_assert_pstr_eq(data_name(&accounts[3].lock), "accounts[3].lock");
    ck_assert_pstr_eq(data_name(&accounts[0].lock), "accounts[0].lock");
    ck_assert_pstr_eq(data_name(&accounts[2].id), "accounts[2].id");
    ck_assert_pstr_eq(data_name(&accounts[2]), "accounts[2].id");
    ck_assert_pstr_eq(data_name((char *)&accounts[1].lock + 4), "accounts[1].lock+4");
}
END_TEST

START_TEST(test_nested_arrays_and_structs)
{
    ck_assert_pstr_eq(data_name(&table.slots[4].m), "table.slots[4].m");
    ck_assert_pstr_eq(data_name(&table.slots[0].pad[2]), "table.slots[0].pad[2]");
    ck_assert_pstr_eq(data_name(&table.n), "table.n");
    ck_assert_pstr_eq(data_name(&grid[1][2]), "grid[1][2]");
    ck_assert_pstr_eq(data_name(&grid[2][3]), "grid[2][3]");
}
END_TEST

START_TEST(test_statics)
{
    ck_assert_pstr_eq(data_name(&file_static_lock), "file_static_lock");
#ifdef __clang__
    ck_assert_pstr_eq(data_name(spare_lock()), "spare_lock.spare[1].lock");
#else
    ck_assert_pstr_eq(data_name(spare_lock()), "spare[1].lock");
#endif
}
END_TEST

START_TEST(test_unions)
{
    ck_assert_pstr_eq(data_name(&uslots[1].m), "uslots[1]");
    ck_assert_pstr_eq(data_name(&uslots[1].s.spin), "uslots[1].s.spin");
}
END_TEST

START_TEST(test_bss_past_file_mapping)
{
    ck_assert_pstr_eq(data_name(&big_bss.lock), "big_bss.lock");
    ck_assert_pstr_eq(data_name(&big_bss.big[700000]), "big_bss.big[700000]");
}
END_TEST

START_TEST(test_symbol_table_only)
{
    ck_assert_pstr_eq(data_name(nodebug_table), "nodebug_table");
    ck_assert_pstr_eq(data_name(nodebug_table + 40), "nodebug_table+40");
    ck_assert_ptr_null(data_name(nodebug_sizeless + 8));
}
END_TEST

START_TEST(test_mangled_name)
{
    if (!dlsym(RTLD_DEFAULT, "__cxa_demangle"))
        ck_assert_pstr_eq(data_name(engine_lock), "_ZN6engine4lockE");
    ck_assert_ptr_nonnull(dlopen("libstdc++.so.6", RTLD_NOW | RTLD_GLOBAL));
    lr_sym_reset();
    ck_assert_pstr_eq(data_name(engine_lock), "engine::lock");
    ck_assert_pstr_eq(data_name(engine_lock + 16), "engine::lock+16");
}
END_TEST

START_TEST(test_not_in_a_variable)
{
    pthread_mutex_t on_stack;
    pthread_mutex_t *on_heap = malloc(sizeof *on_heap);
    ck_assert_ptr_nonnull(on_heap);
    ck_assert_ptr_null(data_name(&on_stack));
    ck_assert_ptr_null(data_name(on_heap));
    ck_assert_ptr_null(data_name((void *)(uintptr_t)fixture_function));
    ck_assert_ptr_null(data_name(NULL));
    free(on_heap);
    ck_assert_int_eq(lr_sym_data((uintptr_t)&fork_lock, NULL, 16), -1);
}
END_TEST

START_TEST(test_truncation)
{
    char buf[9];
    memset(buf, 'x', sizeof buf);
    ck_assert_int_eq(lr_sym_data((uintptr_t)&accounts[3].lock, buf, 8), 0);
    ck_assert_str_eq(buf, "account");
    ck_assert_int_eq(buf[8], 'x');
    ck_assert_int_eq(lr_sym_data((uintptr_t)&accounts[3].lock, buf, 1), 0);
    ck_assert_str_eq(buf, "");
}
END_TEST

/* ---- code ---- */

START_TEST(test_code_in_program)
{
    lr_code_info info;
    uintptr_t pc = (uintptr_t)fixture_function + 1;
    ck_assert_int_eq(lr_sym_code(pc, &info), 0);
    ck_assert_str_eq(info.function, "fixture_function");
    ck_assert_msg(ends_with(info.file, "test_symbolize.c"), "file is \"%s\"", info.file);
    ck_assert_int_gt(info.line, 0);
    ck_assert_str_eq(info.module, exe_basename());
    Dl_info dl;
    ck_assert_int_ne(dladdr((void *)pc, &dl), 0);
    ck_assert_uint_eq(info.module_offset, pc - (uintptr_t)dl.dli_fbase);
}
END_TEST

START_TEST(test_code_in_libc)
{
    /* Through libc's handle: in a non-PIE program &getpid is a PLT slot. */
    void *libc = dlopen("libc.so.6", RTLD_NOW | RTLD_NOLOAD);
    ck_assert_ptr_nonnull(libc);
    void *fn = dlsym(libc, "getpid");
    ck_assert_ptr_nonnull(fn);
    lr_code_info info;
    ck_assert_int_eq(lr_sym_code((uintptr_t)fn + 1, &info), 0);
    ck_assert_str_eq(info.module, "libc.so.6");
    ck_assert_str_ne(info.function, "");
}
END_TEST

START_TEST(test_code_nowhere)
{
    lr_code_info info;
    int local = 0;
    memset(&info, 'x', sizeof info);
    ck_assert_int_eq(lr_sym_code((uintptr_t)&local, &info), -1);
    ck_assert_str_eq(info.function, "");
    ck_assert_str_eq(info.file, "");
    ck_assert_str_eq(info.module, "");
    ck_assert_int_eq(info.line, 0);
    ck_assert_int_eq(lr_sym_code(0, &info), -1);
    ck_assert_int_eq(lr_sym_code((uintptr_t)fixture_function, NULL), -1);
}
END_TEST

START_TEST(test_code_in_vdso)
{
    uintptr_t vdso = getauxval(AT_SYSINFO_EHDR);
    lr_code_info info;
    if (!vdso)
        return;                /* none under valgrind */
    ck_assert_int_eq(lr_sym_code(vdso + 16, &info), 0);
    ck_assert_str_eq(info.module, "[vdso]");
    ck_assert_uint_eq(info.module_offset, 16);
}
END_TEST

/* ---- inlined frames ---- */

static void assert_same_place(const lr_code_info *a, const lr_code_info *b)
{
    ck_assert_str_eq(a->function, b->function);
    ck_assert_str_eq(a->file, b->file);
    ck_assert_int_eq(a->line, b->line);
    ck_assert_str_eq(a->module, b->module);
    ck_assert_uint_eq(a->module_offset, b->module_offset);
}

START_TEST(test_frames_inlined)
{
    ck_assert_int_eq(inl_outer(3), 27);
    uintptr_t pc = inl_seen.ret - 1;
    ck_assert_int_ne(inl_seen.inner_line, inl_seen.outer_line);
    lr_code_info f[4], info;
    memset(f, 'x', sizeof f);
    ck_assert_int_eq(lr_sym_code_frames(pc, f, 4), 2);
    ck_assert_int_eq(lr_sym_code(pc, &info), 0);

    ck_assert_str_eq(f[0].function, "inl_inner");
    ck_assert_msg(ends_with(f[0].file, "test_symbolize.c"), "file is \"%s\"", f[0].file);
    ck_assert_int_eq(f[0].line, inl_seen.inner_line);
    ck_assert_str_eq(f[0].file, info.file);
    ck_assert_int_eq(f[0].line, info.line);
    ck_assert_str_eq(info.function, "inl_outer");

    ck_assert_str_eq(f[1].function, "inl_outer");
    ck_assert_str_eq(f[1].file, f[0].file);
    ck_assert_int_eq(f[1].line, inl_seen.outer_line);
    for (int i = 0; i < 2; i++) {
        ck_assert_str_eq(f[i].module, exe_basename());
        ck_assert_uint_eq(f[i].module_offset, info.module_offset);
    }
    ck_assert_int_eq(f[2].line, 0x78787878);    /* untouched past the count */
}
END_TEST

START_TEST(test_frames_limited)
{
    inl_outer(1);
    lr_code_info f[2];
    memset(f, 'x', sizeof f);
    ck_assert_int_eq(lr_sym_code_frames(inl_seen.ret - 1, f, 1), 1);
    ck_assert_str_eq(f[0].function, "inl_inner");
    ck_assert_int_eq(f[0].line, inl_seen.inner_line);
    ck_assert_int_eq(f[1].line, 0x78787878);
    ck_assert_int_eq(lr_sym_code_frames(inl_seen.ret - 1, f, 0), 0);
    ck_assert_int_eq(lr_sym_code_frames(inl_seen.ret - 1, NULL, 4), 0);
}
END_TEST

START_TEST(test_frames_not_inlined)
{
    uintptr_t pcs[] = {
        (uintptr_t)fixture_function + 1,
        (uintptr_t)marker + 1,
        (uintptr_t)inl_outer + 1,
    };
    for (size_t i = 0; i < sizeof pcs / sizeof pcs[0]; i++) {
        lr_code_info f[4], info;
        ck_assert_int_eq(lr_sym_code_frames(pcs[i], f, 4), 1);
        ck_assert_int_eq(lr_sym_code(pcs[i], &info), 0);
        assert_same_place(&f[0], &info);
    }
}
END_TEST

START_TEST(test_frames_without_dwarf)
{
    uintptr_t pc = (uintptr_t)nodebug_code + 1;
    lr_code_info f[4], info;
    ck_assert_int_eq(lr_sym_code(pc, &info), 0);
    ck_assert_str_eq(info.function, "nodebug_code");
    ck_assert_str_eq(info.file, "");
    ck_assert_int_eq(lr_sym_code_frames(pc, f, 4), 1);
    assert_same_place(&f[0], &info);

    int local = 0;
    memset(f, 'x', sizeof f);
    ck_assert_int_eq(lr_sym_code_frames((uintptr_t)&local, f, 4), 0);
    ck_assert_str_eq(f[0].module, "");
}
END_TEST

/* ---- modules loaded later ---- */

START_TEST(test_dlopened_after_first_use)
{
    ck_assert_pstr_eq(data_name(&fork_lock), "fork_lock");
    void *h = dlopen(SYMFIX_PATH, RTLD_NOW | RTLD_LOCAL);
    ck_assert_msg(h != NULL, "dlopen: %s", dlerror());
    char *nodes = dlsym(h, "fix_nodes");
    void *fn = dlsym(h, "fix_function");
    ck_assert_ptr_nonnull(nodes);
    ck_assert_ptr_nonnull(fn);

    /* No lr_sym_reset(): a miss inside a loaded object re-reports. */
    size_t node = 2 * (sizeof(long) + sizeof(pthread_mutex_t));
    ck_assert_pstr_eq(data_name(nodes + node + sizeof(long)), "fix_nodes[2].guard");
    lr_code_info info;
    ck_assert_int_eq(lr_sym_code((uintptr_t)fn + 1, &info), 0);
    ck_assert_str_eq(info.function, "fix_function");
    ck_assert_msg(ends_with(info.file, "symbolize_fixture.c"), "file is \"%s\"", info.file);
    ck_assert_int_gt(info.line, 0);
    const char *base = strrchr(SYMFIX_PATH, '/');
    ck_assert_str_eq(info.module, base ? base + 1 : SYMFIX_PATH);

    ck_assert_int_eq(dlclose(h), 0);
    lr_sym_reset();
    ck_assert_ptr_null(data_name(nodes + node + sizeof(long)));
    ck_assert_pstr_eq(data_name(&accounts[1].lock), "accounts[1].lock");
}
END_TEST

static void copy_file(const char *from, const char *to)
{
    char buf[65536];
    size_t n;
    FILE *in = fopen(from, "rb"), *out = fopen(to, "wb");
    ck_assert_ptr_nonnull(in);
    ck_assert_ptr_nonnull(out);
    while ((n = fread(buf, 1, sizeof buf, in)) > 0)
        ck_assert_uint_eq(fwrite(buf, 1, n, out), n);
    fclose(in);
    ck_assert_int_eq(fclose(out), 0);
}

/* The maps then say "/path (deleted)" and the file cannot be opened. */
START_TEST(test_deleted_library)
{
    char path[] = "/tmp/lr_symfix_XXXXXX.so";
    int fd = mkstemps(path, 3);
    ck_assert_int_ge(fd, 0);
    close(fd);
    copy_file(SYMFIX_PATH, path);
    void *h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    ck_assert_msg(h != NULL, "dlopen: %s", dlerror());
    ck_assert_int_eq(unlink(path), 0);
    char *nodes = dlsym(h, "fix_nodes");
    void *fn = dlsym(h, "fix_function");
    ck_assert_ptr_nonnull(nodes);
    ck_assert_ptr_nonnull(fn);

    lr_sym_reset();
    lr_code_info info;
    ck_assert_int_eq(lr_sym_code((uintptr_t)fn + 1, &info), 0);
    ck_assert_str_eq(info.module, strrchr(path, '/') + 1);
    ck_assert_ptr_null(data_name(nodes + 8));
    ck_assert_pstr_eq(data_name(&accounts[1].lock), "accounts[1].lock");
    dlclose(h);
}
END_TEST

static Suite *symbolize_suite(void)
{
    Suite *s = suite_create("symbolize");
    TCase *data = tcase_create("data");
    tcase_add_test(data, test_plain_global);
    tcase_add_test(data, test_array_of_structs);
    tcase_add_test(data, test_nested_arrays_and_structs);
    tcase_add_test(data, test_statics);
    tcase_add_test(data, test_unions);
    tcase_add_test(data, test_bss_past_file_mapping);
    tcase_add_test(data, test_symbol_table_only);
    tcase_add_test(data, test_mangled_name);
    tcase_add_test(data, test_not_in_a_variable);
    tcase_add_test(data, test_truncation);
    suite_add_tcase(s, data);

    TCase *code = tcase_create("code");
    tcase_add_test(code, test_code_in_program);
    tcase_add_test(code, test_code_in_libc);
    tcase_add_test(code, test_code_nowhere);
    tcase_add_test(code, test_code_in_vdso);
    suite_add_tcase(s, code);

    TCase *frames = tcase_create("frames");
    tcase_add_test(frames, test_frames_inlined);
    tcase_add_test(frames, test_frames_limited);
    tcase_add_test(frames, test_frames_not_inlined);
    tcase_add_test(frames, test_frames_without_dwarf);
    suite_add_tcase(s, frames);

    TCase *modules = tcase_create("modules");
    tcase_add_test(modules, test_dlopened_after_first_use);
    tcase_add_test(modules, test_deleted_library);
    suite_add_tcase(s, modules);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(symbolize_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
