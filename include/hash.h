/* hash.h - the one string hash: 64-bit FNV-1a (small, no table, good
 * enough spread for paths), for the cache's buckets and serve.c's
 * stale-sidecar warnings. */
#ifndef SHS_HASH_H
#define SHS_HASH_H

#include <stddef.h>
#include <stdint.h>

static inline uint64_t
hash_fnv1a(const char *p, size_t n)
{
	uint64_t h = 1469598103934665603u;
	for (size_t i = 0; i < n; i++)
		h = (h ^ (unsigned char)p[i]) * 1099511628211u;
	return h;
}

#endif
