/* Stacks of lockrace's own for its deep work, so that a report can be
 * written, a stack unwound or a wait's round checked from a thread with a
 * 16 KiB stack or from a signal handler on a small alternate stack without
 * writing past it into the program's memory. Two kinds: one 1 MiB stack
 * for reports (symbolization with libdw takes about 150 KB), used by one
 * caller at a time, and a smaller one per thread, mapped only for a
 * thread that does such work on its alternate signal stack.
 * Support layer: knows nothing of reports or threads; never called on the
 * lock path. */
#include "support/bigstack.h"

#include <pthread.h>
#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

/* 1 MiB of address space, mapped at the first call and kept; its lowest
 * page is a guard. Only the pages touched cost memory. */
#define BIG_STACK_SIZE (1u << 20)
#define GUARD_SIZE 4096u

#if defined(__x86_64__)
/* switch_call(fn, arg, top): calls fn(arg) with the stack pointer at top
 * (16-byte aligned), then returns on the caller's stack. No system call
 * (swapcontext would make two, and ASan warns about it). The frame pointer
 * keeps the caller's frame reachable, and the CFI says so, so debuggers and
 * unwinders walk from the big stack back into the thread's. */
void lr_bigstack_switch_call(void (*fn)(void *), void *arg, void *top);
__asm__(".text\n"
        ".globl lr_bigstack_switch_call\n"
        ".hidden lr_bigstack_switch_call\n"
        ".type lr_bigstack_switch_call, @function\n"
        ".p2align 4\n"
        "lr_bigstack_switch_call:\n"
        "    .cfi_startproc\n"
        "    pushq %rbp\n"
        "    .cfi_def_cfa_offset 16\n"
        "    .cfi_offset %rbp, -16\n"
        "    movq %rsp, %rbp\n"
        "    .cfi_def_cfa_register %rbp\n"
        "    movq %rdx, %rsp\n"
        "    movq %rdi, %rax\n"
        "    movq %rsi, %rdi\n"
        "    callq *%rax\n"
        "    movq %rbp, %rsp\n"
        "    popq %rbp\n"
        "    .cfi_def_cfa %rsp, 8\n"
        "    retq\n"
        "    .cfi_endproc\n"
        ".size lr_bigstack_switch_call, .-lr_bigstack_switch_call\n");
#define HAVE_SWITCH 1
#else
#define HAVE_SWITCH 0
#endif

#if defined(__SANITIZE_ADDRESS__)
/* ASan is told of the switch, or it takes the big stack for an overflow */
void __sanitizer_start_switch_fiber(void **fake_stack_save, const void *bottom, size_t size);
void __sanitizer_finish_switch_fiber(void *fake_stack_save, const void **bottom_old, size_t *size_old);
#define SANITIZED_ADDRESS 1
#else
#define SANITIZED_ADDRESS 0
#endif

/* One switch: fn(arg) on the stack [lo, lo + size), and back. Each call
 * has its own, so that threads switch at once, each to its own stack. */
typedef struct switch_call {
    void (*fn)(void *);
    void *arg;
#if SANITIZED_ADDRESS
    const void *thread_stack;   /* the caller's stack, to switch back to */
    size_t thread_stack_size;
#endif
} switch_call;

static void on_big_stack(void *arg)
{
    switch_call *c = arg;
#if SANITIZED_ADDRESS
    __sanitizer_finish_switch_fiber(NULL, &c->thread_stack, &c->thread_stack_size);
#endif
    c->fn(c->arg);
#if SANITIZED_ADDRESS
    __sanitizer_start_switch_fiber(NULL, c->thread_stack, c->thread_stack_size);
#endif
}

/* What lockrace keeps of each thread: its own stack, and where its
 * alternate signal stack is, told by the sigaltstack wrapper
 * (lr_bigstack_altstack_set) or asked of the kernel once, at the thread's
 * first need. A sigaltstack system call on every stack capture (1.3 us
 * here) took many_locks (a stack for each of 200,000 new locks) from 2.5 s
 * of user and 0.3 s of system time to 3.7 and 1.0. */
typedef struct thread_stacks {
    char *own;                  /* NULL until the thread first needs it */
    uintptr_t alt_lo, alt_hi;   /* the alternate stack; equal: none */
    int alt_known;              /* 0: ask the kernel at the next need */
} thread_stacks;

static __thread thread_stacks mine __attribute__((tls_model("initial-exec")));

void lr_bigstack_altstack_set(const void *sp, size_t size, int enabled)
{
    mine.alt_lo = enabled ? (uintptr_t)sp : 0;
    mine.alt_hi = enabled ? (uintptr_t)sp + size : 0;
    mine.alt_known = 1;
}

/* The caller runs on its alternate signal stack: its stack pointer is in
 * it (the kernel's own test). Not seen: a stack changed by a raw system
 * call after lockrace asked, and one set with SS_AUTODISARM first asked
 * about from its handler (the kernel then says there is none). */
static int on_alt_stack(void)
{
    if (!mine.alt_known) {
        stack_t ss;
        if (syscall(SYS_sigaltstack, NULL, &ss) != 0)
            return 0;
        lr_bigstack_altstack_set(ss.ss_sp, ss.ss_size, !(ss.ss_flags & SS_DISABLE));
    }
    uintptr_t sp = (uintptr_t)__builtin_frame_address(0);
    return sp - mine.alt_lo < mine.alt_hi - mine.alt_lo;
}

/* While a thread is on a stack of ours, the kernel no longer sees it on its
 * alternate stack: a second signal (another one, or the same with
 * SA_NODEFER) would start its handler at the top of the alternate stack,
 * over the frames of the handler that called lockrace. So a thread that
 * came from its alternate stack runs there with signals blocked; they are
 * delivered when it is back (glibc leaves its own two unblocked). */
static void run_on(char *lo, size_t size, void (*fn)(void *), void *arg, int from_alt)
{
#if HAVE_SWITCH
    switch_call c = { .fn = fn, .arg = arg };
    sigset_t all, old;
    if (from_alt) {
        sigfillset(&all);
        pthread_sigmask(SIG_SETMASK, &all, &old);
    }
#if SANITIZED_ADDRESS
    void *fake_stack = NULL;
    __sanitizer_start_switch_fiber(&fake_stack, lo, size);
#endif
    lr_bigstack_switch_call(on_big_stack, &c, lo + size);
#if SANITIZED_ADDRESS
    __sanitizer_finish_switch_fiber(fake_stack, NULL, NULL);
#endif
    if (from_alt)
        pthread_sigmask(SIG_SETMASK, &old, NULL);
#else
    (void)lo, (void)size, (void)from_alt;
    fn(arg);
#endif
}

static char *map_stack(size_t size)
{
    void *p = mmap(NULL, size, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_STACK, -1, 0);
    if (p == MAP_FAILED)
        return NULL;
    if (mprotect(p, GUARD_SIZE, PROT_NONE) != 0) {
        munmap(p, size);
        return NULL;
    }
    return p;
}

/* The reports' stack: used by one caller at a time (the callers serialize,
 * lr_bigstack_call's contract), so these need no lock. */
static char *area;
static int unusable;

static int ready(void)
{
    if (area)
        return 1;
    if (unusable || !HAVE_SWITCH)
        return 0;
    area = map_stack(BIG_STACK_SIZE);
    unusable = !area;
    return !unusable;
}

void lr_bigstack_call(void (*fn)(void *), void *arg)
{
    if (!ready()) {
        fn(arg);                /* no stack of our own: the thread's, as before */
        return;
    }
    run_on(area + GUARD_SIZE, BIG_STACK_SIZE - GUARD_SIZE, fn, arg, on_alt_stack());
}

/* A thread's own stack for work it does on its alternate signal stack:
 * unwinding (about 5 KiB with libgcc's unwinder), a wait's round (reading
 * /proc with stdio, 2 KiB), a report's building. Mapped at the thread's
 * first need, unmapped as it ends; only the pages touched cost memory. */
#define OWN_STACK_SIZE (256u << 10)

void lr_bigstack_roomy(void (*fn)(void *), void *arg)
{
    if (!HAVE_SWITCH || !on_alt_stack()) {
        fn(arg);
        return;
    }
    if (!mine.own)
        mine.own = map_stack(OWN_STACK_SIZE);
    if (!mine.own) {
        fn(arg);                /* no memory for it: the alternate stack, as before */
        return;
    }
    run_on(mine.own + GUARD_SIZE, OWN_STACK_SIZE - GUARD_SIZE, fn, arg, 1);
}

void lr_bigstack_thread_end(void)
{
    char *p = mine.own;
    mine.own = NULL;
    if (p)
        munmap(p, OWN_STACK_SIZE);
}
