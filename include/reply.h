/* reply.h - building a response in a connection: the head's common lines,
 * the plan of what follows the head (the out buffer, a cached body, or a
 * range of an open file), and error pages with TOP/NNN.html as their body.
 * Shared by serve.c, byteranges.c, live.c and suggest.c. */
#ifndef SHS_REPLY_H
#define SHS_REPLY_H

#include <stdint.h>
#include <sys/stat.h>
#include <sys/types.h>

#include "cond.h"
#include "conn.h"
#include "response.h"

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

/* Status line and the headers every response carries (Server, Date, CORS,
 * --header lines); records status in c->status. */
void reply_common_headers(struct conn *c, struct resp_buf *b, int status);
/* Formats srv->head_prefix (Server, Date, --cors, --header) after the
 * date changed. */
void reply_update_prefix(struct server *srv);

/* Starts the head of a response with a body of `length` bytes of `type`
 * in c->out: status line, common headers, Content-Type, Content-Length. */
void reply_head_with_body(struct conn *c, struct resp_buf *b, int status, const char *type,
                          uint64_t length);

/* Cache-Control, the Connection header (when the default does not say it)
 * and the blank line. Every response head but reply_overflow's ends here,
 * and this is the only place that writes Cache-Control (one per response):
 *   - "no-cache" if the responder set c->no_cache (listings, the event
 *     stream, --live pages with the script, their 304s);
 *   - else --cache-control VALUE on 200, 206 and 304 (files: the status
 *     recorded by reply_common_headers);
 *   - else "no-cache" with --dev or --live (errors, redirects, files,
 *     304s), so a browser never runs a stale script after a reload;
 *   - else none. */
void reply_end_headers(struct conn *c, struct resp_buf *b);

/* Commits a planned response: out holds head_len bytes, then file_fd's
 * bytes [first, end) follow (unless HEAD). Takes ownership of file_fd. */
void reply_plan(struct conn *c, int status, size_t head_len, int file_fd, off_t first, off_t end);

/* Like reply_plan(), with the body from a cache entry (HEAD sends none). */
void reply_plan_mem(struct conn *c, int status, size_t head_len, struct cache_entry *e);

/* A head that cannot fit is our bug, not the client's: answer 500 plainly. */
void reply_overflow(struct conn *c, int fd, int status);

/* The error page TOP/NNN.html, if it is a regular file: fd or -1. */
int reply_error_page(struct conn *c, int status, struct stat *st);

/* An error or redirect with TOP/NNN.html or the built-in page as its body;
 * extra_name/extra_value add one header (Allow, Location, Content-Range). */
void reply_status(struct conn *c, int status, const char *extra_name, const char *extra_value);

/* Last-Modified, ETag and Vary for 200, 206 and 304 (a --live page also
 * sets c->no_cache). */
void reply_validators(struct conn *c, struct resp_buf *b, const struct reply_file *fi);

#endif
