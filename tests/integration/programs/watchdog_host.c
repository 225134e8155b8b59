/* What the watchdog thread (watchdog=1) must never change in the program:
 *
 *   watchdog_host signalfd   every thread of the program blocks SIGUSR1 and
 *                            reads it from a signalfd, while the watchdog
 *                            runs (a thread waits on a lock); natively the
 *                            signal waits for the read, it must not kill
 *   watchdog_host unshare    a thread waits on a contended lock (the
 *                            watchdog starts), is joined, then the program,
 *                            single-threaded again, calls
 *                            unshare(CLONE_NEWUSER), which needs a process
 *                            of one thread; so does a child forked just before
 *   watchdog_host unshare-raw  the same through syscall(), after waiting
 *                            (up to 5 s) for the process to be one thread
 *   watchdog_host setns      the same with setns() into a child's new user
 *                            namespace
 *
 * stdout is the same natively and under lockrace. */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <semaphore.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static pthread_mutex_t first_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_mutex_t second_lock = PTHREAD_MUTEX_INITIALIZER;
static sem_t ready;

static void sleep_ms(long ms)
{
    struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
}

static void block_sigusr1(void)
{
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGUSR1);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
}

/* Waits for first_lock (held by main: the watchdog starts now, from this
 * thread, which blocks no signal yet), blocks SIGUSR1, then waits for
 * second_lock, so that the watchdog still has a waiter to watch. */
static void *signal_worker(void *arg)
{
    (void)arg;
    pthread_mutex_lock(&first_lock);
    block_sigusr1();
    pthread_mutex_unlock(&first_lock);
    sem_post(&ready);
    pthread_mutex_lock(&second_lock);
    pthread_mutex_unlock(&second_lock);
    return NULL;
}

static int run_signalfd(void)
{
    sem_init(&ready, 0, 0);
    pthread_mutex_lock(&first_lock);
    pthread_t t;
    pthread_create(&t, NULL, signal_worker, NULL);
    sleep_ms(200);
    block_sigusr1();
    pthread_mutex_lock(&second_lock);
    pthread_mutex_unlock(&first_lock);
    while (sem_wait(&ready) != 0)
        ;
    sleep_ms(200);              /* the worker waits for second_lock */
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGUSR1);
    int fd = signalfd(-1, &set, SFD_CLOEXEC);
    if (fd < 0) {
        printf("signalfd: %s\n", strerror(errno));
        return 1;
    }
    kill(getpid(), SIGUSR1);
    struct signalfd_siginfo si;
    ssize_t n = read(fd, &si, sizeof si);
    printf("signalfd: read %s\n", n == (ssize_t)sizeof si && si.ssi_signo == SIGUSR1 ? "SIGUSR1" : "?");
    pthread_mutex_unlock(&second_lock);
    pthread_join(t, NULL);
    return 0;
}

static void *contender(void *arg)
{
    (void)arg;
    pthread_mutex_lock(&first_lock);
    pthread_mutex_unlock(&first_lock);
    return NULL;
}

/* A thread blocks on a contended lock for a while, and is joined. */
static void contend_and_join(void)
{
    pthread_mutex_lock(&first_lock);
    pthread_t t;
    pthread_create(&t, NULL, contender, NULL);
    sleep_ms(300);
    pthread_mutex_unlock(&first_lock);
    pthread_join(t, NULL);
}

static int tasks(void)
{
    DIR *d = opendir("/proc/self/task");
    int n = 0;
    for (struct dirent *e; d && (e = readdir(d));)
        n += e->d_name[0] != '.';
    if (d)
        closedir(d);
    return n;
}

static int run_unshare(int raw)
{
    contend_and_join();
    if (raw) {
        struct timespec a, b;
        clock_gettime(CLOCK_MONOTONIC, &a);
        for (int i = 0; i < 500 && tasks() > 1; i++)
            sleep_ms(10);
        clock_gettime(CLOCK_MONOTONIC, &b);
        fprintf(stderr, "one thread after %ld ms\n",
                (long)((b.tv_sec - a.tv_sec) * 1000 + (b.tv_nsec - a.tv_nsec) / 1000000));
    }
    int child = 0;
    if (!raw) {
        /* first a child, before this process's namespace has no mapping
         * for its user: it does the same with its own watchdog */
        fflush(stdout);
        pid_t pid = fork();
        if (pid == 0) {
            contend_and_join();
            _exit(unshare(CLONE_NEWUSER) == 0 ? 0 : 10 + errno);
        }
        waitpid(pid, &child, 0);
    }
    int rc = raw ? (int)syscall(SYS_unshare, CLONE_NEWUSER) : unshare(CLONE_NEWUSER);
    printf("unshare: %s\n", rc == 0 ? "ok" : strerror(errno));
    if (!raw)
        printf("child unshare: %s\n", WIFEXITED(child) && WEXITSTATUS(child) == 0 ? "ok"
                                       : WIFEXITED(child) ? strerror(WEXITSTATUS(child) - 10)
                                                          : "killed");
    return 0;
}

/* setns into a user namespace that a child made: one thread only, too */
static int run_setns(void)
{
    int up[2], down[2];
    if (pipe(up) || pipe(down))
        return 1;
    pid_t pid = fork();
    if (pid == 0) {
        char c = unshare(CLONE_NEWUSER) == 0 ? 'y' : 'n';
        if (write(up[1], &c, 1) != 1 || read(down[0], &c, 1) < 0)
            _exit(1);
        _exit(0);
    }
    char c = 'n';
    if (read(up[0], &c, 1) != 1 || c != 'y') {
        printf("setns: the child could not unshare\n");
        return 0;
    }
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/ns/user", (int)pid);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    contend_and_join();
    int rc = fd >= 0 ? setns(fd, CLONE_NEWUSER) : -1;
    printf("setns: %s\n", rc == 0 ? "ok" : strerror(errno));
    if (write(down[1], "x", 1) != 1)
        return 1;
    waitpid(pid, NULL, 0);
    return 0;
}

int main(int argc, char **argv)
{
    const char *mode = argc > 1 ? argv[1] : "";
    if (!strcmp(mode, "signalfd"))
        return run_signalfd();
    if (!strcmp(mode, "unshare"))
        return run_unshare(0);
    if (!strcmp(mode, "unshare-raw"))
        return run_unshare(1);
    if (!strcmp(mode, "setns"))
        return run_setns();
    fprintf(stderr, "usage: watchdog_host signalfd|unshare|unshare-raw|setns\n");
    return 2;
}
