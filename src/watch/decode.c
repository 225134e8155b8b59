/* Finding the instructions that reach a watched variable: every function
 * of the lr_watch_objects concerned disassembled (Capstone, loaded at run time),
 * direct RIP-relative accesses and runs through a pointer loaded to the
 * variable, with the branch targets that forbid moving a run. Calls that
 * pass the pointer on: callee.c; a pointer that outlives the straight
 * line: flow.c. */
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

lr_watch_capstone lr_watch_cs;

/* LOCKRACE_CAPSTONE names another build of the library (never in a
 * set-uid program: lr_getenv). */
const char *lr_watch_capstone_name(void)
{
    const char *name = lr_getenv("LOCKRACE_CAPSTONE");
    return name && name[0] ? name : "libcapstone.so.4";
}

int lr_watch_load_capstone(void)
{
    void *h = dlopen(lr_watch_capstone_name(), RTLD_NOW | RTLD_LOCAL);
    if (!h)
        return -1;
    lr_watch_cs.open = (cs_err (*)(cs_arch, cs_mode, csh *))dlsym(h, "cs_open");
    lr_watch_cs.option = (cs_err (*)(csh, cs_opt_type, size_t))dlsym(h, "cs_option");
    lr_watch_cs.malloc = (cs_insn *(*)(csh))dlsym(h, "cs_malloc");
    lr_watch_cs.disasm_iter = (bool (*)(csh, const uint8_t **, size_t *, uint64_t *, cs_insn *))
        dlsym(h, "cs_disasm_iter");
    lr_watch_cs.free = (void (*)(cs_insn *, size_t))dlsym(h, "cs_free");
    lr_watch_cs.close = (cs_err (*)(csh *))dlsym(h, "cs_close");
    lr_watch_cs.insn_group = (bool (*)(csh, const cs_insn *, unsigned int))dlsym(h, "cs_insn_group");
    lr_watch_cs.regs_access = (cs_err (*)(csh, const cs_insn *, cs_regs, uint8_t *, cs_regs, uint8_t *))
        dlsym(h, "cs_regs_access");
    return lr_watch_cs.open && lr_watch_cs.option && lr_watch_cs.malloc && lr_watch_cs.disasm_iter && lr_watch_cs.free && lr_watch_cs.close &&
           lr_watch_cs.insn_group && lr_watch_cs.regs_access ? 0 : -1;
}

static int by_value(const void *a, const void *b);

static void addr_push(addr_list *l, uintptr_t a)
{
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 1024;
        uintptr_t *v = realloc(l->v, cap * sizeof *v);
        if (!v)
            return;
        l->v = v;
        l->cap = cap;
    }
    l->v[l->n++] = a;
}

/* a's index in the sorted v[0..n), -1 when it is not there. */
long lr_watch_sorted_index(const uintptr_t *v, size_t n, uintptr_t a)
{
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (v[mid] < a)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < n && v[lo] == a ? (long)lo : -1;
}

/* For a sorted list. */
int lr_watch_addr_in(const addr_list *l, uintptr_t a)
{
    return lr_watch_sorted_index(l->v, l->n, a) >= 0;
}


candidate *lr_watch_new_candidate(scan *s)
{
    if (s->n == s->cap) {
        uint32_t cap = s->cap ? s->cap * 2 : 64;
        candidate *c = realloc(s->c, cap * sizeof *c);
        if (!c)
            return NULL;
        s->c = c;
        s->cap = cap;
    }
    candidate *c = &s->c[s->n++];
    memset(c, 0, sizeof *c);
    return c;
}

/* A general register's index in the stubs' array (watch_stub.S), for any
 * of its names; -1 for the others (rsp, rip, segments). */
int lr_watch_gpr(unsigned reg)
{
    switch (reg) {
    case X86_REG_R15: case X86_REG_R15D: case X86_REG_R15W: case X86_REG_R15B: return 0;
    case X86_REG_R14: case X86_REG_R14D: case X86_REG_R14W: case X86_REG_R14B: return 1;
    case X86_REG_R13: case X86_REG_R13D: case X86_REG_R13W: case X86_REG_R13B: return 2;
    case X86_REG_R12: case X86_REG_R12D: case X86_REG_R12W: case X86_REG_R12B: return 3;
    case X86_REG_R11: case X86_REG_R11D: case X86_REG_R11W: case X86_REG_R11B: return 4;
    case X86_REG_R10: case X86_REG_R10D: case X86_REG_R10W: case X86_REG_R10B: return 5;
    case X86_REG_R9: case X86_REG_R9D: case X86_REG_R9W: case X86_REG_R9B: return 6;
    case X86_REG_R8: case X86_REG_R8D: case X86_REG_R8W: case X86_REG_R8B: return 7;
    case X86_REG_RDI: case X86_REG_EDI: case X86_REG_DI: case X86_REG_DIL: return 8;
    case X86_REG_RSI: case X86_REG_ESI: case X86_REG_SI: case X86_REG_SIL: return 9;
    case X86_REG_RBP: case X86_REG_EBP: case X86_REG_BP: case X86_REG_BPL: return 10;
    case X86_REG_RBX: case X86_REG_EBX: case X86_REG_BX: case X86_REG_BL: case X86_REG_BH: return 11;
    case X86_REG_RDX: case X86_REG_EDX: case X86_REG_DX: case X86_REG_DL: case X86_REG_DH: return 12;
    case X86_REG_RCX: case X86_REG_ECX: case X86_REG_CX: case X86_REG_CL: case X86_REG_CH: return 13;
    case X86_REG_RAX: case X86_REG_EAX: case X86_REG_AX: case X86_REG_AL: case X86_REG_AH: return 14;
    default: return -1;
    }
}

int lr_watch_control_transfer(csh h, const cs_insn *insn)
{
    return lr_watch_cs.insn_group(h, insn, CS_GRP_JUMP) || lr_watch_cs.insn_group(h, insn, CS_GRP_CALL) ||
           lr_watch_cs.insn_group(h, insn, CS_GRP_RET) || lr_watch_cs.insn_group(h, insn, CS_GRP_INT) ||
           lr_watch_cs.insn_group(h, insn, CS_GRP_IRET) || insn->id == X86_INS_SYSCALL ||
           insn->id == X86_INS_SYSENTER || insn->id == X86_INS_UD2;
}

/* Instructions that move the stack pointer or reach the stack implicitly
 * stay where they are. */
int lr_watch_uses_stack(const cs_insn *insn)
{
    switch (insn->id) {
    case X86_INS_PUSH: case X86_INS_POP: case X86_INS_PUSHF: case X86_INS_POPF: case X86_INS_PUSHFQ:
    case X86_INS_POPFQ: case X86_INS_ENTER: case X86_INS_LEAVE:
        return 1;
    default:
        return 0;
    }
}

void lr_watch_copy_insn(seq_insn *si, const cs_insn *insn)
{
    memcpy(si->bytes, insn->bytes, insn->size);
    si->len = (uint8_t)insn->size;
    const cs_x86 *x = &insn->detail->x86;
    for (int i = 0; i < x->op_count; i++)
        if (x->operands[i].type == X86_OP_MEM && x->operands[i].mem.base == X86_REG_RIP) {
            si->disp_offset = x->encoding.disp_offset;
            si->target = (uintptr_t)(insn->address + insn->size + x->operands[i].mem.disp);
        }
}

void lr_watch_fill_patch(patch *p, const cs_insn *insn, const cs_x86_op *op, int var)
{
    const cs_x86 *x = &insn->detail->x86;
    p->insn = (uintptr_t)insn->address;
    p->var = (uint16_t)var;
    p->read = (op->access & CS_AC_READ) != 0;
    p->write = (op->access & CS_AC_WRITE) != 0;
    p->atomic = x->prefix[0] == X86_PREFIX_LOCK || insn->id == X86_INS_XCHG;
    if (p->atomic)
        lr_watch_vars[var].atomic = 1;
}

/* The memory operand an instruction accesses (not lea's address), NULL if none. */
const cs_x86_op *lr_watch_accessed(const cs_insn *insn)
{
    const cs_x86 *x = &insn->detail->x86;
    if (insn->id == X86_INS_LEA || insn->id == X86_INS_NOP)
        return NULL;
    for (int i = 0; i < x->op_count; i++)
        if (x->operands[i].type == X86_OP_MEM && (x->operands[i].access & (CS_AC_READ | CS_AC_WRITE)))
            return &x->operands[i];
    return NULL;
}

/* An instruction that reaches a watched variable RIP-relatively. */
static void consider_direct(csh h, const cs_insn *insn, scan *s)
{
    const cs_x86_op *op = lr_watch_accessed(insn);
    if (!op || op->mem.base != X86_REG_RIP || op->mem.index != X86_REG_INVALID ||
        op->mem.segment != X86_REG_INVALID)
        return;
    uintptr_t target = (uintptr_t)(insn->address + insn->size + op->mem.disp);
    int var = lr_watch_var_at(target, op->size ? op->size : 1);
    if (var < 0 || lr_watch_control_transfer(h, insn) || lr_watch_uses_stack(insn) ||
        insn->detail->x86.encoding.disp_size != 4 || insn->size < 5)
        return;
    candidate *c = lr_watch_new_candidate(s);
    if (!c)
        return;
    c->insn = (uintptr_t)insn->address;
    c->end = c->insn + insn->size;
    c->n = 1;
    seq_insn *si = &c->in[0];
    lr_watch_copy_insn(si, insn);
    si->use = 1;
    lr_watch_fill_patch(&si->p, insn, op, var);
    watch_var *v = &lr_watch_vars[var];
    uintptr_t lo = target > v->lo ? target : v->lo;
    uintptr_t hi = target + op->size < v->hi ? target + op->size : v->hi;
    si->p.addr = lo;
    si->p.size = (uint32_t)(hi - lo);
}

/* A pointer into a watched variable (or the struct it is a member of) put
 * in a register RIP-relatively:
 * `mov var@GOTPCREL(%rip), %reg` (the GOT slot already holds the
 * address) or `lea var(%rip), %reg`. Returns the variable, -1 if none. */
int lr_watch_pointer_load(const cs_insn *insn, const object *o, int *reg, uintptr_t *pointer)
{
    const cs_x86 *x = &insn->detail->x86;
    if ((insn->id != X86_INS_MOV && insn->id != X86_INS_LEA) || x->op_count != 2 ||
        x->operands[0].type != X86_OP_REG || x->operands[0].size != 8 ||
        x->operands[1].type != X86_OP_MEM || x->operands[1].mem.base != X86_REG_RIP ||
        x->operands[1].mem.index != X86_REG_INVALID || x->operands[1].mem.segment != X86_REG_INVALID ||
        x->encoding.disp_size != 4 || insn->size < 5)
        return -1;
    *reg = lr_watch_gpr(x->operands[0].reg);
    if (*reg < 0)
        return -1;
    uintptr_t a = (uintptr_t)(insn->address + insn->size + x->operands[1].mem.disp);
    if (insn->id == X86_INS_MOV) {
        if (a < o->lo || a + 8 > o->hi || (a & 7))
            return -1;
        a = *(const uintptr_t *)a;
    }
    *pointer = a;
    /* into the whole variable: `lea stats(%rip)` then 8(%reg) for a member */
    return lr_watch_symbol_at(a);
}

/* A pointer variable's value loaded, for a variable through it
 * (NAME->MEMBER): `mov meter(%rip), %reg`. Returns the first such
 * variable, -1 if none; *pointer is the pointer variable's address. */
int lr_watch_through_load(const cs_insn *insn, int *reg, uintptr_t *pointer)
{
    const cs_x86 *x = &insn->detail->x86;
    if (insn->id != X86_INS_MOV || x->op_count != 2 || x->operands[0].type != X86_OP_REG ||
        x->operands[0].size != 8 || x->operands[1].type != X86_OP_MEM || x->operands[1].mem.base != X86_REG_RIP ||
        x->operands[1].mem.index != X86_REG_INVALID || x->operands[1].mem.segment != X86_REG_INVALID ||
        x->encoding.disp_size != 4 || insn->size < 5)
        return -1;
    if ((*reg = lr_watch_gpr(x->operands[0].reg)) < 0)
        return -1;
    *pointer = (uintptr_t)(insn->address + insn->size + x->operands[1].mem.disp);
    return lr_watch_through_var(*pointer);
}

/* Either: a register that then holds a pointer a watched access may go
 * through (callee.c follows it into calls). */
int lr_watch_any_pointer_load(const cs_insn *insn, const object *o, int *reg, uintptr_t *pointer)
{
    int var = lr_watch_pointer_load(insn, o, reg, pointer);
    return var >= 0 ? var : lr_watch_through_load(insn, reg, pointer);
}

/* The pointer in reg may be used where lockrace does not look: noted on
 * the variable, said once at start (watch.c). */
void lr_watch_escape(int var, uintptr_t at)
{
    watch_var *v = &lr_watch_vars[var];
    if (!v->escapes++ || at < v->escape_at)
        v->escape_at = at;
}

/* insn reads reg other than as the base of a memory operand it accesses:
 * the pointer is stored, copied, compared or offset (`lea 8(%rax),%rax`,
 * an element's address made from it, too). */
static int uses_pointer_otherwise(const cs_insn *insn, int reg)
{
    const cs_x86 *x = &insn->detail->x86;
    for (int i = 0; i < x->op_count; i++) {
        const cs_x86_op *op = &x->operands[i];
        if ((op->type == X86_OP_REG && lr_watch_gpr(op->reg) == reg && (op->access & CS_AC_READ)) ||
            (op->type == X86_OP_MEM && lr_watch_gpr(op->mem.index) == reg) ||
            (op->type == X86_OP_MEM && insn->id == X86_INS_LEA && lr_watch_gpr(op->mem.base) == reg))
            return 1;
    }
    return 0;
}

/* From a pointer load, the instructions that follow it in a straight line
 * while the register still holds the pointer: each access through it is a
 * watched access, its address computed when it runs. The run stops before
 * a branch, a call, a branch target (code can enter there without the
 * pointer load), an instruction that uses the stack, and after one that
 * overwrites the register. through: the register holds the value of the
 * pointer variable at `pointer` (NAME->MEMBER), not `pointer` itself. */
static void consider_pointer(csh h, const cs_insn *load_insn, uintptr_t pointer, int pointed, int reg,
                             int through, scan *s, cs_insn *tmp)
{
    candidate c;
    memset(&c, 0, sizeof c);
    c.insn = (uintptr_t)load_insn->address;
    lr_watch_copy_insn(&c.in[0], load_insn);
    c.n = 1;
    int uses = 0, last_use = 0;
    const uint8_t *code = (const uint8_t *)(load_insn->address + load_insn->size);
    uint64_t address = load_insn->address + load_insn->size;
    size_t size = 15 * MAX_SEQ;
    int clobbered = 0, escaped = 0;
    const cs_insn *stop = NULL;
    while (c.n < MAX_SEQ && lr_watch_cs.disasm_iter(h, &code, &size, &address, tmp)) {
        if (lr_watch_control_transfer(h, tmp) || lr_watch_uses_stack(tmp) || lr_watch_addr_in(&s->targets, (uintptr_t)tmp->address) ||
            lr_watch_code_end(s->o, (uintptr_t)tmp->address) == 0) {
            stop = tmp;
            break;
        }
        if (uses_pointer_otherwise(tmp, reg))
            escaped = 1;
        const cs_x86_op *op = lr_watch_accessed(tmp);
        seq_insn *si = &c.in[c.n];
        lr_watch_copy_insn(si, tmp);
        if (si->disp_offset && tmp->detail->x86.encoding.disp_size != 4)
            break;
        int var = -1;
        uint32_t opsize = op && op->size ? op->size : 1;
        if (op && lr_watch_gpr(op->mem.base) == reg && op->mem.segment == X86_REG_INVALID) {
            /* no index: the address is known now; an index: any element of
             * the variable the pointer is in may be reached (pre checks) */
            if (op->mem.index == X86_REG_INVALID)
                var = through ? lr_watch_through_at(pointer, op->mem.disp, opsize) :
                      lr_watch_var_at(pointer + (uintptr_t)op->mem.disp, opsize);
            else if (lr_watch_gpr(op->mem.index) >= 0)
                var = pointed;
        }
        if (var >= 0) {
            si->use = 1;
            lr_watch_fill_patch(&si->p, tmp, op, var);
            si->p.dynamic = 1;
            si->p.base = (int8_t)reg;
            si->p.index = (int8_t)(op->mem.index == X86_REG_INVALID ? -1 : lr_watch_gpr(op->mem.index));
            si->p.scale = (uint8_t)op->mem.scale;
            si->p.disp = op->mem.disp;
            si->p.size = opsize;
            /* an index through a pointer's value: whichever member it
             * reaches when it runs (meter->ticks, meter->misses) */
            si->p.any = through && si->p.index >= 0;
            uses++;
            last_use = c.n + 1;
        }
        c.n++;
        cs_regs read, written;
        uint8_t nread = 0, nwritten = 0;
        int clobbers = lr_watch_cs.regs_access(h, tmp, read, &nread, written, &nwritten) != CS_ERR_OK;
        for (int i = 0; i < nwritten; i++)
            clobbers |= lr_watch_gpr(written[i]) == reg;
        if (clobbers) {
            clobbered = 1;
            break;
        }
    }
    /* Where the run stopped with the pointer still in reg: at a call, a
     * caller-saved register that is not an argument dies; passed to a
     * callee that callee.c copies, it is seen there; at a return, only
     * rax lives on. Anywhere else (a branch, a branch target, a register
     * that lives across calls, a copy or an offset made of it on the
     * way), the registers that may hold it are followed over the whole
     * function (flow.c). */
    int at_call = stop && lr_watch_cs.insn_group(h, stop, CS_GRP_CALL);
    int at_ret = stop && lr_watch_cs.insn_group(h, stop, CS_GRP_RET);
    int callee_saved = (LR_CALLEE_SAVED & LR_REG_BIT(reg)) != 0;
    if (escaped || (!clobbered && callee_saved) || (!clobbered && !at_call && !at_ret))
        lr_watch_flow_seed(s, pointed, (uintptr_t)load_insn->address, reg);
    else if (!clobbered && at_call && (LR_ARGUMENTS & LR_REG_BIT(reg)) &&
             !lr_watch_callee_sees(h, s, stop, LR_REG_BIT(reg)))
        lr_watch_escape(pointed, (uintptr_t)load_insn->address);
    else if (!clobbered && at_ret && reg == 14)     /* rax: returned */
        lr_watch_escape(pointed, (uintptr_t)load_insn->address);
    if (!uses)
        return;
    c.n = last_use;
    /* the load itself is a watched access too (watch=meter with
     * meter->ticks): one run, the load's patch first */
    candidate *k = s->n && s->c[s->n - 1].insn == c.insn ? &s->c[s->n - 1] : lr_watch_new_candidate(s);
    if (!k)
        return;
    if (k->insn == c.insn && k->n == 1 && k->in[0].use)
        c.in[0] = k->in[0];
    *k = c;
    k->end = k->insn;
    for (int i = 0; i < k->n; i++)
        k->end += k->in[i].len;
}

static void consider(csh h, const cs_insn *insn, scan *s, cs_insn *tmp)
{
    consider_direct(h, insn, s);
    int reg, pointed;
    uintptr_t pointer;
    /* in a function with an indirect jump, which could land inside a run,
     * the accesses through it are rewritten one by one (flow.c) */
    if ((pointed = lr_watch_through_load(insn, &reg, &pointer)) >= 0) {
        if (s->has_indirect)
            lr_watch_flow_seed(s, pointed, (uintptr_t)insn->address, reg);
        else
            consider_pointer(h, insn, pointer, pointed, reg, 1, s, tmp);
        return;
    }
    if ((pointed = lr_watch_pointer_load(insn, s->o, &reg, &pointer)) < 0)
        return;
    if (s->has_indirect)
        lr_watch_flow_seed(s, pointed, (uintptr_t)insn->address, reg);
    else
        consider_pointer(h, insn, pointer, pointed, reg, 0, s, tmp);
}

/* Pass 1: the direct branch targets, and whether the function has an
 * indirect jump, which may land anywhere in it. */
static void note_targets(csh h, const cs_insn *insn, scan *s)
{
    const cs_x86 *x = &insn->detail->x86;
    if (!lr_watch_cs.insn_group(h, insn, CS_GRP_JUMP) && !lr_watch_cs.insn_group(h, insn, CS_GRP_CALL))
        return;
    if (x->op_count == 1 && x->operands[0].type == X86_OP_IMM)
        addr_push(&s->targets, (uintptr_t)x->operands[0].imm);
    else if (lr_watch_cs.insn_group(h, insn, CS_GRP_JUMP))
        s->has_indirect = 1;
}

/* Decodes one function, [start, start + size): pass 1 notes the branch
 * targets, pass 2 finds the candidates (runs of several instructions only
 * in a function with no indirect jump). Functions come in address order. */
static void disassemble(csh h, cs_insn *insn, cs_insn *tmp, uintptr_t start, size_t size, scan *s,
                        int pass)
{
    const uint8_t *code = (const uint8_t *)start;
    uint64_t address = start;
    s->has_indirect = pass == 2 && lr_watch_addr_in(&s->indirect, start);
    s->held = s->args = 0;
    s->nseeds = 0;
    s->fn_start = start;
    uint32_t first_candidate = s->n;
    size_t whole = size;
    while (size > 0) {
        if (!lr_watch_cs.disasm_iter(h, &code, &size, &address, insn)) {
            /* not code (padding, data): step over one byte */
            code++;
            address++;
            size--;
            continue;
        }
        if (pass == 1)
            note_targets(h, insn, s);
        else {
            consider(h, insn, s, tmp);
            lr_watch_follow_calls(h, insn, s);
        }
    }
    if (pass == 2)
        lr_watch_flow(h, s, start, whole, first_candidate);
    if (pass == 1 && s->has_indirect)
        addr_push(&s->indirect, start);
}

/* The executable segment holding addr: its end, 0 if none. */
uintptr_t lr_watch_code_end(const object *o, uintptr_t addr)
{
    for (int i = 0; i < o->ncode; i++)
        if (addr >= o->code_lo[i] && addr < o->code_hi[i])
            return o->code_hi[i];
    return 0;
}

/* The first address of every function the unwind table describes: its
 * index (.eh_frame_hdr, as mapped) is a sorted table of them, which a
 * stripped object keeps too, static functions and .cold parts included. */
static size_t fde_starts(const object *o, uintptr_t *out, size_t n, size_t max)
{
    const uint8_t *h = (const uint8_t *)o->eh_frame_hdr;
    /* version 1; a 4-byte frame pointer and count; table entries data-relative
     * signed 4 bytes (what every linker writes) */
    if (!h || h[0] != 1 || (h[1] & 0x0f) != 0x0b || ((h[2] & 0x0f) != 0x03 && (h[2] & 0x0f) != 0x0b) ||
        h[3] != 0x3b)
        return n;
    uint32_t count;
    memcpy(&count, h + 8, 4);
    for (uint32_t i = 0; i < count && n < max; i++) {
        int32_t loc;
        memcpy(&loc, h + 12 + 8 * (size_t)i, 4);
        out[n++] = (uintptr_t)h + (uintptr_t)(intptr_t)loc;
    }
    return n;
}

static int by_value(const void *a, const void *b)
{
    uintptr_t x = *(const uintptr_t *)a, y = *(const uintptr_t *)b;
    return x < y ? -1 : x > y;
}

static uint32_t table_count(const object *o)
{
    const uint8_t *h = (const uint8_t *)o->eh_frame_hdr;
    uint32_t count = 0;
    if (h && h[0] == 1)
        memcpy(&count, h + 8, 4);
    return count;
}

/* Every function of the object, decoded from its first byte to the next
 * function's: the starts come from the function symbols and the unwind
 * table. An object with neither is swept linearly. */
void lr_watch_scan_object(const object *o, scan *s)
{
    elf_file ef;
    int syms = lr_watch_elf_open(o->path, &ef) == 0;
    size_t max = (syms ? ef.nsyms : 0) + table_count(o), n = 0;
    uintptr_t *starts = max ? malloc(max * sizeof *starts) : NULL;
    for (size_t i = 0; starts && syms && i < ef.nsyms; i++) {
        GElf_Sym sym;
        if (gelf_getsym(ef.syms, (int)i, &sym) && GELF_ST_TYPE(sym.st_info) == STT_FUNC &&
            sym.st_shndx != SHN_UNDEF)
            starts[n++] = o->base + sym.st_value;
    }
    if (syms)
        lr_watch_elf_close(&ef);
    if (starts)
        n = fde_starts(o, starts, n, max);
    csh h;
    cs_insn *insn = NULL;
    if (lr_watch_cs.open(CS_ARCH_X86, CS_MODE_64, &h) == CS_ERR_OK) {
        lr_watch_cs.option(h, CS_OPT_DETAIL, CS_OPT_ON);
        insn = lr_watch_cs.malloc(h);
    }
    cs_insn *tmp = insn ? lr_watch_cs.malloc(h) : NULL;
    if (tmp) {
        qsort(starts, n, sizeof *starts, by_value);
        s->o = o;
        s->starts = starts;
        s->nstarts = n;
        for (int pass = 1; pass <= 2; pass++) {
            size_t decoded = 0;
            for (size_t i = 0; i < n; i++) {
                uintptr_t end = lr_watch_code_end(o, starts[i]);
                if (!end || (i + 1 < n && starts[i + 1] == starts[i]))
                    continue;
                if (i + 1 < n && starts[i + 1] < end)
                    end = starts[i + 1];
                disassemble(h, insn, tmp, starts[i], end - starts[i], s, pass);
                decoded++;
            }
            for (int i = 0; decoded == 0 && i < o->ncode; i++)
                disassemble(h, insn, tmp, o->code_lo[i], o->code_hi[i] - o->code_lo[i], s, pass);
            if (pass == 1)
                qsort(s->targets.v, s->targets.n, sizeof *s->targets.v, by_value);
        }
    }
    if (tmp)
        lr_watch_cs.free(tmp, 1);
    if (insn) {
        lr_watch_cs.free(insn, 1);
        lr_watch_cs.close(&h);
    }
    s->starts = NULL;
    s->nstarts = 0;
    free(starts);
    free(s->targets.v);
    free(s->indirect.v);
}
