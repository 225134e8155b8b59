/* The fast walk of unwind.h. Support layer: no lock, no malloc, no
 * system call but the mmap of a table level; may run in a signal handler.
 *
 * A frame's rule is what the CFA program of its FDE says at its return
 * address: the CFA is rsp or rbp plus an offset, the return address is
 * saved at the CFA plus an offset, and rbp is either kept or saved at the
 * CFA plus an offset. That covers the code compilers emit for x86-64
 * functions; anything else (a CFA expression, rbp kept in another
 * register, a signal frame, no FDE, an undefined return address at the
 * end of the stack) is marked as not followed, and the whole walk is left
 * to libgcc, so that a stack is the same whichever unwinder walked it.
 * The program is run as libgcc runs it (unwind-dw2.c, uw_frame_state_for):
 * the CIE's initial instructions, then the FDE's while the location is
 * below the return address. The rules are kept by return address in an
 * insert-only table read without a lock, as the process-wide tables of
 * lockorder.c: small first, larger levels mapped as neighbourhoods fill
 * (each page of a table costs a page fault when first touched). */
#include "support/unwind.h"
#include "support/arena.h"

#include <stddef.h>
#include <string.h>

#if defined(__x86_64__)

enum {
    RULE_KNOWN = 1,             /* the slot's rule is written */
    RULE_FOLLOWED = 2,          /* 0: leave the walk to libgcc */
    RULE_CFA_RBP = 4,           /* CFA = rbp + cfa_off, else rsp + cfa_off */
    RULE_RBP_SAVED = 8,         /* rbp saved at CFA + rbp_off, else kept */
    RULE_END = 16,              /* the return address is undefined: the outermost frame */
};

/* One 64-bit word, so that a reader never sees half of one. */
typedef union rule {
    uint64_t word;
    struct {
        int32_t cfa_off;
        int16_t rbp_off;
        int8_t ra_off;
        uint8_t flags;
    } r;
} rule;

typedef struct rule_slot {
    uint64_t pc;                /* the return address; 0 empty */
    uint64_t rule;              /* 0 until written */
} rule_slot;

#define LEVELS 3
#define PROBES 8
static const uint8_t level_bits[LEVELS] = { 9, 12, 15 };   /* 8 KiB, 64 KiB, 512 KiB */
static rule_slot *levels[LEVELS];

static const void *(*find_fde)(void *pc, void *bases);

void lr_unwind_init(const void *(*find)(void *pc, void *bases))
{
    find_fde = find;
}

static rule_slot *level(int i)
{
    rule_slot *slots = __atomic_load_n(&levels[i], __ATOMIC_ACQUIRE);
    if (slots)
        return slots;
    size_t size = sizeof *slots << level_bits[i];
    rule_slot *fresh = lr_map(size);
    if (!fresh)
        return NULL;
    if (!__atomic_compare_exchange_n(&levels[i], &slots, fresh, 0, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE)) {
        lr_unmap(fresh, size);
        return slots;
    }
    return fresh;
}

static uint32_t slot_index(uint64_t pc, int i)
{
    uint64_t h = pc * 0x9e3779b97f4a7c15ull;
    if (i)                      /* other bits in each level */
        h = h << (13 * i) | h >> (64 - 13 * i);
    return (uint32_t)(h >> (64 - level_bits[i]));
}

/* The rule kept for pc, 0 none. */
static uint64_t kept_rule(uint64_t pc)
{
    for (int i = 0; i < LEVELS; i++) {
        rule_slot *t = __atomic_load_n(&levels[i], __ATOMIC_ACQUIRE);
        if (!t)
            return 0;
        uint32_t mask = (1u << level_bits[i]) - 1, j = slot_index(pc, i);
        for (int p = 0; p < PROBES; p++, j = (j + 1) & mask) {
            uint64_t k = __atomic_load_n(&t[j].pc, __ATOMIC_ACQUIRE);
            if (k == 0)
                return 0;
            if (k == pc)
                return __atomic_load_n(&t[j].rule, __ATOMIC_ACQUIRE);
        }
    }
    return 0;
}

static void keep_rule(uint64_t pc, uint64_t r)
{
    for (int i = 0; i < LEVELS; i++) {
        rule_slot *t = level(i);
        if (!t)
            return;
        uint32_t mask = (1u << level_bits[i]) - 1, j = slot_index(pc, i);
        for (int p = 0; p < PROBES; p++, j = (j + 1) & mask) {
            uint64_t k = __atomic_load_n(&t[j].pc, __ATOMIC_ACQUIRE);
            if (k == 0 && __atomic_compare_exchange_n(&t[j].pc, &k, pc, 0, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE))
                k = pc;
            if (k == pc) {
                __atomic_store_n(&t[j].rule, r, __ATOMIC_RELEASE);
                return;
            }
        }
    }
}

/* ---- reading DWARF call frame information (.eh_frame) ---- */

typedef struct reader {
    const uint8_t *p, *end;
    int bad;
} reader;

static uint8_t u8(reader *r)
{
    if (r->p >= r->end) {
        r->bad = 1;
        return 0;
    }
    return *r->p++;
}

static uint64_t uleb(reader *r)
{
    uint64_t v = 0;
    for (int shift = 0; shift < 64; shift += 7) {
        uint8_t b = u8(r);
        v |= (uint64_t)(b & 0x7f) << shift;
        if (!(b & 0x80))
            return v;
    }
    r->bad = 1;
    return 0;
}

static int64_t sleb(reader *r)
{
    uint64_t v = 0;
    int shift = 0;
    uint8_t b;
    do {
        b = u8(r);
        v |= (uint64_t)(b & 0x7f) << shift;
        shift += 7;
    } while ((b & 0x80) && shift < 64 && !r->bad);
    if (shift < 64 && (b & 0x40))
        v |= ~(uint64_t)0 << shift;
    return (int64_t)v;
}

/* An n-byte little-endian number (n <= 8). */
static uint64_t fixed(reader *r, size_t n)
{
    uint64_t v = 0;
    if ((size_t)(r->end - r->p) < n) {
        r->bad = 1;
        return 0;
    }
    memcpy(&v, r->p, n);
    r->p += n;
    return v;
}

static void skip(reader *r, uint64_t n)
{
    if ((uint64_t)(r->end - r->p) < n)
        r->bad = 1;
    else
        r->p += n;
}

/* Skips a value of a pointer encoding (DW_EH_PE_*); only its size counts
 * here (the FDE's start comes from _Unwind_Find_FDE). */
static void skip_encoded(reader *r, uint8_t enc)
{
    if (enc == 0xff)            /* DW_EH_PE_omit */
        return;
    switch (enc & 0x0f) {
    case 0x00: skip(r, 8); break;                   /* absptr */
    case 0x01: uleb(r); break;
    case 0x09: sleb(r); break;
    case 0x02: case 0x0a: skip(r, 2); break;
    case 0x03: case 0x0b: skip(r, 4); break;
    case 0x04: case 0x0c: skip(r, 8); break;
    default: r->bad = 1;
    }
}

/* The registers a rule speaks of (DWARF numbers, x86-64). */
enum { REG_RBP = 6, REG_RSP = 7, REG_RA = 16 };
enum { SAME, OFFSET, UNDEFINED, OTHER };

typedef struct row {
    int cfa_reg;
    int64_t cfa_off;
    int how[2];                 /* rbp, ra: SAME, OFFSET, UNDEFINED, OTHER */
    int64_t off[2];
} row;

static int tracked(uint64_t reg)
{
    return reg == REG_RBP ? 0 : reg == REG_RA ? 1 : -1;
}

static void set_rule(row *s, uint64_t reg, int how, int64_t off)
{
    int t = tracked(reg);
    if (t >= 0) {
        s->how[t] = how;
        s->off[t] = off;
    }
}

/* Runs a CFA program while loc < until; 0, or -1 on what it does not follow. */
static int run(reader *r, row *s, const row *initial, uint64_t *loc, uint64_t until, uint64_t code_align,
               int64_t data_align)
{
    row saved[4];
    int nsaved = 0;
    while (r->p < r->end && *loc < until && !r->bad) {
        uint8_t op = u8(r), low = op & 0x3f;
        uint64_t reg;
        switch (op >> 6) {
        case 1:                 /* advance_loc */
            *loc += low * code_align;
            continue;
        case 2:                 /* offset */
            set_rule(s, low, OFFSET, (int64_t)uleb(r) * data_align);
            continue;
        case 3:                 /* restore */
            if (tracked(low) >= 0)
                set_rule(s, low, initial->how[tracked(low)], initial->off[tracked(low)]);
            continue;
        }
        switch (op) {
        case 0x00: break;                                           /* nop */
        case 0x02: *loc += u8(r) * code_align; break;               /* advance_loc1 */
        case 0x03: *loc += fixed(r, 2) * code_align; break;         /* advance_loc2 */
        case 0x04: *loc += fixed(r, 4) * code_align; break;         /* advance_loc4 */
        case 0x05:                                                  /* offset_extended */
            reg = uleb(r);
            set_rule(s, reg, OFFSET, (int64_t)uleb(r) * data_align);
            break;
        case 0x06:                                                  /* restore_extended */
            reg = uleb(r);
            if (tracked(reg) >= 0)
                set_rule(s, reg, initial->how[tracked(reg)], initial->off[tracked(reg)]);
            break;
        case 0x07: set_rule(s, uleb(r), UNDEFINED, 0); break;       /* undefined */
        case 0x08: set_rule(s, uleb(r), SAME, 0); break;            /* same_value */
        case 0x09:                                                  /* register */
            reg = uleb(r);
            uleb(r);
            set_rule(s, reg, OTHER, 0);
            break;
        case 0x0a:                                                  /* remember_state */
            if (nsaved == 4)
                return -1;
            saved[nsaved++] = *s;
            break;
        case 0x0b:                                                  /* restore_state */
            if (nsaved == 0)
                return -1;
            *s = saved[--nsaved];   /* the CFA too, as libgcc restores it
                                       (GCC's epilogues rely on that) */
            break;
        case 0x0c:                                                  /* def_cfa */
            s->cfa_reg = (int)uleb(r);
            s->cfa_off = (int64_t)uleb(r);
            break;
        case 0x0d: s->cfa_reg = (int)uleb(r); break;                /* def_cfa_register */
        case 0x0e: s->cfa_off = (int64_t)uleb(r); break;            /* def_cfa_offset */
        case 0x10:                                                  /* expression */
            reg = uleb(r);
            skip(r, uleb(r));
            set_rule(s, reg, OTHER, 0);
            break;
        case 0x11:                                                  /* offset_extended_sf */
            reg = uleb(r);
            set_rule(s, reg, OFFSET, sleb(r) * data_align);
            break;
        case 0x12:                                                  /* def_cfa_sf */
            s->cfa_reg = (int)uleb(r);
            s->cfa_off = sleb(r) * data_align;
            break;
        case 0x13: s->cfa_off = sleb(r) * data_align; break;        /* def_cfa_offset_sf */
        case 0x14:                                                  /* val_offset */
            reg = uleb(r);
            uleb(r);
            set_rule(s, reg, OTHER, 0);
            break;
        case 0x15:                                                  /* val_offset_sf */
            reg = uleb(r);
            sleb(r);
            set_rule(s, reg, OTHER, 0);
            break;
        case 0x16:                                                  /* val_expression */
            reg = uleb(r);
            skip(r, uleb(r));
            set_rule(s, reg, OTHER, 0);
            break;
        case 0x2e: uleb(r); break;                                  /* GNU_args_size */
        case 0x2f:                                                  /* GNU_negative_offset_extended */
            reg = uleb(r);
            set_rule(s, reg, OFFSET, -(int64_t)uleb(r) * data_align);
            break;
        default:
            return -1;          /* def_cfa_expression, set_loc, vendor ops */
        }
    }
    return r->bad ? -1 : 0;
}

struct eh_bases {
    void *tbase, *dbase, *func;  /* libgcc's struct dwarf_eh_bases */
};

/* The rule at return address pc, read from its FDE; RULE_KNOWN alone when
 * the walker does not follow it. */
static uint64_t read_rule(uint64_t pc)
{
    rule out = { .word = 0 };
    out.r.flags = RULE_KNOWN;
    struct eh_bases bases = { 0 };
    const uint8_t *fde = find_fde ? find_fde((void *)(pc - 1), &bases) : NULL;
    if (!fde)
        return out.word;
    uint32_t len, cie_delta;
    memcpy(&len, fde, 4);
    memcpy(&cie_delta, fde + 4, 4);
    if (len == 0xffffffffu || len < 8 || cie_delta == 0)
        return out.word;
    const uint8_t *cie = fde + 4 - cie_delta;
    uint32_t cie_len, cie_id;
    memcpy(&cie_len, cie, 4);
    memcpy(&cie_id, cie + 4, 4);
    if (cie_len == 0xffffffffu || cie_len < 8 || cie_id != 0)
        return out.word;
    reader c = { cie + 8, cie + 4 + cie_len, 0 };
    uint8_t version = u8(&c);
    const char *aug = (const char *)c.p;
    size_t aug_len = strnlen(aug, (size_t)(c.end - c.p));
    skip(&c, aug_len + 1);
    if (c.bad || (version != 1 && version != 3 && version != 4))
        return out.word;
    if (version == 4) {
        skip(&c, 2);            /* address and segment sizes */
    }
    uint64_t code_align = uleb(&c);
    int64_t data_align = sleb(&c);
    uint64_t ra_reg = version == 1 ? u8(&c) : uleb(&c);
    uint8_t fde_enc = 0;        /* absptr */
    int z = 0;
    if (aug[0] == 'z') {
        z = 1;
        uint64_t n = uleb(&c);
        const uint8_t *data_end = c.p + n;
        if (n > (uint64_t)(c.end - c.p))
            return out.word;
        for (size_t i = 1; i < aug_len && !c.bad; i++) {
            if (aug[i] == 'R') {
                fde_enc = u8(&c);
            } else if (aug[i] == 'P') {
                uint8_t enc = u8(&c);
                skip_encoded(&c, enc & 0x7f);
            } else if (aug[i] == 'L') {
                u8(&c);
            } else if (aug[i] == 'S') {
                return out.word;        /* a signal frame: libgcc's */
            } else {
                break;                  /* 'B' and others: the length skips them */
            }
        }
        c.p = data_end;
    } else if (aug[0]) {
        return out.word;
    }
    if (c.bad || ra_reg != REG_RA)
        return out.word;
    row initial = { .cfa_reg = -1, .how = { SAME, SAME } };
    uint64_t loc = (uint64_t)(uintptr_t)bases.func;
    if (run(&c, &initial, &initial, &loc, UINT64_MAX, code_align, data_align) < 0)
        return out.word;
    /* the FDE: its start and range (sized by the encoding), its
     * augmentation data, its program */
    reader f = { fde + 8, fde + 4 + len, 0 };
    skip_encoded(&f, fde_enc & 0x7f);
    skip_encoded(&f, fde_enc & 0x0f);
    if (z)
        skip(&f, uleb(&f));
    row s = initial;
    loc = (uint64_t)(uintptr_t)bases.func;
    if (f.bad || run(&f, &s, &initial, &loc, pc, code_align, data_align) < 0)
        return out.word;
    if (s.how[1] == UNDEFINED) {
        out.r.flags |= RULE_END;
        return out.word;
    }
    if ((s.cfa_reg != REG_RSP && s.cfa_reg != REG_RBP) || s.cfa_off < INT32_MIN || s.cfa_off > INT32_MAX ||
        s.how[1] != OFFSET || s.off[1] < INT8_MIN || s.off[1] > INT8_MAX ||
        (s.how[0] != SAME && s.how[0] != OFFSET) || s.off[0] < INT16_MIN || s.off[0] > INT16_MAX)
        return out.word;
    out.r.cfa_off = (int32_t)s.cfa_off;
    out.r.ra_off = (int8_t)s.off[1];
    out.r.rbp_off = (int16_t)(s.how[0] == OFFSET ? s.off[0] : 0);
    out.r.flags |= RULE_FOLLOWED | (s.cfa_reg == REG_RBP ? RULE_CFA_RBP : 0) |
                   (s.how[0] == OFFSET ? RULE_RBP_SAVED : 0);
    return out.word;
}

static rule rule_at(uint64_t pc)
{
    rule r = { .word = kept_rule(pc) };
    if (!r.word) {
        r.word = read_rule(pc);
        keep_rule(pc, r.word);
    }
    return r;
}

__attribute__((noinline, no_sanitize_address)) int lr_unwind_fast(void **out, const lr_unwind_limits *limits)
{
    if (!find_fde)
        return -1;
    /* this function's frame: it has a frame pointer (the builtin makes
     * one), so its CFA, return address and caller's rbp are known */
    uintptr_t *fp = __builtin_frame_address(0);
    uint64_t rsp = (uint64_t)(uintptr_t)(fp + 2), rbp = fp[0], pc = fp[1];
    int n = 0, kept = 0;
    for (;;) {
        out[n] = (void *)(uintptr_t)pc;
        if (pc < limits->self_lo || pc >= limits->self_hi)
            kept++;
        int last = limits->fold && limits->fold(pc - 1);
        if (++n == limits->max || kept >= limits->keep || last)
            return n;
        if (pc == 0)
            return -1;
        rule r = rule_at(pc);
        if (r.r.flags & RULE_END)
            return n;           /* libgcc ends there too (uw_update_context) */
        if (!(r.r.flags & RULE_FOLLOWED))
            return -1;
        uint64_t cfa = (r.r.flags & RULE_CFA_RBP ? rbp : rsp) + (int64_t)r.r.cfa_off;
        if (cfa <= rsp || (cfa & 7))
            return -1;          /* no progress (a caller's frame is above), or not a frame: libgcc decides */
        if (r.r.flags & RULE_RBP_SAVED)
            rbp = *(const uint64_t *)(uintptr_t)(cfa + (int64_t)r.r.rbp_off);
        pc = *(const uint64_t *)(uintptr_t)(cfa + (int64_t)r.r.ra_off);
        rsp = cfa;
    }
}

#else

void lr_unwind_init(const void *(*find)(void *pc, void *bases)) { (void)find; }
int lr_unwind_fast(void **out, const lr_unwind_limits *limits) { (void)out; (void)limits; return -1; }

#endif
