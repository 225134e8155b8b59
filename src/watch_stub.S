/* The two calls a watch trampoline makes around a relocated instruction
 * (src/watch.c). The trampoline has stepped over the red zone and pushed
 * the patch number; a stub saves everything the program could have live at
 * that instruction (flags, every general register, the whole extended state
 * with XSAVEC: C code and the C library it calls use SSE, AVX and AVX-512
 * registers),
 * calls lr_watch_pre or lr_watch_post(patch, registers) and restores it all.
 *
 * The registers are handed over as an array, in the order pushed below:
 *   r15 r14 r13 r12 r11 r10 r9 r8 rdi rsi rbp rbx rdx rcx rax rflags,
 * then the return address into the trampoline and the patch number. */

        .text

        .globl  lr_watch_stub_pre
        .hidden lr_watch_stub_pre
        .type   lr_watch_stub_pre, @function
lr_watch_stub_pre:
        pushfq
        pushq   %rax
        leaq    lr_watch_pre(%rip), %rax
        jmp     .Lsave
        .size   lr_watch_stub_pre, .-lr_watch_stub_pre

        .globl  lr_watch_stub_post
        .hidden lr_watch_stub_post
        .type   lr_watch_stub_post, @function
lr_watch_stub_post:
        pushfq
        pushq   %rax
        leaq    lr_watch_post(%rip), %rax
        jmp     .Lsave
        .size   lr_watch_stub_post, .-lr_watch_stub_post

        .type   lr_watch_stub_common, @function
lr_watch_stub_common:
.Lsave:
        pushq   %rcx
        pushq   %rdx
        pushq   %rbx
        pushq   %rbp
        pushq   %rsi
        pushq   %rdi
        pushq   %r8
        pushq   %r9
        pushq   %r10
        pushq   %r11
        pushq   %r12
        pushq   %r13
        pushq   %r14
        pushq   %r15
        cld
        movq    %rax, %r12                      /* the C function */
        movq    %rsp, %rbx                      /* the register array */
        movq    %rsp, %rbp
        subq    lr_watch_xsave_size(%rip), %rsp
        andq    $-64, %rsp
        xorl    %eax, %eax                      /* XRSTOR wants the header's reserved bytes zero */
        movq    %rax, 512(%rsp)
        movq    %rax, 520(%rsp)
        movq    %rax, 528(%rsp)
        movq    %rax, 536(%rsp)
        movq    %rax, 544(%rsp)
        movq    %rax, 552(%rsp)
        movq    %rax, 560(%rsp)
        movq    %rax, 568(%rsp)
        movl    $-1, %eax
        movl    $-1, %edx
        xsavec64 (%rsp)
        movl    136(%rbx), %edi                 /* the patch number, above the return address */
        movq    %rbx, %rsi
        call    *%r12
        movl    $-1, %eax
        movl    $-1, %edx
        xrstor64 (%rsp)
        movq    %rbp, %rsp
        popq    %r15
        popq    %r14
        popq    %r13
        popq    %r12
        popq    %r11
        popq    %r10
        popq    %r9
        popq    %r8
        popq    %rdi
        popq    %rsi
        popq    %rbp
        popq    %rbx
        popq    %rdx
        popq    %rcx
        popq    %rax
        popfq
        ret
        .size   lr_watch_stub_common, .-lr_watch_stub_common

        .section .note.GNU-stack,"",@progbits
