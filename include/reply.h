/* reply.h - the response plan: what to send, decided apart from the
 * connection that sends it (suckless quark's split). A responder, a
 * function of (site, parsed request), fills a struct reply: the status, the
 * header block (written into a buffer the connection lends), and the body
 * (nothing, a cached entry, a range of an open file, or an event stream).
 * conn.c carries the plan out and is the only place its fd is closed after
 * it is handed over.
 *
 * This module is the one header writer and the one error constructor:
 * rules that hold for every response (HEAD has no body, the Cache-Control
 * rule of dev mode, Connection, close after a malformed request) live here
 * and nowhere else. Shared by serve.c, byteranges.c, listing.c, suggest.c
 * and live.c; it includes neither conn.h nor server.h. */
#ifndef SHS_REPLY_H
#define SHS_REPLY_H

#include <stdint.h>
#include <sys/stat.h>
#include <sys/types.h>

#include "cond.h"
#include "range.h"
#include "response.h"
#include "site.h"

struct cache_entry;

/* What OPTIONS and 405 answers say the server allows. */
#define REPLY_ALLOW "GET, HEAD, OPTIONS"

struct reply {
	int status; /* 0 until planned; for the access log after that */
	/* Set by the connection before the responder runs; a responder may
	 * clear keep_alive (never set it). */
	unsigned keep_alive : 1; /* go back to reading after this response */
	unsigned http10 : 1;     /* the request was HTTP/1.0 */
	unsigned head_only : 1;  /* HEAD: headers without the body */
	/* Set by responders. */
	unsigned no_cache : 1; /* the head being built gets Cache-Control: no-cache */
	unsigned no_store : 1; /* ... Cache-Control: no-store (wins over no_cache) */
	unsigned no_log : 1;   /* not for the access log (--health's answers) */
	unsigned sse : 1;      /* the answer opens an event stream */

	/* The head (and a small built-in body after it) in a buffer the
	 * connection lends: buf[0..len). head_len of those bytes are the head
	 * proper; the access log counts the rest as body. */
	char *buf;
	size_t cap, len, head_len;

	/* _headers lines for this response (rules.c), kept at the end of buf
	 * with cap lowered below them: extra_len bytes to send, then
	 * extra_drop_len of "Name:" lines it removes; both replace the prefix
	 * lines of those names. extra_cc replaces the Cache-Control;
	 * extra_type the Content-Type of a file's 200 and 206 (serve.c: it
	 * describes the file, so error pages, redirects, listings and 304s,
	 * which has none, keep their own). */
	const char *extra, *extra_cc, *extra_type;
	size_t extra_len, extra_drop_len;

	/* Then the body, in this order: a cached body (a reference held on
	 * entry), then fd's bytes [off, end). */
	struct cache_entry *entry;
	const char *mem;
	size_t mem_len;
	int fd;
	off_t off, end;

	/* multipart/byteranges: part range_idx of nranges is being sent;
	 * reply_next_part() formats each part's header into buf when the
	 * previous part ends. */
	unsigned char nranges, range_idx;
	off_t file_size;
	const char *part_type;
	struct range ranges[RANGE_MAX];
};

/* What a file response needs to know besides the fd. */
struct reply_file {
	const char *name; /* the path asked for: its extension gives the type */
	size_t name_len;
	const char *encoding;      /* Content-Encoding of a sidecar, or NULL */
	int vary;                  /* a fresh sidecar exists: Vary: Accept-Encoding */
	struct cache_entry *entry; /* the body is cached here (then fd is -1) */
	int live_html;             /* --live: the page gets the reload script */
	char etag[COND_ETAG_MAX];
	size_t etag_len;
	char modified[RESP_DATE_LEN + 1];
};

/* A fresh plan writing into buf[0..cap), with the request's flags. */
void reply_init(struct reply *r, char *buf, size_t cap, int keep_alive, int http10, int head_only);

/* Lets go of what the plan holds (the cached entry, the file), so the
 * connection can be reused. */
void reply_release(struct reply *r);

/* Formats Server, Date and the configured header lines (--cors, --header)
 * into dst; the length, or 0 if they do not fit. Once per second. */
size_t reply_format_prefix(const struct server_config *cfg, const char *date, char *dst,
                           size_t cap);

/* Starts the head in r->buf: status line and the headers every response
 * carries (Server, Date, CORS, --header lines); records the status. */
void reply_begin(const struct site *s, struct reply *r, struct resp_buf *b, int status);

/* reply_begin, then Content-Type and Content-Length for a body of `length`
 * bytes of `type`. */
void reply_head_with_body(const struct site *s, struct reply *r, struct resp_buf *b, int status,
                          const char *type, uint64_t length);

/* Cache-Control, the Connection header (when the default does not say it)
 * and the blank line. Every response head but reply_overflow's ends here,
 * and this is the only place that writes Cache-Control (one per response):
 *   - "no-store" if the responder set r->no_store (--health);
 *   - else "no-cache" if the responder set r->no_cache (listings, the
 *     event stream, --live pages with the script, their 304s);
 *   - else --cache-control VALUE on 200, 206 and 304 (files);
 *   - else --error-cache-control VALUE on every other 3xx, 4xx and 5xx
 *     (redirects, errors, 416);
 *   - else "no-cache" with --dev or --live (errors, redirects, files,
 *     304s), so a browser never runs a stale script after a reload;
 *   - else none. */
void reply_end_headers(const struct site *s, struct reply *r, struct resp_buf *b);

/* Commits a planned response: buf holds head_len bytes, then fd's bytes
 * [first, end) follow (unless HEAD). Takes ownership of fd. */
void reply_plan(struct reply *r, int status, size_t head_len, int fd, off_t first, off_t end);

/* Like reply_plan(), with the body from a cache entry (HEAD sends none). */
void reply_plan_mem(struct reply *r, int status, size_t head_len, struct cache_entry *e);

/* A head that cannot fit is our bug, not the client's: answer 500 plainly. */
void reply_overflow(struct reply *r, int fd, int status);

/* The error page TOP/NNN.html, if it is a regular file: fd or -1. */
int reply_error_page(const struct site *s, int status, struct stat *st);

/* An error or redirect with TOP/NNN.html or the built-in page as its body;
 * extra_name/extra_value add one header (Allow, Location, Content-Range,
 * Retry-After). */
void reply_status(const struct site *s, struct reply *r, int status, const char *extra_name,
                  const char *extra_value);

/* The one error constructor: reply_status with the status's rules (close
 * after a malformed request, Allow on 405). */
void reply_error(const struct site *s, struct reply *r, int status);

/* 200 with the whole of an already open, generated file (listings), sent
 * with Cache-Control: no-cache and Vary: Accept. Takes ownership of fd. */
void reply_generated(const struct site *s, struct reply *r, int fd, const char *type);

/* Last-Modified, ETag and Vary for 200, 206 and 304 (a --live page also
 * sets r->no_cache). */
void reply_validators(struct reply *r, struct resp_buf *b, const struct reply_file *fi);

#endif
