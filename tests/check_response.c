/* check_response.c - dates, reason phrases and the header buffer.
 *
 * Output buffers end at a PROT_NONE page where the test is about capacity,
 * so a write past cap crashes instead of corrupting a neighbour quietly.
 * The status table is checked entry by entry against a table of its own. */
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "guard.h"
#include "response.h"
#include "suites.h"

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

/* ---- resp_format_date --------------------------------------------------------- */

static const struct date_case {
	time_t t;
	const char *s; /* NULL: out of range, -1 */
} date_cases[] = {
    {0, "Thu, 01 Jan 1970 00:00:00 GMT"},
    {784111777, "Sun, 06 Nov 1994 08:49:37 GMT"}, /* RFC 9110's example */
    {68169600, "Tue, 29 Feb 1972 00:00:00 GMT"},  /* first leap day */
    {951868799, "Tue, 29 Feb 2000 23:59:59 GMT"}, /* 400-year leap day */
    {951868800, "Wed, 01 Mar 2000 00:00:00 GMT"},
    {1709208000, "Thu, 29 Feb 2024 12:00:00 GMT"},
    {1735689599, "Tue, 31 Dec 2024 23:59:59 GMT"}, /* leap year's last second */
    {2147483647, "Tue, 19 Jan 2038 03:14:07 GMT"}, /* INT32_MAX */
    {2147483648, "Tue, 19 Jan 2038 03:14:08 GMT"}, /* past 32 bits */
    {4102444800, "Fri, 01 Jan 2100 00:00:00 GMT"},
    {4107542399, "Sun, 28 Feb 2100 23:59:59 GMT"}, /* 2100 is not leap */
    {4107542400, "Mon, 01 Mar 2100 00:00:00 GMT"},
    {253402300799, "Fri, 31 Dec 9999 23:59:59 GMT"}, /* the last 4-digit year */
    {253402300800, NULL},                            /* year 10000 does not fit */
};

START_TEST(test_date)
{
	const struct date_case *c = &date_cases[_i];
	char buf[64];
	memset(buf, 'Z', sizeof(buf));
	int r = resp_format_date(c->t, buf, sizeof(buf));
	if (c->s == NULL) {
		ck_assert_msg(r == -1, "t=%lld: %d, want -1", (long long)c->t, r);
		return;
	}
	ck_assert_msg(r == RESP_DATE_LEN, "t=%lld: returned %d", (long long)c->t, r);
	ck_assert_msg(buf[RESP_DATE_LEN] == '\0', "t=%lld: not NUL-terminated", (long long)c->t);
	ck_assert_str_eq(buf, c->s);
}
END_TEST

START_TEST(test_date_cap)
{
	struct guard g;
	guard_init(&g, 64);
	/* exactly enough, ending at the guard page */
	char *dst = guard_slot(&g, RESP_DATE_LEN + 1);
	ck_assert_int_eq(resp_format_date(784111777, dst, RESP_DATE_LEN + 1), RESP_DATE_LEN);
	ck_assert_str_eq(dst, "Sun, 06 Nov 1994 08:49:37 GMT");
	/* one short (no room for the NUL), and nothing at all */
	dst = guard_slot(&g, RESP_DATE_LEN);
	ck_assert_int_eq(resp_format_date(784111777, dst, RESP_DATE_LEN), -1);
	dst = guard_slot(&g, 10);
	ck_assert_int_eq(resp_format_date(0, dst, 10), -1);
	dst = guard_slot(&g, 0);
	ck_assert_int_eq(resp_format_date(0, dst, 0), -1);
	guard_free(&g);
}
END_TEST

/* ---- resp_reason ------------------------------------------------------------- */

static const struct reason_case {
	int status;
	const char *reason;
} reason_cases[] = {
    {200, "OK"},
    {301, "Moved Permanently"},
    {304, "Not Modified"},
    {400, "Bad Request"},
    {403, "Forbidden"},
    {404, "Not Found"},
    {405, "Method Not Allowed"},
    {414, "URI Too Long"},
    {431, "Request Header Fields Too Large"},
    {500, "Internal Server Error"},
    {501, "Not Implemented"},
    {503, "Service Unavailable"},
    {505, "HTTP Version Not Supported"},
    {0, "Unknown"},
    {-1, "Unknown"},
    {299, "Unknown"},
    {999, "Unknown"},
    {1000, "Unknown"},
};

START_TEST(test_reason)
{
	const struct reason_case *c = &reason_cases[_i];
	const char *r = resp_reason(c->status);
	ck_assert_ptr_nonnull(r);
	ck_assert_msg(strcmp(r, c->reason) == 0, "%d: \"%s\", want \"%s\"", c->status, r,
	              c->reason);
}
END_TEST

/* ---- the status table ------------------------------------------------------- */

/* Every status we send, with its reason phrase and whether an error with it
 * closes the connection (serve_error). 501 keeps it: an unknown method is a
 * well-framed request; a 501 for a Transfer-Encoding closes because every
 * head the parser rejects does (conn.c), not because of this flag. */
static const struct status_case {
	enum resp_status e;
	int code;
	const char *reason;
	int close_after;
} status_cases[] = {
    {RESP_CONTINUE, 100, "Continue", 0},
    {RESP_OK, 200, "OK", 0},
    {RESP_NO_CONTENT, 204, "No Content", 0},
    {RESP_PARTIAL_CONTENT, 206, "Partial Content", 0},
    {RESP_MOVED_PERMANENTLY, 301, "Moved Permanently", 0},
    {RESP_FOUND, 302, "Found", 0},
    {RESP_SEE_OTHER, 303, "See Other", 0},
    {RESP_NOT_MODIFIED, 304, "Not Modified", 0},
    {RESP_TEMPORARY_REDIRECT, 307, "Temporary Redirect", 0},
    {RESP_PERMANENT_REDIRECT, 308, "Permanent Redirect", 0},
    {RESP_BAD_REQUEST, 400, "Bad Request", 1},
    {RESP_UNAUTHORIZED, 401, "Unauthorized", 0},
    {RESP_FORBIDDEN, 403, "Forbidden", 0},
    {RESP_NOT_FOUND, 404, "Not Found", 0},
    {RESP_METHOD_NOT_ALLOWED, 405, "Method Not Allowed", 0},
    {RESP_REQUEST_TIMEOUT, 408, "Request Timeout", 0},
    {RESP_GONE, 410, "Gone", 0},
    {RESP_LENGTH_REQUIRED, 411, "Length Required", 0},
    {RESP_PRECONDITION_FAILED, 412, "Precondition Failed", 0},
    {RESP_CONTENT_TOO_LARGE, 413, "Content Too Large", 0},
    {RESP_URI_TOO_LONG, 414, "URI Too Long", 1},
    {RESP_RANGE_NOT_SATISFIABLE, 416, "Range Not Satisfiable", 0},
    {RESP_EXPECTATION_FAILED, 417, "Expectation Failed", 0},
    {RESP_TOO_MANY_REQUESTS, 429, "Too Many Requests", 0},
    {RESP_HEADER_FIELDS_TOO_LARGE, 431, "Request Header Fields Too Large", 1},
    {RESP_UNAVAILABLE_LEGAL, 451, "Unavailable For Legal Reasons", 0},
    {RESP_INTERNAL_SERVER_ERROR, 500, "Internal Server Error", 0},
    {RESP_NOT_IMPLEMENTED, 501, "Not Implemented", 0},
    {RESP_SERVICE_UNAVAILABLE, 503, "Service Unavailable", 0},
    {RESP_VERSION_NOT_SUPPORTED, 505, "HTTP Version Not Supported", 1},
};

START_TEST(test_status)
{
	const struct status_case *c = &status_cases[_i];
	const struct resp_status_info *s = resp_status_find(c->code);
	ck_assert_msg(s == &resp_statuses[c->e], "%d: not at its enum slot", c->code);
	ck_assert_int_eq(s->code, c->code);
	ck_assert_str_eq(s->reason, c->reason);
	ck_assert_str_eq(resp_reason(c->code), c->reason);
	ck_assert_msg(resp_close_after(c->code) == c->close_after, "%d: close_after %d, want %d",
	              c->code, resp_close_after(c->code), c->close_after);

	char mem[128];
	char want[128];
	struct resp_buf b;
	resp_init(&b, mem, sizeof mem);
	resp_status_line(&b, c->code);
	snprintf(want, sizeof want, "HTTP/1.1 %d %s\r\n", c->code, c->reason);
	ck_assert_int_eq(b.overflow, 0);
	ck_assert_msg(b.len == strlen(want) && memcmp(mem, want, b.len) == 0,
	              "status line \"%.*s\", want \"%s\"", (int)b.len, mem, want);
}
END_TEST

/* The table and the cases above list the same statuses, in code order, with
 * no slot of the enum left empty. */
START_TEST(test_status_table_complete)
{
	ck_assert_uint_eq(NELEM(status_cases), RESP_STATUS_COUNT);
	for (size_t i = 0; i < RESP_STATUS_COUNT; i++) {
		ck_assert_ptr_nonnull(resp_statuses[i].reason);
		ck_assert_int_eq(resp_statuses[i].code, status_cases[i].code);
		ck_assert_int_eq((int)status_cases[i].e, (int)i);
		if (i > 0)
			ck_assert_int_gt(resp_statuses[i].code, resp_statuses[i - 1].code);
	}
}
END_TEST

static const int unknown_statuses[] = {-1, 0, 99, 101, 201, 299, 402, 418, 502, 504, 999, 1000};

START_TEST(test_status_unknown)
{
	int code = unknown_statuses[_i];
	ck_assert_ptr_null(resp_status_find(code));
	ck_assert_str_eq(resp_reason(code), "Unknown");
	ck_assert_int_eq(resp_close_after(code), 0);
}
END_TEST

/* ---- resp_buf ------------------------------------------------------------------ */

#define assert_buf(b, lit)                                                                         \
	do {                                                                                       \
		ck_assert_int_eq((b)->overflow, 0);                                                \
		ck_assert_msg((b)->len == sizeof(lit) - 1 &&                                       \
		                  memcmp((b)->dst, lit, sizeof(lit) - 1) == 0,                     \
		              "buffer is \"%.*s\", want \"%s\"", (int)(b)->len, (b)->dst, lit);    \
	} while (0)

START_TEST(test_buf_build)
{
	char mem[256];
	struct resp_buf b;
	resp_init(&b, mem, sizeof(mem));
	ck_assert_ptr_eq(b.dst, mem);
	ck_assert_uint_eq(b.cap, sizeof(mem));
	ck_assert_uint_eq(b.len, 0);
	ck_assert_int_eq(b.overflow, 0);

	resp_status_line(&b, 200);
	resp_header(&b, "Content-Type", "text/html; charset=utf-8");
	resp_adds(&b, "Content-Length: ");
	resp_addu(&b, 1234);
	resp_add(&b, "\r\nXYZ", 2);
	resp_add(&b, "ignored", 0);
	resp_adds(&b, "");
	resp_adds(&b, "\r\n");
	assert_buf(&b, "HTTP/1.1 200 OK\r\n"
	               "Content-Type: text/html; charset=utf-8\r\n"
	               "Content-Length: 1234\r\n"
	               "\r\n");
}
END_TEST

START_TEST(test_buf_addu)
{
	static const struct {
		uint64_t v;
		const char *s;
	} cases[] = {
	    {0, "0"},
	    {7, "7"},
	    {10, "10"},
	    {4294967296ULL, "4294967296"},
	    {UINT64_MAX, "18446744073709551615"},
	};
	for (size_t i = 0; i < NELEM(cases); i++) {
		char mem[32];
		struct resp_buf b;
		resp_init(&b, mem, sizeof(mem));
		resp_addu(&b, cases[i].v);
		ck_assert_int_eq(b.overflow, 0);
		ck_assert_msg(b.len == strlen(cases[i].s) && memcmp(mem, cases[i].s, b.len) == 0,
		              "addu: \"%.*s\", want \"%s\"", (int)b.len, mem, cases[i].s);
	}
}
END_TEST

START_TEST(test_buf_status_line)
{
	static const struct {
		int status;
		const char *line;
	} cases[] = {
	    {404, "HTTP/1.1 404 Not Found\r\n"},
	    {200, "HTTP/1.1 200 OK\r\n"},
	    {301, "HTTP/1.1 301 Moved Permanently\r\n"},
	    {431, "HTTP/1.1 431 Request Header Fields Too Large\r\n"},
	    {505, "HTTP/1.1 505 HTTP Version Not Supported\r\n"},
	    {299, "HTTP/1.1 299 Unknown\r\n"},
	};
	for (size_t i = 0; i < NELEM(cases); i++) {
		char mem[128];
		struct resp_buf b;
		resp_init(&b, mem, sizeof(mem));
		resp_status_line(&b, cases[i].status);
		ck_assert_int_eq(b.overflow, 0);
		ck_assert_msg(b.len == strlen(cases[i].line) &&
		                  memcmp(mem, cases[i].line, b.len) == 0,
		              "status line \"%.*s\", want \"%s\"", (int)b.len, mem, cases[i].line);
	}
}
END_TEST

START_TEST(test_buf_exact_fit)
{
	struct guard g;
	guard_init(&g, 64);
	struct resp_buf b;
	resp_init(&b, guard_slot(&g, 5), 5);
	resp_adds(&b, "hel");
	resp_add(&b, "lo!", 2);
	ck_assert_int_eq(b.overflow, 0);
	ck_assert_uint_eq(b.len, 5);
	ck_assert_mem_eq(b.dst, "hello", 5);
	resp_add(&b, "x", 0); /* nothing more fits, but nothing was asked */
	ck_assert_int_eq(b.overflow, 0);
	ck_assert_uint_eq(b.len, 5);
	resp_addu(&b, 1);
	ck_assert_int_eq(b.overflow, 1);
	ck_assert_uint_le(b.len, 5);
	ck_assert_mem_eq(b.dst, "hello", 5);
	guard_free(&g);
}
END_TEST

START_TEST(test_buf_overflow)
{
	/* dst ends at the guard page: a write past cap kills the test */
	struct guard g;
	guard_init(&g, 64);
	const size_t cap = 10;
	struct resp_buf b;
	resp_init(&b, guard_slot(&g, cap), cap);
	resp_adds(&b, "hello");
	ck_assert_int_eq(b.overflow, 0);
	resp_adds(&b, "world!");
	ck_assert_int_eq(b.overflow, 1);
	ck_assert_uint_le(b.len, cap);
	ck_assert_mem_eq(b.dst, "hello", 5);
	size_t len = b.len;

	/* it stays set and len stops growing, even for things that would fit */
	resp_adds(&b, "x");
	ck_assert_int_eq(b.overflow, 1);
	ck_assert_uint_eq(b.len, len);
	resp_addu(&b, 7);
	resp_header(&b, "A", "b");
	resp_status_line(&b, 200);
	resp_builtin_body(&b, 404);
	ck_assert_int_eq(b.overflow, 1);
	ck_assert_uint_eq(b.len, len);
	guard_free(&g);
}
END_TEST

START_TEST(test_buf_overflow_each)
{
	/* Every writer, alone, into every too-small cap. */
	struct guard g;
	guard_init(&g, 4096);
	for (size_t cap = 0; cap < 24; cap++) {
		for (int w = 0; w < 6; w++) {
			struct resp_buf b;
			resp_init(&b, guard_slot(&g, cap), cap);
			switch (w) {
			case 0:
				resp_add(&b, "0123456789012345678901234", 25);
				break;
			case 1:
				resp_adds(&b, "0123456789012345678901234");
				break;
			case 2:
				resp_addu(&b, UINT64_MAX); /* 20 digits */
				if (cap >= 20)
					continue;
				break;
			case 3:
				resp_header(&b, "Content-Type", "text/plain"); /* 26 */
				break;
			case 4:
				resp_status_line(&b, 404); /* 24 */
				break;
			case 5:
				resp_builtin_body(&b, 404);
				break;
			}
			ck_assert_msg(b.overflow == 1, "writer %d, cap %zu: no overflow", w, cap);
			ck_assert_msg(b.len <= cap, "writer %d, cap %zu: len %zu", w, cap, b.len);
		}
	}
	guard_free(&g);
}
END_TEST

START_TEST(test_header)
{
	char mem[128];
	struct resp_buf b;
	resp_init(&b, mem, sizeof(mem));
	resp_header(&b, "Server", "simple-http-server/0.1.0");
	resp_header(&b, "Allow", "GET, HEAD");
	resp_header(&b, "X-Empty", "");
	assert_buf(&b, "Server: simple-http-server/0.1.0\r\n"
	               "Allow: GET, HEAD\r\n"
	               "X-Empty: \r\n");
}
END_TEST

static const int body_statuses[] = {400, 403, 404, 405, 414, 431, 500, 501, 503, 505};

START_TEST(test_builtin_body)
{
	int status = body_statuses[_i];
	char mem[4096];
	char want[64];
	struct resp_buf b;
	resp_init(&b, mem, sizeof(mem));
	resp_builtin_body(&b, status);
	ck_assert_int_eq(b.overflow, 0);
	ck_assert_uint_gt(b.len, 0);
	ck_assert_uint_le(b.len, sizeof(mem));
	int n = snprintf(want, sizeof(want), "%d %s", status, resp_reason(status));
	ck_assert_msg(memmem(mem, b.len, want, (size_t)n) != NULL, "body for %d lacks \"%s\": %.*s",
	              status, want, (int)b.len, mem);
	ck_assert_msg(memmem(mem, b.len, "<html", 5) != NULL ||
	                  memmem(mem, b.len, "<!DOCTYPE html", 14) != NULL ||
	                  memmem(mem, b.len, "<!doctype html", 14) != NULL,
	              "body for %d is not HTML: %.*s", status, (int)b.len, mem);
	/* and it fits the per-connection output buffer with the headers */
	ck_assert_uint_lt(b.len, 1024);
}
END_TEST

START_TEST(test_builtin_body_404)
{
	char mem[4096];
	struct resp_buf b;
	resp_init(&b, mem, sizeof(mem));
	resp_builtin_body(&b, 404);
	ck_assert_ptr_nonnull(memmem(mem, b.len, "404 Not Found", 13));
}
END_TEST

Suite *
response_suite(void)
{
	Suite *s = suite_create("response");

	TCase *tc = tcase_create("date");
	tcase_add_loop_test(tc, test_date, 0, NELEM(date_cases));
	tcase_add_test(tc, test_date_cap);
	suite_add_tcase(s, tc);

	tc = tcase_create("reason");
	tcase_add_loop_test(tc, test_reason, 0, NELEM(reason_cases));
	suite_add_tcase(s, tc);

	tc = tcase_create("status");
	tcase_add_loop_test(tc, test_status, 0, NELEM(status_cases));
	tcase_add_test(tc, test_status_table_complete);
	tcase_add_loop_test(tc, test_status_unknown, 0, NELEM(unknown_statuses));
	suite_add_tcase(s, tc);

	tc = tcase_create("buf");
	tcase_add_test(tc, test_buf_build);
	tcase_add_test(tc, test_buf_addu);
	tcase_add_test(tc, test_buf_status_line);
	tcase_add_test(tc, test_buf_exact_fit);
	tcase_add_test(tc, test_buf_overflow);
	tcase_add_test(tc, test_buf_overflow_each);
	tcase_add_test(tc, test_header);
	tcase_add_loop_test(tc, test_builtin_body, 0, NELEM(body_statuses));
	tcase_add_test(tc, test_builtin_body_404);
	suite_add_tcase(s, tc);

	return s;
}
