/* chroot_worker (buggy): a process started as root forks a worker that
 * shuts itself in an empty directory (chroot), as servers' workers do
 * (unbound, named -t, sshd's), and takes lock_a and lock_b in both orders.
 * Its report must reach the log directory it no longer sees: lockrace
 * writes there through a descriptor of the directory opened at start.
 * Exits 77 (skipped) unless run as root; else with the worker's status. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

pthread_mutex_t lock_a = PTHREAD_MUTEX_INITIALIZER;
pthread_mutex_t lock_b = PTHREAD_MUTEX_INITIALIZER;

int main(int argc, char **argv)
{
    if (geteuid() != 0 || argc < 2)
        return 77;
    pid_t worker = fork();
    if (worker < 0)
        return 1;
    if (worker == 0) {
        if (chroot(argv[1]) != 0 || chdir("/") != 0) {
            perror("chroot_worker: chroot");
            _exit(1);
        }
        pthread_mutex_lock(&lock_a);
        pthread_mutex_lock(&lock_b);
        pthread_mutex_unlock(&lock_b);
        pthread_mutex_unlock(&lock_a);
        pthread_mutex_lock(&lock_b);
        pthread_mutex_lock(&lock_a);
        pthread_mutex_unlock(&lock_a);
        pthread_mutex_unlock(&lock_b);
        printf("chroot_worker: the worker, shut in %s, took a->b, then b->a\n", argv[1]);
        exit(0);
    }
    int status;
    if (waitpid(worker, &status, 0) != worker || !WIFEXITED(status))
        return 1;
    return WEXITSTATUS(status);
}
