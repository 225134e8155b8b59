/* drop_user (buggy): a process started as root forks a worker that switches
 * to the user nobody, as servers' workers do (apache2, named -u), and whose
 * two threads take lock_a and lock_b in opposite orders. Its report must
 * name functions, file:line and the locks as any other: the kernel makes
 * /proc/self/auxv unreadable to a process that switched users. Exits 77
 * (skipped) unless run as root; else with the worker's status, or with 0
 * given "parent-ok" (a server whose master's status says nothing of its
 * workers' reports). */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

pthread_mutex_t lock_a = PTHREAD_MUTEX_INITIALIZER;
pthread_mutex_t lock_b = PTHREAD_MUTEX_INITIALIZER;

/* takes the pair in the order given: lock_a -> lock_b, or the reverse */
static void *in_order(void *pair)
{
    pthread_mutex_t **m = pair;
    pthread_mutex_lock(m[0]);
    pthread_mutex_lock(m[1]);
    pthread_mutex_unlock(m[1]);
    pthread_mutex_unlock(m[0]);
    return NULL;
}

int main(int argc, char **argv)
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
        pthread_mutex_t *a_b[] = { &lock_a, &lock_b }, *b_a[] = { &lock_b, &lock_a };
        pthread_t t;
        pthread_create(&t, NULL, in_order, a_b);
        pthread_join(t, NULL);
        pthread_create(&t, NULL, in_order, b_a);
        pthread_join(t, NULL);
        printf("drop_user: the worker, as uid %d, took a->b, then b->a\n", (int)getuid());
        exit(0);
    }
    int status;
    if (waitpid(worker, &status, 0) != worker || !WIFEXITED(status))
        return 1;
    return argc > 1 && strcmp(argv[1], "parent-ok") == 0 ? 0 : WEXITSTATUS(status);
}
