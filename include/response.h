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

/* Reason phrase for a status code ("Not Found"); "Unknown" if we have none. */
const char *resp_reason(int status);

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
