/* utf8_thread: a thread named through prctl with a UTF-8 name longer than
 * the kernel keeps (15 bytes), which cuts its last character in two; it
 * then takes two locks in the order main took them the other way. The
 * report names the thread by the characters that are whole. */
#include <pthread.h>
#include <stdio.h>
#include <sys/prctl.h>

static pthread_mutex_t first = PTHREAD_MUTEX_INITIALIZER, second = PTHREAD_MUTEX_INITIALIZER;

static void *worker(void *arg)
{
    (void)arg;
    prctl(PR_SET_NAME, "w\xe5\xb7\xa5\xe4\xbd\x9c\xe7\xba\xbf\xe7\xa8\x8b\xe4\xb8\x80");  /* w工作线程一 */
    pthread_mutex_lock(&second);
    pthread_mutex_lock(&first);
    pthread_mutex_unlock(&first);
    pthread_mutex_unlock(&second);
    return NULL;
}

int main(void)
{
    pthread_mutex_lock(&first);
    pthread_mutex_lock(&second);
    pthread_mutex_unlock(&second);
    pthread_mutex_unlock(&first);
    pthread_t t;
    pthread_create(&t, NULL, worker, NULL);
    pthread_join(t, NULL);
    puts("utf8_thread: done");
    return 0;
}
