/* http_fields.c - header field names and values: which known field a name
 * is, list values, and the rules for the fields the parser acts on (Host,
 * Connection, Content-Length, Transfer-Encoding, Expect). See http_fields.h;
 * the request line and field lines are read by http.c. Grammar from RFC 9110
 * 5.6 and 7.2, RFC 9112 3.2 and 6, RFC 3986 3.2.2. */
#include "http_fields.h"

#include <stddef.h>
#include <stdint.h>
#include <string.h>

_Static_assert(SHS_MAX_HEADERS < 256, "http_request.first[] holds header indexes in a byte");

static int
lower(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') ? c + ('a' - 'A') : c;
}

/* Case-insensitive equality of a parsed slice (a token or a field value,
 * so no CTLs but HTAB) with a lower-case literal of [a-z0-9-]. For those,
 * OR-ing 0x20 folds case exactly: the only other bytes it maps onto [a-z]
 * are [A-Z], onto '-' only CR, onto digits only CTLs, and the parser lets
 * none of those through. Eight bytes at a time: every header name of every
 * request is compared here. */
static int
slice_eq_lower(struct http_slice s, const char *lit, size_t n)
{
	if (s.len != n)
		return 0;
	size_t i = 0;
	for (; i + 8 <= n; i += 8) {
		uint64_t a, b;
		memcpy(&a, s.p + i, 8);
		memcpy(&b, lit + i, 8);
		if ((a | 0x2020202020202020ull) != b)
			return 0;
	}
	for (; i < n; i++)
		if (((unsigned char)s.p[i] | 0x20) != (unsigned char)lit[i])
			return 0;
	return 1;
}
#define SLICE_EQ(s, lit) slice_eq_lower((s), lit, sizeof lit - 1)

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

/* Lower-case names, indexed by field. */
static const struct http_slice field_names[HTTP_FIELD_COUNT] = {
#define NAME(s)                                                                                    \
	{                                                                                          \
		s, sizeof s - 1                                                                    \
	}
    [HTTP_FIELD_HOST] = NAME("host"),
    [HTTP_FIELD_CONNECTION] = NAME("connection"),
    [HTTP_FIELD_CONTENT_LENGTH] = NAME("content-length"),
    [HTTP_FIELD_TRANSFER_ENCODING] = NAME("transfer-encoding"),
    [HTTP_FIELD_EXPECT] = NAME("expect"),
    [HTTP_FIELD_IF_MATCH] = NAME("if-match"),
    [HTTP_FIELD_IF_NONE_MATCH] = NAME("if-none-match"),
    [HTTP_FIELD_IF_MODIFIED_SINCE] = NAME("if-modified-since"),
    [HTTP_FIELD_IF_UNMODIFIED_SINCE] = NAME("if-unmodified-since"),
    [HTTP_FIELD_IF_RANGE] = NAME("if-range"),
    [HTTP_FIELD_RANGE] = NAME("range"),
    [HTTP_FIELD_ACCEPT] = NAME("accept"),
    [HTTP_FIELD_ACCEPT_ENCODING] = NAME("accept-encoding"),
    [HTTP_FIELD_REFERER] = NAME("referer"),
    [HTTP_FIELD_USER_AGENT] = NAME("user-agent"),
    [HTTP_FIELD_AC_REQUEST_METHOD] = NAME("access-control-request-method"),
    [HTTP_FIELD_AC_REQUEST_HEADERS] = NAME("access-control-request-headers"),
#undef NAME
};

static int
is_field(struct http_slice name, enum http_field f)
{
	return slice_eq_lower(name, field_names[f].p, field_names[f].len);
}

enum http_field
http_field_of(struct http_slice name)
{
	/* At most two known names share a length: pick by length, then
	 * compare at most those. Every header of every request comes here. */
	enum http_field a = HTTP_FIELD_OTHER, b = HTTP_FIELD_OTHER;
	switch (name.len) {
	case 4:
		a = HTTP_FIELD_HOST;
		break;
	case 5:
		a = HTTP_FIELD_RANGE;
		break;
	case 6:
		a = HTTP_FIELD_ACCEPT, b = HTTP_FIELD_EXPECT;
		break;
	case 7:
		a = HTTP_FIELD_REFERER;
		break;
	case 8:
		a = HTTP_FIELD_IF_MATCH, b = HTTP_FIELD_IF_RANGE;
		break;
	case 10:
		a = HTTP_FIELD_CONNECTION, b = HTTP_FIELD_USER_AGENT;
		break;
	case 13:
		a = HTTP_FIELD_IF_NONE_MATCH;
		break;
	case 14:
		a = HTTP_FIELD_CONTENT_LENGTH;
		break;
	case 15:
		a = HTTP_FIELD_ACCEPT_ENCODING;
		break;
	case 17:
		a = HTTP_FIELD_TRANSFER_ENCODING, b = HTTP_FIELD_IF_MODIFIED_SINCE;
		break;
	case 19:
		a = HTTP_FIELD_IF_UNMODIFIED_SINCE;
		break;
	case 29:
		a = HTTP_FIELD_AC_REQUEST_METHOD;
		break;
	case 30:
		a = HTTP_FIELD_AC_REQUEST_HEADERS;
		break;
	default:
		return HTTP_FIELD_OTHER;
	}
	if (is_field(name, a))
		return a;
	if (b != HTTP_FIELD_OTHER && is_field(name, b))
		return b;
	return HTTP_FIELD_OTHER;
}

const struct http_header *
http_find_header(const struct http_request *req, const char *name)
{
	for (size_t i = 0; i < req->nheaders; i++)
		if (http_slice_eq(req->headers[i].name, name))
			return &req->headers[i];
	return NULL;
}

int
http_list_each(struct http_slice v, int (*fn)(struct http_slice, void *), void *arg)
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
	if (SLICE_EQ(opt, "close"))
		req->conn_close = 1;
	else if (SLICE_EQ(opt, "keep-alive"))
		req->conn_keep_alive = 1;
	return 0;
}

/* What the Transfer-Encoding list says, over all its fields. */
struct te_list {
	unsigned chunked;      /* times "chunked" appears */
	unsigned other;        /* codings other than chunked */
	unsigned last_chunked; /* the last coding so far is chunked */
};

static int
transfer_coding(struct http_slice coding, void *arg)
{
	struct te_list *te = arg;
	te->last_chunked = SLICE_EQ(coding, "chunked");
	if (te->last_chunked)
		te->chunked++;
	else
		te->other++;
	return 0;
}

/* Decides a Transfer-Encoding (RFC 9112 6.1, 6.3): chunked must be the last
 * coding and appear once, or the body length is unknowable (400). Chunked
 * over another coding (gzip, chunked) is framed well enough to skip, but it
 * is a coding we do not implement: 501, as the RFC asks. */
static int
transfer_status(const struct te_list *te)
{
	if (!te->last_chunked || te->chunked != 1)
		return 400;
	return te->other ? 501 : 0;
}

/* unreserved / sub-delims (RFC 3986 2.2, 2.3), the bytes of a reg-name and
 * an IPv4 address besides pct-encoded. */
static int
is_reg_name_char(unsigned char c)
{
	if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))
		return 1;
	return c != 0 && strchr("-._~!$&'()*+,;=", c) != NULL;
}

static int
is_hex(unsigned char c)
{
	return (c >= '0' && c <= '9') || ((c | 0x20) >= 'a' && (c | 0x20) <= 'f');
}

/* IPv6address (RFC 3986 3.2.2) between brackets: 8 groups of 1-4 hex digits,
 * one "::" standing for one or more zero groups, and an IPv4 address in
 * place of the last two groups. IPvFuture and zone ids are refused: no
 * client sends them to a web server. */
static int
valid_ipv6(const char *p, size_t len)
{
	unsigned groups = 0;
	int gap = 0;
	size_t i = 0;
	if (len >= 2 && p[0] == ':' && p[1] == ':') {
		gap = 1;
		i = 2;
		if (i == len)
			return 1; /* "::" */
	} else if (len > 0 && p[0] == ':') {
		return 0;
	}
	for (;;) {
		size_t s = i;
		while (i < len && i - s < 5 && is_hex((unsigned char)p[i]))
			i++;
		size_t n = i - s;
		if (i < len && p[i] == '.') {
			/* dotted IPv4 as the last 32 bits: d.d.d.d, each 0-255 */
			i = s;
			for (int part = 0; part < 4; part++) {
				unsigned v = 0, digits = 0;
				while (i < len && p[i] >= '0' && p[i] <= '9' && digits < 4) {
					v = v * 10 + (unsigned)(p[i] - '0');
					digits++;
					i++;
				}
				if (digits == 0 || digits > 3 || v > 255)
					return 0;
				if (part < 3 && (i == len || p[i++] != '.'))
					return 0;
			}
			if (i != len)
				return 0;
			groups += 2;
			break;
		}
		if (n == 0 || n > 4)
			return 0;
		groups++;
		if (i == len)
			break;
		if (p[i] != ':')
			return 0;
		i++;
		if (i < len && p[i] == ':') {
			if (gap)
				return 0;
			gap = 1;
			i++;
			if (i == len)
				break;
		} else if (i == len) {
			return 0; /* a single trailing colon */
		}
	}
	return gap ? groups <= 7 : groups == 8;
}

/* Host = uri-host [ ":" port ] (RFC 9112 3.2, RFC 3986 3.2.2): a reg-name or
 * IPv4 address (unreserved, sub-delims, pct-encoded), or an IPv6 address in
 * brackets; the port, if any, is digits up to 65535. An empty port ("a:")
 * is allowed by the grammar and accepted, and so is an empty value. */
static int
valid_host(struct http_slice v)
{
	const char *p = v.p;
	size_t len = v.len, i = 0;
	if (len > 0 && p[0] == '[') {
		const char *close = memchr(p, ']', len);
		if (!close || !valid_ipv6(p + 1, (size_t)(close - p) - 1))
			return 0;
		i = (size_t)(close - p) + 1;
	} else {
		while (i < len && p[i] != ':') {
			unsigned char c = (unsigned char)p[i];
			if (c == '%') {
				if (i + 2 >= len || !is_hex((unsigned char)p[i + 1]) ||
				    !is_hex((unsigned char)p[i + 2]))
					return 0;
				i += 3;
			} else if (is_reg_name_char(c)) {
				i++;
			} else {
				return 0;
			}
		}
	}
	if (i == len)
		return 1;
	if (p[i] != ':')
		return 0;
	unsigned long port = 0;
	for (i++; i < len; i++) {
		if (p[i] < '0' || p[i] > '9')
			return 0;
		port = port * 10 + (unsigned long)(p[i] - '0');
		if (port > 65535)
			return 0;
	}
	return 1;
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

int
http_fields_apply(struct http_request *req)
{
	int te_seen = 0, bad_host = 0;
	struct te_list te = {0};
	for (size_t i = 0; i < req->nheaders; i++) {
		const struct http_header *h = &req->headers[i];
		enum http_field f = http_field_of(h->name);
		if (f == HTTP_FIELD_OTHER)
			continue;
		if (!req->first[f])
			req->first[f] = (uint8_t)(i + 1);
		switch (f) {
		case HTTP_FIELD_HOST:
			req->host_count++;
			req->host = h->value;
			if (!valid_host(h->value))
				bad_host = 1;
			break;
		case HTTP_FIELD_CONNECTION:
			/* One option is the usual case: no list to split. */
			if (SLICE_EQ(h->value, "keep-alive"))
				req->conn_keep_alive = 1;
			else
				(void)http_list_each(h->value, connection_option, req);
			break;
		case HTTP_FIELD_CONTENT_LENGTH: {
			uint64_t n;
			if (parse_length(h->value, &n) != 0)
				return 400;
			if (req->has_content_length && n != req->content_length)
				return 400;
			req->has_content_length = 1;
			req->content_length = n;
			break;
		}
		case HTTP_FIELD_TRANSFER_ENCODING:
			te_seen = 1;
			(void)http_list_each(h->value, transfer_coding, &te);
			break;
		case HTTP_FIELD_EXPECT:
			if (SLICE_EQ(h->value, "100-continue"))
				req->expect_continue = 1;
			break;
		default:
			break;
		}
	}
	int te_status = 0;
	if (te_seen) {
		/* Smuggling guards: TE with CL, TE in 1.0, or a final coding
		 * other than chunked leaves the body length unknowable. */
		if (req->has_content_length || req->version_minor == 0)
			return 400;
		te_status = transfer_status(&te);
		if (te_status == 400)
			return 400;
		req->chunked = 1;
	}
	if (req->host_count > 1 || (req->version_minor >= 1 && req->host_count == 0) || bad_host)
		return 400;
	/* Last: a malformed request is a 400 before it is a 501. */
	if (te_status)
		return te_status;
	return 0;
}
