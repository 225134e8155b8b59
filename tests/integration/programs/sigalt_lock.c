/* sigalt_lock: a signal handler on a small alternate signal stack (6 KiB,
 * natively enough) takes a mutex. The stack lies between pages of the
 * program's own data, which the program checks afterwards.
 *
 *   sigalt_lock contended [BYTES]  (clean) a thread's handler takes a lock
 *       it has not taken there before (lockrace learns its context), then,
 *       on a second signal, the same lock while another thread holds it for
 *       300 ms (lockrace waits in rounds). Prints "handled 2, neighbours
 *       intact 1", as natively, and exits 0. contended-raw: the same, the
 *       stack set by a raw system call (lockrace asks the kernel).
 *   sigalt_lock self [BYTES]  (buggy) the main thread's handler relocks a
 *       normal mutex the thread holds. Natively it hangs; lockrace reports
 *       a deadlock of one thread and ends it. The page under its stack is
 *       made inaccessible: a write past the stack ends the process.
 *   sigalt_lock reports [BYTES]  (buggy) the main thread's handler relocks
 *       an error-checking mutex the thread holds (EDEADLK: a misuse), then
 *       takes `outer` while the thread holds `inner`, against the order main
 *       took them in (a lock-order inversion). A guard page under the stack.
 *       Both reported; the program runs on and prints what it does natively.
 *
 * BYTES: the alternate stack's size, 6144 unless given, raised to what the
 * kernel needs for a signal frame here plus 3 KiB (AT_MINSIGSTKSZ). */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#define PAGE 4096
#define BELOW (4 * PAGE)        /* the program's data under the stack: where an overflow goes */

static pthread_mutex_t held_by_other = PTHREAD_MUTEX_INITIALIZER;
static pthread_mutex_t outer = PTHREAD_MUTEX_INITIALIZER;
static pthread_mutex_t config_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_mutex_t inner = PTHREAD_MUTEX_INITIALIZER;
static pthread_mutex_t errorcheck_lock;
static int relock_result;
static volatile int handled;
static size_t size = 6144;
static int raw;                 /* set the stack by a system call, not through libc */
static unsigned char *area;     /* BELOW bytes, the stack, a page */

static void take_contended(int sig)
{
    (void)sig;
    pthread_mutex_lock(&held_by_other);
    handled++;
    pthread_mutex_unlock(&held_by_other);
}

static void relock_config(int sig)
{
    (void)sig;
    pthread_mutex_lock(&config_lock);   /* held by this very thread: hangs */
    handled++;
    pthread_mutex_unlock(&config_lock);
}

static void misuse_and_invert(int sig)
{
    (void)sig;
    relock_result = pthread_mutex_lock(&errorcheck_lock);
    pthread_mutex_lock(&outer);         /* inner is held: against main's order */
    handled++;
    pthread_mutex_unlock(&outer);
}

/* The alternate stack for the calling thread, with the bytes around it set
 * to a pattern. */
static int small_altstack(void)
{
    long min = sysconf(_SC_MINSIGSTKSZ);
    if (min > 0 && (size_t)min + 3072 > size)
        size = (size_t)min + 3072;
    area = mmap(NULL, BELOW + size + PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (area == MAP_FAILED)
        return -1;
    memset(area, 0xA5, BELOW + size + PAGE);
    stack_t ss = { .ss_sp = area + BELOW, .ss_size = size };
    return raw ? (int)syscall(SYS_sigaltstack, &ss, NULL) : sigaltstack(&ss, NULL);
}

static int neighbours_intact(void)
{
    for (size_t i = 0; i < BELOW; i++)
        if (area[i] != 0xA5)
            return 0;
    for (size_t i = 0; i < PAGE; i++)
        if (area[BELOW + size + i] != 0xA5)
            return 0;
    return 1;
}

static void *holder(void *arg)
{
    (void)arg;
    pthread_mutex_lock(&held_by_other);
    usleep(300000);
    pthread_mutex_unlock(&held_by_other);
    return NULL;
}

static void *signalled(void *arg)
{
    (void)arg;
    if (small_altstack() != 0)
        return (void *)1;
    pthread_mutex_lock(&outer);
    raise(SIGUSR1);                     /* uncontended, a new context */
    pthread_mutex_unlock(&outer);
    pthread_t other;
    if (pthread_create(&other, NULL, holder, NULL) != 0)
        return (void *)1;
    usleep(50000);                      /* the holder has the lock now */
    pthread_mutex_lock(&outer);
    raise(SIGUSR1);                     /* contended: waits ~250 ms */
    pthread_mutex_unlock(&outer);
    pthread_join(other, NULL);
    return NULL;
}

static int on_stack(void (*handler)(int))
{
    struct sigaction sa = { .sa_handler = handler, .sa_flags = SA_ONSTACK };
    sigemptyset(&sa.sa_mask);
    return sigaction(SIGUSR1, &sa, NULL);
}

int main(int argc, char **argv)
{
    if (argc > 2)
        size = strtoul(argv[2], NULL, 10);
    /* the program's calls are bound before any handler runs (lazy binding
     * on the alternate stack would cost the program 3 KiB natively) */
    pthread_mutex_lock(&outer);
    pthread_mutex_unlock(&outer);
    raw = argc > 1 && !strcmp(argv[1], "contended-raw");
    if (argc > 1 && (!strcmp(argv[1], "contended") || raw)) {
        pthread_t t;
        void *failed = NULL;
        if (on_stack(take_contended) != 0 || pthread_create(&t, NULL, signalled, NULL) != 0)
            return 3;
        pthread_join(t, &failed);
        if (failed)
            return 3;
        printf("handled %d, neighbours intact %d\n", handled, neighbours_intact());
        return 0;
    }
    if (argc > 1 && !strcmp(argv[1], "self")) {
        if (small_altstack() != 0 || mprotect(area + BELOW - PAGE, PAGE, PROT_NONE) != 0 ||
            on_stack(relock_config) != 0)
            return 3;
        pthread_mutex_lock(&config_lock);
        raise(SIGUSR1);
        pthread_mutex_unlock(&config_lock);
        printf("handled %d, neighbours intact %d (it should have hung)\n", handled, neighbours_intact());
        return 0;
    }
    if (argc > 1 && !strcmp(argv[1], "reports")) {
        pthread_mutexattr_t attr;
        pthread_mutexattr_init(&attr);
        pthread_mutexattr_settype(&attr, PTHREAD_MUTEX_ERRORCHECK);
        pthread_mutex_init(&errorcheck_lock, &attr);
        pthread_mutex_lock(&outer);
        pthread_mutex_lock(&inner);
        pthread_mutex_unlock(&inner);
        pthread_mutex_unlock(&outer);
        if (small_altstack() != 0 || mprotect(area + BELOW - PAGE, PAGE, PROT_NONE) != 0 ||
            on_stack(misuse_and_invert) != 0)
            return 3;
        pthread_mutex_lock(&errorcheck_lock);
        pthread_mutex_lock(&inner);
        raise(SIGUSR1);
        pthread_mutex_unlock(&inner);
        pthread_mutex_unlock(&errorcheck_lock);
        printf("handled %d, relock EDEADLK %d\n", handled, relock_result == EDEADLK);
        return 0;
    }
    fprintf(stderr, "usage: sigalt_lock contended|contended-raw|self|reports [BYTES]\n");
    return 2;
}
