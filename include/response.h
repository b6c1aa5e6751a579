/* response.h - formatting of status lines, headers, dates and built-in bodies.
 *
 * Everything here writes into a caller's (dst, cap) buffer and reports
 * truncation; nothing keeps static scratch state. */
#ifndef SHS_RESPONSE_H
#define SHS_RESPONSE_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

/* IMF-fixdate ("Sun, 06 Nov 1994 08:49:37 GMT") is always this long. */
#define RESP_DATE_LEN 29

/* Every status the server sends, in code order; indexes resp_statuses[]. */
enum resp_status {
	RESP_CONTINUE,                /* 100 */
	RESP_OK,                      /* 200 */
	RESP_NO_CONTENT,              /* 204 */
	RESP_PARTIAL_CONTENT,         /* 206 */
	RESP_MOVED_PERMANENTLY,       /* 301 */
	RESP_FOUND,                   /* 302 */
	RESP_SEE_OTHER,               /* 303 (_redirects) */
	RESP_NOT_MODIFIED,            /* 304 */
	RESP_TEMPORARY_REDIRECT,      /* 307 */
	RESP_PERMANENT_REDIRECT,      /* 308 */
	RESP_BAD_REQUEST,             /* 400 */
	RESP_UNAUTHORIZED,            /* 401 (_redirects) */
	RESP_FORBIDDEN,               /* 403 */
	RESP_NOT_FOUND,               /* 404 */
	RESP_METHOD_NOT_ALLOWED,      /* 405 */
	RESP_REQUEST_TIMEOUT,         /* 408 */
	RESP_GONE,                    /* 410 (_redirects) */
	RESP_LENGTH_REQUIRED,         /* 411 */
	RESP_PRECONDITION_FAILED,     /* 412 */
	RESP_CONTENT_TOO_LARGE,       /* 413 */
	RESP_URI_TOO_LONG,            /* 414 */
	RESP_RANGE_NOT_SATISFIABLE,   /* 416 */
	RESP_EXPECTATION_FAILED,      /* 417 */
	RESP_TOO_MANY_REQUESTS,       /* 429 (_redirects) */
	RESP_HEADER_FIELDS_TOO_LARGE, /* 431 */
	RESP_UNAVAILABLE_LEGAL,       /* 451 (_redirects) */
	RESP_INTERNAL_SERVER_ERROR,   /* 500 */
	RESP_NOT_IMPLEMENTED,         /* 501 */
	RESP_SERVICE_UNAVAILABLE,     /* 503 */
	RESP_VERSION_NOT_SUPPORTED,   /* 505 */
	RESP_STATUS_COUNT,
};

struct resp_status_info {
	int code;           /* 404 */
	const char *reason; /* "Not Found" */
	/* The error says the request itself was malformed (400, 414, 431, 505),
	 * so what follows it on the connection cannot be trusted: close after
	 * answering, as nginx does. A head the parser rejects closes whatever
	 * its status (conn.c), which is how a 501 for an unknown
	 * Transfer-Encoding closes; a 501 for an unknown method keeps the
	 * connection, since that request was framed well. */
	int close_after;
};

extern const struct resp_status_info resp_statuses[RESP_STATUS_COUNT];

/* The table entry for a status code, or NULL for one we never send. */
const struct resp_status_info *resp_status_find(int status);

/* Reason phrase for a status code ("Not Found"); "Unknown" if we have none. */
const char *resp_reason(int status);

/* The entry's close_after; 0 for a status not in the table. */
int resp_close_after(int status);

/* Writes t as an IMF-fixdate plus NUL into dst (cap >= RESP_DATE_LEN + 1).
 * Returns RESP_DATE_LEN, or -1 if cap is too small or t is out of range. */
int resp_format_date(time_t t, char *dst, size_t cap);

/* A growing header block in a caller's buffer. Once anything fails to fit,
 * `overflow` stays set and len stops growing; check it at the end. */
struct resp_buf {
	char *dst;
	size_t cap;
	size_t len;
	int overflow;
};

void resp_init(struct resp_buf *b, char *dst, size_t cap);
void resp_add(struct resp_buf *b, const char *s, size_t n);
void resp_adds(struct resp_buf *b, const char *s);
void resp_addu(struct resp_buf *b, uint64_t v);
/* "Name: value\r\n" */
void resp_header(struct resp_buf *b, const char *name, const char *value);
/* "HTTP/1.1 NNN Reason\r\n" */
void resp_status_line(struct resp_buf *b, int status);

/* The small built-in HTML page used when TOP/NNN.html does not exist. */
void resp_builtin_body(struct resp_buf *b, int status);

#endif
