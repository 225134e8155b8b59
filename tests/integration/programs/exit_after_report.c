/* exit_after_report HOW STATUS [clean]: makes a lock-order inversion
 * (none with "clean"), then ends with STATUS through HOW: return (from
 * main), exit, _exit, _Exit, or vfork (a vfork child calls _exit(STATUS);
 * the parent prints the child's status and returns 0). lockrace's exit
 * status must be STATUS when it is not 0 (the program's own failure), and
 * exitcode when it is 0 and there was a report, whichever way it ends. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static pthread_mutex_t first = PTHREAD_MUTEX_INITIALIZER, second = PTHREAD_MUTEX_INITIALIZER;

static void take(pthread_mutex_t *a, pthread_mutex_t *b)
{
    pthread_mutex_lock(a);
    pthread_mutex_lock(b);
    pthread_mutex_unlock(b);
    pthread_mutex_unlock(a);
}

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: exit_after_report return|exit|_exit|_Exit|vfork STATUS [clean]\n");
        return 2;
    }
    const char *how = argv[1];
    int status = atoi(argv[2]);
    take(&first, &second);
    if (argc < 4 || strcmp(argv[3], "clean"))
        take(&second, &first);
    printf("exit_after_report: %s(%d)\n", how, status);
    fflush(stdout);
    if (!strcmp(how, "exit"))
        exit(status);
    if (!strcmp(how, "_exit"))
        _exit(status);
    if (!strcmp(how, "_Exit"))
        _Exit(status);
    if (!strcmp(how, "vfork")) {
        pid_t child = vfork();
        if (child == 0)
            _exit(status);
        int st = -1;
        waitpid(child, &st, 0);
        printf("exit_after_report: the vfork child ended with %d\n", WIFEXITED(st) ? WEXITSTATUS(st) : -1);
        return 0;
    }
    return status;
}
