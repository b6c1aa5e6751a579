/* check_cond.c - unit tests of cond.c (ETag, HTTP-date, conditionals) and
 * range.c (the Range header). */
#include <stdio.h>
#include <string.h>

#include "cond.h"
#include "range.h"
#include "suites.h"

static struct http_slice
sl(const char *s)
{
	return (struct http_slice){s, strlen(s)};
}

/* cond_format_etag: "size-mtimens" in hex, the coding of a sidecar after
 * it; the same inputs always give the same tag (no inode: copies agree). */
static const struct {
	uint64_t size;
	int64_t sec;
	long nsec;
	const char *coding;
	const char *tag;
} etags[] = {
    {12, 1, 5, NULL, "\"c-3b9aca05\""},
    {12, 1, 6, NULL, "\"c-3b9aca06\""}, /* same second, other ns: another tag */
    {13, 1, 5, NULL, "\"d-3b9aca05\""},
    {0, 0, 0, NULL, "\"0-0\""},
    {12, 1, 5, "gzip", "\"c-3b9aca05-gzip\""}, /* a sidecar with the same size and mtime */
    {12, 1, 5, "br", "\"c-3b9aca05-br\""},
    {12, 1, 5, "zstd", "\"c-3b9aca05-zstd\""},
    {UINT64_MAX, 0x7fffffff, 999999999, "zstd", "\"ffffffffffffffff-1dcd64ffffffffff-zstd\""},
};

START_TEST(etag_format)
{
	char buf[COND_ETAG_MAX];
	int n = cond_format_etag(etags[_i].size, etags[_i].sec, etags[_i].nsec, etags[_i].coding,
	                         buf, sizeof buf);
	ck_assert_str_eq(buf, etags[_i].tag);
	ck_assert_int_eq(n, (int)strlen(etags[_i].tag));
	/* Too small a buffer: -1, never a cut tag. */
	ck_assert_int_eq(cond_format_etag(etags[_i].size, etags[_i].sec, etags[_i].nsec,
	                                  etags[_i].coding, buf, (size_t)n),
	                 -1);
	/* The longest tag leaves room for "-live" (serve.c appends it). */
	ck_assert_int_lt(n + 5, COND_ETAG_MAX);
}
END_TEST

static const struct {
	const char *text;
	long long t; /* -1: must be rejected */
} dates[] = {
    {"Sun, 06 Nov 1994 08:49:37 GMT", 784111777},
    {"Sunday, 06-Nov-94 08:49:37 GMT", 784111777},
    {"Sun Nov  6 08:49:37 1994", 784111777},
    {"Thu, 01 Jan 1970 00:00:00 GMT", 0},
    {"Tue, 29 Feb 2028 12:00:00 GMT", 1835438400},
    {"Fri, 01 Jan 2100 00:00:00 GMT", 4102444800},
    {"Sun, 06 Nov 1994 08:49:37 UTC", -1},
    {"Sun, 06 Nov 1994 08:49:37 GMT ", -1},
    {"Sun, 6 Nov 1994 08:49:37 GMT", -1},
    {"Sun, 06 Foo 1994 08:49:37 GMT", -1},
    {"Sun, 06 Nov 1994 24:00:00 GMT", -1},
    {"Sun, 32 Nov 1994 08:49:37 GMT", -1},
    {"yesterday", -1},
    {"", -1},
    {"1994-11-06T08:49:37Z", -1},
};

START_TEST(date_parse)
{
	time_t t = 0;
	int r = cond_parse_date(dates[_i].text, strlen(dates[_i].text), &t);
	if (dates[_i].t < 0) {
		ck_assert_msg(r != 0, "accepted '%s'", dates[_i].text);
	} else {
		ck_assert_msg(r == 0, "rejected '%s'", dates[_i].text);
		ck_assert_int_eq((long long)t, dates[_i].t);
	}
}
END_TEST

START_TEST(etag_match)
{
	const char *tag = "\"1-2-3\"";
	size_t n = strlen(tag);
	ck_assert(cond_etag_match(sl("\"1-2-3\""), tag, n, 0));
	ck_assert(cond_etag_match(sl("*"), tag, n, 0));
	ck_assert(cond_etag_match(sl(" \"x\" , \"1-2-3\""), tag, n, 0));
	ck_assert(cond_etag_match(sl("W/\"1-2-3\""), tag, n, 1));
	ck_assert(!cond_etag_match(sl("W/\"1-2-3\""), tag, n, 0)); /* strong: weak never matches */
	ck_assert(!cond_etag_match(sl("\"1-2-4\""), tag, n, 1));
	ck_assert(!cond_etag_match(sl("1-2-3"), tag, n, 1));   /* unquoted: malformed */
	ck_assert(!cond_etag_match(sl("\"1-2-3"), tag, n, 1)); /* unterminated */
	ck_assert(!cond_etag_match(sl(""), tag, n, 1));
}
END_TEST

/* A GET with the given header lines, parsed for cond_evaluate. */
static enum cond_result
evaluate(const char *headers, time_t mtime)
{
	static char buf[1024];
	static struct http_request req;
	snprintf(buf, sizeof buf, "GET / HTTP/1.1\r\nHost: a\r\n%s\r\n", headers);
	ck_assert_int_eq(http_parse_request(buf, strlen(buf), &req), HTTP_PARSE_OK);
	return cond_evaluate(&req, "\"t\"", 3, mtime);
}

START_TEST(evaluate_order)
{
	time_t lm = 784111777; /* Sun, 06 Nov 1994 08:49:37 GMT */
	ck_assert_int_eq(evaluate("", lm), COND_PROCEED);
	ck_assert_int_eq(evaluate("If-None-Match: \"t\"\r\n", lm), COND_NOT_MODIFIED);
	ck_assert_int_eq(evaluate("If-None-Match: \"u\"\r\n", lm), COND_PROCEED);
	ck_assert_int_eq(evaluate("If-Modified-Since: Sun, 06 Nov 1994 08:49:37 GMT\r\n", lm),
	                 COND_NOT_MODIFIED);
	ck_assert_int_eq(evaluate("If-Modified-Since: Sun, 06 Nov 1994 08:49:36 GMT\r\n", lm),
	                 COND_PROCEED);
	ck_assert_int_eq(evaluate("If-Modified-Since: garbage\r\n", lm), COND_PROCEED);
	/* If-None-Match wins over If-Modified-Since. */
	ck_assert_int_eq(evaluate("If-None-Match: \"u\"\r\n"
	                          "If-Modified-Since: Sun, 06 Nov 2094 08:49:37 GMT\r\n",
	                          lm),
	                 COND_PROCEED);
	ck_assert_int_eq(evaluate("If-Match: \"u\"\r\n", lm), COND_FAILED);
	ck_assert_int_eq(evaluate("If-Match: \"t\"\r\n", lm), COND_PROCEED);
	ck_assert_int_eq(evaluate("If-Match: *\r\n", lm), COND_PROCEED);
	ck_assert_int_eq(evaluate("If-Unmodified-Since: Sun, 06 Nov 1994 08:49:36 GMT\r\n", lm),
	                 COND_FAILED);
	ck_assert_int_eq(evaluate("If-Unmodified-Since: Sun, 06 Nov 1994 08:49:37 GMT\r\n", lm),
	                 COND_PROCEED);
	ck_assert_int_eq(evaluate("If-Unmodified-Since: nope\r\n", lm), COND_PROCEED);
	/* If-Match is checked before If-None-Match. */
	ck_assert_int_eq(evaluate("If-Match: \"u\"\r\nIf-None-Match: \"t\"\r\n", lm), COND_FAILED);
}
END_TEST

static int
if_range(const char *value, time_t mtime)
{
	static char buf[512];
	static struct http_request req;
	snprintf(buf, sizeof buf, "GET / HTTP/1.1\r\nHost: a\r\nIf-Range: %s\r\n\r\n", value);
	ck_assert_int_eq(http_parse_request(buf, strlen(buf), &req), HTTP_PARSE_OK);
	return cond_if_range(&req, "\"t\"", 3, mtime);
}

START_TEST(if_range_rules)
{
	time_t lm = 784111777;
	ck_assert_int_eq(if_range("\"t\"", lm), 1);
	ck_assert_int_eq(if_range("\"u\"", lm), 0);
	ck_assert_int_eq(if_range("W/\"t\"", lm), 0); /* weak tags never match If-Range */
	ck_assert_int_eq(if_range("Sun, 06 Nov 1994 08:49:37 GMT", lm), 1);
	ck_assert_int_eq(if_range("Sun, 06 Nov 1994 08:49:38 GMT", lm), 0);
	ck_assert_int_eq(if_range("junk", lm), 0);
}
END_TEST

static const struct {
	const char *value;
	uint64_t size;
	enum range_result want;
	size_t n;
	uint64_t first[3], last[3];
} ranges[] = {
    {"bytes=0-4", 10, RANGE_OK, 1, {0}, {4}},
    {"bytes=5-", 10, RANGE_OK, 1, {5}, {9}},
    {"bytes=-3", 10, RANGE_OK, 1, {7}, {9}},
    {"bytes=-30", 10, RANGE_OK, 1, {0}, {9}},
    {"bytes=3-100", 10, RANGE_OK, 1, {3}, {9}},
    {"BYTES=0-0", 10, RANGE_OK, 1, {0}, {0}},
    {"bytes=0-1, 4-5", 10, RANGE_OK, 2, {0, 4}, {1, 5}},
    {"bytes=4-5,0-1", 10, RANGE_OK, 2, {0, 4}, {1, 5}},
    {"bytes=0-5,3-8", 10, RANGE_OK, 1, {0}, {8}},
    {"bytes=0-1,2-3", 10, RANGE_OK, 1, {0}, {3}}, /* adjacent: merged */
    {"bytes=0-1,20-30", 10, RANGE_OK, 1, {0}, {1}},
    {"bytes=4294967396-4294967411", 5368709120ull, RANGE_OK, 1, {4294967396ull}, {4294967411ull}},
    {"bytes=10-", 10, RANGE_UNSATISFIABLE, 0, {0}, {0}},
    {"bytes=-0", 10, RANGE_UNSATISFIABLE, 0, {0}, {0}},
    {"bytes=5-2", 10, RANGE_IGNORE, 0, {0}, {0}},
    {"bytes=abc", 10, RANGE_IGNORE, 0, {0}, {0}},
    {"items=0-1", 10, RANGE_IGNORE, 0, {0}, {0}},
    {"bytes=", 10, RANGE_IGNORE, 0, {0}, {0}},
    {"bytes=0-1;x", 10, RANGE_IGNORE, 0, {0}, {0}},
    {"bytes=1", 10, RANGE_IGNORE, 0, {0}, {0}},
    {"bytes=0-", 0, RANGE_IGNORE, 0, {0}, {0}}, /* empty file: never a 206 */
    {"bytes=-5", 0, RANGE_IGNORE, 0, {0}, {0}},
    {"bytes=0-0,1-1,2-2,3-3,4-4,5-5,6-6,7-7,8-8,9-9,0-0,1-1,2-2,3-3,4-4,5-5,6-6",
     10,
     RANGE_IGNORE,
     0,
     {0},
     {0}}, /* 17 specs: over the cap */
    {"bytes=99999999999999999999999-", 10, RANGE_UNSATISFIABLE, 0, {0}, {0}},
};

START_TEST(range_table)
{
	struct range r[RANGE_MAX];
	size_t n = 99;
	enum range_result got =
	    range_parse(ranges[_i].value, strlen(ranges[_i].value), ranges[_i].size, r, &n);
	ck_assert_msg(got == ranges[_i].want, "'%s': got %d want %d", ranges[_i].value, got,
	              ranges[_i].want);
	if (got != RANGE_OK)
		return;
	ck_assert_uint_eq(n, ranges[_i].n);
	for (size_t i = 0; i < n; i++) {
		ck_assert_uint_eq(r[i].first, ranges[_i].first[i]);
		ck_assert_uint_eq(r[i].last, ranges[_i].last[i]);
	}
}
END_TEST

Suite *
cond_suite(void)
{
	Suite *s = suite_create("cond");
	TCase *tc = tcase_create("validators");
	tcase_add_loop_test(tc, etag_format, 0, sizeof etags / sizeof etags[0]);
	tcase_add_loop_test(tc, date_parse, 0, sizeof dates / sizeof dates[0]);
	tcase_add_test(tc, etag_match);
	tcase_add_test(tc, evaluate_order);
	tcase_add_test(tc, if_range_rules);
	suite_add_tcase(s, tc);
	TCase *tr = tcase_create("range");
	tcase_add_loop_test(tr, range_table, 0, sizeof ranges / sizeof ranges[0]);
	suite_add_tcase(s, tr);
	return s;
}
