/* dl_locks LIBRARY [backward]: loads and unloads LIBRARY (dl_lib) many
 * times, each time taking its locks in one order from a new thread: its
 * static locks come back at the same address, fresh. With `backward`, a
 * last load takes them in both orders: one inversion. (Locks of an
 * unloaded library are gone: a load that only takes them the other way
 * makes no cycle with the orders of an earlier load.) */
#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#define ROUNDS 40

static void *call(void *fn)
{
    ((void (*)(void))fn)();
    return NULL;
}

/* one load: calls each function named, in a thread of its own */
static int round_with(const char *path, const char *first, const char *then)
{
    void *h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    if (!h) {
        fprintf(stderr, "dl_locks: %s\n", dlerror());
        return -1;
    }
    const char *names[] = { first, then };
    for (int i = 0; i < 2 && names[i]; i++) {
        void *fn = dlsym(h, names[i]);
        pthread_t t;
        if (!fn || pthread_create(&t, NULL, call, fn) != 0)
            return -1;
        pthread_join(t, NULL);
    }
    return dlclose(h);
}

int main(int argc, char **argv)
{
    if (argc < 2)
        return 2;
    for (int i = 0; i < ROUNDS; i++)
        if (round_with(argv[1], "dl_forward", i % 2 ? "dl_forward" : NULL) < 0)
            return 1;
    if (argc > 2 && !strcmp(argv[2], "backward") && round_with(argv[1], "dl_forward", "dl_backward") < 0)
        return 1;
    printf("dl_locks: %d rounds\n", ROUNDS);
    return 0;
}
