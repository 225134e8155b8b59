/* watch_callers: one watched instruction reached from two callers. The
 * main thread bumps `hits` once through path_one() before it starts the
 * worker (ordered: no race), then main and the worker both bump it
 * through path_two() with no lock: a race between their path_two()
 * accesses. lockrace remembers the stack of each rewritten instruction per
 * thread; the main thread's racing access must show path_two(), the way
 * it came this time, not path_one(), the way it came first. */
#include <pthread.h>
#include <stdio.h>

long hits;

__attribute__((noinline)) static void bump(void)
{
    hits++;
}

__attribute__((noinline)) static void path_one(void)
{
    bump();
}

__attribute__((noinline)) static void path_two(void)
{
    volatile char deeper[256];          /* another caller, another depth */
    deeper[0] = 0;
    for (int i = 0; i < 20000; i++)
        bump();
    (void)deeper[0];
}

static void *worker(void *arg)
{
    (void)arg;
    path_two();
    return NULL;
}

int main(void)
{
    path_one();
    pthread_t t;
    pthread_create(&t, NULL, worker, NULL);
    path_two();
    pthread_join(t, NULL);
    printf("hits %ld\n", hits);
    return 0;
}
