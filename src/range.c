/* range.c - the Range header, bytes unit. See range.h. */
#include "range.h"

#include <strings.h>

/* Digits at *p (saturating at UINT64_MAX). Returns 0 if there were none. */
static int
number(const char **p, const char *end, uint64_t *out)
{
	const char *s = *p;
	uint64_t v = 0;
	while (*p < end && **p >= '0' && **p <= '9') {
		unsigned d = (unsigned)(**p - '0');
		v = v > (UINT64_MAX - d) / 10 ? UINT64_MAX : v * 10 + d;
		(*p)++;
	}
	*out = v;
	return *p > s;
}

static void
sort_and_merge(struct range *r, size_t *n)
{
	for (size_t i = 1; i < *n; i++) {
		struct range x = r[i];
		size_t j = i;
		for (; j > 0 && r[j - 1].first > x.first; j--)
			r[j] = r[j - 1];
		r[j] = x;
	}
	size_t w = 0;
	for (size_t i = 1; i < *n; i++) {
		if (r[i].first <= r[w].last + 1) { /* overlapping or adjacent */
			if (r[i].last > r[w].last)
				r[w].last = r[i].last;
		} else {
			r[++w] = r[i];
		}
	}
	*n = *n ? w + 1 : 0;
}

enum range_result
range_parse(const char *value, size_t len, uint64_t size, struct range *out, size_t *n)
{
	const char *p = value, *end = value + len;
	*n = 0;
	if (len < 6 || strncasecmp(p, "bytes=", 6) != 0)
		return RANGE_IGNORE;
	p += 6;
	size_t specs = 0;
	for (;;) {
		while (p < end && (*p == ' ' || *p == '\t' || *p == ','))
			p++;
		if (p == end)
			break;
		if (++specs > RANGE_MAX)
			return RANGE_IGNORE;
		uint64_t a, b;
		struct range r;
		int ok;
		if (*p == '-') {
			p++;
			if (!number(&p, end, &b))
				return RANGE_IGNORE;
			/* -0 asks for nothing; it is unsatisfiable, not malformed. */
			ok = b > 0 && size > 0;
			r.first = b >= size ? 0 : size - b;
			r.last = size - 1;
		} else {
			if (!number(&p, end, &a) || p == end || *p != '-')
				return RANGE_IGNORE;
			p++;
			int has_last = number(&p, end, &b);
			if (has_last && b < a)
				return RANGE_IGNORE;
			ok = a < size;
			r.first = a;
			r.last = (!has_last || b >= size) ? size - 1 : b;
		}
		while (p < end && (*p == ' ' || *p == '\t'))
			p++;
		if (p < end && *p != ',')
			return RANGE_IGNORE;
		if (ok)
			out[(*n)++] = r;
	}
	if (specs == 0 || size == 0)
		return RANGE_IGNORE;
	if (*n == 0)
		return RANGE_UNSATISFIABLE;
	sort_and_merge(out, n);
	return RANGE_OK;
}
