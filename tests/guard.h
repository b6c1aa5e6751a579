/* guard.h - test inputs that end just before a PROT_NONE page.
 *
 * A pure parser that reads one byte past the length it was given touches the
 * guard page and dies with SIGSEGV, which Check reports as a failure of that
 * test (the trick picohttpparser's tests use). Header-only and static inline
 * so each suite can include it without a Makefile change. */
#ifndef SHS_TESTS_GUARD_H
#define SHS_TESTS_GUARD_H

#include <check.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

struct guard {
	char *map;     /* data pages followed by one PROT_NONE page */
	size_t maplen; /* whole mapping */
	size_t cap;    /* bytes usable before the guard page */
};

/* Maps room for inputs of up to cap bytes. */
static inline void
guard_init(struct guard *g, size_t cap)
{
	size_t page = (size_t)sysconf(_SC_PAGESIZE);
	size_t data = (cap + page - 1) / page * page;
	if (data == 0)
		data = page;
	g->maplen = data + page;
	g->cap = data;
	g->map = mmap(NULL, g->maplen, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ck_assert_msg(g->map != MAP_FAILED, "mmap failed");
	ck_assert_int_eq(mprotect(g->map + data, page, PROT_NONE), 0);
}

/* Where a len-byte input must start so that it ends at the guard page. */
static inline char *
guard_slot(struct guard *g, size_t len)
{
	ck_assert_uint_le(len, g->cap);
	return g->map + g->cap - len;
}

/* Copies buf[0..len) so that its last byte is the last readable one. */
static inline const char *
guard_place(struct guard *g, const void *buf, size_t len)
{
	char *p = guard_slot(g, len);
	if (len > 0)
		memcpy(p, buf, len);
	return p;
}

static inline void
guard_free(struct guard *g)
{
	if (g->map != NULL && g->map != MAP_FAILED)
		(void)munmap(g->map, g->maplen);
	g->map = NULL;
}

#endif
