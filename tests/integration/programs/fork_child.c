/* fork_child: fork() while another thread keeps lockrace busy learning new
 * lock orders (its internal locks are taken and dropped all the time). Each
 * child must not hang on a lock held by a thread that does not exist in it,
 * and its reports are its own: every child makes an inversion of its own
 * (exit status 66); the parent stays clean and exits 0 when all children
 * ended as expected. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#define CHILDREN 40

static pthread_mutex_t a = PTHREAD_MUTEX_INITIALIZER, b = PTHREAD_MUTEX_INITIALIZER;
static volatile int stop;

/* Takes fresh heap mutexes in one consistent order: always new contexts. */
static void *churn(void *arg)
{
    (void)arg;
    while (!stop) {
        pthread_mutex_t *m = malloc(2 * sizeof *m);
        pthread_mutex_init(&m[0], NULL);
        pthread_mutex_init(&m[1], NULL);
        pthread_mutex_lock(&m[0]);
        pthread_mutex_lock(&m[1]);
        pthread_mutex_unlock(&m[1]);
        pthread_mutex_unlock(&m[0]);
        pthread_mutex_destroy(&m[1]);
        pthread_mutex_destroy(&m[0]);
        free(m);
    }
    return NULL;
}

static void *child_thread(void *arg)
{
    (void)arg;
    pthread_mutex_lock(&b);
    pthread_mutex_lock(&a);
    pthread_mutex_unlock(&a);
    pthread_mutex_unlock(&b);
    return NULL;
}

int main(void)
{
    pthread_t t;
    pthread_create(&t, NULL, churn, NULL);
    int bad = 0;
    for (int i = 0; i < CHILDREN; i++) {
        pid_t pid = fork();
        if (pid == 0) {
            pthread_t c;
            pthread_mutex_lock(&a);
            pthread_mutex_lock(&b);
            pthread_mutex_unlock(&b);
            pthread_mutex_unlock(&a);
            pthread_create(&c, NULL, child_thread, NULL);
            pthread_join(c, NULL);
            exit(0);
        }
        int status;
        waitpid(pid, &status, 0);
        if (!WIFEXITED(status) || WEXITSTATUS(status) != 66) {
            fprintf(stderr, "fork_child: child %d ended with status %#x\n", i, status);
            bad++;
        }
    }
    stop = 1;
    pthread_join(t, NULL);
    printf("fork_child: %d children, %d unexpected\n", CHILDREN, bad);
    return bad != 0;
}
