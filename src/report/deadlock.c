/* The deadlock report (threads blocked for good, each waiting for the
 * next, or a whole process asleep) and the stall report (a lock held long
 * while others wait). */
#include "report/format.h"
#include "model/lockreg.h"
#include "model/thread.h"
#include "support/options.h"

#include <stdio.h>
#include <unistd.h>

static const char *policy_line(void)
{
    switch (lr_opt.deadlock) {
    case LR_DEADLOCK_ABORT:
        return "deadlock=abort: the process is ended now (deadlock=report lets it hang)";
    default:
        return "deadlock=report: the threads stay blocked (deadlock=abort ends the process)";
    }
}

/* The first line of a one-thread deadlock, after "deadlock: ". "relocked
 * by its own holder" is what users of Helgrind and lockdep ("recursive
 * locking") search for. Blocking on an rwlock it holds means holding it
 * for reading: glibc refuses its writer at once (EDEADLK). */
static void self_deadlock_words(lr_buf *b, const lr_report *r, const char *tl, char (*labels)[200])
{
    int w = r->threads[0].wait_lock;
    const char *lock = w >= 0 ? labels[w] : "?";
    if (w >= 0 && r->locks[w].type == LR_RWLOCK)
        lr_buf_printf(b, "%s asks for %s, an rwlock it holds for reading, and waits for its own read "
                         "lock: relocked by its own holder", tl, lock);
    else
        lr_buf_printf(b, "%s locks %s, which it already holds: relocked by its own holder", tl, lock);
}

void lr_text_deadlock(lr_buf *b, const lr_report *r, lr_lock_desc *d, char (*labels)[200])
{
    char tl[64], other[64], cond[180];
    pid_t pid = getpid();
    const lr_report_thread *t0 = &r->threads[0];
    lr_thread_label(t0->id, tl, sizeof tl);
    if (r->whole_process) {
        lr_buf_printf(b, "==%d== lockrace: deadlock: all %zu threads of the process are blocked, and none "
                         "can wake another\n", (int)pid, r->nthreads);
        lr_buf_printf(b, "==%d== No lock cycle explains it: threads wait on condition variables or joins "
                         "that nothing left running will signal (a lost wakeup looks like this).\n",
                      (int)pid);
    } else if (r->nthreads == 1) {
        lr_buf_printf(b, "==%d== lockrace: deadlock: ", (int)pid);
        self_deadlock_words(b, r, tl, labels);
        lr_buf_puts(b, "\n");
        int type = t0->wait_lock >= 0 ? r->locks[t0->wait_lock].type : LR_NORMAL;
        lr_buf_printf(b, "==%d== %s\n", (int)pid,
                      type == LR_RWLOCK ? "A write lock waits until every reader has left, itself "
                                          "included (glibc's default rwlock): the thread waits for "
                                          "itself, forever."
                      : type == LR_SPINLOCK ? "A spinlock is not recursive: the thread spins on "
                                              "itself, forever."
                                            : "It is not a recursive mutex: the thread waits for "
                                              "itself, forever.");
    } else {
        lr_buf_printf(b, "==%d== lockrace: deadlock: %zu threads are blocked for good, each waiting "
                         "for the next:", (int)pid, r->nthreads);
        for (size_t i = 0; i < r->nthreads; i++) {
            lr_thread_label(r->threads[i].id, tl, sizeof tl);
            lr_buf_printf(b, " %s ->", tl);
        }
        lr_thread_label(t0->id, tl, sizeof tl);
        lr_buf_printf(b, " %s\n==%d== Nothing can wake any of them: this is not a risk, the program is "
                         "stuck now.\n", tl, (int)pid);
    }
    for (size_t i = 0; i < r->nthreads; i++) {
        const lr_report_thread *t = &r->threads[i];
        lr_thread_label(t->id, tl, sizeof tl);
        lr_thread_label(t->waits_for, other, sizeof other);
        if (t->wait_kind == LR_WAIT_JOIN)
            lr_buf_printf(b, "\n  %s waits to join %s, at:\n", tl, other);
        else if (t->wait_kind == LR_WAIT_COND)
            lr_buf_printf(b, "\n  %s waits on %s%s%s, with no deadline, at:\n", tl,
                          lr_cond_label(t->wait_object, cond, sizeof cond),
                          t->wait_lock >= 0 ? " with mutex " : "",
                          t->wait_lock >= 0 ? labels[t->wait_lock] : "");
        else if (t->wait_kind == LR_WAIT_BARRIER || t->wait_kind == LR_WAIT_SEM)
            lr_buf_printf(b, "\n  %s waits %s %s, with no deadline, at:\n", tl,
                          t->wait_kind == LR_WAIT_BARRIER ? "at barrier" : "on semaphore",
                          lr_object_label(t->wait_object, cond, sizeof cond));
        else if (t->waits_for == UINT32_MAX)
            lr_buf_printf(b, "\n  %s waits for %s, at:\n", tl, labels[t->wait_lock]);
        else if (t->waits_for == t->id)
            lr_buf_printf(b, "\n  %s waits for %s, which it holds itself, at:\n", tl,
                          labels[t->wait_lock]);
        else
            lr_buf_printf(b, "\n  %s waits for %s, held by %s, at:\n", tl, labels[t->wait_lock],
                          other);
        if (t->wait_stack)
            lr_text_stack(b, t->wait_stack, "      ");
        else
            lr_buf_puts(b, "      (not known: it was asleep in the kernel before lockrace saw it wait)\n");
        for (size_t h = 0; h < t->nholds; h++) {
            lr_buf_printf(b, "    it holds %s, taken at:\n", labels[t->holds[h].lock]);
            lr_text_stack(b, t->holds[h].stack, "      ");
        }
    }
    lr_text_origins(b, r, d, labels);
    lr_buf_printf(b, "==%d== lockrace: %s\n", (int)pid, policy_line());
}

/* threads[0] holds locks[0]; the others wait for it */
void lr_text_stall(lr_buf *b, const lr_report *r, lr_lock_desc *d, char (*labels)[200])
{
    char holder[64], tl[64];
    pid_t pid = getpid();
    lr_thread_label(r->threads[0].id, holder, sizeof holder);
    lr_thread_label(r->threads[1].id, tl, sizeof tl);
    lr_buf_printf(b, "==%d== lockrace: stall: %s has waited %.1f s for %s, held by %s, which is not "
                     "blocked\n", (int)pid, tl, (double)r->threads[1].waited_ms / 1000.0, labels[0],
                  holder);
    lr_buf_printf(b, "==%d== Not a deadlock: the holder may still let go; it keeps %zu thread%s waiting "
                     "(stall_ms=%d).\n", (int)pid, r->nthreads - 1, r->nthreads == 2 ? "" : "s",
                  lr_opt.stall_ms);
    lr_buf_printf(b, "\n  %s holds %s, taken at:\n", holder, labels[0]);
    lr_text_stack(b, r->holds[0].stack, "      ");
    for (size_t i = 1; i < r->nthreads; i++) {
        lr_thread_label(r->threads[i].id, tl, sizeof tl);
        lr_buf_printf(b, "  %s has waited %lu ms for it, at:\n", tl,
                      (unsigned long)r->threads[i].waited_ms);
        lr_text_stack(b, r->threads[i].wait_stack, "      ");
    }
    lr_text_origins(b, r, d, labels);
}

void lr_json_deadlock(lr_buf *b, const lr_report *r, lr_lock_desc *d, char (*labels)[200],
                          unsigned long seq)
{
    lr_buf summary = { 0 };
    if (r->whole_process)
        lr_buf_printf(&summary, "deadlock: all %zu threads blocked, none can wake another",
                      r->nthreads);
    else if (r->nthreads == 1 && r->threads[0].wait_lock >= 0) {
        char tl[64];
        snprintf(tl, sizeof tl, "T%u", r->threads[0].id);
        lr_buf_puts(&summary, "deadlock: ");
        self_deadlock_words(&summary, r, tl, labels);
    }
    else
        lr_buf_printf(&summary, "deadlock: %zu threads blocked, each waiting for the next",
                      r->nthreads);
    lr_json_header(b, r, seq, summary.data ? summary.data : "", "deadlocked");
    lr_buf_free(&summary);
    lr_buf_printf(b, ",\"policy\":\"%s\",\"scope\":\"%s\"",
                  lr_opt.deadlock == LR_DEADLOCK_ABORT ? "abort" : "report",
                  r->whole_process ? "process" : "cycle");
    lr_json_locks(b, r, d);
    lr_buf_puts(b, ",\"threads\":[");
    for (size_t i = 0; i < r->nthreads; i++) {
        const lr_report_thread *t = &r->threads[i];
        lr_buf_puts(b, i ? ",{\"thread\":" : "{\"thread\":");
        lr_json_thread(b, t->id);
        if (t->wait_kind == LR_WAIT_JOIN)
            lr_buf_printf(b, ",\"waits_for\":{\"kind\":\"join\",\"thread\":%u}", t->waits_for);
        else if (t->wait_kind == LR_WAIT_COND) {
            char cond[180];
            lr_buf_printf(b, ",\"waits_for\":{\"kind\":\"condition\",\"cond\":\"%#lx\",\"mutex\":%d,"
                             "\"name\":", (unsigned long)t->wait_object, t->wait_lock);
            lr_buf_json_string(b, lr_cond_label(t->wait_object, cond, sizeof cond));
            lr_buf_puts(b, "}");
        }
        else if (t->wait_kind == LR_WAIT_BARRIER || t->wait_kind == LR_WAIT_SEM) {
            char object[180];
            lr_buf_printf(b, ",\"waits_for\":{\"kind\":\"%s\",\"object\":\"%#lx\",\"name\":",
                          t->wait_kind == LR_WAIT_BARRIER ? "barrier" : "semaphore",
                          (unsigned long)t->wait_object);
            lr_buf_json_string(b, lr_object_label(t->wait_object, object, sizeof object));
            lr_buf_puts(b, "}");
        } else if (t->waits_for == UINT32_MAX)
            lr_buf_printf(b, ",\"waits_for\":{\"kind\":\"lock\",\"lock\":%d}", t->wait_lock);
        else
            lr_buf_printf(b, ",\"waits_for\":{\"kind\":\"lock\",\"lock\":%d,\"held_by\":%u}",
                          t->wait_lock, t->waits_for);
        lr_buf_puts(b, ",\"stack\":");
        lr_json_stack(b, t->wait_stack);
        lr_buf_puts(b, ",\"holds\":[");
        for (size_t h = 0; h < t->nholds; h++) {
            lr_buf_printf(b, "%s{\"lock\":%d,\"stack\":", h ? "," : "", t->holds[h].lock);
            lr_json_stack(b, t->holds[h].stack);
            lr_json_stack_unwound_in(b, "stack", t->holds[h].stack);
            lr_buf_puts(b, "}");
        }
        lr_buf_puts(b, "]}");
    }
    lr_buf_puts(b, "]}\n");
}

void lr_json_stall(lr_buf *b, const lr_report *r, lr_lock_desc *d, char (*labels)[200],
                       unsigned long seq)
{
    lr_buf summary = { 0 };
    lr_buf_printf(&summary, "stall: %zu thread%s waited %.1f s or more for %s, held by T%u",
                  r->nthreads - 1, r->nthreads == 2 ? "" : "s", (double)lr_opt.stall_ms / 1000.0,
                  labels[0], r->threads[0].id);
    lr_json_header(b, r, seq, summary.data ? summary.data : "", "stalled");
    lr_buf_free(&summary);
    lr_json_locks(b, r, d);
    lr_buf_puts(b, ",\"lock\":0,\"holder\":{\"thread\":");
    lr_json_thread(b, r->threads[0].id);
    lr_buf_puts(b, ",\"stack\":");
    lr_json_stack(b, r->holds[0].stack);
    lr_json_stack_unwound_in(b, "stack", r->holds[0].stack);
    lr_buf_puts(b, "},\"waiters\":[");
    for (size_t i = 1; i < r->nthreads; i++) {
        lr_buf_puts(b, i > 1 ? ",{\"thread\":" : "{\"thread\":");
        lr_json_thread(b, r->threads[i].id);
        lr_buf_printf(b, ",\"waited_ms\":%lu,\"stack\":", (unsigned long)r->threads[i].waited_ms);
        lr_json_stack(b, r->threads[i].wait_stack);
        lr_buf_puts(b, "}");
    }
    lr_buf_puts(b, "]}\n");
}
