/* drop_user (buggy): a process started as root forks a worker that switches
 * to the user nobody, as servers' workers do (apache2, named -u), and whose
 * two threads take lock_a and lock_b in opposite orders. Its report must
 * name functions, file:line and the locks as any other: the kernel makes
 * /proc/self/auxv unreadable to a process that switched users. Exits 77
 * (skipped) unless run as root; else with the worker's status. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

pthread_mutex_t lock_a = PTHREAD_MUTEX_INITIALIZER;
pthread_mutex_t lock_b = PTHREAD_MUTEX_INITIALIZER;

static void *a_then_b(void *arg)
{
    pthread_mutex_lock(&lock_a);
    pthread_mutex_lock(&lock_b);
    pthread_mutex_unlock(&lock_b);
    pthread_mutex_unlock(&lock_a);
    return arg;
}

static void *b_then_a(void *arg)
{
    pthread_mutex_lock(&lock_b);
    pthread_mutex_lock(&lock_a);
    pthread_mutex_unlock(&lock_a);
    pthread_mutex_unlock(&lock_b);
    return arg;
}

int main(void)
{
    if (geteuid() != 0)
        return 77;
    pid_t worker = fork();
    if (worker < 0)
        return 1;
    if (worker == 0) {
        if (setgid(65534) != 0 || setuid(65534) != 0) {
            perror("drop_user: setuid");
            _exit(1);
        }
        pthread_t t;
        pthread_create(&t, NULL, a_then_b, NULL);
        pthread_join(t, NULL);
        pthread_create(&t, NULL, b_then_a, NULL);
        pthread_join(t, NULL);
        printf("drop_user: the worker, as uid %d, took a->b, then b->a\n", (int)getuid());
        exit(0);
    }
    int status;
    if (waitpid(worker, &status, 0) != worker || !WIFEXITED(status))
        return 1;
    return WEXITSTATUS(status);
}
