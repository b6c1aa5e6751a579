/* serve.c - from a parsed request to a planned response. See serve.h. */
#include "serve.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cache.h"
#include "cond.h"
#include "listing.h"
#include "live.h"
#include "log.h"
#include "mime.h"
#include "path.h"
#include "range.h"
#include "response.h"
#include "suggest.h"

#define SERVER_HEADER SHS_NAME "/" SHS_VERSION
#define ALLOW "GET, HEAD, OPTIONS"

/* Status line and the headers every response carries. */
static void
common_headers(struct conn *c, struct resp_buf *b, int status)
{
	const struct server_config *cfg = c->srv->cfg;
	resp_status_line(b, status);
	resp_header(b, "Server", SERVER_HEADER);
	resp_header(b, "Date", c->srv->date);
	if (cfg->cors)
		resp_header(b, "Access-Control-Allow-Origin", "*");
	if (cfg->extra_headers)
		resp_adds(b, cfg->extra_headers);
}

/* Starts the head of a response with a body of `length` bytes of `type`
 * in c->out: status line, common headers, Content-Type, Content-Length. */
static void
begin_head(struct conn *c, struct resp_buf *b, int status, const char *type, uint64_t length)
{
	resp_init(b, c->out, sizeof c->out);
	common_headers(c, b, status);
	resp_header(b, "Content-Type", type);
	resp_adds(b, "Content-Length: ");
	resp_addu(b, length);
	resp_add(b, "\r\n", 2);
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

/* Commits a planned response: out holds head_len bytes, then file_fd's
 * bytes [first, end) follow (unless HEAD). Takes ownership of file_fd. */
static void
plan(struct conn *c, int status, size_t head_len, int file_fd, off_t first, off_t end)
{
	c->status = status;
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

/* Like plan(), with the body from a cached entry (HEAD sends none). */
static void
plan_mem(struct conn *c, int status, size_t head_len, struct cache_entry *e)
{
	plan(c, status, head_len, -1, 0, 0);
	if (c->head_only || e->st.st_size == 0)
		return;
	cache_ref(e);
	c->entry = e;
	c->mem = e->body;
	c->mem_off = 0;
	c->mem_len = (size_t)e->st.st_size;
}

/* A head that cannot fit is our bug, not the client's: answer 500 plainly. */
static void
plan_overflow(struct conn *c, int fd, int status)
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
	plan(c, 500, b.len, -1, 0, 0);
}

/* The error page TOP/NNN.html, if it is a regular file: fd or -1. */
static int
open_error_page(struct conn *c, int status, struct stat *st)
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
	begin_head(c, &b, status, "text/html; charset=utf-8", fd >= 0 ? (uint64_t)st.st_size : bb.len);
	if (extra_name)
		resp_header(&b, extra_name, extra_value);
	end_headers(c, &b);
	size_t head = b.len;
	if (fd < 0 && !c->head_only)
		resp_add(&b, body, bb.len);
	if (b.overflow) {
		plan_overflow(c, fd, status);
		return;
	}
	plan(c, status, b.len, fd, 0, fd >= 0 ? st.st_size : 0);
	c->head_bytes = head;
}

/* --dev: a 404 that links to the file the client probably meant, put
 * into TOP/404.html (before </body>) or the built-in page. */
static int
respond_suggestion(struct conn *c, const char *path, size_t len)
{
	char sug[SHS_PATH_MAX], enc[3 * SHS_PATH_MAX];
	size_t n = suggest_path(c->srv->rootfd, path, len, c->srv->cfg->dotfiles, sug, sizeof sug);
	long el = n ? path_encode(sug, n, enc, sizeof enc) : -1;
	if (el < 0)
		return 0;
	char snippet[2 * sizeof enc + 128];
	struct resp_buf sb;
	resp_init(&sb, snippet, sizeof snippet);
	resp_adds(&sb, "<p class=\"shs-suggestion\">Did you mean <a href=\"/");
	for (int pass = 0; pass < 2; pass++) {
		for (long i = 0; i < el; i++) /* '&' is the one kept byte HTML minds */
			if (enc[i] == '&')
				resp_adds(&sb, "&amp;");
			else
				resp_add(&sb, enc + i, 1);
		resp_adds(&sb, pass == 0 ? "\">/" : "</a>?</p>\n");
	}
	struct stat st;
	int fd = open_error_page(c, 404, &st);
	size_t base = fd >= 0 && st.st_size <= (1 << 20) ? (size_t)st.st_size : 512;
	char *body = sb.overflow ? NULL : malloc(base + sb.len);
	size_t blen = 0;
	if (body && fd >= 0 && st.st_size <= (1 << 20)) {
		while (blen < base) {
			ssize_t r = pread(fd, body + blen, base - blen, (off_t)blen);
			if (r <= 0)
				break;
			blen += (size_t)r;
		}
	} else if (body) {
		struct resp_buf bb;
		resp_init(&bb, body, base);
		resp_builtin_body(&bb, 404);
		blen = bb.overflow ? 0 : bb.len;
	}
	if (fd >= 0)
		close(fd);
	if (!body || blen == 0) {
		free(body);
		return 0;
	}
	size_t at = live_inject_at(body, blen);
	memmove(body + at + sb.len, body + at, blen - at);
	memcpy(body + at, snippet, sb.len);
	struct cache_entry *e = cache_private(body, blen + sb.len, "text/html; charset=utf-8");
	if (!e)
		return 0;
	struct resp_buf b;
	begin_head(c, &b, 404, "text/html; charset=utf-8", (uint64_t)e->st.st_size);
	resp_header(&b, "Cache-Control", "no-cache");
	end_headers(c, &b);
	if (b.overflow)
		plan_overflow(c, -1, 404);
	else
		plan_mem(c, 404, b.len, e);
	cache_unref(e);
	return 1;
}

void
serve_error(struct conn *c, int status)
{
	c->nranges = 0;
	/* A malformed request says little good about what follows it on the
	 * connection: close after answering, as nginx does. */
	if (status == 400 || status == 414 || status == 431 || status == 505)
		c->keep_alive = 0;
	respond_status(c, status, status == 405 ? "Allow" : NULL, ALLOW);
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
	if (pr->query_len) {
		memcpy(loc + w, pr->query, pr->query_len);
		w += pr->query_len;
	}
	loc[w] = '\0';
	respond_status(c, 301, "Location", loc);
}

/* OPTIONS (any path, or "*"): 204 with Allow, and a CORS preflight answer
 * when --cors is on and the client asked for one. */
static void
respond_options(struct conn *c, const struct http_request *req)
{
	struct resp_buf b;
	resp_init(&b, c->out, sizeof c->out);
	common_headers(c, &b, 204);
	resp_header(&b, "Allow", ALLOW);
	if (c->srv->cfg->cors && http_find_header(req, "access-control-request-method")) {
		resp_header(&b, "Access-Control-Allow-Methods", ALLOW);
		const struct http_header *h =
		    http_find_header(req, "access-control-request-headers");
		if (h && h->value.len > 0) {
			resp_adds(&b, "Access-Control-Allow-Headers: ");
			resp_add(&b, h->value.p, h->value.len);
			resp_add(&b, "\r\n", 2);
		}
		resp_header(&b, "Access-Control-Max-Age", "86400");
	}
	end_headers(c, &b);
	if (b.overflow) {
		plan_overflow(c, -1, 204);
		return;
	}
	plan(c, 204, b.len, -1, 0, 0);
}

/* What a file response needs to know besides the fd. */
struct file_info {
	const char *name; /* the path asked for: its extension gives the type */
	size_t name_len;
	const char *encoding; /* Content-Encoding of a sidecar, or NULL */
	int vary;             /* a fresh sidecar exists: Vary: Accept-Encoding */
	struct cache_entry *entry; /* the body is cached here (then fd is -1) */
	int live_html;             /* --live: the page gets the reload script */
	char etag[COND_ETAG_MAX];
	size_t etag_len;
	char modified[RESP_DATE_LEN + 1];
};

/* Validators and caching headers shared by 200, 206 and 304. */
static void
validator_headers(struct conn *c, struct resp_buf *b, const struct file_info *fi)
{
	resp_header(b, "Last-Modified", fi->modified);
	resp_header(b, "ETag", fi->etag);
	if (fi->vary)
		resp_header(b, "Vary", "Accept-Encoding");
	/* --live: edits must always show, so pages are revalidated each time. */
	if (fi->live_html)
		resp_header(b, "Cache-Control", "no-cache");
	else if (c->srv->cfg->cache_control)
		resp_header(b, "Cache-Control", c->srv->cfg->cache_control);
}

static void
respond_not_modified(struct conn *c, int fd, const struct file_info *fi)
{
	if (fd >= 0)
		close(fd);
	struct resp_buf b;
	resp_init(&b, c->out, sizeof c->out);
	common_headers(c, &b, 304);
	validator_headers(c, &b, fi);
	end_headers(c, &b);
	if (b.overflow) {
		plan_overflow(c, -1, 304);
		return;
	}
	plan(c, 304, b.len, -1, 0, 0);
}

/* "\r\n--B\r\nContent-Type: T\r\nContent-Range: bytes a-b/size\r\n\r\n" */
static void
part_header(struct resp_buf *b, const struct conn *c, const struct range *r)
{
	resp_adds(b, "\r\n--");
	resp_adds(b, c->srv->boundary);
	resp_adds(b, "\r\nContent-Type: ");
	resp_adds(b, c->part_type);
	resp_adds(b, "\r\nContent-Range: bytes ");
	resp_addu(b, r->first);
	resp_add(b, "-", 1);
	resp_addu(b, r->last);
	resp_add(b, "/", 1);
	resp_addu(b, (uint64_t)c->file_size);
	resp_adds(b, "\r\n\r\n");
}

static void
part_trailer(struct resp_buf *b, const struct conn *c)
{
	resp_adds(b, "\r\n--");
	resp_adds(b, c->srv->boundary);
	resp_adds(b, "--\r\n");
}

int
serve_next_part(struct conn *c)
{
	if (c->nranges == 0 || c->range_idx >= c->nranges)
		return 0;
	c->range_idx++;
	struct resp_buf b;
	resp_init(&b, c->out, sizeof c->out);
	if (c->range_idx < c->nranges) {
		const struct range *r = &c->ranges[c->range_idx];
		part_header(&b, c, r);
		c->file_off = (off_t)r->first;
		c->file_end = (off_t)r->last + 1;
	} else {
		part_trailer(&b, c);
		c->file_off = c->file_end = 0;
	}
	c->out_off = 0;
	c->out_len = b.len;
	return 1;
}

/* 206 for the ranges in c->ranges: one part inline, several as
 * multipart/byteranges whose exact length is known up front. */
static void
respond_ranges(struct conn *c, int fd, const struct stat *st, const struct file_info *fi,
               const char *type)
{
	struct resp_buf b;
	resp_init(&b, c->out, sizeof c->out);
	common_headers(c, &b, 206);
	const struct range *r0 = &c->ranges[0];
	if (c->nranges == 1) {
		resp_header(&b, "Content-Type", type);
		resp_adds(&b, "Content-Length: ");
		resp_addu(&b, r0->last - r0->first + 1);
		resp_adds(&b, "\r\nContent-Range: bytes ");
		resp_addu(&b, r0->first);
		resp_add(&b, "-", 1);
		resp_addu(&b, r0->last);
		resp_add(&b, "/", 1);
		resp_addu(&b, (uint64_t)st->st_size);
		resp_add(&b, "\r\n", 2);
	} else {
		uint64_t total = 0;
		char scratch[512];
		struct resp_buf sb;
		for (unsigned i = 0; i < c->nranges; i++) {
			resp_init(&sb, scratch, sizeof scratch);
			part_header(&sb, c, &c->ranges[i]);
			total += sb.len + c->ranges[i].last - c->ranges[i].first + 1;
		}
		resp_init(&sb, scratch, sizeof scratch);
		part_trailer(&sb, c);
		total += sb.len;
		resp_adds(&b, "Content-Type: multipart/byteranges; boundary=");
		resp_adds(&b, c->srv->boundary);
		resp_adds(&b, "\r\nContent-Length: ");
		resp_addu(&b, total);
		resp_add(&b, "\r\n", 2);
	}
	if (fi->encoding)
		resp_header(&b, "Content-Encoding", fi->encoding);
	validator_headers(c, &b, fi);
	end_headers(c, &b);
	size_t head = b.len;
	if (c->nranges > 1 && !c->head_only)
		part_header(&b, c, r0);
	if (b.overflow) {
		plan_overflow(c, fd, 206);
		return;
	}
	if (c->nranges == 1 || c->head_only)
		c->nranges = 0; /* nothing more to interleave */
	plan(c, 206, b.len, fd, (off_t)r0->first, (off_t)r0->last + 1);
	c->head_bytes = head;
}

/* --live: the page with the reload script put in, built in memory. The
 * file on disk is never touched; ranges are not offered on this variant. */
static void
respond_injected(struct conn *c, int fd, const struct stat *st, const struct file_info *fi,
                 const char *type)
{
	size_t size = (size_t)st->st_size;
	char *body = size <= SHS_LIVE_INJECT_MAX ? malloc(size + live_script_len) : NULL;
	size_t got = 0;
	while (body && got < size) {
		ssize_t n = pread(fd, body + got, size - got, (off_t)got);
		if (n <= 0)
			break;
		got += (size_t)n;
	}
	close(fd);
	struct cache_entry *e = NULL;
	if (body && got == size) {
		size_t at = live_inject_at(body, size);
		memmove(body + at + live_script_len, body + at, size - at);
		memcpy(body + at, live_script, live_script_len);
		e = cache_private(body, size + live_script_len, type);
		body = NULL;
	}
	free(body);
	if (!e) {
		serve_error(c, 500);
		return;
	}
	struct resp_buf b;
	begin_head(c, &b, 200, type, (uint64_t)e->st.st_size);
	validator_headers(c, &b, fi);
	end_headers(c, &b);
	if (b.overflow)
		plan_overflow(c, -1, 200);
	else
		plan_mem(c, 200, b.len, e);
	cache_unref(e);
}

/* GET /__simple-http-server/events: a Server-Sent Events stream, held open
 * by the loop like any other connection and written on each change. */
static void
respond_events(struct conn *c)
{
	c->keep_alive = 0; /* the stream ends when the connection does */
	struct resp_buf b;
	resp_init(&b, c->out, sizeof c->out);
	common_headers(c, &b, 200);
	resp_header(&b, "Content-Type", "text/event-stream");
	resp_header(&b, "Cache-Control", "no-cache");
	end_headers(c, &b);
	size_t head = b.len;
	if (!c->head_only)
		resp_adds(&b, "retry: 1000\n: simple-http-server live reload\n\n");
	plan(c, 200, b.len, -1, 0, 0);
	c->head_bytes = head;
	c->sse = !c->head_only;
}

static void
respond_file(struct conn *c, const struct http_request *req, int fd, const struct stat *st,
             struct file_info *fi)
{
	if (!fi->entry) {
		fi->etag_len = 0;
		int n = cond_format_etag((uint64_t)st->st_ino, (uint64_t)st->st_size,
		                         st->st_mtim.tv_sec, st->st_mtim.tv_nsec, fi->etag,
		                         sizeof fi->etag);
		if (n < 0 ||
		    resp_format_date(st->st_mtim.tv_sec, fi->modified, sizeof fi->modified) < 0) {
			close(fd);
			serve_error(c, 500);
			return;
		}
		fi->etag_len = (size_t)n;
	}
	if (st->st_size > SHS_LIVE_INJECT_MAX)
		fi->live_html = 0; /* too big to rebuild in memory: sent as it is */
	if (fi->live_html && fi->etag_len + 5 < sizeof fi->etag) {
		/* The injected page is another representation: its own tag. */
		memcpy(fi->etag + fi->etag_len - 1, "-live\"", 7);
		fi->etag_len += 5;
	}

	switch (cond_evaluate(req, fi->etag, fi->etag_len, st->st_mtim.tv_sec)) {
	case COND_NOT_MODIFIED:
		respond_not_modified(c, fd, fi);
		return;
	case COND_FAILED:
		if (fd >= 0)
			close(fd);
		serve_error(c, 412);
		return;
	case COND_PROCEED:
		break;
	}

	const char *type = fi->entry ? fi->entry->type : mime_type(fi->name, fi->name_len);
	/* Range is defined for GET only (RFC 9110 14.2); HEAD gets GET's 200.
	 * Cached entries are only used for requests without Range. */
	const struct http_header *range = http_find_header(req, "range");
	if (range && fd >= 0 && !fi->live_html && req->method == HTTP_METHOD_GET &&
	    cond_if_range(req, fi->etag, fi->etag_len, st->st_mtim.tv_sec)) {
		size_t nr;
		switch (range_parse(range->value.p, range->value.len, (uint64_t)st->st_size,
		                    c->ranges, &nr)) {
		case RANGE_OK:
			c->nranges = (unsigned char)nr;
			c->range_idx = 0;
			c->part_type = type;
			c->file_size = st->st_size;
			respond_ranges(c, fd, st, fi, type);
			return;
		case RANGE_UNSATISFIABLE: {
			char cr[40];
			snprintf(cr, sizeof cr, "bytes */%llu", (unsigned long long)st->st_size);
			close(fd);
			respond_status(c, 416, "Content-Range", cr);
			return;
		}
		case RANGE_IGNORE:
			break;
		}
	}

	if (fi->live_html) {
		respond_injected(c, fd, st, fi, type);
		return;
	}

	struct resp_buf b;
	begin_head(c, &b, 200, type, (uint64_t)st->st_size);
	if (fi->encoding)
		resp_header(&b, "Content-Encoding", fi->encoding);
	resp_header(&b, "Accept-Ranges", "bytes");
	validator_headers(c, &b, fi);
	end_headers(c, &b);
	if (b.overflow) {
		plan_overflow(c, fd, 200);
		return;
	}
	if (fd >= 0 && !fi->vary && !fi->entry) {
		/* Small enough and no sidecar to negotiate: keep it in memory so
		 * the next requests need no open, fstat, sendfile or close. */
		struct server *srv = c->srv;
		fi->entry = cache_fill(&srv->cache, fi->name, fi->name_len, fd, st, type, fi->etag,
		                       fi->etag_len, fi->modified, srv->now_ms);
		if (fi->entry) {
			close(fd);
			plan_mem(c, 200, b.len, fi->entry);
			cache_unref(fi->entry);
			return;
		}
	}
	if (fi->entry) {
		plan_mem(c, 200, b.len, fi->entry);
		return;
	}
	plan(c, 200, b.len, fd, 0, st->st_size);
}

/* Precompressed sidecars, best first when q-values tie. */
static const struct {
	const char *coding, *ext;
} sidecars[] = {
    {"br", ".br"},
    {"zstd", ".zst"},
    {"gzip", ".gz"},
};

/* Warns about a stale sidecar once, not on every request for it. */
static void
warn_stale(const char *path)
{
	static uint64_t warned[16];
	uint64_t h = 1469598103934665603u;
	for (const char *p = path; *p; p++)
		h = (h ^ (unsigned char)*p) * 1099511628211u;
	for (size_t i = 0; i < sizeof warned / sizeof warned[0]; i++)
		if (warned[i] == h)
			return;
	memmove(warned + 1, warned, sizeof warned - sizeof warned[0]);
	warned[0] = h;
	log_warn("not serving %s: older than the file it compresses", path);
}

static int
newer_or_same(const struct timespec *a, const struct timespec *b)
{
	return a->tv_sec > b->tv_sec || (a->tv_sec == b->tv_sec && a->tv_nsec >= b->tv_nsec);
}

/* If a fresh sidecar of path exists and the client accepts its coding,
 * swaps *fd and *st for the best one. path has room for the extension. */
static void
choose_sidecar(struct conn *c, const struct http_request *req, char *path, size_t len, int *fd,
               struct stat *st, struct file_info *fi)
{
	const struct http_header *ae = http_find_header(req, "accept-encoding");
	int best_q = 0, best_fd = -1;
	struct stat best_st;
	for (size_t i = 0; i < sizeof sidecars / sizeof sidecars[0]; i++) {
		strcpy(path + len, sidecars[i].ext);
		struct stat sst;
		int sfd = path_open(c->srv->rootfd, path, &sst);
		if (sfd < 0)
			continue;
		if (!S_ISREG(sst.st_mode)) {
			close(sfd);
			continue;
		}
		if (!newer_or_same(&sst.st_mtim, &st->st_mtim)) {
			warn_stale(path);
			close(sfd);
			continue;
		}
		fi->vary = 1;
		int q = ae ? http_coding_q(ae->value, sidecars[i].coding) : 0;
		if (q > best_q) {
			if (best_fd >= 0)
				close(best_fd);
			best_q = q;
			best_fd = sfd;
			best_st = sst;
			fi->encoding = sidecars[i].coding;
		} else {
			close(sfd);
		}
	}
	path[len] = '\0';
	if (best_fd >= 0) {
		close(*fd);
		*fd = best_fd;
		*st = best_st;
	}
}

static const char index_name[] = "index.html";

/* Does the last segment of path have an extension ("a/b.css")? */
static int
has_extension(const char *path, size_t len)
{
	for (size_t i = len; i > 0 && path[i - 1] != '/'; i--)
		if (path[i - 1] == '.')
			return 1;
	return 0;
}

/* --clean-urls: "about" is about.html; --spa: any other extension-less path
 * is the top index.html. On success path and *len name what was opened. */
static int
open_fallback(struct conn *c, char *path, size_t *len, struct stat *st, int *live_html)
{
	const struct server_config *cfg = c->srv->cfg;
	int fd = -ENOENT;
	if (cfg->clean_urls) {
		memcpy(path + *len, ".html", 6);
		fd = path_open(c->srv->rootfd, path, st);
		if (fd >= 0 && S_ISREG(st->st_mode)) {
			*len += 5;
		} else {
			if (fd >= 0)
				close(fd);
			fd = -ENOENT;
			path[*len] = '\0';
		}
	}
	if (fd == -ENOENT && cfg->spa) {
		fd = path_open(c->srv->rootfd, index_name, st);
		if (fd >= 0) {
			memcpy(path, index_name, sizeof index_name);
			*len = sizeof index_name - 1;
		}
	}
	if (fd >= 0)
		*live_html = cfg->live;
	return fd;
}

void
serve_request(struct conn *c, const struct http_request *req)
{
	c->nranges = 0;
	if (req->method == HTTP_METHOD_UNKNOWN) {
		serve_error(c, 501);
		return;
	}
	int is_options = req->method == HTTP_METHOD_OPTIONS;
	if (req->method != HTTP_METHOD_GET && req->method != HTTP_METHOD_HEAD && !is_options) {
		serve_error(c, 405);
		return;
	}
	if (is_options && req->target.len == 1 && req->target.p[0] == '*') {
		respond_options(c, req);
		return;
	}

	/* Room for "index.html" or a sidecar extension after the path. */
	char path[SHS_PATH_MAX + sizeof index_name + 8];
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
	if (is_options) {
		respond_options(c, req);
		return;
	}
	const struct server_config *cfg = c->srv->cfg;
	if (cfg->live && pr.len == sizeof LIVE_EVENTS_PATH - 1 &&
	    memcmp(path, LIVE_EVENTS_PATH, pr.len) == 0) {
		respond_events(c);
		return;
	}

	/* "dir/" goes straight for its index: one open in the common case. */
	size_t len = pr.len;
	if (pr.trailing_slash) {
		memcpy(path + len, index_name, sizeof index_name);
		len += sizeof index_name - 1;
	}
	int live_html = cfg->live && strncmp(mime_type(path, len), "text/html", 9) == 0;
	if (!live_html && !http_find_header(req, "range")) {
		struct server *srv = c->srv;
		struct cache_entry *e = cache_lookup(&srv->cache, path, len, srv->now_ms,
		                                     srv->rootfd, srv->cfg->precompressed);
		if (e) {
			struct file_info fi = {.name = path, .name_len = len, .entry = e};
			memcpy(fi.etag, e->etag, e->etag_len + 1);
			fi.etag_len = e->etag_len;
			memcpy(fi.modified, e->modified, sizeof fi.modified);
			respond_file(c, req, -1, &e->st, &fi);
			cache_unref(e);
			return;
		}
	}
	struct stat st;
	int fd = path_open(c->srv->rootfd, path, &st);
	if (fd == -ENOENT && !pr.trailing_slash && (cfg->clean_urls || cfg->spa) &&
	    !has_extension(path, len))
		fd = open_fallback(c, path, &len, &st, &live_html);
	if (fd == -ENOENT && pr.trailing_slash && c->srv->cfg->listing) {
		path[pr.len] = '\0';
		listing_respond(c, req, path, pr.len);
		return;
	}
	if (fd < 0) {
		int status = path_errno_status(fd);
		if (status >= 500)
			log_warn("open %s: %s", path, strerror(-fd));
		if (status == 404 && cfg->dev) {
			path[pr.len] = '\0';
			if (respond_suggestion(c, path, pr.len))
				return;
		}
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
	struct file_info fi = {.name = path, .name_len = len, .live_html = live_html};
	if (c->srv->cfg->precompressed && !live_html)
		choose_sidecar(c, req, path, len, &fd, &st, &fi);
	respond_file(c, req, fd, &st, &fi);
}

void
serve_file_fd(struct conn *c, const struct http_request *req, int fd, const char *type)
{
	struct stat st;
	if (fstat(fd, &st) != 0) {
		close(fd);
		serve_error(c, 500);
		return;
	}
	(void)req;
	struct resp_buf b;
	begin_head(c, &b, 200, type, (uint64_t)st.st_size);
	resp_header(&b, "Cache-Control", "no-cache");
	resp_header(&b, "Vary", "Accept");
	end_headers(c, &b);
	if (b.overflow) {
		plan_overflow(c, fd, 200);
		return;
	}
	plan(c, 200, b.len, fd, 0, st.st_size);
}
