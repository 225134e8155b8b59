/* escape_names ARG...: threads named to take over a terminal, an operating
 * system command that retitles the window ("\033]0;pwned\007", through
 * pthread_setname_np) and one that clears the screen ("\033[2J", through
 * prctl, read back from /proc), a lock named with a C1 control (U+009B,
 * CSI) and a byte that is not UTF-8, make a lock-order inversion between
 * them. Text reports must show those bytes escaped, never send them. The
 * arguments are not used: the launcher's summary shows them. */
#define _GNU_SOURCE
#include "lockrace.h"

#include <pthread.h>
#include <stdio.h>
#include <sys/prctl.h>

static pthread_mutex_t first = PTHREAD_MUTEX_INITIALIZER, second = PTHREAD_MUTEX_INITIALIZER;

static void *retitle(void *arg)
{
    (void)arg;
    pthread_setname_np(pthread_self(), "\033]0;pwned\007");
    pthread_mutex_lock(&first);
    pthread_mutex_lock(&second);
    pthread_mutex_unlock(&second);
    pthread_mutex_unlock(&first);
    return NULL;
}

static void *clear(void *arg)
{
    (void)arg;
    prctl(PR_SET_NAME, "\033[2J\033[H");
    pthread_mutex_lock(&second);
    pthread_mutex_lock(&first);
    pthread_mutex_unlock(&first);
    pthread_mutex_unlock(&second);
    return NULL;
}

int main(void)
{
    lockrace_lock_name(&second, "csi\xc2\x9b" "2J\xff");
    pthread_t t;
    pthread_create(&t, NULL, retitle, NULL);
    pthread_join(t, NULL);
    pthread_create(&t, NULL, clear, NULL);
    pthread_join(t, NULL);
    puts("escape_names: done");
    return 0;
}
