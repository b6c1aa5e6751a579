/* http.c - pure HTTP/1.x request-head parser and chunked-body skipper.
 * See http.h. The grammar follows RFC 9112 sections 2-7 and RFC 9110 5. */
#include "http.h"

#include <stddef.h>
#include <string.h>

static int for_each_element(struct http_slice v, int (*fn)(struct http_slice, void *), void *arg);

/* tchar = "!" / "#" / "$" / "%" / "&" / "'" / "*" / "+" / "-" / "." /
 *         "^" / "_" / "`" / "|" / "~" / DIGIT / ALPHA   (RFC 9110 5.6.2) */
static int
is_tchar(unsigned char c)
{
	if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))
		return 1;
	switch (c) {
	case '!':
	case '#':
	case '$':
	case '%':
	case '&':
	case '\'':
	case '*':
	case '+':
	case '-':
	case '.':
	case '^':
	case '_':
	case '`':
	case '|':
	case '~':
		return 1;
	default:
		return 0;
	}
}

/* Bytes allowed in a request-target. Raw UTF-8 (obs-text) is tolerated as
 * nginx does, since curl sends it unencoded; CTLs, SP and DEL never are. */
static int
is_target_char(unsigned char c)
{
	return c > 0x20 && c != 0x7f;
}

/* field-vchar / SP / HTAB (RFC 9110 5.5): everything but CTLs and DEL. */
static int
is_value_char(unsigned char c)
{
	return c == '\t' || (c >= 0x20 && c != 0x7f);
}

static int
lower(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') ? c + ('a' - 'A') : c;
}

int
http_slice_eq(struct http_slice s, const char *lit)
{
	size_t n = strlen(lit);
	if (s.len != n)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (lower((unsigned char)s.p[i]) != lower((unsigned char)lit[i]))
			return 0;
	return 1;
}

const struct http_header *
http_find_header(const struct http_request *req, const char *name)
{
	for (size_t i = 0; i < req->nheaders; i++)
		if (http_slice_eq(req->headers[i].name, name))
			return &req->headers[i];
	return NULL;
}

/* qvalue = ( "0" [ "." 0*3DIGIT ] ) / ( "1" [ "." 0*3("0") ] ), as thousandths. */
static int
parse_qvalue(const char *p, size_t n)
{
	if (n == 0 || (p[0] != '0' && p[0] != '1') || n > 5 || (n > 1 && p[1] != '.'))
		return 0;
	int v = (p[0] - '0') * 1000, scale = 100;
	for (size_t i = 2; i < n; i++, scale /= 10) {
		if (p[i] < '0' || p[i] > '9')
			return 0;
		v += (p[i] - '0') * scale;
	}
	return v > 1000 ? 0 : v;
}

struct coding_lookup {
	const char *coding;
	int q, star_q; /* -1 while not seen */
};

/* One Accept-Encoding element: coding *( OWS ";" OWS "q=" qvalue ). */
static int
coding_element(struct http_slice el, void *arg)
{
	struct coding_lookup *l = arg;
	size_t i = 0;
	while (i < el.len && el.p[i] != ';' && el.p[i] != ' ' && el.p[i] != '\t')
		i++;
	struct http_slice name = {el.p, i};
	int q = 1000;
	while (i < el.len) {
		while (i < el.len && (el.p[i] == ' ' || el.p[i] == '\t' || el.p[i] == ';'))
			i++;
		size_t s = i;
		while (i < el.len && el.p[i] != ';')
			i++;
		size_t e = i;
		while (e > s && (el.p[e - 1] == ' ' || el.p[e - 1] == '\t'))
			e--;
		if (e - s >= 2 && (el.p[s] == 'q' || el.p[s] == 'Q') && el.p[s + 1] == '=')
			q = parse_qvalue(el.p + s + 2, e - s - 2);
	}
	if (http_slice_eq(name, l->coding))
		l->q = q;
	else if (name.len == 1 && name.p[0] == '*')
		l->star_q = q;
	return 0;
}

int
http_coding_q(struct http_slice accept_encoding, const char *coding)
{
	struct coding_lookup l = {coding, -1, -1};
	(void)for_each_element(accept_encoding, coding_element, &l);
	if (l.q >= 0)
		return l.q;
	return l.star_q > 0 ? l.star_q : 0;
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

/* Calls fn on each comma-separated element of a list value, trimmed. */
static int
for_each_element(struct http_slice v, int (*fn)(struct http_slice, void *), void *arg)
{
	size_t i = 0;
	while (i <= v.len) {
		size_t s = i;
		while (i < v.len && v.p[i] != ',')
			i++;
		size_t e = i;
		while (s < e && (v.p[s] == ' ' || v.p[s] == '\t'))
			s++;
		while (e > s && (v.p[e - 1] == ' ' || v.p[e - 1] == '\t'))
			e--;
		if (e > s && fn((struct http_slice){v.p + s, e - s}, arg) != 0)
			return -1;
		i++;
	}
	return 0;
}

static int
connection_option(struct http_slice opt, void *arg)
{
	struct http_request *req = arg;
	if (http_slice_eq(opt, "close"))
		req->conn_close = 1;
	else if (http_slice_eq(opt, "keep-alive"))
		req->conn_keep_alive = 1;
	return 0;
}

/* Records whether the last transfer coding seen so far is "chunked". */
static int
transfer_coding(struct http_slice coding, void *arg)
{
	int *last_chunked = arg;
	*last_chunked = http_slice_eq(coding, "chunked");
	return 0;
}

/* Content-Length = 1*DIGIT; anything else, including a list, is refused. */
static int
parse_length(struct http_slice v, uint64_t *out)
{
	if (v.len == 0 || v.len > 19)
		return -1;
	uint64_t n = 0;
	for (size_t i = 0; i < v.len; i++) {
		if (v.p[i] < '0' || v.p[i] > '9')
			return -1;
		n = n * 10 + (uint64_t)(v.p[i] - '0');
	}
	*out = n;
	return 0;
}

/* Applies the fields the server acts on, and the framing rules of RFC 9112
 * 6.1-6.3 that make a request unsafe to read further. */
static enum http_parse
apply_fields(struct http_request *req)
{
	int te_seen = 0, te_chunked = 0;
	for (size_t i = 0; i < req->nheaders; i++) {
		const struct http_header *h = &req->headers[i];
		if (http_slice_eq(h->name, "host")) {
			req->host_count++;
			req->host = h->value;
		} else if (http_slice_eq(h->name, "connection")) {
			(void)for_each_element(h->value, connection_option, req);
		} else if (http_slice_eq(h->name, "content-length")) {
			uint64_t n;
			if (parse_length(h->value, &n) != 0)
				return fail(req, 400);
			if (req->has_content_length && n != req->content_length)
				return fail(req, 400);
			req->has_content_length = 1;
			req->content_length = n;
		} else if (http_slice_eq(h->name, "transfer-encoding")) {
			te_seen = 1;
			(void)for_each_element(h->value, transfer_coding, &te_chunked);
		} else if (http_slice_eq(h->name, "expect")) {
			if (http_slice_eq(h->value, "100-continue"))
				req->expect_continue = 1;
		}
	}
	if (te_seen) {
		/* Smuggling guards: TE with CL, TE in 1.0, or a final coding
		 * other than chunked leaves the body length unknowable. */
		if (req->has_content_length || req->version_minor == 0 || !te_chunked)
			return fail(req, 400);
		req->chunked = 1;
	}
	if (req->host_count > 1 || (req->version_minor >= 1 && req->host_count == 0))
		return fail(req, 400);
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
	return apply_fields(req);
}

static int
hex_value(unsigned char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = (unsigned char)lower(c);
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/* Longest chunk-size line extension or trailer section we read through. */
#define CHUNK_LINE_MAX 4096

enum http_chunk_result
http_chunked_skip(struct http_chunked *c, const char *buf, size_t len, size_t *used)
{
	size_t i = 0;
	while (i < len && c->state != HTTP_CHUNK_DONE) {
		unsigned char ch = (unsigned char)buf[i];
		switch (c->state) {
		case HTTP_CHUNK_SIZE: {
			int h = hex_value(ch);
			if (h >= 0) {
				if (c->left > (UINT64_MAX >> 4))
					goto bad;
				c->digits++;
				c->left = c->left * 16 + (uint64_t)h;
				i++;
				break;
			}
			if (c->digits == 0)
				goto bad;
			if (ch == ';' || ch == ' ' || ch == '\t') {
				c->state = HTTP_CHUNK_EXT;
				c->line_len = 0;
			} else if (ch == '\r') {
				c->state = HTTP_CHUNK_SIZE_LF;
				i++;
			} else if (ch == '\n') {
				c->state = HTTP_CHUNK_SIZE_LF;
			} else {
				goto bad;
			}
			break;
		}
		case HTTP_CHUNK_EXT:
			if (ch == '\r' || ch == '\n') {
				c->state = HTTP_CHUNK_SIZE_LF;
				i += ch == '\r';
			} else if (ch == 0 || ++c->line_len > CHUNK_LINE_MAX) {
				goto bad;
			} else {
				i++;
			}
			break;
		case HTTP_CHUNK_SIZE_LF:
			if (ch != '\n')
				goto bad;
			i++;
			c->digits = 0;
			c->line_len = 0;
			c->state = c->left ? HTTP_CHUNK_DATA : HTTP_CHUNK_TRAILER_START;
			break;
		case HTTP_CHUNK_DATA: {
			size_t n = len - i;
			if (n > c->left)
				n = (size_t)c->left;
			c->left -= n;
			i += n;
			if (c->left == 0)
				c->state = HTTP_CHUNK_DATA_CR;
			break;
		}
		case HTTP_CHUNK_DATA_CR:
			if (ch == '\r')
				c->state = HTTP_CHUNK_DATA_LF;
			else if (ch == '\n')
				c->state = HTTP_CHUNK_SIZE;
			else
				goto bad;
			i++;
			break;
		case HTTP_CHUNK_DATA_LF:
			if (ch != '\n')
				goto bad;
			c->state = HTTP_CHUNK_SIZE;
			i++;
			break;
		case HTTP_CHUNK_TRAILER_START:
			if (ch == '\r') {
				c->state = HTTP_CHUNK_END_LF;
			} else if (ch == '\n') {
				c->state = HTTP_CHUNK_DONE;
			} else {
				c->state = HTTP_CHUNK_TRAILER;
				break; /* this byte starts a trailer line */
			}
			i++;
			break;
		case HTTP_CHUNK_TRAILER:
			/* line_len counts the whole trailer section, not one line. */
			if (ch == 0 || ++c->line_len > CHUNK_LINE_MAX)
				goto bad;
			if (ch == '\n')
				c->state = HTTP_CHUNK_TRAILER_START;
			i++;
			break;
		case HTTP_CHUNK_END_LF:
			if (ch != '\n')
				goto bad;
			c->state = HTTP_CHUNK_DONE;
			i++;
			break;
		case HTTP_CHUNK_DONE:
			break;
		}
	}
	*used = i;
	return c->state == HTTP_CHUNK_DONE ? HTTP_CHUNK_END : HTTP_CHUNK_MORE;
bad:
	*used = i;
	return HTTP_CHUNK_BAD;
}
