/* rules_match.c - which rules apply to a request, and what they say. See
 * rules.h. Pure: no I/O, no allocation; captures point into the request. */
#include "rules_set.h"

#include <string.h>
#include <strings.h>

#include "hash.h"
#include "path.h"

#define STR(rs, s) ((rs)->arena + (s).off)

/* Does pattern p match path[0..len)? Placeholders go to caps (may be NULL). */
static int
match_path(const struct rules *rs, const struct rules_pat *p, const char *path, size_t len,
           struct rules_captures *caps)
{
	size_t i = 0;
	for (uint32_t k = 0; k < p->nseg; k++) {
		const struct rules_seg *s = &rs->segs[p->seg0 + k];
		if (s->kind == RULES_SEG_SPLAT) {
			if (caps) {
				size_t at = i > len ? len : i; /* "/news/ *" matches "news" */
				caps->splat = path + at;
				caps->splat_len = len - at;
				caps->has_splat = 1;
			}
			return 1;
		}
		if (i > len || (k > 0 && (i == len || path[i - 1] != '/')))
			return 0;
		const char *seg = path + i;
		const char *slash = memchr(seg, '/', len - i);
		size_t n = slash ? (size_t)(slash - seg) : len - i;
		if (n == 0)
			return 0;
		if (s->kind == RULES_SEG_LITERAL) {
			if (n != s->text.len || memcmp(seg, STR(rs, s->text), n) != 0)
				return 0;
		} else if (caps && caps->n < RULES_CAPTURES_MAX) {
			caps->c[caps->n].name = STR(rs, s->text);
			caps->c[caps->n].name_len = s->text.len;
			caps->c[caps->n].value = seg;
			caps->c[caps->n].value_len = n;
			caps->c[caps->n++].from_query = 0;
		}
		i += n + 1;
	}
	/* Every segment matched: the path must end here. */
	return p->nseg == 0 ? len == 0 : i == len + 1;
}

/* The value of parameter name in query ("?a=1&b"), or NULL. */
static const char *
query_param(const char *q, size_t qlen, const char *name, size_t nn, size_t *vlen)
{
	size_t i = qlen && q[0] == '?' ? 1 : 0;
	while (i < qlen) {
		const char *amp = memchr(q + i, '&', qlen - i);
		size_t e = amp ? (size_t)(amp - q) : qlen;
		const char *eq = memchr(q + i, '=', e - i);
		size_t kn = eq ? (size_t)(eq - q) - i : e - i;
		if (kn == nn && memcmp(q + i, name, nn) == 0) {
			size_t v = eq ? (size_t)(eq - q) + 1 : e;
			*vlen = e - v;
			return q + v;
		}
		i = e + 1;
	}
	return NULL;
}

static int
match_query(const struct rules *rs, const struct rules_redirect *r, const char *q, size_t qlen,
            struct rules_captures *caps)
{
	for (uint32_t i = 0; i < r->nquery; i++) {
		const struct rules_query *c = &rs->queries[r->query0 + i];
		size_t vn;
		const char *v = query_param(q, qlen, STR(rs, c->name), c->name.len, &vn);
		if (!v)
			return 0;
		if (!c->param) {
			if (vn != c->value.len || memcmp(v, STR(rs, c->value), vn) != 0)
				return 0;
		} else if (caps->n < RULES_CAPTURES_MAX) {
			caps->c[caps->n].name = STR(rs, c->value);
			caps->c[caps->n].name_len = c->value.len;
			caps->c[caps->n].value = v;
			caps->c[caps->n].value_len = vn;
			caps->c[caps->n++].from_query = 1;
		}
	}
	return 1;
}

/* The chain of key[0..n) in table, or RULES_NONE. */
static uint32_t
chain(const struct rules *rs, const struct rules_index *x, const uint32_t *table, const char *key,
      size_t n)
{
	if (!table)
		return RULES_NONE;
	for (size_t h = (size_t)hash_fnv1a(key, n) & x->mask;; h = (h + 1) & x->mask) {
		uint32_t e = table[h];
		if (e == RULES_NONE)
			return RULES_NONE;
		const struct rules_pat *p = &x->pats[e];
		if (p->key.len == n && memcmp(STR(rs, p->key), key, n) == 0)
			return e;
	}
}

/* The three chains a path can match: exact, its first segment's, wild. */
static void
chains(const struct rules *rs, const struct rules_index *x, const char *path, size_t len,
       uint32_t heads[3])
{
	const char *slash = memchr(path, '/', len);
	size_t first = slash ? (size_t)(slash - path) : len;
	heads[0] = chain(rs, x, x->exact, path, len);
	heads[1] = first ? chain(rs, x, x->buckets, path, first) : RULES_NONE;
	heads[2] = x->wild;
}

const struct rules_redirect *
rules_match(const struct rules *rs, const char *path, size_t len, const char *query, size_t qlen,
            int forced_only, struct rules_captures *caps)
{
	const struct rules_index *x = &rs->idx[RULES_REDIRECTS];
	if (x->n == 0)
		return NULL;
	uint32_t heads[3], best = RULES_NONE;
	chains(rs, x, path, len, heads);
	struct rules_captures tmp;
	for (int c = 0; c < 3; c++) {
		/* Each chain is in file order: its first match is its best, and
		 * nothing past the best so far can win. */
		for (uint32_t e = heads[c]; e != RULES_NONE && e < best; e = x->pats[e].next) {
			const struct rules_redirect *r = &rs->redirects[e];
			if (forced_only && !r->force)
				continue;
			tmp.n = 0;
			tmp.has_splat = 0;
			tmp.splat = NULL;
			tmp.splat_len = 0;
			if (match_path(rs, &x->pats[e], path, len, &tmp) &&
			    match_query(rs, r, query, qlen, &tmp)) {
				best = e;
				*caps = tmp;
				break;
			}
		}
	}
	return best == RULES_NONE ? NULL : &rs->redirects[best];
}

/* Calls fn for every _headers block matching path, in file order. */
static void
rules_each_block(const struct rules *rs, const char *path, size_t len,
                 void (*fn)(void *ctx, const struct rules_block *b), void *ctx)
{
	const struct rules_index *x = &rs->idx[RULES_HEADERS];
	if (x->n == 0)
		return;
	uint32_t e[3];
	chains(rs, x, path, len, e);
	/* A three-way merge of chains in file order. */
	for (;;) {
		int c = -1;
		for (int k = 0; k < 3; k++)
			if (e[k] != RULES_NONE && (c < 0 || e[k] < e[c]))
				c = k;
		if (c < 0)
			return;
		uint32_t i = e[c];
		e[c] = x->pats[i].next;
		if (match_path(rs, &x->pats[i], path, len, NULL))
			fn(ctx, &rs->blocks[i]);
	}
}

/* A captured value, percent-encoded, at dst[w..cap): the new w, or -1.
 * Path captures are decoded already; query ones are decoded first (a bad
 * escape is kept as text, so path_encode escapes its '%'). */
static long
put_value(const char *v, size_t n, int from_query, char *dst, size_t w, size_t cap)
{
	char dec[RULES_LINE_MAX];
	if (from_query) {
		if (n > sizeof dec)
			return -1;
		size_t k = 0;
		for (size_t i = 0; i < n; i++) {
			if (v[i] == '%' && i + 2 < n && rules_hexval(v[i + 1]) >= 0 &&
			    rules_hexval(v[i + 2]) >= 0) {
				dec[k++] =
				    (char)(rules_hexval(v[i + 1]) * 16 + rules_hexval(v[i + 2]));
				i += 2;
			} else {
				dec[k++] = v[i];
			}
		}
		v = dec;
		n = k;
	}
	if (w >= cap)
		return -1;
	long e = path_encode(v, n, dst + w, cap - w);
	return e < 0 ? -1 : (long)w + e;
}

/* The capture called name[0..n), or -1 (splat: RULES_CAPTURES_MAX). */
static long
find_capture(const struct rules_captures *caps, const char *name, size_t n)
{
	if (n == 5 && memcmp(name, "splat", 5) == 0)
		return caps->has_splat ? RULES_CAPTURES_MAX : -1;
	for (unsigned i = 0; i < caps->n; i++)
		if (caps->c[i].name_len == n && memcmp(caps->c[i].name, name, n) == 0)
			return (long)i;
	return -1;
}

long
rules_target(const struct rules *rs, const struct rules_redirect *r,
             const struct rules_captures *caps, const char *query, size_t qlen, char *dst,
             size_t cap)
{
	const char *t = STR(rs, r->to);
	size_t n = r->to.len, w = 0;
	if (cap == 0)
		return -1;
	for (size_t i = 0; i < n;) {
		long c = -1;
		size_t e = i + 1;
		if (t[i] == ':' && i >= r->to_fixed) {
			while (e < n && rules_is_name_char(t[e]))
				e++;
			c = e > i + 1 ? find_capture(caps, t + i + 1, e - i - 1) : -1;
		}
		if (c < 0) {
			/* Literal text (the parser checked every :name). */
			if (w + 1 >= cap)
				return -1;
			dst[w++] = t[i++];
			continue;
		}
		long nw = c == RULES_CAPTURES_MAX
		              ? put_value(caps->splat, caps->splat_len, 0, dst, w, cap)
		              : put_value(caps->c[c].value, caps->c[c].value_len,
		                          caps->c[c].from_query, dst, w, cap);
		if (nw < 0)
			return -1;
		w = (size_t)nw;
		i = e;
	}
	/* Netlify passes the query on when the rule did not match on it and
	 * its target has none of its own. */
	if (r->nquery == 0 && qlen > 1 && !memchr(t, '?', n)) {
		if (w + qlen >= cap)
			return -1;
		memcpy(dst + w, query, qlen);
		w += qlen;
	}
	dst[w] = '\0';
	return (long)w;
}

/* The headers of one response being merged: name/value pairs in order,
 * a removed one marked dead. */
struct merge {
	const struct rules *rs;
	unsigned n, overflow;
	struct {
		const struct rules_header *h;
		int dead;
	} e[RULES_REPLY_HEADERS_MAX];
};

static int
same_name(const struct rules *rs, const struct rules_header *a, const struct rules_header *b)
{
	return a->name.len == b->name.len &&
	       strncasecmp(STR(rs, a->name), STR(rs, b->name), a->name.len) == 0;
}

static void
merge_block(void *ctx, const struct rules_block *b)
{
	struct merge *m = ctx;
	for (uint32_t i = 0; i < b->nhdr; i++) {
		const struct rules_header *h = &m->rs->headers[b->hdr0 + i];
		if (h->remove)
			for (unsigned k = 0; k < m->n; k++)
				if (same_name(m->rs, m->e[k].h, h))
					m->e[k].dead = 1;
		/* A removal stays as an entry of its own: it also drops a
		 * --header line of that name (see rules.h). */
		if (m->n < RULES_REPLY_HEADERS_MAX) {
			m->e[m->n].h = h;
			m->e[m->n++].dead = h->remove;
		} else {
			m->overflow = 1;
		}
	}
}

/* Appends s[0..n) at dst[*w..cap): 0, or -1 if it does not fit. */
static int
put(char *dst, size_t cap, size_t *w, const char *s, size_t n)
{
	if (*w + n >= cap)
		return -1;
	memcpy(dst + *w, s, n);
	*w += n;
	return 0;
}

/* Is h one of the headers whose value replaces the server's rather than
 * being sent as a line: 1 Cache-Control, 2 Content-Type, else 0. */
static int
replacing(const struct rules *rs, const struct rules_header *h)
{
	const char *name = STR(rs, h->name);
	if (h->name.len == 13 && strncasecmp(name, "Cache-Control", 13) == 0)
		return 1;
	if (h->name.len == 12 && strncasecmp(name, "Content-Type", 12) == 0)
		return 2;
	return 0;
}

long
rules_render_headers(const struct rules *rs, const char *path, size_t len, char *dst, size_t cap,
                     size_t *lines_len, char *cc, size_t cc_cap, char *type, size_t type_cap)
{
	struct merge m = {.rs = rs};
	cc[0] = '\0';
	type[0] = '\0';
	*lines_len = 0;
	rules_each_block(rs, path, len, merge_block, &m);
	if (m.overflow)
		return -1;
	size_t w = 0;
	for (unsigned i = 0; i < m.n; i++) {
		if (m.e[i].dead)
			continue;
		const struct rules_header *h = m.e[i].h;
		int rep = replacing(rs, h);
		char *d = rep == 1 ? cc : rep == 2 ? type : dst;
		size_t dcap = rep == 1 ? cc_cap : rep == 2 ? type_cap : cap, dw = 0;
		if (!rep && (put(d, dcap, &w, STR(rs, h->name), h->name.len) != 0 ||
		             put(d, dcap, &w, ": ", 2) != 0))
			return -1;
		size_t *pw = rep ? &dw : &w;
		/* This value and every later one of the same name, joined; one
		 * media type cannot be joined: the last block's wins. */
		for (unsigned k = i; k < m.n; k++) {
			if (m.e[k].dead || !same_name(rs, m.e[k].h, h))
				continue;
			const struct rules_header *v = m.e[k].h;
			if (rep == 2)
				dw = 0;
			if ((k != i && rep != 2 && put(d, dcap, pw, ", ", 2) != 0) ||
			    put(d, dcap, pw, STR(rs, v->value), v->value.len) != 0)
				return -1;
			if (k != i)
				m.e[k].dead = 1;
		}
		if (rep)
			d[dw] = '\0';
		else if (put(d, dcap, &w, "\r\n", 2) != 0)
			return -1;
	}
	/* Then the names removed, as "Name:\r\n", for the prefix filter. */
	*lines_len = w;
	for (unsigned i = 0; i < m.n; i++)
		if (m.e[i].h->remove &&
		    (put(dst, cap, &w, STR(rs, m.e[i].h->name), m.e[i].h->name.len) != 0 ||
		     put(dst, cap, &w, ":\r\n", 3) != 0))
			return -1;
	if (cap)
		dst[w] = '\0';
	return (long)w;
}
