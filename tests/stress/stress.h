/* What the stress programs share: a seeded generator (each thread its own,
 * so a run's result does not depend on the interleaving), the peak RSS, and
 * starting named threads. Each program prints its scale and a checksum of
 * its result on stdout, which must be the same natively and under lockrace;
 * its peak RSS goes to stderr, which differs. */
#ifndef STRESS_H
#define STRESS_H

#define _GNU_SOURCE
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* splitmix64: one word of state, good enough to pick locks */
static inline uint64_t rng_next(uint64_t *s)
{
    uint64_t z = (*s += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

static inline uint64_t fnv(uint64_t h, uint64_t v)
{
    for (int i = 0; i < 8; i++, v >>= 8)
        h = (h ^ (v & 0xff)) * 0x100000001b3ull;
    return h;
}
#define FNV_SEED 0xcbf29ce484222325ull

/* The process's peak resident set (VmHWM), in KiB; 0 if unreadable. */
static inline long peak_rss_kib(void)
{
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    long kib = 0;
    if (!f)
        return 0;
    while (fgets(line, sizeof line, f))
        if (sscanf(line, "VmHWM: %ld kB", &kib) == 1)
            break;
    fclose(f);
    return kib;
}

/* On stderr: the driver compares it with the native run's. */
static inline void print_peak_rss(const char *prog)
{
    fprintf(stderr, "%s: peak RSS %ld KiB\n", prog, peak_rss_kib());
}

static inline long arg_long(int argc, char **argv, int i, long dflt)
{
    return argc > i ? strtol(argv[i], NULL, 10) : dflt;
}

static inline void die(const char *what, int err)
{
    fprintf(stderr, "%s: %s\n", what, strerror(err));
    exit(1);
}

/* Names the calling thread (before its first lock, so that every report
 * that shows it has the name), e.g. name_self("worker-%d", 3). */
static inline void name_self(const char *fmt, long n)
{
    char name[16];
    snprintf(name, sizeof name, fmt, n);
    pthread_setname_np(pthread_self(), name);
}

/* Starts fn(arg); stack_size 0 for the default. */
static inline pthread_t start(void *(*fn)(void *), void *arg, size_t stack_size)
{
    pthread_attr_t attr;
    pthread_t t;
    pthread_attr_init(&attr);
    if (stack_size)
        pthread_attr_setstacksize(&attr, stack_size);
    int rc = pthread_create(&t, &attr, fn, arg);
    pthread_attr_destroy(&attr);
    if (rc)
        die("pthread_create", rc);
    return t;
}

#endif
