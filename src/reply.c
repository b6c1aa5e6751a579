/* reply.c - building a response in a connection. See reply.h. */
#include "reply.h"

#include <assert.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cache.h"
#include "log.h"
#include "path.h"

#define SERVER_HEADER SHS_NAME "/" SHS_VERSION

void
reply_update_prefix(struct server *srv)
{
	const struct server_config *cfg = srv->cfg;
	struct resp_buf b;
	resp_init(&b, srv->head_prefix, sizeof srv->head_prefix);
	resp_header(&b, "Server", SERVER_HEADER);
	resp_header(&b, "Date", srv->date);
	if (cfg->cors)
		resp_header(&b, "Access-Control-Allow-Origin", "*");
	if (cfg->extra_headers)
		resp_adds(&b, cfg->extra_headers);
	/* Sized for the longest extra headers main accepts; never cut. */
	assert(!b.overflow);
	srv->head_prefix_len = b.len;
}

/* Status line and the headers every response carries. */
void
reply_common_headers(struct conn *c, struct resp_buf *b, int status)
{
	resp_status_line(b, status);
	resp_add(b, c->srv->head_prefix, c->srv->head_prefix_len);
	c->status = status; /* for the Cache-Control rule in reply_end_headers */
}

/* Starts the head of a response with a body of `length` bytes of `type`
 * in c->out: status line, common headers, Content-Type, Content-Length. */
void
reply_head_with_body(struct conn *c, struct resp_buf *b, int status, const char *type,
                     uint64_t length)
{
	resp_init(b, c->out, sizeof c->out);
	reply_common_headers(c, b, status);
	resp_header(b, "Content-Type", type);
	resp_adds(b, "Content-Length: ");
	resp_addu(b, length);
	resp_add(b, "\r\n", 2);
}

/* The one Cache-Control rule, for every response (see reply.h). */
static const char *
cache_control(const struct conn *c)
{
	const struct server_config *cfg = c->srv->cfg;
	if (c->no_cache)
		return "no-cache";
	int file = c->status == 200 || c->status == 206 || c->status == 304;
	if (file && cfg->cache_control)
		return cfg->cache_control;
	/* --dev / --live: an edit must show on the next load, so nothing
	 * may come from a heuristic cache (a script, a 404, a 301). */
	if (cfg->dev)
		return "no-cache";
	return NULL;
}

/* Cache-Control, the Connection header (when the default does not say it)
 * and the blank line. */
void
reply_end_headers(struct conn *c, struct resp_buf *b)
{
	const char *cc = cache_control(c);
	if (cc)
		resp_header(b, "Cache-Control", cc);
	c->no_cache = 0;
	if (!c->keep_alive)
		resp_header(b, "Connection", "close");
	else if (c->http10)
		resp_header(b, "Connection", "keep-alive");
	resp_add(b, "\r\n", 2);
}

/* Commits a planned response: out holds head_len bytes, then file_fd's
 * bytes [first, end) follow (unless HEAD). Takes ownership of file_fd. */
void
reply_plan(struct conn *c, int status, size_t head_len, int file_fd, off_t first, off_t end)
{
	c->status = status;
	c->no_cache = 0;
	c->out_off = 0;
	c->out_len = head_len;
	c->head_bytes = head_len;
	c->sent = 0;
	c->file_fd = -1;
	c->file_off = c->file_end = 0;
	if (file_fd >= 0 && (c->head_only || end <= first)) {
		close(file_fd);
	} else if (file_fd >= 0) {
		c->file_fd = file_fd;
		c->file_off = first;
		c->file_end = end;
	}
}

/* Like reply_plan(), with the body from a cached entry (HEAD sends none). */
void
reply_plan_mem(struct conn *c, int status, size_t head_len, struct cache_entry *e)
{
	reply_plan(c, status, head_len, -1, 0, 0);
	if (c->head_only || e->st.st_size == 0)
		return;
	cache_ref(e);
	c->entry = e;
	c->mem = e->body;
	c->mem_off = 0;
	c->mem_len = (size_t)e->st.st_size;
}

/* A head that cannot fit is our bug, not the client's: answer 500 plainly. */
void
reply_overflow(struct conn *c, int fd, int status)
{
	log_error("response head for status %d does not fit", status);
	if (fd >= 0)
		close(fd);
	c->keep_alive = 0;
	c->nranges = 0;
	struct resp_buf b;
	resp_init(&b, c->out, sizeof c->out);
	resp_status_line(&b, 500);
	resp_adds(&b, "Content-Length: 0\r\nConnection: close\r\n\r\n");
	reply_plan(c, 500, b.len, -1, 0, 0);
}

/* The error page TOP/NNN.html, if it is a regular file: fd or -1. */
int
reply_error_page(struct conn *c, int status, struct stat *st)
{
	char name[16];
	snprintf(name, sizeof name, "%d.html", status);
	int fd = path_open(c->srv->rootfd, name, st);
	if (fd >= 0 && !S_ISREG(st->st_mode)) {
		close(fd);
		fd = -1;
	}
	return fd;
}

/* An error or redirect. extra_name/extra_value add one header (Allow,
 * Location, Content-Range). The body is TOP/NNN.html when it exists, else a
 * small built-in page. */
void
reply_status(struct conn *c, int status, const char *extra_name, const char *extra_value)
{
	struct stat st;
	int fd = reply_error_page(c, status, &st);
	char body[512];
	struct resp_buf bb;
	resp_init(&bb, body, sizeof body);
	if (fd < 0)
		resp_builtin_body(&bb, status);

	struct resp_buf b;
	reply_head_with_body(c, &b, status, "text/html; charset=utf-8",
	                     fd >= 0 ? (uint64_t)st.st_size : bb.len);
	if (extra_name)
		resp_header(&b, extra_name, extra_value);
	reply_end_headers(c, &b);
	size_t head = b.len;
	if (fd < 0 && !c->head_only)
		resp_add(&b, body, bb.len);
	if (b.overflow) {
		reply_overflow(c, fd, status);
		return;
	}
	reply_plan(c, status, b.len, fd, 0, fd >= 0 ? st.st_size : 0);
	c->head_bytes = head;
}

/* Validators shared by 200, 206 and 304. Cache-Control is added by
 * reply_end_headers; these lines are also what the cache keeps as an
 * entry's fields, so they must not depend on more than the file. */
void
reply_validators(struct conn *c, struct resp_buf *b, const struct reply_file *fi)
{
	resp_header(b, "Last-Modified", fi->modified);
	resp_header(b, "ETag", fi->etag);
	if (fi->vary)
		resp_header(b, "Vary", "Accept-Encoding");
	/* --live: a page with the script is revalidated each time whatever
	 * --cache-control says, or live reload would show a stale page. */
	if (fi->live_html)
		c->no_cache = 1;
}
