/* Stack store. Records live in the arena and never move; a record is found
 * by id through a two-level table (lock-free reads: a record is complete
 * before its id is handed out) and deduplicated through an open-addressing
 * hash that only the store lock protects. Capturing happens outside that
 * lock: unwinding is the slow part and needs no shared state. */
#include "support/stack.h"
#include "support/idtable.h"
#include "support/util.h"
#include "support/arena.h"
#include "support/bigstack.h"
#include "support/ilock.h"
#include "support/options.h"
#include "support/python.h"
#include "support/unwind.h"

#include <dlfcn.h>
#include <link.h>
#include <stdio.h>
#include <string.h>

#define UNW_LOCAL_ONLY
#include <libunwind.h>      /* types only: the functions are looked up in the dlopen'ed library */
#include <unwind.h>         /* libgcc's unwinder: types only, its functions looked up in libgcc_s */

/* A stack, or (n == 0) another stack as unwound in one thread and shared
 * with the others (lr_stack_shared_from): its frames are plain's. */
typedef struct record {
    uint64_t hash;
    uint32_t n;
    uint32_t thread;            /* n == 0: the thread that unwound plain */
    lr_stack_id plain;          /* n == 0: the stack itself */
    uintptr_t pcs[];
} record;

static lr_idtable stacks;               /* the stacks by id, under store_lock */
static lr_ilock store_lock = LR_ILOCK_INIT;

/* First, the fast walk of unwind.c: libgcc's frames, from each frame's
 * rule read once from libgcc's FDE and cached by return address, about 30
 * instructions a frame met before where libgcc takes 2,000. It gives up
 * on a frame it does not follow (a signal frame, a CFA expression), and
 * the ways below walk the whole stack then; no stack differs by the way
 * it was walked (4.3 million stacks of the test suite, compared).
 *
 * Three ways to unwind. libgcc's unwinder, which glibc's backtrace() runs
 * (it finds each frame's unwind table through _dl_find_object: no lock, no
 * system call), is the one used when it works, walked here directly so
 * that the walk ends with the frames a stack keeps (walk_frames); a thread
 * that holds the GIL moves on to unw_backtrace (unwind()). A program that
 * makes many short threads, each meeting new contexts, ran 2.5 s under
 * libgcc's against 5.5 s under libunwind, which blocks every signal around
 * its cache on every step (two rt_sigprocmask calls a frame, 800 a
 * thread). libunwind stays for the stacks of signal contexts
 * (lr_stack_capture_context) and where libgcc's gives nothing. Of
 * libunwind's own two, unw_backtrace is the fast one (0.3 us a stack here)
 * but its first call in each thread builds a frame cache, 650 us on this
 * machine (256 KiB touched page by page): a program that starts thousands
 * of short threads would pay that per thread. So a thread unwinds step by
 * step (11 us a stack, nothing to set up) until it has unwound
 * STEP_UNWINDS times, and switches to unw_backtrace once it has shown it
 * lives long enough to pay the set-up back. */
#define STEP_UNWINDS 48

static int (*backtrace_fn)(void **, int);   /* glibc's backtrace(), when it works here */
/* What backtrace() runs, called here with a callback that can stop early. */
static _Unwind_Reason_Code (*unwind_backtrace_fn)(_Unwind_Trace_Fn, void *);
static _Unwind_Ptr (*unwind_getip_fn)(struct _Unwind_Context *);
static _Unwind_Word (*unwind_getcfa_fn)(struct _Unwind_Context *);
static int (*unw_backtrace_fn)(void **, int);
static int (*getcontext_fn)(unw_context_t *);
static int (*init_local_fn)(unw_cursor_t *, unw_context_t *);
static int (*step_fn)(unw_cursor_t *);
static int (*get_reg_fn)(unw_cursor_t *, unw_regnum_t, unw_word_t *);
static int (*init_local2_fn)(unw_cursor_t *, unw_context_t *, int);
static __thread unsigned unwinds __attribute__((tls_model("initial-exec")));
static uintptr_t self_lo, self_hi;

static int find_self(struct dl_phdr_info *info, size_t size, void *data)
{
    (void)size;
    uintptr_t probe = (uintptr_t)data;
    for (int i = 0; i < info->dlpi_phnum; i++) {
        const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
        uintptr_t lo = info->dlpi_addr + ph->p_vaddr;
        if (ph->p_type == PT_LOAD && (ph->p_flags & PF_X) && probe >= lo && probe < lo + ph->p_memsz) {
            self_lo = lo;
            self_hi = lo + ph->p_memsz;
            return 1;
        }
    }
    return 0;
}

void lr_stack_init(void)
{
    dl_iterate_phdr(find_self, (void *)(uintptr_t)lr_stack_init);
    lr_python_init();
    /* libc's own, looked up in libc: under ASan, the symbol backtrace is
     * its interceptor, which adds a frame of its own and takes ASan's
     * locks (a forked child hung in it). Its first call loads libgcc_s
     * (dlopen, malloc): here, at start-up, not in a signal handler or on a
     * small stack later. */
    void *libc = dlopen("libc.so.6", RTLD_NOW | RTLD_NOLOAD);
    void *probe[4];
    backtrace_fn = libc ? (int (*)(void **, int))dlsym(libc, "backtrace") : NULL;
    if (backtrace_fn && backtrace_fn(probe, 4) <= 1)
        backtrace_fn = NULL;
    /* backtrace() has loaded libgcc_s: its unwinder, to walk frames here */
    void *gcc = backtrace_fn ? dlopen("libgcc_s.so.1", RTLD_NOW | RTLD_NOLOAD) : NULL;
    if (gcc) {
        unwind_backtrace_fn = (_Unwind_Reason_Code (*)(_Unwind_Trace_Fn, void *))dlsym(gcc, "_Unwind_Backtrace");
        unwind_getip_fn = (_Unwind_Ptr (*)(struct _Unwind_Context *))dlsym(gcc, "_Unwind_GetIP");
        unwind_getcfa_fn = (_Unwind_Word (*)(struct _Unwind_Context *))dlsym(gcc, "_Unwind_GetCFA");
        if (!unwind_backtrace_fn || !unwind_getip_fn || !unwind_getcfa_fn)
            unwind_backtrace_fn = NULL;
        else
            lr_unwind_init((const void *(*)(void *, void *))dlsym(gcc, "_Unwind_Find_FDE"));
    }
    /* LOCKRACE_LIBUNWIND names another build of it (the tests name one
     * that does not exist); never in a set-uid program (lr_getenv) */
    const char *name = lr_getenv("LOCKRACE_LIBUNWIND");
    name = name && *name ? name : LR_LIBUNWIND;
    void *h = dlopen(name, RTLD_NOW | RTLD_LOCAL);
    if (!h) {
        /* A run-time dependency that no link line names. Said once, at
         * start: by the launcher for its whole tree, else by each process */
        if (!lr_getenv("LOCKRACE_LAUNCHER_PID"))
            lr_say_missing_unwinder(2, name);
        return;
    }
    unw_backtrace_fn = (int (*)(void **, int))dlsym(h, "unw_backtrace");
    /* libunwind.h maps these names to the architecture's symbols */
#define NAME(f) NAME_(f)
#define NAME_(f) #f
    getcontext_fn = (int (*)(unw_context_t *))dlsym(h, NAME(unw_tdep_getcontext));
    init_local_fn = (int (*)(unw_cursor_t *, unw_context_t *))dlsym(h, NAME(unw_init_local));
    step_fn = (int (*)(unw_cursor_t *))dlsym(h, NAME(unw_step));
    get_reg_fn = (int (*)(unw_cursor_t *, unw_regnum_t, unw_word_t *))dlsym(h, NAME(unw_get_reg));
    init_local2_fn = (int (*)(unw_cursor_t *, unw_context_t *, int))dlsym(h, NAME(unw_init_local2));
#undef NAME
#undef NAME_
}

static int steps(unw_cursor_t *cursor, void **out, int max)
{
    int n = 0;
    unw_word_t ip;
    while (n < max && get_reg_fn(cursor, UNW_REG_IP, &ip) == 0 && ip) {
        out[n++] = (void *)ip;
        if (step_fn(cursor) <= 0)
            break;
    }
    return n;
}

static int unwind_by_steps(void **out, int max)
{
    unw_context_t context;
    unw_cursor_t cursor;
    if (getcontext_fn(&context) != 0 || init_local_fn(&cursor, &context) != 0)
        return 0;
    return steps(&cursor, out, max);
}

/* Walking frames with libgcc's unwinder as backtrace() does (the same
 * addresses, the same end), but only as far as the stack will keep: each
 * frame costs an unwind-table search and its CFI (2,000 instructions a
 * frame on Debian's python3), and a stack keeps stack_depth frames that
 * are not lockrace's. fold: the walk ends at the interpreter's eval loop
 * (see unwind). */
typedef struct walk {
    void **out;
    int max, n;                 /* n: -1 until the walker's own frame is skipped */
    int keep, kept;             /* frames to keep, kept so far (lockrace's are not) */
    int fold;
    _Unwind_Word cfa;
} walk;

static _Unwind_Reason_Code walk_frame(struct _Unwind_Context *context, void *arg)
{
    walk *w = arg;
    int last = 0;
    if (w->n >= 0) {
        uintptr_t ip = (uintptr_t)unwind_getip_fn(context);
        _Unwind_Word cfa = unwind_getcfa_fn(context);
        w->out[w->n] = (void *)ip;
        if (w->n > 0 && w->out[w->n - 1] == (void *)ip && cfa == w->cfa)
            return _URC_END_OF_STACK;           /* no progress: backtrace() stops too */
        w->cfa = cfa;
        if (ip < self_lo || ip >= self_hi)
            w->kept++;
        last = w->fold && lr_python_eval_loop(ip - 1);
    }
    if (++w->n == w->max || w->kept >= w->keep || last)
        return _URC_END_OF_STACK;
    return _URC_NO_REASON;
}

/* Not inlined: the frames start at its caller's, as lr_unwind_fast's do. */
static __attribute__((noinline)) int walk_frames(void **out, int max, int keep, int fold)
{
    walk w = { .out = out, .max = max, .n = -1, .keep = keep, .fold = fold };
    unwind_backtrace_fn(walk_frame, &w);
    if (w.n > 1 && out[w.n - 1] == NULL)       /* what backtrace() fixes up too */
        w.n--;
    return w.n > 0 ? w.n : 0;
}

/* A thread that holds the GIL runs Python code: its stack is its C frames
 * down to the interpreter's eval loop, then its Python frames (python.c).
 * A report shows of those C frames only the ones above the interpreter's
 * first (an extension's own code: report/pystack.c), so the walk ends at
 * the innermost frame of the eval loop, a few frames down, where the full
 * walk went through the interpreter, 25 to 80 frames, 50,000 instructions
 * a stack with libgcc. A signal handler's frame would lie above that one
 * (no C handler runs Python code), so the signal frames that python.c
 * looks for are all walked. python_c_frames=1 shows every C frame: the
 * walk is then whole. Once such a thread has shown it lives long enough to
 * pay libunwind's set-up back, unw_backtrace walks it from its frame
 * cache: 3,600 instructions a stack on bench/pythreads.py. That set-up is
 * more than the 650 us of the cache itself: each frame the cache does not
 * know yet costs libunwind two rt_sigprocmask calls (1,767 on the
 * benchmark, where its 7 threads switched after 48 stacks). A whole walk
 * pays it back after PYTHON_UNWINDS stacks, a walk that ends at the eval
 * loop (13,000 instructions) after some FOLDED_UNWINDS: the benchmark ran
 * 55 ms rather than 59 ms (medians of 21, 41 ms natively) with its threads
 * never switching, for 6% more instructions. */
#define PYTHON_UNWINDS 48
#define FOLDED_UNWINDS 1024
static __thread unsigned python_unwinds __attribute__((tls_model("initial-exec")));

/* The frames down to the eval loop's innermost one; n when none is. */
static int folded(void *const *pcs, int n)
{
    for (int i = 0; i < n; i++)
        if (lr_python_eval_loop((uintptr_t)pcs[i] - 1))
            return i + 1;
    return n;
}

/* At most max frames; the stack keeps the first keep that are not
 * lockrace's. python: the thread holds the GIL. */
static int unwind(void **out, int max, int keep, int python)
{
    int fold = python && !lr_opt.python_c_frames;
    if (unwind_backtrace_fn) {
        lr_unwind_limits limits = { max, python ? max : keep, self_lo, self_hi,
                                    fold ? lr_python_eval_loop : NULL };
        int n = lr_unwind_fast(out, &limits);
        if (n >= 0)
            return n;
    }
    if (python && unw_backtrace_fn && python_unwinds >= (fold ? FOLDED_UNWINDS : PYTHON_UNWINDS)) {
        int n = unw_backtrace_fn(out, max);
        return fold ? folded(out, n) : n;
    }
    python_unwinds += python;
    if (unwind_backtrace_fn)
        return walk_frames(out, max, python ? max : keep, fold);
    if (backtrace_fn)
        return backtrace_fn(out, max);
    int stepwise = getcontext_fn && init_local_fn && step_fn && get_reg_fn;
    if (stepwise && unwinds < STEP_UNWINDS) {
        unwinds++;
        return unwind_by_steps(out, max);
    }
    return unw_backtrace_fn ? unw_backtrace_fn(out, max) : 0;
}

static uint64_t hash_pcs(const uintptr_t *pcs, int n)
{
    uint64_t h = 0xcbf29ce484222325ull;
    for (int i = 0; i < n; i++) {
        h ^= pcs[i];
        h *= 0x100000001b3ull;
        h ^= h >> 29;
    }
    return h | 1;
}

typedef struct pcs_key {
    const uintptr_t *pcs;
    int n;
} pcs_key;

static int same_pcs(const void *record_, const void *key_)
{
    const record *r = record_;
    const pcs_key *k = key_;
    return r->n == (uint32_t)k->n && !memcmp(r->pcs, k->pcs, (size_t)k->n * sizeof *k->pcs);
}

lr_stack_id lr_stack_intern(const uintptr_t *pcs, int n)
{
    if (n <= 0)
        return 0;
    uint64_t h = hash_pcs(pcs, n);
    pcs_key key = { pcs, n };
    uint32_t slot;
    lr_ilock_take(&store_lock);
    lr_stack_id id = lr_idtable_find(&stacks, h, same_pcs, &key, &slot);
    if (!id) {
        record *r = slot != UINT32_MAX ? lr_arena_alloc(sizeof *r + (size_t)n * sizeof(uintptr_t)) : NULL;
        if (r) {
            r->hash = h;
            r->n = (uint32_t)n;
            r->thread = 0;
            r->plain = 0;
            memcpy(r->pcs, pcs, (size_t)n * sizeof(uintptr_t));
            id = lr_idtable_add(&stacks, slot, r);
        }
    }
    lr_ilock_drop(&store_lock);
    return id;
}

lr_stack_id (*lr_stack_capture_override)(void);

static int stack_depth(void)
{
    return lr_opt.stack_depth > 0 ? lr_opt.stack_depth : LR_STACK_MAX;
}

/* lockrace's own frames go (the wrapper on top, the thread trampoline
 * below); stack_depth frames are kept. */
static int program_frames(void *const *raw, int n, uintptr_t *kept)
{
    int depth = stack_depth(), keep = 0;
    for (int i = 0; i < n && keep < depth; i++)
        if ((uintptr_t)raw[i] < self_lo || (uintptr_t)raw[i] >= self_hi)
            kept[keep++] = (uintptr_t)raw[i];
    return keep;
}

/* In a Python process the thread's Python frames follow the C frames
 * (python.h), stack_depth of them too. */
static void capture(void *id)
{
    void *raw[LR_STACK_MAX + 16];
    uintptr_t kept[2 * LR_STACK_MAX];
    int python = lr_python_readable();
    int cancel = lr_cancel_off();   /* libunwind reads and writes a pipe */
    int n = unwind(raw, LR_STACK_MAX + 16, stack_depth(), python);
    lr_cancel_restore(cancel);
    int keep = program_frames(raw, n, kept);
    keep += lr_python_capture(raw, n, kept + keep, stack_depth());
    *(lr_stack_id *)id = lr_stack_intern(kept, keep);
}

/* Unwinding takes 5 KiB of stack (the frames above and libgcc's unwinder):
 * more than a handler's alternate stack may have left (lr_bigstack_roomy
 * moves it to one of lockrace's own; the walk comes back through the
 * switch). */
static lr_stack_id unwind_here(void)
{
    lr_stack_id id = 0;
    lr_bigstack_roomy(capture, &id);
    return id;
}

/* ---- stacks by call site (stack.h, lr_stack_site_begin) ----
 * Insert-only open addressing, read and written without a lock: a slot's
 * key is claimed once, its stacks written, then `ready` set. A full
 * neighbourhood is a miss (the stack is unwound, as without the table).
 * 4,096 slots, 96 KiB of address space mapped at the first insert. */
#define SITE_BITS 12
#define SITE_PROBES 8

typedef struct site_slot {
    uint64_t key;
    lr_stack_id plain, shared;  /* the stack, and the same as shared from `thread` */
    uint32_t thread, ready;
} site_slot;

static site_slot *sites;
static __thread struct {
    uintptr_t pc, depth;
    uint32_t thread;
    int at;
    const int *inside;
} site_now __attribute__((tls_model("initial-exec")));

void lr_stack_site_begin(uintptr_t pc, uintptr_t depth, uint32_t thread, const int *inside, int at)
{
    site_now.depth = depth;
    site_now.thread = thread;
    site_now.inside = inside;
    site_now.at = at;
    __atomic_store_n(&site_now.pc, pc, __ATOMIC_RELAXED);
}

void lr_stack_site_end(void)
{
    site_now.pc = 0;
}

static site_slot *site_table(void)
{
    site_slot *table = __atomic_load_n(&sites, __ATOMIC_ACQUIRE);
    if (table)
        return table;
    site_slot *fresh = lr_map(sizeof *fresh << SITE_BITS);
    if (fresh && !__atomic_compare_exchange_n(&sites, &table, fresh, 0, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE)) {
        lr_unmap(fresh, sizeof *fresh << SITE_BITS);
        return table;
    }
    return fresh;
}

static lr_stack_id site_capture(uint64_t python)
{
    uint64_t key = ((site_now.pc * 0x9e3779b97f4a7c15ull) ^ (site_now.depth * 0xc2b2ae3d27d4eb4full) ^ python) | 1;
    uint32_t me = site_now.thread;
    site_slot *table = site_table();
    uint32_t i = (uint32_t)(key >> (64 - SITE_BITS));
    for (int probe = 0; table && probe < SITE_PROBES; probe++, i = (i + 1) & ((1u << SITE_BITS) - 1)) {
        site_slot *s = &table[i];
        uint64_t k = __atomic_load_n(&s->key, __ATOMIC_ACQUIRE);
        if (k == key) {
            if (!__atomic_load_n(&s->ready, __ATOMIC_ACQUIRE))
                break;          /* being written: unwind this once */
            return s->thread == me ? s->plain : s->shared;
        }
        if (k != 0)
            continue;
        if (!__atomic_compare_exchange_n(&s->key, &k, key, 0, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE)) {
            if (k == key)
                break;          /* claimed by another thread a moment ago */
            continue;
        }
        lr_stack_id plain = unwind_here();
        s->plain = plain;
        s->shared = lr_stack_shared_from(plain, me);
        s->thread = me;
        __atomic_store_n(&s->ready, 1, __ATOMIC_RELEASE);
        return plain;
    }
    return unwind_here();
}

uint64_t lr_stack_python_path(void)
{
    return lr_python_path(stack_depth());
}

lr_stack_id lr_stack_capture(void)
{
    if (lr_stack_capture_override)
        return lr_stack_capture_override();
    if (site_now.pc && *site_now.inside == site_now.at) {
        if (!lr_python_present())
            return site_capture(0);
        /* a Python process: per Python call path too, when it can be read
         * (the thread holds the GIL), which is what its stacks show above
         * the interpreter's few call sites */
        uint64_t python = lr_stack_python_path();
        if (python)
            return site_capture(python);
    }
    return unwind_here();
}

typedef struct context_capture {
    void *context;
    lr_stack_id id;
} context_capture;

static void capture_context(void *arg)
{
    context_capture *c = arg;
    unw_cursor_t cursor;
    void *raw[LR_STACK_MAX + 16];
    if (!init_local2_fn || !step_fn || !get_reg_fn ||
        init_local2_fn(&cursor, c->context, UNW_INIT_SIGNAL_FRAME) != 0)
        return;
    int cancel = lr_cancel_off();
    int n = steps(&cursor, raw, LR_STACK_MAX + 16);
    lr_cancel_restore(cancel);
    /* frame 0 is the instruction itself: +1 so that it reads like a return address */
    if (n > 0)
        raw[0] = (char *)raw[0] + 1;
    uintptr_t kept[LR_STACK_MAX];
    c->id = lr_stack_intern(kept, program_frames(raw, n, kept));  /* a signal handler's: no Python */
}

/* libunwind's cursor alone is 1 KiB: on a stack with room, as above. */
lr_stack_id lr_stack_capture_context(void *context)
{
    context_capture c = { context, 0 };
    lr_bigstack_roomy(capture_context, &c);
    return c.id;
}

typedef struct shared_key {
    lr_stack_id plain;
    uint32_t thread;
} shared_key;

static int same_shared(const void *record_, const void *key_)
{
    const record *r = record_;
    const shared_key *k = key_;
    return r->n == 0 && r->plain == k->plain && r->thread == k->thread;
}

lr_stack_id lr_stack_shared_from(lr_stack_id plain, uint32_t thread)
{
    record *p = plain ? lr_idtable_get(&stacks, plain) : NULL;
    if (!p || p->n == 0)
        return plain;           /* none, or shared already: it keeps its thread */
    shared_key key = { plain, thread };
    uint64_t h = ((plain * 0x9e3779b97f4a7c15ull) ^ (thread * 0xc2b2ae3d27d4eb4full) ^
                  0x5bd1e9955bd1e995ull) | 1;
    uint32_t slot;
    lr_ilock_take(&store_lock);
    lr_stack_id id = lr_idtable_find(&stacks, h, same_shared, &key, &slot);
    if (!id) {
        record *r = slot != UINT32_MAX ? lr_arena_alloc(sizeof *r) : NULL;
        if (r) {
            *r = (record){ .hash = h, .n = 0, .thread = thread, .plain = plain };
            id = lr_idtable_add(&stacks, slot, r);
        }
    }
    lr_ilock_drop(&store_lock);
    return id ? id : plain;
}

int lr_stack_origin(lr_stack_id id, uint32_t *thread, lr_stack_id *plain)
{
    record *r = id ? lr_idtable_get(&stacks, id) : NULL;
    if (!r || r->n != 0)
        return 0;
    *thread = r->thread;
    *plain = r->plain;
    return 1;
}

lr_stack_id lr_stack_plain(lr_stack_id id)
{
    uint32_t thread;
    lr_stack_id plain;
    return lr_stack_origin(id, &thread, &plain) ? plain : id;
}

uint32_t lr_stack_count(void)
{
    return __atomic_load_n(&stacks.count, __ATOMIC_RELAXED);
}

int lr_stack_frames(lr_stack_id id, const uintptr_t **pcs)
{
    record *r = id ? lr_idtable_get(&stacks, id) : NULL;
    if (r && r->n == 0)
        r = lr_idtable_get(&stacks, r->plain);
    if (!r)
        return 0;
    *pcs = r->pcs;
    return (int)r->n;
}

void lr_stack_fork_prepare(void) { lr_python_fork_prepare(); lr_ilock_take(&store_lock); }
void lr_stack_fork_parent(void) { lr_ilock_drop(&store_lock); lr_python_fork_parent(); }
void lr_stack_fork_child(void) { lr_ilock_reset(&store_lock); lr_python_fork_child(); }
