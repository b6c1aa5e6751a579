/* rules_set.c - the compiled rule set's storage (see rules.h): the arena
 * of strings, growing arrays, path patterns ("/a/:b/ *", no space) into
 * segments, and the index built once per file. rules_parse.c reads the
 * lines of the two files into it. Pure: no I/O. */
#include "rules_set.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hash.h"

const char *const rules_file_names[2] = {"_redirects", "_headers"};

void
rules_init(struct rules *rs)
{
	memset(rs, 0, sizeof *rs);
	for (int i = 0; i < 2; i++)
		rs->idx[i].wild = RULES_NONE;
}

void
rules_free(struct rules *rs)
{
	free(rs->arena);
	free(rs->segs);
	free(rs->queries);
	free(rs->headers);
	free(rs->redirects);
	free(rs->blocks);
	for (int i = 0; i < 2; i++) {
		free(rs->idx[i].pats);
		free(rs->idx[i].exact);
		free(rs->idx[i].buckets);
	}
	rules_init(rs);
}

/* Grows *p (of *cap elements of size sz) to hold n + 1; 0 or -1. */
int
rules_grow(void *p, size_t *cap, size_t n, size_t sz)
{
	if (n < *cap)
		return 0;
	size_t c = *cap ? *cap * 2 : 16;
	void *q = realloc(*(void **)p, c * sz);
	if (!q)
		return -1;
	*(void **)p = q;
	*cap = c;
	return 0;
}

/* Copies s[0..n) into the arena; the string, or {0, UINT32_MAX} on ENOMEM. */
struct rules_str
rules_keep(struct rules *rs, const char *s, size_t n)
{
	struct rules_str r = {0, UINT32_MAX};
	if (rs->arena_len + n + 1 > rs->arena_cap) {
		size_t c = rs->arena_cap ? rs->arena_cap : 4096;
		while (c < rs->arena_len + n + 1)
			c *= 2;
		char *a = realloc(rs->arena, c);
		if (!a)
			return r;
		rs->arena = a;
		rs->arena_cap = c;
	}
	memcpy(rs->arena + rs->arena_len, s, n);
	rs->arena[rs->arena_len + n] = '\0';
	r.off = (uint32_t)rs->arena_len;
	r.len = (uint32_t)n;
	rs->arena_len += n + 1;
	return r;
}

int
rules_fail(struct rules_line *l, const char *why)
{
	l->why = why;
	return -1;
}

int
rules_failf(struct rules_line *l, const char *fmt, const char *a, size_t n)
{
	snprintf(l->msg, sizeof l->msg, fmt, (int)(n > 40 ? 40 : n), a);
	l->why = l->msg;
	return -1;
}

int
rules_hexval(char c)
{
	if (!isxdigit((unsigned char)c))
		return -1;
	return c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10;
}

int
rules_is_name_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '_';
}

/* A literal segment, percent-decoded as a request path is. */
static int
literal_seg(struct rules_line *l, const char *s, size_t n, struct rules_seg *seg)
{
	char buf[RULES_LINE_MAX];
	size_t w = 0;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		if (c == '%') {
			if (i + 2 >= n || rules_hexval(s[i + 1]) < 0 || rules_hexval(s[i + 2]) < 0)
				return rules_fail(l, "path: a malformed %-escape");
			c = (char)(rules_hexval(s[i + 1]) * 16 + rules_hexval(s[i + 2]));
			i += 2;
			if (c == '\0' || c == '/')
				return rules_fail(l, "path: %00 and %2F cannot be matched");
		}
		buf[w++] = c;
	}
	if ((w == 1 && buf[0] == '.') || (w == 2 && buf[0] == '.' && buf[1] == '.'))
		return rules_fail(l, "path: . and .. segments cannot be matched");
	seg->kind = RULES_SEG_LITERAL;
	seg->text = rules_keep(l->rs, buf, w);
	return OOM(seg->text) ? (l->oom = 1, -1) : 0;
}

/* A path pattern ("/a/:b/ *", no space) into segments; pat gets seg0/nseg. */
int
rules_pattern(struct rules_line *l, const char *p, size_t n, struct rules_pat *pat)
{
	struct rules *rs = l->rs;
	if (n == 0 || p[0] != '/')
		return rules_fail(l, "path: not a path starting with /");
	p++, n--;
	if (n > 0 && p[n - 1] == '/')
		n--; /* matching ignores one trailing slash */
	for (size_t i = 0; i < n; i++)
		if (p[i] == '?' || p[i] == '#')
			return rules_fail(l, "path: ? and # have no place in a path pattern");
	pat->seg0 = (uint32_t)rs->nsegs;
	pat->nseg = 0;
	pat->exact = 1;
	for (size_t i = 0; i < n;) {
		size_t e = i;
		while (e < n && p[e] != '/')
			e++;
		if (e == i)
			return rules_fail(l, "path: an empty segment (//)");
		if (pat->nseg == RULES_SEGS_MAX)
			return rules_fail(l, "path: more than 32 segments");
		if (rules_grow(&rs->segs, &rs->segs_cap, rs->nsegs, sizeof *rs->segs) != 0)
			return l->oom = 1, -1;
		struct rules_seg *seg = &rs->segs[rs->nsegs];
		const char *s = p + i;
		size_t sn = e - i;
		if (sn == 1 && s[0] == '*') {
			if (e != n)
				return rules_fail(l, "path: * is only allowed as the last segment");
			seg->kind = RULES_SEG_SPLAT;
			seg->text = (struct rules_str){0, 0};
			pat->exact = 0;
		} else if (memchr(s, '*', sn)) {
			return rules_fail(l, "path: * must be a whole segment (/blog/*)");
		} else if (s[0] == ':') {
			if (sn == 1)
				return rules_fail(l, "path: a placeholder without a name");
			for (size_t k = 1; k < sn; k++)
				if (!rules_is_name_char(s[k]))
					return rules_failf(l, "path: bad placeholder name '%.*s'",
					                   s, sn);
			if (sn == 6 && memcmp(s, ":splat", 6) == 0)
				return rules_fail(l, "path: :splat is reserved for what * matches");
			seg->kind = RULES_SEG_PARAM;
			seg->text = rules_keep(rs, s + 1, sn - 1);
			if (OOM(seg->text))
				return l->oom = 1, -1;
			pat->exact = 0;
		} else if (literal_seg(l, s, sn, seg) != 0) {
			return -1;
		}
		rs->nsegs++;
		pat->nseg++;
		i = e + 1;
	}
	return 0;
}

/* The index key of a pattern: the whole path of an exact one (segments
 * joined by '/'), else its first literal segment (none: the wild chain). */
static int
set_key(struct rules *rs, struct rules_pat *pat)
{
	pat->key = (struct rules_str){0, 0};
	if (pat->nseg == 0) {
		pat->exact = 1; /* "/" */
		return 0;
	}
	const struct rules_seg *first = &rs->segs[pat->seg0];
	if (!pat->exact) {
		if (first->kind == RULES_SEG_LITERAL)
			pat->key = first->text;
		return 0;
	}
	char buf[RULES_LINE_MAX];
	size_t w = 0;
	for (uint32_t i = 0; i < pat->nseg; i++) {
		const struct rules_seg *s = &rs->segs[pat->seg0 + i];
		if (w + s->text.len + 1 > sizeof buf)
			return -1;
		if (i)
			buf[w++] = '/';
		memcpy(buf + w, rs->arena + s->text.off, s->text.len);
		w += s->text.len;
	}
	pat->key = rules_keep(rs, buf, w);
	return OOM(pat->key) ? -1 : 0;
}

/* Appends pat as the next entry of the index (its payload is stored by the
 * caller at the same position). 0 or -1. */
int
rules_add_pat(struct rules *rs, enum rules_file which, struct rules_pat *pat)
{
	struct rules_index *x = &rs->idx[which];
	if (set_key(rs, pat) != 0 || rules_grow(&x->pats, &x->cap, x->n, sizeof *x->pats) != 0)
		return -1;
	x->pats[x->n] = *pat;
	return 0;
}

/* Builds the chains: each entry goes to the end of its chain, so every
 * chain is in file order. */
int
rules_build_index(struct rules *rs, enum rules_file which)
{
	struct rules_index *x = &rs->idx[which];
	free(x->exact);
	free(x->buckets);
	size_t slots = 16;
	while (slots < 2 * x->n)
		slots *= 2;
	x->exact = malloc(slots * sizeof *x->exact);
	x->buckets = malloc(slots * sizeof *x->buckets);
	if (!x->exact || !x->buckets)
		return -1;
	x->mask = slots - 1;
	for (size_t i = 0; i < slots; i++)
		x->exact[i] = x->buckets[i] = RULES_NONE;
	x->wild = RULES_NONE;
	uint32_t wild_tail = RULES_NONE;
	for (size_t i = 0; i < x->n; i++) {
		struct rules_pat *p = &x->pats[i];
		p->next = RULES_NONE;
		if (!p->exact && p->key.len == 0) {
			if (wild_tail == RULES_NONE)
				x->wild = (uint32_t)i;
			else
				x->pats[wild_tail].next = (uint32_t)i;
			wild_tail = (uint32_t)i;
			continue;
		}
		uint32_t *table = p->exact ? x->exact : x->buckets;
		const char *k = rs->arena + p->key.off;
		size_t h = (size_t)hash_fnv1a(k, p->key.len) & x->mask;
		for (;; h = (h + 1) & x->mask) {
			uint32_t e = table[h];
			if (e == RULES_NONE) {
				table[h] = (uint32_t)i;
				break;
			}
			const struct rules_pat *q = &x->pats[e];
			if (q->key.len == p->key.len &&
			    memcmp(rs->arena + q->key.off, k, p->key.len) == 0) {
				while (x->pats[e].next != RULES_NONE)
					e = x->pats[e].next;
				x->pats[e].next = (uint32_t)i;
				break;
			}
		}
	}
	return 0;
}

void
rules_summary(const struct rules *rs, enum rules_file which, char *dst, size_t cap)
{
	const char *what = which == RULES_REDIRECTS ? "rule" : "block";
	unsigned n = rs->loaded[which];
	int w =
	    snprintf(dst, cap, "%s: %u %s%s", rules_file_names[which], n, what, n == 1 ? "" : "s");
	if (w > 0 && (size_t)w < cap && rs->skipped[which])
		snprintf(dst + w, cap - (size_t)w, ", %u skipped (line %u: %s)", rs->skipped[which],
		         rs->first_skip_line[which], rs->first_skip[which]);
}
