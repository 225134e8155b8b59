/* dl_locks LIBRARY [backward | moved]: loads and unloads LIBRARY (dl_lib)
 * many times, each time taking its locks in one order from a new thread:
 * its static locks come back at the same address, fresh. With `backward`,
 * a last load takes them in both orders: one inversion. (Locks of an
 * unloaded library are gone: a load that only takes them the other way
 * makes no cycle with the orders of an earlier load.) With `moved`, that
 * load is followed by another at a new address (the first one's pages are
 * kept from it), which takes them in both orders again: the same bug, from
 * the same lines, in other locks. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>

#define ROUNDS 40

static void *call(void *fn)
{
    ((void (*)(void))fn)();
    return NULL;
}

static void *loaded_at;     /* the base address of the last load */

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
        Dl_info info;
        pthread_t t;
        if (!fn || pthread_create(&t, NULL, call, fn) != 0)
            return -1;
        pthread_join(t, NULL);
        if (dladdr(fn, &info))
            loaded_at = info.dli_fbase;
    }
    return dlclose(h);
}

/* The same inversion again in a load elsewhere: the last load's first
 * pages (as many as are free, up to a megabyte) are taken first, so the
 * loader maps the library at another address. */
static int moved(const char *path)
{
    void *before = loaded_at;
    size_t size = 1 << 20;
    while (size >= 4096 && mmap(before, size, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE,
                                -1, 0) != before)
        size /= 2;
    if (size < 4096) {
        perror("dl_locks: mmap");
        return -1;
    }
    if (round_with(path, "dl_forward", "dl_backward") < 0)
        return -1;
    if (loaded_at == before) {
        fprintf(stderr, "dl_locks: loaded at the same address again\n");
        return -1;
    }
    printf("dl_locks: loaded again at another address\n");
    return 0;
}

int main(int argc, char **argv)
{
    if (argc < 2)
        return 2;
    for (int i = 0; i < ROUNDS; i++)
        if (round_with(argv[1], "dl_forward", i % 2 ? "dl_forward" : NULL) < 0)
            return 1;
    int both = argc > 2 && (!strcmp(argv[2], "backward") || !strcmp(argv[2], "moved"));
    if (both && round_with(argv[1], "dl_forward", "dl_backward") < 0)
        return 1;
    if (argc > 2 && !strcmp(argv[2], "moved") && moved(argv[1]) < 0)
        return 1;
    printf("dl_locks: %d rounds\n", ROUNDS);
    return 0;
}
