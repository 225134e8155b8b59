/* Watched accesses in odd places, run with watch=ticks: a signal handler
 * that increments the variable while the interrupted code may be in the
 * middle of a watched access of its own (the handler's access nests), and
 * children of fork that go on using it while another thread of the parent
 * was using it at the fork (a child neither hangs on a lock that thread
 * held, nor crashes on what it was changing, nor sees its accesses as
 * racing with the child's own). Prints the counts and exits 0. */
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

volatile long ticks;
static volatile sig_atomic_t handled;

static void on_alarm(int sig)
{
    (void)sig;
    ticks++;
    handled++;
}

static volatile int stop;

static void *spin(void *arg)
{
    (void)arg;
    while (!stop)
        ticks++;
    return NULL;
}

int main(int argc, char **argv)
{
    const char *mode = argc > 1 ? argv[1] : "signal";
    if (!strcmp(mode, "signal")) {
        struct sigaction sa;
        memset(&sa, 0, sizeof sa);
        sa.sa_handler = on_alarm;
        sigaction(SIGALRM, &sa, NULL);
        struct itimerval every = { { 0, 200 }, { 0, 200 } };     /* every 200 us */
        setitimer(ITIMER_REAL, &every, NULL);
        for (long i = 0; i < 2000000 && handled < 200; i++)
            ticks++;
        struct itimerval off = { { 0, 0 }, { 0, 0 } };
        setitimer(ITIMER_REAL, &off, NULL);
        printf("signal: %d handled\n", (int)handled);
        return 0;
    }
    pthread_t t;
    pthread_create(&t, NULL, spin, NULL);
    for (int i = 0; i < 50; i++) {
        pid_t child = fork();
        if (child == 0) {
            for (int j = 0; j < 1000; j++)
                ticks++;
            _exit(0);
        }
        int status;
        waitpid(child, &status, 0);
        if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
            return 1;
    }
    stop = 1;
    pthread_join(t, NULL);
    puts("fork: 50 children");
    return 0;
}
