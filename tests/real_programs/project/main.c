#include <stdio.h>
#include <stdlib.h>
#include "pool.h"

int main(int argc, char **argv)
{
	int threads = argc > 1 ? atoi(argv[1]) : 4;
	int items = argc > 2 ? atoi(argv[2]) : 20000;
	uint64_t sum = pool_run(threads, items);

	printf("%d items, %d threads: %016llx\n", items, threads, (unsigned long long)sum);
	/* with an expected value, the exit status says whether it was met */
	if (argc > 3)
		return sum == strtoull(argv[3], NULL, 16) ? 0 : 1;
	return 0;
}
