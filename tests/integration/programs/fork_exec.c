/* fork_exec: fork() while other threads hold locks (the program's and,
 * from time to time, lockrace's own), then the child takes locks of its
 * own and execs this program again, which makes one inversion and exits.
 * No child may hang; the parent stays clean. The exec'd image reports
 * its inversion (exit status 66 unless lockrace is not there). */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define CHILDREN 10
#define WORKERS 4

static pthread_mutex_t shared[8];
static pthread_mutex_t exec_a = PTHREAD_MUTEX_INITIALIZER, exec_b = PTHREAD_MUTEX_INITIALIZER;
static volatile int stop;

/* Holds the program's locks, in one order, most of the time; each round
 * also makes fresh heap locks, so lockrace learns new orders all along. */
static void *worker(void *arg)
{
    unsigned seed = (unsigned)(uintptr_t)arg;
    while (!stop) {
        int i = rand_r(&seed) % 7;
        pthread_mutex_lock(&shared[i]);
        pthread_mutex_lock(&shared[i + 1]);
        pthread_mutex_t *m = malloc(sizeof *m);
        pthread_mutex_init(m, NULL);
        pthread_mutex_lock(m);
        usleep(50);
        pthread_mutex_unlock(m);
        pthread_mutex_destroy(m);
        free(m);
        pthread_mutex_unlock(&shared[i + 1]);
        pthread_mutex_unlock(&shared[i]);
    }
    return NULL;
}

static void exec_image(void)
{
    pthread_mutex_lock(&exec_a);
    pthread_mutex_lock(&exec_b);
    pthread_mutex_unlock(&exec_b);
    pthread_mutex_unlock(&exec_a);
    pthread_mutex_lock(&exec_b);
    pthread_mutex_lock(&exec_a);
    pthread_mutex_unlock(&exec_a);
    pthread_mutex_unlock(&exec_b);
}

int main(int argc, char **argv)
{
    if (argc > 1 && !strcmp(argv[1], "exec")) {
        exec_image();
        return 0;
    }
    for (int i = 0; i < 8; i++)
        pthread_mutex_init(&shared[i], NULL);
    pthread_t t[WORKERS];
    for (long i = 0; i < WORKERS; i++)
        pthread_create(&t[i], NULL, worker, (void *)(i + 1));
    int failures = 0;
    for (int c = 0; c < CHILDREN; c++) {
        usleep(2000);
        pid_t pid = fork();
        if (pid == 0) {
            alarm(20);      /* a hang in the child ends it, and the test fails */
            pthread_mutex_t mine[2];
            for (int i = 0; i < 2; i++)
                pthread_mutex_init(&mine[i], NULL);
            pthread_mutex_lock(&mine[0]);
            pthread_mutex_lock(&mine[1]);
            pthread_mutex_unlock(&mine[1]);
            pthread_mutex_unlock(&mine[0]);
            execl("/proc/self/exe", argv[0], "exec", (char *)NULL);
            _exit(127);
        }
        int status;
        if (pid < 0 || waitpid(pid, &status, 0) != pid || !WIFEXITED(status) ||
            (WEXITSTATUS(status) != 66 && WEXITSTATUS(status) != 0)) {
            printf("fork_exec: child %d ended badly (status %#x)\n", c, status);
            failures++;
        }
    }
    stop = 1;
    for (int i = 0; i < WORKERS; i++)
        pthread_join(t[i], NULL);
    printf("fork_exec: %d children, %d failed\n", CHILDREN, failures);
    return failures != 0;
}
