/* reply.c - the response plan and the one header writer. See reply.h. */
#include "reply.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "cache.h"
#include "log.h"
#include "path.h"

#define SERVER_HEADER SHS_NAME "/" SHS_VERSION

void
reply_init(struct reply *r, char *buf, size_t cap, int keep_alive, int http10, int head_only)
{
	r->status = 0;
	r->keep_alive = keep_alive != 0;
	r->http10 = http10 != 0;
	r->head_only = head_only != 0;
	r->no_cache = 0;
	r->no_store = 0;
	r->no_log = 0;
	r->sse = 0;
	r->extra = r->extra_cc = r->extra_type = NULL;
	r->extra_len = r->extra_drop_len = 0;
	r->buf = buf;
	r->cap = cap;
	r->len = r->head_len = 0;
	r->entry = NULL;
	r->mem = NULL;
	r->mem_len = 0;
	r->fd = -1;
	r->off = r->end = 0;
	r->nranges = r->range_idx = 0;
}

void
reply_release(struct reply *r)
{
	if (r->entry)
		cache_unref(r->entry);
	r->entry = NULL;
	r->mem = NULL;
	r->mem_len = 0;
	if (r->fd >= 0)
		close(r->fd);
	r->fd = -1;
	r->off = r->end = 0;
	r->nranges = 0;
}

size_t
reply_format_prefix(const struct server_config *cfg, const char *date, char *dst, size_t cap)
{
	struct resp_buf b;
	resp_init(&b, dst, cap);
	resp_header(&b, "Server", SERVER_HEADER);
	resp_header(&b, "Date", date);
	if (cfg->cors)
		resp_header(&b, "Access-Control-Allow-Origin", "*");
	if (cfg->extra_headers)
		resp_adds(&b, cfg->extra_headers);
	return b.overflow ? 0 : b.len;
}

/* Does the block of "Name: value\r\n" lines set[0..n) set name[0..nn)? */
static int
sets_field(const char *set, size_t n, const char *name, size_t nn)
{
	for (size_t i = 0; i < n;) {
		if (i + nn < n && set[i + nn] == ':' && strncasecmp(set + i, name, nn) == 0)
			return 1;
		const char *eol = memchr(set + i, '\n', n - i);
		if (!eol)
			break;
		i = (size_t)(eol - set) + 1;
	}
	return 0;
}

/* The prefix without the lines _headers replaces (Server, --cors,
 * --header lines: _headers applies after them). */
static void
add_prefix(const struct site *s, const struct reply *r, struct resp_buf *b)
{
	const char *p = s->head_prefix;
	size_t n = s->head_prefix_len, set = r->extra_len + r->extra_drop_len;
	for (size_t i = 0; i < n && set;) {
		const char *eol = memchr(p + i, '\n', n - i);
		size_t e = eol ? (size_t)(eol - p) + 1 : n;
		const char *colon = memchr(p + i, ':', e - i);
		if (!colon || !sets_field(r->extra, set, p + i, (size_t)(colon - p) - i))
			resp_add(b, p + i, e - i);
		i = e;
	}
	if (!set)
		resp_add(b, p, n);
}

void
reply_begin(const struct site *s, struct reply *r, struct resp_buf *b, int status)
{
	resp_init(b, r->buf, r->cap);
	resp_status_line(b, status);
	add_prefix(s, r, b);
	r->status = status; /* for the Cache-Control rule in reply_end_headers */
}

void
reply_head_with_body(const struct site *s, struct reply *r, struct resp_buf *b, int status,
                     const char *type, uint64_t length)
{
	reply_begin(s, r, b, status);
	resp_header(b, "Content-Type", type);
	resp_adds(b, "Content-Length: ");
	resp_addu(b, length);
	resp_add(b, "\r\n", 2);
}

/* The one Cache-Control rule, for every response (see reply.h). */
static const char *
cache_control(const struct site *s, const struct reply *r)
{
	const struct server_config *cfg = s->cfg;
	if (r->no_store)
		return "no-store";
	if (r->no_cache)
		return "no-cache";
	if (r->extra_cc)
		return r->extra_cc; /* _headers: for this path, it replaces ours */
	/* 304 belongs with the file it revalidates: a cache refreshes its
	 * stored 200 with the 304's Cache-Control (RFC 9111 4.3.4). */
	int file = r->status == 200 || r->status == 206 || r->status == 304;
	if (file && cfg->cache_control)
		return cfg->cache_control;
	/* Redirects and errors (416 too: it says nothing lasting about the
	 * file) have their own lifetime, or a cache picks one itself. */
	if (r->status >= 300 && !file && cfg->error_cache_control)
		return cfg->error_cache_control;
	/* --dev / --live: an edit must show on the next load, so nothing
	 * may come from a heuristic cache (a script, a 404, a 301). An
	 * explicit --cache-control / --error-cache-control wins, as above. */
	if (cfg->dev)
		return "no-cache";
	return NULL;
}

void
reply_end_headers(const struct site *s, struct reply *r, struct resp_buf *b)
{
	const char *cc = cache_control(s, r);
	if (cc)
		resp_header(b, "Cache-Control", cc);
	if (r->extra_len)
		resp_add(b, r->extra, r->extra_len);
	r->no_cache = r->no_store = 0;
	if (!r->keep_alive)
		resp_header(b, "Connection", "close");
	else if (r->http10)
		resp_header(b, "Connection", "keep-alive");
	resp_add(b, "\r\n", 2);
}

void
reply_plan(struct reply *r, int status, size_t head_len, int fd, off_t first, off_t end)
{
	r->status = status;
	r->no_cache = r->no_store = 0;
	r->len = head_len;
	r->head_len = head_len;
	r->fd = -1;
	r->off = r->end = 0;
	if (fd >= 0 && (r->head_only || end <= first)) {
		close(fd);
	} else if (fd >= 0) {
		r->fd = fd;
		r->off = first;
		r->end = end;
	}
}

void
reply_plan_mem(struct reply *r, int status, size_t head_len, struct cache_entry *e)
{
	reply_plan(r, status, head_len, -1, 0, 0);
	if (r->head_only || e->st.st_size == 0)
		return;
	cache_ref(e);
	r->entry = e;
	r->mem = e->body;
	r->mem_len = (size_t)e->st.st_size;
}

void
reply_overflow(struct reply *r, int fd, int status)
{
	log_error("response head for status %d does not fit", status);
	if (fd >= 0)
		close(fd);
	r->keep_alive = 0;
	r->nranges = 0;
	struct resp_buf b;
	resp_init(&b, r->buf, r->cap);
	resp_status_line(&b, 500);
	resp_adds(&b, "Content-Length: 0\r\nConnection: close\r\n\r\n");
	reply_plan(r, 500, b.len, -1, 0, 0);
}

int
reply_error_page(const struct site *s, int status, struct stat *st)
{
	char name[16];
	snprintf(name, sizeof name, "%d.html", status);
	/* Opened as a request for it would be (a link to a dotfile is not
	 * a page to show). */
	int fd = path_open_ex(s->rootfd, name, s->cfg->follow_symlinks, s->cfg->dotfiles, st);
	if (fd >= 0 && !S_ISREG(st->st_mode)) {
		close(fd);
		fd = -1;
	}
	return fd;
}

/* 1xx, 204 and 304 never carry content, nor Content-Length (RFC 9110
 * 8.6, 15.3.5, 15.4.5). */
static int
no_content(int status)
{
	return status < 200 || status == 204 || status == 304;
}

void
reply_status(const struct site *s, struct reply *r, int status, const char *extra_name,
             const char *extra_value)
{
	if (no_content(status)) {
		struct resp_buf b;
		reply_begin(s, r, &b, status);
		if (extra_name)
			resp_header(&b, extra_name, extra_value);
		reply_end_headers(s, r, &b);
		if (b.overflow)
			reply_overflow(r, -1, status);
		else
			reply_plan(r, status, b.len, -1, 0, 0);
		return;
	}
	struct stat st;
	int fd = reply_error_page(s, status, &st);
	char body[512];
	struct resp_buf bb;
	resp_init(&bb, body, sizeof body);
	if (fd < 0)
		resp_builtin_body(&bb, status);

	struct resp_buf b;
	reply_head_with_body(s, r, &b, status, "text/html; charset=utf-8",
	                     fd >= 0 ? (uint64_t)st.st_size : bb.len);
	if (extra_name)
		resp_header(&b, extra_name, extra_value);
	reply_end_headers(s, r, &b);
	size_t head = b.len;
	if (fd < 0 && !r->head_only)
		resp_add(&b, body, bb.len);
	if (b.overflow) {
		reply_overflow(r, fd, status);
		return;
	}
	reply_plan(r, status, b.len, fd, 0, fd >= 0 ? st.st_size : 0);
	r->head_len = head;
}

void
reply_error(const struct site *s, struct reply *r, int status)
{
	r->nranges = 0;
	/* A malformed request says little good about what follows it on the
	 * connection: close after answering, as nginx does (response.c's table
	 * says which statuses mean that). */
	if (resp_close_after(status))
		r->keep_alive = 0;
	reply_status(s, r, status, status == 405 ? "Allow" : NULL, REPLY_ALLOW);
}

void
reply_generated(const struct site *s, struct reply *r, int fd, const char *type)
{
	struct stat st;
	if (fstat(fd, &st) != 0) {
		close(fd);
		reply_error(s, r, 500);
		return;
	}
	struct resp_buf b;
	reply_head_with_body(s, r, &b, 200, type, (uint64_t)st.st_size);
	r->no_cache = 1; /* reply_end_headers writes it */
	resp_header(&b, "Vary", "Accept");
	reply_end_headers(s, r, &b);
	if (b.overflow) {
		reply_overflow(r, fd, 200);
		return;
	}
	reply_plan(r, 200, b.len, fd, 0, st.st_size);
}

/* Validators shared by 200, 206 and 304. Cache-Control is added by
 * reply_end_headers; these lines are also what the cache keeps as an
 * entry's fields, so they must not depend on more than the file. */
void
reply_validators(struct reply *r, struct resp_buf *b, const struct reply_file *fi)
{
	resp_header(b, "Last-Modified", fi->modified);
	resp_header(b, "ETag", fi->etag);
	if (fi->vary)
		resp_header(b, "Vary", "Accept-Encoding");
	/* --live: a page with the script is revalidated each time whatever
	 * --cache-control says, or live reload would show a stale page. */
	if (fi->live_html)
		r->no_cache = 1;
}
