/* http.h - pure HTTP/1.x request-head parser (RFC 9112).
 *
 * Owns the grammar of the request line and header fields. No I/O and no
 * allocation: the caller passes a buffer and gets back slices that borrow
 * it. Safe to run on every incomplete prefix of a
 * request (it answers HTTP_PARSE_AGAIN), so it can be called after each read.
 * The request line and field lines are read in http.c; field names, list
 * values and the fields the parser acts on (Host, Connection, framing) are
 * http_fields.c, whose functions below are declared here so that callers
 * include only this header. The chunked body skipper is in http_chunked.h,
 * q-value lists in http_coding.h. */
#ifndef SHS_HTTP_H
#define SHS_HTTP_H

#include <stddef.h>
#include <stdint.h>

#include "config.h"

enum http_parse {
	HTTP_PARSE_OK,    /* a complete head; req->head_len bytes were used */
	HTTP_PARSE_AGAIN, /* a valid prefix: read more */
	HTTP_PARSE_ERROR, /* invalid; req->error_status says 400, 431, 501 or 505 */
};

enum http_method {
	HTTP_METHOD_UNKNOWN, /* a syntactically valid token we do not know: 501 */
	HTTP_METHOD_GET,
	HTTP_METHOD_HEAD,
	HTTP_METHOD_POST,
	HTTP_METHOD_PUT,
	HTTP_METHOD_DELETE,
	HTTP_METHOD_CONNECT,
	HTTP_METHOD_OPTIONS,
	HTTP_METHOD_TRACE,
	HTTP_METHOD_PATCH,
};

/* The header fields the server looks at. The parser notes where the first
 * of each is, so finding one costs an array index, not a scan of every
 * header with a case-insensitive compare. */
enum http_field {
	HTTP_FIELD_HOST,
	HTTP_FIELD_CONNECTION,
	HTTP_FIELD_CONTENT_LENGTH,
	HTTP_FIELD_TRANSFER_ENCODING,
	HTTP_FIELD_EXPECT,
	HTTP_FIELD_IF_MATCH,
	HTTP_FIELD_IF_NONE_MATCH,
	HTTP_FIELD_IF_MODIFIED_SINCE,
	HTTP_FIELD_IF_UNMODIFIED_SINCE,
	HTTP_FIELD_IF_RANGE,
	HTTP_FIELD_RANGE,
	HTTP_FIELD_ACCEPT,
	HTTP_FIELD_ACCEPT_ENCODING,
	HTTP_FIELD_REFERER,
	HTTP_FIELD_USER_AGENT,
	HTTP_FIELD_AC_REQUEST_METHOD,  /* Access-Control-Request-Method */
	HTTP_FIELD_AC_REQUEST_HEADERS, /* Access-Control-Request-Headers */
	HTTP_FIELD_COUNT,
	HTTP_FIELD_OTHER = HTTP_FIELD_COUNT, /* any other name */
};

struct http_slice {
	const char *p;
	size_t len;
};

struct http_header {
	struct http_slice name;  /* token, as sent (compare case-insensitively) */
	struct http_slice value; /* without leading/trailing whitespace */
};

struct http_request {
	/* Set as soon as the method token is complete (followed by SP), even
	 * if the parse then fails or needs more bytes, so an error answer can
	 * tell a HEAD; method_name.len is 0 before that. */
	enum http_method method;
	struct http_slice method_name;
	struct http_slice target; /* raw request-target */
	int version_minor;        /* HTTP/1.x: x (only major 1 is accepted) */
	size_t head_len;          /* bytes of the head, final empty line included */
	int error_status;         /* with HTTP_PARSE_ERROR */

	/* Fields the server acts on, collected while parsing. */
	unsigned host_count;
	struct http_slice host;
	unsigned conn_close : 1;      /* Connection: close */
	unsigned conn_keep_alive : 1; /* Connection: keep-alive */
	unsigned has_content_length : 1;
	unsigned chunked : 1;         /* Transfer-Encoding ends in chunked */
	unsigned expect_continue : 1; /* Expect: 100-continue */
	uint64_t content_length;
	/* 1 + the index in headers[] of the first field of each kind, 0 if
	 * there is none (SHS_MAX_HEADERS fits in a byte). */
	uint8_t first[HTTP_FIELD_COUNT];
	/* Last, so that resetting the fields above stays cheap. */
	size_t nheaders;
	struct http_header headers[SHS_MAX_HEADERS];
};

/* Parses the head at buf[0..len). Leading empty lines are skipped (RFC 9112
 * 2.2). Bare LF is accepted as a line end; obs-fold, whitespace before a colon,
 * CTLs in values, a Content-Length that is not one decimal number, a Host
 * that is not uri-host [":" port] (RFC 9112 3.2), or Transfer-Encoding
 * together with Content-Length (or in HTTP/1.0, or not ending in one
 * chunked) are 400 errors. Transfer-Encoding with another coding before
 * chunked ("gzip, chunked") is 501: a coding we do not implement. */
enum http_parse http_parse_request(const char *buf, size_t len, struct http_request *req);

/* The status for a head that does not fit in a full buffer of len bytes:
 * 414 when the request line itself is incomplete, else 431. */
int http_overflow_status(const char *buf, size_t len);

/* Field names and values (defined in http_fields.c). */

/* Case-insensitive comparison of a slice with a NUL-terminated ASCII string. */
int http_slice_eq(struct http_slice s, const char *lit);

/* First header named `name` (case-insensitive), or NULL. */
const struct http_header *http_find_header(const struct http_request *req, const char *name);
/* The first header of a kind the parser knows, or NULL. */
static inline const struct http_header *
http_field(const struct http_request *req, enum http_field f)
{
	return req->first[f] ? &req->headers[req->first[f] - 1] : NULL;
}
/* Which known field a header name is (case-insensitive), or HTTP_FIELD_OTHER.
 * The name must be a token, as the parser's names are. */
enum http_field http_field_of(struct http_slice name);

/* Calls fn on each comma-separated element of a list value, trimmed of
 * spaces and tabs, skipping empty ones; stops at the first non-zero return
 * (and returns -1), else returns 0. */
int http_list_each(struct http_slice v, int (*fn)(struct http_slice, void *), void *arg);

/* Tokens and methods (http.c). */

/* Whether s is a non-empty token (RFC 9110 5.6.2), as a method or a field
 * name must be. */
int http_is_token(struct http_slice s);

/* Method name for a known method ("GET"), or NULL. */
const char *http_method_name(enum http_method m);

#endif
