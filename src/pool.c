/* pool.c - fixed-size blocks borrowed per request. See pool.h. */
#include "pool.h"

#include <sys/mman.h>
#include <unistd.h>

/* How often pool_trim gives unused blocks back. */
#define POOL_TRIM_MS 1000

void
pool_init(struct pool *p, size_t size, unsigned max)
{
	long page = sysconf(_SC_PAGESIZE);
	size_t pg = page > 0 ? (size_t)page : 4096;
	*p = (struct pool){.size = (size + pg - 1) / pg * pg, .max = max};
}

void *
pool_get(struct pool *p)
{
	void *b = p->free;
	if (b) {
		p->free = *(void **)b;
		if (--p->nfree < p->low)
			p->low = p->nfree;
		return b;
	}
	if (p->count >= p->max) {
		p->refused++;
		return NULL;
	}
	b = mmap(NULL, p->size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (b == MAP_FAILED) {
		p->refused++;
		return NULL;
	}
	p->count++;
	p->low = 0;
	return b;
}

void
pool_put(struct pool *p, void *block)
{
	*(void **)block = p->free;
	p->free = block;
	p->nfree++;
}

uint64_t
pool_trim(struct pool *p, uint64_t now_ms)
{
	if (p->nfree <= POOL_SPARE)
		return UINT64_MAX;
	if (now_ms - p->trimmed_ms < POOL_TRIM_MS)
		return p->trimmed_ms + POOL_TRIM_MS;
	/* Blocks that stayed free all along were not needed by this load. */
	unsigned drop = p->low > POOL_SPARE ? p->low - POOL_SPARE : 0;
	while (drop-- > 0 && p->free) {
		void *b = p->free;
		p->free = *(void **)b;
		p->nfree--;
		p->count--;
		munmap(b, p->size);
	}
	p->low = p->nfree;
	p->trimmed_ms = now_ms;
	return p->nfree > POOL_SPARE ? now_ms + POOL_TRIM_MS : UINT64_MAX;
}

unsigned long
pool_refused(struct pool *p)
{
	unsigned long n = p->refused;
	p->refused = 0;
	return n;
}

void
pool_free(struct pool *p)
{
	while (p->free) {
		void *b = p->free;
		p->free = *(void **)b;
		munmap(b, p->size);
		p->count--;
	}
	p->nfree = 0;
}
