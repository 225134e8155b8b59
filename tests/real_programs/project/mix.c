#include "pool.h"

/* splitmix64's finalizer: any scheduling gives the same sum of these. */
uint64_t mix(uint64_t x)
{
	x += 0x9e3779b97f4a7c15ull;
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
	return x ^ (x >> 31);
}

uint64_t checksum(const uint64_t *v, int n)
{
	uint64_t h = 0;
	for (int i = 0; i < n; i++)
		h = mix(h ^ v[i]);
	return h;
}
