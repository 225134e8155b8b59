/* Watching a member of a struct by offset (watch=stats+8:8), and a
 * variable in a shared library (watch=lib_total). Nothing is annotated.
 *
 * stats.hits is only touched under stats_lock; stats.misses is incremented
 * by both threads with no lock (a lost update). lib_add() adds to a static
 * counter of watch_lib.so, under the library's lock in `safe` mode and
 * without it otherwise; lib_bump() increments the library's exported
 * lib_exported the same way. Modes: struct, lib, lib-safe, exported,
 * exported-safe, and array (slots[i % 8] incremented with no lock). Also the error
 * cases: a name two files define, a thread-local variable. */
#include <pthread.h>
#include <stdio.h>
#include <string.h>

struct stats {
    long hits;
    long misses;
};

struct stats stats;
long slots[8];                          /* indexed: reached as lea slots(%rip) + index */
static long shared_name;                /* watch_lib.c has one too: watch=shared_name is ambiguous */
__thread long per_thread;               /* thread-local: refused */
static pthread_mutex_t stats_lock = PTHREAD_MUTEX_INITIALIZER;

void lib_add(long n, int safe);
void lib_bump(int safe);
extern long lib_exported;
long lib_total_value(void);

#define ROUNDS 20000
static const char *mode;

static void *worker(void *arg)
{
    (void)arg;
    for (long i = 0; i < ROUNDS; i++) {
        if (!strcmp(mode, "struct")) {
            pthread_mutex_lock(&stats_lock);
            stats.hits++;
            pthread_mutex_unlock(&stats_lock);
            long m = stats.misses;
            if (m < 0)
                puts("never");
            stats.misses = m + 1;
            shared_name = i;
        } else if (!strcmp(mode, "array")) {
            long v = slots[i & 7];
            if (v < 0)
                puts("never");
            slots[i & 7] = v + 1;
        } else if (!strncmp(mode, "exported", 8)) {
            lib_bump(!strcmp(mode, "exported-safe"));
        } else {
            lib_add(1, !strcmp(mode, "lib-safe"));
        }
    }
    return NULL;
}

int main(int argc, char **argv)
{
    mode = argc > 1 ? argv[1] : "struct";
    pthread_t t[2];
    for (int i = 0; i < 2; i++)
        pthread_create(&t[i], NULL, worker, NULL);
    for (int i = 0; i < 2; i++)
        pthread_join(t[i], NULL);
    per_thread = argc;
    printf("hits %ld misses %ld lib %ld (last %ld, %ld) exported %ld slots[2] %ld\n", stats.hits,
           stats.misses, lib_total_value(), shared_name, per_thread - argc, lib_exported, slots[2]);
    return 0;
}
