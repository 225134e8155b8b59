/* What the watch engine's files share (inside src/watch/ only): the
 * variables watched, the instructions rewritten, the loaded objects, the
 * disassembler, and the entry points of the stubs (watch_stub.S). How it
 * works: watch.c. */
#ifndef LR_WATCH_INTERNAL_H
#define LR_WATCH_INTERNAL_H

#include "support/ilock.h"

#include <capstone/capstone.h>
#include <gelf.h>
#include <link.h>
#include <stddef.h>
#include <stdint.h>

/* watch=* on a big program: patch.var is 16 bits */
#define MAX_VARS 16384
#define MAX_PATCHES 65536
#define CALL_SIZE 24            /* emit_call's bytes */
#define REGION_HEADER 64        /* the addresses of the two stubs, the variables' bounds */
#define KNOWN_OBJECTS 4         /* watch_var.objects */

typedef struct watch_var {
    uintptr_t lo, hi;
    uintptr_t sym_lo, sym_hi;   /* the whole variable it is part of (a struct's member) */
    /* NAME->MEMBER: the address of the pointer variable NAME, and the
     * member's bytes in the object it points to, [*through + off, + len)
     * when an access runs; lo, hi, sym_lo and sym_hi are 0 (not in the
     * index: no static address is in it). 0 for every other variable. */
    uintptr_t through, off, len;
    /* the objects (their member's address) last handed to the race engine,
     * under lock: a pointer moved back to one of them (a double buffer)
     * finds its history kept */
    uintptr_t objects[KNOWN_OBJECTS];
    uint32_t next_object;
    char name[96];
    int unnamed;                /* found by a glob: reports name it from the debug information */
    int atomic;                 /* some instruction on it is lock-prefixed */
    uint32_t escapes;           /* places its address goes where lockrace does not follow */
    uintptr_t escape_at;        /* the first of them */
    uint32_t followed;          /* calls that pass its address to a callee's copy (callee.c) */
    lr_ilock lock;              /* orders every watched access of it */
} watch_var;

typedef struct patch {
    uintptr_t insn;             /* the instruction in the program */
    uintptr_t addr;             /* the bytes of the variable it reaches (static address) */
    uint32_t size;
    uint16_t var;
    uint8_t read, write, atomic;
    /* an address computed from registers (a pointer to the variable loaded
     * from the GOT or by lea): base + index * scale + disp, the registers
     * as indexes in the stubs' array, -1 none */
    uint8_t dynamic, scale;
    int8_t base, index;
    int64_t disp;
    /* in a callee's copy: whichever watched variable the address falls in
     * when it runs, if any (var is only the first one passed) */
    uint8_t any;
    /* found by following the pointer over the function's branches
     * (flow.c): any too, counted as var's */
    uint8_t flow;
} patch;

/* The watched variables (vars.c) and the rewritten instructions (watch.c). */
extern watch_var *lr_watch_vars;
extern int lr_watch_nvars;
extern patch *lr_watch_patches;
extern uint32_t lr_watch_npatches;

/* ---- the loaded objects (names.c) ---- */

#define MAX_OBJECTS 256
#define MAX_SEGMENTS 8

typedef struct object {
    char path[256];
    uintptr_t base;             /* load bias */
    uintptr_t lo, hi;           /* the mapped range */
    uintptr_t code_lo[MAX_SEGMENTS], code_hi[MAX_SEGMENTS];     /* its executable segments */
    int ncode;
    uintptr_t data_lo[MAX_SEGMENTS], data_hi[MAX_SEGMENTS];     /* its writable ones (the GOT) */
    int ndata;
    uintptr_t eh_frame_hdr;     /* its unwind table's index, 0 if none */
    uintptr_t relro_lo, relro_hi;   /* read-only once relocated (PT_GNU_RELRO) */
    int skip;                   /* the C library, the dynamic linker, lockrace itself */
} object;

extern object lr_watch_objects[MAX_OBJECTS];
extern int lr_watch_nobjects;

/* One open ELF file and its symbol table (.symtab, else .dynsym). */
typedef struct elf_file {
    int fd;
    Elf *elf;
    Elf_Data *syms;
    size_t nsyms, strndx;
} elf_file;


/* ---- the disassembler, loaded only when something is watched (decode.c) ---- */

typedef struct lr_watch_capstone {
    cs_err (*open)(cs_arch, cs_mode, csh *);
    cs_err (*option)(csh, cs_opt_type, size_t);
    cs_insn *(*malloc)(csh);
    bool (*disasm_iter)(csh, const uint8_t **, size_t *, uint64_t *, cs_insn *);
    void (*free)(cs_insn *, size_t);
    cs_err (*close)(csh *);
    bool (*insn_group)(csh, const cs_insn *, unsigned int);
    cs_err (*regs_access)(csh, const cs_insn *, cs_regs, uint8_t *, cs_regs, uint8_t *);
} lr_watch_capstone;
extern lr_watch_capstone lr_watch_cs;


/* ---- instructions found (decode.c) and rewritten (patch.c) ---- */

/* A run of instructions moved to a trampoline: one that reaches the
 * variable RIP-relatively, or a pointer to it loaded (from the GOT, or by
 * lea) and the instructions after it that go through the pointer. The
 * first becomes the jump; the others are never run in place. */
#define MAX_SEQ 8

typedef struct seq_insn {
    uint8_t bytes[16];
    uint8_t len, disp_offset;   /* disp_offset 0: not RIP-relative */
    uintptr_t target;           /* where a RIP-relative operand points */
    uint8_t use;                /* a watched access, p filled */
    uint8_t lea[12], lea_len;   /* a dynamic one: `lea ADDRESS, %rax` to turn away fast (0: none) */
    patch p;
} seq_insn;

typedef struct candidate {
    uintptr_t insn, end;
    int n;
    seq_insn in[MAX_SEQ];
    uint8_t jump[16];           /* what replaces the first */
    uint8_t ready;
} candidate;

typedef struct addr_list {
    uintptr_t *v;
    size_t n, cap;
} addr_list;

/* A function that receives a pointer to a watched variable in an argument
 * register from a direct call: copied whole, each access that may go
 * through the pointer between calls to the stubs (patch.any), and the
 * calls that pass the pointer re-aimed at the copy. Other callers keep
 * calling the original, untouched. */
#define MAX_CLONE_BYTES 4096
#define MAX_CLONE_INSNS 1024
#define MAX_CLONE_DEPTH 3       /* the callee, its callees, theirs */

/* A call in a copy returns to the original function, just after the
 * call: the return address on the stack is the program's, so exceptions,
 * pthread_cancel and backtraces unwind through it (the copy has no unwind
 * table). What follows a call thus runs unwatched. A direct call that
 * passes the pointer on goes to the callee's copy (MAX_CLONE_DEPTH). Such
 * a call is a push and a jump: a CET shadow stack, which no glibc of
 * Debian 12 enables, would refuse the callee's return. */
enum { BR_NONE, BR_JMP, BR_JCC, BR_CALL, BR_ICALL };

typedef struct clone_insn {
    uintptr_t addr;
    uint8_t bytes[16];
    uint8_t len, disp_offset;   /* disp_offset 0: not RIP-relative */
    uint8_t branch, cc;         /* BR_*; a jcc's condition, an indirect call's ModRM byte */
    uintptr_t target;           /* a branch's or a RIP-relative operand's */
    uint8_t use;
    uint8_t lea[12], lea_len;   /* patch.any: `lea ADDRESS, %rax` to turn away fast (0: no fast path) */
    unsigned pass;              /* a direct call: the argument registers that hold the pointer */
    int sub;                    /* such a call into another copy: its number + 1; 0 none */
    patch p;
} clone_insn;

typedef struct clone_fn {
    uintptr_t fn, end;
    unsigned seeds;             /* the argument registers that hold the pointer on entry */
    int ok;                     /* 0: cannot be copied (escape_at says where) */
    int done;                   /* analysed, its calls' callees too */
    int uses;                   /* its accesses that may go through the pointer */
    uintptr_t escape_at;        /* where the pointer goes further than the copy follows, 0 none */
    int n;
    clone_insn *in;
    uint8_t *at;                /* where the copy goes (patch.c) */
    int written;                /* 0: at holds only a jump to the original */
} clone_fn;

typedef struct follow {
    uintptr_t call;             /* the call (e8) or tail jump (e9) re-aimed */
    uint8_t op;
    int clone;
} follow;

typedef struct scan {
    candidate *c;
    uint32_t n, cap;
    clone_fn *clones;
    int nclones, clones_cap;
    follow *follows;
    int nfollows, follows_cap;
    const uintptr_t *starts;    /* the functions' first addresses, sorted */
    size_t nstarts;
    /* the function being scanned (pass 2), in address order: the registers
     * that may hold a pointer to a watched variable somewhere in it and
     * which variable, and the argument registers that hold one now */
    unsigned held, args;
    int held_var[16];
    /* pointer loads in this function whose register outlives the
     * straight line after them (kept across a call or a branch, copied,
     * moved along): followed over the whole function at its end (flow.c) */
#define MAX_SEEDS 32
    struct seed {
        int var;
        uintptr_t at;
        int8_t reg;
    } seeds[MAX_SEEDS];
    int nseeds;
    uintptr_t fn_start;         /* the function being scanned */
    addr_list targets;          /* direct branch targets in the object, sorted after pass 1 */
    addr_list indirect;         /* the functions (starts) with an indirect jump, sorted */
    const object *o;
    int has_indirect;           /* the function being scanned has one */
} scan;


/* ---- the jobs, file by file ---- */

/* Registers by their index in the stubs' array (lr_watch_gpr). */
#define LR_REG_BIT(i) (1u << (i))
#define LR_CALLEE_SAVED (LR_REG_BIT(0) | LR_REG_BIT(1) | LR_REG_BIT(2) | LR_REG_BIT(3) | LR_REG_BIT(10) | \
                         LR_REG_BIT(11))        /* r15 r14 r13 r12 rbp rbx */
#define LR_ARGUMENTS (LR_REG_BIT(8) | LR_REG_BIT(9) | LR_REG_BIT(12) | LR_REG_BIT(13) | LR_REG_BIT(7) | \
                      LR_REG_BIT(6))            /* rdi rsi rdx rcx r8 r9 */

/* decode.c */ const char *lr_watch_capstone_name(void);
/* decode.c */ int lr_watch_load_capstone(void);
/* decode.c */ void lr_watch_scan_object(const object *o, scan *s);
/* what decode.c and callee.c share: instructions read with Capstone's details */
/* decode.c */ int lr_watch_addr_in(const addr_list *l, uintptr_t a);       /* a sorted list */
/* decode.c */ long lr_watch_sorted_index(const uintptr_t *v, size_t n, uintptr_t a);   /* -1: absent */
/* decode.c */ uintptr_t lr_watch_code_end(const object *o, uintptr_t addr);    /* 0: not code */
/* decode.c */ int lr_watch_gpr(unsigned reg);      /* index in the stubs' array, -1 */
/* decode.c */ int lr_watch_control_transfer(csh h, const cs_insn *insn);
/* decode.c */ int lr_watch_uses_stack(const cs_insn *insn);
/* decode.c */ void lr_watch_copy_insn(seq_insn *si, const cs_insn *insn);
/* decode.c */ void lr_watch_fill_patch(patch *p, const cs_insn *insn, const cs_x86_op *op, int var);
/* decode.c */ const cs_x86_op *lr_watch_accessed(const cs_insn *insn);
/* decode.c */ int lr_watch_pointer_load(const cs_insn *insn, const object *o, int *reg, uintptr_t *pointer);
/* decode.c */ int lr_watch_through_load(const cs_insn *insn, int *reg, uintptr_t *pointer);
/* decode.c */ int lr_watch_any_pointer_load(const cs_insn *insn, const object *o, int *reg, uintptr_t *pointer);
/* decode.c */ void lr_watch_escape(int var, uintptr_t at);
/* callee.c */ int lr_watch_callee_sees(csh h, scan *s, const cs_insn *call, unsigned seeds);
/* callee.c */ void lr_watch_follow_calls(csh h, const cs_insn *insn, scan *s);
/* callee.c */ int lr_watch_follow_call(csh h, scan *s, const cs_insn *call, unsigned args, int var);
/* callee.c */ int lr_watch_address_lea(const cs_insn *insn, uint8_t *out);
/* decode.c */ candidate *lr_watch_new_candidate(scan *s);
/* flow.c */ void lr_watch_flow_seed(scan *s, int var, uintptr_t at, int reg);
/* flow.c */ void lr_watch_flow(csh h, scan *s, uintptr_t start, size_t size, uint32_t first_candidate);
/* vars.c */ watch_var *lr_watch_new_var(void);     /* the next slot (count it), NULL: full */
/* vars.c */ int lr_watch_index(void);              /* after the last variable; -1 out of memory */
/* vars.c */ int lr_watch_var_at(uintptr_t a, uintptr_t size);  /* lowest overlapping [a, a+size), -1 */
/* vars.c */ int lr_watch_symbol_at(uintptr_t a);   /* lowest whose whole symbol holds a, -1 */
/* vars.c */ int lr_watch_var_running(uintptr_t a, uintptr_t size);   /* the same, on an access */
/* vars.c */ void lr_watch_bounds(uintptr_t *lo, uintptr_t *hi);   /* what all of them lie in */
/* vars.c */ int lr_watch_through_var(uintptr_t pointer);  /* lowest NAME->MEMBER whose NAME is there, -1 */
/* vars.c */ int lr_watch_through_at(uintptr_t pointer, int64_t disp, uint32_t size);  /* ... whose member [disp, +size) overlaps */
/* names.c */ const char *lr_watch_base_name(const char *path);
/* names.c */ int lr_watch_add_item(const char *item, char *err, size_t errlen);
/* names.c */ int lr_watch_collect_object(struct dl_phdr_info *info, size_t size, void *data);
/* names.c */ int lr_watch_elf_open(const char *path, elf_file *ef);
/* names.c */ void lr_watch_elf_close(elf_file *ef);
/* patch.c */ void lr_watch_rewrite(const object *o, scan *s, int mem, char *err, size_t errlen);

/* read by the stubs */
extern int lr_watch_vector_mode __attribute__((visibility("hidden")));   /* watch.c */
void lr_watch_stub_pre(void) __attribute__((visibility("hidden")));
void lr_watch_stub_post(void) __attribute__((visibility("hidden")));
void lr_watch_pre(uint32_t k, uint64_t *regs) __attribute__((visibility("hidden"), used));
void lr_watch_post(uint32_t k, uint64_t *regs) __attribute__((visibility("hidden"), used));

#endif
