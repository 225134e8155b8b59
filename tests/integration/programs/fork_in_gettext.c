/* fork_in_gettext: main forks while another thread is inside dcgettext,
 * where glibc holds its locale and message-catalog locks for reading
 * (__libc_setlocale_lock, _nl_state_lock; strerror takes them too). The
 * child has no such thread, so anything that wants one of those locks for
 * writing waits in it for ever: newlocale, setlocale, bindtextdomain,
 * textdomain. The child then takes two mutexes in both orders, which
 * lockrace reports, and exits. Native, the child exits; lockrace must not
 * make it hang, as it did when its symbolizer let libdw dlopen
 * libdebuginfod (the constructors of its dependencies, libp11-kit's
 * newlocale and gnutls's bindtextdomain, take those locks for writing).
 *
 * The thread is stopped inside dcgettext deterministically: this program's
 * own malloc, which libc calls too, never returns to that thread once armed
 * (dcgettext allocates while it looks for a catalog, for any locale but C).
 * The child prints how it ended; a hang ends by SIGALRM after 10 s. */
#define _GNU_SOURCE
#include <libintl.h>
#include <locale.h>
#include <pthread.h>
#include <semaphore.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

extern void *__libc_malloc(size_t);

static volatile pthread_t stall_thread;
static volatile int armed;
static sem_t inside;
static pthread_mutex_t first = PTHREAD_MUTEX_INITIALIZER, second = PTHREAD_MUTEX_INITIALIZER;

static void take(pthread_mutex_t *a, pthread_mutex_t *b)
{
    pthread_mutex_lock(a);
    pthread_mutex_lock(b);
    pthread_mutex_unlock(b);
    pthread_mutex_unlock(a);
}

void *malloc(size_t n)
{
    if (armed && pthread_equal(pthread_self(), stall_thread)) {
        armed = 0;
        sem_post(&inside);
        for (;;)
            pause();
    }
    return __libc_malloc(n);
}

static void *translate(void *arg)
{
    (void)arg;
    stall_thread = pthread_self();
    armed = 1;
    dcgettext("fork_in_gettext", "a message with no catalog", LC_MESSAGES);
    return NULL;
}

int main(void)
{
    if (!setlocale(LC_ALL, "C.UTF-8")) {
        fprintf(stderr, "fork_in_gettext: no C.UTF-8 locale\n");
        return 77;
    }
    bindtextdomain("fork_in_gettext", "/nonexistent");
    sem_init(&inside, 0, 0);
    pthread_t t;
    if (pthread_create(&t, NULL, translate, NULL) != 0)
        return 1;
    while (sem_wait(&inside) != 0)
        ;
    fflush(stdout);
    pid_t pid = fork();
    if (pid == 0) {
        alarm(10);
        take(&first, &second);
        take(&second, &first);
        exit(0);
    }
    int status;
    if (pid < 0 || waitpid(pid, &status, 0) != pid)
        return 1;
    if (WIFSIGNALED(status))
        printf("child: signal %d\n", WTERMSIG(status));
    else
        printf("child: status %d\n", WEXITSTATUS(status));
    fflush(stdout);
    _exit(0);
}
