/* rules_parse.c - _redirects and _headers text into a compiled rule set.
 * See rules.h. Pure: no I/O; memory only for the set itself. */
#include "rules_set.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "options_value.h"
#include "response.h"

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
parse_to(struct rules_line *l, const char *s, size_t n, const struct rules_pat *pat,
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
			return rules_fail(l, "to: an absolute URL without a host");
		for (size_t i = h; i < fixed; i++)
			if (s[i] == ':' && i + 1 < fixed && !(s[i + 1] >= '0' && s[i + 1] <= '9'))
				return rules_fail(
				    l, "to: placeholders cannot be used in the host of a URL");
			else if (s[i] == '@' || s[i] == '\\')
				return rules_fail(l, "to: the host of a URL cannot hold @ or \\");
	} else if (s[0] != '/') {
		return rules_fail(l, "to: not a local path (/...) or an http(s):// URL");
	} else if (n > 1 && (s[1] == '/' || s[1] == '\\')) {
		return rules_fail(l, "to: // would leave the site (write https://host/ instead)");
	}
	for (size_t i = 0; i < n; i++)
		if (s[i] == '\\')
			return rules_fail(l, "to: a backslash is not allowed");
	/* Every :name after the host must be a placeholder the rule defines. */
	for (size_t i = fixed; i < n; i++) {
		if (s[i] != ':' || i + 1 >= n || !rules_is_name_char(s[i + 1]))
			continue;
		size_t e = i + 1;
		while (e < n && rules_is_name_char(s[e]))
			e++;
		if (!defines(l->rs, pat, r, s + i + 1, e - i - 1))
			return rules_failf(l, "to: %.*s is not a placeholder of this rule", s + i,
			                   e - i);
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
	r->to = rules_keep(l->rs, buf, w);
	r->to_fixed = (uint32_t)fixed;
	return OOM(r->to) ? (l->oom = 1, -1) : 0;
}

/* name=value or name=:placeholder. */
static int
parse_query(struct rules_line *l, const char *s, size_t n, struct rules_redirect *r)
{
	struct rules *rs = l->rs;
	const char *eq = memchr(s, '=', n);
	size_t nn = (size_t)(eq - s);
	if (nn == 0)
		return rules_fail(l, "a query condition without a name (=value)");
	if (r->nquery == RULES_QUERY_MAX)
		return rules_fail(l, "more than 8 query conditions");
	for (size_t i = 0; i < n; i++)
		if (s[i] == '&' || s[i] == '#' || s[i] == '?')
			return rules_failf(l, "a malformed query condition '%.*s'", s, n);
	const char *v = eq + 1;
	size_t vn = n - nn - 1;
	int param = vn > 0 && v[0] == ':';
	if (param) {
		if (vn == 1)
			return rules_fail(l, "a placeholder without a name");
		for (size_t i = 1; i < vn; i++)
			if (!rules_is_name_char(v[i]))
				return rules_failf(l, "bad placeholder name '%.*s'", v, vn);
		v++, vn--;
	}
	if (rules_grow(&rs->queries, &rs->queries_cap, rs->nqueries, sizeof *rs->queries) != 0)
		return l->oom = 1, -1;
	struct rules_query *q = &rs->queries[rs->nqueries];
	q->name = rules_keep(rs, s, nn);
	q->value = rules_keep(rs, v, vn);
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
parse_status(struct rules_line *l, const char *s, size_t n, struct rules_redirect *r)
{
	if (n > 0 && s[n - 1] == '!') {
		r->force = 1;
		n--;
	}
	int code = 0;
	if (n != 3)
		return rules_failf(l, "not a status: '%.*s'", s, n);
	for (size_t i = 0; i < 3; i++) {
		if (s[i] < '0' || s[i] > '9')
			return rules_failf(l, "not a status: '%.*s'", s, n);
		code = code * 10 + (s[i] - '0');
	}
	if (!(code == 200 || redirect_status(code) ||
	      (code >= 400 && code < 500 && resp_status_find(code))))
		return rules_failf(
		    l, "status %.*s is not supported (200, 301, 302, 303, 307, 308 or a 4xx)", s,
		    3);
	r->status = code;
	return 0;
}

/* A condition after the target (Country=, Language=, Role=, Cookie=...). */
static int
reject_condition(struct rules_line *l, const char *s, size_t n)
{
	static const char *const known[] = {"Country", "Language", "Role", "Cookie"};
	const char *eq = memchr(s, '=', n);
	for (size_t i = 0; eq && i < sizeof known / sizeof known[0]; i++)
		if ((size_t)(eq - s) == strlen(known[i]) && strncasecmp(s, known[i], eq - s) == 0)
			return rules_failf(l, "%.*s= conditions are not supported", s,
			                   (size_t)(eq - s));
	return rules_failf(l, "unexpected field '%.*s'", s, n);
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

/* One _redirects line (no comment, not blank). */
static int
redirect_line(struct rules_line *l, const char *s, size_t n, unsigned lineno)
{
	struct rules *rs = l->rs;
	struct fields f;
	if (split(s, n, &f) != 0)
		return rules_fail(l, "too many fields");
	if (f.count == 0)
		return 0;
	if (is_url(f.p[0], f.n[0]))
		return rules_fail(l, "domain-level rules (from is a URL) are not supported");
	if (f.count < 2)
		return rules_fail(l, "a rule needs a from and a to");
	if (rs->idx[RULES_REDIRECTS].n == RULES_MAX)
		return rules_fail(l, "more than 100000 rules");
	struct rules_pat pat = {.next = RULES_NONE};
	struct rules_redirect r = {.line = lineno, .status = 301, .query0 = (uint32_t)rs->nqueries};
	if (rules_pattern(l, f.p[0], f.n[0], &pat) != 0)
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
		return rules_fail(l, "a rule needs a to after from");
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
		return rules_fail(l, "proxying to another origin is not supported");
	if (parse_to(l, to, to_n, &pat, &r) != 0)
		return -1;
	struct rules_index *x = &rs->idx[RULES_REDIRECTS];
	if (rules_grow(&rs->redirects, &rs->caps[RULES_REDIRECTS], x->n, sizeof *rs->redirects) !=
	        0 ||
	    rules_add_pat(rs, RULES_REDIRECTS, &pat) != 0)
		return l->oom = 1, -1;
	rs->redirects[x->n++] = r;
	return 0;
}

/* Header names (RFC 9110 token). */
static int
is_tchar(unsigned char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c && strchr("!#$%&'*+-.^_`|~", c));
}

/* Why a _headers block may not set name: NULL when it may. Cache-Control
 * may (it replaces the server's for matching paths), Server (it replaces
 * ours) and Content-Type (it replaces the type of the file's 200 and 206:
 * /feed as application/rss+xml); the framing and connection headers may
 * not, nor the others a responder derives from the file or the answer,
 * which would then appear twice. The reasons --header gives are said here
 * in _headers' terms where they differ. */
static const char *
refused_header(const char *name, size_t n)
{
	static const struct {
		const char *name, *why;
	} own[] = {
	    {"Cache-Control", NULL},
	    {"Server", NULL},
	    {"Content-Type", NULL},
	    {"ETag", "the server derives it from the file"},
	    {"Last-Modified", "the server derives it from the file"},
	    {"Content-Encoding", "the server sets it when it sends x.br, x.zst or x.gz for x"},
	    {"Accept-Ranges", "the server sets it on every file (it serves ranges)"},
	    {"Vary", "the server sets it where a response varies (Accept-Encoding)"},
	    {"Location", "the server sets it on redirects (write a _redirects rule)"},
	};
	for (size_t i = 0; i < sizeof own / sizeof own[0]; i++)
		if (strlen(own[i].name) == n && strncasecmp(own[i].name, name, n) == 0)
			return own[i].why;
	return optval_owned_header(name, n);
}

/* A media type (RFC 9110 8.3.1): type "/" subtype, then only parameters
 * (";" ...; their bytes are checked as any field value). */
static int
media_type(const char *v, size_t n)
{
	size_t i = 0, t = 0;
	while (i < n && is_tchar((unsigned char)v[i]))
		i++;
	if (i == 0 || i == n || v[i] != '/')
		return 0;
	t = ++i;
	while (i < n && is_tchar((unsigned char)v[i]))
		i++;
	if (i == t)
		return 0;
	while (i < n && (v[i] == ' ' || v[i] == '\t'))
		i++;
	return i == n || v[i] == ';';
}

/* An indented _headers line: "Name: value" or "! Name". */
static int
header_line(struct rules_line *l, const char *s, size_t n, struct rules_block *b)
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
			return rules_fail(l, "expected Name: value (or ! Name)");
		nn = (size_t)(colon - s);
		v = nn + 1;
		while (v < n && (s[v] == ' ' || s[v] == '\t'))
			v++;
		vn = n - v;
		while (vn && (s[v + vn - 1] == ' ' || s[v + vn - 1] == '\t'))
			vn--;
	}
	if (nn == 0)
		return rules_fail(l, "a header without a name");
	for (size_t i = 0; i < nn; i++)
		if (!is_tchar((unsigned char)s[i]))
			return rules_failf(l, "not a header name: '%.*s'", s, nn);
	const char *why = refused_header(s, nn);
	if (why) {
		snprintf(l->msg, sizeof l->msg, "%.*s cannot be set: %s", (int)(nn > 40 ? 40 : nn),
		         s, why);
		return rules_fail(l, l->msg);
	}
	if (!remove && vn == 0)
		return rules_failf(l, "%.*s: an empty value", s, nn);
	if (!remove && !optval_field_value(s + v, vn))
		return rules_failf(l, "%.*s: a control character in the value", s, nn);
	if (!remove && nn == 12 && strncasecmp(s, "Content-Type", 12) == 0) {
		if (!media_type(s + v, vn))
			return rules_failf(
			    l, "Content-Type: '%.*s' is not a media type (type/subtype)", s + v,
			    vn);
		if (vn > RULES_TYPE_MAX)
			return rules_fail(l, "Content-Type: longer than 200 bytes");
	}
	if (b->nhdr == RULES_BLOCK_HEADERS_MAX)
		return rules_fail(l, "more than 64 headers in one block");
	if (rules_grow(&rs->headers, &rs->headers_cap, rs->nheaders, sizeof *rs->headers) != 0)
		return l->oom = 1, -1;
	struct rules_header *h = &rs->headers[rs->nheaders];
	h->name = rules_keep(rs, s, nn);
	h->value = rules_keep(rs, s + v, vn);
	h->remove = (unsigned char)remove;
	if (OOM(h->name) || OOM(h->value))
		return l->oom = 1, -1;
	rs->nheaders++;
	b->nhdr++;
	return 0;
}

/* An unindented _headers line: the path pattern of a new block. */
static int
block_line(struct rules_line *l, const char *s, size_t n, unsigned lineno)
{
	struct rules *rs = l->rs;
	while (n && (s[n - 1] == ' ' || s[n - 1] == '\t'))
		n--;
	if (is_url(s, n))
		return rules_fail(l, "domain-level blocks (a URL) are not supported");
	for (size_t i = 0; i < n; i++)
		if (s[i] == ' ' || s[i] == '\t')
			return rules_fail(
			    l, "a path pattern cannot hold spaces (indent header lines)");
	if (rs->idx[RULES_HEADERS].n == RULES_MAX)
		return rules_fail(l, "more than 100000 blocks");
	struct rules_pat pat = {.next = RULES_NONE};
	if (rules_pattern(l, s, n, &pat) != 0)
		return l->why ? -1 : (l->oom = 1, -1);
	struct rules_index *x = &rs->idx[RULES_HEADERS];
	if (rules_grow(&rs->blocks, &rs->caps[RULES_HEADERS], x->n, sizeof *rs->blocks) != 0 ||
	    rules_add_pat(rs, RULES_HEADERS, &pat) != 0)
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
	struct rules_line l = {.rs = rs};
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
		rc = rules_fail(&l, "a line longer than 4096 bytes");
	else if (memchr(s, '\0', n))
		rc = rules_fail(&l, "a NUL byte in the line");
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
		rc = rules_fail(&l, "a header line before any path");
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

int
rules_parse(struct rules *rs, enum rules_file which, const char *text, size_t len,
            rules_report_fn report, void *ctx)
{
	rs->present[which] = 1;
	/* The arena always exists once parsing starts: empty keys ("/")
	 * point into it too. */
	if (!rs->arena && OOM(rules_keep(rs, "", 0)))
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
	if (rules_build_index(rs, which) != 0) {
		rules_free(rs);
		return -ENOMEM;
	}
	return 0;
}
