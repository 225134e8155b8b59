/* The misuse report: what the call did wrong, with its stack and the
 * stack of the earlier event it conflicts with. */
#include "report/format.h"
#include "model/lockreg.h"
#include "support/options.h"

#include <limits.h>
#include <semaphore.h>
#include <unistd.h>

static const char *names[] = {
    [LR_MISUSE_UNLOCK_NOT_HELD] = "unlock-not-held",
    [LR_MISUSE_UNLOCK_NOT_LOCKED] = "unlock-not-locked",
    [LR_MISUSE_RELOCK] = "relock",
    [LR_MISUSE_DESTROY_LOCKED] = "destroy-locked",
    [LR_MISUSE_LOCK_DESTROYED] = "lock-destroyed",
    [LR_MISUSE_REINIT_LOCKED] = "reinit-locked",
    [LR_MISUSE_COND_UNHELD] = "cond-wait-unheld",
    [LR_MISUSE_COND_TWO_MUTEXES] = "cond-two-mutexes",
    [LR_MISUSE_EXIT_HOLDING] = "exit-holding-locks",
    [LR_MISUSE_BARRIER_ZERO] = "barrier-count-zero",
    [LR_MISUSE_COND_DESTROY_WAITED] = "cond-destroy-waited",
    [LR_MISUSE_RWLOCK_RELOCK] = "rwlock-relock",
    [LR_MISUSE_REINIT] = "reinit",
    [LR_MISUSE_REUSED_LOCKED] = "reused-while-locked",
    [LR_MISUSE_DESTROY_MISCOUNTED] = "destroy-miscounted",
    [LR_MISUSE_LOCK_INVALID] = "lock-invalid",
    [LR_MISUSE_SEM_DESTROY_WAITED] = "sem-destroy-waited",
    [LR_MISUSE_SEM_DESTROYED] = "sem-destroyed",
    [LR_MISUSE_SEM_INIT_INVALID] = "sem-init-invalid",
    [LR_MISUSE_SEM_OVERFLOW] = "sem-post-overflow",
    [LR_MISUSE_SEM_INVALID] = "sem-invalid",
};

const char *lr_misuse_name(int kind)
{
    return kind >= 0 && kind < LR_MISUSE_KINDS ? names[kind] : "misuse";
}

/* What the call did wrong, after "T1 ": "unlocks lock_a, which it does not hold" */
static void misuse_words(lr_buf *b, const lr_report *r, char (*labels)[200])
{
    char obj[200] = "", other[64] = "";
    uintptr_t object = r->threads[0].wait_object;
    if (object)
        lr_named_object(object, r->misuse == LR_MISUSE_BARRIER_ZERO ? "barrier"
                             : r->misuse >= LR_MISUSE_SEM_DESTROY_WAITED ? "semaphore"
                                                                      : "condition", obj, sizeof obj);
    if (r->nthreads > 1)
        lr_thread_label(r->threads[1].id, other, sizeof other);
    const char *lock = r->nlocks ? labels[0] : "";
    switch (r->misuse) {
    case LR_MISUSE_UNLOCK_NOT_HELD:
        if (r->nthreads > 1)
            lr_buf_printf(b, "unlocks %s, which %s holds, not it", lock, other);
        else
            lr_buf_printf(b, "unlocks %s, which is not locked", lock);
        break;
    case LR_MISUSE_UNLOCK_NOT_LOCKED:
        lr_buf_printf(b, "unlocks %s, which is not locked", lock);
        break;
    case LR_MISUSE_RELOCK:
        lr_buf_printf(b, "locks the error-checking mutex %s, which it already holds: the call fails "
                         "with EDEADLK", lock);
        break;
    case LR_MISUSE_DESTROY_LOCKED:
        lr_buf_printf(b, "destroys %s while it is locked: the call fails with EBUSY", lock);
        break;
    case LR_MISUSE_LOCK_DESTROYED:
        lr_buf_printf(b, "locks %s, which was destroyed and not initialised again", lock);
        break;
    case LR_MISUSE_LOCK_INVALID:
        lr_buf_printf(b, "locks %s, which is not an initialised mutex: its bytes read as a destroyed "
                         "one, and lockrace has no record of a destroy of it (never initialised, or "
                         "overwritten)", lock);
        break;
    case LR_MISUSE_DESTROY_MISCOUNTED:
        lr_buf_printf(b, "destroys %s, which is not locked: the call fails with EBUSY all the same, "
                         "because an unlock while it was not locked left glibc's count of its users "
                         "below zero", lock);
        break;
    case LR_MISUSE_REINIT_LOCKED:
        lr_buf_printf(b, "initialises %s again while %s holds it", lock, other);
        break;
    case LR_MISUSE_REUSED_LOCKED:
        lr_buf_printf(b, "initialises a mutex at %s, where %s locked one and never unlocked it: its "
                         "memory was freed or went out of scope while it was locked (or it is "
                         "initialised again while held)", lock, other);
        break;
    case LR_MISUSE_COND_UNHELD:
        lr_buf_printf(b, "waits on %s with %s, which it does not hold", obj, lock);
        break;
    case LR_MISUSE_COND_TWO_MUTEXES:
        lr_buf_printf(b, "waits on %s with %s while %s waits on it with %s", obj, lock, other,
                      labels[r->nlocks - 1]);
        break;
    case LR_MISUSE_EXIT_HOLDING:
        if (r->threads[0].id == 0)
            lr_buf_printf(b, "(main) ends the process, returning from main or calling exit, while it "
                             "holds %s: an exit handler, destructor or thread still running that "
                             "locks it waits forever", lock);
        else
            lr_buf_printf(b, "ends while it holds %s: whoever locks it next waits forever", lock);
        break;
    case LR_MISUSE_BARRIER_ZERO:
        lr_buf_printf(b, "initialises %s with a count of 0: the call fails with EINVAL", obj);
        break;
    case LR_MISUSE_COND_DESTROY_WAITED:
        lr_buf_printf(b, "destroys %s while %s still waits on it: the destroy waits for it forever",
                      obj, other);
        break;
    case LR_MISUSE_RWLOCK_RELOCK:
        lr_buf_printf(b, "asks again for %s, an rwlock it holds for writing: the call fails with "
                         "EDEADLK", lock);
        break;
    case LR_MISUSE_REINIT:
        lr_buf_printf(b, "initialises %s again, which was initialised and not destroyed (POSIX "
                         "leaves this undefined)", r->nlocks ? lock : obj);
        break;
    case LR_MISUSE_SEM_DESTROY_WAITED:
        lr_buf_printf(b, "destroys semaphore %s while threads are blocked on it", obj);
        break;
    case LR_MISUSE_SEM_DESTROYED:
        lr_buf_printf(b, "uses semaphore %s after it was destroyed", obj);
        break;
    case LR_MISUSE_SEM_INIT_INVALID:
        lr_buf_printf(b, "initialises semaphore %s with a value over SEM_VALUE_MAX (%d): the call "
                         "fails with EINVAL", obj, SEM_VALUE_MAX);
        break;
    case LR_MISUSE_SEM_OVERFLOW:
        lr_buf_printf(b, "posts semaphore %s, whose value is already SEM_VALUE_MAX (%d): the call "
                         "fails with EOVERFLOW", obj, SEM_VALUE_MAX);
        break;
    case LR_MISUSE_SEM_INVALID:
        lr_buf_printf(b, "waits on or posts %s, which is not a semaphore: its bytes cannot be one "
                         "(a value over SEM_VALUE_MAX, or an unknown private flag), and lockrace "
                         "never saw it initialised", obj);
        break;
    }
}

static const char *earlier_words(const lr_report *r)
{
    switch (r->misuse) {
    case LR_MISUSE_LOCK_DESTROYED:
    case LR_MISUSE_SEM_DESTROYED: return "destroyed it at";
    case LR_MISUSE_COND_TWO_MUTEXES:
    case LR_MISUSE_COND_DESTROY_WAITED: return "waits on it at";
    case LR_MISUSE_RELOCK:
    case LR_MISUSE_EXIT_HOLDING: return "took it at";
    case LR_MISUSE_REINIT: return "initialised it at";
    case LR_MISUSE_DESTROY_MISCOUNTED: return "unlocked it at";
    default: return "took it at";
    }
}

void lr_text_misuse(lr_buf *b, const lr_report *r, lr_lock_desc *d, char (*labels)[200])
{
    char tl[64], other[64];
    pid_t pid = getpid();
    lr_thread_label(r->threads[0].id, tl, sizeof tl);
    lr_buf_printf(b, "==%d== lockrace: misuse (%s): %s ", (int)pid, lr_misuse_name(r->misuse), tl);
    misuse_words(b, r, labels);
    lr_buf_puts(b, "\n");
    if (r->threads[0].wait_stack) {
        lr_buf_printf(b, "\n  %s made the call at:\n", tl);
        lr_text_stack(b, r->threads[0].wait_stack, "      ");
    } else {
        lr_buf_puts(b, "\n");
    }
    if (r->nthreads > 1 && r->threads[1].wait_stack) {
        lr_thread_label(r->threads[1].id, other, sizeof other);
        lr_buf_printf(b, "  %s %s:\n", other, earlier_words(r));
        lr_text_stack(b, r->threads[1].wait_stack, "      ");
    }
    uint32_t ids[2] = { r->threads[0].id, r->nthreads > 1 ? r->threads[1].id : r->threads[0].id };
    lr_text_lock_origins(b, r, d, labels);
    lr_text_thread_origins(b, ids, r->nthreads > 1 ? 2 : 1);
    if (r->misuse == LR_MISUSE_COND_DESTROY_WAITED)   /* a hang, ended as a deadlock is */
        lr_buf_printf(b, "==%d== lockrace: %s\n", (int)pid,
                      lr_opt.deadlock == LR_DEADLOCK_ABORT
                          ? "deadlock=abort: the process is ended now, as for a deadlock "
                            "(deadlock=report lets it hang)"
                          : lr_opt.deadlock == LR_DEADLOCK_REPORT
                          ? "deadlock=report: the destroying thread stays blocked (deadlock=abort "
                            "ends the process)"
                          : "the destroying thread stays blocked (deadlock=abort ends the process)");
}

void lr_json_misuse(lr_buf *b, const lr_report *r, lr_lock_desc *d, char (*labels)[200],
                        unsigned long seq)
{
    char tl[64];
    lr_buf summary = { 0 };
    lr_thread_label(r->threads[0].id, tl, sizeof tl);
    lr_buf_printf(&summary, "misuse (%s): %s ", lr_misuse_name(r->misuse), tl);
    misuse_words(&summary, r, labels);
    lr_json_header(b, r, seq, summary.data ? summary.data : "", "misuse");
    lr_buf_free(&summary);
    lr_buf_printf(b, ",\"misuse\":\"%s\"", lr_misuse_name(r->misuse));
    lr_json_locks(b, r, d);
    if (r->threads[0].wait_object) {
        char obj[200];
        lr_buf_printf(b, ",\"object\":{\"addr\":\"%#lx\",\"name\":", (unsigned long)r->threads[0].wait_object);
        lr_buf_json_string(b, lr_named_object(r->threads[0].wait_object, "", obj, sizeof obj));
        lr_buf_puts(b, "}");
    }
    lr_buf_puts(b, ",\"thread\":");
    lr_json_thread(b, r->threads[0].id);
    lr_buf_puts(b, ",\"stack\":");
    lr_json_stack(b, r->threads[0].wait_stack);
    if (r->nthreads > 1) {
        lr_buf_printf(b, ",\"earlier\":{\"what\":\"%s\",\"thread\":", earlier_words(r));
        lr_json_thread(b, r->threads[1].id);
        lr_buf_puts(b, ",\"stack\":");
        lr_json_stack(b, r->threads[1].wait_stack);
        lr_buf_puts(b, "}");
    }
    lr_buf_puts(b, "}\n");
}
