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
    for (uint32_t i = 0; i < n; i++)
        need += (size_t)s->c[i].n * (15 + 2 * CALL_SIZE) + 5;
    size_t page = (size_t)sysconf(_SC_PAGESIZE);
    size_t size = (need + page - 1) & ~(page - 1);
    uint8_t *region = n ? map_near(o, size) : NULL;
    if (!region) {
        if (n)
            snprintf(err, errlen, "no room for code within 2 GiB of %s", lr_watch_base_name(o->path));
        return;
    }
    void (*stubs[2])(void) = { lr_watch_stub_pre, lr_watch_stub_post };
    memcpy(region, stubs, sizeof stubs);
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
        /* the first instruction becomes a jump to the slot; the bytes left
         * over, and the rest of the run, are never run in place */
        c->jump[0] = 0xe9;
        put32(&c->jump[1], (int32_t)((uintptr_t)slot - (c->insn + 5)));
        memset(&c->jump[5], 0x90, c->in[0].len - 5);
        c->ready = 1;
    }
    if (mprotect(region, size, PROT_READ | PROT_EXEC) != 0) {
        snprintf(err, errlen, "cannot make the trampolines executable (%s)", strerror(errno));
        lr_watch_npatches = first;
        return;
    }
    for (uint32_t i = 0; i < n; i++) {
        const candidate *c = &s->c[i];
        if (c->ready && pwrite(mem, c->jump, c->in[0].len, (off_t)c->insn) != c->in[0].len) {
            snprintf(err, errlen, "cannot rewrite code in %s through /proc/self/mem (%s)",
                     lr_watch_base_name(o->path), strerror(errno));
            /* what was not rewritten is never reached: forget it */
            for (uint32_t k = first; k < lr_watch_npatches; k++)
                if (lr_watch_patches[k].insn >= c->insn)
                    lr_watch_patches[k].size = 0;
            return;
        }
    }
}
