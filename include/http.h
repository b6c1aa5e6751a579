/* http.h - pure HTTP/1.x request-head parser (RFC 9112).
 *
 * Owns the grammar of the request line and header fields, and the chunked
 * body skipper. No I/O and no allocation: the caller passes a buffer and gets
 * back slices that borrow it. Safe to run on every incomplete prefix of a
 * request (it answers HTTP_PARSE_AGAIN), so it can be called after each read. */
#ifndef SHS_HTTP_H
#define SHS_HTTP_H

#include <stddef.h>
#include <stdint.h>

#include "config.h"

enum http_parse {
	HTTP_PARSE_OK,    /* a complete head; req->head_len bytes were used */
	HTTP_PARSE_AGAIN, /* a valid prefix: read more */
	HTTP_PARSE_ERROR, /* invalid; req->error_status says 400, 431 or 505 */
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

struct http_slice {
	const char *p;
	size_t len;
};

struct http_header {
	struct http_slice name;  /* token, as sent (compare case-insensitively) */
	struct http_slice value; /* without leading/trailing whitespace */
};

struct http_request {
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

	/* Last, so that resetting the fields above stays cheap. */
	size_t nheaders;
	struct http_header headers[SHS_MAX_HEADERS];
};

/* Parses the head at buf[0..len). Leading empty lines are skipped (RFC 9112
 * 2.2). Bare LF is accepted as a line end; obs-fold, whitespace before a colon,
 * CTLs in values, a Content-Length that is not one decimal number, or
 * Transfer-Encoding together with Content-Length (or in HTTP/1.0, or not
 * ending in chunked) are errors. */
enum http_parse http_parse_request(const char *buf, size_t len, struct http_request *req);

/* The status for a head that does not fit in a full buffer of len bytes:
 * 414 when the request line itself is incomplete, else 431. */
int http_overflow_status(const char *buf, size_t len);

/* Case-insensitive comparison of a slice with a NUL-terminated ASCII string. */
int http_slice_eq(struct http_slice s, const char *lit);

/* First header named `name` (case-insensitive), or NULL. */
const struct http_header *http_find_header(const struct http_request *req, const char *name);

/* How much a client wants a content coding, from its Accept-Encoding value:
 * the q-value in thousandths (0 = not acceptable). A coding that is not
 * listed takes the q of "*" if present, else 0. q values are parsed per
 * RFC 9110 12.4.2; a malformed one counts as 0. */
int http_coding_q(struct http_slice accept_encoding, const char *coding);

/* Method name for a known method ("GET"), or NULL. */
const char *http_method_name(enum http_method m);

/* Skipping a chunked request body (RFC 9112 7.1) that we do not use. */
enum http_chunk_state {
	HTTP_CHUNK_SIZE = 0, /* must be 0 so a zeroed struct is the start */
	HTTP_CHUNK_EXT,
	HTTP_CHUNK_SIZE_LF,
	HTTP_CHUNK_DATA,
	HTTP_CHUNK_DATA_CR,
	HTTP_CHUNK_DATA_LF,
	HTTP_CHUNK_TRAILER_START,
	HTTP_CHUNK_TRAILER,
	HTTP_CHUNK_END_LF,
	HTTP_CHUNK_DONE,
};

struct http_chunked {
	enum http_chunk_state state;
	uint64_t left;     /* data bytes left in the current chunk */
	unsigned digits;   /* hex digits seen in the current size */
	unsigned line_len; /* length of the current extension/trailer line */
};

enum http_chunk_result {
	HTTP_CHUNK_MORE, /* consumed all of buf; the body goes on */
	HTTP_CHUNK_END,  /* the body ended; *used bytes belonged to it */
	HTTP_CHUNK_BAD,  /* malformed: 400 and close */
};

/* Consumes body bytes from buf[0..len), setting *used. */
enum http_chunk_result http_chunked_skip(struct http_chunked *c, const char *buf, size_t len,
                                         size_t *used);

#endif
