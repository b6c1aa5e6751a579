/* http.c - pure HTTP/1.x request-head parser: the request line and the field
 * lines, as slices of the caller's buffer. See http.h. What the fields mean
 * (known names, lists, Host, framing) is http_fields.c. The grammar follows
 * RFC 9112 sections 2-5 and RFC 9110 5. */
#include "http.h"
#include "http_fields.h"

#include <stddef.h>
#include <string.h>

/* tchar = "!" / "#" / "$" / "%" / "&" / "'" / "*" / "+" / "-" / "." /
 *         "^" / "_" / "`" / "|" / "~" / DIGIT / ALPHA   (RFC 9110 5.6.2)
 * A table: method and field-name bytes are the parser's hottest loop. */
static const unsigned char tchar_table[256] = {
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, /* 0x00 */
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, /* 0x10 */
    0, 1, 0, 1, 1, 1, 1, 1, 0, 0, 1, 1, 0, 1, 1, 0, /* 0x20  !"#$%&'()*+,-./ */
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, /* 0x30 0-9:;<=>? */
    0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, /* 0x40 @A-O */
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 1, 1, /* 0x50 P-Z[\]^_ */
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, /* 0x60 `a-o */
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 1, 0, 1, 0, /* 0x70 p-z{|}~DEL */
                                                    /* 0x80-0xff: 0 */
};

static int
is_tchar(unsigned char c)
{
	return tchar_table[c];
}

int
http_is_token(struct http_slice s)
{
	if (s.len == 0)
		return 0;
	for (size_t i = 0; i < s.len; i++)
		if (!is_tchar((unsigned char)s.p[i]))
			return 0;
	return 1;
}

/* Bytes allowed in a request-target. Raw UTF-8 (obs-text) is tolerated as
 * nginx does, since curl sends it unencoded; CTLs, SP and DEL never are. */
static int
is_target_char(unsigned char c)
{
	return c > 0x20 && c != 0x7f;
}

/* field-vchar / SP / HTAB (RFC 9110 5.5): everything but CTLs and DEL.
 * obs-text (0x80-0xff) is allowed. */
static const unsigned char value_table[256] = {
    0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, /* 0x00 */
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, /* 0x10 */
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, /* 0x20 */
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, /* 0x30 */
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, /* 0x40 */
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, /* 0x50 */
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, /* 0x60 */
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, /* 0x70 */
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, /* 0x80 */
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, /* 0x90 */
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, /* 0xa0 */
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, /* 0xb0 */
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, /* 0xc0 */
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, /* 0xd0 */
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, /* 0xe0 */
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, /* 0xf0 */
};

static int
is_value_char(unsigned char c)
{
	return value_table[c];
}

static const char *const method_names[] = {
    [HTTP_METHOD_GET] = "GET",         [HTTP_METHOD_HEAD] = "HEAD",
    [HTTP_METHOD_POST] = "POST",       [HTTP_METHOD_PUT] = "PUT",
    [HTTP_METHOD_DELETE] = "DELETE",   [HTTP_METHOD_CONNECT] = "CONNECT",
    [HTTP_METHOD_OPTIONS] = "OPTIONS", [HTTP_METHOD_TRACE] = "TRACE",
    [HTTP_METHOD_PATCH] = "PATCH",
};

const char *
http_method_name(enum http_method m)
{
	if ((size_t)m >= sizeof method_names / sizeof method_names[0])
		return NULL;
	return method_names[m];
}

/* Methods are case-sensitive (RFC 9110 9.1): "get" is an unknown method. */
static enum http_method
lookup_method(const char *p, size_t len)
{
	for (size_t m = 1; m < sizeof method_names / sizeof method_names[0]; m++)
		if (strlen(method_names[m]) == len && memcmp(method_names[m], p, len) == 0)
			return (enum http_method)m;
	return HTTP_METHOD_UNKNOWN;
}

/* Skips the empty lines a client may send before a request (RFC 9112 2.2).
 * Returns the offset of the request line, or -1 while a lone CR waits for its
 * LF, or -2 for a CR followed by something else. */
static long
skip_empty_lines(const char *buf, size_t len)
{
	size_t i = 0;
	while (i < len) {
		if (buf[i] == '\n') {
			i++;
		} else if (buf[i] == '\r') {
			if (i + 1 == len)
				return -1;
			if (buf[i + 1] != '\n')
				return -2;
			i += 2;
		} else {
			break;
		}
	}
	return (long)i;
}

int
http_overflow_status(const char *buf, size_t len)
{
	long start = skip_empty_lines(buf, len);
	if (start < 0)
		start = 0;
	return memchr(buf + start, '\n', len - (size_t)start) ? 431 : 414;
}

static enum http_parse
fail(struct http_request *req, int status)
{
	req->error_status = status;
	return HTTP_PARSE_ERROR;
}

/* Consumes a line end at *i: CRLF or a bare LF. 1 = consumed, 0 = need more,
 * -1 = something else is there. */
static int
line_end(const char *buf, size_t len, size_t *i)
{
	if (*i == len)
		return 0;
	if (buf[*i] == '\n') {
		*i += 1;
		return 1;
	}
	if (buf[*i] != '\r')
		return -1;
	if (*i + 1 == len)
		return 0;
	if (buf[*i + 1] != '\n')
		return -1;
	*i += 2;
	return 1;
}

static enum http_parse
parse_request_line(const char *buf, size_t len, size_t *pos, struct http_request *req)
{
	size_t i = *pos;

	size_t m = i;
	while (i < len && is_tchar((unsigned char)buf[i]))
		i++;
	if (i == len)
		return HTTP_PARSE_AGAIN;
	if (buf[i] != ' ' || i == m)
		return fail(req, 400);
	req->method_name = (struct http_slice){buf + m, i - m};
	req->method = lookup_method(buf + m, i - m);
	i++;

	size_t t = i;
	while (i < len && is_target_char((unsigned char)buf[i]))
		i++;
	if (i == len)
		return HTTP_PARSE_AGAIN;
	if (buf[i] != ' ' || i == t)
		return fail(req, 400);
	req->target = (struct http_slice){buf + t, i - t};
	i++;

	/* HTTP-version = "HTTP/" DIGIT "." DIGIT, case-sensitive. */
	static const char shape[] = "HTTP/0.0";
	size_t v = i;
	for (size_t k = 0; k < 8; k++, i++) {
		if (i == len)
			return HTTP_PARSE_AGAIN;
		unsigned char c = (unsigned char)buf[i];
		if (shape[k] == '0' ? !(c >= '0' && c <= '9') : c != (unsigned char)shape[k])
			return fail(req, 400);
	}
	int r = line_end(buf, len, &i);
	if (r == 0)
		return HTTP_PARSE_AGAIN;
	if (r < 0)
		return fail(req, 400);
	if (buf[v + 5] != '1')
		return fail(req, 505);
	req->version_minor = buf[v + 7] - '0';
	*pos = i;
	return HTTP_PARSE_OK;
}

/* One header field line at *pos, or the empty line that ends the head
 * (then *done is set). */
static enum http_parse
parse_field(const char *buf, size_t len, size_t *pos, int *done, struct http_request *req)
{
	size_t i = *pos;
	int r = line_end(buf, len, &i);
	if (r == 0)
		return HTTP_PARSE_AGAIN;
	if (r > 0) {
		*pos = i;
		*done = 1;
		return HTTP_PARSE_OK;
	}

	/* A field line must start with a token; SP/HTAB here is obs-fold (or
	 * whitespace after the start line), which RFC 9112 lets us reject. */
	size_t n = i;
	while (i < len && is_tchar((unsigned char)buf[i]))
		i++;
	if (i == len)
		return HTTP_PARSE_AGAIN;
	if (buf[i] != ':' || i == n)
		return fail(req, 400);
	size_t name_end = i++;

	while (i < len && (buf[i] == ' ' || buf[i] == '\t'))
		i++;
	size_t v = i;
	while (i < len && is_value_char((unsigned char)buf[i]))
		i++;
	size_t v_end = i;
	r = line_end(buf, len, &i);
	if (r == 0)
		return HTTP_PARSE_AGAIN;
	if (r < 0)
		return fail(req, 400);
	while (v_end > v && (buf[v_end - 1] == ' ' || buf[v_end - 1] == '\t'))
		v_end--;

	if (req->nheaders == SHS_MAX_HEADERS)
		return fail(req, 431);
	req->headers[req->nheaders++] = (struct http_header){
	    .name = {buf + n, name_end - n},
	    .value = {buf + v, v_end - v},
	};
	*pos = i;
	return HTTP_PARSE_OK;
}

enum http_parse
http_parse_request(const char *buf, size_t len, struct http_request *req)
{
	/* nheaders is the last field before the array: reset it too. */
	memset(req, 0, offsetof(struct http_request, headers));

	long start = skip_empty_lines(buf, len);
	if (start == -1 || (size_t)start == len)
		return HTTP_PARSE_AGAIN;
	if (start < 0)
		return fail(req, 400);

	size_t pos = (size_t)start;
	enum http_parse r = parse_request_line(buf, len, &pos, req);
	if (r != HTTP_PARSE_OK)
		return r;
	for (int done = 0; !done;) {
		r = parse_field(buf, len, &pos, &done, req);
		if (r != HTTP_PARSE_OK)
			return r;
	}
	req->head_len = pos;
	int status = http_fields_apply(req);
	return status ? fail(req, status) : HTTP_PARSE_OK;
}
