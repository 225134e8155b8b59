/* Following a watched variable's address into the function it is passed
 * to (watch layer, start-up only): a direct call that passes it in an
 * argument register is re-aimed (patch.c) at a copy of the callee in
 * which every access that may go through that register is watched, the
 * variable found when it runs. Decoding the callee, the registers that
 * hold the pointer over its branches, and the callers' registers that
 * hold it at each call. Never changes what the program computes: the copy
 * runs what the original runs. */
#include "watch/internal.h"

#include <capstone/capstone.h>
#include <stdlib.h>
#include <string.h>

/* A branch the copy changes: its kind (BR_*), with a jcc's condition or
 * an indirect call's ModRM byte; -1 for one it cannot (loop, jrcxz, an
 * unknown encoding, an indirect call through the stack pointer, which
 * the return address pushed first would move). */
static int relative_branch(csh h, const cs_insn *insn, uint8_t *cc)
{
    const cs_x86 *x = &insn->detail->x86;
    int jump = lr_watch_cs.insn_group(h, insn, CS_GRP_JUMP), call = lr_watch_cs.insn_group(h, insn, CS_GRP_CALL);
    const uint8_t *b = insn->bytes;
    int i = 0;
    if (call && x->op_count == 1 && x->operands[0].type != X86_OP_IMM) {
        const cs_x86_op *op = &x->operands[0];
        if ((op->type == X86_OP_REG && op->reg == X86_REG_RSP) ||
            (op->type == X86_OP_MEM && (op->mem.base == X86_REG_RSP || op->mem.index == X86_REG_RSP)))
            return -1;
        while (i < insn->size && (b[i] == 0x2e || b[i] == 0x3e || b[i] == 0x26 || b[i] == 0x36 ||
                                  b[i] == 0x64 || b[i] == 0x65 || b[i] == 0x66 || b[i] == 0x67 ||
                                  b[i] == 0xf2 || b[i] == 0xf3 || (b[i] & 0xf0) == 0x40))
            i++;
        if (i + 1 >= insn->size || b[i] != 0xff || ((b[i + 1] >> 3) & 7) != 2)
            return -1;
        *cc = (uint8_t)(i + 1);
        return BR_ICALL;
    }
    if ((!jump && !call) || x->op_count != 1 || x->operands[0].type != X86_OP_IMM)
        return BR_NONE;
    while (i < insn->size && (b[i] == 0xf2 || b[i] == 0x2e || b[i] == 0x3e))   /* bnd, branch hints */
        i++;
    if (i == insn->size)
        return -1;
    if (b[i] == 0xe8)
        return BR_CALL;
    if (b[i] == 0xe9 || b[i] == 0xeb)
        return BR_JMP;
    if (b[i] >= 0x70 && b[i] <= 0x7f) {
        *cc = b[i] & 0x0f;
        return BR_JCC;
    }
    if (b[i] == 0x0f && i + 1 < insn->size && b[i + 1] >= 0x80 && b[i + 1] <= 0x8f) {
        *cc = b[i + 1] & 0x0f;
        return BR_JCC;
    }
    return -1;
}

static int start_index(const scan *s, uintptr_t a)
{
    return (int)lr_watch_sorted_index(s->starts, s->nstarts, a);
}

/* The registers an instruction passes on holding the pointer, given those
 * that hold it before (in): a copy, an address computed from it, its own
 * pointer load, or the register moved along by add or sub keeps it; what
 * else an instruction writes no longer holds it; a call keeps only the
 * callee-saved registers. */
static unsigned pass_on(csh h, const cs_insn *insn, const object *o, unsigned in)
{
    const cs_x86 *x = &insn->detail->x86;
    int reg;
    uintptr_t pointer;
    if (lr_watch_cs.insn_group(h, insn, CS_GRP_CALL))
        return in & LR_CALLEE_SAVED;
    if (lr_watch_any_pointer_load(insn, o, &reg, &pointer) >= 0)
        return in | LR_REG_BIT(reg);
    if (x->op_count == 2 && x->operands[0].type == X86_OP_REG && x->operands[0].size == 8 &&
        (reg = lr_watch_gpr(x->operands[0].reg)) >= 0) {
        const cs_x86_op *src = &x->operands[1];
        int from = -1;
        if (insn->id == X86_INS_MOV && src->type == X86_OP_REG && src->size == 8)
            from = lr_watch_gpr(src->reg);
        else if (insn->id == X86_INS_LEA && src->mem.base != X86_REG_RIP)
            from = lr_watch_gpr(src->mem.base) >= 0 && (in & LR_REG_BIT(lr_watch_gpr(src->mem.base))) ? lr_watch_gpr(src->mem.base)
                                                                              : lr_watch_gpr(src->mem.index);
        else if ((insn->id == X86_INS_ADD || insn->id == X86_INS_SUB) && (in & LR_REG_BIT(reg)))
            return in;
        if (insn->id == X86_INS_MOV || insn->id == X86_INS_LEA)
            return from >= 0 && (in & LR_REG_BIT(from)) ? in | LR_REG_BIT(reg) : in & ~LR_REG_BIT(reg);
    }
    if ((insn->id == X86_INS_INC || insn->id == X86_INS_DEC) && x->op_count == 1 &&
        x->operands[0].type == X86_OP_REG && lr_watch_gpr(x->operands[0].reg) >= 0)
        return in;
    cs_regs read, written;
    uint8_t nread = 0, nwritten = 0;
    if (lr_watch_cs.regs_access(h, insn, read, &nread, written, &nwritten) != CS_ERR_OK)
        return 0;
    for (int i = 0; i < nwritten; i++)
        if (lr_watch_gpr(written[i]) >= 0)
            in &= ~LR_REG_BIT(lr_watch_gpr(written[i]));
    return in;
}

/* The pointer leaves what the copy sees at insn: stored to memory (or
 * spilled to the stack), still held at a call (after which the original
 * runs), returned, or followed by an indirect jump (a jump table lands in
 * the original). */
static int leaves(csh h, const cs_insn *insn, unsigned in)
{
    const cs_x86 *x = &insn->detail->x86;
    if (!in)
        return 0;
    /* kept for after a call, when the original runs; passed on to a
     * direct call: decided by clone_for */
    if (lr_watch_cs.insn_group(h, insn, CS_GRP_CALL))
        return (in & LR_CALLEE_SAVED) || (x->op_count == 1 && x->operands[0].type != X86_OP_IMM &&
                                          (in & LR_ARGUMENTS));
    if (lr_watch_cs.insn_group(h, insn, CS_GRP_RET))
        return (in & LR_REG_BIT(14)) != 0;     /* rax */
    if (lr_watch_cs.insn_group(h, insn, CS_GRP_JUMP) && !(x->op_count == 1 && x->operands[0].type == X86_OP_IMM))
        return 1;
    if (lr_watch_uses_stack(insn) && insn->id == X86_INS_PUSH)
        return x->op_count == 1 && x->operands[0].type == X86_OP_REG && lr_watch_gpr(x->operands[0].reg) >= 0 &&
               (in & LR_REG_BIT(lr_watch_gpr(x->operands[0].reg)));
    int stores = 0, reads_held = 0;
    for (int i = 0; i < x->op_count; i++) {
        const cs_x86_op *op = &x->operands[i];
        if (op->type == X86_OP_MEM && (op->access & CS_AC_WRITE))
            stores = 1;
        if (op->type == X86_OP_REG && (op->access & CS_AC_READ) && lr_watch_gpr(op->reg) >= 0 &&
            (in & LR_REG_BIT(lr_watch_gpr(op->reg))))
            reads_held = 1;
    }
    return stores && reads_held;
}

/* `lea` of an instruction's memory operand into rax, for the copy to turn
 * away an address outside every watched variable before calling lockrace:
 * the same ModRM (its register field rax), SIB and displacement, REX.X and
 * REX.B kept. Its length, 0 where that does not hold (VEX and EVEX
 * encodings, 32-bit addresses). */
int lr_watch_address_lea(const cs_insn *insn, uint8_t *out)
{
    const cs_x86 *x = &insn->detail->x86;
    const uint8_t *b = insn->bytes;
    int i = 0;
    while (i < insn->size && (b[i] == 0xf0 || b[i] == 0xf2 || b[i] == 0xf3 || b[i] == 0x2e || b[i] == 0x36 ||
                              b[i] == 0x3e || b[i] == 0x26 || b[i] == 0x64 || b[i] == 0x65 || b[i] == 0x66 ||
                              b[i] == 0x67 || (b[i] & 0xf0) == 0x40))
        i++;
    int m = x->encoding.modrm_offset;
    if (i >= insn->size || b[i] == 0xc4 || b[i] == 0xc5 || b[i] == 0x62 || b[i] == 0x8f ||
        x->prefix[3] == 0x67 || m <= i || m >= insn->size || (b[m] >> 6) == 3)
        return 0;
    int sib = (b[m] & 7) == 4, disp = x->encoding.disp_size;
    if ((disp && x->encoding.disp_offset != m + 1 + sib) || m + 1 + sib + disp > insn->size)
        return 0;
    int n = 0;
    out[n++] = (uint8_t)(0x48 | (x->rex & 3));
    out[n++] = 0x8d;
    out[n++] = (uint8_t)(b[m] & 0xc7);
    memcpy(out + n, b + m + 1, (size_t)(sib + disp));
    return n + sib + disp;
}

/* Decodes the function at c->fn into c->in; 0 if it cannot be copied. */
static int clone_decode(csh h, const scan *s, clone_fn *c, cs_insn *insn)
{
    const uint8_t *code = (const uint8_t *)c->fn;
    uint64_t address = c->fn;
    size_t size = c->end - c->fn;
    while (size > 0) {
        if (c->n == MAX_CLONE_INSNS || !lr_watch_cs.disasm_iter(h, &code, &size, &address, insn))
            return 0;
        clone_insn *ci = &c->in[c->n++];
        ci->addr = (uintptr_t)insn->address;
        memcpy(ci->bytes, insn->bytes, insn->size);
        ci->len = (uint8_t)insn->size;
        int br = relative_branch(h, insn, &ci->cc);
        if (br < 0)
            return 0;
        ci->branch = (uint8_t)br;
        if (br != BR_NONE && br != BR_ICALL) {
            ci->target = (uintptr_t)insn->detail->x86.operands[0].imm;
            /* inside the function: must be one of its instructions (checked when written) */
            if ((ci->target < c->fn || ci->target >= c->end) && !lr_watch_code_end(s->o, ci->target))
                return 0;
        } else {
            seq_insn si;
            memset(&si, 0, sizeof si);
            lr_watch_copy_insn(&si, insn);
            ci->disp_offset = si.disp_offset;
            ci->target = si.target;
            if (si.disp_offset && insn->detail->x86.encoding.disp_size != 4)
                return 0;
        }
    }
    return 1;
}

static int clone_index_of(const clone_fn *c, uintptr_t a)
{
    int lo = 0, hi = c->n;
    while (lo < hi) {
        int mid = (lo + hi) / 2;
        if (c->in[mid].addr < a)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < c->n && c->in[lo].addr == a ? lo : -1;
}

/* Which registers hold the pointer before each instruction (entry: the
 * seeds), to a fixed point over the function's branches; then the
 * accesses through them, and the RIP-relative accesses of watched
 * variables (the copy runs instead of the rewritten original). */
static void clone_analyse(csh h, const scan *s, clone_fn *c, cs_insn *insn)
{
    unsigned *in = calloc((size_t)c->n, sizeof *in);
    if (!in) {
        c->ok = 0;
        return;
    }
    in[0] = c->seeds;
    for (int changed = 1, rounds = 0; changed && rounds < 64; rounds++) {
        changed = 0;
        for (int i = 0; i < c->n; i++) {
            const uint8_t *code = c->in[i].bytes;
            size_t size = c->in[i].len;
            uint64_t address = c->in[i].addr;
            if (!lr_watch_cs.disasm_iter(h, &code, &size, &address, insn))
                continue;
            unsigned out = pass_on(h, insn, s->o, in[i]);
            const clone_insn *ci = &c->in[i];
            /* nothing falls through a call: it returns to the original */
            int next = i + 1 < c->n && ci->branch != BR_JMP && ci->branch != BR_CALL && ci->branch != BR_ICALL &&
                       !lr_watch_cs.insn_group(h, insn, CS_GRP_RET) &&
                       !(lr_watch_cs.insn_group(h, insn, CS_GRP_JUMP) && ci->branch == BR_NONE);
            if (next && (in[i + 1] | out) != in[i + 1]) {
                in[i + 1] |= out;
                changed = 1;
            }
            if (ci->branch == BR_JMP || ci->branch == BR_JCC) {
                int t = clone_index_of(c, ci->target);
                if (t >= 0 && (in[t] | out) != in[t]) {
                    in[t] |= out;
                    changed = 1;
                }
            }
        }
    }
    for (int i = 0; i < c->n; i++) {
        clone_insn *ci = &c->in[i];
        const uint8_t *code = ci->bytes;
        size_t size = ci->len;
        uint64_t address = ci->addr;
        if (!lr_watch_cs.disasm_iter(h, &code, &size, &address, insn))
            continue;
        if (leaves(h, insn, in[i]) && !c->escape_at)
            c->escape_at = ci->addr;
        if (ci->branch == BR_CALL || (ci->branch == BR_JMP && (ci->target < c->fn || ci->target >= c->end)))
            ci->pass = in[i] & LR_ARGUMENTS;     /* a call, or a tail call */
        const cs_x86_op *op = lr_watch_accessed(insn);
        if (!op || op->mem.segment != X86_REG_INVALID || lr_watch_control_transfer(h, insn))
            continue;
        int base = lr_watch_gpr(op->mem.base), index = lr_watch_gpr(op->mem.index);
        uint32_t opsize = op->size ? op->size : 1;
        if (op->mem.base == X86_REG_RIP) {
            uintptr_t target = (uintptr_t)(insn->address + insn->size + op->mem.disp);
            int var = lr_watch_var_at(target, opsize);
            if (var < 0)
                continue;
            lr_watch_fill_patch(&ci->p, insn, op, var);
            watch_var *v = &lr_watch_vars[var];
            uintptr_t lo = target > v->lo ? target : v->lo;
            uintptr_t hi = target + opsize < v->hi ? target + opsize : v->hi;
            ci->p.addr = lo;
            ci->p.size = (uint32_t)(hi - lo);
            ci->use = 1;
            continue;
        }
        if ((op->mem.base != X86_REG_INVALID && base < 0) || (op->mem.index != X86_REG_INVALID && index < 0))
            continue;       /* rsp or rip with an index: not through the pointer */
        if (!((base >= 0 && (in[i] & LR_REG_BIT(base))) || (index >= 0 && (in[i] & LR_REG_BIT(index)))))
            continue;
        /* no variable yet: fill_patch would mark variable 0 atomic */
        ci->p.insn = (uintptr_t)insn->address;
        ci->p.read = (op->access & CS_AC_READ) != 0;
        ci->p.write = (op->access & CS_AC_WRITE) != 0;
        ci->p.atomic = insn->detail->x86.prefix[0] == X86_PREFIX_LOCK || insn->id == X86_INS_XCHG;
        ci->p.dynamic = 1;
        ci->p.any = 1;
        ci->p.base = (int8_t)base;
        ci->p.index = (int8_t)index;
        ci->p.scale = (uint8_t)op->mem.scale;
        ci->p.disp = op->mem.disp;
        ci->p.size = opsize;
        ci->use = 1;
        ci->lea_len = (uint8_t)lr_watch_address_lea(insn, ci->lea);
        c->uses++;
    }
    free(in);
}

/* A call that passes the pointer: `call f` or a tail `jmp f`, 5 bytes
 * (room for the re-aimed one), to the first byte of a function of this
 * object. Its target, 0 if none. */
static uintptr_t followable_call(csh h, const cs_insn *insn, const scan *s)
{
    const cs_x86 *x = &insn->detail->x86;
    if (insn->size != 5 || (insn->bytes[0] != 0xe8 && insn->bytes[0] != 0xe9) || x->op_count != 1 ||
        x->operands[0].type != X86_OP_IMM || !lr_watch_cs.insn_group(h, insn, insn->bytes[0] == 0xe8 ?
                                                                     CS_GRP_CALL : CS_GRP_JUMP))
        return 0;
    uintptr_t target = (uintptr_t)x->operands[0].imm;
    return lr_watch_code_end(s->o, target) && start_index(s, target) >= 0 ? target : 0;
}

/* What clone_for returns for a callee that has no access through the
 * pointer and lets it go nowhere: the call is left alone, and the pointer
 * does not escape there. */
#define HARMLESS (-2)

/* The copy of the function at target with the pointer in the seeds, made
 * once: its number; HARMLESS; -1 if it cannot be made, or the pointer
 * goes where it does not see (then the call is left alone, and the
 * pointer said to escape). */
static int clone_for(csh h, scan *s, uintptr_t target, unsigned seeds, int depth)
{
    for (int i = 0; i < s->nclones; i++)
        if (s->clones[i].fn == target && s->clones[i].seeds == seeds) {
            const clone_fn *c = &s->clones[i];
            return c->ok && c->uses ? i : c->ok && c->done && !c->escape_at ? HARMLESS : -1;
        }
    if (s->nclones == s->clones_cap) {
        int cap = s->clones_cap ? s->clones_cap * 2 : 16;
        clone_fn *v = realloc(s->clones, (size_t)cap * sizeof *v);
        if (!v)
            return -1;
        s->clones = v;
        s->clones_cap = cap;
    }
    clone_fn *c = &s->clones[s->nclones++];
    memset(c, 0, sizeof *c);
    c->fn = target;
    c->seeds = seeds;
    int k = start_index(s, target);
    uintptr_t end = lr_watch_code_end(s->o, target);
    while (k >= 0 && (size_t)k + 1 < s->nstarts && s->starts[k + 1] == target)
        k++;        /* the same start from the symbols and the unwind table */
    if (k >= 0 && (size_t)k + 1 < s->nstarts && s->starts[k + 1] < end)
        end = s->starts[k + 1];
    c->end = end;
    cs_insn *insn = lr_watch_cs.malloc(h);
    c->in = end - target <= MAX_CLONE_BYTES ? calloc(MAX_CLONE_INSNS, sizeof *c->in) : NULL;
    c->ok = insn && c->in && clone_decode(h, s, c, insn) && c->n > 0;
    if (c->ok) {
        clone_insn *fit = realloc(c->in, (size_t)c->n * sizeof *c->in);   /* watch=*: many copies */
        if (fit)
            c->in = fit;
        clone_analyse(h, s, c, insn);
    }
    if (insn)
        lr_watch_cs.free(insn, 1);
    /* the calls that pass the pointer on: into their callees' copies (which
     * may move s->clones) */
    int me = (int)(c - s->clones);
    for (int i = 0; c->ok && i < c->n; i++) {
        if (!c->in[i].pass)
            continue;
        uintptr_t at = c->in[i].addr, to = c->in[i].target;
        int sub = depth < MAX_CLONE_DEPTH && start_index(s, to) >= 0 ?
                  clone_for(h, s, to, c->in[i].pass, depth + 1) : -1;
        c = &s->clones[me];
        if (sub >= 0) {
            c->in[i].sub = sub + 1;
            c->uses++;
            if (!c->escape_at)
                c->escape_at = s->clones[sub].escape_at;
        } else if (sub != HARMLESS && !c->escape_at) {
            c->escape_at = at;
        }
    }
    c->done = 1;
    if (!c->ok || !c->uses) {
        free(c->in);
        c->in = NULL;
        c->n = 0;
        return c->ok && !c->escape_at ? HARMLESS : -1;
    }
    return (int)(c - s->clones);
}

/* In a function's straight-line code, in address order: which registers
 * may hold a pointer to a watched variable (loaded RIP-relatively, then
 * copied), which argument registers hold one now, and at a direct call
 * with one, the call re-aimed at the callee's copy. Following a call is
 * always safe (the copy does what the original does, and checks each
 * address when it runs); the registers only decide which calls it costs. */
void lr_watch_follow_calls(csh h, const cs_insn *insn, scan *s)
{
    const cs_x86 *x = &insn->detail->x86;
    if (s->args && lr_watch_addr_in(&s->targets, (uintptr_t)insn->address))
        s->args &= ~LR_ARGUMENTS;     /* entered from elsewhere too */
    int reg, var;
    uintptr_t pointer, target;
    if (!s->args) {
        /* most instructions of most functions */
        if ((var = lr_watch_any_pointer_load(insn, s->o, &reg, &pointer)) >= 0) {
            s->held |= LR_REG_BIT(reg);
            s->held_var[reg] = var;
            s->args |= LR_REG_BIT(reg) & LR_ARGUMENTS;
            return;
        }
        if (!s->held)
            return;
    }
    if (s->args && (target = followable_call(h, insn, s)) != 0) {
        int k = clone_for(h, s, target, s->args, 1);
        if (k == HARMLESS)
            s->args = 0;
        if (k >= 0 && s->nfollows < MAX_PATCHES) {
            if (s->nfollows == s->follows_cap) {
                int cap = s->follows_cap ? s->follows_cap * 2 : 64;
                follow *v = realloc(s->follows, (size_t)cap * sizeof *v);
                if (!v)
                    return;
                s->follows = v;
                s->follows_cap = cap;
            }
            s->follows[s->nfollows++] = (follow){ (uintptr_t)insn->address, insn->bytes[0], k };
            for (int r = 0; r < 16; r++)
                if (s->args & LR_REG_BIT(r)) {
                    lr_watch_vars[s->held_var[r]].followed++;
                    if (s->clones[k].escape_at)
                        lr_watch_escape(s->held_var[r], s->clones[k].escape_at);
                }
            s->args = 0;
        }
    }
    if (lr_watch_control_transfer(h, insn)) {
        s->args &= ~LR_ARGUMENTS;
        return;
    }
    if ((var = lr_watch_any_pointer_load(insn, s->o, &reg, &pointer)) >= 0) {
        s->held |= LR_REG_BIT(reg);
        s->held_var[reg] = var;
        s->args |= LR_REG_BIT(reg) & LR_ARGUMENTS;
        return;
    }
    if (insn->id == X86_INS_MOV && x->op_count == 2 && x->operands[0].type == X86_OP_REG &&
        x->operands[1].type == X86_OP_REG && x->operands[0].size == 8 && x->operands[1].size == 8) {
        int to = lr_watch_gpr(x->operands[0].reg), from = lr_watch_gpr(x->operands[1].reg);
        if (to >= 0 && from >= 0 && (s->held & LR_REG_BIT(from))) {
            s->held |= LR_REG_BIT(to);
            s->held_var[to] = s->held_var[from];
            s->args |= LR_REG_BIT(to) & LR_ARGUMENTS;
            return;
        }
    }
    if (!s->args)
        return;
    cs_regs read, written;
    uint8_t nread = 0, nwritten = 0;
    if (lr_watch_cs.regs_access(h, insn, read, &nread, written, &nwritten) != CS_ERR_OK) {
        s->args &= ~LR_ARGUMENTS;
        return;
    }
    for (int i = 0; i < nwritten; i++)
        if (lr_watch_gpr(written[i]) >= 0)
            s->args &= ~(LR_REG_BIT(lr_watch_gpr(written[i])) & LR_ARGUMENTS);
}

/* For a call that passes the pointer in the seeds (consider_pointer,
 * decode.c): whether the callee's accesses through it are all seen (its
 * copy, or it has none). */
int lr_watch_callee_sees(csh h, scan *s, const cs_insn *call, unsigned seeds)
{
    uintptr_t target = followable_call(h, call, s);
    return target && clone_for(h, s, target, seeds, 1) != -1;
}

/* For a call (or tail jump) at which the register flow (flow.c) finds
 * the pointer in the argument registers args: 1 when what the callee does
 * with it is seen: the call already calls a copy that follows those
 * registers, calls one now, or the callee does nothing with it. */
int lr_watch_follow_call(csh h, scan *s, const cs_insn *call, unsigned args, int var)
{
    for (int i = s->nfollows - 1; i >= 0 && s->follows[i].call >= s->fn_start; i--)
        if (s->follows[i].call == (uintptr_t)call->address)
            return (s->clones[s->follows[i].clone].seeds & args) == args;
    uintptr_t target = followable_call(h, call, s);
    int k = target ? clone_for(h, s, target, args, 1) : -1;
    if (k == HARMLESS)
        return 1;
    if (k < 0 || s->nfollows >= MAX_PATCHES)
        return 0;
    if (s->nfollows == s->follows_cap) {
        int cap = s->follows_cap ? s->follows_cap * 2 : 64;
        follow *v = realloc(s->follows, (size_t)cap * sizeof *v);
        if (!v)
            return 0;
        s->follows = v;
        s->follows_cap = cap;
    }
    s->follows[s->nfollows++] = (follow){ (uintptr_t)call->address, call->bytes[0], k };
    lr_watch_vars[var].followed++;
    if (s->clones[k].escape_at)
        lr_watch_escape(var, s->clones[k].escape_at);
    return 1;
}
