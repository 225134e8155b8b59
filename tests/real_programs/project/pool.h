/* A small work queue for the real-program matrix's C project: built by make,
 * ninja, cmake, gcc -flto, g++, gold, lld and mold, run by ctest and gdb. */
#ifndef POOL_H
#define POOL_H
#include <stdint.h>

uint64_t mix(uint64_t x);
uint64_t checksum(const uint64_t *v, int n);
/* pool_run: THREADS workers take ITEMS numbers from a queue guarded by a
 * mutex and two condition variables and add mix(item) into a total under a
 * rwlock-protected table; the result does not depend on scheduling. */
uint64_t pool_run(int threads, int items);
#endif
