/* small_stack (buggy): lock-order inversions reported from places with
 * little stack: a thread with a 16 KiB stack (PTHREAD_STACK_MIN), and a
 * signal handler on a 16 KiB alternate signal stack. Expected: both
 * reports, whole, and the program runs on as natively (its output is the
 * same, and the bytes around the alternate stack are untouched).
 *
 *   small_stack thread|altstack [KIB]     (16 KiB unless KIB is given) */
#define _GNU_SOURCE
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>

#include <stdlib.h>

static size_t SMALL = 16 * 1024;

static pthread_mutex_t outer = PTHREAD_MUTEX_INITIALIZER;
static pthread_mutex_t inner = PTHREAD_MUTEX_INITIALIZER;

static void take_inner_then_outer(void)
{
    pthread_mutex_lock(&inner);
    pthread_mutex_lock(&outer);     /* against main's order: reported here */
    pthread_mutex_unlock(&outer);
    pthread_mutex_unlock(&inner);
}

static void *small_thread(void *arg)
{
    (void)arg;
    take_inner_then_outer();
    return (void *)1;
}

static int handled;

static void on_signal(int sig)
{
    (void)sig;
    take_inner_then_outer();
    handled = 1;
}

int main(int argc, char **argv)
{
    pthread_mutex_lock(&outer);
    pthread_mutex_lock(&inner);
    pthread_mutex_unlock(&inner);
    pthread_mutex_unlock(&outer);

    if (argc > 2)
        SMALL = strtoul(argv[2], NULL, 10) * 1024;
    if (argc > 1 && !strcmp(argv[1], "thread")) {
        pthread_attr_t attr;
        pthread_attr_init(&attr);
        pthread_attr_setstacksize(&attr, (size_t)PTHREAD_STACK_MIN > SMALL ? (size_t)PTHREAD_STACK_MIN : SMALL);
        pthread_t t;
        void *result = NULL;
        if (pthread_create(&t, &attr, small_thread, NULL) != 0)
            return 3;
        pthread_join(t, &result);
        printf("small thread: done %d\n", result == (void *)1);
        return 0;
    }
    if (argc > 1 && !strcmp(argv[1], "altstack")) {
        /* the alternate stack between two pages of the program's own data */
        long page = 4096;
        unsigned char *area = mmap(NULL, SMALL + 2 * page, PROT_READ | PROT_WRITE,
                                   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (area == MAP_FAILED)
            return 3;
        memset(area, 0xA5, SMALL + 2 * page);
        stack_t ss = { .ss_sp = area + page, .ss_size = SMALL };
        struct sigaction sa = { .sa_handler = on_signal, .sa_flags = SA_ONSTACK };
        sigemptyset(&sa.sa_mask);
        if (sigaltstack(&ss, NULL) != 0 || sigaction(SIGUSR1, &sa, NULL) != 0)
            return 3;
        raise(SIGUSR1);
        int intact = 1;
        for (size_t i = 0; i < (size_t)page; i++)
            intact &= area[i] == 0xA5 && area[page + SMALL + i] == 0xA5;
        printf("handler: done %d, neighbours intact %d\n", handled, intact);
        return 0;
    }
    fprintf(stderr, "usage: small_stack thread|altstack\n");
    return 2;
}
