/* The library half of watch_struct: a counter private to a shared object,
 * and an exported one, which the library's own code reaches through its
 * GOT (it could be interposed). */
#include <pthread.h>

static long lib_total;
static pthread_mutex_t lib_lock = PTHREAD_MUTEX_INITIALIZER;
static long shared_name;                /* the program has one too */

void lib_add(long n, int safe)
{
    if (safe)
        pthread_mutex_lock(&lib_lock);
    long v = lib_total;
    shared_name |= safe;
    if (v < 0)
        n = 0;
    lib_total = v + n;
    if (safe)
        pthread_mutex_unlock(&lib_lock);
}

long lib_exported;
static long lib_exported_bumps;         /* under lib_lock: the count it should reach */

void lib_bump(int safe)
{
    if (safe)
        pthread_mutex_lock(&lib_lock);
    lib_exported++;
    if (safe) {
        lib_exported_bumps++;
        pthread_mutex_unlock(&lib_lock);
    }
}

long lib_total_value(void)
{
    return lib_total;
}

long lib_shared_name(void)
{
    return shared_name;
}
