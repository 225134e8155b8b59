/* Fuzz target: the JSON report writer (src/report/report.c, lr_buf_json_string in
 * src/support/util.c). The input names things: a lock, a thread, a function, a
 * source file, a module and a global variable, as NUL-separated byte
 * strings after two bytes that choose the report (its kind, then its
 * variant: wait kinds, misuse sub-kinds, a global or heap variable). A whole report of that
 * kind goes through lr_report_emit to its json= file, and the line there
 * must be one strict JSON object (json_check.c) in which every name that is
 * UTF-8 and fits lockrace's buffers reads back unchanged. Each name is also
 * quoted alone: invalid bytes become U+FFFD, one per byte, the rest stays. */
#include "fuzz.h"
#include "json_check.h"
#include "detect/misuse.h"
#include "support/options.h"
#include "report/report.h"
#include "runtime/runtime.h"
#include "support/stack.h"
#include "model/thread.h"
#include "support/util.h"

#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

enum { FIELD_LOCK, FIELD_THREAD, FIELD_FUNCTION, FIELD_FILE, FIELD_MODULE, FIELD_DATA, FIELDS };

/* the buffers a name passes through on its way to JSON (report.c,
 * thread.h, symbolize.h): a longer one is cut, and may not read back */
static const size_t fits[FIELDS] = { 160, 16, 160, 256, 128, 160 };

static int json_fd = -1, text_fd = -1;
static lr_thread *threads[3];
static lr_stack_id stack_a, stack_b;

#define HEAP_ADDR 0x7e0000001000ul   /* in no thread's stack, no global */

static lr_report *lock_order(void)
{
    lr_report *r = lr_report_new(LR_REPORT_LOCK_ORDER, 2, 2, 0, 0);
    r->locks[0] = (lr_report_lock){ .id = 1, .addr = HEAP_ADDR, .first_seen = stack_a };
    r->locks[1] = (lr_report_lock){ .id = 2, .type = LR_RWLOCK, .addr = 0x1000, .first_seen = stack_b };
    r->edges[0] = (lr_report_edge){ .from = 0, .to = 1, .thread = 1, .first_stack = stack_a,
                                    .second_stack = stack_b, .second_shared = 1 };
    r->edges[1] = (lr_report_edge){ .from = 1, .to = 0, .thread = 2, .first_stack = stack_b,
                                    .second_stack = stack_a, .bounded = 1 };
    return r;
}

static lr_report *deadlock(uint8_t how)
{
    lr_report *r = lr_report_new(LR_REPORT_DEADLOCK, 2, 0, 2, 2);
    r->locks[0] = (lr_report_lock){ .id = 1, .addr = 0x1000, .first_seen = stack_a };
    r->locks[1] = (lr_report_lock){ .id = 2, .addr = HEAP_ADDR, .first_seen = stack_b };
    static const int kinds[] = { LR_WAIT_LOCK, LR_WAIT_JOIN, LR_WAIT_COND, LR_WAIT_BARRIER, LR_WAIT_SEM };
    r->holds[0] = (lr_report_hold){ .lock = 0, .stack = stack_a };
    r->holds[1] = (lr_report_hold){ .lock = 1, .stack = stack_b };
    r->threads[0] = (lr_report_thread){ .id = 1, .wait_kind = kinds[how % 5], .wait_lock = 1,
                                        .wait_object = 0x2000, .waits_for = 2, .wait_stack = stack_b,
                                        .nholds = 1, .holds = &r->holds[0] };
    r->threads[1] = (lr_report_thread){ .id = 2, .wait_kind = LR_WAIT_LOCK, .wait_lock = 0,
                                        .waits_for = how & 8 ? UINT32_MAX : 1, .wait_stack = stack_a,
                                        .nholds = 1, .holds = &r->holds[1] };
    r->whole_process = (how & 16) != 0;
    return r;
}

static lr_report *stall(void)
{
    lr_report *r = lr_report_new(LR_REPORT_STALL, 1, 0, 2, 1);
    r->locks[0] = (lr_report_lock){ .id = 1, .addr = HEAP_ADDR, .first_seen = stack_a };
    r->holds[0] = (lr_report_hold){ .lock = 0, .stack = stack_a };
    r->threads[0] = (lr_report_thread){ .id = 1, .wait_lock = -1 };
    r->threads[1] = (lr_report_thread){ .id = 2, .wait_kind = LR_WAIT_LOCK, .wait_lock = 0,
                                        .waits_for = 1, .wait_stack = stack_b, .waited_ms = 1500 };
    return r;
}

static lr_report *race(int kind, uint8_t how, const char *lock_name)
{
    lr_report *r = lr_report_new(kind, 1, 0, 0, 1);
    r->locks[0] = (lr_report_lock){ .id = 1, .addr = HEAP_ADDR, .first_seen = stack_a, .name = lock_name };
    r->holds[0] = (lr_report_hold){ .lock = 0, .stack = stack_a };
    /* a global named by the symbolizer, or a heap variable named by lockrace_watch() */
    r->var = (lr_report_var){ .addr = how & 8 ? 0x3000 : HEAP_ADDR + 64, .size = 1u << (how % 4),
                              .name = how & 8 ? NULL : lock_name };
    r->naccesses = kind == LR_REPORT_DATA_RACE ? 2 : 4;
    for (size_t i = 0; i < r->naccesses; i++)
        r->accesses[i] = (lr_report_access){ .thread = 1 + (uint32_t)(i / 2 % 2), .write = (int)(i % 2),
                                             .has_value = 1, .value = 0xfffffffffffffff0ull + i,
                                             .stack = i % 2 ? stack_a : stack_b, .nholds = i == 0 };
    int order[4] = { 0, 2, 1, 3 };
    memcpy(r->order, order, sizeof order);
    r->observed = (how & 16) != 0;
    r->lost = 3;
    return r;
}

static lr_report *misuse(uint8_t how)
{
    int sub = how % LR_MISUSE_KINDS, two = (how & 32) != 0;
    lr_report *r = lr_report_new(LR_REPORT_MISUSE, 2, 0, 1 + (size_t)two, 0);
    r->locks[0] = (lr_report_lock){ .id = 1, .addr = HEAP_ADDR, .first_seen = stack_a };
    r->locks[1] = (lr_report_lock){ .id = 2, .addr = 0x1000, .first_seen = stack_b };
    r->misuse = sub;
    r->threads[0] = (lr_report_thread){ .id = 1, .wait_stack = stack_a, .wait_object = how & 64 ? 0x2000 : 0 };
    if (two)
        r->threads[1] = (lr_report_thread){ .id = 2, .wait_stack = stack_b };
    return r;
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc, (void)argv;
    /* started as the library's constructor (interpose/start.c, not in
     * these targets) starts it: options from the environment, T0 for this
     * thread; reports then go to files of our own, and a report does not
     * change the fuzzer's exit status */
    CHECK(lr_runtime_ready());
    (void)lr_self();
    lr_opt.exitcode = 0;
    lr_opt.verbosity = 0;
    lr_opt.deadlock = LR_DEADLOCK_REPORT;
    const char *tmp = getenv("TMPDIR");
    char dir[200];
    snprintf(dir, sizeof dir, "%s/lockrace-fuzz-XXXXXX", tmp && *tmp ? tmp : "/tmp");
    CHECK(mkdtemp(dir) != NULL);
    snprintf(lr_opt.json, sizeof lr_opt.json, "%s/report.json", dir);
    snprintf(lr_opt.log_path, sizeof lr_opt.log_path, "%s/report.txt", dir);
    char text_path[300];
    snprintf(text_path, sizeof text_path, "%s.%d", lr_opt.log_path, (int)getpid());
    json_fd = open(lr_opt.json, O_RDWR | O_CREAT, 0600);
    text_fd = open(text_path, O_RDWR | O_CREAT, 0600);
    CHECK(json_fd >= 0 && text_fd >= 0);
    lr_report_init();

    threads[0] = lr_thread_current();
    threads[1] = lr_thread_new_synthetic();
    threads[2] = lr_thread_new_synthetic();
    CHECK(threads[0] && threads[0]->info->id == 0 && threads[1]->info->id == 1);
    static const uintptr_t pcs_a[] = { 0x401001, 0x402001 }, pcs_b[] = { 0x403001 };
    stack_a = lr_stack_intern(pcs_a, 2);
    stack_b = lr_stack_intern(pcs_b, 1);
    threads[1]->info->parent = 0;
    threads[1]->info->created_at = stack_b;

    /* one report opens both files (the text one on first use); then they
     * need no name, and nothing is left behind */
    lr_report *r = stall();
    lr_report_emit(r);
    lr_report_free(r);
    unlink(lr_opt.json);
    unlink(text_path);
    rmdir(dir);
    ftruncate(json_fd, 0);
    ftruncate(text_fd, 0);
    return 0;
}

typedef struct seen {
    const char *want[FIELDS];
    int found[FIELDS];
} seen;

static void each_string(const char *s, size_t len, void *arg)
{
    seen *w = arg;
    for (int i = 0; i < FIELDS; i++)
        if (w->want[i] && strlen(w->want[i]) == len && memcmp(w->want[i], s, len) == 0)
            w->found[i] = 1;
}

static int is_utf8(const char *s)
{
    size_t len = strlen(s);
    for (size_t i = 0, n; i < len; i += n)
        if ((n = utf8_char((const unsigned char *)s + i, len - i)) == 0)
            return 0;
    return 1;
}

/* lr_buf_json_string alone: valid JSON, and decoded, the name with each
 * byte that starts no UTF-8 character replaced by U+FFFD */
static void check_quoted(const char *name)
{
    lr_buf b = { 0 };
    lr_buf_json_string(&b, name);
    size_t len = strlen(name), at = 0;
    char *want = malloc(len * 3 + 1);
    for (size_t i = 0, n; i < len; i += n ? n : 1) {
        n = utf8_char((const unsigned char *)name + i, len - i);
        if (n) {
            memcpy(want + at, name + i, n);
            at += n;
        } else {
            memcpy(want + at, "\xef\xbf\xbd", 3);
            at += 3;
        }
    }
    want[at] = 0;
    seen w = { .want = { want } };
    CHECK(b.data && b.len >= 2 && b.data[0] == '"');
    CHECK(json_check(b.data, b.len, each_string, &w, NULL) == 0);
    CHECK(w.found[0]);
    CHECK(memchr(b.data, '\n', b.len) == NULL);
    free(want);
    lr_buf_free(&b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 2)
        return 0;
    uint8_t kind = data[0], how = data[1];
    char *copy = malloc(size - 2 + 1);
    memcpy(copy, data + 2, size - 2);
    copy[size - 2] = 0;
    const char *field[FIELDS];
    const char *at = copy, *end = copy + (size - 2);
    for (int i = 0; i < FIELDS; i++) {
        field[i] = at;          /* the missing ones: "" (end's NUL) */
        at = at < end ? at + strlen(at) + 1 : end;
        if (at > end)
            at = end;
    }

    for (int i = 0; i < FIELDS; i++)
        check_quoted(field[i]);

    fuzz_function = field[FIELD_FUNCTION];
    fuzz_file = field[FIELD_FILE];
    fuzz_module = field[FIELD_MODULE];
    fuzz_data_name = field[FIELD_DATA];
    for (int i = 0; i < 3; i++)
        lr_thread_set_name(threads[i]->info, field[FIELD_THREAD]);

    lr_report *r;
    switch (kind % 6) {
    case 0: r = lock_order(); break;
    case 1: r = deadlock(how); break;
    case 2: r = stall(); break;
    case 3: r = race(LR_REPORT_DATA_RACE, how, field[FIELD_LOCK]); break;
    case 4: r = race(LR_REPORT_LOST_UPDATE, how, field[FIELD_LOCK]); break;
    default: r = misuse(how); break;
    }
    CHECK(r != NULL);
    r->locks[0].name = field[FIELD_LOCK][0] ? field[FIELD_LOCK] : NULL;
    if (r->kind == LR_REPORT_LOCK_ORDER && (how & 1))
        r->gate = (lr_report_lock){ .id = 9, .addr = 0x1800 };
    lr_report_emit(r);
    lr_report_free(r);

    struct stat st;
    CHECK(fstat(json_fd, &st) == 0 && st.st_size > 0);
    size_t len = (size_t)st.st_size;
    char *line = malloc(len);
    CHECK(pread(json_fd, line, len, 0) == (ssize_t)len);
    /* one line, one object */
    CHECK(line[len - 1] == '\n' && memchr(line, '\n', len - 1) == NULL && line[0] == '{');
    seen w = { 0 };
    for (int i = 0; i < FIELDS; i++)
        if (field[i][0] && strlen(field[i]) < fits[i] && is_utf8(field[i]))
            w.want[i] = field[i];
    /* names that cannot show: a thread's own name is read from the kernel
     * when it has none, and frames in system headers are skipped */
    if (strncmp(fuzz_file, "/usr/include/", 13) == 0)
        w.want[FIELD_FUNCTION] = NULL;
    /* a global is named in lock-order and misuse reports (their second
     * lock) and in races on one (the variable) */
    int k = kind % 6;
    if (!(k == 0 || k == 5 || ((k == 3 || k == 4) && (how & 8))))
        w.want[FIELD_DATA] = NULL;
    size_t where;
    int rc = json_check(line, len - 1, each_string, &w, &where);
    if (rc != 0)
        fprintf(stderr, "not JSON at byte %zu of: %.*s\n", where, (int)len, line);
    CHECK(rc == 0);
    for (int i = 0; i < FIELDS; i++)
        if (w.want[i] && !w.found[i]) {
            fprintf(stderr, "field %d (%s) not read back: %.*s", i, field[i], (int)len, line);
            CHECK(0);
        }
    free(line);
    ftruncate(json_fd, 0);
    ftruncate(text_fd, 0);
    free(copy);
    return 0;
}
