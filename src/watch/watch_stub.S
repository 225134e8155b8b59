/* The two calls a watch trampoline makes around a relocated instruction
 * (src/watch/watch.c). The trampoline has stepped over the red zone and pushed
 * the patch number; a stub saves everything the program could have live at
 * that instruction (flags, every general register, and the vector registers:
 * C code and the C library it calls use SSE, AVX and AVX-512 registers, and
 * the string functions AVX-512 mask registers),
 * calls lr_watch_pre or lr_watch_post(patch, registers) and restores it all.
 *
 * The vector registers are moved one by one, as wide as the processor has
 * them (lr_watch_vector_mode: 0 xmm0-15, 1 ymm0-15, 2 zmm0-31 and 16-bit
 * masks, 3 zmm0-31 and 64-bit masks): 13 ns here, where XSAVEC and XRSTOR
 * of the same state take 256 ns. The x87 stack and control words are not
 * saved: lockrace does no long double arithmetic.
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
        subq    $2176, %rsp                     /* 32 x 64 bytes of vector registers, 8 masks */
        andq    $-64, %rsp
        movl    lr_watch_vector_mode(%rip), %eax
        cmpl    $1, %eax
        je      .Lsave_ymm
        ja      .Lsave_zmm
        .irp    i, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15
        movdqu  %xmm\i, \i*16(%rsp)
        .endr
        jmp     .Lcall
.Lsave_ymm:
        .irp    i, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15
        vmovdqu %ymm\i, \i*32(%rsp)
        .endr
        jmp     .Lcall
.Lsave_zmm:
        .irp    i, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31
        vmovdqu64 %zmm\i, \i*64(%rsp)
        .endr
        cmpl    $3, %eax
        je      .Lsave_k64
        .irp    i, 0,1,2,3,4,5,6,7
        kmovw   %k\i, 2048+\i*8(%rsp)
        .endr
        jmp     .Lcall
.Lsave_k64:
        .irp    i, 0,1,2,3,4,5,6,7
        kmovq   %k\i, 2048+\i*8(%rsp)
        .endr
.Lcall:
        movl    136(%rbx), %edi                 /* the patch number, above the return address */
        movq    %rbx, %rsi
        call    *%r12
        movl    lr_watch_vector_mode(%rip), %eax
        cmpl    $1, %eax
        je      .Lload_ymm
        ja      .Lload_zmm
        .irp    i, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15
        movdqu  \i*16(%rsp), %xmm\i
        .endr
        jmp     .Lrestored
.Lload_ymm:
        .irp    i, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15
        vmovdqu \i*32(%rsp), %ymm\i
        .endr
        jmp     .Lrestored
.Lload_zmm:
        .irp    i, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31
        vmovdqu64 \i*64(%rsp), %zmm\i
        .endr
        cmpl    $3, %eax
        je      .Lload_k64
        .irp    i, 0,1,2,3,4,5,6,7
        kmovw   2048+\i*8(%rsp), %k\i
        .endr
        jmp     .Lrestored
.Lload_k64:
        .irp    i, 0,1,2,3,4,5,6,7
        kmovq   2048+\i*8(%rsp), %k\i
        .endr
.Lrestored:
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
