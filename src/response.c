/* response.c - status lines, headers, dates and built-in bodies. See response.h. */
#include "response.h"

#include <string.h>

#include "config.h"

#define ENTRY(e, c, r, close) [e] = {c, r, close}
const struct resp_status_info resp_statuses[RESP_STATUS_COUNT] = {
    ENTRY(RESP_CONTINUE, 100, "Continue", 0),
    ENTRY(RESP_OK, 200, "OK", 0),
    ENTRY(RESP_NO_CONTENT, 204, "No Content", 0),
    ENTRY(RESP_PARTIAL_CONTENT, 206, "Partial Content", 0),
    ENTRY(RESP_MOVED_PERMANENTLY, 301, "Moved Permanently", 0),
    ENTRY(RESP_FOUND, 302, "Found", 0),
    ENTRY(RESP_SEE_OTHER, 303, "See Other", 0),
    ENTRY(RESP_NOT_MODIFIED, 304, "Not Modified", 0),
    ENTRY(RESP_TEMPORARY_REDIRECT, 307, "Temporary Redirect", 0),
    ENTRY(RESP_PERMANENT_REDIRECT, 308, "Permanent Redirect", 0),
    ENTRY(RESP_BAD_REQUEST, 400, "Bad Request", 1),
    ENTRY(RESP_UNAUTHORIZED, 401, "Unauthorized", 0),
    ENTRY(RESP_FORBIDDEN, 403, "Forbidden", 0),
    ENTRY(RESP_NOT_FOUND, 404, "Not Found", 0),
    ENTRY(RESP_METHOD_NOT_ALLOWED, 405, "Method Not Allowed", 0),
    ENTRY(RESP_REQUEST_TIMEOUT, 408, "Request Timeout", 0),
    ENTRY(RESP_GONE, 410, "Gone", 0),
    ENTRY(RESP_LENGTH_REQUIRED, 411, "Length Required", 0),
    ENTRY(RESP_PRECONDITION_FAILED, 412, "Precondition Failed", 0),
    ENTRY(RESP_CONTENT_TOO_LARGE, 413, "Content Too Large", 0),
    ENTRY(RESP_URI_TOO_LONG, 414, "URI Too Long", 1),
    ENTRY(RESP_RANGE_NOT_SATISFIABLE, 416, "Range Not Satisfiable", 0),
    ENTRY(RESP_EXPECTATION_FAILED, 417, "Expectation Failed", 0),
    ENTRY(RESP_TOO_MANY_REQUESTS, 429, "Too Many Requests", 0),
    ENTRY(RESP_HEADER_FIELDS_TOO_LARGE, 431, "Request Header Fields Too Large", 1),
    ENTRY(RESP_UNAVAILABLE_LEGAL, 451, "Unavailable For Legal Reasons", 0),
    ENTRY(RESP_INTERNAL_SERVER_ERROR, 500, "Internal Server Error", 0),
    ENTRY(RESP_NOT_IMPLEMENTED, 501, "Not Implemented", 0),
    ENTRY(RESP_SERVICE_UNAVAILABLE, 503, "Service Unavailable", 0),
    ENTRY(RESP_VERSION_NOT_SUPPORTED, 505, "HTTP Version Not Supported", 1),
};
#undef ENTRY

/* A scan of a few dozen ints: cheaper than the status line it feeds, and it keeps the
 * table the one place a status is described. */
const struct resp_status_info *
resp_status_find(int status)
{
	for (size_t i = 0; i < RESP_STATUS_COUNT; i++)
		if (resp_statuses[i].code == status)
			return &resp_statuses[i];
	return NULL;
}

const char *
resp_reason(int status)
{
	const struct resp_status_info *s = resp_status_find(status);
	return s ? s->reason : "Unknown";
}

int
resp_close_after(int status)
{
	const struct resp_status_info *s = resp_status_find(status);
	return s ? s->close_after : 0;
}

static void
put2(char *p, int v)
{
	p[0] = (char)('0' + v / 10);
	p[1] = (char)('0' + v % 10);
}

/* Days since 1970-01-01 to a civil date (Howard Hinnant's algorithm), so no
 * gmtime_r and no dependency on the TZ environment. */
static void
civil_from_days(long long z, long long *y, int *m, int *d)
{
	z += 719468;
	long long era = (z >= 0 ? z : z - 146096) / 146097;
	long long doe = z - era * 146097;
	long long yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	long long doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	long long mp = (5 * doy + 2) / 153;
	*d = (int)(doy - (153 * mp + 2) / 5 + 1);
	*m = (int)(mp < 10 ? mp + 3 : mp - 9);
	*y = yoe + era * 400 + (*m <= 2);
}

int
resp_format_date(time_t t, char *dst, size_t cap)
{
	static const char wday[] = "ThuFriSatSunMonTueWed";
	static const char mon[] = "JanFebMarAprMayJunJulAugSepOctNovDec";
	if (cap < RESP_DATE_LEN + 1)
		return -1;
	long long s = (long long)t;
	long long days = s >= 0 ? s / 86400 : -((-s + 86399) / 86400);
	long long secs = s - days * 86400;
	long long y;
	int m, d;
	civil_from_days(days, &y, &m, &d);
	if (y < 0 || y > 9999)
		return -1;
	int w = (int)(((days % 7) + 7) % 7);
	memcpy(dst, wday + 3 * w, 3);
	memcpy(dst + 3, ", ", 2);
	put2(dst + 5, d);
	dst[7] = ' ';
	memcpy(dst + 8, mon + 3 * (m - 1), 3);
	dst[11] = ' ';
	put2(dst + 12, (int)(y / 100));
	put2(dst + 14, (int)(y % 100));
	dst[16] = ' ';
	put2(dst + 17, (int)(secs / 3600));
	dst[19] = ':';
	put2(dst + 20, (int)(secs / 60 % 60));
	dst[22] = ':';
	put2(dst + 23, (int)(secs % 60));
	memcpy(dst + 25, " GMT", 5);
	return RESP_DATE_LEN;
}

void
resp_init(struct resp_buf *b, char *dst, size_t cap)
{
	b->dst = dst;
	b->cap = cap;
	b->len = 0;
	b->overflow = 0;
}

void
resp_add(struct resp_buf *b, const char *s, size_t n)
{
	if (b->overflow || n > b->cap - b->len) {
		b->overflow = 1;
		return;
	}
	memcpy(b->dst + b->len, s, n);
	b->len += n;
}

void
resp_adds(struct resp_buf *b, const char *s)
{
	resp_add(b, s, strlen(s));
}

void
resp_addu(struct resp_buf *b, uint64_t v)
{
	char tmp[20];
	size_t i = sizeof tmp;
	do {
		tmp[--i] = (char)('0' + v % 10);
		v /= 10;
	} while (v != 0);
	resp_add(b, tmp + i, sizeof tmp - i);
}

void
resp_header(struct resp_buf *b, const char *name, const char *value)
{
	resp_adds(b, name);
	resp_add(b, ": ", 2);
	resp_adds(b, value);
	resp_add(b, "\r\n", 2);
}

void
resp_status_line(struct resp_buf *b, int status)
{
#define LINE(s) resp_add(b, s, sizeof s - 1)
	switch (status) { /* the common ones, without formatting */
	case 200:
		LINE("HTTP/1.1 200 OK\r\n");
		return;
	case 304:
		LINE("HTTP/1.1 304 Not Modified\r\n");
		return;
	}
#undef LINE
	resp_add(b, "HTTP/1.1 ", 9);
	resp_addu(b, (uint64_t)status);
	resp_add(b, " ", 1);
	resp_adds(b, resp_reason(status));
	resp_add(b, "\r\n", 2);
}

void
resp_builtin_body(struct resp_buf *b, int status)
{
	resp_adds(b, "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>");
	resp_addu(b, (uint64_t)status);
	resp_add(b, " ", 1);
	resp_adds(b, resp_reason(status));
	resp_adds(b, "</title></head>\n<body><h1>");
	resp_addu(b, (uint64_t)status);
	resp_add(b, " ", 1);
	resp_adds(b, resp_reason(status));
	resp_adds(b, "</h1><hr><p>" SHS_NAME "/" SHS_VERSION "</p></body></html>\n");
}
