/* churn: LOCKS distinct mutexes (10^6), each created, locked and ended, by
 * THREADS threads (4). Memory is reused at once, so a new mutex sits where
 * an old one was, with the roles swapped: iteration i takes X then Y, i + 1
 * takes Y then X at the same addresses. Only if lockrace took the new
 * mutexes for the old ones would that be an inversion. Three ways a mutex
 * ends, in turn:
 *   - heap, pthread_mutex_init ... pthread_mutex_destroy, free
 *   - heap, assigned PTHREAD_MUTEX_INITIALIZER, freed without destroy (a
 *     std::mutex in a heap object)
 *   - on the stack of a function called again, pthread_mutex_init, never
 *     destroyed
 * Half the time the pair is taken under the thread's long-lived lock, so
 * the graph gains edges from it to every pair. Nothing may be reported, and
 * peak RSS (stderr) must stay bounded. */
#include "stress.h"

static long per_thread;     /* iterations, two locks each */

struct worker {
    long id;
    pthread_mutex_t outer;
    uint64_t counter;
};

static void use_pair(struct worker *w, pthread_mutex_t *first, pthread_mutex_t *second, long i)
{
    if (i & 2)
        pthread_mutex_lock(&w->outer);
    pthread_mutex_lock(first);
    pthread_mutex_lock(second);
    w->counter += (uint64_t)i;
    pthread_mutex_unlock(second);
    pthread_mutex_unlock(first);
    if (i & 2)
        pthread_mutex_unlock(&w->outer);
}

static void heap_destroyed(struct worker *w, long i)
{
    pthread_mutex_t *x = malloc(sizeof *x), *y = malloc(sizeof *y);
    pthread_mutex_init(x, NULL);
    pthread_mutex_init(y, NULL);
    use_pair(w, x, y, i);
    pthread_mutex_destroy(x);
    pthread_mutex_destroy(y);
    free(x);                /* next time, malloc hands out y's address first */
    free(y);
}

static void heap_forgotten(struct worker *w, long i)
{
    pthread_mutex_t *x = malloc(sizeof *x), *y = malloc(sizeof *y);
    *x = (pthread_mutex_t)PTHREAD_MUTEX_INITIALIZER;
    *y = (pthread_mutex_t)PTHREAD_MUTEX_INITIALIZER;
    use_pair(w, x, y, i);
    free(x);
    free(y);
}

static __attribute__((noinline)) void stack_forgotten(struct worker *w, long i)
{
    pthread_mutex_t m[2];
    pthread_mutex_init(&m[0], NULL);
    pthread_mutex_init(&m[1], NULL);
    use_pair(w, &m[i & 1], &m[!(i & 1)], i);
}

static void *worker(void *arg)
{
    struct worker *w = arg;
    name_self("churn-%ld", w->id);
    for (long i = 0; i < per_thread; i++) {
        switch (i % 3) {
        case 0: heap_destroyed(w, i); break;
        case 1: heap_forgotten(w, i); break;
        default: stack_forgotten(w, i); break;
        }
    }
    return NULL;
}

int main(int argc, char **argv)
{
    long nlocks = arg_long(argc, argv, 1, 1000000);
    long nthreads = arg_long(argc, argv, 2, 4);
    if (nthreads < 1 || nlocks < 2 * nthreads) {
        fprintf(stderr, "usage: churn LOCKS THREADS (LOCKS >= 2 * THREADS >= 2)\n");
        return 2;
    }
    per_thread = nlocks / nthreads / 2;
    struct worker *w = calloc((size_t)nthreads, sizeof *w);
    pthread_t *t = calloc((size_t)nthreads, sizeof *t);
    for (long i = 0; i < nthreads; i++) {
        w[i].id = i;
        pthread_mutex_init(&w[i].outer, NULL);
        t[i] = start(worker, &w[i], 0);
    }
    uint64_t total = 0;
    for (long i = 0; i < nthreads; i++) {
        pthread_join(t[i], NULL);
        total += w[i].counter;
        pthread_mutex_destroy(&w[i].outer);
    }
    printf("churn: %ld threads, %ld locks created, used and ended, total %llu\n", nthreads,
           per_thread * nthreads * 2, (unsigned long long)total);
    free(w);
    free(t);
    print_peak_rss("churn");
    return 0;
}
