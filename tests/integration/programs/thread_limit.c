/* How many threads fit under an address-space limit (ulimit -v): the
 * program sets RLIMIT_AS to its own size at start plus MiB (argument,
 * default 256), then creates threads with 64 KiB stacks, each blocked in
 * a read() of a pipe, until pthread_create fails; it prints how many it
 * made and what the failure was, then lets them all end and joins them.
 * Starting from its own size makes the count measure what each thread
 * costs, not what was mapped before main. */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#define MAX_THREADS 100000

static int pipe_fds[2];

static void *sleeper(void *arg)
{
    (void)arg;
    char c;
    while (read(pipe_fds[0], &c, 1) > 0)
        ;
    return NULL;
}

static unsigned long vm_size_kib(void)
{
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    unsigned long kib = 0;
    while (f && fgets(line, sizeof line, f))
        if (sscanf(line, "VmSize: %lu kB", &kib) == 1)
            break;
    if (f)
        fclose(f);
    return kib;
}

int main(int argc, char **argv)
{
    unsigned long mib = argc > 1 ? strtoul(argv[1], NULL, 10) : 256;
    static pthread_t threads[MAX_THREADS];
    if (pipe(pipe_fds) != 0)
        return 1;
    unsigned long start_kib = vm_size_kib();
    struct rlimit rl;
    getrlimit(RLIMIT_AS, &rl);
    rl.rlim_cur = (start_kib << 10) + (mib << 20);
    if (setrlimit(RLIMIT_AS, &rl) != 0) {
        perror("setrlimit");
        return 1;
    }
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setstacksize(&attr, 64 << 10);
    int n = 0, rc = 0;
    while (n < MAX_THREADS && (rc = pthread_create(&threads[n], &attr, sleeper, NULL)) == 0)
        n++;
    unsigned long end_kib = vm_size_kib();
    close(pipe_fds[1]);
    for (int i = 0; i < n; i++)
        pthread_join(threads[i], NULL);
    printf("threads %d (%s) within %lu MiB over %lu KiB at start; %lu KiB at the end\n", n,
           rc ? strerror(rc) : "limit of the test", mib, start_kib, end_kib);
    return 0;
}
