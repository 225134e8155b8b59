/* Rewriting: each instruction found becomes a jump to a trampoline, placed
 * within 2 GiB of it, that calls the stubs around the relocated run. */
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

static int fits_rel32(uintptr_t from, uintptr_t to)
{
    int64_t d = (int64_t)(to - from);
    return d >= INT32_MIN && d <= INT32_MAX;
}

/* A region for the trampolines within reach of the whole object. */
static uint8_t *map_near(const object *o, size_t size)
{
    long page = sysconf(_SC_PAGESIZE);
    for (int i = 0; i < 512; i++) {
        uintptr_t step = (uintptr_t)(i / 2 + 1) << 21;
        uintptr_t hint = i % 2 ? (o->lo & ~(uintptr_t)(page - 1)) - step - size
                               : ((o->hi + page - 1) & ~(uintptr_t)(page - 1)) + step;
        void *r = mmap((void *)hint, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS |
                       MAP_FIXED_NOREPLACE, -1, 0);
        if (r == MAP_FAILED)
            continue;
        uintptr_t a = (uintptr_t)r;
        if (fits_rel32(a, o->lo) && fits_rel32(a + size, o->hi) && fits_rel32(o->lo, a + size) &&
            fits_rel32(o->hi, a))
            return r;
        munmap(r, size);
    }
    return NULL;
}

static uint8_t *put32(uint8_t *at, int32_t v)
{
    memcpy(at, &v, 4);
    return at + 4;
}

/* lea -128(%rsp),%rsp; push $k; call *stub(%rip); lea 136(%rsp),%rsp */
static uint8_t *emit_call(uint8_t *at, uint32_t k, const uint8_t *stub_slot)
{
    static const uint8_t skip[] = { 0x48, 0x8d, 0x64, 0x24, 0x80 };
    static const uint8_t back[] = { 0x48, 0x8d, 0xa4, 0x24, 0x88, 0x00, 0x00, 0x00 };
    memcpy(at, skip, sizeof skip);
    at += sizeof skip;
    *at++ = 0x68;
    at = put32(at, (int32_t)k);
    *at++ = 0xff;
    *at++ = 0x15;
    at = put32(at, (int32_t)((uintptr_t)stub_slot - (uintptr_t)(at + 4)));
    memcpy(at, back, sizeof back);
    return at + sizeof back;
}

/* The bytes an instruction of a copy takes: a branch in its rel32 form,
 * the watched ones between two calls. */
#define RETURN_SIZE 20      /* emit_return_to's bytes */

#define TURN_AWAY_SIZE(ci) (33 + (size_t)(ci)->lea_len + 10 + 5 + 10 + (ci)->len)   /* emit_checked's, beside the calls */

static size_t copied_size(const clone_insn *ci)
{
    size_t n = ci->branch == BR_JCC ? 6 : ci->branch == BR_CALL ? RETURN_SIZE + 5 :
               ci->branch == BR_ICALL ? RETURN_SIZE + ci->len : ci->branch != BR_NONE ? 5 : ci->len;
    if (ci->use && ci->lea_len)
        n += TURN_AWAY_SIZE(ci);
    return n + (ci->use ? 2 * CALL_SIZE : 0);
}

static const uint8_t red_zone_down[] = { 0x48, 0x8d, 0x64, 0x24, 0x80 };                 /* lea -128(%rsp),%rsp */
static const uint8_t red_zone_up[] = { 0x48, 0x8d, 0xa4, 0x24, 0x80, 0x00, 0x00, 0x00 }; /* lea 128(%rsp),%rsp */

/* cmp SLOT(%rip),%rax, then a jcc rel32 (its condition in cc) to `to` */
static uint8_t *emit_compare(uint8_t *at, const uint8_t *slot, uint8_t cc, const uint8_t *to)
{
    *at++ = 0x48;
    *at++ = 0x3b;
    *at++ = 0x05;
    at = put32(at, (int32_t)(slot - (at + 4)));
    *at++ = 0x0f;
    *at++ = (uint8_t)(0x80 | cc);
    return put32(at, (int32_t)(to - (at + 4)));
}

/* An access in a copy that may go through the pointer, where its address
 * can be computed with a lea: if the address is outside the bounds of
 * every watched variable (the region's header), the instruction runs
 * alone; only otherwise between the calls to lockrace, which look for the
 * variable. The registers, flags and red zone are as the program left
 * them either way:
 *
 *     lea -128(%rsp),%rsp; push %rax; pushfq; lea ADDRESS,%rax
 *     cmp hi(%rip),%rax; jae away; cmp lo(%rip),%rax; jb away
 *     popfq; pop %rax; lea 128(%rsp),%rsp; CALL pre; INSN; CALL post; jmp done
 *   away:
 *     popfq; pop %rax; lea 128(%rsp),%rsp; INSN
 *   done: */
static uint8_t *emit_checked(uint8_t *p, const seq_insn *ci, uint32_t k, const uint8_t *region)
{
    uint8_t *away = p + 33 + ci->lea_len + 10 + 2 * CALL_SIZE + ci->len + 5;
    memcpy(p, red_zone_down, sizeof red_zone_down);
    p += sizeof red_zone_down;
    *p++ = 0x50;
    *p++ = 0x9c;
    memcpy(p, ci->lea, ci->lea_len);
    p += ci->lea_len;
    p = emit_compare(p, region + 16, 0x3, away);       /* jae */
    p = emit_compare(p, region + 24, 0x2, away);       /* jb */
    *p++ = 0x9d;
    *p++ = 0x58;
    memcpy(p, red_zone_up, sizeof red_zone_up);
    p += sizeof red_zone_up;
    p = emit_call(p, k, region);
    memcpy(p, ci->bytes, ci->len);
    p += ci->len;
    p = emit_call(p, k, region + 8);
    *p++ = 0xe9;
    p = put32(p, (int32_t)(away + 10 + ci->len - (p + 4)));
    *p++ = 0x9d;
    *p++ = 0x58;
    memcpy(p, red_zone_up, sizeof red_zone_up);
    p += sizeof red_zone_up;
    memcpy(p, ci->bytes, ci->len);
    return p + ci->len;
}

static size_t clone_size(const clone_fn *c)
{
    size_t n = 5;       /* the jump to what follows the original, should it fall off its end */
    for (int i = 0; i < c->n; i++)
        n += copied_size(&c->in[i]);
    return n;
}

/* Pushes a return address without touching the flags or a register:
 * lea -8(%rsp),%rsp; movl $low,(%rsp); movl $high,4(%rsp) */
static uint8_t *emit_return_to(uint8_t *at, uintptr_t ret)
{
    static const uint8_t down[] = { 0x48, 0x8d, 0x64, 0x24, 0xf8 };
    memcpy(at, down, sizeof down);
    at += sizeof down;
    *at++ = 0xc7;
    *at++ = 0x04;
    *at++ = 0x24;
    at = put32(at, (int32_t)(uint32_t)ret);
    *at++ = 0xc7;
    *at++ = 0x44;
    *at++ = 0x24;
    *at++ = 0x04;
    return put32(at, (int32_t)(uint32_t)(ret >> 32));
}

static int by_insn(const void *a, const void *b)
{
    uintptr_t x = ((const clone_insn *)a)->addr, y = ((const clone_insn *)b)->addr;
    return x < y ? -1 : x > y;
}

/* Writes the copy of a callee at `at`: every instruction in order, its
 * branches re-aimed at the copy's own instructions (or, out of the
 * function, at the original targets), RIP-relative operands at what they
 * reached. 0 if some target is out of reach or not an instruction of the
 * function; the patches it took are then given back. */
static int write_clone(const scan *s, clone_fn *c, uint8_t *at, const uint8_t *region)
{
    size_t *off = malloc(((size_t)c->n + 1) * sizeof *off);
    if (!off)
        return 0;
    off[0] = 0;
    for (int i = 0; i < c->n; i++)
        off[i + 1] = off[i] + copied_size(&c->in[i]);
    uint32_t k0 = lr_watch_npatches;
    int ok = 1;
    uint8_t *p = at;
    for (int i = 0; i < c->n && ok; i++) {
        clone_insn *ci = &c->in[i];
        uint32_t k = lr_watch_npatches;
        if (ci->use && k == MAX_PATCHES) {
            ok = 0;
            break;
        }
        if (ci->use && ci->lea_len) {
            seq_insn si = { .len = ci->len, .lea_len = ci->lea_len };
            memcpy(si.bytes, ci->bytes, ci->len);
            memcpy(si.lea, ci->lea, ci->lea_len);
            p = emit_checked(p, &si, k, region);
            lr_watch_patches[k] = ci->p;
            lr_watch_npatches++;
            continue;
        }
        if (ci->use)
            p = emit_call(p, k, region);
        if (ci->branch == BR_CALL || ci->branch == BR_ICALL)
            p = emit_return_to(p, ci->addr + ci->len);
        uint8_t *moved = p;
        if (ci->branch == BR_NONE || ci->branch == BR_ICALL) {
            memcpy(p, ci->bytes, ci->len);
            if (ci->branch == BR_ICALL)
                p[ci->cc] = (uint8_t)((p[ci->cc] & ~0x38) | (4 << 3));  /* call *x -> jmp *x */
            p += ci->len;
            if (ci->disp_offset) {
                ok = fits_rel32((uintptr_t)p, ci->target);
                int32_t disp = (int32_t)(ci->target - (uintptr_t)p);
                memcpy(moved + ci->disp_offset, &disp, 4);
            }
        } else {
            uintptr_t to = ci->target;
            if (ci->sub)
                to = (uintptr_t)s->clones[ci->sub - 1].at;     /* a copy (or a jump to its original) */
            else if (to >= c->fn && to < c->end) {
                clone_insn key = { .addr = to };
                const clone_insn *t = bsearch(&key, c->in, (size_t)c->n, sizeof *c->in, by_insn);
                ok = t != NULL;
                to = t ? (uintptr_t)(at + off[t - c->in]) : 0;
            }
            if (ci->branch == BR_JCC) {
                *p++ = 0x0f;
                *p++ = (uint8_t)(0x80 | ci->cc);
            } else {
                *p++ = 0xe9;    /* a call too: its return address is pushed above */
            }
            ok = ok && fits_rel32((uintptr_t)p + 4, to);
            p = put32(p, (int32_t)(to - ((uintptr_t)p + 4)));
        }
        if (ci->use) {
            p = emit_call(p, k, region + 8);
            lr_watch_patches[k] = ci->p;
            lr_watch_npatches++;
        }
    }
    if (ok) {
        *p++ = 0xe9;
        ok = fits_rel32((uintptr_t)p + 4, c->end);
        put32(p, (int32_t)(c->end - ((uintptr_t)p + 4)));
    }
    free(off);
    if (!ok)
        lr_watch_npatches = k0;
    return ok;
}

static int by_address(const void *a, const void *b)
{
    const candidate *x = a, *y = b;
    return x->insn < y->insn ? -1 : x->insn > y->insn;
}

/* Writes the trampolines of one object's candidates, then the jumps to
 * them. A trampoline: each instruction of the run, moved (a RIP-relative
 * operand re-aimed), the watched ones between a call to pre and a call to
 * post, then a jump back after the run. */
void lr_watch_rewrite(const object *o, scan *s, int mem, char *err, size_t errlen)
{
    /* a function with two names is decoded twice; runs may overlap */
    qsort(s->c, s->n, sizeof *s->c, by_address);
    uint32_t n = 0;
    for (uint32_t i = 0; i < s->n; i++)
        if (n == 0 || s->c[i].insn >= s->c[n - 1].end)
            s->c[n++] = s->c[i];
    s->n = n;
    size_t need = REGION_HEADER;
    for (uint32_t i = 0; i < n; i++) {
        need += (size_t)s->c[i].n * (15 + 2 * CALL_SIZE) + 5;
        for (int j = 0; j < s->c[i].n; j++)
            need += s->c[i].in[j].use && s->c[i].in[j].lea_len ? TURN_AWAY_SIZE(&s->c[i].in[j]) : 0;
    }
    for (int i = 0; i < s->nclones; i++)
        need += s->clones[i].in ? clone_size(&s->clones[i]) : 0;
    size_t page = (size_t)sysconf(_SC_PAGESIZE);
    size_t size = (need + page - 1) & ~(page - 1);
    int work = n || s->nfollows;
    uint8_t *region = work ? map_near(o, size) : NULL;
    if (!region) {
        if (work)
            snprintf(err, errlen, "no room for code within 2 GiB of %s", lr_watch_base_name(o->path));
        return;
    }
    void (*stubs[2])(void) = { lr_watch_stub_pre, lr_watch_stub_post };
    memcpy(region, stubs, sizeof stubs);
    /* what a copy's access compares its address with (emit_checked): an
     * access of up to 64 bytes (a zmm register) that starts below lo - 63
     * ends before lo */
    uintptr_t bounds[2];
    lr_watch_bounds(&bounds[1], &bounds[0]);
    bounds[1] = bounds[1] > 63 ? bounds[1] - 63 : 0;
    memcpy(region + 16, bounds, sizeof bounds);
    uint32_t first = lr_watch_npatches;
    uint8_t *at = region + REGION_HEADER;
    for (uint32_t i = 0; i < n; i++) {
        candidate *c = &s->c[i];
        uint8_t *slot = at;
        uint32_t k0 = lr_watch_npatches;
        int ok = 1;
        for (int j = 0; j < c->n && ok; j++) {
            seq_insn *si = &c->in[j];
            if (si->use && lr_watch_npatches == MAX_PATCHES)
                ok = 0;
            if (!ok)
                break;
            uint32_t k = lr_watch_npatches;
            if (si->use && si->lea_len) {
                /* through a pointer the flow followed (flow.c): turned away
                 * fast when it is in no watched variable; not RIP-relative */
                at = emit_checked(at, si, k, region);
                lr_watch_patches[k] = si->p;
                lr_watch_npatches++;
                continue;
            }
            if (si->use)
                at = emit_call(at, k, region);
            uint8_t *moved = at;
            memcpy(at, si->bytes, si->len);
            at += si->len;
            if (si->disp_offset) {
                if (!fits_rel32((uintptr_t)at, si->target)) {
                    ok = 0;
                    break;
                }
                int32_t disp = (int32_t)(si->target - (uintptr_t)at);
                memcpy(moved + si->disp_offset, &disp, 4);
            }
            if (si->use) {
                at = emit_call(at, k, region + 8);
                lr_watch_patches[k] = si->p;
                lr_watch_npatches++;
            }
        }
        if (!ok) {
            lr_watch_npatches = k0;          /* the slot's bytes stay, unused */
            continue;
        }
        *at++ = 0xe9;
        at = put32(at, (int32_t)(c->end - (uintptr_t)(at + 4)));
        /* the first instruction becomes a jump to the slot (over the
         * next ones too when it is shorter: a run the register flow
         * made); the bytes left over, and the rest of the run, are never
         * run in place */
        c->jump[0] = 0xe9;
        put32(&c->jump[1], (int32_t)((uintptr_t)slot - (c->insn + 5)));
        if (c->in[0].len > 5)
            memset(&c->jump[5], 0x90, c->in[0].len - 5);
        c->ready = 1;
    }
    /* where each copy goes first: a copy's calls may go to another */
    for (int i = 0; i < s->nclones; i++) {
        clone_fn *c = &s->clones[i];
        if (c->in) {
            c->at = at;
            at += clone_size(c);
        }
    }
    for (int i = 0; i < s->nclones; i++) {
        clone_fn *c = &s->clones[i];
        if (!c->in)
            continue;
        c->written = write_clone(s, c, c->at, region);
        if (!c->written) {
            /* another copy may call it: it runs the original */
            c->at[0] = 0xe9;
            put32(c->at + 1, (int32_t)(c->fn - ((uintptr_t)c->at + 5)));
        }
    }
    if (mprotect(region, size, PROT_READ | PROT_EXEC) != 0) {
        snprintf(err, errlen, "cannot make the trampolines executable (%s)", strerror(errno));
        lr_watch_npatches = first;
        return;
    }
    for (uint32_t i = 0; i < n; i++) {
        const candidate *c = &s->c[i];
        ssize_t len = c->in[0].len > 5 ? c->in[0].len : 5;
        if (c->ready && pwrite(mem, c->jump, (size_t)len, (off_t)c->insn) != len) {
            snprintf(err, errlen, "cannot rewrite code in %s through /proc/self/mem (%s)",
                     lr_watch_base_name(o->path), strerror(errno));
            /* what was not rewritten is never reached: forget it */
            for (uint32_t k = first; k < lr_watch_npatches; k++)
                if (lr_watch_patches[k].insn >= c->insn)
                    lr_watch_patches[k].size = 0;
            return;
        }
    }
    /* the calls that pass a pointer to a watched variable now call the copy */
    for (int i = 0; i < s->nfollows; i++) {
        const follow *f = &s->follows[i];
        const clone_fn *c = &s->clones[f->clone];
        uint8_t call[5] = { f->op };
        if (!c->written || !fits_rel32(f->call + 5, (uintptr_t)c->at))
            continue;
        put32(&call[1], (int32_t)((uintptr_t)c->at - (f->call + 5)));
        if (pwrite(mem, call, sizeof call, (off_t)f->call) != sizeof call) {
            snprintf(err, errlen, "cannot rewrite code in %s through /proc/self/mem (%s)",
                     lr_watch_base_name(o->path), strerror(errno));
            return;
        }
    }
}
