/* fork_reinit (clean): the way to recover locks after fork() in a threaded
 * program is to initialise them again in the child, since a lock another
 * thread held at the fork can never be unlocked there (CPython does it for
 * the GIL and every lock of its runtime; glibc for its own). While one
 * thread holds `registry_lock` and another spins in lockrace's init path,
 * main forks; the child initialises the locks again, uses them, and makes
 * a new one. Expected: no report, in parent or child. */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdio.h>
#include <sys/wait.h>
#include <unistd.h>

static pthread_mutex_t registry_lock;
static pthread_rwlock_t table_lock;
static pthread_cond_t table_changed;
static volatile int stop, holding;

static void *holder(void *arg)
{
    (void)arg;
    pthread_mutex_lock(&registry_lock);
    holding = 1;
    while (!stop)
        usleep(1000);
    pthread_mutex_unlock(&registry_lock);
    return NULL;
}

static void *initialiser(void *arg)
{
    (void)arg;
    while (!stop) {             /* lockrace's table of initialised objects is busy at the fork */
        pthread_mutex_t m;
        pthread_mutex_init(&m, NULL);
        pthread_mutex_destroy(&m);
    }
    return NULL;
}

int main(void)
{
    pthread_mutex_init(&registry_lock, NULL);
    pthread_rwlock_init(&table_lock, NULL);
    pthread_cond_init(&table_changed, NULL);
    pthread_t t1, t2;
    pthread_create(&t1, NULL, holder, NULL);
    pthread_create(&t2, NULL, initialiser, NULL);
    while (!holding)
        usleep(1000);
    int status = -1;
    for (int round = 0; round < 20; round++) {
        pid_t child = fork();
        if (child == 0) {
            pthread_mutex_init(&registry_lock, NULL);   /* held by a thread that is not here */
            pthread_rwlock_init(&table_lock, NULL);
            pthread_cond_init(&table_changed, NULL);
            pthread_mutex_lock(&registry_lock);
            pthread_rwlock_wrlock(&table_lock);
            pthread_rwlock_unlock(&table_lock);
            pthread_mutex_unlock(&registry_lock);
            pthread_mutex_t fresh;
            pthread_mutex_init(&fresh, NULL);
            pthread_mutex_destroy(&fresh);
            _exit(0);
        }
        waitpid(child, &status, 0);
        if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
            break;
    }
    stop = 1;
    pthread_join(t1, NULL);
    pthread_join(t2, NULL);
    printf("children: %s\n", WIFEXITED(status) && WEXITSTATUS(status) == 0 ? "ok" : "failed");
    return 0;
}
