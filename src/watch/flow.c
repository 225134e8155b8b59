/* A pointer to a watched variable that outlives the straight line after
 * its load (watch layer, start-up only): kept in a callee-saved register
 * across the calls of a loop, moved along an array by an add, copied, or
 * alive past a branch. The registers that may hold it, or a value made
 * from it, are followed over the whole function's branches to a fixed
 * point; each access through one of them is rewritten as an address
 * computed when it runs, which counts only if it falls in a watched
 * variable. Over-approximating costs a check; what the pointer does that
 * the rewriting cannot see (stored, passed to a call not followed,
 * returned, reached by an instruction that cannot be moved) is an escape,
 * said at start. Never changes what the program computes. */
#include "watch/internal.h"
#include "support/symbolize.h"

#include <capstone/capstone.h>
#include <stdlib.h>
#include <string.h>

#define NREGS 15                /* the stubs' general registers, by lr_watch_gpr */
#define MAX_FLOW_INSNS 32768    /* a bigger function: its seeds escape */

enum { K_PLAIN, K_CALL, K_ICALL, K_JMP, K_JCC, K_IJMP, K_RET, K_STOP };

typedef struct flow_insn {
    uintptr_t addr;
    seq_insn si;                /* its bytes, for a run; si.p when it is a watched access */
    uint8_t kind;               /* K_* */
    uint8_t movable;            /* may run in a trampoline */
    uint8_t target_here;        /* a direct branch lands on it */
    uint8_t access;             /* a memory operand through general registers */
    uint8_t patchable;          /* ... that a trampoline can run between the calls */
    uint8_t handled;            /* its access is watched (here or by an earlier run) */
    int8_t base, index;         /* the access's registers, -1 none */
    uint16_t kill, src, dst, stores;
    int seed;                   /* the seed loaded here, -1 none */
    int covered;                /* 1 + the candidate that moves it, 0 none */
    int slot;                   /* its place in that candidate */
    uintptr_t target;           /* a direct branch's */
} flow_insn;

/* The pointer loads of this function that the straight line did not
 * cover: followed at its end. */
void lr_watch_flow_seed(scan *s, int var, uintptr_t at, int reg)
{
    if (s->nseeds == MAX_SEEDS) {
        lr_watch_escape(var, at);
        return;
    }
    s->seeds[s->nseeds++] = (struct seed){ var, at, (int8_t)reg };
}

/* A string instruction with one memory operand (movs and cmps have two,
 * and X86_INS_MOVSD and CMPSD are SSE's scalar double too): with rep, it
 * reaches rcx elements, not one. */
static int is_string_op(const cs_insn *insn)
{
    switch (insn->id) {
    case X86_INS_STOSB: case X86_INS_STOSW: case X86_INS_STOSD: case X86_INS_STOSQ:
    case X86_INS_LODSB: case X86_INS_LODSW: case X86_INS_LODSD: case X86_INS_LODSQ:
    case X86_INS_SCASB: case X86_INS_SCASW: case X86_INS_SCASD: case X86_INS_SCASQ:
    case X86_INS_INSB: case X86_INS_INSW: case X86_INS_INSD:
    case X86_INS_OUTSB: case X86_INS_OUTSW: case X86_INS_OUTSD:
        return 1;
    default:
        return 0;
    }
}

/* A written register that keeps part of its old value (8 or 16 bits):
 * not a new value. */
static int partial(unsigned reg)
{
    switch (reg) {
    case X86_REG_AL: case X86_REG_AH: case X86_REG_AX: case X86_REG_BL: case X86_REG_BH: case X86_REG_BX:
    case X86_REG_CL: case X86_REG_CH: case X86_REG_CX: case X86_REG_DL: case X86_REG_DH: case X86_REG_DX:
    case X86_REG_SIL: case X86_REG_SI: case X86_REG_DIL: case X86_REG_DI: case X86_REG_BPL: case X86_REG_BP:
    case X86_REG_R8B: case X86_REG_R8W: case X86_REG_R9B: case X86_REG_R9W: case X86_REG_R10B: case X86_REG_R10W:
    case X86_REG_R11B: case X86_REG_R11W: case X86_REG_R12B: case X86_REG_R12W: case X86_REG_R13B:
    case X86_REG_R13W: case X86_REG_R14B: case X86_REG_R14W: case X86_REG_R15B: case X86_REG_R15W:
        return 1;
    default:
        return 0;
    }
}

/* What one instruction does to the registers that may hold the pointer,
 * and what of it the rewriting needs. */
static void describe(csh h, const cs_insn *insn, const scan *s, flow_insn *f)
{
    const cs_x86 *x = &insn->detail->x86;
    memset(f, 0, sizeof *f);
    f->addr = (uintptr_t)insn->address;
    f->seed = -1;
    f->base = f->index = -1;
    lr_watch_copy_insn(&f->si, insn);
    int call = lr_watch_cs.insn_group(h, insn, CS_GRP_CALL), jump = lr_watch_cs.insn_group(h, insn, CS_GRP_JUMP);
    int direct = x->op_count == 1 && x->operands[0].type == X86_OP_IMM;
    if (call)
        f->kind = direct ? K_CALL : K_ICALL;
    else if (jump)
        f->kind = !direct ? K_IJMP : insn->id == X86_INS_JMP ? K_JMP : K_JCC;
    else if (lr_watch_cs.insn_group(h, insn, CS_GRP_RET) || lr_watch_cs.insn_group(h, insn, CS_GRP_IRET))
        f->kind = K_RET;
    else if (insn->id == X86_INS_UD2 || insn->id == X86_INS_HLT)
        f->kind = K_STOP;
    if ((call || jump) && direct)
        f->target = (uintptr_t)x->operands[0].imm;
    f->movable = f->kind == K_PLAIN && !lr_watch_control_transfer(h, insn) && !lr_watch_uses_stack(insn) &&
                 !(f->si.disp_offset && x->encoding.disp_size != 4);

    /* the memory operands: an access through general registers */
    int nmem = 0;
    const cs_x86_op *mem = NULL;
    for (int i = 0; i < x->op_count; i++)
        if (x->operands[i].type == X86_OP_MEM && insn->id != X86_INS_LEA && insn->id != X86_INS_NOP) {
            nmem++;
            mem = &x->operands[i];
        }
    if (mem && mem->mem.base != X86_REG_RIP) {
        f->base = (int8_t)lr_watch_gpr(mem->mem.base);
        f->index = (int8_t)lr_watch_gpr(mem->mem.index);
        int vsib = mem->mem.index != X86_REG_INVALID && f->index < 0;
        f->access = f->base >= 0 || f->index >= 0;
        f->patchable = f->access && f->movable && nmem == 1 && !vsib && !is_string_op(insn) &&
                       mem->mem.segment == X86_REG_INVALID && (mem->access & (CS_AC_READ | CS_AC_WRITE)) &&
                       !(mem->mem.base != X86_REG_INVALID && f->base < 0);
        if (f->patchable) {
            patch *p = &f->si.p;
            p->insn = (uintptr_t)insn->address;
            p->read = (mem->access & CS_AC_READ) != 0;
            p->write = (mem->access & CS_AC_WRITE) != 0;
            p->atomic = x->prefix[0] == X86_PREFIX_LOCK || insn->id == X86_INS_XCHG;
            p->dynamic = 1;
            p->any = 1;
            p->flow = 1;
            p->base = f->base;
            p->index = f->index;
            p->scale = (uint8_t)mem->mem.scale;
            p->disp = mem->mem.disp;
            p->size = mem->size ? mem->size : 1;
            f->si.lea_len = (uint8_t)lr_watch_address_lea(insn, f->si.lea);
        }
    }

    /* the registers: written ones lose the pointer; a register written
     * from registers that held it holds it (a copy, an offset, a sum) */
    cs_regs read, written;
    uint8_t nread = 0, nwritten = 0;
    if (lr_watch_cs.regs_access(h, insn, read, &nread, written, &nwritten) != CS_ERR_OK) {
        f->kill = f->dst = (1u << NREGS) - 1;
        f->src = f->stores = (1u << NREGS) - 1;     /* unknown: it may go anywhere */
        return;
    }
    for (int i = 0; i < nwritten; i++)
        if (lr_watch_gpr(written[i]) >= 0 && !partial(written[i]))
            f->kill |= LR_REG_BIT(lr_watch_gpr(written[i]));
    int stores = 0, other_out = 0;
    for (int i = 0; i < x->op_count; i++) {
        const cs_x86_op *op = &x->operands[i];
        if (op->type == X86_OP_MEM && (op->access & CS_AC_WRITE))
            stores = 1;
        if (op->type == X86_OP_REG && (op->access & CS_AC_WRITE) && lr_watch_gpr(op->reg) < 0 &&
            op->reg != X86_REG_RSP && op->reg != X86_REG_RIP && op->reg != X86_REG_EFLAGS)
            other_out = 1;      /* movq %rbx, %xmm0 */
        if (op->type == X86_OP_REG && (op->access & CS_AC_READ) && lr_watch_gpr(op->reg) >= 0)
            f->src |= LR_REG_BIT(lr_watch_gpr(op->reg));
        if (op->type == X86_OP_REG && (op->access & CS_AC_WRITE) && op->size == 8 && lr_watch_gpr(op->reg) >= 0)
            f->dst |= LR_REG_BIT(lr_watch_gpr(op->reg));
        if (insn->id == X86_INS_LEA && op->type == X86_OP_MEM) {
            if (lr_watch_gpr(op->mem.base) >= 0)
                f->src |= LR_REG_BIT(lr_watch_gpr(op->mem.base));
            if (lr_watch_gpr(op->mem.index) >= 0)
                f->src |= LR_REG_BIT(lr_watch_gpr(op->mem.index));
        }
    }
    if (!strncmp(insn->mnemonic, "cmov", 4))
        f->src |= f->dst;       /* the old value stays when the condition fails */
    if (insn->id == X86_INS_PUSH)
        stores = 1;
    if ((stores || other_out) && insn->id != X86_INS_LEA)
        f->stores = f->src;
    for (int k = 0; k < s->nseeds; k++)
        if (s->seeds[k].at == f->addr)
            f->seed = k;
}

static int index_of(const flow_insn *fi, int n, uintptr_t a)
{
    int lo = 0, hi = n;
    while (lo < hi) {
        int mid = (lo + hi) / 2;
        if (fi[mid].addr < a)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < n && fi[lo].addr == a ? lo : -1;
}

/* The registers' seeds, one set per register (bit k: seeds[k]). */
typedef struct state {
    uint32_t r[NREGS];
} state;

static uint32_t any_of(const state *st, unsigned regs)
{
    uint32_t m = 0;
    for (int r = 0; r < NREGS; r++)
        if (regs & LR_REG_BIT(r))
            m |= st->r[r];
    return m;
}

static unsigned held(const state *st)
{
    unsigned regs = 0;
    for (int r = 0; r < NREGS; r++)
        if (st->r[r])
            regs |= LR_REG_BIT(r);
    return regs;
}

static void transfer(const flow_insn *f, const scan *s, const state *in, state *out)
{
    if (f->kind == K_CALL || f->kind == K_ICALL) {
        for (int r = 0; r < NREGS; r++)
            out->r[r] = LR_CALLEE_SAVED & LR_REG_BIT(r) ? in->r[r] : 0;
        return;
    }
    uint32_t from = any_of(in, f->src);
    for (int r = 0; r < NREGS; r++) {
        out->r[r] = f->kill & LR_REG_BIT(r) ? 0 : in->r[r];
        if (f->dst & LR_REG_BIT(r))
            out->r[r] |= from;
    }
    if (f->seed >= 0)
        out->r[s->seeds[f->seed].reg] |= 1u << f->seed;
}

static int merge(state *into, const state *from)
{
    int changed = 0;
    for (int r = 0; r < NREGS; r++)
        if ((into->r[r] | from->r[r]) != into->r[r]) {
            into->r[r] |= from->r[r];
            changed = 1;
        }
    return changed;
}

/* The registers that may hold a seed before each instruction: to a fixed
 * point over the function's branches. An indirect jump (a jump table,
 * an indirect tail call) may land on any instruction. */
static void solve(const scan *s, flow_insn *fi, int n, state *in)
{
    state out, indirect = { { 0 } };
    for (int changed = 1, rounds = 0; changed && rounds < 1024; rounds++) {
        changed = 0;
        for (int i = 0; i < n; i++) {
            changed |= merge(&in[i], &indirect);
            transfer(&fi[i], s, &in[i], &out);
            const flow_insn *f = &fi[i];
            int next = f->kind != K_JMP && f->kind != K_IJMP && f->kind != K_RET && f->kind != K_STOP;
            if (next && i + 1 < n)
                changed |= merge(&in[i + 1], &out);
            if (f->kind == K_JMP || f->kind == K_JCC) {
                int t = index_of(fi, n, f->target);
                if (t >= 0)
                    changed |= merge(&in[t], &out);
            }
            if (f->kind == K_IJMP)
                changed |= merge(&indirect, &out);
        }
    }
}

/* Every variable of the seeds in mask: its address escapes at `at`. */
static void escape(const scan *s, uint32_t mask, uintptr_t at)
{
    uint32_t done = 0;
    for (int k = 0; k < s->nseeds; k++)
        if (mask & (1u << k) && !(done & (1u << k))) {
            lr_watch_escape(s->seeds[k].var, at);
            for (int j = k; j < s->nseeds; j++)
                if (s->seeds[j].var == s->seeds[k].var)
                    done |= 1u << j;
        }
}

/* A direct call (or tail jump) with the pointer in argument registers. */
static int call_seen(csh h, scan *s, const flow_insn *f, unsigned args, uint32_t mask, cs_insn *insn)
{
    const uint8_t *code = f->si.bytes;
    size_t size = f->si.len;
    uint64_t address = f->addr;
    if (!lr_watch_cs.disasm_iter(h, &code, &size, &address, insn))
        return 0;
    int var = -1;
    for (int k = 0; k < s->nseeds && var < 0; k++)
        if (mask & (1u << k))
            var = s->seeds[k].var;
    return var >= 0 && lr_watch_follow_call(h, s, insn, args, var);
}

/* The candidates of this function (from first on) that move each
 * instruction: an access there is watched already, or becomes so. */
static void mark_covered(const scan *s, uint32_t first, flow_insn *fi, int n)
{
    for (uint32_t c = first; c < s->n; c++) {
        uintptr_t a = s->c[c].insn;
        for (int j = 0; j < s->c[c].n; j++) {
            int i = index_of(fi, n, a);
            if (i >= 0) {
                fi[i].covered = (int)c + 1;
                fi[i].slot = j;
            }
            a += s->c[c].in[j].len;
        }
    }
}

static int var_of(const scan *s, uint32_t mask, int *single)
{
    int var = -1;
    *single = 1;
    for (int k = 0; k < s->nseeds; k++)
        if (mask & (1u << k)) {
            if (var >= 0 && s->seeds[k].var != var)
                *single = 0;
            if (var < 0)
                var = s->seeds[k].var;
        }
    return var;
}

static void fill_use(const scan *s, flow_insn *f, const state *st)
{
    uint32_t mask = (f->base >= 0 ? st->r[f->base] : 0) | (f->index >= 0 ? st->r[f->index] : 0);
    int single;
    f->si.p.var = (uint16_t)var_of(s, mask, &single);
    f->si.use = 1;
    /* one lock-prefixed instruction on it makes the variable atomic: only
     * when the pointer can be no other variable's */
    if (f->si.p.atomic && single)
        lr_watch_vars[f->si.p.var].atomic = 1;
}

/* A run of instructions around fi[i] moved to a trampoline, the accesses
 * through the pointer in it watched: at least 5 bytes (the jump), no
 * branch landing inside, none moved by another run. Where any
 * instruction may be a target (an indirect jump), the access alone. */
static int build_run(scan *s, flow_insn *fi, int n, int i, const state *in, int has_indirect)
{
    int best_a = -1, best_b = -1;
    for (int a = i; a >= 0 && a > i - MAX_SEQ && best_a < 0; a--) {
        if (a < i && (has_indirect || fi[a + 1].target_here || !fi[a].movable || fi[a].covered ||
                      fi[a].addr + fi[a].si.len != fi[a + 1].addr))
            break;
        size_t bytes = 0;
        for (int b = a; b < n && b - a < MAX_SEQ; b++) {
            if (b > a && (has_indirect || fi[b].target_here || fi[b - 1].addr + fi[b - 1].si.len != fi[b].addr))
                break;
            if (!fi[b].movable || fi[b].covered)
                break;
            bytes += fi[b].si.len;
            if (bytes >= 5 && b >= i) {
                if (best_a < 0 || b - a < best_b - best_a) {
                    best_a = a;
                    best_b = b;
                }
                break;
            }
        }
    }
    if (best_a < 0)
        return 0;
    candidate *c = lr_watch_new_candidate(s);
    if (!c)
        return 0;
    c->insn = fi[best_a].addr;
    c->n = best_b - best_a + 1;
    c->end = c->insn;
    for (int j = best_a; j <= best_b; j++) {
        flow_insn *f = &fi[j];
        c->in[j - best_a] = f->si;
        c->in[j - best_a].use = 0;
        if (f->patchable && f->access && !f->handled &&
            ((f->base >= 0 && in[j].r[f->base]) || (f->index >= 0 && in[j].r[f->index]))) {
            fill_use(s, f, &in[j]);
            c->in[j - best_a] = f->si;
            f->handled = 1;
        }
        f->covered = (int)(c - s->c) + 1;
        c->end += f->si.len;
    }
    return 1;
}

void lr_watch_flow(csh h, scan *s, uintptr_t start, size_t size, uint32_t first_candidate)
{
    if (!s->nseeds)
        return;
    flow_insn *fi = NULL;
    state *in = NULL;
    cs_insn *insn = lr_watch_cs.malloc(h);
    int n = 0, cap = 0, failed = !insn;
    const uint8_t *code = (const uint8_t *)start;
    uint64_t address = start;
    while (!failed && size > 0) {
        if (!lr_watch_cs.disasm_iter(h, &code, &size, &address, insn)) {
            code++;
            address++;
            size--;
            continue;
        }
        if (n == cap) {
            cap = cap ? cap * 2 : 256;
            flow_insn *more = cap <= MAX_FLOW_INSNS ? realloc(fi, (size_t)cap * sizeof *fi) : NULL;
            if (!more) {
                failed = 1;
                break;
            }
            fi = more;
        }
        describe(h, insn, s, &fi[n]);
        fi[n].target_here = lr_watch_addr_in(&s->targets, fi[n].addr);
        n++;
    }
    if (!failed && n)
        in = calloc((size_t)n, sizeof *in);
    if (!in) {
        for (int k = 0; k < s->nseeds; k++)
            lr_watch_escape(s->seeds[k].var, s->seeds[k].at);
        goto out;
    }
    solve(s, fi, n, in);
    mark_covered(s, first_candidate, fi, n);
    int has_indirect = s->has_indirect;
    /* the registers set in this basic block so far: a call's arguments
     * are (compilers set them just before it); a pointer left in an
     * argument register from before a branch is taken to be dead there,
     * or every call after a loop that used rcx would pass it */
    unsigned fresh = 0;
    for (int i = 0; i < n; i++) {
        flow_insn *f = &fi[i];
        const state *st = &in[i];
        if (f->target_here || (i > 0 && fi[i - 1].kind != K_PLAIN))
            fresh = 0;
        unsigned regs = held(st), set = fresh;
        fresh |= f->kill | f->dst;
        if (!regs)
            continue;
        uint32_t through = (f->base >= 0 ? st->r[f->base] : 0) | (f->index >= 0 ? st->r[f->index] : 0);
        if (f->stores & regs)
            escape(s, any_of(st, f->stores & regs), f->addr);
        switch (f->kind) {
        case K_CALL:
        case K_JMP:
        case K_JCC: {
            int out = f->kind == K_CALL || index_of(fi, n, f->target) < 0;
            if (!out)
                break;
            unsigned args = regs & set & LR_ARGUMENTS, rest = f->kind == K_CALL ? 0 : regs & ~LR_ARGUMENTS;
            if (args && (f->kind == K_JCC || !call_seen(h, s, f, args, any_of(st, args), insn)))
                escape(s, any_of(st, args), f->addr);
            if (rest)
                escape(s, any_of(st, rest), f->addr);
            break;
        }
        case K_ICALL:
        case K_IJMP:
            if (regs & set & LR_ARGUMENTS)
                escape(s, any_of(st, regs & set & LR_ARGUMENTS), f->addr);
            break;
        case K_RET:
            /* rax: returned, unless the function returns nothing (a
             * pointer walked to its end is often left there) */
            if ((regs & LR_REG_BIT(14)) && lr_sym_code_returns(f->addr) != 0)
                escape(s, st->r[14], f->addr);
            break;
        default:
            break;
        }
        if (!through || !f->access)
            continue;
        /* an access through the pointer */
        if (f->covered) {
            seq_insn *si = &s->c[f->covered - 1].in[f->slot];
            if (!si->use && f->patchable) {
                fill_use(s, f, st);
                *si = f->si;
            } else if (!si->use) {
                escape(s, through, f->addr);
            }
            f->handled = 1;
            continue;
        }
        if (f->handled)
            continue;
        if (!f->patchable || !build_run(s, fi, n, i, in, has_indirect))
            escape(s, through, f->addr);
    }
out:
    if (insn)
        lr_watch_cs.free(insn, 1);
    free(in);
    free(fi);
}
