/* A watched instruction must leave the program exactly as it would have:
 * every general register, the flags the instruction itself sets, the SSE
 * and AVX registers, and the red zone below the stack pointer. Each check
 * sets known values, runs one instruction that reaches the watched
 * variable `gauge` (or a callee's copy does), and compares afterwards.
 * Prints "ok" and exits 0, or
 * names what changed and exits 1. Run it with watch=gauge. */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

long gauge = 41;

static int failures;

static void check(const char *what, uint64_t got, uint64_t want)
{
    if (got != want) {
        printf("%s: %#lx, expected %#lx\n", what, (unsigned long)got, (unsigned long)want);
        failures++;
    }
}

/* Sets 14 general registers (all but rsp and rbp) to known values, increments gauge
 * (a read and a write), and saves them and the flags. */
static void general_registers(void)
{
    uint64_t out[15];
    __asm__ volatile(
        "push %%rbp\n\t"
        "push %%rbx\n\t"
        "push %0\n\t"
        "mov $0x1111, %%rax\n\t"
        "mov $0x2222, %%rbx\n\t"
        "mov $0x3333, %%rcx\n\t"
        "mov $0x4444, %%rdx\n\t"
        "mov $0x5555, %%rsi\n\t"
        "mov $0x6666, %%rdi\n\t"
        "mov $0x7777, %%r8\n\t"
        "mov $0x8888, %%r9\n\t"
        "mov $0x9999, %%r10\n\t"
        "mov $0xaaaa, %%r11\n\t"
        "mov $0xbbbb, %%r12\n\t"
        "mov $0xcccc, %%r13\n\t"
        "mov $0xdddd, %%r14\n\t"
        "mov $0xeeee, %%r15\n\t"
        "mov $0xfefe, %%rbp\n\t"
        "addq $1, gauge(%%rip)\n\t"             /* watched: 41 + 1 = 42, flags of a nonzero result */
        "pushfq\n\t"
        "xchg %%rax, 8(%%rsp)\n\t"              /* rax <-> the saved out pointer */
        "pop %%rbx\n\t"                         /* flags in rbx ... */
        "mov %%rbx, 112(%%rax)\n\t"
        "pop %%rbx\n\t"                         /* the program's rax */
        "mov %%rbx, 0(%%rax)\n\t"
        "mov %%rcx, 8(%%rax)\n\t"
        "mov %%rdx, 16(%%rax)\n\t"
        "mov %%rsi, 24(%%rax)\n\t"
        "mov %%rdi, 32(%%rax)\n\t"
        "mov %%r8, 40(%%rax)\n\t"
        "mov %%r9, 48(%%rax)\n\t"
        "mov %%r10, 56(%%rax)\n\t"
        "mov %%r11, 64(%%rax)\n\t"
        "mov %%r12, 72(%%rax)\n\t"
        "mov %%r13, 80(%%rax)\n\t"
        "mov %%r14, 88(%%rax)\n\t"
        "mov %%r15, 96(%%rax)\n\t"
        "mov %%rbp, 104(%%rax)\n\t"
        "pop %%rbx\n\t"
        "pop %%rbp\n\t"
        : : "r"(out) : "rax", "rcx", "rdx", "rsi", "rdi", "r8", "r9", "r10", "r11", "r12", "r13",
          "r14", "r15", "memory", "cc");
    static const char *const names[] = { "rax", "rcx", "rdx", "rsi", "rdi", "r8", "r9", "r10", "r11",
                                         "r12", "r13", "r14", "r15", "rbp" };
    static const uint64_t want[] = { 0x1111, 0x3333, 0x4444, 0x5555, 0x6666, 0x7777, 0x8888, 0x9999,
                                     0xaaaa, 0xbbbb, 0xcccc, 0xdddd, 0xeeee, 0xfefe };
    for (int i = 0; i < 14; i++)
        check(names[i], out[i], want[i]);
    /* ZF and SF clear (42), CF clear */
    check("flags (CF ZF SF)", out[14] & 0xc1, 0);
    check("gauge", (uint64_t)gauge, 42);
}

/* The flags a watched compare sets are the ones the branch after it sees. */
static void flags_of_the_instruction(void)
{
    unsigned char equal, below;
    gauge = 7;
    __asm__ volatile("cmpq $7, gauge(%%rip)\n\tsete %0" : "=r"(equal) : : "cc");
    __asm__ volatile("cmpq $8, gauge(%%rip)\n\tsetb %0" : "=r"(below) : : "cc");
    check("ZF after cmp equal", equal, 1);
    check("CF after cmp below", below, 1);
}

/* Vector registers live across the access. */
static void vector_registers(void)
{
    uint64_t before[4] = { 0x0123456789abcdefull, 0xfedcba9876543210ull, 0x1122334455667788ull,
                           0x99aabbccddeeff00ull };
    uint64_t after[4] = { 0 };
    __asm__ volatile(
        "vmovdqu (%0), %%ymm7\n\t"
        "vmovdqu (%0), %%ymm15\n\t"
        "movq gauge(%%rip), %%rax\n\t"          /* watched read */
        "vmovdqu %%ymm7, (%1)\n\t"
        "vpxor %%ymm15, %%ymm7, %%ymm7\n\t"
        "vptest %%ymm7, %%ymm7\n\t"
        "jz 1f\n\t"
        "movq $0, (%1)\n\t"
        "1: vzeroupper\n\t"
        : : "r"(before), "r"(after) : "rax", "xmm7", "xmm15", "memory", "cc");
    for (int i = 0; i < 4; i++)
        check("ymm7", after[i], before[i]);
}

/* With AVX-512: the upper registers and a mask register (the C library's
 * string functions use both). */
static void avx512_registers(void)
{
    if (!__builtin_cpu_supports("avx512bw"))
        return;
    uint64_t before[8] = { 1, 2, 3, 4, 5, 6, 7, 0x8888888888888888ull };
    uint64_t after[8] = { 0 };
    uint64_t mask = 0;
    __asm__ volatile(
        "vmovdqu64 (%1), %%zmm31\n\t"
        "movabs $0x0123456789abcdef, %%rax\n\t"
        "kmovq %%rax, %%k3\n\t"
        "movq gauge(%%rip), %%rax\n\t"         /* watched read */
        "vmovdqu64 %%zmm31, (%2)\n\t"
        "kmovq %%k3, %0\n\t"
        "vzeroupper\n\t"
        : "=r"(mask) : "r"(before), "r"(after) : "rax", "memory");
    for (int i = 0; i < 8; i++)
        check("zmm31", after[i], before[i]);
    check("k3", mask, 0x0123456789abcdefull);
}

/* A leaf function's data below the stack pointer survives. */
static void red_zone(void)
{
    uint64_t got;
    __asm__ volatile(
        "movq $0x5a5a5a5a, -8(%%rsp)\n\t"
        "movq $0x7b7b7b7b, -120(%%rsp)\n\t"
        "movq %%rax, gauge(%%rip)\n\t"          /* watched write */
        "movq -8(%%rsp), %0\n\t"
        "addq -120(%%rsp), %0\n\t"
        : "=r"(got) : "a"(9L) : "memory");
    check("red zone", got, 0x5a5a5a5aull + 0x7b7b7b7bull);
    check("gauge after write", (uint64_t)gauge, 9);
}

/* The same through a callee's copy: poke(&gauge, out) gets the pointer
 * in rdi, sets the other registers, increments *p (watched, between the
 * calls to lockrace), compares what follows gauge in memory (reached
 * through the same pointer, not watched: turned away before any call),
 * and saves the registers and the flags of that compare; then it calls
 * a function, which returns to the original (what follows runs there). */
void poke(long *p, uint64_t *out);
__asm__(".text\n"
        ".globl poke\n"
        ".type poke, @function\n"
        "poke:\n\t"
        "push %rbp\n\t"
        "push %rbx\n\t"
        "push %r12\n\t"
        "push %r13\n\t"
        "push %r14\n\t"
        "push %r15\n\t"
        "push %rsi\n\t"                       /* out */
        "mov $0x1111, %rax\n\t"
        "mov $0x2222, %rbx\n\t"
        "mov $0x3333, %rcx\n\t"
        "mov $0x4444, %rdx\n\t"
        "mov $0x5555, %rsi\n\t"
        "mov $0x7777, %r8\n\t"
        "mov $0x8888, %r9\n\t"
        "mov $0x9999, %r10\n\t"
        "mov $0xaaaa, %r11\n\t"
        "mov $0xbbbb, %r12\n\t"
        "mov $0xcccc, %r13\n\t"
        "mov $0xdddd, %r14\n\t"
        "mov $0xeeee, %r15\n\t"
        "mov $0xfefe, %rbp\n\t"
        "movq $0x5a5a5a5a, -64(%rsp)\n\t"     /* the red zone */
        "addq $1, (%rdi)\n\t"                  /* watched, in the copy */
        "cmpq $0, 0x100000(%rdi)\n\t"          /* not watched: turned away */
        "pushfq\n\t"
        "push %rax\n\t"
        "mov 16(%rsp), %rax\n\t"               /* out */
        "pop 0(%rax)\n\t"
        "pop 112(%rax)\n\t"                     /* the flags */
        "mov %rbx, 120(%rax)\n\t"
        "mov %rcx, 8(%rax)\n\t"
        "mov %rdx, 16(%rax)\n\t"
        "mov %rsi, 24(%rax)\n\t"
        "mov %r8, 40(%rax)\n\t"              /* not rdi: storing the pointer is an escape */
        "mov %r9, 48(%rax)\n\t"
        "mov %r10, 56(%rax)\n\t"
        "mov %r11, 64(%rax)\n\t"
        "mov %r12, 72(%rax)\n\t"
        "mov %r13, 80(%rax)\n\t"
        "mov %r14, 88(%rax)\n\t"
        "mov %r15, 96(%rax)\n\t"
        "mov %rbp, 104(%rax)\n\t"
        "mov -64(%rsp), %rbx\n\t"              /* the red zone */
        "mov %rbx, 128(%rax)\n\t"
        "call poke_after\n\t"
        "pop %rsi\n\t"
        "mov %rax, 136(%rsi)\n\t"
        "pop %r15\n\t"
        "pop %r14\n\t"
        "pop %r13\n\t"
        "pop %r12\n\t"
        "pop %rbx\n\t"
        "pop %rbp\n\t"
        "ret\n\t"
        ".size poke, .-poke\n");

__attribute__((noinline, used)) long poke_after(void)
{
    return 0x600d;
}

/* 1 MiB past gauge, where poke compares: mapped memory of the program */
static char past_gauge[2 << 20] __attribute__((used));

static void callee_registers(void)
{
    uint64_t out[18] = { 0 };
    gauge = 41;
    poke(&gauge, out);
    static const char *const names[] = { "rax", "rcx", "rdx", "rsi", "rdi", "r8", "r9", "r10", "r11",
                                         "r12", "r13", "r14", "r15", "rbp" };
    static const uint64_t want[] = { 0x1111, 0x3333, 0x4444, 0x5555, 0, 0x7777, 0x8888, 0x9999, 0xaaaa,
                                     0xbbbb, 0xcccc, 0xdddd, 0xeeee, 0xfefe };
    for (int i = 0; i < 14; i++)
        if (i != 4)
            check(names[i], out[i], want[i]);
    check("rbx", out[15], 0x2222);
    check("flags of the callee's compare (ZF)", out[14] & 0x40, 0x40);
    check("red zone in the callee", out[16], 0x5a5a5a5a);
    check("the callee's call returned", out[17], 0x600d);
    check("gauge after the callee", (uint64_t)gauge, 42);
}

int main(void)
{
    general_registers();
    callee_registers();
    flags_of_the_instruction();
    vector_registers();
    avx512_registers();
    red_zone();
    if (failures)
        return 1;
    puts("ok");
    return 0;
}
