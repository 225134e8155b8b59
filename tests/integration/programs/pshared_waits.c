/* pshared_waits: a thread waits on a process-shared condition variable or
 * barrier, which only another process ends (a child that signals or
 * arrives 2 s later). Nothing in this process can wake it, yet nothing is
 * wrong: the watchdog (--ci: hang=1000) must not take it for a deadlock
 * of the whole process and end it.
 *
 *     pshared_waits cond | barrier */
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

struct shared {
    pthread_mutex_t m;
    pthread_cond_t c;
    pthread_barrier_t b;
    int flag;
};

int main(int argc, char **argv)
{
    int barrier = argc > 1 && !strcmp(argv[1], "barrier");
    struct shared *s = mmap(NULL, sizeof *s, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (s == MAP_FAILED)
        return 1;
    pthread_mutexattr_t ma;
    pthread_mutexattr_init(&ma);
    pthread_mutexattr_setpshared(&ma, PTHREAD_PROCESS_SHARED);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setpshared(&ca, PTHREAD_PROCESS_SHARED);
    pthread_barrierattr_t ba;
    pthread_barrierattr_init(&ba);
    pthread_barrierattr_setpshared(&ba, PTHREAD_PROCESS_SHARED);
    pthread_mutex_init(&s->m, &ma);
    pthread_cond_init(&s->c, &ca);
    pthread_barrier_init(&s->b, &ba, 2);
    pid_t child = fork();
    if (child == 0) {
        sleep(2);
        if (barrier) {
            pthread_barrier_wait(&s->b);
        } else {
            pthread_mutex_lock(&s->m);
            s->flag = 1;
            pthread_cond_signal(&s->c);
            pthread_mutex_unlock(&s->m);
        }
        _exit(0);
    }
    if (barrier) {
        pthread_barrier_wait(&s->b);
    } else {
        pthread_mutex_lock(&s->m);
        while (!s->flag)
            pthread_cond_wait(&s->c, &s->m);
        pthread_mutex_unlock(&s->m);
    }
    int status;
    waitpid(child, &status, 0);
    printf("woken by the child (%s)\n", barrier ? "barrier" : "condition");
    return 0;
}
