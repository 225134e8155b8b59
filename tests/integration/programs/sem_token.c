/* sem_token: a semaphore initialised to 1 used as a start token, not a
 * lock. The first worker waits for it, then takes m, and ends without
 * posting it; the second takes m and then waits for the token, which a
 * third thread posts later. lockrace takes a semaphore initialised to 1
 * for a lock until it sees otherwise: a thread that ends holding it shows
 * it was not one, before the second worker's wait could close a false
 * cycle token -> m -> token. */
#include <pthread.h>
#include <semaphore.h>
#include <stdio.h>
#include <unistd.h>

static sem_t token;
static pthread_mutex_t m = PTHREAD_MUTEX_INITIALIZER;
static int v;

static void *first(void *arg)
{
    (void)arg;
    sem_wait(&token);
    pthread_mutex_lock(&m);
    v++;
    pthread_mutex_unlock(&m);
    return NULL;
}

static void *second(void *arg)
{
    (void)arg;
    pthread_mutex_lock(&m);
    sem_wait(&token);
    v++;
    pthread_mutex_unlock(&m);
    return NULL;
}

static void *poster(void *arg)
{
    (void)arg;
    usleep(100000);
    sem_post(&token);
    return NULL;
}

int main(void)
{
    sem_init(&token, 0, 1);
    pthread_t a, b, c;
    pthread_create(&a, NULL, first, NULL);
    pthread_join(a, NULL);
    pthread_create(&b, NULL, second, NULL);
    pthread_create(&c, NULL, poster, NULL);
    pthread_join(b, NULL);
    pthread_join(c, NULL);
    printf("%d\n", v);
    return 0;
}
