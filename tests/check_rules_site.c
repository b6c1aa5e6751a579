/* check_rules_site.c - _redirects and _headers against the real binary and
 * the sample site tests/rules-site (which uses every feature): statuses,
 * Location, bodies and headers, GET and HEAD alike; a rewrite to ../ or to
 * a dotfile refused exactly as a direct request is; the two files 404 with
 * rules on and plain files with rules off; --live reloading a changed
 * _redirects (polled, no fixed sleep); what was loaded in --error-log, once
 * with --workers 2; --health answering before any rule; --dev reading the
 * rules once (no reload without --live); a _headers Content-Type on 200,
 * 206, HEAD and cached files, and not on 304s, errors or redirects. */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "harness.h"
#include "suites.h"

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

static struct {
	char *base;
	char site[PATH_MAX];
	char log[PATH_MAX];
	struct h_server srv;
} fx;

/* The sample site, from the repository (tests run from its top). */
static void
site_path(char *dst, size_t cap)
{
	char cwd[PATH_MAX - 32];
	ck_assert_ptr_nonnull(getcwd(cwd, sizeof cwd));
	snprintf(dst, cap, "%.*s/tests/rules-site", (int)(sizeof cwd - 1), cwd);
	ck_assert_msg(access(dst, R_OK) == 0, "%s: missing (run from the repository)", dst);
}

static void
start(const char *root, const char *const *flags)
{
	char access_log[PATH_MAX + 16];
	snprintf(access_log, sizeof access_log, "%s.access", fx.log);
	const char *extra[16] = {"--access-log", access_log};
	size_t n = 2;
	for (size_t i = 0; flags && flags[i] && n + 1 < NELEM(extra); i++)
		extra[n++] = flags[i];
	extra[n] = NULL;
	char err[512];
	if (h_server_start(&fx.srv, root, fx.log, extra, err, sizeof err) != 0)
		ck_abort_msg("starting the server: %s", err);
}

static void
setup_base(void)
{
	fx.base = h_mkdtemp();
	snprintf(fx.log, sizeof fx.log, "%s/server.log", fx.base);
	site_path(fx.site, sizeof fx.site);
	fx.srv.pid = 0;
}

/* setup_base, and an empty top dir of the test's own (its path in root). */
static void
setup_root(char *root, size_t cap)
{
	setup_base();
	snprintf(root, cap, "%s/root", fx.base);
	h_mkdir(fx.base, "root");
}

static void
setup_rules(void)
{
	setup_base();
	static const char *const flags[] = {
	    "--rules", "--cache-control", "max-age=5", "--header", "X-Frame-Options: SAMEORIGIN",
	    NULL};
	start(fx.site, flags);
}

static void
setup_plain(void)
{
	setup_base();
	start(fx.site, NULL);
}

static void
teardown(void)
{
	if (fx.srv.pid > 0) {
		int status = h_server_stop(&fx.srv, 10000);
		if (status == -1 || !WIFEXITED(status) || WEXITSTATUS(status) != 0)
			h_teardown_failed("rules_site");
	}
	fx.srv.pid = 0;
	if (fx.base)
		h_rmtree(fx.base);
	free(fx.base);
	fx.base = NULL;
}

static const char *const methods[] = {"GET", "HEAD"};

/* ---- redirects and 4xx rules: both methods, every status ---- */

static const struct redirect_case {
	const char *target;
	int status;
	const char *location; /* NULL: none */
	const char *body;     /* NULL: the built-in page for the status */
} redirect_cases[] = {
    {"/old", 301, "/new/page.html", NULL},
    {"/old/", 301, "/new/page.html", NULL},
    {"/old?utm=x&y=1", 301, "/new/page.html?utm=x&y=1", NULL},
    {"/temp", 302, "/new/page.html", NULL},
    {"/see", 303, "/new/page.html", NULL},
    {"/keep", 307, "/new/page.html", NULL},
    {"/perm", 308, "/new/page.html", NULL},
    {"/blog/2024/hello", 301, "/posts/2024/hello", NULL},
    {"/blog/2024/caf%C3%A9%20x", 301, "/posts/2024/caf%C3%A9%20x", NULL},
    {"/news/a/b.html", 302, "/blog/a/b.html", NULL},
    {"/store?id=42&ref=x", 301, "/products/42", NULL},
    {"/store?id=%0d%0aSet-Cookie:x", 301, "/products/%0D%0ASet-Cookie:x", NULL},
    {"/ext/a%20b/c", 302, "https://example.com/docs/a%20b/c", NULL},
    {"/gone", 410, NULL, "custom 404\n"},
    {"/members/x", 401, NULL, "members only\n"},
    {"/nofile/x", 403, NULL, NULL},
    /* A 4xx rule's target through a link to a dotfile: refused, not served. */
    {"/linked-secret-403", 403, NULL, NULL},
    /* Skipped lines answer as if they were not there. */
    {"/proxy", 404, NULL, "custom 404\n"},
    {"/geo", 404, NULL, "custom 404\n"},
    /* The rule files themselves. */
    {"/_redirects", 404, NULL, "custom 404\n"},
    {"/_headers", 404, NULL, "custom 404\n"},
};

static void
builtin_body(int status, char *dst, size_t cap)
{
	const char *reason = status == 301   ? "Moved Permanently"
	                     : status == 302 ? "Found"
	                     : status == 303 ? "See Other"
	                     : status == 307 ? "Temporary Redirect"
	                     : status == 308 ? "Permanent Redirect"
	                                     : "Forbidden";
	snprintf(
	    dst, cap,
	    "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>%d %s</title></head>\n"
	    "<body><h1>%d %s</h1><hr><p>simple-http-server/0.1.0</p></body></html>\n",
	    status, reason, status, reason);
}

START_TEST(test_redirects)
{
	const struct redirect_case *c = &redirect_cases[_i / 2];
	const char *method = methods[_i % 2];
	struct h_resp r;
	h_fetch(fx.srv.port, method, c->target, NULL, &r);
	ck_assert_msg(r.status == c->status, "%s %s: %s, want %d", method, c->target, r.status_line,
	              c->status);
	if (c->location)
		H_ASSERT_HEADER(&r, "Location", c->location);
	else
		H_ASSERT_NO_HEADER(&r, "Location");
	char want[512];
	if (c->body)
		snprintf(want, sizeof want, "%s", c->body);
	else
		builtin_body(c->status, want, sizeof want);
	char len[32];
	snprintf(len, sizeof len, "%zu", strlen(want));
	H_ASSERT_HEADER(&r, "Content-Length", len);
	if (_i % 2)
		ck_assert_uint_eq(r.body_len, 0);
	else
		H_ASSERT_TEXT(&r, want);
	/* Errors and redirects get no --cache-control (files only). */
	H_ASSERT_NO_HEADER(&r, "Cache-Control");
	h_resp_free(&r);
}
END_TEST

/* ---- rewrites, shadowing and "!" ---- */

static const struct serve_case {
	const char *target;
	int status;
	const char *body;
} serve_cases[] = {
    {"/app/", 200, "app shell\n"},        {"/app/deep/link", 200, "app shell\n"},
    {"/exists.html", 200, "real file\n"}, /* no "!": the file wins */
    {"/forced.html", 200, "new page\n"},  /* "!": the rule wins */
    {"/", 200, "<h1>home</h1>\n"},        {"/about/", 200, "about\n"},
};

START_TEST(test_serve)
{
	const struct serve_case *c = &serve_cases[_i / 2];
	const char *method = methods[_i % 2];
	struct h_resp r;
	h_fetch(fx.srv.port, method, c->target, NULL, &r);
	ck_assert_msg(r.status == c->status, "%s %s: %s", method, c->target, r.status_line);
	char len[32];
	snprintf(len, sizeof len, "%zu", strlen(c->body));
	H_ASSERT_HEADER(&r, "Content-Length", len);
	if (_i % 2)
		ck_assert_uint_eq(r.body_len, 0);
	else
		H_ASSERT_TEXT(&r, c->body);
	H_ASSERT_HEADER(&r, "Cache-Control", "max-age=5");
	h_resp_free(&r);
}
END_TEST

/* A rewrite to ../ or to a dotfile gets what a direct request for the
 * target gets: the same status line and the same body. */
static const struct refusal_case {
	const char *rule, *direct;
	int status;
} refusal_cases[] = {
    {"/sneak", "/../check_rules_site.c", 403},
    {"/dot", "/.secret", 404},
    {"/peek", "/_redirects", 404},          /* the rule files are never served */
    {"/peek-headers", "/_headers", 404},
    {"/linked-secret", "/secret-link", 404}, /* a link to a dotfile */
};

START_TEST(test_refused_like_direct)
{
	const struct refusal_case *c = &refusal_cases[_i / 2];
	const char *method = methods[_i % 2];
	struct h_resp via, direct;
	h_fetch(fx.srv.port, method, c->rule, NULL, &via);
	h_fetch(fx.srv.port, method, c->direct, NULL, &direct);
	H_ASSERT_CODE(&via, c->status);
	H_ASSERT_STATUS(&via, direct.status_line);
	H_ASSERT_HEADER(&via, "Content-Length", h_header(&direct, "Content-Length"));
	H_ASSERT_BODY(&via, direct.body, direct.body_len);
	h_resp_free(&via);
	h_resp_free(&direct);
}
END_TEST

/* ---- _headers ---- */

START_TEST(test_headers)
{
	const char *method = methods[_i];
	struct h_resp r;
	/* The all-paths block: DENY replaces the --header value (it applies after the flag). */
	h_fetch(fx.srv.port, method, "/index.html", NULL, &r);
	H_ASSERT_CODE(&r, 200);
	H_ASSERT_HEADER(&r, "X-Frame-Options", "DENY");
	H_ASSERT_HEADER(&r, "X-Content-Type-Options", "nosniff");
	H_ASSERT_HEADER(&r, "Cache-Control", "max-age=5");
	H_ASSERT_NO_HEADER(&r, "X-Asset");
	h_resp_free(&r);
	/* Two blocks: its Cache-Control replaces --cache-control. */
	h_fetch(fx.srv.port, method, "/assets/app.js", NULL, &r);
	H_ASSERT_CODE(&r, 200);
	H_ASSERT_HEADER(&r, "Cache-Control", "public, max-age=31536000, immutable");
	H_ASSERT_HEADER(&r, "X-Asset", "yes");
	H_ASSERT_HEADER(&r, "X-Frame-Options", "DENY");
	H_ASSERT_HEADER(&r, "Content-Type", "text/javascript; charset=utf-8");
	h_resp_free(&r);
	/* Three blocks, "! Name" removing what the earlier ones set. */
	h_fetch(fx.srv.port, method, "/assets/private/key.txt", NULL, &r);
	H_ASSERT_CODE(&r, 200);
	H_ASSERT_NO_HEADER(&r, "X-Frame-Options");
	H_ASSERT_NO_HEADER(&r, "X-Asset");
	H_ASSERT_HEADER(&r, "X-Robots-Tag", "noindex");
	H_ASSERT_HEADER(&r, "X-Content-Type-Options", "nosniff");
	H_ASSERT_HEADER(&r, "Cache-Control", "public, max-age=31536000, immutable");
	h_resp_free(&r);
	/* Server replaced, Content-Length (skipped line) left to the server. */
	h_fetch(fx.srv.port, method, "/new/page.html", NULL, &r);
	H_ASSERT_CODE(&r, 200);
	H_ASSERT_HEADER(&r, "Server", "rules-site");
	H_ASSERT_HEADER(&r, "Content-Length", "9");
	h_resp_free(&r);
	/* A redirect carries the headers of its path too, once each. */
	h_fetch(fx.srv.port, method, "/old", NULL, &r);
	H_ASSERT_CODE(&r, 301);
	H_ASSERT_HEADER(&r, "X-Frame-Options", "DENY");
	h_resp_free(&r);
	/* A 304 as well, and from the cache (the second request). */
	for (int i = 0; i < 2; i++) {
		h_fetch(fx.srv.port, method, "/assets/app.js", NULL, &r);
		char inm[128];
		snprintf(inm, sizeof inm, "If-None-Match: %s\r\n", h_header(&r, "ETag"));
		h_resp_free(&r);
		h_fetch(fx.srv.port, method, "/assets/app.js", inm, &r);
		H_ASSERT_CODE(&r, 304);
		H_ASSERT_HEADER(&r, "Cache-Control", "public, max-age=31536000, immutable");
		H_ASSERT_HEADER(&r, "X-Asset", "yes");
		h_resp_free(&r);
	}
}
END_TEST

/* _headers' Content-Type replaces the file's on its 200 and 206 (never a
 * second line), whether or not the file comes from the cache, and even when
 * another path (the /feed-raw rewrite, which has no override) put the file
 * in the cache first, and never kept for the other paths of the file; the 304 has none, and a 404
 * or a redirect under the same pattern keeps its own text/html. */
#define FEED_TYPE "application/rss+xml; charset=utf-8"
#define FEED_LEN 109

START_TEST(test_content_type)
{
	struct h_resp r;
	/* The rewrite first: the file's own type, and the cache filled. */
	for (int i = 0; i < 2; i++) {
		h_fetch(fx.srv.port, "GET", "/feed-raw", NULL, &r);
		H_ASSERT_CODE(&r, 200);
		H_ASSERT_HEADER(&r, "Content-Type", "application/octet-stream");
		h_resp_free(&r);
	}
	/* GET twice (the second from the cache), then HEAD. */
	for (int i = 0; i < 3; i++) {
		h_fetch(fx.srv.port, i < 2 ? "GET" : "HEAD", "/feed", NULL, &r);
		H_ASSERT_CODE(&r, 200);
		H_ASSERT_HEADER(&r, "Content-Type", FEED_TYPE);
		ck_assert_int_eq(h_content_length(&r), FEED_LEN);
		ck_assert_uint_eq(r.body_len, i < 2 ? FEED_LEN : 0);
		H_ASSERT_HEADER(&r, "X-Frame-Options", "DENY");
		h_resp_free(&r);
	}
	/* The other order: the path with the override fills the cache, and
	 * the rewrite after it gets the file's own type (never cached). */
	for (int i = 0; i < 3; i++) {
		h_fetch(fx.srv.port, "GET", i < 2 ? "/feeds/latest" : "/latest-raw", NULL, &r);
		H_ASSERT_CODE(&r, 200);
		H_ASSERT_HEADER(&r, "Content-Type", i < 2 ? FEED_TYPE : "application/octet-stream");
		ck_assert_uint_eq(r.body_len, FEED_LEN);
		h_resp_free(&r);
	}
	/* One range. */
	h_fetch(fx.srv.port, "GET", "/feed", "Range: bytes=0-4\r\n", &r);
	H_ASSERT_CODE(&r, 206);
	H_ASSERT_HEADER(&r, "Content-Type", FEED_TYPE);
	H_ASSERT_HEADER(&r, "Content-Range", "bytes 0-4/109");
	ck_assert_str_eq(H_TEXT(&r), "<?xml");
	h_resp_free(&r);
	/* Several: the server's multipart type, the override in each part. */
	h_fetch(fx.srv.port, "GET", "/feed", "Range: bytes=0-4,6-12\r\n", &r);
	H_ASSERT_CODE(&r, 206);
	ck_assert_int_eq(h_header_count(&r, "Content-Type"), 1);
	ck_assert_msg(
	    strncmp(h_header(&r, "Content-Type"), "multipart/byteranges; boundary=", 31) == 0, "%s",
	    h_header(&r, "Content-Type"));
	const char *part = H_TEXT(&r);
	int parts = 0;
	while ((part = strstr(part, "\r\nContent-Type: " FEED_TYPE "\r\nContent-Range: bytes ")))
		parts++, part++;
	ck_assert_msg(parts == 2, "%d parts with the type:\n%s", parts, H_TEXT(&r));
	ck_assert_ptr_null(strstr(H_TEXT(&r), "octet-stream"));
	h_resp_free(&r);
	/* 304: no Content-Type, as without the rule. */
	h_fetch(fx.srv.port, "GET", "/feed", NULL, &r);
	char inm[128];
	snprintf(inm, sizeof inm, "If-None-Match: %s\r\n", h_header(&r, "ETag"));
	h_resp_free(&r);
	h_fetch(fx.srv.port, "GET", "/feed", inm, &r);
	H_ASSERT_CODE(&r, 304);
	H_ASSERT_NO_HEADER(&r, "Content-Type");
	h_resp_free(&r);
	/* A 404 and a redirect under the /feeds/ block: their own type. */
	for (int i = 0; i < 2; i++) {
		h_fetch(fx.srv.port, i ? "HEAD" : "GET", "/feeds/missing", NULL, &r);
		H_ASSERT_CODE(&r, 404);
		H_ASSERT_HEADER(&r, "Content-Type", "text/html; charset=utf-8");
		h_resp_free(&r);
		h_fetch(fx.srv.port, i ? "HEAD" : "GET", "/feeds/old", NULL, &r);
		H_ASSERT_CODE(&r, 301);
		H_ASSERT_HEADER(&r, "Location", "/feed");
		H_ASSERT_HEADER(&r, "Content-Type", "text/html; charset=utf-8");
		h_resp_free(&r);
	}
}
END_TEST

/* What was loaded, and each skipped line, in the error log. */
START_TEST(test_startup_log)
{
	static const char *const want[] = {
	    "_redirects:18: proxying to another origin is not supported",
	    "_redirects:19: Country= conditions are not supported",
	    "_headers:14: Content-Length cannot be set: the server frames every message",
	    "_redirects: 24 rules, 2 skipped (line 18: proxying to another origin is not "
	    "supported)",
	    "_headers: 6 blocks, 1 skipped (line 14: Content-Length cannot be set: the server "
	    "frames every message)",
	};
	for (size_t i = 0; i < NELEM(want); i++)
		ck_assert_msg(h_wait_file_contains(fx.log, want[i], h_ms(5000)) >= 0,
		              "not in the log: %s", want[i]);
}
END_TEST

/* --health answers before any rule: a forced redirect of the same path, a
 * catch-all rewrite and a catch-all _headers block change nothing about
 * it (a balancer's check must not depend on the site's files), while the
 * rules still answer every other path. */
START_TEST(test_health_first)
{
	char root[PATH_MAX];
	setup_root(root, sizeof root);
	h_write_str(root, "index.html", "home\n");
	h_write_str(root, "healthz", "a file\n");
	h_write_str(root, "_redirects", "/healthz /elsewhere 302!\n/* /index.html 200!\n");
	h_write_str(root, "_headers",
	            "/*\n  X-Frame-Options: DENY\n  Cache-Control: public, max-age=60\n"
	            "/healthz\n  X-Health: rule\n");
	static const char *const flags[] = {"--rules", "--health", "/healthz", NULL};
	start(root, flags);
	for (int m = 0; m < 2; m++) {
		struct h_resp r;
		h_fetch(fx.srv.port, methods[m], m ? "/healthz" : "/healthz?from=lb", NULL, &r);
		H_ASSERT_CODE(&r, 200);
		H_ASSERT_HEADER(&r, "Cache-Control", "no-store");
		H_ASSERT_HEADER(&r, "Content-Length", "3");
		H_ASSERT_NO_HEADER(&r, "Location");
		H_ASSERT_NO_HEADER(&r, "X-Frame-Options");
		H_ASSERT_NO_HEADER(&r, "X-Health");
		if (!m)
			H_ASSERT_TEXT(&r, "ok\n");
		h_resp_free(&r);
		/* The rules are on for everything else. */
		h_fetch(fx.srv.port, methods[m], "/anything", NULL, &r);
		H_ASSERT_CODE(&r, 200);
		H_ASSERT_HEADER(&r, "X-Frame-Options", "DENY");
		H_ASSERT_HEADER(&r, "Cache-Control", "public, max-age=60");
		if (!m)
			H_ASSERT_TEXT(&r, "home\n");
		h_resp_free(&r);
	}
	struct h_resp r;
	h_fetch(fx.srv.port, "POST", "/healthz", NULL, &r);
	H_ASSERT_CODE(&r, 405);
	H_ASSERT_HEADER(&r, "Allow", "GET, HEAD");
	H_ASSERT_NO_HEADER(&r, "Location");
	H_ASSERT_NO_HEADER(&r, "X-Frame-Options");
	h_resp_free(&r);
}
END_TEST

/* Occurrences of needle in hay. */
static int
count_in(const char *hay, const char *needle)
{
	int n = 0;
	for (const char *p = hay; (p = strstr(p, needle)) != NULL; p += strlen(needle))
		n++;
	return n;
}

/* With --error-log, what was loaded (and what --live watches) goes there,
 * not to the terminal, and once: with --workers 2, worker 0 says it for
 * both. The master answers only once every worker is up (and has loaded),
 * so stopping it then and reading the log sees every line there will be.
 * Cases: --rules; --rules --workers 2; --live --workers 2 (--live reads
 * the rules when they are there). */
START_TEST(test_log_once)
{
	setup_base();
	char errlog[PATH_MAX + 16];
	snprintf(errlog, sizeof errlog, "%s/error.log", fx.base);
	const char *flags[] = {
	    _i == 2 ? "--live" : "--rules", "--error-log", errlog, "--workers", "2", NULL};
	if (_i == 0)
		flags[3] = NULL;
	start(fx.site, flags);
	int status = h_server_stop(&fx.srv, h_ms(10000));
	fx.srv.pid = 0;
	ck_assert_msg(status != -1 && WIFEXITED(status) && WEXITSTATUS(status) == 0,
	              "exit status %d", status);
	char *log = h_read_file(errlog, NULL);
	ck_assert_ptr_nonnull(log);
	static const char *const want[] = {
	    "_redirects:18: proxying to another origin is not supported\n",
	    "_redirects:19: Country= conditions are not supported\n",
	    "_headers:14: Content-Length cannot be set: the server frames every message\n",
	    "_redirects: 24 rules, 2 skipped (line 18: proxying to another origin is not "
	    "supported)\n",
	    "_headers: 6 blocks, 1 skipped (line 14: Content-Length cannot be set: the server "
	    "frames every message)\n",
	};
	for (size_t i = 0; i < NELEM(want); i++)
		ck_assert_msg(count_in(log, want[i]) == 1, "%d times in the error log: %s\n%s",
		              count_in(log, want[i]), want[i], log);
	ck_assert_msg(count_in(log, "info: --live: watching ") == (_i == 2),
	              "--live's watching line %d times:\n%s", count_in(log, "--live: watching "),
	              log);
	free(log);
}
END_TEST

/* ---- rules off: public/ and any site behave as before ---- */

START_TEST(test_rules_off)
{
	const char *method = methods[_i];
	struct h_resp r;
	h_fetch(fx.srv.port, method, "/_redirects", NULL, &r);
	H_ASSERT_CODE(&r, 200);
	H_ASSERT_HEADER(&r, "Content-Type", "application/octet-stream");
	if (!_i)
		ck_assert_msg(strstr(H_TEXT(&r), "/old /new/page.html\n") != NULL, "%s",
		              H_TEXT(&r));
	h_resp_free(&r);
	h_fetch(fx.srv.port, method, "/_headers", NULL, &r);
	H_ASSERT_CODE(&r, 200);
	h_resp_free(&r);
	h_fetch(fx.srv.port, method, "/old", NULL, &r);
	H_ASSERT_CODE(&r, 404);
	H_ASSERT_NO_HEADER(&r, "Location");
	H_ASSERT_NO_HEADER(&r, "X-Frame-Options");
	h_resp_free(&r);
	h_fetch(fx.srv.port, method, "/forced.html", NULL, &r);
	H_ASSERT_CODE(&r, 200);
	if (!_i)
		H_ASSERT_TEXT(&r, "forced original\n");
	H_ASSERT_NO_HEADER(&r, "X-Frame-Options");
	H_ASSERT_NO_HEADER(&r, "Cache-Control");
	h_resp_free(&r);
	ck_assert_msg(h_wait_file_contains(fx.log, "_redirects", 0) < 0, "rules mentioned");
}
END_TEST

/* ---- --live: a changed _redirects is reloaded ---- */

struct poll_arg {
	const char *target, *location;
	int status;
	const char *body; /* NULL: any */
};

static int
answers(void *arg)
{
	const struct poll_arg *a = arg;
	struct h_resp r;
	h_fetch(fx.srv.port, "GET", a->target, NULL, &r);
	const char *loc = h_header(&r, "Location");
	int ok = r.status == a->status &&
	         (!a->location || (loc && strcmp(loc, a->location) == 0)) &&
	         (!a->body || strcmp(H_TEXT(&r), a->body) == 0);
	h_resp_free(&r);
	return ok;
}

START_TEST(test_live_reload)
{
	char root[PATH_MAX];
	setup_root(root, sizeof root);
	h_write_str(root, "index.html", "home\n");
	h_write_str(root, "_redirects", "/a /b 301\n");
	static const char *const flags[] = {"--live", NULL};
	start(root, flags);
	struct poll_arg first = {"/a", "/b", 301, NULL};
	ck_assert(answers(&first));
	h_write_str(root, "_redirects", "/a /c 302\n/x https://example.com/ 200\n");
	struct poll_arg second = {"/a", "/c", 302, NULL};
	ck_assert_msg(h_poll(answers, &second, h_ms(10000)) >= 0, "the change was not reloaded");
	ck_assert(h_wait_file_contains(fx.log, "_redirects: 1 rule, 1 skipped (line 2: proxying",
	                               h_ms(5000)) >= 0);
	/* _headers appearing later is read too; removing _redirects drops it. */
	h_write_str(root, "_headers", "/*\n  X-Live: 1\n");
	ck_assert(h_wait_file_contains(fx.log, "_headers: 1 block", h_ms(10000)) >= 0);
	struct h_resp r;
	h_fetch(fx.srv.port, "HEAD", "/index.html", NULL, &r);
	H_ASSERT_HEADER(&r, "X-Live", "1");
	h_resp_free(&r);
	char path[PATH_MAX + 16];
	snprintf(path, sizeof path, "%s/_redirects", root);
	ck_assert_int_eq(unlink(path), 0);
	struct poll_arg gone = {"/a", NULL, 404, NULL};
	ck_assert_msg(h_poll(answers, &gone, h_ms(10000)) >= 0, "the removal was not reloaded");
}
END_TEST

/* --dev without --live reads the rules once, at startup: a change, a new
 * _headers, a removal do not reload them (only --live subscribes to the
 * top dir's changes), and nothing breaks. index.html is cached first, so
 * the cache's inotify watch on the top dir does see the rule files change;
 * it is changed after them each round, and its new text served, so the
 * server has read those events before the rules are asked again. */
START_TEST(test_dev_loads_once)
{
	char root[PATH_MAX];
	setup_root(root, sizeof root);
	h_write_str(root, "index.html", "home\n");
	h_write_str(root, "_redirects", "/a /b 301\n");
	static const char *const flags[] = {"--dev", NULL};
	start(root, flags);
	struct poll_arg first = {"/a", "/b", 301, NULL};
	ck_assert(answers(&first));
	ck_assert(h_wait_file_contains(fx.log, "_redirects: 1 rule\n", h_ms(5000)) >= 0);
	struct poll_arg home = {"/index.html", NULL, 200, "home\n"};
	ck_assert(answers(&home));
	for (int round = 0; round < 3; round++) {
		if (round == 0)
			h_write_str(root, "_redirects", "/a /c 302\n");
		if (round == 1)
			h_write_str(root, "_headers", "/*\n  X-Dev: 1\n");
		if (round == 2) {
			char path[PATH_MAX + 16];
			snprintf(path, sizeof path, "%s/_redirects", root);
			ck_assert_int_eq(unlink(path), 0);
		}
		char text[32];
		snprintf(text, sizeof text, "home %d\n", round);
		h_write_str(root, "index.html", text);
		home.body = text;
		ck_assert_msg(h_poll(answers, &home, h_ms(10000)) >= 0,
		              "round %d: the index.html change not seen", round);
		ck_assert_msg(answers(&first), "round %d: the rules were reloaded", round);
		struct h_resp r;
		h_fetch(fx.srv.port, "HEAD", "/index.html", NULL, &r);
		H_ASSERT_CODE(&r, 200);
		H_ASSERT_NO_HEADER(&r, "X-Dev");
		h_resp_free(&r);
	}
	char *log = h_read_file(fx.log, NULL);
	ck_assert_ptr_nonnull(log);
	ck_assert_msg(count_in(log, "_redirects: ") == 1 && !strstr(log, "_headers: "), "%s", log);
	free(log);
}
END_TEST

/* With --clean-urls, about.html is what /about serves: it shadows a rule
 * without "!" like a file at /about would. */
/* --live with a _headers Content-Type: an HTML page made something else
 * gets no reload script (its body is the file's), one typed as HTML still
 * does, with the page's own type (the copy with the script is shared by
 * every path to the file). */
START_TEST(test_live_content_type)
{
	char root[PATH_MAX];
	setup_root(root, sizeof root);
	static const char page[] = "<!DOCTYPE html>\n<html><body>x</body></html>\n";
	h_write_str(root, "raw.html", page);
	h_write_str(root, "page.html", page);
	h_write_str(root, "_headers",
	            "/raw.html\n  Content-Type: text/plain; charset=utf-8\n"
	            "/page.html\n  Content-Type: text/html\n");
	static const char *const flags[] = {"--rules", "--live", NULL};
	start(root, flags);
	struct h_resp r;
	h_fetch(fx.srv.port, "GET", "/raw.html", NULL, &r);
	H_ASSERT_CODE(&r, 200);
	H_ASSERT_HEADER(&r, "Content-Type", "text/plain; charset=utf-8");
	ck_assert_str_eq(H_TEXT(&r), page);
	h_resp_free(&r);
	h_fetch(fx.srv.port, "GET", "/page.html", NULL, &r);
	H_ASSERT_CODE(&r, 200);
	H_ASSERT_HEADER(&r, "Content-Type", "text/html; charset=utf-8");
	ck_assert_uint_gt(r.body_len, sizeof page - 1);
	h_resp_free(&r);
}
END_TEST

START_TEST(test_clean_urls_shadow)
{
	char root[PATH_MAX];
	setup_root(root, sizeof root);
	h_write_str(root, "about.html", "about\n");
	h_write_str(root, "_redirects", "/about /elsewhere 302\n/contact /elsewhere 302\n");
	static const char *const flags[] = {"--rules", "--clean-urls", NULL};
	start(root, flags);
	for (int m = 0; m < 2; m++) {
		struct h_resp r;
		h_fetch(fx.srv.port, methods[m], "/about", NULL, &r);
		H_ASSERT_CODE(&r, 200);
		H_ASSERT_HEADER(&r, "Content-Length", "6");
		h_resp_free(&r);
		h_fetch(fx.srv.port, methods[m], "/contact", NULL, &r);
		H_ASSERT_CODE(&r, 302);
		H_ASSERT_HEADER(&r, "Location", "/elsewhere");
		h_resp_free(&r);
	}
}
END_TEST

Suite *
rules_site_suite(void)
{
	Suite *s = suite_create("rules_site");
	TCase *tc = tcase_create("rules");
	tcase_add_unchecked_fixture(tc, setup_rules, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_loop_test(tc, test_redirects, 0, 2 * NELEM(redirect_cases));
	tcase_add_loop_test(tc, test_serve, 0, 2 * NELEM(serve_cases));
	tcase_add_loop_test(tc, test_refused_like_direct, 0, 2 * NELEM(refusal_cases));
	tcase_add_loop_test(tc, test_headers, 0, 2);
	tcase_add_test(tc, test_content_type);
	tcase_add_test(tc, test_startup_log);
	suite_add_tcase(s, tc);
	tc = tcase_create("off");
	tcase_add_unchecked_fixture(tc, setup_plain, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_loop_test(tc, test_rules_off, 0, 2);
	suite_add_tcase(s, tc);
	tc = tcase_create("live");
	tcase_add_checked_fixture(tc, NULL, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_live_reload);
	tcase_add_test(tc, test_clean_urls_shadow);
	tcase_add_test(tc, test_live_content_type);
	tcase_add_loop_test(tc, test_log_once, 0, 3);
	tcase_add_test(tc, test_health_first);
	tcase_add_test(tc, test_dev_loads_once);
	suite_add_tcase(s, tc);
	return s;
}
