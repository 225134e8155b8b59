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
static volatile int stop, running;

/* Takes fresh mutexes in one consistent order: always new contexts. They
 * come from a static pool, not malloc, and main forks only once this thread
 * runs: the AddressSanitizer runtime of the sanitized suite (GCC 12) does not
 * lock its allocator around fork, so a child could inherit it locked by this
 * thread (in malloc, or in ASan's own start of the thread, which callocs)
 * and hang in its own first allocation, with or without lockrace. */
#define POOL 4096
static pthread_mutex_t pool[POOL];

static void *churn(void *arg)
{
    (void)arg;
    running = 1;
    for (unsigned i = 0; !stop; i = (i + 2) % POOL) {
        pthread_mutex_t *m = &pool[i];
        pthread_mutex_init(&m[0], NULL);
        pthread_mutex_init(&m[1], NULL);
        pthread_mutex_lock(&m[0]);
        pthread_mutex_lock(&m[1]);
        pthread_mutex_unlock(&m[1]);
        pthread_mutex_unlock(&m[0]);
        pthread_mutex_destroy(&m[1]);
        pthread_mutex_destroy(&m[0]);
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
    while (!running)
        usleep(1000);
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
