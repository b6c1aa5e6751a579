/* serve.c - from a parsed request to a planned response. See serve.h. */
#include "serve.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log.h"
#include "mime.h"
#include "path.h"
#include "response.h"

#define SERVER_HEADER SHS_NAME "/" SHS_VERSION

/* Status line and the headers every response carries. */
static void
common_headers(struct conn *c, struct resp_buf *b, int status)
{
	resp_status_line(b, status);
	resp_header(b, "Server", SERVER_HEADER);
	resp_header(b, "Date", c->srv->date);
}

/* Connection header (when the default does not say it) and the blank line. */
static void
end_headers(struct conn *c, struct resp_buf *b)
{
	if (!c->keep_alive)
		resp_header(b, "Connection", "close");
	else if (c->http10)
		resp_header(b, "Connection", "keep-alive");
	resp_add(b, "\r\n", 2);
}

static void
plan(struct conn *c, int status, size_t head_len, int file_fd, off_t size)
{
	c->status = status;
	c->out_off = 0;
	c->out_len = head_len;
	c->file_fd = -1;
	c->file_off = c->file_end = 0;
	if (file_fd >= 0 && (c->head_only || size == 0)) {
		close(file_fd);
	} else if (file_fd >= 0) {
		c->file_fd = file_fd;
		c->file_end = size;
	}
}

/* The error page TOP/NNN.html, if it is a regular file: fd or -1. */
static int
open_error_page(struct conn *c, int status, struct stat *st)
{
	char name[16];
	snprintf(name, sizeof name, "%d.html", status);
	int fd = path_open(c->srv->rootfd, name, st);
	if (fd < 0)
		return -1;
	if (!S_ISREG(st->st_mode)) {
		close(fd);
		return -1;
	}
	return fd;
}

/* An error or redirect. extra_name/extra_value add one header (Allow,
 * Location). Never fails: a page that does not fit falls back to a bare
 * status line, and a missing custom page to the built-in one. */
static void
respond_status(struct conn *c, int status, const char *extra_name, const char *extra_value)
{
	struct stat st;
	int fd = open_error_page(c, status, &st);
	char body[512];
	struct resp_buf bb;
	resp_init(&bb, body, sizeof body);
	if (fd < 0)
		resp_builtin_body(&bb, status);

	struct resp_buf b;
	resp_init(&b, c->out, sizeof c->out);
	common_headers(c, &b, status);
	resp_header(&b, "Content-Type", "text/html; charset=utf-8");
	resp_adds(&b, "Content-Length: ");
	resp_addu(&b, fd >= 0 ? (uint64_t)st.st_size : bb.len);
	resp_add(&b, "\r\n", 2);
	if (extra_name)
		resp_header(&b, extra_name, extra_value);
	end_headers(c, &b);
	if (fd < 0 && !c->head_only)
		resp_add(&b, body, bb.len);
	if (b.overflow) {
		/* Cannot happen with our limits; still answer something true. */
		log_error("response for status %d does not fit", status);
		if (fd >= 0)
			close(fd);
		c->keep_alive = 0;
		resp_init(&b, c->out, sizeof c->out);
		resp_status_line(&b, 500);
		resp_adds(&b, "Content-Length: 0\r\nConnection: close\r\n\r\n");
		plan(c, 500, b.len, -1, 0);
		return;
	}
	plan(c, status, b.len, fd, fd >= 0 ? st.st_size : 0);
}

void
serve_error(struct conn *c, int status)
{
	respond_status(c, status, NULL, NULL);
}

/* 301 to the directory with its slash. The Location is rebuilt from the
 * normalised path, percent-encoded, never from the raw target: "//evil/x" or
 * "/\evil" must not turn into a link off this site. */
static void
redirect_to_dir(struct conn *c, const char *path, size_t len, const struct path_result *pr)
{
	char loc[SHS_LOCATION_MAX];
	loc[0] = '/';
	long n = path_encode(path, len, loc + 1, sizeof loc - 2);
	if (n < 0 || (size_t)n + 2 + pr->query_len >= sizeof loc) {
		serve_error(c, 414);
		return;
	}
	size_t w = (size_t)n + 1;
	loc[w++] = '/';
	memcpy(loc + w, pr->query, pr->query_len);
	w += pr->query_len;
	loc[w] = '\0';
	respond_status(c, 301, "Location", loc);
}

static void
respond_file(struct conn *c, int fd, const struct stat *st, const char *name, size_t name_len)
{
	char modified[RESP_DATE_LEN + 1];
	struct resp_buf b;
	resp_init(&b, c->out, sizeof c->out);
	common_headers(c, &b, 200);
	resp_header(&b, "Content-Type", mime_type(name, name_len));
	resp_adds(&b, "Content-Length: ");
	resp_addu(&b, (uint64_t)st->st_size);
	resp_add(&b, "\r\n", 2);
	if (resp_format_date(st->st_mtim.tv_sec, modified, sizeof modified) > 0)
		resp_header(&b, "Last-Modified", modified);
	end_headers(c, &b);
	if (b.overflow) {
		close(fd);
		serve_error(c, 500);
		return;
	}
	plan(c, 200, b.len, fd, st->st_size);
}

static const char index_name[] = "index.html";

void
serve_request(struct conn *c, const struct http_request *req)
{
	if (req->method == HTTP_METHOD_UNKNOWN) {
		serve_error(c, 501);
		return;
	}
	if (req->method != HTTP_METHOD_GET && req->method != HTTP_METHOD_HEAD) {
		respond_status(c, 405, "Allow", "GET, HEAD");
		return;
	}

	/* Room for the index name after a directory path. */
	char path[SHS_PATH_MAX + sizeof index_name];
	struct path_result pr;
	switch (path_normalize(req->target.p, req->target.len, c->srv->cfg->dotfiles, path,
	                       SHS_PATH_MAX, &pr)) {
	case PATH_OK:
		break;
	case PATH_BAD:
		serve_error(c, 400);
		return;
	case PATH_FORBIDDEN:
		serve_error(c, 403);
		return;
	case PATH_HIDDEN:
		serve_error(c, 404);
		return;
	case PATH_TOO_LONG:
		serve_error(c, 414);
		return;
	}

	/* "dir/" goes straight for its index: one open in the common case.
	 * A missing directory and a directory without an index are both 404
	 * until listings exist. */
	size_t len = pr.len;
	if (pr.trailing_slash) {
		memcpy(path + len, index_name, sizeof index_name);
		len += sizeof index_name - 1;
	}
	struct stat st;
	int fd = path_open(c->srv->rootfd, path, &st);
	if (fd < 0) {
		int status = path_errno_status(fd);
		if (status >= 500)
			log_warn("open %s: %s", path, strerror(-fd));
		serve_error(c, status);
		return;
	}
	if (S_ISDIR(st.st_mode) && !pr.trailing_slash) {
		close(fd);
		redirect_to_dir(c, path, pr.len, &pr);
		return;
	}
	if (!S_ISREG(st.st_mode)) {
		close(fd);
		serve_error(c, 403);
		return;
	}
	respond_file(c, fd, &st, path, len);
}
