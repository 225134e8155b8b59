/* The access path: the stubs call lr_watch_pre before a watched
 * instruction runs and lr_watch_post after it; the pair is one exact access
 * for the race engine, under the variable's lock. */
#include "watch/watch.h"
#include "watch/internal.h"
#include "support/arena.h"
#include "support/ilock.h"
#include "support/options.h"
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

/* The access in progress in this thread, between pre and post. A signal
 * handler that touches a watched variable in that window nests here. */
typedef struct inflight {
    lr_thread *self;            /* NULL: lockrace records nothing of it */
    lr_stack_id stack;
    uint64_t before;
    uintptr_t addr;             /* what of the variable this access reaches */
    uint32_t size;              /* 0: not the variable (a dynamic address elsewhere) */
    uintptr_t member;           /* through a pointer: where the member is in the object now */
    int var;
    uint8_t locked;
} inflight;

#define MAX_NESTING 4
static __thread inflight flights[MAX_NESTING] __attribute__((tls_model("initial-exec")));
static __thread int nflights __attribute__((tls_model("initial-exec")));


static uint64_t load(uintptr_t addr, uint32_t size)
{
    switch (size) {
    case 1: return __atomic_load_n((const uint8_t *)addr, __ATOMIC_RELAXED);
    case 2: return __atomic_load_n((const uint16_t *)addr, __ATOMIC_RELAXED);
    case 4: return __atomic_load_n((const uint32_t *)addr, __ATOMIC_RELAXED);
    case 8: return __atomic_load_n((const uint64_t *)addr, __ATOMIC_RELAXED);
    default: return 0;
    }
}

/* The variable's lock is held for one instruction and its bookkeeping, a
 * few hundred nanoseconds: another thread spins that long before it
 * sleeps in the kernel (sleeping and waking cost more than the wait). */
static void take(lr_ilock *l)
{
    for (int i = 0; i < 2000; i++) {
        int free_state = 0;
        if (__atomic_load_n(&l->state, __ATOMIC_RELAXED) == 0 &&
            __atomic_compare_exchange_n(&l->state, &free_state, 1, 0, __ATOMIC_ACQUIRE, __ATOMIC_RELAXED))
            return;
        __builtin_ia32_pause();
    }
    lr_ilock_take(l);
}

/* The program's stack pointer at the rewritten instruction: above the
 * saved registers, the return address and the patch number, then the red
 * zone the stub skipped (watch_stub.S). */
static uintptr_t program_sp(const uint64_t *regs)
{
    return (uintptr_t)(regs + 18) + 128;
}

/* The stub's register array in a ucontext, for unwinding from the
 * program's instruction (regs: see src/watch/watch_stub.S). */
static void context_of(const patch *p, const uint64_t *regs, ucontext_t *uc)
{
    static const int order[] = { REG_R15, REG_R14, REG_R13, REG_R12, REG_R11, REG_R10, REG_R9,
                                 REG_R8, REG_RDI, REG_RSI, REG_RBP, REG_RBX, REG_RDX, REG_RCX,
                                 REG_RAX, REG_EFL };
    memset(&uc->uc_mcontext, 0, sizeof uc->uc_mcontext);
    for (int i = 0; i < 16; i++)
        uc->uc_mcontext.gregs[order[i]] = (greg_t)regs[i];
    uc->uc_mcontext.gregs[REG_RSP] = (greg_t)program_sp(regs);
    uc->uc_mcontext.gregs[REG_RIP] = (greg_t)p->insn;
}

/* Each thread remembers the stack of each rewritten instruction it ran,
 * by patch number: a hot variable has hundreds of access sites, which the
 * runtime's small table of call sites would keep evicting, and every miss
 * is an unwind. With it, how deep the thread's stack was: an instruction
 * reached from another caller (a function called from two places, a
 * callee's copy that serves several call sites) is nearly always at
 * another depth, and is unwound again rather than shown with the first
 * caller's frames; a few times only (REUNWINDS), since an instruction of
 * recursive code or of an interpreter is met at endless depths, and each
 * unwind there costs what hundreds of accesses do (python3 with a watched
 * field of its runtime ran 100 times slower). The table is mapped on a
 * thread's first watched access; untouched pages cost nothing. */
#define REUNWINDS 3

typedef struct known_stack {
    lr_stack_id stack;
    uint32_t depth : 30;        /* below the thread's stack base, truncated; 0 unknown */
    uint32_t unwound : 2;       /* times unwound again at another depth */
} known_stack;

static __thread known_stack *thread_stacks __attribute__((tls_model("initial-exec")));

static lr_stack_id stack_of(lr_thread *self, uint32_t k, const patch *p, const uint64_t *regs)
{
    known_stack *known = thread_stacks;
    if (!known)
        known = thread_stacks = lr_map(MAX_PATCHES * sizeof *known);
    uintptr_t base = self->info->stack_base;
    uint32_t depth = base ? (uint32_t)(base - program_sp(regs)) & ((1u << 30) - 1) : 0;
    if (known && known[k].stack && (known[k].depth == depth || known[k].unwound == REUNWINDS))
        return known[k].stack;
    ucontext_t uc;
    context_of(p, regs, &uc);
    lr_enter(self);
    lr_stack_id stack = lr_stack_capture_context(&uc);
    lr_leave(self);
    if (known && stack)
        known[k] = (known_stack){ stack, depth, known[k].stack ? known[k].unwound + 1 : 0 };
    return stack;
}

static int known_object(const watch_var *v, uintptr_t member)
{
    for (int i = 0; i < KNOWN_OBJECTS; i++)
        if (v->objects[i] == member)
            return 1;
    return 0;
}

void lr_watch_pre(uint32_t k, uint64_t *regs)
{
    const patch *p = &lr_watch_patches[k];
    int nested = nflights > 0;
    if (nflights == MAX_NESTING)
        return;                 /* post sees the same count and does nothing either */
    inflight *f = &flights[nflights];
    f->locked = 0;
    f->addr = p->addr;
    f->size = p->size;
    f->var = p->var;
    if (p->dynamic) {
        uintptr_t a = (uintptr_t)((p->base >= 0 ? regs[p->base] : 0) +
                                  (p->index >= 0 ? regs[p->index] * p->scale : 0) + (uint64_t)p->disp);
        /* a callee's copy is also run with pointers to anything else */
        if (p->any)
            f->var = lr_watch_var_running(a, p->size);
        if (f->var >= 0) {
            const watch_var *v = &lr_watch_vars[f->var];
            uintptr_t vlo = v->lo, vhi = v->hi;
            if (v->through) {
                /* where the pointer points now: an access through an
                 * older value of it, or to another element, is not it */
                vlo = __atomic_load_n((const uintptr_t *)v->through, __ATOMIC_RELAXED) + v->off;
                vhi = vlo + v->len;
                f->member = vlo;
            }
            uintptr_t lo = a > vlo ? a : vlo, hi = a + p->size < vhi ? a + p->size : vhi;
            f->addr = lo;
            f->size = lo < hi ? (uint32_t)(hi - lo) : 0;
        } else {
            f->size = 0;
        }
    }
    nflights++;
    __atomic_signal_fence(__ATOMIC_SEQ_CST);
    f->self = NULL;
    if (!f->size)
        return;
    /* the stack before the lock: other threads wait for the lock */
    lr_thread *self = lr_self();
    if (self) {
        int saved = errno;
        f->stack = stack_of(self, k, p, regs);
        f->self = self;
        errno = saved;
    }
    if (!nested) {
        watch_var *v = &lr_watch_vars[f->var];
        take(&v->lock);
        f->locked = 1;
        /* a new object behind the pointer: named for the race engine, with
         * a history of its own (the engine keys history by address) */
        if (v->through && f->self && !known_object(v, f->member)) {
            lr_race_watch(f->self, f->member, v->len, v->name);
            v->objects[v->next_object++ % KNOWN_OBJECTS] = f->member;
        }
    }
    f->before = load(f->addr, f->size);
}

void lr_watch_post(uint32_t k, uint64_t *regs)
{
    (void)regs;
    const patch *p = &lr_watch_patches[k];
    if (nflights == MAX_NESTING || nflights == 0)
        return;
    inflight *f = &flights[nflights - 1];
    uint64_t after = load(f->addr, f->size);
    lr_thread *self = f->self;
    if (self) {
        int saved = errno;
        lr_stack_id stack = f->stack;
        int flags = f->locked ? LR_ACC_EXACT | LR_ACC_GIVEN : 0;
        if (p->atomic || lr_watch_vars[f->var].atomic)
            flags |= LR_ACC_ATOMIC;
        if (p->read)
            lr_race_access_at(self, f->addr, f->size, flags, &f->before, stack);
        if (p->write)
            lr_race_access_at(self, f->addr, f->size, flags | LR_ACC_WRITE, &after, stack);
        errno = saved;
    }
    if (f->locked)
        lr_ilock_drop(&lr_watch_vars[f->var].lock);
    __atomic_signal_fence(__ATOMIC_SEQ_CST);
    nflights--;
}
