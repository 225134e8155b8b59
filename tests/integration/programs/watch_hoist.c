/* Accesses through a pointer that outlives the straight line after its
 * load: the loop's `lea balance(%rip)` hoisted above the loop into a
 * callee-saved register and used after every pthread_mutex_lock, and a
 * pointer walking a char array (`lea tape(%rip)`, then the pointer
 * moved along by an add in a loop with no call). Before lockrace
 * followed them, neither was seen: the first with a line at start
 * saying so, the second without.
 *
 *   watch_hoist racy N      deposit(): each thread under its own lock,
 *                           one adds to every element, the other to
 *                           balance[15] only: lost updates on balance[15],
 *                           counted exactly
 *   watch_hoist locked N    the same under one common lock: nothing
 *   watch_hoist bytes N     fill(): one thread writes tape[0..15], the
 *                           other tape[16..31], unordered: neighbouring
 *                           bytes of one 8-byte word, nothing to report
 *   watch_hoist shared N    the first writes tape[0..16]: tape[16] is
 *                           written by both, a data race on that byte
 *
 * What gcc 12 -O1 makes of them (x86-64, PIE; check.py asserts the shape):
 *
 *   deposit:  lea balance(%rip),%r12           once, before both loops
 *     loop:   mov 0x18(%rbx),%rdi
 *             call pthread_mutex_lock@plt
 *             mov %rbp,%rdx; and $0xf,%edx
 *             mov (%r12,%rdx,8),%rax           the read
 *             add $0x1,%rax
 *             mov %rax,(%r12,%rdx,8)           the write
 *             mov 0x18(%rbx),%rdi
 *             call pthread_mutex_unlock@plt
 *             ...; jg loop
 *
 *   fill:     lea tape(%rip),%rcx
 *             lea (%rdi,%rcx,1),%rax           the pointer
 *             add %rsi,%rcx                    its end
 *             ...
 *     loop:   mov %dl,(%rax)                   the write, 2 bytes
 *             add $0x1,%rax                    walks
 *             cmp %rcx,%rax; jne loop
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

volatile long balance[16];
char tape[32];
static long rounds = 20000;

struct job {
    long first, last, step;     /* balance[k & 15] for k from first to last */
    pthread_mutex_t *lock;
    long from, to;              /* the bytes of tape it writes */
};

static pthread_mutex_t own[2] = { PTHREAD_MUTEX_INITIALIZER, PTHREAD_MUTEX_INITIALIZER };
static pthread_mutex_t common = PTHREAD_MUTEX_INITIALIZER;
static pthread_barrier_t start;     /* the fillers overlap in time */

__attribute__((noinline)) static void deposit(const struct job *j)
{
    for (long r = 0; r < rounds; r++)
        for (long k = j->first; k < j->last; k += j->step) {
            pthread_mutex_lock(j->lock);
            balance[k & 15] += 1;               /* the update */
            pthread_mutex_unlock(j->lock);
        }
}

__attribute__((noinline)) static void fill(long from, long to, char v)
{
    for (char *p = tape + from; p != tape + to; p++)
        *p = v;                                 /* the byte written */
}

static void *depositor(void *arg)
{
    deposit(arg);
    return NULL;
}

static void *filler(void *arg)
{
    const struct job *j = arg;
    pthread_barrier_wait(&start);
    for (long r = 0; r < rounds; r++)
        fill(j->from, j->to, (char)(r + j->from));     /* each thread its own values */
    return NULL;
}

int main(int argc, char **argv)
{
    const char *mode = argc > 1 ? argv[1] : "racy";
    if (argc > 2)
        rounds = atol(argv[2]);
    int locked = !strcmp(mode, "locked"), racy = !strcmp(mode, "racy");
    int bytes = !strcmp(mode, "bytes"), shared = !strcmp(mode, "shared");
    if (!locked && !racy && !bytes && !shared) {
        fprintf(stderr, "usage: watch_hoist racy|locked|bytes|shared [ROUNDS]\n");
        return 2;
    }
    struct job jobs[2] = {
        { 0, 16, 1, locked ? &common : &own[0], 0, shared ? 17 : 16 },
        { 15, 16 * 16, 16, locked ? &common : &own[1], 16, 32 },
    };
    pthread_t t[2];
    pthread_barrier_init(&start, NULL, 2);
    for (int i = 0; i < 2; i++)
        pthread_create(&t[i], NULL, locked || racy ? depositor : filler, &jobs[i]);
    for (int i = 0; i < 2; i++)
        pthread_join(t[i], NULL);
    if (locked || racy)
        printf("expected %ld, got %ld: %ld lost\n", 17 * rounds, balance[15], 17 * rounds - balance[15]);
    else
        printf("tape %d %d %d\n", tape[0], tape[16], tape[31]);
    return 0;
}
