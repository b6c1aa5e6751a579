/* check_semantics.c - the HTTP semantics of issue 3 against the real binary
 * (SHS_BIN) over raw sockets, one named test per rule: validators and
 * conditional requests, ranges, OPTIONS and the framing rules, listings,
 * precompressed sidecars, --header / --cors / --cache-control, redirect
 * safety and --header validation.
 *
 * Each TCase builds its own document root under /tmp and starts the server
 * on --port 0 from an unchecked fixture (tests/harness.h), so its forked
 * tests share one server (pid and port are inherited); the teardown stops it
 * with SIGTERM and insists on exit status 0, which also catches sanitizer
 * reports under `make asan`. Requests mostly go through h_fetch(): one
 * connection with `Connection: close`, and the server must close right after
 * the response, so a body on HEAD/204/304 or a wrong Content-Length cannot
 * hide. Conditional requests and ranges are tables: one row per request,
 * with what its answer must be. */
#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "harness.h"
#include "suites.h"

/* ---- the server under test -------------------------------------------- */

static struct {
	char *base;     /* h_mkdtemp: root/ and server.log */
	char root[256]; /* base/root: the top dir */
	char log[256];  /* base/server.log: the server's stderr */
	struct h_server h;
} srv = {.h = {.pid = -1, .out_fd = -1}};

static void
make_base(void)
{
	srv.base = h_mkdtemp();
	snprintf(srv.root, sizeof srv.root, "%s/root", srv.base);
	snprintf(srv.log, sizeof srv.log, "%s/server.log", srv.base);
	h_mkdir(srv.base, "root");
}

static void
put_file(const char *rel, const void *data, size_t len)
{
	h_write_file(srv.root, rel, data, len);
}

static void
put_text(const char *rel, const char *s)
{
	h_write_str(srv.root, rel, s);
}

static void
make_dir(const char *rel)
{
	h_mkdir(srv.root, rel);
}

static void
set_mtime(const char *rel, time_t sec, long nsec)
{
	h_set_mtime(srv.root, rel, (long long)sec, nsec);
}

/* The ETag the spec prescribes: "\"<size hex>-<mtime ns hex>\"", and for a
 * sidecar its coding after that ("-gzip", "-br", "-zstd"). No inode:
 * copies of a tree give the same tags (issue 17). */
static void
expected_etag(const char *rel, char *out, size_t cap)
{
	char p[PATH_MAX + 256];
	snprintf(p, sizeof p, "%s/%s", srv.root, rel);
	struct stat st;
	ck_assert_msg(stat(p, &st) == 0, "stat %s: %s", p, strerror(errno));
	uint64_t ns = (uint64_t)st.st_mtim.tv_sec * 1000000000u + (uint64_t)st.st_mtim.tv_nsec;
	const char *dot = strrchr(rel, '.');
	const char *coding = !dot                       ? ""
	                     : strcmp(dot, ".gz") == 0  ? "-gzip"
	                     : strcmp(dot, ".br") == 0  ? "-br"
	                     : strcmp(dot, ".zst") == 0 ? "-zstd"
	                                                : "";
	snprintf(out, cap, "\"%llx-%llx%s\"", (unsigned long long)st.st_size,
	         (unsigned long long)ns, coding);
}

static void
imf_date(time_t t, char *out, size_t cap)
{
	struct tm tm;
	ck_assert(gmtime_r(&t, &tm) != NULL);
	ck_assert(strftime(out, cap, "%a, %d %b %Y %H:%M:%S GMT", &tm) > 0);
}

/* Starts SHS_BIN on the root with --port 0 and the extra flags. */
static void
server_start(const char *const *flags)
{
	char err[512];
	if (h_server_start(&srv.h, srv.root, srv.log, flags, err, sizeof err) != 0) {
		h_print_log_tail(srv.log);
		h_rmtree(srv.base);
		ck_abort_msg("starting the server: %s", err);
	}
}

/* Unchecked teardown: SIGTERM, wait (at most 10 s, scaled), demand exit
 * status 0 (under `make asan` a sanitizer report makes it non-zero). */
static void
server_stop(void)
{
	if (srv.h.pid > 0) {
		int status = h_server_stop(&srv.h, 10000);
		if (status == -1 || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
			char what[64];
			fprintf(stderr, "check_semantics: FATAL: the server of this TCase: %s\n",
			        h_describe_status(status, what, sizeof what));
			h_print_log_tail(srv.log);
			h_teardown_failed(
			    "check_semantics"); /* Check ignores unchecked teardowns */
		}
	}
	h_rmtree(srv.base);
	free(srv.base);
	srv.base = NULL;
}

/* One request on a fresh connection through the harness. */
static void
fetch(const char *method, const char *target, const char *headers, struct h_resp *r)
{
	h_fetch(srv.h.port, method, target, headers, r);
}

static void
exchange(const char *raw, size_t len, int until_close, struct h_resp *r)
{
	h_exchange(srv.h.port, raw, len, until_close, r);
}

static void
raw_request(const char *raw, struct h_resp *r)
{
	exchange(raw, strlen(raw), 0, r);
}

/* ---- validators and conditional requests ------------------------------- */

#define COND_BODY "conditional body\n"
#define T0 ((time_t)784111777) /* Sun, 06 Nov 1994 08:49:37 GMT */
#define T0_DATE "Sun, 06 Nov 1994 08:49:37 GMT"
#define T0_EARLIER "Sun, 06 Nov 1994 08:49:36 GMT"
#define T0_LATER "Sun, 06 Nov 1994 08:49:38 GMT"
#define T0_RFC850 "Sunday, 06-Nov-94 08:49:37 GMT"
#define T0_ASCTIME "Sun Nov  6 08:49:37 1994"
#define CACHE_CONTROL "max-age=60"

static void
setup_validators(void)
{
	make_base();
	put_text("cond.txt", COND_BODY);
	/* Half a second past the Last-Modified second: dates compare by seconds. */
	set_mtime("cond.txt", T0, 500000000);
	static const char *const flags[] = {"--cache-control", CACHE_CONTROL, NULL};
	server_start(flags);
}

START_TEST(etag_strong_quoted_from_size_mtime_ns)
{
	struct h_resp r;
	fetch("GET", "/cond.txt", NULL, &r);
	H_ASSERT_CODE(&r, 200);
	const char *etag = h_header(&r, "ETag");
	ck_assert_msg(etag != NULL, "no ETag on a file");
	size_t n = strlen(etag);
	ck_assert_msg(n >= 3 && etag[0] == '"' && etag[n - 1] == '"',
	              "ETag %s is not a quoted strong tag", etag);
	char want[96];
	expected_etag("cond.txt", want, sizeof want);
	ck_assert_str_eq(etag, want);
	ck_assert_int_eq(h_header_count(&r, "ETag"), 1);
	H_ASSERT_TEXT(&r, COND_BODY);
	h_resp_free(&r);
}
END_TEST

START_TEST(etag_changes_on_same_size_rewrite_within_a_second)
{
	struct h_resp r;
	put_text("rewrite.txt", "aaaa");
	set_mtime("rewrite.txt", T0 + 3600, 100);
	fetch("GET", "/rewrite.txt", NULL, &r);
	H_ASSERT_CODE(&r, 200);
	H_ASSERT_TEXT(&r, "aaaa");
	char etag1[96], lm1[64];
	ck_assert(h_header(&r, "ETag") && h_header(&r, "Last-Modified"));
	snprintf(etag1, sizeof etag1, "%s", h_header(&r, "ETag"));
	snprintf(lm1, sizeof lm1, "%s", h_header(&r, "Last-Modified"));
	h_resp_free(&r);

	/* Same inode (O_TRUNC), same size, same second: only the nanoseconds
	 * differ. A server may keep serving what it has cached for a bounded
	 * moment, so ask again until a deadline (3 s, scaled); a tag that
	 * ignores the nanoseconds never changes. */
	put_text("rewrite.txt", "bbbb");
	set_mtime("rewrite.txt", T0 + 3600, 200);
	uint64_t end = h_now_ms() + (uint64_t)h_ms(3000);
	int changed = 0;
	for (;;) {
		fetch("GET", "/rewrite.txt", NULL, &r);
		H_ASSERT_CODE(&r, 200);
		changed = h_header(&r, "ETag") && strcmp(h_header(&r, "ETag"), etag1) != 0;
		if (changed || h_now_ms() >= end)
			break;
		h_resp_free(&r);
		h_sleep_ms(100); /* poll interval */
	}
	ck_assert_msg(changed, "same-size rewrite in the same second kept ETag %s for %d ms", etag1,
	              h_ms(3000));
	H_ASSERT_TEXT(&r, "bbbb");
	H_ASSERT_HEADER(&r, "Last-Modified", lm1);
	char want[96];
	expected_etag("rewrite.txt", want, sizeof want);
	H_ASSERT_HEADER(&r, "ETag", want);
	h_resp_free(&r);
}
END_TEST

START_TEST(last_modified_is_imf_fixdate_of_mtime)
{
	struct h_resp r;
	char want[64];
	imf_date(T0, want, sizeof want);
	ck_assert_str_eq(want, T0_DATE);
	fetch("GET", "/cond.txt", NULL, &r);
	H_ASSERT_CODE(&r, 200);
	H_ASSERT_HEADER(&r, "Last-Modified", T0_DATE);
	h_resp_free(&r);
	fetch("HEAD", "/cond.txt", NULL, &r);
	H_ASSERT_CODE(&r, 200);
	H_ASSERT_HEADER(&r, "Last-Modified", T0_DATE);
	h_resp_free(&r);
}
END_TEST

/* What a conditional GET/HEAD of /cond.txt must answer. */
enum cond_want {
	WANT_304, /* validators, Date, Cache-Control; no Content-Length, no body */
	WANT_200, /* the whole file */
	WANT_412, /* Precondition Failed */
};

/* What the one %s of a row's header lines stands for. */
enum cond_arg {
	ARG_ETAG,   /* the file's current ETag */
	ARG_FUTURE, /* an IMF-fixdate a day from now */
};

static const struct cond_case {
	const char *name;
	const char *method;
	const char *headers; /* header lines; at most one %s (see arg) */
	enum cond_arg arg;
	enum cond_want want;
} cond_cases[] = {
    {"If-None-Match: exact tag", "GET", "If-None-Match: %s\r\n", ARG_ETAG, WANT_304},
    {"If-None-Match: W/tag (weak comparison)", "GET", "If-None-Match: W/%s\r\n", ARG_ETAG,
     WANT_304},
    {"If-None-Match: list", "GET", "If-None-Match: \"nope\", W/\"other\", %s\r\n", ARG_ETAG,
     WANT_304},
    {"If-None-Match: *", "GET", "If-None-Match: *\r\n", ARG_ETAG, WANT_304},
    {"If-None-Match without our tag", "GET", "If-None-Match: \"nope\", W/\"other\"\r\n", ARG_ETAG,
     WANT_200},
    /* A failed If-None-Match decides: If-Modified-Since is not even looked at. */
    {"If-None-Match fails, If-Modified-Since in the future", "GET",
     "If-None-Match: \"nope\"\r\nIf-Modified-Since: %s\r\n", ARG_FUTURE, WANT_200},
    {"If-None-Match fails, If-Modified-Since in 2000", "GET",
     "If-None-Match: \"nope\"\r\nIf-Modified-Since: Sat, 01 Jan 2000 00:00:00 GMT\r\n", ARG_ETAG,
     WANT_200},
    {"HEAD with If-None-Match", "HEAD", "If-None-Match: %s\r\n", ARG_ETAG, WANT_304},
    {"If-Modified-Since equal to Last-Modified", "GET", "If-Modified-Since: " T0_DATE "\r\n",
     ARG_ETAG, WANT_304},
    {"If-Modified-Since a second before the mtime", "GET", "If-Modified-Since: " T0_EARLIER "\r\n",
     ARG_ETAG, WANT_200},
    {"If-Modified-Since in RFC 850 form", "GET", "If-Modified-Since: " T0_RFC850 "\r\n", ARG_ETAG,
     WANT_304},
    {"If-Modified-Since in asctime form", "GET", "If-Modified-Since: " T0_ASCTIME "\r\n", ARG_ETAG,
     WANT_304},
    /* Compared as a date, never as a string; an unparseable one is ignored. */
    {"If-Modified-Since: garbage", "GET", "If-Modified-Since: garbage\r\n", ARG_ETAG, WANT_200},
    {"If-Modified-Since: ... UTC", "GET", "If-Modified-Since: Sun, 06 Nov 1994 08:49:37 UTC\r\n",
     ARG_ETAG, WANT_200},
    {"If-Modified-Since: ISO 8601", "GET", "If-Modified-Since: 1994-11-06T08:49:37Z\r\n", ARG_ETAG,
     WANT_200},
    {"If-Modified-Since: hour 25", "GET", "If-Modified-Since: Sun, 06 Nov 1994 25:49:37 GMT\r\n",
     ARG_ETAG, WANT_200},
    {"If-Modified-Since: empty", "GET", "If-Modified-Since: \r\n", ARG_ETAG, WANT_200},
    {"If-Match: other tag", "GET", "If-Match: \"nope\"\r\n", ARG_ETAG, WANT_412},
    /* If-Match uses the strong comparison: a weak tag never matches. */
    {"If-Match: W/ of the current tag", "GET", "If-Match: W/%s\r\n", ARG_ETAG, WANT_412},
    {"If-Match: current tag", "GET", "If-Match: %s\r\n", ARG_ETAG, WANT_200},
    {"If-Match: list with the current tag", "GET", "If-Match: \"nope\", %s\r\n", ARG_ETAG,
     WANT_200},
    {"If-Match: *", "GET", "If-Match: *\r\n", ARG_ETAG, WANT_200},
    {"If-Unmodified-Since a second before the mtime", "GET",
     "If-Unmodified-Since: " T0_EARLIER "\r\n", ARG_ETAG, WANT_412},
    {"If-Unmodified-Since equal to Last-Modified", "GET", "If-Unmodified-Since: " T0_DATE "\r\n",
     ARG_ETAG, WANT_200},
    {"If-Unmodified-Since: garbage", "GET", "If-Unmodified-Since: garbage\r\n", ARG_ETAG, WANT_200},
    {"If-Unmodified-Since: ... UTC", "GET",
     "If-Unmodified-Since: Sun, 06 Nov 1994 08:49:37 UTC\r\n", ARG_ETAG, WANT_200},
    {"If-Unmodified-Since: ISO 8601", "GET", "If-Unmodified-Since: 1994-11-06T08:49:37Z\r\n",
     ARG_ETAG, WANT_200},
    {"If-Unmodified-Since: hour 25", "GET",
     "If-Unmodified-Since: Sun, 06 Nov 1994 25:49:37 GMT\r\n", ARG_ETAG, WANT_200},
    {"If-Unmodified-Since: empty", "GET", "If-Unmodified-Since: \r\n", ARG_ETAG, WANT_200},
};

START_TEST(conditional_request)
{
	const struct cond_case *c = &cond_cases[_i];
	char etag[96], future[64], h[1024];
	expected_etag("cond.txt", etag, sizeof etag);
	imf_date(time(NULL) + 86400, future, sizeof future);
	snprintf(h, sizeof h, c->headers, c->arg == ARG_FUTURE ? future : etag);
	struct h_resp r;
	fetch(c->method, "/cond.txt", h, &r);
	const char *v;
	switch (c->want) {
	case WANT_304:
		ck_assert_msg(r.status == 304, "%s: status %d, want 304", c->name, r.status);
		v = h_header(&r, "ETag");
		ck_assert_msg(v && strcmp(v, etag) == 0, "%s: 304 ETag '%s', want '%s'", c->name, v,
		              etag);
		v = h_header(&r, "Last-Modified");
		ck_assert_msg(v && strcmp(v, T0_DATE) == 0, "%s: 304 Last-Modified '%s'", c->name,
		              v);
		ck_assert_msg(h_header(&r, "Date") != NULL, "%s: 304 without Date", c->name);
		v = h_header(&r, "Cache-Control");
		ck_assert_msg(v && strcmp(v, CACHE_CONTROL) == 0, "%s: 304 Cache-Control '%s'",
		              c->name, v);
		ck_assert_msg(h_header(&r, "Content-Length") == NULL,
		              "%s: 304 with Content-Length %s", c->name,
		              h_header(&r, "Content-Length"));
		ck_assert_msg(r.body_len == 0, "%s: 304 with a body", c->name);
		break;
	case WANT_200:
		ck_assert_msg(r.status == 200, "%s: status %d, want 200", c->name, r.status);
		ck_assert_msg(r.body_len == strlen(COND_BODY) && strcmp(H_TEXT(&r), COND_BODY) == 0,
		              "%s: body '%s'", c->name, H_TEXT(&r));
		break;
	case WANT_412:
		ck_assert_msg(r.status == 412, "%s: status %d, want 412", c->name, r.status);
		break;
	}
	h_resp_free(&r);
}
END_TEST

/* ---- ranges ------------------------------------------------------------ */

#define ALPHA "abcdefghijklmnopqrstuvwxyz" /* alpha.txt, 26 bytes */
#define ALPHA_TYPE "text/plain; charset=utf-8"
#define HUNDRED                                                                                    \
	"0123456789012345678901234567890123456789012345678901234567890123456789"                   \
	"012345678901234567890123456789" /* hundred.txt, 100 bytes */
#define BIG_SIZE 5368709120ULL           /* big.bin: 5 GiB, sparse */
#define MARK_OFF 4294967396ULL           /* 4 GiB + 100 */
#define MARKER "MARKER-4GiB+100!"        /* 16 bytes */

static void
setup_ranges(void)
{
	make_base();
	put_text("alpha.txt", ALPHA);
	set_mtime("alpha.txt", T0, 250000000);
	put_text("empty.txt", "");
	put_file("hundred.txt", HUNDRED, 100);

	char p[PATH_MAX + 16];
	snprintf(p, sizeof p, "%s/big.bin", srv.root);
	FILE *f = fopen(p, "we");
	ck_assert_msg(f != NULL, "fopen %s: %s", p, strerror(errno));
	ck_assert_msg(ftruncate(fileno(f), (off_t)BIG_SIZE) == 0, "ftruncate 5 GiB: %s",
	              strerror(errno));
	ck_assert(pwrite(fileno(f), MARKER, 16, (off_t)MARK_OFF) == 16);
	fclose(f);
	server_start(NULL);
}

/* What a row of range_cases must get. */
enum range_want {
	R_ALPHA_200, /* all of alpha.txt, no Content-Range */
	R_ALPHA_206, /* one part of alpha.txt: first..last */
	R_ALPHA_416, /* 416, Content-Range: bytes *\/26, not the file's bytes */
	R_PLAIN_200, /* 200, Content-Length clen, no Content-Range, body_len bytes */
	R_MULTIPART, /* multipart/byteranges of parts (of alpha.txt or hundred.txt) */
	R_RAW_206,   /* 206 with content_range, clen (if set) and the body bytes */
};

#define MAX_PARTS 16

/* Rows name only the fields their kind of answer uses. */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"
static const struct range_case {
	const char *name;
	const char *method; /* NULL: GET */
	const char *target; /* NULL: /alpha.txt */
	const char *range;  /* the Range header's value, or NULL */
	const char *more;   /* more header lines; a %s is alpha.txt's ETag */
	enum range_want want;
	unsigned first, last;                   /* R_ALPHA_206 */
	const char *clen;                       /* R_PLAIN_200, R_RAW_206 */
	size_t body_len;                        /* R_PLAIN_200, R_RAW_206 */
	const char *content_range;              /* R_RAW_206 */
	const char *body;                       /* R_RAW_206 (body_len bytes) */
	const char *check_header, *check_value; /* one more header that must be there */
	size_t nparts;                          /* R_MULTIPART */
	unsigned parts[MAX_PARTS][2];
} range_cases[] = {
    {"plain GET", NULL, NULL, NULL, NULL, R_ALPHA_200, .check_header = "Accept-Ranges",
     .check_value = "bytes"},
    {"bytes=0-4", NULL, NULL, "bytes=0-4", NULL, R_ALPHA_206, 0, 4},
    {"bytes=5-", NULL, NULL, "bytes=5-", NULL, R_ALPHA_206, 5, 25},
    {"bytes=-3", NULL, NULL, "bytes=-3", NULL, R_ALPHA_206, 23, 25},
    {"bytes=20-1000 (end past EOF, clamped)", NULL, NULL, "bytes=20-1000", NULL, R_ALPHA_206, 20,
     25},
    {"bytes=-100 (suffix longer than the file)", NULL, NULL, "bytes=-100", NULL, R_ALPHA_206, 0,
     25},
    {"bytes=26-", NULL, NULL, "bytes=26-", NULL, R_ALPHA_416},
    {"bytes=26-30", NULL, NULL, "bytes=26-30", NULL, R_ALPHA_416},
    {"bytes=1000-2000", NULL, NULL, "bytes=1000-2000", NULL, R_ALPHA_416},
    {"bytes=-0", NULL, NULL, "bytes=-0", NULL, R_ALPHA_416},
    /* Malformed or an unknown unit: ignored. */
    {"bytes=5-2", NULL, NULL, "bytes=5-2", NULL, R_ALPHA_200},
    {"bytes=abc", NULL, NULL, "bytes=abc", NULL, R_ALPHA_200},
    {"items=0-1", NULL, NULL, "items=0-1", NULL, R_ALPHA_200},
    {"bytes=", NULL, NULL, "bytes=", NULL, R_ALPHA_200},
    {"bytes=1-2-3", NULL, NULL, "bytes=1-2-3", NULL, R_ALPHA_200},
    {"Range on HEAD is ignored", "HEAD", NULL, "bytes=0-4", NULL, R_PLAIN_200, .clen = "26",
     .body_len = 0},
    /* A zero-length file: 200 and nothing, whatever the range. */
    {"bytes=0-0 on an empty file", NULL, "/empty.txt", "bytes=0-0", NULL, R_PLAIN_200, .clen = "0"},
    {"bytes=0- on an empty file", NULL, "/empty.txt", "bytes=0-", NULL, R_PLAIN_200, .clen = "0"},
    {"bytes=-5 on an empty file", NULL, "/empty.txt", "bytes=-5", NULL, R_PLAIN_200, .clen = "0"},
    {"bytes=0-10 on an empty file", NULL, "/empty.txt", "bytes=0-10", NULL, R_PLAIN_200,
     .clen = "0"},
    {"two ranges: multipart/byteranges", NULL, NULL, "bytes=0-2,10-12", NULL, R_MULTIPART,
     .nparts = 2, .parts = {{0, 2}, {10, 12}}},
    {"multipart parts sorted", NULL, NULL, "bytes=-6,0-1", NULL, R_MULTIPART, .nparts = 2,
     .parts = {{0, 1}, {20, 25}}},
    /* Overlapping or adjacent ranges merge into one part. */
    {"bytes=0-5,3-8", NULL, NULL, "bytes=0-5,3-8", NULL, R_ALPHA_206, 0, 8},
    {"bytes=3-8,0-5", NULL, NULL, "bytes=3-8,0-5", NULL, R_ALPHA_206, 0, 8},
    {"bytes=0-2,3-8 (adjacent)", NULL, NULL, "bytes=0-2,3-8", NULL, R_ALPHA_206, 0, 8},
    {"bytes=2-4,0-10,5-6", NULL, NULL, "bytes=2-4,0-10,5-6", NULL, R_ALPHA_206, 0, 10},
    {"17 ranges: the whole file", NULL, "/hundred.txt",
     "bytes=0-0,2-2,4-4,6-6,8-8,10-10,12-12,14-14,16-16,18-18,20-20,22-22,24-24,26-26,28-28,"
     "30-30,32-32",
     NULL, R_PLAIN_200, .clen = "100", .body_len = 100},
    {"16 ranges: still multipart", NULL, "/hundred.txt",
     "bytes=0-0,2-2,4-4,6-6,8-8,10-10,12-12,14-14,16-16,18-18,20-20,22-22,24-24,26-26,28-28,"
     "30-30",
     NULL, R_MULTIPART, .nparts = 16,
     .parts = {{0, 0},
               {2, 2},
               {4, 4},
               {6, 6},
               {8, 8},
               {10, 10},
               {12, 12},
               {14, 14},
               {16, 16},
               {18, 18},
               {20, 20},
               {22, 22},
               {24, 24},
               {26, 26},
               {28, 28},
               {30, 30}}},
    {"If-Range with the current ETag", NULL, NULL, "bytes=0-4", "If-Range: %s\r\n", R_ALPHA_206, 0,
     4},
    {"If-Range with an old ETag", NULL, NULL, "bytes=0-4", "If-Range: \"1-2-3\"\r\n", R_ALPHA_200},
    /* If-Range needs the strong comparison: a weak tag never matches. */
    {"If-Range with W/ of the current ETag", NULL, NULL, "bytes=0-4", "If-Range: W/%s\r\n",
     R_ALPHA_200},
    {"If-Range with the Last-Modified date", NULL, NULL, "bytes=0-4", "If-Range: " T0_DATE "\r\n",
     R_ALPHA_206, 0, 4},
    {"If-Range a second after Last-Modified", NULL, NULL, "bytes=0-4", "If-Range: " T0_LATER "\r\n",
     R_ALPHA_200},
    {"If-Range a second before Last-Modified", NULL, NULL, "bytes=0-4",
     "If-Range: " T0_EARLIER "\r\n", R_ALPHA_200},
    {"16 bytes beyond 4 GiB", NULL, "/big.bin", "bytes=4294967396-4294967411", NULL, R_RAW_206,
     .clen = "16", .body_len = 16, .content_range = "bytes 4294967396-4294967411/5368709120",
     .body = MARKER},
    {"the last 16 bytes of 5 GiB", NULL, "/big.bin", "bytes=-16", NULL, R_RAW_206, .body_len = 16,
     .content_range = "bytes 5368709104-5368709119/5368709120",
     .body = "\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0"},
    {"HEAD of 5 GiB", "HEAD", "/big.bin", NULL, NULL, R_PLAIN_200, .clen = "5368709120",
     .body_len = 0},
};
#pragma GCC diagnostic pop

/* The boundary from "multipart/byteranges; boundary=B". */
static void
boundary_of(const struct h_resp *r, char *out, size_t cap)
{
	const char *ct = h_header(r, "Content-Type");
	ck_assert_msg(ct != NULL, "multipart 206 without Content-Type");
	ck_assert_msg(strncasecmp(ct, "multipart/byteranges", 20) == 0,
	              "Content-Type '%s', want multipart/byteranges", ct);
	const char *b = strstr(ct, "boundary=");
	ck_assert_msg(b != NULL, "no boundary in '%s'", ct);
	b += 9;
	size_t n = strcspn(b, "; \t");
	if (*b == '"') {
		b++;
		n = strcspn(b, "\"");
	}
	ck_assert(n > 0 && n < cap);
	memcpy(out, b, n);
	out[n] = '\0';
	ck_assert_msg(n == 20 && strncmp(out, "shs-", 4) == 0 &&
	                  strspn(out + 4, "0123456789abcdefABCDEF") == 16,
	              "boundary '%s' is not shs-<16 hex>", out);
}

/* The multipart body the spec prescribes for parts of data (size bytes). */
static size_t
multipart_body(char *dst, size_t cap, const char *boundary, const char *type, const char *data,
               unsigned size, const unsigned (*parts)[2], size_t n)
{
	size_t w = 0;
	for (size_t i = 0; i < n; i++) {
		int k = snprintf(
		    dst + w, cap - w,
		    "\r\n--%s\r\nContent-Type: %s\r\nContent-Range: bytes %u-%u/%u\r\n\r\n",
		    boundary, type, parts[i][0], parts[i][1], size);
		ck_assert(k > 0 && (size_t)k < cap - w);
		w += (size_t)k;
		size_t len = parts[i][1] - parts[i][0] + 1;
		ck_assert(len < cap - w);
		memcpy(dst + w, data + parts[i][0], len);
		w += len;
	}
	int k = snprintf(dst + w, cap - w, "\r\n--%s--\r\n", boundary);
	ck_assert(k > 0 && (size_t)k < cap - w);
	return w + (size_t)k;
}

START_TEST(range_request)
{
	const struct range_case *c = &range_cases[_i];
	const char *target = c->target ? c->target : "/alpha.txt";
	char etag[96], more[256], h[1024];
	expected_etag("alpha.txt", etag, sizeof etag);
	snprintf(more, sizeof more, c->more ? c->more : "", etag);
	if (c->range)
		snprintf(h, sizeof h, "Range: %s\r\n%s", c->range, more);
	else
		snprintf(h, sizeof h, "%s", more);
	struct h_resp r;
	fetch(c->method ? c->method : "GET", target, h, &r);
	const char *v;
	char want[8192];
	switch (c->want) {
	case R_ALPHA_200:
		ck_assert_msg(r.status == 200, "%s: status %d, want 200", c->name, r.status);
		ck_assert_msg(h_header(&r, "Content-Range") == NULL,
		              "%s: 200 with Content-Range %s", c->name,
		              h_header(&r, "Content-Range"));
		v = h_header(&r, "Content-Length");
		ck_assert_msg(v && strcmp(v, "26") == 0, "%s: Content-Length '%s'", c->name, v);
		ck_assert_msg(r.body_len == 26 && memcmp(r.body, ALPHA, 26) == 0, "%s: body '%s'",
		              c->name, H_TEXT(&r));
		break;
	case R_ALPHA_206: {
		unsigned first = c->first, last = c->last;
		char cr[64], clen[32];
		ck_assert_msg(r.status == 206, "%s: status %d, want 206", c->name, r.status);
		snprintf(cr, sizeof cr, "bytes %u-%u/26", first, last);
		snprintf(clen, sizeof clen, "%u", last - first + 1);
		v = h_header(&r, "Content-Range");
		ck_assert_msg(v && strcmp(v, cr) == 0, "%s: Content-Range '%s', want '%s'", c->name,
		              v, cr);
		v = h_header(&r, "Content-Length");
		ck_assert_msg(v && strcmp(v, clen) == 0, "%s: Content-Length '%s', want %s",
		              c->name, v, clen);
		v = h_header(&r, "Content-Type");
		ck_assert_msg(v && strcmp(v, ALPHA_TYPE) == 0, "%s: Content-Type '%s'", c->name, v);
		ck_assert_msg(r.body_len == last - first + 1 &&
		                  memcmp(r.body, ALPHA + first, last - first + 1) == 0,
		              "%s: body '%s', want '%.*s'", c->name, H_TEXT(&r),
		              (int)(last - first + 1), ALPHA + first);
		ck_assert_msg(h_header(&r, "ETag") && h_header(&r, "Last-Modified"),
		              "%s: 206 without validators", c->name);
		break;
	}
	case R_ALPHA_416:
		ck_assert_msg(r.status == 416, "%s: status %d, want 416", c->name, r.status);
		H_ASSERT_HEADER(&r, "Content-Range", "bytes */26");
		ck_assert_msg(strstr(H_TEXT(&r), ALPHA) == NULL, "%s: 416 carries the file's bytes",
		              c->name);
		break;
	case R_PLAIN_200:
		ck_assert_msg(r.status == 200, "%s: status %d, want 200", c->name, r.status);
		H_ASSERT_HEADER(&r, "Content-Length", c->clen);
		H_ASSERT_NO_HEADER(&r, "Content-Range");
		ck_assert_msg(r.body_len == c->body_len, "%s: %zu body bytes, want %zu", c->name,
		              r.body_len, c->body_len);
		break;
	case R_MULTIPART: {
		int hundred = strcmp(target, "/hundred.txt") == 0;
		char boundary[128], clen[32];
		H_ASSERT_CODE(&r, 206);
		H_ASSERT_NO_HEADER(&r, "Content-Range");
		boundary_of(&r, boundary, sizeof boundary);
		size_t len = multipart_body(want, sizeof want, boundary, ALPHA_TYPE,
		                            hundred ? HUNDRED : ALPHA, hundred ? 100 : 26,
		                            (const unsigned(*)[2])c->parts, c->nparts);
		snprintf(clen, sizeof clen, "%zu", len);
		H_ASSERT_HEADER(&r, "Content-Length", clen);
		H_ASSERT_BODY(&r, want, len);
		break;
	}
	case R_RAW_206:
		H_ASSERT_CODE(&r, 206);
		H_ASSERT_HEADER(&r, "Content-Range", c->content_range);
		if (c->clen)
			H_ASSERT_HEADER(&r, "Content-Length", c->clen);
		H_ASSERT_BODY(&r, c->body, c->body_len);
		break;
	}
	if (c->check_header)
		H_ASSERT_HEADER(&r, c->check_header, c->check_value);
	h_resp_free(&r);
}
END_TEST

/* ---- methods, versions, framing, redirects ----------------------------- */

#define INDEX_BODY "<h1>home</h1>\n"
#define FILE_BODY "file body\n"
#define CRLF_DIR "d\r\nX-Inj: 1"

static void
setup_methods(void)
{
	make_base();
	put_text("index.html", INDEX_BODY);
	put_text("file.txt", FILE_BODY);
	make_dir("noindex");
	put_text("noindex/a.txt", "a\n");
	make_dir("evil.example");
	make_dir("evil.example/dir");
	make_dir("\\evil");
	make_dir(CRLF_DIR);
	server_start(NULL);
}

static void
check_options_204(const struct h_resp *r)
{
	H_ASSERT_CODE(r, 204);
	H_ASSERT_HEADER(r, "Allow", "GET, HEAD, OPTIONS");
	H_ASSERT_NO_HEADER(r, "Content-Length");
	ck_assert_uint_eq(r->body_len, 0);
}

START_TEST(options_path_204_allow)
{
	struct h_resp r;
	fetch("OPTIONS", "/", NULL, &r);
	check_options_204(&r);
	h_resp_free(&r);
	fetch("OPTIONS", "/file.txt", NULL, &r);
	check_options_204(&r);
	h_resp_free(&r);
}
END_TEST

START_TEST(options_star_204_allow)
{
	struct h_resp r;
	fetch("OPTIONS", "*", NULL, &r);
	check_options_204(&r);
	h_resp_free(&r);
}
END_TEST

START_TEST(post_405_allow)
{
	struct h_resp r;
	fetch("POST", "/file.txt", "Content-Length: 0\r\n", &r);
	H_ASSERT_CODE(&r, 405);
	H_ASSERT_HEADER(&r, "Allow", "GET, HEAD, OPTIONS");
	h_resp_free(&r);
	fetch("DELETE", "/file.txt", NULL, &r);
	H_ASSERT_CODE(&r, 405);
	H_ASSERT_HEADER(&r, "Allow", "GET, HEAD, OPTIONS");
	h_resp_free(&r);
}
END_TEST

START_TEST(unknown_method_501)
{
	struct h_resp r;
	fetch("FOO", "/file.txt", NULL, &r);
	H_ASSERT_CODE(&r, 501);
	h_resp_free(&r);
}
END_TEST

START_TEST(http11_without_host_400)
{
	struct h_resp r;
	raw_request("GET /file.txt HTTP/1.1\r\nConnection: close\r\n\r\n", &r);
	H_ASSERT_CODE(&r, 400);
	h_resp_free(&r);
}
END_TEST

/* The contrast: HTTP/1.0 has no Host requirement. */
START_TEST(http10_without_host_200)
{
	struct h_resp r;
	raw_request("GET /file.txt HTTP/1.0\r\n\r\n", &r);
	H_ASSERT_CODE(&r, 200);
	H_ASSERT_TEXT(&r, FILE_BODY);
	h_resp_free(&r);
}
END_TEST

START_TEST(two_host_headers_400)
{
	struct h_resp r;
	raw_request("GET /file.txt HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", &r);
	H_ASSERT_CODE(&r, 400);
	h_resp_free(&r);
}
END_TEST

START_TEST(absolute_form_target_200)
{
	struct h_resp r;
	raw_request("GET http://anything/file.txt HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n",
	            &r);
	H_ASSERT_CODE(&r, 200);
	H_ASSERT_TEXT(&r, FILE_BODY);
	h_resp_free(&r);
}
END_TEST

START_TEST(bare_lf_request_200)
{
	struct h_resp r;
	raw_request("GET / HTTP/1.1\nHost: a\n\n", &r);
	H_ASSERT_CODE(&r, 200);
	H_ASSERT_TEXT(&r, INDEX_BODY);
	h_resp_free(&r);
}
END_TEST

START_TEST(obs_fold_400)
{
	struct h_resp r;
	raw_request("GET /file.txt HTTP/1.1\r\nHost: a\r\nX-Foo: a\r\n b\r\n\r\n", &r);
	H_ASSERT_CODE(&r, 400);
	h_resp_free(&r);
}
END_TEST

START_TEST(nul_in_header_value_400)
{
	static const char req[] = "GET /file.txt HTTP/1.1\r\nHost: a\r\nX-Foo: a\0b\r\n\r\n";
	struct h_resp r;
	exchange(req, sizeof req - 1, 0, &r);
	H_ASSERT_CODE(&r, 400);
	h_resp_free(&r);
}
END_TEST

START_TEST(lone_cr_in_header_value_400)
{
	struct h_resp r;
	raw_request("GET /file.txt HTTP/1.1\r\nHost: a\r\nX-Foo: a\rb\r\n\r\n", &r);
	H_ASSERT_CODE(&r, 400);
	h_resp_free(&r);
}
END_TEST

START_TEST(space_before_colon_400)
{
	struct h_resp r;
	raw_request("GET /file.txt HTTP/1.1\r\nHost: a\r\nX-Foo : bar\r\n\r\n", &r);
	H_ASSERT_CODE(&r, 400);
	h_resp_free(&r);
}
END_TEST

/* The body is never sent: the final answer must come at once, without a
 * 100 Continue, and the server must then close rather than wait for it. */
START_TEST(expect_100_continue_final_answer_then_close)
{
	static const char req[] = "GET /file.txt HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\n"
	                          "Content-Length: 10\r\n\r\n";
	struct h_resp r;
	exchange(req, sizeof req - 1, 1, &r);
	H_ASSERT_CODE(&r, 200);
	H_ASSERT_TEXT(&r, FILE_BODY);
	H_ASSERT_HEADER(&r, "Connection", "close");
	h_resp_free(&r);
}
END_TEST

START_TEST(listing_off_by_default_404)
{
	struct h_resp r;
	fetch("GET", "/noindex/", NULL, &r);
	H_ASSERT_CODE(&r, 404);
	h_resp_free(&r);
}
END_TEST

static const char *const evil_targets[] = {
    "//evil.example/dir",  "///evil.example/dir",        "/%2Fevil.example/dir",
    "/./evil.example/dir", "http://a//evil.example/dir",
};

/* A Location starting with "//" is a link to another site. */
START_TEST(redirect_never_protocol_relative)
{
	struct h_resp r;
	fetch("GET", evil_targets[_i], NULL, &r);
	ck_assert_msg(r.status == 301, "%s: status %d, want 301", evil_targets[_i], r.status);
	const char *loc = h_header(&r, "Location");
	ck_assert_msg(loc != NULL, "301 without Location");
	ck_assert_msg(strncmp(loc, "//", 2) != 0, "%s: Location %s leaves the site",
	              evil_targets[_i], loc);
	H_ASSERT_HEADER(&r, "Location", "/evil.example/dir/");
	h_resp_free(&r);
}
END_TEST

/* Browsers read "/\evil" as "//evil": a backslash stays encoded. */
START_TEST(redirect_backslash_stays_encoded)
{
	struct h_resp r;
	fetch("GET", "/%5Cevil", NULL, &r);
	H_ASSERT_CODE(&r, 301);
	H_ASSERT_HEADER(&r, "Location", "/%5Cevil/");
	h_resp_free(&r);
}
END_TEST

START_TEST(redirect_location_has_no_cr_lf)
{
	struct h_resp r;
	fetch("GET", "/d%0D%0AX-Inj:%201", NULL, &r);
	H_ASSERT_CODE(&r, 301);
	H_ASSERT_HEADER(&r, "Location", "/d%0D%0AX-Inj:%201/");
	H_ASSERT_NO_HEADER(&r, "X-Inj");
	h_resp_free(&r);
}
END_TEST

/* ---- --header and --cache-control -------------------------------------- */

static void
setup_headers(void)
{
	make_base();
	put_text("h.txt", ALPHA);
	make_dir("d");
	static const char *const flags[] = {"--header", "X-Extra: yes", "--cache-control",
	                                    CACHE_CONTROL, NULL};
	server_start(flags);
}

START_TEST(extra_header_on_every_response)
{
	static const struct {
		const char *method, *target, *headers;
		int status;
	} cases[] = {
	    {"GET", "/h.txt", NULL, 200},
	    {"GET", "/missing.txt", NULL, 404},
	    {"GET", "/h.txt", "Range: bytes=0-1\r\n", 206},
	    {"GET", "/h.txt", "If-None-Match: *\r\n", 304},
	    {"GET", "/d", NULL, 301},
	    {"POST", "/h.txt", "Content-Length: 0\r\n", 405},
	    {"OPTIONS", "*", NULL, 204},
	};
	struct h_resp r;
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		fetch(cases[i].method, cases[i].target, cases[i].headers, &r);
		H_ASSERT_CODE(&r, cases[i].status);
		H_ASSERT_HEADER(&r, "X-Extra", "yes");
		ck_assert_int_eq(h_header_count(&r, "X-Extra"), 1);
		h_resp_free(&r);
	}
	raw_request("GET /h.txt HTTP/1.1\r\n\r\n", &r);
	H_ASSERT_CODE(&r, 400);
	H_ASSERT_HEADER(&r, "X-Extra", "yes");
	h_resp_free(&r);
}
END_TEST

START_TEST(cache_control_on_200_206_304)
{
	static const struct {
		const char *headers;
		int status;
	} cases[] = {
	    {NULL, 200},
	    {"Range: bytes=0-1\r\n", 206},
	    {"If-None-Match: *\r\n", 304},
	};
	struct h_resp r;
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		fetch("GET", "/h.txt", cases[i].headers, &r);
		H_ASSERT_CODE(&r, cases[i].status);
		H_ASSERT_HEADER(&r, "Cache-Control", CACHE_CONTROL);
		ck_assert_int_eq(h_header_count(&r, "Cache-Control"), 1);
		h_resp_free(&r);
	}
}
END_TEST

/* ---- --cors ------------------------------------------------------------ */

static void
setup_cors(void)
{
	make_base();
	put_text("c.txt", ALPHA);
	make_dir("d");
	static const char *const flags[] = {"--cors", NULL};
	server_start(flags);
}

START_TEST(cors_allow_origin_on_every_response)
{
	static const struct {
		const char *method, *target, *headers;
		int status;
	} cases[] = {
	    {"GET", "/c.txt", "Origin: http://o.example\r\n", 200},
	    {"HEAD", "/c.txt", NULL, 200},
	    {"GET", "/missing.txt", NULL, 404},
	    {"GET", "/c.txt", "Range: bytes=0-1\r\n", 206},
	    {"GET", "/c.txt", "If-None-Match: *\r\n", 304},
	    {"GET", "/c.txt", "Range: bytes=100-\r\n", 416},
	    {"GET", "/d", NULL, 301},
	    {"POST", "/c.txt", "Content-Length: 0\r\n", 405},
	    {"OPTIONS", "/c.txt", NULL, 204},
	};
	struct h_resp r;
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		fetch(cases[i].method, cases[i].target, cases[i].headers, &r);
		H_ASSERT_CODE(&r, cases[i].status);
		H_ASSERT_HEADER(&r, "Access-Control-Allow-Origin", "*");
		ck_assert_int_eq(h_header_count(&r, "Access-Control-Allow-Origin"), 1);
		h_resp_free(&r);
	}
	raw_request("GET /c.txt HTTP/1.1\r\n\r\n", &r);
	H_ASSERT_CODE(&r, 400);
	H_ASSERT_HEADER(&r, "Access-Control-Allow-Origin", "*");
	h_resp_free(&r);
}
END_TEST

START_TEST(cors_preflight_204)
{
	struct h_resp r;
	fetch("OPTIONS", "/c.txt",
	      "Origin: http://o.example\r\nAccess-Control-Request-Method: GET\r\n"
	      "Access-Control-Request-Headers: X-Foo\r\n",
	      &r);
	check_options_204(&r);
	H_ASSERT_HEADER(&r, "Access-Control-Allow-Origin", "*");
	const char *m = h_header(&r, "Access-Control-Allow-Methods");
	ck_assert_msg(m && strstr(m, "GET"), "Access-Control-Allow-Methods '%s'", m);
	H_ASSERT_HEADER(&r, "Access-Control-Allow-Headers", "X-Foo");
	H_ASSERT_HEADER(&r, "Access-Control-Max-Age", "86400");
	h_resp_free(&r);
}
END_TEST

/* Without Access-Control-Request-Method it is a plain OPTIONS. */
START_TEST(cors_plain_options_is_not_a_preflight)
{
	struct h_resp r;
	fetch("OPTIONS", "/c.txt", "Origin: http://o.example\r\n", &r);
	check_options_204(&r);
	H_ASSERT_NO_HEADER(&r, "Access-Control-Allow-Methods");
	H_ASSERT_NO_HEADER(&r, "Access-Control-Max-Age");
	h_resp_free(&r);
}
END_TEST

/* ---- listings ---------------------------------------------------------- */

/* Files of /list/ in byte order, with their HTML text, href and JSON name
 * (json_alt: the same name with \u escapes, which JSON also allows). */
static const struct {
	const char *name, *text, *href, *json, *json_alt;
} listed[] = {
    {"100%.txt", "100%.txt", "./100%25.txt", "\"100%.txt\"", NULL},
    {"<b>x&y\".txt", "&lt;b&gt;x&amp;y&quot;.txt", "./%3Cb%3Ex&amp;y%22.txt", "\"<b>x&y\\\".txt\"",
     "\"\\u003cb\\u003ex\\u0026y\\\".txt\""},
    {"a#b.txt", "a#b.txt", "./a%23b.txt", "\"a#b.txt\"", NULL},
    {"caf\xc3\xa9.txt", "caf\xc3\xa9.txt", "./caf%C3%A9.txt", "\"caf\xc3\xa9.txt\"",
     "\"caf\\u00e9.txt\""},
    {"q?.txt", "q?.txt", "./q%3F.txt", "\"q?.txt\"", NULL},
};
#define NLISTED (sizeof listed / sizeof listed[0])

static void
listed_content(const char *name, char *out, size_t cap)
{
	snprintf(out, cap, "file:%s\n", name);
}

static void
setup_listing(void)
{
	make_base();
	make_dir("list");
	for (size_t i = 0; i < NLISTED; i++) {
		char rel[256], body[256];
		snprintf(rel, sizeof rel, "list/%s", listed[i].name);
		listed_content(listed[i].name, body, sizeof body);
		put_text(rel, body);
	}
	make_dir("list/sub");
	put_text("list/sub/inner.txt", "inner\n");
	put_text("list/.hidden", "secret\n");
	put_text("top.txt", "top\n");
	static const char *const flags[] = {"--listing", NULL};
	server_start(flags);
}

static void
fetch_listing(const char *target, const char *headers, struct h_resp *r)
{
	fetch("GET", target, headers, r);
	H_ASSERT_CODE(r, 200);
}

START_TEST(listing_html_page)
{
	struct h_resp r;
	fetch_listing("/list/", NULL, &r);
	H_ASSERT_HEADER(&r, "Content-Type", "text/html; charset=utf-8");
	H_ASSERT_HEADER(&r, "Cache-Control", "no-cache");
	H_ASSERT_HEADER(&r, "Vary", "Accept");
	ck_assert_msg(strstr(H_TEXT(&r), "<html") != NULL, "not an HTML page: %.200s", H_TEXT(&r));
	h_resp_free(&r);
}
END_TEST

START_TEST(listing_names_html_escaped)
{
	struct h_resp r;
	fetch_listing("/list/", NULL, &r);
	for (size_t i = 0; i < NLISTED; i++) {
		char want[256];
		snprintf(want, sizeof want, ">%s<", listed[i].text);
		ck_assert_msg(strstr(H_TEXT(&r), want) != NULL, "listing lacks the text %s", want);
	}
	ck_assert_msg(strstr(H_TEXT(&r), "<b>x") == NULL, "raw <b> in the listing");
	ck_assert_msg(strstr(H_TEXT(&r), ">sub/<") || strstr(H_TEXT(&r), ">sub<"),
	              "no sub directory");
	h_resp_free(&r);
}
END_TEST

START_TEST(listing_hrefs_percent_encoded)
{
	struct h_resp r;
	fetch_listing("/list/", NULL, &r);
	for (size_t i = 0; i < NLISTED; i++) {
		char want[256];
		snprintf(want, sizeof want, "href=\"%s\"", listed[i].href);
		ck_assert_msg(strstr(H_TEXT(&r), want) != NULL, "listing lacks %s", want);
	}
	ck_assert_msg(strstr(H_TEXT(&r), "href=\"./sub/\"") != NULL,
	              "listing lacks href=\"./sub/\"");
	h_resp_free(&r);
}
END_TEST

START_TEST(listing_directories_first_then_byte_order)
{
	struct h_resp r;
	fetch_listing("/list/", NULL, &r);
	const char *prev = strstr(H_TEXT(&r), "href=\"./sub/\"");
	ck_assert_msg(prev != NULL, "no sub/ link");
	for (size_t i = 0; i < NLISTED; i++) {
		char want[256];
		snprintf(want, sizeof want, "href=\"%s\"", listed[i].href);
		const char *at = strstr(H_TEXT(&r), want);
		ck_assert_msg(at != NULL, "listing lacks %s", want);
		ck_assert_msg(at > prev, "%s is listed before the entry that precedes it", want);
		prev = at;
	}
	h_resp_free(&r);
}
END_TEST

START_TEST(listing_hides_dotfiles)
{
	struct h_resp r;
	fetch_listing("/list/", NULL, &r);
	ck_assert_msg(strstr(H_TEXT(&r), ".hidden") == NULL, "the dotfile is listed");
	h_resp_free(&r);
	fetch_listing("/list/", "Accept: application/json\r\n", &r);
	ck_assert_msg(strstr(H_TEXT(&r), ".hidden") == NULL, "the dotfile is in the JSON listing");
	h_resp_free(&r);
}
END_TEST

START_TEST(listing_parent_link_except_at_root)
{
	struct h_resp r;
	fetch_listing("/list/", NULL, &r);
	ck_assert_msg(strstr(H_TEXT(&r), "href=\"../\"") != NULL, "no ../ link in /list/");
	h_resp_free(&r);
	fetch_listing("/", NULL, &r);
	ck_assert_msg(strstr(H_TEXT(&r), "href=\"../\"") == NULL, "../ link at the root");
	ck_assert_msg(strstr(H_TEXT(&r), "href=\"./list/\"") &&
	                  strstr(H_TEXT(&r), "href=\"./top.txt\""),
	              "root listing lacks its entries");
	h_resp_free(&r);
}
END_TEST

static void
html_unescape(char *s)
{
	static const struct {
		const char *ent;
		char ch;
	} ents[] = {{"&amp;", '&'}, {"&lt;", '<'}, {"&gt;", '>'}, {"&quot;", '"'}, {"&#39;", '\''}};
	char *w = s;
	for (const char *p = s; *p;) {
		size_t i = 0;
		for (; i < sizeof ents / sizeof ents[0]; i++)
			if (strncmp(p, ents[i].ent, strlen(ents[i].ent)) == 0)
				break;
		if (i < sizeof ents / sizeof ents[0]) {
			*w++ = ents[i].ch;
			p += strlen(ents[i].ent);
		} else {
			*w++ = *p++;
		}
	}
	*w = '\0';
}

static void
pct_decode(const char *s, char *out, size_t cap)
{
	size_t w = 0;
	for (; *s && w + 1 < cap; s++) {
		unsigned v;
		if (s[0] == '%' && sscanf(s + 1, "%2x", &v) == 1) {
			out[w++] = (char)v;
			s += 2;
		} else {
			out[w++] = *s;
		}
	}
	out[w] = '\0';
}

/* Every link on the page, followed as a browser would, opens its entry. */
START_TEST(listing_every_link_opens_its_file)
{
	struct h_resp page;
	fetch_listing("/list/", NULL, &page);
	size_t entries = 0;
	for (const char *p = H_TEXT(&page); (p = strstr(p, "href=\"")) != NULL;) {
		p += 6;
		const char *q = strchr(p, '"');
		ck_assert(q != NULL && (size_t)(q - p) < 512);
		char href[512], target[600];
		memcpy(href, p, (size_t)(q - p));
		href[q - p] = '\0';
		p = q + 1;
		html_unescape(href);
		struct h_resp r;
		if (strcmp(href, "../") == 0) {
			fetch("GET", "/list/../", NULL, &r);
			ck_assert_msg(r.status == 200, "../ gave %d", r.status);
			h_resp_free(&r);
			continue;
		}
		ck_assert_msg(strncmp(href, "./", 2) == 0, "unexpected link '%s'", href);
		snprintf(target, sizeof target, "/list/%s", href + 2);
		fetch("GET", target, NULL, &r);
		ck_assert_msg(r.status == 200, "link %s (GET %s) gave %d", href, target, r.status);
		size_t n = strlen(href);
		if (href[n - 1] == '/') {
			H_ASSERT_HEADER(&r, "Content-Type", "text/html; charset=utf-8");
		} else {
			char name[512], want[600];
			pct_decode(href + 2, name, sizeof name);
			listed_content(name, want, sizeof want);
			ck_assert_msg(strcmp(H_TEXT(&r), want) == 0, "GET %s: body '%s', want '%s'",
			              target, H_TEXT(&r), want);
		}
		h_resp_free(&r);
		entries++;
	}
	ck_assert_uint_eq(entries, NLISTED + 1);
	h_resp_free(&page);
}
END_TEST

/* Is there a member "key": value (whitespace allowed around the colon)? */
static const char *
json_member(const char *body, const char *key, const char *value)
{
	char k[128];
	snprintf(k, sizeof k, "\"%s\"", key);
	for (const char *p = body; (p = strstr(p, k)) != NULL;) {
		p += strlen(k);
		const char *v = p + strspn(p, " \t\r\n");
		if (*v != ':')
			continue;
		v++;
		v += strspn(v, " \t\r\n");
		if (strncmp(v, value, strlen(value)) == 0)
			return v;
	}
	return NULL;
}

START_TEST(listing_json)
{
	struct h_resp r;
	fetch_listing("/list/", "Accept: application/json\r\n", &r);
	const char *ct = h_header(&r, "Content-Type");
	ck_assert_msg(ct && strncmp(ct, "application/json", 16) == 0, "Content-Type '%s'", ct);
	const char *b = H_TEXT(&r) + strspn(H_TEXT(&r), " \t\r\n");
	size_t n = strlen(b);
	while (n > 0 && strchr(" \t\r\n", b[n - 1]))
		n--;
	ck_assert_msg(n >= 2 && b[0] == '[' && b[n - 1] == ']', "not a JSON array: %.200s", b);
	for (size_t i = 0; i < NLISTED; i++)
		ck_assert_msg(
		    json_member(b, "name", listed[i].json) ||
		        (listed[i].json_alt && json_member(b, "name", listed[i].json_alt)),
		    "JSON listing lacks \"name\": %s", listed[i].json);
	const char *sub = json_member(b, "name", "\"sub\"");
	ck_assert_msg(sub != NULL, "JSON listing lacks sub");
	const char *end = strchr(sub, '}');
	const char *type = json_member(sub, "type", "\"directory\"");
	ck_assert_msg(type && end && type < end, "sub is not \"type\": \"directory\"");
	const char *file = json_member(b, "name", "\"a#b.txt\"");
	end = file ? strchr(file, '}') : NULL;
	type = file ? json_member(file, "type", "\"file\"") : NULL;
	ck_assert_msg(type && end && type < end, "a#b.txt is not \"type\": \"file\"");
	h_resp_free(&r);
}
END_TEST

/* ---- precompressed sidecars -------------------------------------------- */

#define X_PLAIN "plain text of x, not compressed\n"
#define X_GZ "\x1f\x8b pretend gzip of x.txt"
#define Y_PLAIN "plain text of y\n"
#define Y_GZ "\x1f\x8b pretend gzip of y.txt"
#define Y_BR "pretend brotli of y.txt"
#define S_PLAIN "plain text of s\n"
#define S_GZ "\x1f\x8b stale gzip of s.txt"

static void
put_sidecars(void)
{
	put_text("x.txt", X_PLAIN);
	set_mtime("x.txt", T0, 0);
	put_text("x.txt.gz", X_GZ);
	set_mtime("x.txt.gz", T0 + 10, 0);
	put_text("y.txt", Y_PLAIN);
	set_mtime("y.txt", T0, 0);
	put_text("y.txt.gz", Y_GZ);
	set_mtime("y.txt.gz", T0, 0); /* as new as y.txt: fresh */
	put_text("y.txt.br", Y_BR);
	set_mtime("y.txt.br", T0, 0);
	put_text("s.txt", S_PLAIN);
	set_mtime("s.txt", T0, 0);
	put_text("s.txt.gz", S_GZ);
	set_mtime("s.txt.gz", T0 - 10, 0);
	put_text("n.txt", S_PLAIN);
	set_mtime("n.txt", T0, 500);
	put_text("n.txt.gz", S_GZ);
	set_mtime("n.txt.gz", T0, 400); /* older by 100 ns: stale too */
}

static void
setup_precompressed(void)
{
	make_base();
	put_sidecars();
	server_start(NULL);
}

static void
setup_no_precompressed(void)
{
	make_base();
	put_sidecars();
	static const char *const flags[] = {"--no-precompressed", NULL};
	server_start(flags);
}

static void
check_identity(const struct h_resp *r, const char *body, const char *what)
{
	ck_assert_msg(r->status == 200, "%s: status %d", what, r->status);
	ck_assert_msg(h_header(r, "Content-Encoding") == NULL, "%s: Content-Encoding %s", what,
	              h_header(r, "Content-Encoding"));
	ck_assert_msg(strcmp(H_TEXT(r), body) == 0, "%s: body '%s'", what, H_TEXT(r));
	const char *v = h_header(r, "Content-Type");
	ck_assert_msg(v && strcmp(v, "text/plain; charset=utf-8") == 0, "%s: Content-Type '%s'",
	              what, v);
}

START_TEST(precompressed_gzip_served)
{
	struct h_resp r;
	char etag_x[96], etag_gz[96], clen[32];
	expected_etag("x.txt", etag_x, sizeof etag_x);
	expected_etag("x.txt.gz", etag_gz, sizeof etag_gz);
	fetch("GET", "/x.txt", "Accept-Encoding: gzip\r\n", &r);
	H_ASSERT_CODE(&r, 200);
	H_ASSERT_HEADER(&r, "Content-Encoding", "gzip");
	H_ASSERT_HEADER(&r, "Content-Type", "text/plain; charset=utf-8");
	snprintf(clen, sizeof clen, "%zu", strlen(X_GZ));
	H_ASSERT_HEADER(&r, "Content-Length", clen);
	H_ASSERT_TEXT(&r, X_GZ);
	H_ASSERT_HEADER(&r, "Vary", "Accept-Encoding");
	const char *etag = h_header(&r, "ETag");
	ck_assert_msg(etag && strcmp(etag, etag_x) != 0, "gzip variant has x.txt's ETag %s",
	              etag_x);
	H_ASSERT_HEADER(&r, "ETag", etag_gz);
	h_resp_free(&r);
}
END_TEST

static const char *const refused_gzip[] = {"gzip;q=0", "gzip; q=0.000", "gzip;q=0, identity"};

START_TEST(precompressed_q0_means_no)
{
	struct h_resp r;
	char h[128];
	snprintf(h, sizeof h, "Accept-Encoding: %s\r\n", refused_gzip[_i]);
	fetch("GET", "/x.txt", h, &r);
	check_identity(&r, X_PLAIN, refused_gzip[_i]);
	H_ASSERT_HEADER(&r, "Vary", "Accept-Encoding");
	h_resp_free(&r);
}
END_TEST

START_TEST(precompressed_identity_without_accept_encoding_still_varies)
{
	struct h_resp r;
	char etag[96];
	expected_etag("x.txt", etag, sizeof etag);
	fetch("GET", "/x.txt", NULL, &r);
	check_identity(&r, X_PLAIN, "no Accept-Encoding");
	H_ASSERT_HEADER(&r, "Vary", "Accept-Encoding");
	H_ASSERT_HEADER(&r, "ETag", etag);
	h_resp_free(&r);
}
END_TEST

START_TEST(precompressed_br_preferred_on_equal_q)
{
	struct h_resp r;
	fetch("GET", "/y.txt", "Accept-Encoding: gzip, br\r\n", &r);
	H_ASSERT_CODE(&r, 200);
	H_ASSERT_HEADER(&r, "Content-Encoding", "br");
	H_ASSERT_TEXT(&r, Y_BR);
	h_resp_free(&r);
	/* A higher q-value wins over the tie order. */
	fetch("GET", "/y.txt", "Accept-Encoding: br;q=0.5, gzip\r\n", &r);
	H_ASSERT_CODE(&r, 200);
	H_ASSERT_HEADER(&r, "Content-Encoding", "gzip");
	H_ASSERT_TEXT(&r, Y_GZ);
	h_resp_free(&r);
}
END_TEST

START_TEST(precompressed_stale_never_served)
{
	struct h_resp r;
	fetch("GET", "/s.txt", "Accept-Encoding: gzip\r\n", &r);
	check_identity(&r, S_PLAIN, "sidecar 10 s older");
	h_resp_free(&r);
	fetch("GET", "/n.txt", "Accept-Encoding: gzip\r\n", &r);
	check_identity(&r, S_PLAIN, "sidecar 100 ns older");
	h_resp_free(&r);
}
END_TEST

START_TEST(no_precompressed_never_served_no_vary)
{
	struct h_resp r;
	fetch("GET", "/x.txt", "Accept-Encoding: gzip, br\r\n", &r);
	check_identity(&r, X_PLAIN, "--no-precompressed");
	H_ASSERT_NO_HEADER(&r, "Vary");
	h_resp_free(&r);
}
END_TEST

/* ---- command line ------------------------------------------------------- */

static const char *const bad_header_flags[] = {
    "NoColonHere", "X: a\rb", "Content-Length: 1",          "X: a\nb",
    "Bad Name: v", ": v",     "Transfer-Encoding: chunked",
};

START_TEST(cli_invalid_header_exit_2)
{
	char *dir = h_mkdtemp();
	const char *args[] = {"--top-dir",          dir, "--port", "0", "--header",
	                      bad_header_flags[_i], NULL};
	struct h_run r;
	int rc = h_run_ex(NULL, args, NULL, &r, 5000);
	h_rmtree(dir);
	free(dir);
	ck_assert_msg(rc == 0, "--header '%s' was accepted: the server kept running",
	              bad_header_flags[_i]);
	ck_assert_msg(WIFEXITED(r.status) && WEXITSTATUS(r.status) == 2,
	              "--header '%s': wait status %d, want exit 2", bad_header_flags[_i], r.status);
	ck_assert_msg(r.out_len == 0, "stdout not empty: %s", r.out);
	/* One line: a newline only at the end, and no CR that would make the
	 * terminal show the message as two overwritten lines. */
	char *nl = strchr(r.err, '\n');
	ck_assert_msg(r.err_len > 1 && nl == r.err + r.err_len - 1 && strchr(r.err, '\r') == NULL,
	              "stderr is not one line: '%s'", r.err);
}
END_TEST

/* ---- the suite --------------------------------------------------------- */

static TCase *
server_tcase(Suite *s, const char *name, void (*setup)(void))
{
	TCase *tc = tcase_create(name);
	tcase_add_unchecked_fixture(tc, setup, server_stop);
	tcase_set_timeout(tc, 30);
	suite_add_tcase(s, tc);
	return tc;
}

#define COUNT(a) ((int)(sizeof(a) / sizeof((a)[0])))

Suite *
semantics_suite(void)
{
	Suite *s = suite_create("semantics");

	TCase *tc = server_tcase(s, "validators", setup_validators);
	tcase_add_test(tc, etag_strong_quoted_from_size_mtime_ns);
	tcase_add_test(tc, etag_changes_on_same_size_rewrite_within_a_second);
	tcase_add_test(tc, last_modified_is_imf_fixdate_of_mtime);
	tcase_add_loop_test(tc, conditional_request, 0, COUNT(cond_cases));

	tc = server_tcase(s, "ranges", setup_ranges);
	tcase_add_loop_test(tc, range_request, 0, COUNT(range_cases));

	tc = server_tcase(s, "methods", setup_methods);
	tcase_add_test(tc, options_path_204_allow);
	tcase_add_test(tc, options_star_204_allow);
	tcase_add_test(tc, post_405_allow);
	tcase_add_test(tc, unknown_method_501);
	tcase_add_test(tc, http11_without_host_400);
	tcase_add_test(tc, http10_without_host_200);
	tcase_add_test(tc, two_host_headers_400);
	tcase_add_test(tc, absolute_form_target_200);
	tcase_add_test(tc, bare_lf_request_200);
	tcase_add_test(tc, obs_fold_400);
	tcase_add_test(tc, nul_in_header_value_400);
	tcase_add_test(tc, lone_cr_in_header_value_400);
	tcase_add_test(tc, space_before_colon_400);
	tcase_add_test(tc, expect_100_continue_final_answer_then_close);
	tcase_add_test(tc, listing_off_by_default_404);
	tcase_add_loop_test(tc, redirect_never_protocol_relative, 0, COUNT(evil_targets));
	tcase_add_test(tc, redirect_backslash_stays_encoded);
	tcase_add_test(tc, redirect_location_has_no_cr_lf);

	tc = server_tcase(s, "headers", setup_headers);
	tcase_add_test(tc, extra_header_on_every_response);
	tcase_add_test(tc, cache_control_on_200_206_304);

	tc = server_tcase(s, "cors", setup_cors);
	tcase_add_test(tc, cors_allow_origin_on_every_response);
	tcase_add_test(tc, cors_preflight_204);
	tcase_add_test(tc, cors_plain_options_is_not_a_preflight);

	tc = server_tcase(s, "listing", setup_listing);
	tcase_add_test(tc, listing_html_page);
	tcase_add_test(tc, listing_names_html_escaped);
	tcase_add_test(tc, listing_hrefs_percent_encoded);
	tcase_add_test(tc, listing_directories_first_then_byte_order);
	tcase_add_test(tc, listing_hides_dotfiles);
	tcase_add_test(tc, listing_parent_link_except_at_root);
	tcase_add_test(tc, listing_every_link_opens_its_file);
	tcase_add_test(tc, listing_json);

	tc = server_tcase(s, "precompressed", setup_precompressed);
	tcase_add_test(tc, precompressed_gzip_served);
	tcase_add_loop_test(tc, precompressed_q0_means_no, 0, COUNT(refused_gzip));
	tcase_add_test(tc, precompressed_identity_without_accept_encoding_still_varies);
	tcase_add_test(tc, precompressed_br_preferred_on_equal_q);
	tcase_add_test(tc, precompressed_stale_never_served);

	tc = server_tcase(s, "no_precompressed", setup_no_precompressed);
	tcase_add_test(tc, no_precompressed_never_served_no_vary);

	tc = tcase_create("cli");
	tcase_set_timeout(tc, 30);
	tcase_add_loop_test(tc, cli_invalid_header_exit_2, 0, COUNT(bad_header_flags));
	suite_add_tcase(s, tc);

	return s;
}
