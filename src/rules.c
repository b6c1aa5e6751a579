/* rules.c - _redirects and _headers in the server: loading them from the
 * top dir, and the hook serve.c runs before a path is served. See rules.h. */
#include "rules.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cache.h"
#include "config.h"
#include "fileio.h"
#include "http.h"
#include "log.h"
#include "mime.h"
#include "path.h"
#include "reply.h"
#include "site.h"

/* The error log's report: "_redirects:9: reason" as a warning. */
static void
rules_log_report(void *ctx, const char *file, unsigned line, const char *reason)
{
	(void)ctx;
	log_warn("%s:%u: %s", file, line, reason);
}

/* The whole of TOP/name, if it is a regular file of sane size: malloc'd
 * text, or NULL (missing, unreadable, too big: no rules). */
static char *
read_rule_file(int rootfd, const char *name, size_t *len)
{
	struct stat st;
	int fd = path_open(rootfd, name, &st);
	if (fd < 0)
		return NULL;
	char *text = NULL;
	if (!S_ISREG(st.st_mode)) {
		log_warn("%s: not a regular file; no rules from it", name);
	} else if ((uint64_t)st.st_size > RULES_FILE_MAX) {
		log_warn("%s: larger than %u bytes; no rules from it", name, RULES_FILE_MAX);
	} else if ((text = malloc((size_t)st.st_size + 1)) != NULL) {
		ssize_t k = fileio_read_all(fd, text, (size_t)st.st_size);
		size_t n = k > 0 ? (size_t)k : 0;
		text[n] = '\0';
		*len = n;
	}
	close(fd);
	return text;
}

int
rules_load(struct rules *rs, int rootfd, rules_report_fn report, void *ctx)
{
	rules_free(rs);
	for (int i = 0; i < 2; i++) {
		size_t len = 0;
		char *text = read_rule_file(rootfd, rules_file_names[i], &len);
		if (!text)
			continue;
		int r = rules_parse(rs, (enum rules_file)i, text, len, report, ctx);
		free(text);
		if (r < 0)
			return r;
	}
	return 0;
}

int
rules_load_logged(struct rules *rs, int rootfd, int say_none)
{
	int r = rules_load(rs, rootfd, rules_log_report, NULL);
	if (r < 0) {
		log_error("_redirects/_headers: %s; serving without rules", strerror(-r));
		return r;
	}
	char line[256];
	for (int i = 0; i < 2; i++) {
		if (!rs->present[i])
			continue;
		rules_summary(rs, (enum rules_file)i, line, sizeof line);
		log_info("%s", line);
	}
	if (say_none && !rs->present[0] && !rs->present[1])
		log_info("rules: no _redirects or _headers in the top dir");
	return 0;
}

int
rules_is_rule_file(const char *name, size_t n)
{
	return (n == 10 && memcmp(name, "_redirects", 10) == 0) ||
	       (n == 8 && memcmp(name, "_headers", 8) == 0);
}

/* Opens what a request for path would open: --follow-symlinks, and the
 * dotfile rule on where a link leads. */
static int
open_as_request(const struct site *s, const char *path, struct stat *st)
{
	return path_open_ex(s->rootfd, path, s->cfg->follow_symlinks, s->cfg->dotfiles, st);
}

/* Is there something to serve at path (a file, a directory)? The cache
 * answers for hot files without an open. path has room for "index.html". */
static int
exists(const struct site *s, char *path, const struct path_result *pr)
{
	size_t len = pr->len;
	if (pr->trailing_slash) {
		memcpy(path + len, "index.html", 11);
		len += 10;
	}
	struct cache_entry *e = s->cache ? cache_lookup(s->cache, path, len, s->now_ms, s->rootfd,
	                                                s->cfg->precompressed)
	                                 : NULL;
	struct stat st;
	int fd = e ? -1 : open_as_request(s, path, &st);
	if (fd == -ENOENT && s->cfg->clean_urls && !pr->trailing_slash) {
		memcpy(path + len, ".html", 6); /* --clean-urls serves it */
		fd = open_as_request(s, path, &st);
	}
	path[pr->len] = '\0';
	if (e) {
		cache_unref(e);
		return 1;
	}
	if (fd < 0)
		return 0;
	close(fd);
	return S_ISREG(st.st_mode) || S_ISDIR(st.st_mode);
}

/* A 4xx rule with a target: that file with the rule's status, or the
 * status's usual error page when there is no such file. */
static void
respond_status_file(const struct site *s, struct reply *r, int status, char *p,
                    const struct path_result *pr)
{
	size_t len = pr->len;
	if (pr->trailing_slash) {
		memcpy(p + len, "index.html", 11);
		len += 10;
	}
	struct stat st;
	int fd = open_as_request(s, p, &st);
	if (fd >= 0 && !S_ISREG(st.st_mode)) {
		close(fd);
		fd = -1;
	}
	if (fd < 0) {
		reply_error(s, r, status);
		return;
	}
	struct resp_buf b;
	reply_head_with_body(s, r, &b, status, mime_type(p, len), (uint64_t)st.st_size);
	reply_end_headers(s, r, &b);
	if (b.overflow) {
		reply_overflow(r, fd, status);
		return;
	}
	reply_plan(r, status, b.len, fd, 0, st.st_size);
}

/* The _headers lines for this path, kept at the end of r->buf (its cap is
 * lowered so the head never reaches them), then the Cache-Control and
 * Content-Type values that replace the server's. */
static void
attach_headers(const struct site *s, struct reply *r, const char *path, size_t len)
{
	char lines[RULES_REPLY_BYTES], cc[256], type[256];
	size_t send;
	long n = rules_render_headers(s->rules, path, len, lines, sizeof lines, &send, cc,
	                              sizeof cc, type, sizeof type);
	if (n < 0) {
		log_warn("_headers: the headers for /%.*s do not fit; none sent", (int)len, path);
		return;
	}
	size_t cc_n = cc[0] ? strlen(cc) + 1 : 0, type_n = type[0] ? strlen(type) + 1 : 0;
	size_t all = (size_t)n + cc_n + type_n;
	if (all == 0 || all > r->cap / 4)
		return;
	r->cap -= all;
	char *tail = r->buf + r->cap;
	memcpy(tail, lines, (size_t)n);
	r->extra = tail;
	r->extra_len = send;
	r->extra_drop_len = (size_t)n - send;
	if (cc_n) {
		memcpy(tail + n, cc, cc_n);
		r->extra_cc = tail + n;
	}
	if (type_n) {
		memcpy(tail + n + cc_n, type, type_n);
		r->extra_type = tail + n + cc_n;
	}
}

enum rules_outcome
rules_apply(const struct site *s, const struct http_request *req, struct reply *r, char *path,
            size_t cap, struct path_result *pr)
{
	(void)req;
	const struct rules *rs = s->rules;
	/* Matching ignores one trailing slash. */
	size_t len = pr->len - (pr->trailing_slash && pr->len ? 1 : 0);
	if (rules_is_rule_file(path, len)) {
		reply_error(s, r, 404);
		return RULES_ANSWERED;
	}
	attach_headers(s, r, path, len);
	struct rules_captures caps;
	const struct rules_redirect *m =
	    rules_match(rs, path, len, pr->query, pr->query_len, 0, &caps);
	/* Without "!", a rule never shadows a file: the lookup is paid only
	 * when a rule matched. */
	if (m && !m->force && exists(s, path, pr))
		m = rules_match(rs, path, len, pr->query, pr->query_len, 1, &caps);
	if (!m)
		return RULES_PASS;
	char to[SHS_LOCATION_MAX];
	long n = rules_target(rs, m, &caps, pr->query, pr->query_len, to, sizeof to);
	if (n < 0) {
		reply_error(s, r, 414);
		return RULES_ANSWERED;
	}
	if (m->status >= 300 && m->status < 400) {
		reply_status(s, r, m->status, "Location", to);
		return RULES_ANSWERED;
	}
	/* 200 and 4xx: the target goes through the same normalisation,
	 * containment and dotfile rules as a request for it would. */
	const char *query = pr->query;
	size_t query_len = pr->query_len;
	char other[SHS_PATH_MAX + 16];
	char *dst = m->status == 200 ? path : other;
	enum path_status ps = path_normalize(to, (size_t)n, s->cfg->dotfiles, dst,
	                                     m->status == 200 ? cap : SHS_PATH_MAX, pr);
	pr->query = query; /* the request's query, not one in the target */
	pr->query_len = query_len;
	if (ps != PATH_OK) {
		reply_error(s, r, path_status_code(ps)); /* as a direct request */
		return RULES_ANSWERED;
	}
	/* Nor may a rule serve the rule files: they are 404 as a request. */
	if (rules_is_rule_file(dst, pr->len - (pr->trailing_slash && pr->len ? 1 : 0))) {
		reply_error(s, r, 404);
		return RULES_ANSWERED;
	}
	if (m->status == 200)
		return RULES_REWRITTEN;
	respond_status_file(s, r, m->status, other, pr);
	return RULES_ANSWERED;
}
