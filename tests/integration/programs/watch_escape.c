/* Variables whose address goes where the rewriting does not follow: one
 * passed to a function called through a pointer (g_total), one whose
 * address is stored in a global pointer (stored), one whose address a
 * function returns (returned); one only ever reached
 * directly (plain), one passed to a function called directly (passed),
 * whose accesses through it are followed, and an array whose address is
 * kept in a register across the lock calls of a loop (balance), followed
 * over the loop. Watching the first three says so once at start; the
 * others are watched whole, silently. */
#include <pthread.h>
#include <stdio.h>

long g_total;
long balance[16];
long plain;
long passed;
long stored;
long *volatile keep;
long returned;
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;

__attribute__((noinline)) static void store(long *p, long v)
{
    *p = v;
}

static void (*volatile store_fn)(long *, long) = store;

__attribute__((noipa)) static long *where(void)
{
    return &returned;
}

static void *worker(void *arg)
{
    (void)arg;
    store_fn(&g_total, 42);
    for (int i = 0; i < 16; i++) {
        pthread_mutex_lock(&lock);
        balance[i] += i;
        pthread_mutex_unlock(&lock);
    }
    pthread_mutex_lock(&lock);
    plain++;
    stored++;
    keep = &stored;
    *keep += 1;
    returned++;
    *where() += 1;
    store(&passed, plain);
    pthread_mutex_unlock(&lock);
    return NULL;
}

int main(void)
{
    pthread_t t[2];
    for (int i = 0; i < 2; i++)
        pthread_create(&t[i], NULL, worker, NULL);
    for (int i = 0; i < 2; i++)
        pthread_join(t[i], NULL);
    printf("total %ld balance %ld plain %ld stored %ld\n", g_total, balance[15], plain, stored);
    return 0;
}
