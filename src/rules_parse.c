/* rules_parse.c - _redirects and _headers text into a compiled rule set.
 * See rules.h. Pure: no I/O; memory only for the set itself. */
#include "rules.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "hash.h"
#include "options_value.h"
#include "response.h"

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
static int
grow(void *p, size_t *cap, size_t n, size_t sz)
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
static struct rules_str
keep(struct rules *rs, const char *s, size_t n)
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

#define OOM(s) ((s).len == UINT32_MAX)

/* One line being parsed: its fields and, on failure, why. */
struct line {
	struct rules *rs;
	const char *why;
	char msg[96];
	int oom;
};

static int
fail(struct line *l, const char *why)
{
	l->why = why;
	return -1;
}

static int
failf(struct line *l, const char *fmt, const char *a, size_t n)
{
	snprintf(l->msg, sizeof l->msg, fmt, (int)(n > 40 ? 40 : n), a);
	l->why = l->msg;
	return -1;
}

static int
is_name_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '_';
}

/* A literal segment, percent-decoded as a request path is. */
static int
literal_seg(struct line *l, const char *s, size_t n, struct rules_seg *seg)
{
	char buf[RULES_LINE_MAX];
	size_t w = 0;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		if (c == '%') {
			if (i + 2 >= n || rules_hexval(s[i + 1]) < 0 || rules_hexval(s[i + 2]) < 0)
				return fail(l, "path: a malformed %-escape");
			c = (char)(rules_hexval(s[i + 1]) * 16 + rules_hexval(s[i + 2]));
			i += 2;
			if (c == '\0' || c == '/')
				return fail(l, "path: %00 and %2F cannot be matched");
		}
		buf[w++] = c;
	}
	if ((w == 1 && buf[0] == '.') || (w == 2 && buf[0] == '.' && buf[1] == '.'))
		return fail(l, "path: . and .. segments cannot be matched");
	seg->kind = RULES_SEG_LITERAL;
	seg->text = keep(l->rs, buf, w);
	return OOM(seg->text) ? (l->oom = 1, -1) : 0;
}

/* A path pattern ("/a/:b/ *", no space) into segments; pat gets seg0/nseg. */
static int
parse_pattern(struct line *l, const char *p, size_t n, struct rules_pat *pat)
{
	struct rules *rs = l->rs;
	if (n == 0 || p[0] != '/')
		return fail(l, "path: not a path starting with /");
	p++, n--;
	if (n > 0 && p[n - 1] == '/')
		n--; /* matching ignores one trailing slash */
	for (size_t i = 0; i < n; i++)
		if (p[i] == '?' || p[i] == '#')
			return fail(l, "path: ? and # have no place in a path pattern");
	pat->seg0 = (uint32_t)rs->nsegs;
	pat->nseg = 0;
	pat->exact = 1;
	for (size_t i = 0; i < n;) {
		size_t e = i;
		while (e < n && p[e] != '/')
			e++;
		if (e == i)
			return fail(l, "path: an empty segment (//)");
		if (pat->nseg == RULES_SEGS_MAX)
			return fail(l, "path: more than 32 segments");
		if (grow(&rs->segs, &rs->segs_cap, rs->nsegs, sizeof *rs->segs) != 0)
			return l->oom = 1, -1;
		struct rules_seg *seg = &rs->segs[rs->nsegs];
		const char *s = p + i;
		size_t sn = e - i;
		if (sn == 1 && s[0] == '*') {
			if (e != n)
				return fail(l, "path: * is only allowed as the last segment");
			seg->kind = RULES_SEG_SPLAT;
			seg->text = (struct rules_str){0, 0};
			pat->exact = 0;
		} else if (memchr(s, '*', sn)) {
			return fail(l, "path: * must be a whole segment (/blog/*)");
		} else if (s[0] == ':') {
			if (sn == 1)
				return fail(l, "path: a placeholder without a name");
			for (size_t k = 1; k < sn; k++)
				if (!is_name_char(s[k]))
					return failf(l, "path: bad placeholder name '%.*s'", s, sn);
			if (sn == 6 && memcmp(s, ":splat", 6) == 0)
				return fail(l, "path: :splat is reserved for what * matches");
			seg->kind = RULES_SEG_PARAM;
			seg->text = keep(rs, s + 1, sn - 1);
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

/* Is there a placeholder called name[0..n) in the pattern or conditions? */
static int
defines(const struct rules *rs, const struct rules_pat *pat, const struct rules_redirect *r,
        const char *name, size_t n)
{
	if (n == 5 && memcmp(name, "splat", 5) == 0)
		return pat->nseg && rs->segs[pat->seg0 + pat->nseg - 1].kind == RULES_SEG_SPLAT;
	for (uint32_t i = 0; i < pat->nseg; i++) {
		const struct rules_seg *s = &rs->segs[pat->seg0 + i];
		if (s->kind == RULES_SEG_PARAM && s->text.len == n &&
		    memcmp(rs->arena + s->text.off, name, n) == 0)
			return 1;
	}
	for (uint32_t i = 0; i < r->nquery; i++) {
		const struct rules_query *q = &rs->queries[r->query0 + i];
		if (q->param && q->value.len == n && memcmp(rs->arena + q->value.off, name, n) == 0)
			return 1;
	}
	return 0;
}

static int
starts(const char *s, size_t n, const char *prefix)
{
	size_t k = strlen(prefix);
	return n >= k && strncasecmp(s, prefix, k) == 0;
}

/* The target: a local path or http(s)://host/...; kept percent-encoded
 * (bytes that must be escaped are escaped here, once). */
static int
parse_to(struct line *l, const char *s, size_t n, const struct rules_pat *pat,
         struct rules_redirect *r)
{
	size_t fixed = 0;
	if (starts(s, n, "http://") || starts(s, n, "https://")) {
		r->absolute = 1;
		size_t h = s[4] == ':' ? 7 : 8;
		fixed = h;
		while (fixed < n && s[fixed] != '/' && s[fixed] != '?' && s[fixed] != '#')
			fixed++;
		if (fixed == h)
			return fail(l, "to: an absolute URL without a host");
		for (size_t i = h; i < fixed; i++)
			if (s[i] == ':' && i + 1 < fixed && !(s[i + 1] >= '0' && s[i + 1] <= '9'))
				return fail(l,
				            "to: placeholders cannot be used in the host of a URL");
			else if (s[i] == '@' || s[i] == '\\')
				return fail(l, "to: the host of a URL cannot hold @ or \\");
	} else if (s[0] != '/') {
		return fail(l, "to: not a local path (/...) or an http(s):// URL");
	} else if (n > 1 && (s[1] == '/' || s[1] == '\\')) {
		return fail(l, "to: // would leave the site (write https://host/ instead)");
	}
	for (size_t i = 0; i < n; i++)
		if (s[i] == '\\')
			return fail(l, "to: a backslash is not allowed");
	/* Every :name after the host must be a placeholder the rule defines. */
	for (size_t i = fixed; i < n; i++) {
		if (s[i] != ':' || i + 1 >= n || !is_name_char(s[i + 1]))
			continue;
		size_t e = i + 1;
		while (e < n && is_name_char(s[e]))
			e++;
		if (!defines(l->rs, pat, r, s + i + 1, e - i - 1))
			return failf(l, "to: %.*s is not a placeholder of this rule", s + i, e - i);
		i = e - 1;
	}
	char buf[3 * RULES_LINE_MAX];
	size_t w = 0;
	static const char hex[] = "0123456789ABCDEF";
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		/* A control byte (a lone CR) must never reach the Location
		 * header as itself. */
		if (c >= 0x80 || c < 0x20 || c == 0x7f) {
			buf[w++] = '%';
			buf[w++] = hex[c >> 4];
			buf[w++] = hex[c & 15];
		} else {
			buf[w++] = (char)c;
		}
	}
	r->to = keep(l->rs, buf, w);
	r->to_fixed = (uint32_t)fixed;
	return OOM(r->to) ? (l->oom = 1, -1) : 0;
}

/* name=value or name=:placeholder. */
static int
parse_query(struct line *l, const char *s, size_t n, struct rules_redirect *r)
{
	struct rules *rs = l->rs;
	const char *eq = memchr(s, '=', n);
	size_t nn = (size_t)(eq - s);
	if (nn == 0)
		return fail(l, "a query condition without a name (=value)");
	if (r->nquery == RULES_QUERY_MAX)
		return fail(l, "more than 8 query conditions");
	for (size_t i = 0; i < n; i++)
		if (s[i] == '&' || s[i] == '#' || s[i] == '?')
			return failf(l, "a malformed query condition '%.*s'", s, n);
	const char *v = eq + 1;
	size_t vn = n - nn - 1;
	int param = vn > 0 && v[0] == ':';
	if (param) {
		if (vn == 1)
			return fail(l, "a placeholder without a name");
		for (size_t i = 1; i < vn; i++)
			if (!is_name_char(v[i]))
				return failf(l, "bad placeholder name '%.*s'", v, vn);
		v++, vn--;
	}
	if (grow(&rs->queries, &rs->queries_cap, rs->nqueries, sizeof *rs->queries) != 0)
		return l->oom = 1, -1;
	struct rules_query *q = &rs->queries[rs->nqueries];
	q->name = keep(rs, s, nn);
	q->value = keep(rs, v, vn);
	q->param = (unsigned char)param;
	if (OOM(q->name) || OOM(q->value))
		return l->oom = 1, -1;
	rs->nqueries++;
	r->nquery++;
	return 0;
}

static int
redirect_status(int code)
{
	return code == 301 || code == 302 || code == 303 || code == 307 || code == 308;
}

/* Status "301", "200!", "404": 0, or -1 with the reason. */
static int
parse_status(struct line *l, const char *s, size_t n, struct rules_redirect *r)
{
	if (n > 0 && s[n - 1] == '!') {
		r->force = 1;
		n--;
	}
	int code = 0;
	if (n != 3)
		return failf(l, "not a status: '%.*s'", s, n);
	for (size_t i = 0; i < 3; i++) {
		if (s[i] < '0' || s[i] > '9')
			return failf(l, "not a status: '%.*s'", s, n);
		code = code * 10 + (s[i] - '0');
	}
	if (!(code == 200 || redirect_status(code) ||
	      (code >= 400 && code < 500 && resp_status_find(code))))
		return failf(l,
		             "status %.*s is not supported (200, 301, 302, 303, 307, 308 or a 4xx)",
		             s, 3);
	r->status = code;
	return 0;
}

/* A condition after the target (Country=, Language=, Role=, Cookie=...). */
static int
reject_condition(struct line *l, const char *s, size_t n)
{
	static const char *const known[] = {"Country", "Language", "Role", "Cookie"};
	const char *eq = memchr(s, '=', n);
	for (size_t i = 0; eq && i < sizeof known / sizeof known[0]; i++)
		if ((size_t)(eq - s) == strlen(known[i]) && strncasecmp(s, known[i], eq - s) == 0)
			return failf(l, "%.*s= conditions are not supported", s, (size_t)(eq - s));
	return failf(l, "unexpected field '%.*s'", s, n);
}

struct fields {
	const char *p[16];
	size_t n[16];
	size_t count;
};

/* Splits on spaces and tabs; a field starting with # ends the line. 0, or
 * -1 if there are too many fields. */
static int
split(const char *s, size_t n, struct fields *f)
{
	f->count = 0;
	for (size_t i = 0; i < n;) {
		while (i < n && (s[i] == ' ' || s[i] == '\t'))
			i++;
		if (i == n || s[i] == '#')
			break;
		size_t e = i;
		while (e < n && s[e] != ' ' && s[e] != '\t')
			e++;
		if (f->count == 16)
			return -1;
		f->p[f->count] = s + i;
		f->n[f->count++] = e - i;
		i = e;
	}
	return 0;
}

static int
is_url(const char *s, size_t n)
{
	return starts(s, n, "http://") || starts(s, n, "https://");
}

static int set_key(struct rules *rs, struct rules_pat *pat);

/* Appends pat as the next entry of the index (its payload is stored by the
 * caller at the same position). 0 or -1. */
static int
add_pat(struct rules *rs, enum rules_file which, const struct rules_pat *pat)
{
	struct rules_index *x = &rs->idx[which];
	if (grow(&x->pats, &x->cap, x->n, sizeof *x->pats) != 0)
		return -1;
	x->pats[x->n] = *pat;
	return 0;
}

/* One _redirects line (no comment, not blank). */
static int
redirect_line(struct line *l, const char *s, size_t n, unsigned lineno)
{
	struct rules *rs = l->rs;
	struct fields f;
	if (split(s, n, &f) != 0)
		return fail(l, "too many fields");
	if (f.count == 0)
		return 0;
	if (is_url(f.p[0], f.n[0]))
		return fail(l, "domain-level rules (from is a URL) are not supported");
	if (f.count < 2)
		return fail(l, "a rule needs a from and a to");
	if (rs->idx[RULES_REDIRECTS].n == RULES_MAX)
		return fail(l, "more than 100000 rules");
	struct rules_pat pat = {.next = RULES_NONE};
	struct rules_redirect r = {.line = lineno, .status = 301, .query0 = (uint32_t)rs->nqueries};
	if (parse_pattern(l, f.p[0], f.n[0], &pat) != 0)
		return -1;
	size_t i = 1;
	for (; i < f.count && f.p[i][0] != '/' && !is_url(f.p[i], f.n[i]) &&
	       memchr(f.p[i], '=', f.n[i]);
	     i++)
		if (parse_query(l, f.p[i], f.n[i], &r) != 0)
			return -1;
	if (r.nquery)
		pat.exact = 0;
	if (i == f.count)
		return fail(l, "a rule needs a to after from");
	const char *to = f.p[i];
	size_t to_n = f.n[i++];
	if (i < f.count && f.p[i][0] >= '0' && f.p[i][0] <= '9') {
		if (parse_status(l, f.p[i], f.n[i], &r) != 0)
			return -1;
		i++;
	}
	if (i < f.count)
		return reject_condition(l, f.p[i], f.n[i]);
	if (is_url(to, to_n) && !redirect_status(r.status))
		return fail(l, "proxying to another origin is not supported");
	if (parse_to(l, to, to_n, &pat, &r) != 0)
		return -1;
	if (set_key(rs, &pat) != 0)
		return l->oom = 1, -1;
	struct rules_index *x = &rs->idx[RULES_REDIRECTS];
	if (grow(&rs->redirects, &rs->caps[RULES_REDIRECTS], x->n, sizeof *rs->redirects) != 0 ||
	    add_pat(rs, RULES_REDIRECTS, &pat) != 0)
		return l->oom = 1, -1;
	rs->redirects[x->n++] = r;
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
	pat->key = keep(rs, buf, w);
	return OOM(pat->key) ? -1 : 0;
}

/* Header names (RFC 9110 token). */
static int
is_tchar(unsigned char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c && strchr("!#$%&'*+-.^_`|~", c));
}

/* Why a _headers block may not set name: NULL when it may. Cache-Control
 * may (it replaces the server's for matching paths), and Server (it
 * replaces ours); the framing and connection headers may not, nor headers
 * a responder writes itself from the file (Content-Type, ETag, ...), which
 * would then appear twice. */
static const char *
refused_header(const char *name, size_t n)
{
	if ((n == 13 && strncasecmp(name, "Cache-Control", 13) == 0) ||
	    (n == 6 && strncasecmp(name, "Server", 6) == 0))
		return NULL;
	return optval_owned_header(name, n);
}

/* An indented _headers line: "Name: value" or "! Name". */
static int
header_line(struct line *l, const char *s, size_t n, struct rules_block *b)
{
	struct rules *rs = l->rs;
	int remove = s[0] == '!';
	size_t nn = 0, v = 0, vn = 0;
	if (remove) {
		s++, n--;
		while (n && (s[0] == ' ' || s[0] == '\t'))
			s++, n--;
		nn = n;
	} else {
		const char *colon = memchr(s, ':', n);
		if (!colon)
			return fail(l, "expected Name: value (or ! Name)");
		nn = (size_t)(colon - s);
		v = nn + 1;
		while (v < n && (s[v] == ' ' || s[v] == '\t'))
			v++;
		vn = n - v;
		while (vn && (s[v + vn - 1] == ' ' || s[v + vn - 1] == '\t'))
			vn--;
	}
	if (nn == 0)
		return fail(l, "a header without a name");
	for (size_t i = 0; i < nn; i++)
		if (!is_tchar((unsigned char)s[i]))
			return failf(l, "not a header name: '%.*s'", s, nn);
	const char *why = refused_header(s, nn);
	if (why) {
		snprintf(l->msg, sizeof l->msg, "%.*s cannot be set: %s", (int)(nn > 40 ? 40 : nn),
		         s, why);
		return fail(l, l->msg);
	}
	if (!remove && vn == 0)
		return failf(l, "%.*s: an empty value", s, nn);
	if (!remove && !optval_field_value(s + v, vn))
		return failf(l, "%.*s: a control character in the value", s, nn);
	if (b->nhdr == RULES_BLOCK_HEADERS_MAX)
		return fail(l, "more than 64 headers in one block");
	if (grow(&rs->headers, &rs->headers_cap, rs->nheaders, sizeof *rs->headers) != 0)
		return l->oom = 1, -1;
	struct rules_header *h = &rs->headers[rs->nheaders];
	h->name = keep(rs, s, nn);
	h->value = keep(rs, s + v, vn);
	h->remove = (unsigned char)remove;
	if (OOM(h->name) || OOM(h->value))
		return l->oom = 1, -1;
	rs->nheaders++;
	b->nhdr++;
	return 0;
}

/* An unindented _headers line: the path pattern of a new block. */
static int
block_line(struct line *l, const char *s, size_t n, unsigned lineno)
{
	struct rules *rs = l->rs;
	while (n && (s[n - 1] == ' ' || s[n - 1] == '\t'))
		n--;
	if (is_url(s, n))
		return fail(l, "domain-level blocks (a URL) are not supported");
	for (size_t i = 0; i < n; i++)
		if (s[i] == ' ' || s[i] == '\t')
			return fail(l, "a path pattern cannot hold spaces (indent header lines)");
	if (rs->idx[RULES_HEADERS].n == RULES_MAX)
		return fail(l, "more than 100000 blocks");
	struct rules_pat pat = {.next = RULES_NONE};
	if (parse_pattern(l, s, n, &pat) != 0 || set_key(rs, &pat) != 0)
		return l->why ? -1 : (l->oom = 1, -1);
	struct rules_index *x = &rs->idx[RULES_HEADERS];
	if (grow(&rs->blocks, &rs->caps[RULES_HEADERS], x->n, sizeof *rs->blocks) != 0 ||
	    add_pat(rs, RULES_HEADERS, &pat) != 0)
		return l->oom = 1, -1;
	rs->blocks[x->n++] = (struct rules_block){lineno, (uint32_t)rs->nheaders, 0};
	return 0;
}

static void
skipped(struct rules *rs, enum rules_file which, unsigned lineno, const char *why,
        rules_report_fn report, void *ctx)
{
	if (rs->skipped[which]++ == 0) {
		rs->first_skip_line[which] = lineno;
		snprintf(rs->first_skip[which], sizeof rs->first_skip[which], "%s", why);
	}
	if (report)
		report(ctx, rules_file_names[which], lineno, why);
}

/* One line of either file: 0, or -1 on ENOMEM. *block is the _headers
 * block open (NULL after a skipped pattern: its lines go with it). */
static int
one_line(struct rules *rs, enum rules_file which, const char *s, size_t n, unsigned lineno,
         int *in_block, rules_report_fn report, void *ctx)
{
	struct line l = {.rs = rs};
	if (n && s[n - 1] == '\r')
		n--;
	int rc = 0;
	int indented = n && (s[0] == ' ' || s[0] == '\t');
	size_t i = 0;
	while (i < n && (s[i] == ' ' || s[i] == '\t'))
		i++;
	if (i == n || s[i] == '#')
		return 0;
	if (n > RULES_LINE_MAX)
		rc = fail(&l, "a line longer than 4096 bytes");
	else if (memchr(s, '\0', n))
		rc = fail(&l, "a NUL byte in the line");
	else if (which == RULES_REDIRECTS) {
		rc = redirect_line(&l, s + i, n - i, lineno);
	} else if (!indented) {
		*in_block = 0;
		rc = block_line(&l, s, n, lineno);
		if (rc == 0)
			*in_block = 1;
	} else if (*in_block) {
		rc = header_line(&l, s + i, n - i, &rs->blocks[rs->idx[which].n - 1]);
	} else if (rs->idx[which].n == 0 && rs->skipped[which] == 0) {
		rc = fail(&l, "a header line before any path");
	} else {
		return 0; /* under a pattern that was skipped: told already */
	}
	if (l.oom)
		return -1;
	if (rc != 0)
		skipped(rs, which, lineno, l.why, report, ctx);
	if (rc != 0 && which == RULES_HEADERS && !indented)
		*in_block = 0;
	return 0;
}

/* Builds the chains: each entry goes to the end of its chain, so every
 * chain is in file order. */
static int
build_index(struct rules *rs, enum rules_file which)
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

int
rules_parse(struct rules *rs, enum rules_file which, const char *text, size_t len,
            rules_report_fn report, void *ctx)
{
	rs->present[which] = 1;
	/* The arena always exists once parsing starts: empty keys ("/")
	 * point into it too. */
	if (!rs->arena && OOM(keep(rs, "", 0)))
		return -ENOMEM;
	int in_block = 0;
	unsigned lineno = 0;
	for (size_t i = 0; i < len;) {
		const char *nl = memchr(text + i, '\n', len - i);
		size_t e = nl ? (size_t)(nl - text) : len;
		if (one_line(rs, which, text + i, e - i, ++lineno, &in_block, report, ctx) != 0) {
			rules_free(rs);
			return -ENOMEM;
		}
		i = e + 1;
	}
	rs->loaded[which] = (unsigned)rs->idx[which].n;
	if (build_index(rs, which) != 0) {
		rules_free(rs);
		return -ENOMEM;
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
