/* cond.c - validators and conditional requests. See cond.h. */
#include "cond.h"

#include <stdio.h>
#include <string.h>

int
cond_format_etag(uint64_t size, int64_t mtime_sec, long mtime_nsec, const char *coding, char *dst,
                 size_t cap)
{
	uint64_t ns = (uint64_t)mtime_sec * 1000000000u + (uint64_t)mtime_nsec;
	int n = snprintf(dst, cap, "\"%llx-%llx%s%s\"", (unsigned long long)size,
	                 (unsigned long long)ns, coding ? "-" : "", coding ? coding : "");
	return (n < 0 || (size_t)n >= cap) ? -1 : n;
}

/* Days from 1970-01-01 to y-m-d (proleptic Gregorian; Howard Hinnant). */
static int64_t
days_from_civil(int64_t y, int m, int d)
{
	y -= m <= 2;
	int64_t era = (y >= 0 ? y : y - 399) / 400;
	int64_t yoe = y - era * 400;
	int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

struct scan {
	const char *p, *end;
};

static int
scan_lit(struct scan *s, const char *lit)
{
	size_t n = strlen(lit);
	if ((size_t)(s->end - s->p) < n || memcmp(s->p, lit, n) != 0)
		return -1;
	s->p += n;
	return 0;
}

/* Exactly `digits` decimal digits (a leading space allowed if pad). */
static int
scan_num(struct scan *s, int digits, int pad, int *out)
{
	if (s->end - s->p < digits)
		return -1;
	int v = 0;
	for (int i = 0; i < digits; i++) {
		char c = s->p[i];
		if (pad && i == 0 && c == ' ')
			continue;
		if (c < '0' || c > '9')
			return -1;
		v = v * 10 + (c - '0');
	}
	s->p += digits;
	*out = v;
	return 0;
}

static int
scan_month(struct scan *s, int *m)
{
	static const char months[] = "JanFebMarAprMayJunJulAugSepOctNovDec";
	if (s->end - s->p < 3)
		return -1;
	for (int i = 0; i < 12; i++) {
		if (memcmp(s->p, months + 3 * i, 3) == 0) {
			*m = i + 1;
			s->p += 3;
			return 0;
		}
	}
	return -1;
}

static int
scan_time(struct scan *s, int *h, int *mi, int *sec)
{
	if (scan_num(s, 2, 0, h) || scan_lit(s, ":") || scan_num(s, 2, 0, mi) || scan_lit(s, ":") ||
	    scan_num(s, 2, 0, sec))
		return -1;
	return 0;
}

int
cond_parse_date(const char *str, size_t len, time_t *t)
{
	struct scan s = {str, str + len};
	int y = 0, m = 0, d = 0, h = 0, mi = 0, sec = 0;
	/* Day name: letters, then ',' (IMF-fixdate, RFC 850) or ' ' (asctime). */
	while (s.p < s.end && ((*s.p >= 'a' && *s.p <= 'z') || (*s.p >= 'A' && *s.p <= 'Z')))
		s.p++;
	if (s.p - str < 3 || s.p == s.end)
		return -1;
	if (*s.p == ',') {
		s.p++;
		if (scan_lit(&s, " ") || scan_num(&s, 2, 0, &d))
			return -1;
		if (s.p < s.end && *s.p == ' ') { /* Sun, 06 Nov 1994 08:49:37 GMT */
			if (scan_lit(&s, " ") || scan_month(&s, &m) || scan_lit(&s, " ") ||
			    scan_num(&s, 4, 0, &y))
				return -1;
		} else { /* Sunday, 06-Nov-94 08:49:37 GMT */
			if (scan_lit(&s, "-") || scan_month(&s, &m) || scan_lit(&s, "-") ||
			    scan_num(&s, 2, 0, &y))
				return -1;
			y += y < 70 ? 2000 : 1900;
		}
		if (scan_lit(&s, " ") || scan_time(&s, &h, &mi, &sec) || scan_lit(&s, " GMT"))
			return -1;
	} else { /* Sun Nov  6 08:49:37 1994 */
		if (scan_lit(&s, " ") || scan_month(&s, &m) || scan_lit(&s, " ") ||
		    scan_num(&s, 2, 1, &d) || scan_lit(&s, " ") || scan_time(&s, &h, &mi, &sec) ||
		    scan_lit(&s, " ") || scan_num(&s, 4, 0, &y))
			return -1;
	}
	if (s.p != s.end || d < 1 || d > 31 || h > 23 || mi > 59 || sec > 60)
		return -1;
	int64_t days = days_from_civil(y, m, d);
	*t = (time_t)(days * 86400 + h * 3600 + mi * 60 + sec);
	return 0;
}

static int
ows(char c)
{
	return c == ' ' || c == '\t';
}

int
cond_etag_match(struct http_slice list, const char *etag, size_t etag_len, int weak)
{
	const char *p = list.p, *end = list.p + list.len;
	while (p < end && ows(*p))
		p++;
	if (end - p == 1 && *p == '*')
		return 1;
	int our_weak = etag_len >= 2 && etag[0] == 'W' && etag[1] == '/';
	const char *ours = etag + (our_weak ? 2 : 0);
	size_t ours_len = etag_len - (our_weak ? 2 : 0);
	for (;;) {
		while (p < end && (ows(*p) || *p == ','))
			p++;
		if (p == end)
			return 0;
		int is_weak = 0;
		if (end - p >= 2 && p[0] == 'W' && p[1] == '/') {
			is_weak = 1;
			p += 2;
		}
		if (p == end || *p != '"')
			return 0;
		const char *q = memchr(p + 1, '"', (size_t)(end - p - 1));
		if (!q)
			return 0;
		size_t n = (size_t)(q - p + 1);
		if (n == ours_len && memcmp(p, ours, n) == 0 && (weak || (!is_weak && !our_weak)))
			return 1;
		p = q + 1;
		while (p < end && ows(*p))
			p++;
		if (p < end && *p != ',')
			return 0;
	}
}

enum cond_result
cond_evaluate(const struct http_request *req, const char *etag, size_t etag_len,
              time_t last_modified)
{
	int safe = req->method == HTTP_METHOD_GET || req->method == HTTP_METHOD_HEAD;
	const struct http_header *h;
	time_t t;

	if ((h = http_field(req, HTTP_FIELD_IF_MATCH))) {
		if (!cond_etag_match(h->value, etag, etag_len, 0))
			return COND_FAILED;
	} else if ((h = http_field(req, HTTP_FIELD_IF_UNMODIFIED_SINCE)) &&
	           cond_parse_date(h->value.p, h->value.len, &t) == 0) {
		if (last_modified > t)
			return COND_FAILED;
	}

	if ((h = http_field(req, HTTP_FIELD_IF_NONE_MATCH))) {
		if (cond_etag_match(h->value, etag, etag_len, 1))
			return safe ? COND_NOT_MODIFIED : COND_FAILED;
	} else if (safe && (h = http_field(req, HTTP_FIELD_IF_MODIFIED_SINCE)) &&
	           cond_parse_date(h->value.p, h->value.len, &t) == 0) {
		if (last_modified <= t)
			return COND_NOT_MODIFIED;
	}
	return COND_PROCEED;
}

int
cond_if_range(const struct http_request *req, const char *etag, size_t etag_len,
              time_t last_modified)
{
	const struct http_header *h = http_field(req, HTTP_FIELD_IF_RANGE);
	if (!h)
		return 1;
	struct http_slice v = h->value;
	if (v.len > 0 && (v.p[0] == '"' || v.p[0] == 'W'))
		return v.len == etag_len && memcmp(v.p, etag, etag_len) == 0 && etag[0] == '"';
	time_t t;
	return cond_parse_date(v.p, v.len, &t) == 0 && t == last_modified;
}
