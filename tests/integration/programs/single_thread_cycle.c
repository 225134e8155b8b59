/* single_thread_cycle (buggy): the main thread alone takes lock_a -> lock_b and
 * later lock_b -> lock_a. No hang is possible with one thread, but two threads
 * on these paths can deadlock. Expected: one cycle of 2, made by one thread.
 * With the argument "ring": the main thread walks a ring of 4 buffers, taking
 * each while it holds the one before (as a log's writer moves on to its next
 * buffer): one cycle of 4, which takes four threads at once to deadlock. */
#include <pthread.h>
#include <stdio.h>
#include <string.h>

static struct buffer {
    pthread_mutex_t lock;
    char bytes[256];
} ring[4] = { { PTHREAD_MUTEX_INITIALIZER, "" }, { PTHREAD_MUTEX_INITIALIZER, "" },
              { PTHREAD_MUTEX_INITIALIZER, "" }, { PTHREAD_MUTEX_INITIALIZER, "" } };

static void move_on(int i)
{
    pthread_mutex_lock(&ring[i].lock);
    pthread_mutex_lock(&ring[(i + 1) % 4].lock);
    ring[(i + 1) % 4].bytes[0] = ring[i].bytes[0];
    pthread_mutex_unlock(&ring[i].lock);
    pthread_mutex_unlock(&ring[(i + 1) % 4].lock);
}

pthread_mutex_t lock_a = PTHREAD_MUTEX_INITIALIZER;
pthread_mutex_t lock_b = PTHREAD_MUTEX_INITIALIZER;

static void a_then_b(void)
{
    pthread_mutex_lock(&lock_a);
    pthread_mutex_lock(&lock_b);
    pthread_mutex_unlock(&lock_b);
    pthread_mutex_unlock(&lock_a);
}

static void b_then_a(void)
{
    pthread_mutex_lock(&lock_b);
    pthread_mutex_lock(&lock_a);
    pthread_mutex_unlock(&lock_a);
    pthread_mutex_unlock(&lock_b);
}

int main(int argc, char **argv)
{
    if (argc > 1 && !strcmp(argv[1], "ring")) {
        for (int i = 0; i < 4; i++)
            move_on(i);
        printf("single_thread_cycle: main went round a ring of 4 buffers\n");
        return 0;
    }
    a_then_b();
    b_then_a();
    printf("single_thread_cycle: main took a->b, then b->a\n");
    return 0;
}
