/* listing.c - directory listings. See listing.h.
 *
 * This is the one place that allocates per request (the entry array): a
 * listing has to see every name before it can sort them, and listings are
 * off by default and rare next to file requests. */
#include "listing.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "http_coding.h"
#include "log.h"
#include "path.h"
#include "response.h"

struct entry {
	char *name;
	int is_dir;
	off_t size;
	time_t mtime;
};

/* Buffered writes into the memfd that becomes the body. */
struct out {
	int fd;
	int failed;
	size_t len;
	char buf[8192];
};

static void
flush(struct out *o)
{
	size_t off = 0;
	while (off < o->len && !o->failed) {
		ssize_t n = write(o->fd, o->buf + off, o->len - off);
		if (n > 0)
			off += (size_t)n;
		else if (errno != EINTR)
			o->failed = 1;
	}
	o->len = 0;
}

static void
put(struct out *o, const char *s, size_t n)
{
	while (n > 0) {
		if (o->len == sizeof o->buf)
			flush(o);
		size_t k = sizeof o->buf - o->len;
		if (k > n)
			k = n;
		memcpy(o->buf + o->len, s, k);
		o->len += k;
		s += k;
		n -= k;
	}
}

static void
puts_(struct out *o, const char *s)
{
	put(o, s, strlen(s));
}

static void
put_html(struct out *o, const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		switch (s[i]) {
		case '<':
			puts_(o, "&lt;");
			break;
		case '>':
			puts_(o, "&gt;");
			break;
		case '&':
			puts_(o, "&amp;");
			break;
		case '"':
			puts_(o, "&quot;");
			break;
		case '\'':
			puts_(o, "&#39;");
			break;
		default:
			put(o, s + i, 1);
		}
	}
}

/* A link to a name in this directory: "./" first, so a name with a colon
 * is never read as a scheme; percent-encoded, then HTML-escaped. */
static void
put_href(struct out *o, const char *name, int is_dir)
{
	char enc[3 * 256 + 1];
	long n = path_encode(name, strlen(name), enc, sizeof enc);
	if (n < 0)
		n = 0;
	puts_(o, "./");
	put_html(o, enc, (size_t)n);
	if (is_dir)
		puts_(o, "/");
}

static void
put_json_string(struct out *o, const char *s)
{
	put(o, "\"", 1);
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if (*p == '"' || *p == '\\') {
			char esc[2] = {'\\', (char)*p};
			put(o, esc, 2);
		} else if (*p < 0x20 || *p == 0x7f) {
			char esc[8];
			snprintf(esc, sizeof esc, "\\u%04x", *p);
			puts_(o, esc);
		} else {
			put(o, (const char *)p, 1);
		}
	}
	put(o, "\"", 1);
}

static int
compare(const void *a, const void *b)
{
	const struct entry *x = a, *y = b;
	if (x->is_dir != y->is_dir)
		return y->is_dir - x->is_dir; /* directories first */
	return strcmp(x->name, y->name);
}

static void
human_size(off_t size, char *dst, size_t cap)
{
	static const char units[] = "BKMGTP";
	double v = (double)size;
	int u = 0;
	while (v >= 1024 && u < 5) {
		v /= 1024;
		u++;
	}
	if (u == 0)
		snprintf(dst, cap, "%lld B", (long long)size);
	else
		snprintf(dst, cap, "%.1f %ciB", v, units[u]);
}

static void
write_html(struct out *o, const char *dir, size_t len, struct entry *e, size_t n, int cut)
{
	puts_(o, "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n"
	         "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
	         "<title>Index of /");
	put_html(o, dir, len);
	puts_(o, "</title>\n<style>\n"
	         "body{font:15px/1.5 system-ui,sans-serif;margin:2rem auto;max-width:60rem;"
	         "padding:0 1rem;color:#1d2430;background:#fff}\n"
	         "@media (prefers-color-scheme:dark){body{color:#e6e9ef;background:#141820}"
	         "a{color:#8ab4ff}}\n"
	         "h1{font-size:1.4rem;font-weight:600;word-break:break-all}\n"
	         "table{border-collapse:collapse;width:100%}\n"
	         "th,td{padding:.35rem .6rem;text-align:left;border-bottom:1px solid #8883}\n"
	         "td.s,th.s{text-align:right;white-space:nowrap}td.m{white-space:nowrap}\n"
	         "a{text-decoration:none}a:hover{text-decoration:underline}\n"
	         "footer{margin-top:1.5rem;font-size:.85rem;opacity:.7}\n"
	         "</style></head>\n<body>\n<h1>Index of /");
	put_html(o, dir, len);
	puts_(o, "</h1>\n<table>\n<thead><tr><th>Name</th><th class=\"s\">Size</th>"
	         "<th>Modified</th></tr></thead>\n<tbody>\n");
	if (len > 0)
		puts_(o, "<tr><td><a href=\"../\">../</a></td><td class=\"s\">-</td>"
		         "<td class=\"m\"></td></tr>\n");
	for (size_t i = 0; i < n; i++) {
		char size[32], date[RESP_DATE_LEN + 1];
		if (e[i].is_dir)
			strcpy(size, "-");
		else
			human_size(e[i].size, size, sizeof size);
		if (resp_format_date(e[i].mtime, date, sizeof date) < 0)
			date[0] = '\0';
		puts_(o, "<tr><td><a href=\"");
		put_href(o, e[i].name, e[i].is_dir);
		puts_(o, "\">");
		put_html(o, e[i].name, strlen(e[i].name));
		if (e[i].is_dir)
			puts_(o, "/");
		puts_(o, "</a></td><td class=\"s\">");
		puts_(o, size);
		puts_(o, "</td><td class=\"m\">");
		puts_(o, date);
		puts_(o, "</td></tr>\n");
	}
	puts_(o, "</tbody></table>\n");
	if (cut)
		puts_(o, "<p>Only the first entries are listed.</p>\n");
	puts_(o, "<footer>" SHS_NAME "/" SHS_VERSION "</footer>\n</body></html>\n");
}

static void
write_json(struct out *o, struct entry *e, size_t n)
{
	puts_(o, "[");
	for (size_t i = 0; i < n; i++) {
		char num[64], date[RESP_DATE_LEN + 1];
		puts_(o, i ? ",\n {\"name\": " : "\n {\"name\": ");
		put_json_string(o, e[i].name);
		puts_(o, e[i].is_dir ? ", \"type\": \"directory\"" : ", \"type\": \"file\"");
		snprintf(num, sizeof num, ", \"size\": %lld",
		         (long long)(e[i].is_dir ? 0 : e[i].size));
		puts_(o, num);
		if (resp_format_date(e[i].mtime, date, sizeof date) > 0) {
			puts_(o, ", \"modified\": \"");
			puts_(o, date);
			puts_(o, "\"");
		}
		puts_(o, "}");
	}
	puts_(o, "\n]\n");
}

/* Where a symlink in the listed directory leads, stat'ed by the rule a
 * request for it follows (path_open): resolved beneath the top dir, never
 * through a magic link. 0, or -1 for a link that leaves the top dir, dangles
 * or loops: such a link is not listed at all, as its request would be a 403
 * or 404, and its target's size and date are none of the client's business.
 * Without openat2 (before Linux 5.6) requests refuse every symlink, and so
 * does this. O_PATH: nothing is opened for reading, so a FIFO or a device
 * behind the link cannot block or react. With --follow-symlinks a link is
 * listed wherever it leads, as it is served; without --dotfiles, not when it
 * leads to a dotfile inside the top dir (that request is a 404). */
static int
stat_link_beneath(int rootfd, int follow, int dotfiles, const char *dir, size_t len,
                  const char *name, struct stat *st)
{
	char rel[4096];
	int n = snprintf(rel, sizeof rel, "%.*s%s", (int)len, dir, name);
	if (n < 0 || (size_t)n >= sizeof rel)
		return -1;
	struct open_how how = {
	    .flags = O_PATH | O_CLOEXEC,
	    .resolve = RESOLVE_NO_MAGICLINKS | (follow ? 0 : RESOLVE_BENEATH),
	};
	long fd = syscall(SYS_openat2, rootfd, rel, &how, sizeof how);
	if (fd < 0)
		return -1;
	int r = fstat((int)fd, st);
	close((int)fd);
	if (r == 0 && !dotfiles && path_check_target(rootfd, rel, st) != 0)
		r = -1;
	return r == 0 ? 0 : -1;
}

/* Reads the entries of dir (hidden ones unless --dotfiles). Entries are
 * stat'ed without following symlinks; a symlink is listed as what it leads
 * to only when that lies beneath the top dir (see stat_link_beneath). */
static struct entry *
read_entries(int rootfd, int dirfd, const char *dir, size_t len, int dotfiles, int follow,
             size_t *count, int *cut)
{
	int fd = dup(dirfd);
	DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
	if (!d) {
		if (fd >= 0)
			close(fd);
		return NULL;
	}
	size_t n = 0, cap = 64;
	struct entry *e = malloc(cap * sizeof *e);
	struct dirent *de;
	*cut = 0;
	while (e && (de = readdir(d)) != NULL) {
		const char *name = de->d_name;
		if (name[0] == '.' &&
		    (!dotfiles || name[1] == '\0' || (name[1] == '.' && name[2] == '\0')))
			continue;
		if (n == LISTING_MAX) {
			*cut = 1;
			break;
		}
		struct stat st;
		if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) != 0)
			continue; /* gone meanwhile */
		if (S_ISLNK(st.st_mode) &&
		    stat_link_beneath(rootfd, follow, dotfiles, dir, len, name, &st) != 0)
			continue; /* leaves the top dir, dangles or loops */
		if (n == cap) {
			struct entry *bigger = realloc(e, 2 * cap * sizeof *e);
			if (!bigger)
				break;
			e = bigger;
			cap *= 2;
		}
		e[n] = (struct entry){strdup(name), S_ISDIR(st.st_mode), st.st_size,
		                      st.st_mtim.tv_sec};
		if (e[n].name)
			n++;
	}
	closedir(d);
	*count = n;
	return e;
}

static int
wants_json(const struct http_request *req)
{
	const struct http_header *h = http_field(req, HTTP_FIELD_ACCEPT);
	if (!h)
		return 0;
	int json = http_coding_q(h->value, "application/json");
	return json > 0 && json >= http_coding_q(h->value, "text/html");
}

void
listing_respond(const struct site *s, const struct http_request *req, struct reply *r,
                const char *dir, size_t len)
{
	struct stat st;
	int dirfd = path_open(s->rootfd, dir, &st);
	if (dirfd < 0 || !S_ISDIR(st.st_mode)) {
		if (dirfd >= 0)
			close(dirfd);
		reply_error(s, r, dirfd < 0 ? path_errno_status(dirfd) : 404);
		return;
	}
	size_t n = 0;
	int cut = 0;
	struct entry *e = read_entries(s->rootfd, dirfd, dir, len, s->cfg->dotfiles,
	                               s->cfg->follow_symlinks, &n, &cut);
	close(dirfd);
	int fd = e ? memfd_create("listing", MFD_CLOEXEC) : -1;
	if (fd < 0) {
		log_warn("listing /%s: %s", dir, strerror(errno));
		for (size_t i = 0; i < n; i++)
			free(e[i].name);
		free(e);
		reply_error(s, r, 500);
		return;
	}
	qsort(e, n, sizeof *e, compare);
	struct out *o = malloc(sizeof *o);
	int json = wants_json(req);
	if (o) {
		o->fd = fd;
		o->failed = 0;
		o->len = 0;
		if (json)
			write_json(o, e, n);
		else
			write_html(o, dir, len, e, n, cut);
		flush(o);
	}
	int failed = !o || o->failed;
	free(o);
	for (size_t i = 0; i < n; i++)
		free(e[i].name);
	free(e);
	if (failed) {
		close(fd);
		reply_error(s, r, 500);
		return;
	}
	reply_generated(s, r, fd, json ? "application/json" : "text/html; charset=utf-8");
}
