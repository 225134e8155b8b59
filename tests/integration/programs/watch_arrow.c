/* Watching a member of a heap object reached through a global pointer:
 * watch=meter->ticks, the offset and size of ticks from the debug
 * information, the object wherever meter points when the access runs.
 * Nothing is annotated.
 *
 * Modes (each: two threads, 20000 read-then-write increments of
 * meter->ticks):
 *   racy             no lock: lost updates on meter->ticks
 *   locked           under `lock`: clean
 *   replace          under the lock on a first object, then main points
 *                    meter at a second one (the first kept alive, so the
 *                    addresses differ) and the threads run again without
 *                    the lock: lost updates on the second object only
 *   replace-locked   the same, under the lock both times: clean
 *   callee           racy, each increment made by a function that gets
 *                    meter's value as its argument (add_to(meter))
 *   flip             one increment each, in turns a flag sets that lockrace
 *                    does not see (a relaxed atomic): T1 on the first
 *                    object; main points meter at a second one, T2
 *                    increments it; main points meter back, T2 increments
 *                    the first again: nothing lockrace sees orders that
 *                    with T1's, the first object's history kept over the
 *                    moves (a lost update on it, possible)
 *   array            meter points at the first of 4 struct meters; the
 *                    threads increment meter[1..3].ticks with no lock and
 *                    meter->ticks (meter[0]) under the lock: clean for
 *                    watch=meter->ticks, the other elements are not it
 * It prints the objects' addresses and the first object's total. A second
 * argument sets the rounds (bench/watch_arrow.sh). */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct meter {
    long ticks;
    long misses;
};

struct meter *meter;
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;

static long rounds = 20000;
static int locked, array;

/* The read and the write of an increment, kept apart as a longer
 * computation would (a lone `meter->ticks++` may compile to one `addq`,
 * which watching makes atomic): the barrier makes the compiler load meter
 * again for the write. */
static void bump(void)
{
    long t = meter->ticks;
    __asm__ volatile("" ::: "memory");
    meter->ticks = t + 1;
}

/* Not inlined: the pointer's value is passed in %rdi. */
__attribute__((noinline)) static void add_to(struct meter *m)
{
    long t = m->ticks;
    __asm__ volatile("" ::: "memory");
    m->ticks = t + 1;
}

static int callee;

static void *worker(void *arg)
{
    (void)arg;
    for (long i = 0; i < rounds; i++) {
        if (array) {
            long k = 1 + i % 3;
            long t = meter[k].ticks;
            __asm__ volatile("" ::: "memory");
            meter[k].ticks = t + 1;
        }
        if (locked)
            pthread_mutex_lock(&lock);
        if (callee)
            add_to(meter);
        else
            bump();
        if (locked)
            pthread_mutex_unlock(&lock);
    }
    return NULL;
}

static int step;

static void wait_step(int n)
{
    while (__atomic_load_n(&step, __ATOMIC_RELAXED) != n)
        ;
}

static void next_step(int n)
{
    __atomic_store_n(&step, n, __ATOMIC_RELAXED);
}

static void *flip_first(void *arg)
{
    (void)arg;
    bump();
    next_step(1);
    return NULL;
}

static void *flip_second(void *arg)
{
    (void)arg;
    wait_step(2);
    bump();
    next_step(3);
    wait_step(4);
    bump();
    return NULL;
}

/* The flip mode, meter at first: returns the second object. (Not read
 * from meter: a value of it kept across calls is one watching does not
 * follow, which start-up would say.) */
static struct meter *flip(struct meter *first)
{
    struct meter *second = calloc(1, sizeof *second);
    pthread_t t[2];
    pthread_create(&t[0], NULL, flip_first, NULL);
    pthread_create(&t[1], NULL, flip_second, NULL);
    wait_step(1);
    meter = second;
    next_step(2);
    wait_step(3);
    meter = first;
    next_step(4);
    for (int i = 0; i < 2; i++)
        pthread_join(t[i], NULL);
    return second;
}

static void run_threads(void)
{
    pthread_t t[2];
    for (int i = 0; i < 2; i++)
        pthread_create(&t[i], NULL, worker, NULL);
    for (int i = 0; i < 2; i++)
        pthread_join(t[i], NULL);
}

int main(int argc, char **argv)
{
    const char *mode = argc > 1 ? argv[1] : "racy";
    if (argc > 2)
        rounds = atol(argv[2]);
    array = !strcmp(mode, "array");
    callee = !strcmp(mode, "callee");
    locked = strcmp(mode, "racy") && !callee;
    meter = calloc(array ? 4 : 1, sizeof *meter);
    struct meter *first = meter;
    printf("first %p", (void *)first);
    if (!strcmp(mode, "flip")) {
        struct meter *second = flip(first);
        printf(" second %p second ticks %ld ticks %ld\n", (void *)second, second->ticks, first->ticks);
        return 0;
    }
    run_threads();
    if (!strncmp(mode, "replace", 7)) {
        meter = calloc(1, sizeof *meter);
        printf(" second %p", (void *)meter);
        locked = !strcmp(mode, "replace-locked");
        run_threads();
        printf(" second ticks %ld", meter->ticks);
    }
    printf(" ticks %ld\n", first->ticks);
    return 0;
}
