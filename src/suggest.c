/* suggest.c - "did you mean" for --dev 404 pages. See suggest.h. */
#include "suggest.h"

#include <dirent.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cache.h"
#include "fileio.h"
#include "live.h"
#include "path.h"
#include "reply.h"

static int
lower(int c)
{
	return (c >= 'A' && c <= 'Z') ? c + 32 : c;
}

unsigned
suggest_distance(const char *a, size_t an, const char *b, size_t bn, unsigned max)
{
	if (an > 64 || bn > 64)
		return max + 1;
	if ((an > bn ? an - bn : bn - an) > max)
		return max + 1;
	unsigned row[65];
	for (size_t j = 0; j <= bn; j++)
		row[j] = (unsigned)j;
	for (size_t i = 1; i <= an; i++) {
		unsigned diag = row[0], best = row[0] = (unsigned)i;
		for (size_t j = 1; j <= bn; j++) {
			unsigned up = row[j];
			unsigned cost =
			    lower((unsigned char)a[i - 1]) != lower((unsigned char)b[j - 1]);
			unsigned v = diag + cost;
			if (up + 1 < v)
				v = up + 1;
			if (row[j - 1] + 1 < v)
				v = row[j - 1] + 1;
			row[j] = v;
			diag = up;
			if (v < best)
				best = v;
		}
		if (best > max)
			return max + 1;
	}
	return row[bn];
}

static int
is_file(int rootfd, const char *path)
{
	struct stat st;
	int fd = path_open(rootfd, path, &st);
	if (fd < 0)
		return 0;
	close(fd);
	return S_ISREG(st.st_mode) || S_ISDIR(st.st_mode);
}

size_t
suggest_path(int rootfd, const char *path, size_t len, int dotfiles, char *out, size_t cap)
{
	if (len == 0 || len + 6 > cap || path[len - 1] == '/')
		return 0;
	/* "about" for about.html */
	memcpy(out, path, len);
	memcpy(out + len, ".html", 6);
	if (is_file(rootfd, out))
		return len + 5;

	size_t dlen = len;
	while (dlen > 0 && path[dlen - 1] != '/')
		dlen--;
	const char *name = path + dlen;
	size_t nlen = len - dlen;
	memcpy(out, path, dlen);
	out[dlen] = '\0';
	struct stat st;
	int dfd = path_open(rootfd, out, &st);
	if (dfd < 0)
		return 0;
	DIR *d = fdopendir(dfd);
	if (!d) {
		close(dfd);
		return 0;
	}
	unsigned limit = nlen >= 4 ? 2 : 1, best = limit + 1;
	size_t best_len = 0;
	struct dirent *de;
	while ((de = readdir(d)) != NULL) {
		const char *e = de->d_name;
		size_t el = strlen(e);
		if (e[0] == '.' && !dotfiles)
			continue;
		if (dlen + el >= cap)
			continue;
		unsigned dist = suggest_distance(name, nlen, e, el, limit);
		/* a case-only mismatch or a missing ".html" beats any typo */
		if (el == nlen + 5 && strncasecmp(e, name, nlen) == 0 &&
		    strcasecmp(e + nlen, ".html") == 0)
			dist = 0;
		else if (el == nlen && strncasecmp(e, name, nlen) == 0)
			dist = 0;
		if (dist < best) {
			best = dist;
			memcpy(out + dlen, e, el + 1);
			best_len = dlen + el;
			if (dist == 0)
				break;
		}
	}
	closedir(d);
	return best_len;
}

/* The error page for status (TOP/NNN.html or the built-in one) with
 * snippet put before its </body>: 1, or 0 (nothing planned). */
int
suggest_page(const struct site *s, struct reply *r, int status, const char *snippet, size_t n)
{
	struct stat st;
	int fd = reply_error_page(s, status, &st);
	size_t base = fd >= 0 && st.st_size <= (1 << 20) ? (size_t)st.st_size : 512;
	char *body = malloc(base + n);
	size_t blen = 0;
	if (body && fd >= 0 && st.st_size <= (1 << 20)) {
		ssize_t got = fileio_read_all(fd, body, base);
		blen = got > 0 ? (size_t)got : 0;
	} else if (body) {
		struct resp_buf bb;
		resp_init(&bb, body, base);
		resp_builtin_body(&bb, status);
		blen = bb.overflow ? 0 : bb.len;
	}
	if (fd >= 0)
		close(fd);
	if (!body || blen == 0) {
		free(body);
		return 0;
	}
	blen = live_splice(body, blen, snippet, n);
	struct cache_entry *e = cache_private(body, blen, "text/html; charset=utf-8");
	if (!e)
		return 0;
	struct resp_buf b;
	/* --dev: no-cache from the one Cache-Control rule, unless
	 * --error-cache-control says otherwise. */
	reply_head_with_body(s, r, &b, status, "text/html; charset=utf-8", (uint64_t)e->st.st_size);
	reply_end_headers(s, r, &b);
	if (b.overflow)
		reply_overflow(r, -1, status);
	else
		reply_plan_mem(r, status, b.len, e);
	cache_unref(e);
	return 1;
}

/* --dev: a 404 that links to the file the client probably meant, put
 * into TOP/404.html (before </body>) or the built-in page. */
int
suggest_respond(const struct site *s, struct reply *r, const char *path, size_t len)
{
	char sug[SHS_PATH_MAX], enc[3 * SHS_PATH_MAX];
	size_t n = suggest_path(s->rootfd, path, len, s->cfg->dotfiles, sug, sizeof sug);
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
	return sb.overflow ? 0 : suggest_page(s, r, 404, snippet, sb.len);
}
