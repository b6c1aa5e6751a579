/* response.c - status lines, headers, dates and built-in bodies. See response.h. */
#include "response.h"

#include <string.h>

#include "config.h"

const char *
resp_reason(int status)
{
	switch (status) {
	case 100:
		return "Continue";
	case 200:
		return "OK";
	case 204:
		return "No Content";
	case 206:
		return "Partial Content";
	case 301:
		return "Moved Permanently";
	case 302:
		return "Found";
	case 304:
		return "Not Modified";
	case 307:
		return "Temporary Redirect";
	case 308:
		return "Permanent Redirect";
	case 400:
		return "Bad Request";
	case 403:
		return "Forbidden";
	case 404:
		return "Not Found";
	case 405:
		return "Method Not Allowed";
	case 408:
		return "Request Timeout";
	case 411:
		return "Length Required";
	case 412:
		return "Precondition Failed";
	case 413:
		return "Content Too Large";
	case 414:
		return "URI Too Long";
	case 416:
		return "Range Not Satisfiable";
	case 417:
		return "Expectation Failed";
	case 431:
		return "Request Header Fields Too Large";
	case 500:
		return "Internal Server Error";
	case 501:
		return "Not Implemented";
	case 503:
		return "Service Unavailable";
	case 505:
		return "HTTP Version Not Supported";
	default:
		return "Unknown";
	}
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
