/* A stack of lockrace's own for its deep work (writing a report:
 * symbolization with libdw takes about 150 KB), so that a report can be
 * written from a thread with a 16 KiB stack or from a signal handler on a
 * small alternate stack without writing past it into the program's memory.
 * Support layer: knows nothing of reports; never called on the lock path. */
#include "support/bigstack.h"

#include <stddef.h>
#include <sys/mman.h>

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

/* All of this is used by one caller at a time: the callers serialize
 * (lr_bigstack_call's contract), so nothing here needs a lock. */
static char *area;
static int unusable;
static void (*call_fn)(void *);
static void *call_arg;
#if SANITIZED_ADDRESS
static const void *thread_stack;    /* the caller's stack, to switch back to */
static size_t thread_stack_size;
#endif

static void on_big_stack(void *unused)
{
    (void)unused;
#if SANITIZED_ADDRESS
    __sanitizer_finish_switch_fiber(NULL, &thread_stack, &thread_stack_size);
#endif
    call_fn(call_arg);
#if SANITIZED_ADDRESS
    __sanitizer_start_switch_fiber(NULL, thread_stack, thread_stack_size);
#endif
}

static int ready(void)
{
    if (area)
        return 1;
    if (unusable || !HAVE_SWITCH)
        return 0;
    void *p = mmap(NULL, BIG_STACK_SIZE, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_STACK, -1, 0);
    if (p == MAP_FAILED || mprotect(p, GUARD_SIZE, PROT_NONE) != 0) {
        if (p != MAP_FAILED)
            munmap(p, BIG_STACK_SIZE);
        unusable = 1;
        return 0;
    }
    area = p;
    return 1;
}

void lr_bigstack_call(void (*fn)(void *), void *arg)
{
    if (!ready()) {
        fn(arg);                /* no stack of our own: the thread's, as before */
        return;
    }
    call_fn = fn;
    call_arg = arg;
#if HAVE_SWITCH
#if SANITIZED_ADDRESS
    void *fake_stack = NULL;
    __sanitizer_start_switch_fiber(&fake_stack, area + GUARD_SIZE, BIG_STACK_SIZE - GUARD_SIZE);
#endif
    lr_bigstack_switch_call(on_big_stack, NULL, area + BIG_STACK_SIZE);
#if SANITIZED_ADDRESS
    __sanitizer_finish_switch_fiber(fake_stack, NULL, NULL);
#endif
#endif
}
