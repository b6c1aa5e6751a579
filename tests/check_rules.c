/* check_rules.c - the _redirects / _headers parser and matcher, from
 * tables: every form the parser accepts, every line it skips with its exact
 * reason, and what the matcher picks (placeholders, splats, query
 * conditions, the trailing slash, "!" and file order). Then a bounded
 * attack: random and hostile lines into the parser, hostile paths into the
 * matcher (run under ASan by `make asan`). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rules.h"
#include "suites.h"

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

/* The reasons a parse reported, one "file:line: reason" per line. */
struct report {
	char text[4096];
	size_t len;
	unsigned count;
};

static void
record(void *ctx, const char *file, unsigned line, const char *reason)
{
	struct report *r = ctx;
	r->count++;
	int n =
	    snprintf(r->text + r->len, sizeof r->text - r->len, "%s:%u: %s\n", file, line, reason);
	if (n > 0 && (size_t)n < sizeof r->text - r->len)
		r->len += (size_t)n;
}

static void
parse(struct rules *rs, enum rules_file which, const char *text, struct report *rep)
{
	memset(rep, 0, sizeof *rep);
	rules_init(rs);
	ck_assert_int_eq(rules_parse(rs, which, text, strlen(text), record, rep), 0);
}

/* ---- _redirects lines: accepted (reason NULL) or skipped with reason ---- */

static const struct line_case {
	const char *line;
	const char *reason; /* NULL: one rule loaded */
	int status, force;
	const char *to; /* as compiled */
} redirect_cases[] = {
    {"/old /new", NULL, 301, 0, "/new"},
    {"/old   /new\t302", NULL, 302, 0, "/new"},
    {"/a /b 303", NULL, 303, 0, "/b"},
    {"/a /b 307", NULL, 307, 0, "/b"},
    {"/a /b 308", NULL, 308, 0, "/b"},
    {"/a /b 200", NULL, 200, 0, "/b"},
    {"/a /b 404", NULL, 404, 0, "/b"},
    {"/a /b 410", NULL, 410, 0, "/b"},
    {"/a /b 301!", NULL, 301, 1, "/b"},
    {"/a /b 200!", NULL, 200, 1, "/b"},
    {"/a /b # a comment after the rule", NULL, 301, 0, "/b"},
    {"/a /b\r", NULL, 301, 0, "/b"},
    {"  /indented /b", NULL, 301, 0, "/b"},
    {"/ /home", NULL, 301, 0, "/home"},
    {"/a/ /b/", NULL, 301, 0, "/b/"},
    {"/blog/:year/:slug /posts/:year-:slug", NULL, 301, 0, "/posts/:year-:slug"},
    {"/news/* /blog/:splat", NULL, 301, 0, "/blog/:splat"},
    {"/* /index.html 200", NULL, 200, 0, "/index.html"},
    {"/store id=:id /products/:id", NULL, 301, 0, "/products/:id"},
    {"/store id=:id lang=en /p/:id/en 302", NULL, 302, 0, "/p/:id/en"},
    {"/go https://example.com/", NULL, 301, 0, "https://example.com/"},
    {"/go HTTP://Example.com:8080/x", NULL, 301, 0, "HTTP://Example.com:8080/x"},
    {"/go/* https://example.com/:splat 302", NULL, 302, 0, "https://example.com/:splat"},
    {"/caf%C3%A9 /cafe", NULL, 301, 0, "/cafe"},
    {"/cafe /caf\303\251", NULL, 301, 0, "/caf%C3%A9"},
    {"/a /b?x=1", NULL, 301, 0, "/b?x=1"},
    {"/a /b#top", NULL, 301, 0, "/b#top"},
    {"/a /b\rSet-Cookie:%20x", NULL, 301, 0, "/b%0DSet-Cookie:%20x"},
    {"/a /b\001\177", NULL, 301, 0, "/b%01%7F"},
    /* not honoured: skipped, with why */
    {"/a https://example.com/ 200", "proxying to another origin is not supported", 0, 0, NULL},
    {"/a https://example.com/ 404", "proxying to another origin is not supported", 0, 0, NULL},
    {"/a /b 301 Country=us", "Country= conditions are not supported", 0, 0, NULL},
    {"/a /b 302 Language=en,fr", "Language= conditions are not supported", 0, 0, NULL},
    {"/a /b Role=admin", "Role= conditions are not supported", 0, 0, NULL},
    {"/a /b 301 Cookie=session", "Cookie= conditions are not supported", 0, 0, NULL},
    {"https://example.com/* https://www.example.com/:splat 301!",
     "domain-level rules (from is a URL) are not supported", 0, 0, NULL},
    {"http://a.example/ /b", "domain-level rules (from is a URL) are not supported", 0, 0, NULL},
    /* malformed */
    {"/a", "a rule needs a from and a to", 0, 0, NULL},
    {"/a id=:id", "a rule needs a to after from", 0, 0, NULL},
    {"a /b", "path: not a path starting with /", 0, 0, NULL},
    {"/a?x=1 /b", "path: ? and # have no place in a path pattern", 0, 0, NULL},
    {"/a//b /c", "path: an empty segment (//)", 0, 0, NULL},
    {"/a/*/b /c", "path: * is only allowed as the last segment", 0, 0, NULL},
    {"/a* /c", "path: * must be a whole segment (/blog/*)", 0, 0, NULL},
    {"/a/: /c", "path: a placeholder without a name", 0, 0, NULL},
    {"/a/:b-c /c", "path: bad placeholder name ':b-c'", 0, 0, NULL},
    {"/a/:splat /c", "path: :splat is reserved for what * matches", 0, 0, NULL},
    {"/a/%zz /c", "path: a malformed %-escape", 0, 0, NULL},
    {"/a/%2 /c", "path: a malformed %-escape", 0, 0, NULL},
    {"/a/%00 /c", "path: %00 and %2F cannot be matched", 0, 0, NULL},
    {"/a%2Fb /c", "path: %00 and %2F cannot be matched", 0, 0, NULL},
    {"/a/.. /c", "path: . and .. segments cannot be matched", 0, 0, NULL},
    {"/a/./b /c", "path: . and .. segments cannot be matched", 0, 0, NULL},
    {"/a b", "to: not a local path (/...) or an http(s):// URL", 0, 0, NULL},
    {"/a ftp://example.com/", "to: not a local path (/...) or an http(s):// URL", 0, 0, NULL},
    {"/a //evil.example/", "to: // would leave the site (write https://host/ instead)", 0, 0, NULL},
    {"/a /\\evil.example/", "to: // would leave the site (write https://host/ instead)", 0, 0,
     NULL},
    {"/a /b\\c", "to: a backslash is not allowed", 0, 0, NULL},
    {"/a https:///x", "to: an absolute URL without a host", 0, 0, NULL},
    {"/:h https://:h.example.com/", "to: placeholders cannot be used in the host of a URL", 0, 0,
     NULL},
    {"/a https://user@evil.example/", "to: the host of a URL cannot hold @ or \\", 0, 0, NULL},
    {"/a /b/:x", "to: :x is not a placeholder of this rule", 0, 0, NULL},
    {"/a /b/:splat", "to: :splat is not a placeholder of this rule", 0, 0, NULL},
    {"/a /b 30", "not a status: '30'", 0, 0, NULL},
    {"/a /b 3011", "not a status: '3011'", 0, 0, NULL},
    {"/a /b 3x1", "not a status: '3x1'", 0, 0, NULL},
    {"/a /b 500", "status 500 is not supported (200, 301, 302, 303, 307, 308 or a 4xx)", 0, 0,
     NULL},
    {"/a /b 304", "status 304 is not supported (200, 301, 302, 303, 307, 308 or a 4xx)", 0, 0,
     NULL},
    {"/a /b 201", "status 201 is not supported (200, 301, 302, 303, 307, 308 or a 4xx)", 0, 0,
     NULL},
    {"/a /b 499", "status 499 is not supported (200, 301, 302, 303, 307, 308 or a 4xx)", 0, 0,
     NULL},
    {"/a /b 301 extra", "unexpected field 'extra'", 0, 0, NULL},
    {"/a =x /b", "a query condition without a name (=value)", 0, 0, NULL},
    {"/a id=: /b", "a placeholder without a name", 0, 0, NULL},
    {"/a id=:a-b /b", "bad placeholder name ':a-b'", 0, 0, NULL},
    {"/a x=1&y=2 /b", "a malformed query condition 'x=1&y=2'", 0, 0, NULL},
    {"/a a=1 b=2 c=3 d=4 e=5 f=6 g=7 h=8 i=9 /b", "more than 8 query conditions", 0, 0, NULL},
    {"/a 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17", "too many fields", 0, 0, NULL},
};

START_TEST(test_redirect_line)
{
	const struct line_case *c = &redirect_cases[_i];
	struct rules rs;
	struct report rep;
	parse(&rs, RULES_REDIRECTS, c->line, &rep);
	if (!c->reason) {
		ck_assert_msg(rep.count == 0, "'%s': skipped: %s", c->line, rep.text);
		ck_assert_uint_eq(rs.loaded[RULES_REDIRECTS], 1);
		const struct rules_redirect *r = &rs.redirects[0];
		ck_assert_int_eq(r->status, c->status);
		ck_assert_int_eq(r->force, c->force);
		ck_assert_str_eq(rs.arena + r->to.off, c->to);
		ck_assert_uint_eq(r->line, 1);
	} else {
		char want[512];
		snprintf(want, sizeof want, "_redirects:1: %s\n", c->reason);
		ck_assert_msg(strcmp(rep.text, want) == 0, "'%s': expected '%s', got '%s'", c->line,
		              want, rep.text);
		ck_assert_uint_eq(rs.loaded[RULES_REDIRECTS], 0);
		ck_assert_uint_eq(rs.skipped[RULES_REDIRECTS], 1);
	}
	rules_free(&rs);
}
END_TEST

/* ---- _headers ---- */

static const struct header_case {
	const char *text;
	const char *report; /* exact reports, "" when none */
	unsigned blocks, headers;
} header_cases[] = {
    {"/*\n  X-Frame-Options: DENY\n", "", 1, 1},
    {"/*\n\tX-A: 1\n\tX-B: two words  \n", "", 1, 2},
    {"# comment\n\n/assets/*\n  Cache-Control: public, max-age=31536000\n", "", 1, 1},
    {"/blog/:slug\n  X-A: 1\n/*\n  ! X-A\n", "", 2, 2},
    {"/\n  Server: mine\n", "", 1, 1},
    {"/*\n  Cache-Control: no-store\n  X-Empty-Block-Next: 1\n/x\n", "", 2, 2},
    {"  X-A: 1\n", "_headers:1: a header line before any path\n", 0, 0},
    {"/*\n  X-A 1\n", "_headers:2: expected Name: value (or ! Name)\n", 1, 0},
    {"/*\n  : v\n", "_headers:2: a header without a name\n", 1, 0},
    {"/*\n  X(A): v\n", "_headers:2: not a header name: 'X(A)'\n", 1, 0},
    {"/*\n  X-A:\n", "_headers:2: X-A: an empty value\n", 1, 0},
    {"/*\n  X-A: a\001b\n", "_headers:2: X-A: a control character in the value\n", 1, 0},
    {"/*\n  Content-Length: 5\n",
     "_headers:2: Content-Length cannot be set: the server frames every message\n", 1, 0},
    {"/*\n  content-range: bytes 0-1/2\n",
     "_headers:2: content-range cannot be set: the server frames every message\n", 1, 0},
    {"/*\n  Transfer-Encoding: chunked\n",
     "_headers:2: Transfer-Encoding cannot be set: the server frames every message\n", 1, 0},
    {"/*\n  Connection: close\n",
     "_headers:2: Connection cannot be set: the server manages connections\n", 1, 0},
    {"/*\n  Date: x\n", "_headers:2: Date cannot be set: the server sets it on every response\n", 1,
     0},
    /* Content-Type replaces the file's type; a media type only. */
    {"/feed\n  Content-Type: application/rss+xml; charset=utf-8\n", "", 1, 1},
    {"/x\n  content-type: text/plain\n/x\n  ! Content-Type\n", "", 2, 2},
    {"/x\n  Content-Type: application/json  \n", "", 1, 1},
    {"/*\n  Content-Type: rss\n",
     "_headers:2: Content-Type: 'rss' is not a media type (type/subtype)\n", 1, 0},
    {"/*\n  Content-Type: text/\n",
     "_headers:2: Content-Type: 'text/' is not a media type (type/subtype)\n", 1, 0},
    {"/*\n  Content-Type: /plain\n",
     "_headers:2: Content-Type: '/plain' is not a media type (type/subtype)\n", 1, 0},
    {"/*\n  Content-Type: text/plain, text/html\n",
     "_headers:2: Content-Type: 'text/plain, text/html' is not a media type (type/subtype)\n", 1,
     0},
    {"/*\n  Content-Type: text/pl\001ain\n",
     "_headers:2: Content-Type: a control character in the value\n", 1, 0},
    /* The other headers the server derives from the file say why. */
    {"/*\n  ETag: \"x\"\n", "_headers:2: ETag cannot be set: the server derives it from the file\n",
     1, 0},
    {"/*\n  Last-Modified: x\n",
     "_headers:2: Last-Modified cannot be set: the server derives it from the file\n", 1, 0},
    {"/*\n  Content-Encoding: gzip\n",
     "_headers:2: Content-Encoding cannot be set: the server sets it when it sends x.br, x.zst or "
     "x.gz for x\n",
     1, 0},
    {"/*\n  Accept-Ranges: none\n",
     "_headers:2: Accept-Ranges cannot be set: the server sets it on every file (it serves "
     "ranges)\n",
     1, 0},
    {"/*\n  Vary: Cookie\n",
     "_headers:2: Vary cannot be set: the server sets it where a response varies "
     "(Accept-Encoding)\n",
     1, 0},
    {"/*\n  Location: /x\n",
     "_headers:2: Location cannot be set: the server sets it on redirects (write a _redirects "
     "rule)\n",
     1, 0},
    {"/*\n  Allow: GET\n",
     "_headers:2: Allow cannot be set: the server sets it on 405 and OPTIONS answers\n", 1, 0},
    {"/*\n  Retry-After: 5\n",
     "_headers:2: Retry-After cannot be set: the server sets it on 503 answers\n", 1, 0},
    {"/*\n  ! Content-Length\n",
     "_headers:2: Content-Length cannot be set: the server frames every message\n", 1, 0},
    {"https://example.com/*\n  X-A: 1\n/b\n  X-B: 2\n",
     "_headers:1: domain-level blocks (a URL) are not supported\n", 1, 1},
    {"/a b\n  X-A: 1\n", "_headers:1: a path pattern cannot hold spaces (indent header lines)\n", 0,
     0},
    {"/a/*/b\n  X-A: 1\n  X-B: 2\n", "_headers:1: path: * is only allowed as the last segment\n", 0,
     0},
    {"/a?x\n  X-A: 1\n", "_headers:1: path: ? and # have no place in a path pattern\n", 0, 0},
};

START_TEST(test_header_lines)
{
	const struct header_case *c = &header_cases[_i];
	struct rules rs;
	struct report rep;
	parse(&rs, RULES_HEADERS, c->text, &rep);
	ck_assert_msg(strcmp(rep.text, c->report) == 0, "'%s': expected '%s', got '%s'", c->text,
	              c->report, rep.text);
	ck_assert_uint_eq(rs.loaded[RULES_HEADERS], c->blocks);
	ck_assert_uint_eq(rs.nheaders, c->headers);
	rules_free(&rs);
}
END_TEST

/* A Content-Type of RULES_TYPE_MAX bytes is kept (and renders); one more
 * is a skipped line, not a response whose headers do not fit. */
START_TEST(test_long_type)
{
	char text[RULES_TYPE_MAX + 64];
	int n = snprintf(text, sizeof text, "/x\n  Content-Type: text/");
	int len = RULES_TYPE_MAX - 5 + _i;
	memset(text + n, 'a', (size_t)len);
	memcpy(text + n + len, "\n", 2);
	struct rules rs;
	struct report rep;
	parse(&rs, RULES_HEADERS, text, &rep);
	if (_i) {
		ck_assert_str_eq(rep.text, "_headers:2: Content-Type: longer than 200 bytes\n");
		ck_assert_uint_eq(rs.nheaders, 0);
	} else {
		ck_assert_str_eq(rep.text, "");
		char lines[RULES_REPLY_BYTES], cc[256], type[256];
		size_t send;
		ck_assert_int_eq(rules_render_headers(&rs, "x", 1, lines, sizeof lines, &send, cc,
		                                      sizeof cc, type, sizeof type),
		                 0);
		ck_assert_uint_eq(strlen(type), RULES_TYPE_MAX);
	}
	rules_free(&rs);
}
END_TEST

/* ---- the matcher ---- */

static const char match_rules[] = "/exact /to-exact\n"                         /* 1 */
                                  "/blog/:year/:slug /posts/:year/:slug 302\n" /* 2 */
                                  "/news/* /blog/:splat\n"                     /* 3 */
                                  "/store id=:id /products/:id\n"              /* 4 */
                                  "/store kind=book /books\n"                  /* 5 */
                                  "/first /one\n"                              /* 6 */
                                  "/first /two\n"                              /* 7 */
                                  "/:lang/about /about?lang=:lang 302\n"       /* 8 */
                                  "/en/about /never\n"                        /* 9: 8 comes first */
                                  "/forced /f 301!\n"                         /* 10 */
                                  "/shadow /s\n"                              /* 11 */
                                  "/shadow /s-forced 302!\n"                  /* 12 */
                                  "/dir/ /slash\n"                            /* 13 */
                                  "/ext/* https://example.com/x/:splat 302\n" /* 14 */
                                  "/enc/:p /to/:p\n"                          /* 15 */
                                  "/q/:p q=:q /r/:p/:q\n"                     /* 16 */
                                  "/ /root\n"                                 /* 17 */
                                  "/wild/*/never-parsed /x\n";                /* skipped */

static const struct match_case {
	const char *path, *query; /* normalised path without slash; raw query */
	int forced_only;
	unsigned line; /* 0: no match */
	const char *target;
} match_cases[] = {
    {"exact", "", 0, 1, "/to-exact"},
    {"exact", "?a=1&b", 0, 1, "/to-exact?a=1&b"},
    {"exactly", "", 0, 0, NULL},
    {"exact/more", "", 0, 0, NULL},
    {"blog/2024/hello", "", 0, 2, "/posts/2024/hello"},
    {"blog/2024", "", 0, 0, NULL},
    {"blog/2024/hello/more", "", 0, 0, NULL},
    {"blog/2024/caf\303\251 x", "", 0, 2, "/posts/2024/caf%C3%A9%20x"},
    {"news", "", 0, 3, "/blog/"},
    {"news/a/b/c.html", "", 0, 3, "/blog/a/b/c.html"},
    {"newsy", "", 0, 0, NULL},
    {"store", "?id=42", 0, 4, "/products/42"},
    {"store", "?x=1&id=42&y", 0, 4, "/products/42"},
    {"store", "?id=a%2Fb%20c", 0, 4, "/products/a/b%20c"},
    {"store", "?id=%zz", 0, 4, "/products/%25zz"},
    {"store", "?kind=book", 0, 5, "/books"},
    {"store", "?kind=film", 0, 0, NULL},
    {"store", "", 0, 0, NULL},
    {"store", "?ids=1", 0, 0, NULL},
    {"first", "", 0, 6, "/one"},
    {"en/about", "", 0, 8, "/about?lang=en"},
    {"fr/about", "", 0, 8, "/about?lang=fr"},
    {"forced", "", 1, 10, "/f"},
    {"shadow", "", 0, 11, "/s"},
    {"shadow", "", 1, 12, "/s-forced"},
    {"exact", "", 1, 0, NULL},
    {"dir", "", 0, 13, "/slash"},
    {"ext/a b/c", "", 0, 14, "https://example.com/x/a%20b/c"},
    {"ext/%2F", "", 0, 14, "https://example.com/x/%252F"},
    {"enc/\r\n", "", 0, 15, "/to/%0D%0A"},
    {"q/p1", "?q=v%0d%0a", 0, 16, "/r/p1/v%0D%0A"},
    {"", "", 0, 17, "/root"},
    {"", "?x", 0, 17, "/root?x"},
    {"wild/a/never-parsed", "", 0, 0, NULL},
};

START_TEST(test_match)
{
	const struct match_case *c = &match_cases[_i];
	struct rules rs;
	struct report rep;
	parse(&rs, RULES_REDIRECTS, match_rules, &rep);
	ck_assert_uint_eq(rep.count, 1);
	struct rules_captures caps;
	const struct rules_redirect *r = rules_match(&rs, c->path, strlen(c->path), c->query,
	                                             strlen(c->query), c->forced_only, &caps);
	if (!c->line) {
		ck_assert_msg(r == NULL, "/%s%s: matched line %u", c->path, c->query,
		              r ? r->line : 0);
	} else {
		ck_assert_msg(r != NULL, "/%s%s: no match, want line %u", c->path, c->query,
		              c->line);
		ck_assert_uint_eq(r->line, c->line);
		char to[256];
		long n = rules_target(&rs, r, &caps, c->query, strlen(c->query), to, sizeof to);
		ck_assert_int_ge(n, 0);
		ck_assert_str_eq(to, c->target);
		ck_assert_uint_eq((size_t)n, strlen(c->target));
	}
	rules_free(&rs);
}
END_TEST

/* A target that does not fit is -1, never a cut Location. */
START_TEST(test_target_too_long)
{
	struct rules rs;
	struct report rep;
	parse(&rs, RULES_REDIRECTS, "/a/* /b/:splat\n", &rep);
	struct rules_captures caps;
	const struct rules_redirect *r = rules_match(&rs, "a/xxxxxxxxxx", 12, "", 0, 0, &caps);
	ck_assert_ptr_nonnull(r);
	char to[12];
	ck_assert_int_eq(rules_target(&rs, r, &caps, "", 0, to, sizeof to), -1);
	ck_assert_int_eq(rules_target(&rs, r, &caps, "", 0, to, 0), -1);
	rules_free(&rs);
}
END_TEST

/* ---- _headers merging ---- */

static const char header_rules[] = "/*\n"
                                   "  X-Frame-Options: DENY\n"
                                   "  Cache-Control: public, max-age=60\n"
                                   "/assets/*\n"
                                   "  ! Cache-Control\n"
                                   "  Cache-Control: max-age=31536000, immutable\n"
                                   "  X-Multi: a\n"
                                   "  X-Multi: b\n"
                                   "/assets/private/*\n"
                                   "  ! X-Frame-Options\n"
                                   "  ! X-Multi\n"
                                   "/blog/:slug\n"
                                   "  X-Frame-Options: SAMEORIGIN\n"
                                   "/\n"
                                   "  X-Root: yes\n"
                                   "/feed\n"
                                   "  Content-Type: text/xml\n"
                                   "/feed\n"
                                   "  Content-Type: application/rss+xml; charset=utf-8\n"
                                   "/typed/*\n"
                                   "  Content-Type: application/json\n"
                                   "/typed/plain\n"
                                   "  ! Content-Type\n";

static const struct render_case {
	const char *path;
	const char *lines, *cc; /* lines: sent, then the names removed */
	size_t send;            /* how much of lines is sent */
	const char *type;       /* the Content-Type that replaces the file's */
} render_cases[] = {
    {"", "X-Frame-Options: DENY\r\nX-Root: yes\r\n", "public, max-age=60", 36, ""},
    {"page.html", "X-Frame-Options: DENY\r\n", "public, max-age=60", 23, ""},
    {"assets/app.js", "X-Frame-Options: DENY\r\nX-Multi: a, b\r\nCache-Control:\r\n",
     "max-age=31536000, immutable", 38, ""},
    {"assets/private/x", "Cache-Control:\r\nX-Frame-Options:\r\nX-Multi:\r\n",
     "max-age=31536000, immutable", 0, ""},
    {"blog/hello", "X-Frame-Options: DENY, SAMEORIGIN\r\n", "public, max-age=60", 35, ""},
    {"blog/hello/more", "X-Frame-Options: DENY\r\n", "public, max-age=60", 23, ""},
    /* Never a line of its own, never joined: the last block's wins. */
    {"feed", "X-Frame-Options: DENY\r\n", "public, max-age=60", 23,
     "application/rss+xml; charset=utf-8"},
    {"typed/x", "X-Frame-Options: DENY\r\n", "public, max-age=60", 23, "application/json"},
    /* "! Content-Type" gives the file's own type back. */
    {"typed/plain", "X-Frame-Options: DENY\r\nContent-Type:\r\n", "public, max-age=60", 23, ""},
};

START_TEST(test_render)
{
	const struct render_case *c = &render_cases[_i];
	struct rules rs;
	struct report rep;
	parse(&rs, RULES_HEADERS, header_rules, &rep);
	ck_assert_str_eq(rep.text, "");
	char lines[RULES_REPLY_BYTES], cc[256], type[256];
	size_t send;
	long n = rules_render_headers(&rs, c->path, strlen(c->path), lines, sizeof lines, &send, cc,
	                              sizeof cc, type, sizeof type);
	ck_assert_int_eq(n, (long)strlen(c->lines));
	ck_assert_str_eq(lines, c->lines);
	ck_assert_str_eq(cc, c->cc);
	ck_assert_uint_eq(send, c->send);
	ck_assert_str_eq(type, c->type);
	/* Too small a buffer: -1, not a cut header. */
	if (n > 0)
		ck_assert_int_eq(rules_render_headers(&rs, c->path, strlen(c->path), lines,
		                                      (size_t)n, &send, cc, sizeof cc, type,
		                                      sizeof type),
		                 -1);
	if (c->type[0])
		ck_assert_int_eq(rules_render_headers(&rs, c->path, strlen(c->path), lines,
		                                      sizeof lines, &send, cc, sizeof cc, type,
		                                      strlen(c->type)),
		                 -1);
	rules_free(&rs);
}
END_TEST

/* The summary line startup prints. */
START_TEST(test_summary)
{
	struct rules rs;
	struct report rep;
	parse(&rs, RULES_REDIRECTS,
	      "/a /b\n/c /d\n# x\n\n/e https://example.com/ 200\n/f /g 302 Cookie=x\n", &rep);
	char line[256];
	rules_summary(&rs, RULES_REDIRECTS, line, sizeof line);
	ck_assert_str_eq(
	    line, "_redirects: 2 rules, 2 skipped (line 5: proxying to another origin is not "
	          "supported)");
	ck_assert_str_eq(rep.text, "_redirects:5: proxying to another origin is not supported\n"
	                           "_redirects:6: Cookie= conditions are not supported\n");
	rules_free(&rs);
	parse(&rs, RULES_HEADERS, "/*\n  X-A: 1\n", &rep);
	rules_summary(&rs, RULES_HEADERS, line, sizeof line);
	ck_assert_str_eq(line, "_headers: 1 block");
	rules_free(&rs);
}
END_TEST

/* ---- attack: bounded, deterministic ---- */

static unsigned long long rng_state = 0x9e3779b97f4a7c15ull;
static unsigned
rnd(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return (unsigned)(rng_state >> 11);
}

/* Lines built from the pieces the grammar cares about, plus raw bytes
 * (NUL, CR, high bytes): the parser must neither crash nor leak, and the
 * matcher must answer every hostile path. */
START_TEST(test_fuzz_lines)
{
	static const char *const pieces[] = {
	    "/",   ":",   "*",   "!",        " ",      "\t",      "=",        "%",    "%2",
	    "%41", "?",   "#",   "a",        ":splat", "http://", "https://", "..",   ".",
	    "301", "200", "404", "Country=", "\r",     "\\",      "//",       "\377", ":x",
	};
	size_t cap = 64 * 1024;
	char *text = malloc(cap);
	ck_assert_ptr_nonnull(text);
	for (int round = 0; round < 300; round++) {
		size_t len = 0;
		unsigned lines = 1 + rnd() % 60;
		for (unsigned l = 0; l < lines && len + 600 < cap; l++) {
			unsigned k = rnd() % 40;
			if (rnd() % 3 == 0)
				text[len++] = ' ';
			for (unsigned j = 0; j < k; j++) {
				if (rnd() % 8 == 0) {
					text[len++] = (char)(rnd() & 0xff); /* NUL too */
				} else {
					const char *p = pieces[rnd() % NELEM(pieces)];
					size_t pn = strlen(p);
					memcpy(text + len, p, pn);
					len += pn;
				}
			}
			text[len++] = '\n';
		}
		for (int which = 0; which < 2; which++) {
			struct rules rs;
			rules_init(&rs);
			ck_assert_int_eq(
			    rules_parse(&rs, (enum rules_file)which, text, len, NULL, NULL), 0);
			for (int q = 0; q < 20; q++) {
				char path[64], query[32], to[256];
				size_t pn = rnd() % sizeof path, qn = rnd() % sizeof query;
				for (size_t i = 0; i < pn; i++)
					path[i] = "ab/:*%.?=&\0\377"[rnd() % 12];
				for (size_t i = 0; i < qn; i++)
					query[i] = "?a=&%2F:x"[rnd() % 9];
				struct rules_captures caps;
				const struct rules_redirect *r =
				    rules_match(&rs, path, pn, query, qn, (int)(rnd() & 1), &caps);
				if (r)
					(void)rules_target(&rs, r, &caps, query, qn, to, sizeof to);
				char lines_buf[RULES_REPLY_BYTES], cc[64], type[64];
				size_t send;
				(void)rules_render_headers(&rs, path, pn, lines_buf,
				                           sizeof lines_buf, &send, cc, sizeof cc,
				                           type, sizeof type);
			}
			rules_free(&rs);
		}
	}
	free(text);
}
END_TEST

/* Long lines, 10,000 rules, huge placeholders: skipped or loaded, never a
 * crash, and a 10,000-rule set still matches its last rule. */
START_TEST(test_hostile_sizes)
{
	size_t cap = 2 * 1024 * 1024;
	char *text = malloc(cap);
	ck_assert_ptr_nonnull(text);
	size_t len = 0;
	for (int i = 0; i < 10000; i++)
		len += (size_t)snprintf(text + len, cap - len, "/r%d/:p /t%d/:p 302\n", i, i);
	/* A line of 5000 bytes, one with a 4000-byte placeholder name, a NUL. */
	text[len++] = '/';
	memset(text + len, 'a', 5000);
	len += 5000;
	text[len++] = '\n';
	memcpy(text + len, "/x/:", 4);
	len += 4;
	memset(text + len, 'n', 4000);
	len += 4000;
	memcpy(text + len, " /y\n/nul\0 /z\n", 13);
	len += 13;
	struct rules rs;
	struct report rep;
	memset(&rep, 0, sizeof rep);
	rules_init(&rs);
	ck_assert_int_eq(rules_parse(&rs, RULES_REDIRECTS, text, len, record, &rep), 0);
	/* The 4000-byte placeholder fits in a line: it is a rule. */
	ck_assert_uint_eq(rs.loaded[RULES_REDIRECTS], 10001);
	ck_assert_str_eq(rep.text, "_redirects:10001: a line longer than 4096 bytes\n"
	                           "_redirects:10003: a NUL byte in the line\n");
	struct rules_captures caps;
	const struct rules_redirect *r = rules_match(&rs, "r9999/v", 7, "", 0, 0, &caps);
	ck_assert_ptr_nonnull(r);
	ck_assert_uint_eq(r->line, 10000);
	r = rules_match(&rs, "x/v", 3, "", 0, 0, &caps);
	ck_assert_ptr_nonnull(r);
	ck_assert_uint_eq(r->line, 10002);
	ck_assert_uint_eq(caps.c[0].name_len, 4000);
	/* A 3000-byte value into a 2048-byte Location: -1. */
	char big[3002] = "r1/";
	memset(big + 3, 'v', 2990);
	r = rules_match(&rs, big, 2993, "", 0, 0, &caps);
	ck_assert_ptr_nonnull(r);
	char to[2048];
	ck_assert_int_eq(rules_target(&rs, r, &caps, "", 0, to, sizeof to), -1);
	rules_free(&rs);
	free(text);
}
END_TEST

Suite *
rules_suite(void)
{
	Suite *s = suite_create("rules");
	TCase *tc = tcase_create("parse");
	tcase_add_loop_test(tc, test_redirect_line, 0, NELEM(redirect_cases));
	tcase_add_loop_test(tc, test_long_type, 0, 2);
	tcase_add_loop_test(tc, test_header_lines, 0, NELEM(header_cases));
	tcase_add_test(tc, test_summary);
	suite_add_tcase(s, tc);
	tc = tcase_create("match");
	tcase_add_loop_test(tc, test_match, 0, NELEM(match_cases));
	tcase_add_test(tc, test_target_too_long);
	tcase_add_loop_test(tc, test_render, 0, NELEM(render_cases));
	suite_add_tcase(s, tc);
	tc = tcase_create("attack");
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_fuzz_lines);
	tcase_add_test(tc, test_hostile_sizes);
	suite_add_tcase(s, tc);
	return s;
}
