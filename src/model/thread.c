/* Per-thread state and the thread records behind reports. Thread records
 * (lr_thread_info) are found by id through a two-level table, like stacks.
 * Working state (held locks, context cache) is mapped per thread and
 * recycled through a free list when the thread ends. threads_lock guards
 * the id counter, the table pages and the free list; no lock path takes it
 * once a thread has its state. */
#include "model/thread.h"
#include "model/held.h"
#include "support/arena.h"
#include "support/bigstack.h"
#include "support/ilock.h"
#include "support/options.h"
#include "support/util.h"

#include <limits.h>
#include <pthread.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

__thread lr_thread *lr_tls_thread __attribute__((tls_model("initial-exec"))) = LR_THREAD_NONE;
lr_thread lr_thread_none = { .depth = 1 }, lr_thread_dead = { .depth = 1 };

#define PAGE_BITS 10
#define PAGES 65536

static lr_thread_info **pages[PAGES];
/* glibc's (ld.so's): the stack's end when the process started */
extern void *__libc_stack_end;

static uint32_t next_id = 1;            /* 0 is the main thread */
static int have_main;
static lr_thread *free_states;
static lr_ilock threads_lock = LR_ILOCK_INIT;
static pthread_key_t exit_key;
static int exit_key_ok;
static void (*on_end)(lr_thread_info *info);

/* The engines' parts (lr_thread_add_part): fixed before the first state. */
#define MAX_PARTS 8
static struct part {
    size_t offset, size;
    int (*start)(lr_thread *t, void *part, int reused);
} parts[MAX_PARTS];
static int nparts;
static size_t state_size = sizeof(lr_thread);
static int states_made;
static lr_thread *numbered[LR_STATES];  /* [0] unused; written under threads_lock */
static uint32_t numbers;
static int unnumbered;                  /* a state was made past LR_STATES */
static uint32_t starting;               /* threads created that do not run yet */

size_t lr_thread_add_part(size_t size, int (*start)(lr_thread *t, void *part, int reused))
{
    lr_ilock_take(&threads_lock);
    size_t offset = 0;
    if (!states_made && nparts < MAX_PARTS) {
        offset = (state_size + 63) & ~(size_t)63;
        parts[nparts++] = (struct part){ offset, size, start };
        state_size = offset + size;
    }
    lr_ilock_drop(&threads_lock);
    return offset;
}

void lr_thread_on_end(void (*fn)(lr_thread_info *info))
{
    on_end = fn;
}

static int start_parts(lr_thread *t, int reused)
{
    for (int i = 0; i < nparts; i++) {
        void *part = lr_thread_part(t, parts[i].offset);
        if (parts[i].start) {
            if (parts[i].start(t, part, reused) < 0)
                return -1;
        } else if (reused) {
            memset(part, 0, parts[i].size);
        }
    }
    return 0;
}

static lr_thread_info *new_info(uint32_t id)
{
    lr_thread_info *info = lr_arena_alloc(sizeof *info);
    if (!info || (id >> PAGE_BITS) >= PAGES)
        return NULL;
    lr_thread_info **page = pages[id >> PAGE_BITS];
    if (!page) {
        page = lr_arena_alloc(sizeof(*page) << PAGE_BITS);
        if (!page)
            return NULL;
        __atomic_store_n(&pages[id >> PAGE_BITS], page, __ATOMIC_RELEASE);
    }
    info->id = id;
    info->parent = UINT32_MAX;
    __atomic_store_n(&page[id & ((1u << PAGE_BITS) - 1)], info, __ATOMIC_RELEASE);
    return info;
}

lr_thread *lr_thread_numbered(uint32_t number)
{
    return number && number < LR_STATES ? __atomic_load_n(&numbered[number], __ATOMIC_ACQUIRE) : NULL;
}

lr_thread_walk lr_thread_walk_start(void)
{
    return (lr_thread_walk){ .next = 0, .every = (uint8_t)__atomic_load_n(&unnumbered, __ATOMIC_ACQUIRE) };
}

/* A state is the running thread's while that thread's record points back
 * at it: a recycled state names its new thread's record before that record
 * names it (attach), and an ended thread's record names none. */
lr_thread_info *lr_thread_walk_next(lr_thread_walk *w)
{
    if (w->every) {
        while (w->next < lr_thread_count()) {
            lr_thread_info *info = lr_thread_info_get(w->next++);
            if (info && __atomic_load_n(&info->state, __ATOMIC_ACQUIRE))
                return info;
        }
        return NULL;
    }
    while (w->next < __atomic_load_n(&numbers, __ATOMIC_ACQUIRE)) {
        lr_thread *t = __atomic_load_n(&numbered[++w->next], __ATOMIC_ACQUIRE);
        lr_thread_info *info = t ? __atomic_load_n(&t->info, __ATOMIC_ACQUIRE) : NULL;
        if (info && __atomic_load_n(&info->state, __ATOMIC_ACQUIRE) == t)
            return info;
    }
    return NULL;
}

lr_thread_info *lr_thread_info_get(uint32_t id)
{
    if ((id >> PAGE_BITS) >= PAGES)
        return NULL;
    lr_thread_info **page = __atomic_load_n(&pages[id >> PAGE_BITS], __ATOMIC_ACQUIRE);
    return page ? __atomic_load_n(&page[id & ((1u << PAGE_BITS) - 1)], __ATOMIC_ACQUIRE) : NULL;
}

uint32_t lr_thread_count(void)
{
    return __atomic_load_n(&next_id, __ATOMIC_ACQUIRE);
}

static lr_thread_info *info_for_unknown_thread(pid_t tid)
{
    lr_ilock_take(&threads_lock);
    uint32_t id;
    if (tid == getpid() && !have_main) {
        id = 0;
        have_main = 1;
    } else {
        id = next_id++;
    }
    lr_thread_info *info = new_info(id);
    lr_ilock_drop(&threads_lock);
    return info;
}

static lr_thread *new_state(void)
{
    lr_ilock_take(&threads_lock);
    states_made = 1;
    lr_thread *t = free_states;
    if (t)
        free_states = t->next_free;
    lr_ilock_drop(&threads_lock);
    int reused = t != NULL;
    if (!t) {
        t = lr_map(state_size);
        if (!t)
            return NULL;
        lr_ilock_take(&threads_lock);
        if (numbers + 1 < LR_STATES) {
            t->number = numbers + 1;
            __atomic_store_n(&numbered[t->number], t, __ATOMIC_RELEASE);
            __atomic_store_n(&numbers, t->number, __ATOMIC_RELEASE);
        } else {
            __atomic_store_n(&unnumbered, 1, __ATOMIC_RELEASE);
        }
        lr_ilock_drop(&threads_lock);
    } else {
        /* A recycled state keeps its held array (never unmapped: the
         * watchdog may still read it); the engines decide what their parts
         * keep (start_parts). */
        lr_held *held = t->held != t->held_inline ? t->held : NULL;
        uint32_t held_cap = t->held_cap, number = t->number;
        struct lr_held_slot *index = t->held_index;
        uint32_t index_mask = t->held_index_mask, index_used = t->held_index_used;
        memset(t, 0, sizeof *t);
        t->number = number;
        if (held) {
            t->held = held;
            t->held_cap = held_cap;
        }
        t->held_index = index;
        t->held_index_mask = index_mask;
        t->held_index_used = index_used;
    }
    if (!t->held) {
        t->held = t->held_inline;
        t->held_cap = sizeof t->held_inline / sizeof t->held_inline[0];
    }
    lr_held_reset(t);
    if (start_parts(t, reused) < 0)
        return NULL;
    return t;
}

static lr_thread *attach(lr_thread_info *info)
{
    /* A thread started through the wrapper has its pthread_t (glibc's
     * descriptor) at the top of its stack mapping: reports find the stack
     * a lock lives on from that and /proc/self/maps (report/describe.c). Nothing
     * is asked of glibc here: pthread_getattr_np mallocs, and a thread's
     * first malloc gives it an arena of 64 MiB of address space. A thread
     * met on one of its calls (made before lockrace, or not through the
     * wrapper) may have its descriptor elsewhere: it is not labelled. */
    int at_start = info != NULL;
    lr_tls_thread = LR_THREAD_DEAD;     /* calls made while attaching pass through */
    lr_thread *t = new_state();
    pid_t tid = (pid_t)syscall(SYS_gettid);
    if (t && !info)
        info = info_for_unknown_thread(tid);
    if (!t || !info) {
        lr_tls_thread = LR_THREAD_NONE;
        return NULL;
    }
    info->tid = tid;
    info->handle = (uintptr_t)pthread_self();
    if (info->id == 0 && tid == getpid())
        info->stack_base = (uintptr_t)__libc_stack_end;   /* where the process's stack starts */
    __atomic_store_n(&t->info, info, __ATOMIC_RELEASE);   /* before info names t: lr_thread_walk_next */
    __atomic_store_n(&info->state, t, __ATOMIC_RELEASE);
    t->depth = 1;
    lr_tls_thread = t;
    info->descriptor_on_stack = at_start && info->id != 0;   /* the main thread's is not */
    if (exit_key_ok)
        pthread_setspecific(exit_key, t);
    t->depth = 0;
    return t;
}

lr_thread *lr_thread_new_synthetic(void)
{
    lr_thread *t = new_state();
    if (t) {
        t->info = info_for_unknown_thread(0);
        t->info->state = t;
    }
    return t;
}

lr_thread *lr_thread_attach(void)
{
    if (lr_tls_thread != LR_THREAD_NONE)    /* inside lockrace, or the thread is ending */
        return NULL;
    return attach(NULL);
}

lr_thread *lr_thread_current(void)
{
    lr_thread *t = lr_tls_thread;
    return t != LR_THREAD_NONE && t != LR_THREAD_DEAD ? t : NULL;
}

lr_thread_info *lr_thread_prepare_child(lr_thread *parent)
{
    lr_stack_id created = lr_stack_capture();
    lr_ilock_take(&threads_lock);
    lr_thread_info *info = new_info(next_id++);
    lr_ilock_drop(&threads_lock);
    if (info) {
        info->parent = parent->info->id;
        info->created_at = created;
        __atomic_add_fetch(&starting, 1, __ATOMIC_ACQ_REL);
    }
    return info;
}

/* Counted down once the thread has its state: whoever reads the count
 * first and walks the running threads after (lr_thread_others_run) sees
 * the thread in one or the other. */
void lr_thread_arrived(void)
{
    __atomic_sub_fetch(&starting, 1, __ATOMIC_ACQ_REL);
}

void lr_thread_create_failed(lr_thread_info *info)
{
    __atomic_store_n(&info->finished, 1, __ATOMIC_RELEASE);
    lr_thread_arrived();
}

/* The other thread this thread found running last time: asked again and
 * again (a Python Condition asks at every notify and wait), it nearly
 * always still runs, and is checked as the walk would check it. */
static __thread lr_thread_info *other_running __attribute__((tls_model("initial-exec")));

static int runs(const lr_thread_info *info)
{
    lr_thread *t = __atomic_load_n(&info->state, __ATOMIC_ACQUIRE);
    return t && __atomic_load_n(&t->info, __ATOMIC_ACQUIRE) == info &&
           !__atomic_load_n(&info->finished, __ATOMIC_ACQUIRE);
}

int lr_thread_others_run(const lr_thread_info *self)
{
    if (__atomic_load_n(&starting, __ATOMIC_ACQUIRE))
        return 1;
    lr_thread_info *last = other_running;
    if (last && last != self && runs(last))
        return 1;
    lr_thread_walk walk = lr_thread_walk_start();
    for (lr_thread_info *info; (info = lr_thread_walk_next(&walk));)
        if (info != self && !__atomic_load_n(&info->finished, __ATOMIC_ACQUIRE)) {
            other_running = info;
            return 1;
        }
    return 0;
}

void lr_thread_adopt(lr_thread_info *info)
{
    if (lr_tls_thread == LR_THREAD_NONE)
        attach(info);
}

void lr_thread_set_name(lr_thread_info *info, const char *name)
{
    strncpy(info->name, name, sizeof info->name - 1);
}

lr_thread_info *lr_thread_info_by_handle(uintptr_t handle)
{
    for (uint32_t id = lr_thread_count(); id-- > 0;) {
        lr_thread_info *info = lr_thread_info_get(id);
        if (info && info->handle == handle)
            return info;
    }
    return NULL;
}

lr_thread_info *lr_thread_info_by_tid(pid_t tid)
{
    lr_thread_walk walk = lr_thread_walk_start();
    for (lr_thread_info *info; (info = lr_thread_walk_next(&walk));)
        if (info->tid == tid)
            return info;
    return NULL;
}

/* A pthread key destructor: it re-arms itself until the last round, so
 * lockrace keeps watching the locks taken by the program's own TLS
 * destructors, then frees the state. */
void lr_thread_exit(void *state)
{
    lr_thread *t = state;
    if (++t->exit_rounds < PTHREAD_DESTRUCTOR_ITERATIONS) {
        pthread_setspecific(exit_key, t);
        return;
    }
    /* every thread's last moment: its cleanup handlers, C++ thread_local
     * destructors and the program's key destructors have run (a thread
     * cancelled, or ended by a path that bypassed the trampoline and
     * pthread_exit, has not been told it finished yet) */
    if (t->depth == 0 && on_end)
        on_end(t->info);
    lr_tls_thread = LR_THREAD_DEAD;
    lr_bigstack_thread_end();
    __atomic_store_n(&t->info->finished, 1, __ATOMIC_RELEASE);
    __atomic_store_n(&t->info->state, NULL, __ATOMIC_RELEASE);
    lr_ilock_take(&threads_lock);
    t->next_free = free_states;
    free_states = t;
    lr_ilock_drop(&threads_lock);
}

void lr_thread_init(void)
{
    exit_key_ok = pthread_key_create(&exit_key, lr_thread_exit) == 0;
}

void lr_thread_fork_prepare(void) { lr_ilock_take(&threads_lock); }
void lr_thread_fork_parent(void) { lr_ilock_drop(&threads_lock); }

/* Only the forking thread lives on in the child; the records of the others
 * stay for reports, but their working state is gone with them. */
void lr_thread_fork_child(void)
{
    lr_ilock_reset(&threads_lock);
    starting = 0;                       /* the forking thread was creating none */
    lr_thread *t = lr_thread_current();
    for (uint32_t id = 0; id < lr_thread_count(); id++) {
        lr_thread_info *info = lr_thread_info_get(id);
        if (info && (!t || info != t->info)) {
            info->state = NULL;
            info->wait.kind = LR_WAIT_NONE;
            info->finished = 1;
        }
    }
    if (t)
        t->info->tid = (pid_t)syscall(SYS_gettid);
}

void lr_wait_begin(lr_thread_info *self, int kind, uintptr_t object, lr_lock *lock,
                   lr_stack_id stack, int bounded)
{
    lr_wait *w = &self->wait;
    w->object = object;
    w->lock = lock;
    w->stack = stack;
    w->bounded = (uint8_t)bounded;
    /* only the watchdog reads it (watchdog.c), and options never change
     * once read: no clock read for each of the interpreter's GIL waits */
    w->since_ns = lr_opt.watchdog ? lr_now_ns() : 0;
    __atomic_add_fetch(&w->seq, 1, __ATOMIC_RELAXED);
    /* publish, then look: pairs with the other waiters' loads */
    __atomic_store_n(&w->kind, (uint32_t)kind, __ATOMIC_SEQ_CST);
}

void lr_wait_end(lr_thread_info *self)
{
    __atomic_store_n(&self->wait.kind, LR_WAIT_NONE, __ATOMIC_RELEASE);
}
