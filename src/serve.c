/* serve.c - from a parsed request to a planned response. See serve.h. */
#include "serve.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "byteranges.h"
#include "cache.h"
#include "cond.h"
#include "explain.h"
#include "health.h"
#include "live.h"
#include "log.h"
#include "mime.h"
#include "path.h"
#include "precomp.h"
#include "range.h"
#include "reply.h"
#include "rules.h"
#include "response.h"

/* 301 to the directory with its slash. The Location is rebuilt from the
 * normalised path, percent-encoded, never from the raw target: "//evil/x" or
 * "/\evil" must not turn into a link off this site. */
static void
redirect_to_dir(const struct site *s, struct reply *r, const char *path, size_t len,
                const struct path_result *pr)
{
	char loc[SHS_LOCATION_MAX];
	loc[0] = '/';
	long n = path_encode(path, len, loc + 1, sizeof loc - 2);
	if (n < 0 || (size_t)n + 2 + pr->query_len >= sizeof loc) {
		reply_error(s, r, 414);
		return;
	}
	size_t w = (size_t)n + 1;
	loc[w++] = '/';
	if (pr->query_len) {
		memcpy(loc + w, pr->query, pr->query_len);
		w += pr->query_len;
	}
	loc[w] = '\0';
	reply_status(s, r, 301, "Location", loc);
}

/* Longest Access-Control-Allow-Headers value we echo. Browsers list the
 * few non-safelisted headers a script sets; a longer list is not echoed (the
 * preflight then fails in the browser, as it should for such a request),
 * and it always fits in r->buf beside the --header lines. */
#define CORS_HEADERS_MAX 1024

struct token_list {
	char *dst;
	size_t cap, len;
};

static int
add_token(struct http_slice t, void *arg)
{
	struct token_list *l = arg;
	size_t sep = l->len ? 2 : 0;
	if (!http_is_token(t) || t.len + sep > l->cap - l->len)
		return -1;
	memcpy(l->dst + l->len, ", ", sep);
	memcpy(l->dst + l->len + sep, t.p, t.len);
	l->len += sep + t.len;
	return 0;
}

/* Access-Control-Request-Headers is a list of field names: rebuilt into dst
 * as "a, b" from its tokens, or -1 when an element is not a token or the
 * list is too long. Raw request bytes never reach the response head. */
static long
cors_allow_headers(struct http_slice v, char *dst, size_t cap)
{
	struct token_list l = {dst, cap, 0};
	if (http_list_each(v, add_token, &l) != 0)
		return -1;
	return (long)l.len;
}

/* OPTIONS (any path, or "*"): 204 with Allow, and a CORS preflight answer
 * when --cors is on and the client asked for one with a valid method. */
static void
respond_options(const struct site *s, const struct http_request *req, struct reply *r)
{
	struct resp_buf b;
	reply_begin(s, r, &b, 204);
	resp_header(&b, "Allow", REPLY_ALLOW);
	const struct http_header *m = http_field(req, HTTP_FIELD_AC_REQUEST_METHOD);
	if (s->cfg->cors && m && http_is_token(m->value)) {
		resp_header(&b, "Access-Control-Allow-Methods", REPLY_ALLOW);
		const struct http_header *h = http_field(req, HTTP_FIELD_AC_REQUEST_HEADERS);
		char list[CORS_HEADERS_MAX];
		long n = h ? cors_allow_headers(h->value, list, sizeof list) : -1;
		if (n > 0) {
			resp_adds(&b, "Access-Control-Allow-Headers: ");
			resp_add(&b, list, (size_t)n);
			resp_add(&b, "\r\n", 2);
		}
		resp_header(&b, "Access-Control-Max-Age", "86400");
	}
	reply_end_headers(s, r, &b);
	if (b.overflow) {
		reply_overflow(r, -1, 204);
		return;
	}
	reply_plan(r, 204, b.len, -1, 0, 0);
}

static void
respond_not_modified(const struct site *s, struct reply *r, int fd, const struct reply_file *fi)
{
	if (fd >= 0)
		close(fd);
	struct resp_buf b;
	reply_begin(s, r, &b, 304);
	reply_validators(r, &b, fi);
	reply_end_headers(s, r, &b);
	if (b.overflow) {
		reply_overflow(r, -1, 304);
		return;
	}
	reply_plan(r, 304, b.len, -1, 0, 0);
}

/* ETag and Last-Modified of a file not in the cache: 0, or -1. */
static int
format_validators(const struct stat *st, struct reply_file *fi)
{
	fi->etag_len = 0;
	int n = cond_format_etag((uint64_t)st->st_size, st->st_mtim.tv_sec, st->st_mtim.tv_nsec,
	                         fi->encoding, fi->etag, sizeof fi->etag);
	if (n < 0 || resp_format_date(st->st_mtim.tv_sec, fi->modified, sizeof fi->modified) < 0)
		return -1;
	fi->etag_len = (size_t)n;
	return 0;
}

/* A Range request that applies (GET, If-Range passed): 206 or 416, and 1.
 * 0 when the whole file is to be sent (no Range, or one to ignore). */
static int
respond_range(const struct site *s, const struct http_request *req, struct reply *r, int fd,
              const struct stat *st, const struct reply_file *fi, const char *type)
{
	/* Range is defined for GET only (RFC 9110 14.2); HEAD gets GET's 200.
	 * Cached entries are only used for requests without Range. */
	const struct http_header *range = http_field(req, HTTP_FIELD_RANGE);
	if (!range || fd < 0 || fi->live_html || req->method != HTTP_METHOD_GET ||
	    !cond_if_range(req, fi->etag, fi->etag_len, st->st_mtim.tv_sec))
		return 0;
	size_t nr;
	switch (
	    range_parse(range->value.p, range->value.len, (uint64_t)st->st_size, r->ranges, &nr)) {
	case RANGE_OK:
		r->nranges = (unsigned char)nr;
		r->range_idx = 0;
		r->part_type = type;
		r->file_size = st->st_size;
		byteranges_respond(s, r, fd, st, fi, type);
		return 1;
	case RANGE_UNSATISFIABLE: {
		char cr[40];
		snprintf(cr, sizeof cr, "bytes */%llu", (unsigned long long)st->st_size);
		close(fd);
		reply_status(s, r, 416, "Content-Range", cr);
		return 1;
	}
	case RANGE_IGNORE:
		break;
	}
	return 0;
}

static void respond_whole(const struct site *s, struct reply *r, int fd, const struct stat *st,
                          struct reply_file *fi, const char *type);

static void
respond_file(const struct site *s, const struct http_request *req, struct reply *r, int fd,
             const struct stat *st, struct reply_file *fi)
{
	if (!fi->entry && format_validators(st, fi) < 0) {
		close(fd);
		reply_error(s, r, 500);
		return;
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
		respond_not_modified(s, r, fd, fi);
		return;
	case COND_FAILED:
		if (fd >= 0)
			close(fd);
		reply_error(s, r, 412);
		return;
	case COND_PROCEED:
		break;
	}

	/* The file's own type, and what is sent: a _headers Content-Type for
	 * the path replaces it (rules.c); the cache keeps the file's. */
	const char *type = fi->entry ? fi->entry->type : mime_type(fi->name, fi->name_len);
	const char *sent = r->extra_type ? r->extra_type : type;
	if (respond_range(s, req, r, fd, st, fi, sent))
		return;
	/* A --live page keeps the file's type: its copy with the script is
	 * shared by every path that reaches the file (an override is HTML
	 * here, see respond_path). */
	if (fi->live_html)
		live_respond_page(s, r, fd, st, fi, type);
	else
		respond_whole(s, r, fd, st, fi, type);
}

/* 200 with the whole file: from the cache, into the cache, or by sendfile.
 * type is the file's; r->extra_type, when set, is sent instead, and then
 * the head is formatted here and never kept as the entry's fields (they
 * serve every path that reaches the file). */
static void
respond_whole(const struct site *s, struct reply *r, int fd, const struct stat *st,
              struct reply_file *fi, const char *type)
{
	struct resp_buf b;
	reply_begin(s, r, &b, 200);
	size_t fields = b.len;
	if (fi->entry && fi->entry->fields_len && !r->extra_type) {
		resp_add(&b, fi->entry->fields, fi->entry->fields_len);
	} else {
		resp_header(&b, "Content-Type", r->extra_type ? r->extra_type : type);
		resp_adds(&b, "Content-Length: ");
		resp_addu(&b, (uint64_t)st->st_size);
		resp_add(&b, "\r\n", 2);
		if (fi->encoding)
			resp_header(&b, "Content-Encoding", fi->encoding);
		resp_header(&b, "Accept-Ranges", "bytes");
		reply_validators(r, &b, fi);
	}
	size_t fields_end = b.len;
	reply_end_headers(s, r, &b);
	if (b.overflow) {
		reply_overflow(r, fd, 200);
		return;
	}
	if (fd >= 0 && !fi->vary && !fi->entry) {
		/* Small enough and no sidecar to negotiate: keep it in memory so
		 * the next requests need no open, fstat, sendfile or close. */
		fi->entry = cache_fill(s->cache, fi->name, fi->name_len, fd, st, type, fi->etag,
		                       fi->etag_len, fi->modified, s->now_ms);
		if (fi->entry) {
			close(fd);
			if (!r->extra_type)
				cache_set_fields(fi->entry, r->buf + fields, fields_end - fields);
			reply_plan_mem(r, 200, b.len, fi->entry);
			cache_unref(fi->entry);
			return;
		}
	}
	if (fi->entry) {
		reply_plan_mem(r, 200, b.len, fi->entry);
		return;
	}
	reply_plan(r, 200, b.len, fd, 0, st->st_size);
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
open_fallback(const struct site *s, char *path, size_t *len, struct stat *st, int *live_html)
{
	const struct server_config *cfg = s->cfg;
	int fd = -ENOENT;
	if (cfg->clean_urls) {
		memcpy(path + *len, ".html", 6);
		fd = path_open_ex(s->rootfd, path, cfg->follow_symlinks, cfg->dotfiles, st);
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
		fd = path_open_ex(s->rootfd, index_name, cfg->follow_symlinks, cfg->dotfiles, st);
		if (fd >= 0) {
			memcpy(path, index_name, sizeof index_name);
			*len = sizeof index_name - 1;
		}
	}
	if (fd >= 0)
		*live_html = cfg->live;
	return fd;
}

/* A hit in the small-file cache: answered, 1; else 0. */
static int
respond_cached(const struct site *s, const struct http_request *req, struct reply *r,
               const char *path, size_t len)
{
	struct cache_entry *e =
	    cache_lookup(s->cache, path, len, s->now_ms, s->rootfd, s->cfg->precompressed);
	if (!e)
		return 0;
	struct reply_file fi = {.name = path, .name_len = len, .entry = e};
	memcpy(fi.etag, e->etag, e->etag_len + 1);
	fi.etag_len = e->etag_len;
	memcpy(fi.modified, e->modified, sizeof fi.modified);
	respond_file(s, req, r, -1, &e->st, &fi);
	cache_unref(e);
	return 1;
}

/* A normalised path: the cache, else open beneath the root, fall back
 * (--spa, --clean-urls), then the file, a redirect or an error. */
static void
respond_path(const struct site *s, const struct http_request *req, struct reply *r, char *path,
             const struct path_result *pr)
{
	const struct server_config *cfg = s->cfg;
	/* "dir/" goes straight for its index: one open in the common case. */
	size_t len = pr->len;
	if (pr->trailing_slash) {
		memcpy(path + len, index_name, sizeof index_name);
		len += sizeof index_name - 1;
	}
	/* A _headers Content-Type that is not HTML gets no script either. */
	const char *type = r->extra_type ? r->extra_type : mime_type(path, len);
	int live_html = cfg->live && strncmp(type, "text/html", 9) == 0;
	if (!live_html && !http_field(req, HTTP_FIELD_RANGE) &&
	    respond_cached(s, req, r, path, len))
		return;
	struct stat st;
	int fd = path_open_ex(s->rootfd, path, cfg->follow_symlinks, cfg->dotfiles, &st);
	struct reply_file fi = {.name = path, .name_len = len, .live_html = live_html};
	if (fd == -ENOENT && cfg->precompressed && !live_html) {
		/* x.gz without x (Debian's changelog.html.gz): a 404 for the
		 * clients that cannot take it says Vary too. */
		fd = precomp_only(s, req, path, len, &st, &fi);
		if (fd >= 0) {
			respond_file(s, req, r, fd, &st, &fi);
			return;
		}
		if (fi.vary) {
			reply_status(s, r, 404, "Vary", "Accept-Encoding");
			return;
		}
	}
	if (fd == -ENOENT && !pr->trailing_slash && (cfg->clean_urls || cfg->spa) &&
	    !has_extension(path, len))
		fd = open_fallback(s, path, &len, &st, &live_html);
	if (fd < 0) {
		explain_unopened(s, req, r, path, pr, fd);
		return;
	}
	if (S_ISDIR(st.st_mode) && !pr->trailing_slash) {
		close(fd);
		redirect_to_dir(s, r, path, pr->len, pr);
		return;
	}
	if (!S_ISREG(st.st_mode)) {
		close(fd);
		explain_special(s, r, path, &st);
		return;
	}
	fi.name_len = len;
	fi.live_html = live_html;
	if (cfg->precompressed && !live_html)
		precomp_choose(s, req, path, len, &fd, &st, &fi);
	respond_file(s, req, r, fd, &st, &fi);
}

void
serve_request(const struct site *s, const struct http_request *req, struct reply *r)
{
	r->nranges = 0;
	if (health_respond(s, req, r))
		return;
	if (req->method == HTTP_METHOD_UNKNOWN) {
		reply_error(s, r, 501);
		return;
	}
	int is_options = req->method == HTTP_METHOD_OPTIONS;
	if (req->method != HTTP_METHOD_GET && req->method != HTTP_METHOD_HEAD && !is_options) {
		reply_error(s, r, 405);
		return;
	}
	if (is_options && req->target.len == 1 && req->target.p[0] == '*') {
		respond_options(s, req, r);
		return;
	}
	/* Room for "index.html" or a sidecar extension after the path. */
	char path[SHS_PATH_MAX + sizeof index_name + 8];
	struct path_result pr;
	enum path_status ps = path_normalize(req->target.p, req->target.len, s->cfg->dotfiles, path,
	                                     SHS_PATH_MAX, &pr);
	if (ps == PATH_HIDDEN) {
		explain_hidden(s, r, path);
		return;
	}
	if (ps != PATH_OK) {
		reply_error(s, r, path_status_code(ps));
		return;
	}
	if (is_options) {
		respond_options(s, req, r);
		return;
	}
	if (s->cfg->live && pr.len == sizeof LIVE_EVENTS_PATH - 1 &&
	    memcmp(path, LIVE_EVENTS_PATH, pr.len) == 0) {
		live_respond_events(s, r);
		return;
	}
	if (s->rules && rules_apply(s, req, r, path, SHS_PATH_MAX, &pr) == RULES_ANSWERED)
		return;
	respond_path(s, req, r, path, &pr);
}
