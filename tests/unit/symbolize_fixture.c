/* A shared library that test_symbolize dlopen()s after symbolization has
 * started, to check that modules loaded later are found. Build with -g. */
#include <pthread.h>

struct fix_node {
    long key;
    pthread_mutex_t guard;
};

struct fix_node fix_nodes[3];

int fix_function(int x)
{
    return x * 3 + 1;
}
