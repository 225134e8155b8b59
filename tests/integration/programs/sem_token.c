/* sem_token: a semaphore initialised to 1 used as a start token, not a
 * lock. The first worker waits for it, then takes m, and ends without
 * posting it; the second takes m and then waits for the token, which a
 * third thread posts later. lockrace takes a semaphore initialised to 1
 * for a lock until it sees otherwise: a thread that ends holding it shows
 * it was not one, before the second worker's wait could close a false
 * cycle token -> m -> token. With "early", the second worker closes that
 * cycle while the first still runs, holding the token: the cycle waits
 * until the semaphore shows what it is, and is dropped when the first
 * ends holding it. */
#include <pthread.h>
#include <semaphore.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static sem_t token;
static pthread_mutex_t m = PTHREAD_MUTEX_INITIALIZER;
static int v, early;

static void *first(void *arg)
{
    (void)arg;
    sem_wait(&token);
    pthread_mutex_lock(&m);
    v++;
    pthread_mutex_unlock(&m);
    if (early)
        usleep(300000);         /* still running, the token still taken */
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

int main(int argc, char **argv)
{
    early = argc > 1 && strcmp(argv[1], "early") == 0;
    sem_init(&token, 0, 1);
    pthread_t a, b, c;
    pthread_create(&a, NULL, first, NULL);
    if (early)
        usleep(50000);
    else
        pthread_join(a, NULL);
    pthread_create(&b, NULL, second, NULL);
    pthread_create(&c, NULL, poster, NULL);
    pthread_join(b, NULL);
    pthread_join(c, NULL);
    if (early)
        pthread_join(a, NULL);
    printf("%d\n", v);
    return 0;
}
