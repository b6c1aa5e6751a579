/* pool.h - fixed-size blocks borrowed and returned: the buffers of the
 * requests in flight (struct conn_io). An idle keep-alive connection holds
 * none, so it costs its slot in the connection table and nothing else.
 *
 * Each block is its own anonymous mapping, so a block given back to the
 * kernel leaves no hole in the heap. Returned blocks are kept on a free
 * list for the next request; pool_trim(), called by the loop, unmaps the
 * ones that stayed unused for a whole second (above a few spares), so
 * memory follows the load down without a syscall per request under it. */
#ifndef SHS_POOL_H
#define SHS_POOL_H

#include <stddef.h>
#include <stdint.h>

/* Free blocks kept whatever happens: enough for a burst of small requests. */
#define POOL_SPARE 16

struct pool {
	size_t size;           /* of a block, rounded up to whole pages */
	unsigned max;          /* blocks out and free at most; more: pool_get NULL */
	unsigned count;        /* blocks mapped (out + free) */
	unsigned nfree;        /* on the free list */
	unsigned low;          /* fewest free since the last trim: never needed */
	uint64_t trimmed_ms;   /* when pool_trim last looked */
	unsigned long refused; /* pool_get found none, since pool_refused() */
	void *free;            /* the free list, linked through each block's start */
};

/* A pool of blocks of size bytes, at most max of them. */
void pool_init(struct pool *p, size_t size, unsigned max);

/* A block (contents undefined), or NULL when max are out or the kernel has
 * no memory (counted in refused). */
void *pool_get(struct pool *p);

/* Gives a block back. */
void pool_put(struct pool *p, void *block);

/* Once a second at most: unmaps the free blocks that were never needed
 * since the last look, above POOL_SPARE. Returns when to look again (ms),
 * or UINT64_MAX when there is nothing to trim. */
uint64_t pool_trim(struct pool *p, uint64_t now_ms);

/* Refusals since the last call (for a rate-limited warning). */
unsigned long pool_refused(struct pool *p);

/* Unmaps every free block (the ones out are their holders'). */
void pool_free(struct pool *p);

#endif
