/* explain.c - refusals explained to the operator. See explain.h. */
#include "explain.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "hash.h"
#include "listing.h"
#include "log.h"
#include "response.h"
#include "suggest.h"

static struct {
	uint64_t hash, at_ms; /* at_ms 0: empty */
} recent[EXPLAIN_SLOTS];
static uint64_t window_ms;
static unsigned in_window;
static unsigned long dropped;

/* Logs line at warn level unless the rate limit says no (now_ms: a
 * monotonic clock). Returns 1 if it was logged. */
static int
explain_log(const char *line, uint64_t now_ms)
{
	if (now_ms == 0)
		now_ms = 1; /* 0 marks an empty slot */
	uint64_t h = hash_fnv1a(line, strlen(line));
	size_t slot = h & (EXPLAIN_SLOTS - 1);
	if (recent[slot].at_ms && recent[slot].hash == h &&
	    now_ms - recent[slot].at_ms < EXPLAIN_AGAIN_MS)
		return 0;
	if (now_ms - window_ms >= 1000) {
		window_ms = now_ms;
		in_window = 0;
	}
	/* A scanner asking for a thousand dotfiles must not flood the log. */
	if (in_window >= EXPLAIN_PER_SEC) {
		dropped++;
		return 0;
	}
	in_window++;
	recent[slot].hash = h;
	recent[slot].at_ms = now_ms;
	if (dropped) {
		log_warn("%lu more refusals not explained (at most %d lines a second)", dropped,
		         EXPLAIN_PER_SEC);
		dropped = 0;
	}
	log_warn("%s", line);
	return 1;
}

size_t
explain_escape(const char *src, size_t n, char *out, size_t cap)
{
	static const char hex[] = "0123456789abcdef";
	size_t w = 0;
	if (cap == 0)
		return 0;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)src[i];
		int plain = c >= 0x20 && c < 0x7f && c != '\\';
		size_t need = plain ? 1 : 4;
		if (w + need + 4 > cap) { /* room for "..." and the NUL */
			memcpy(out + w, "...", 3);
			w += 3;
			break;
		}
		if (plain) {
			out[w++] = (char)c;
		} else {
			out[w++] = '\\';
			out[w++] = 'x';
			out[w++] = hex[c >> 4];
			out[w++] = hex[c & 15];
		}
	}
	out[w] = '\0';
	return w;
}

/* Room for one escaped name in a line; longer ones are cut. */
#define NAME_MAX_SHOWN 320

struct shown {
	char s[NAME_MAX_SHOWN];
};

/* A path for a line: escaped, "." for the top dir itself. */
static const char *
show(struct shown *b, const char *p)
{
	if (p[0] == '\0')
		return ".";
	explain_escape(p, strlen(p), b->s, sizeof b->s);
	return b->s;
}

static uint64_t
now_ms(const struct site *s)
{
	return s->now_ms;
}

/* Logs why (rate limited) and answers status; with --dev the page says
 * why, HTML-escaped. */
static void
explain_reply(const struct site *s, struct reply *r, int status, const char *why)
{
	explain_log(why, now_ms(s));
	if (s->cfg->dev) {
		char snippet[2048];
		struct resp_buf b;
		resp_init(&b, snippet, sizeof snippet);
		resp_adds(&b, "<p class=\"shs-explain\">");
		for (const char *p = why; *p && !b.overflow; p++) {
			switch (*p) {
			case '&':
				resp_adds(&b, "&amp;");
				break;
			case '<':
				resp_adds(&b, "&lt;");
				break;
			case '>':
				resp_adds(&b, "&gt;");
				break;
			case '"':
				resp_adds(&b, "&quot;");
				break;
			case '\'':
				resp_adds(&b, "&#39;");
				break;
			default:
				resp_add(&b, p, 1);
			}
		}
		resp_adds(&b, "</p>\n");
		if (!b.overflow && suggest_page(s, r, status, snippet, b.len))
			return;
	}
	reply_error(s, r, status);
}

void
explain_hidden(const struct site *s, struct reply *r, const char *path)
{
	char why[1024];
	struct shown a;
	snprintf(why, sizeof why, "%s is a dotfile; see --dotfiles", show(&a, path));
	explain_reply(s, r, 404, why);
}

static const char *
kind(mode_t m)
{
	if (S_ISFIFO(m))
		return "a fifo";
	if (S_ISSOCK(m))
		return "a socket";
	if (S_ISCHR(m))
		return "a character device";
	if (S_ISBLK(m))
		return "a block device";
	return "not a regular file";
}

void
explain_special(const struct site *s, struct reply *r, const char *path, const struct stat *st)
{
	char why[1024];
	struct shown a;
	snprintf(why, sizeof why, "%s is %s; only regular files are served", show(&a, path),
	         kind(st->st_mode));
	explain_reply(s, r, 403, why);
}

void
explain_stale(const struct site *s, const char *sidecar, size_t orig_len)
{
	char why[1024], orig[PATH_TRACE_MAX];
	struct shown a, b;
	snprintf(orig, sizeof orig, "%.*s", (int)orig_len, sidecar);
	snprintf(why, sizeof why, "sidecar %s is older than %s; not served until recompressed",
	         show(&a, sidecar), show(&b, orig));
	explain_log(why, now_ms(s));
}

/* Why opening path was refused (a 403), into why. */
static void
why_refused(const struct site *s, const char *path, int fd, char *why, size_t cap)
{
	struct path_trace t;
	struct shown a, b, c;
	path_trace(s->rootfd, path, &t);
	if (fd == -ENXIO || fd == -ENODEV) {
		snprintf(why, cap, "%s is %s; only regular files are served", show(&a, path),
		         t.err == 0 ? kind(t.st.st_mode) : "not a regular file");
	} else if ((fd == -ELOOP || fd == -EXDEV) && t.magic) {
		snprintf(why, cap,
		         "symlink %s -> %s goes through a magic link in /proc; refused even with "
		         "--follow-symlinks",
		         show(&a, t.link), show(&b, t.target));
	} else if ((fd == -ELOOP || fd == -EXDEV) && t.leaves) {
		snprintf(why, cap, "symlink %s -> %s leaves the top dir; see --follow-symlinks",
		         show(&a, t.link), show(&b, t.target));
	} else if (fd == -ELOOP && t.err == -ELOOP) {
		snprintf(why, cap, "symlink %s -> %s loops (more than %d links)", show(&a, t.link),
		         show(&b, t.target), PATH_TRACE_LINKS);
	} else if (fd == -ELOOP && t.link[0]) {
		snprintf(why, cap,
		         "symlink %s -> %s refused: this kernel has no openat2 (Linux < 5.6)",
		         show(&a, t.link), show(&b, t.target));
	} else if (fd == -EACCES || fd == -EPERM) {
		/* The file itself, or the directory that cannot be searched. */
		char what[PATH_TRACE_MAX];
		snprintf(what, sizeof what, "%s", t.final);
		if (t.err != 0) {
			char *slash = strrchr(what, '/');
			if (slash)
				*slash = '\0';
			else
				what[0] = '\0';
		}
		struct stat st;
		int base = what[0] == '/' ? AT_FDCWD : s->rootfd;
		if (fstatat(base, what[0] ? what : ".", &st, 0) != 0)
			st.st_uid = (uid_t)-1, st.st_mode = 0;
		snprintf(why, cap, "%s%s is not readable by uid %u (owner uid %u, mode %04o)",
		         S_ISDIR(st.st_mode) ? "directory " : "", show(&c, what),
		         (unsigned)geteuid(), (unsigned)st.st_uid, (unsigned)(st.st_mode & 07777));
	} else {
		snprintf(why, cap, "%s: %s", show(&a, path), strerror(-fd));
	}
}

/* A 404 for a path the client may not see: why, or 0. */
static int
why_not_found(const struct site *s, char *path, const struct path_result *pr, int fd, char *why,
              size_t cap)
{
	struct shown a, b, c;
	if (fd == -PATH_EHIDDEN) {
		struct path_trace t;
		path_trace(s->rootfd, path, &t);
		/* Named as a request would name it: below the top dir. */
		long in = t.leaves ? path_within(s->rootfd, t.final) : 0;
		snprintf(why, cap, "symlink %s -> %s leads to the dotfile %s; see --dotfiles",
		         show(&a, t.link), show(&b, t.target),
		         show(&c, t.final + (in > 0 ? in : 0)));
		return 1;
	}
	if (fd == -ENOENT && pr->trailing_slash) {
		path[pr->len] = '\0';
		struct stat st;
		int dfd =
		    path_open_ex(s->rootfd, path, s->cfg->follow_symlinks, s->cfg->dotfiles, &st);
		if (dfd < 0)
			return 0;
		close(dfd);
		if (!S_ISDIR(st.st_mode))
			return 0;
		snprintf(why, cap, "directory %s has no index.html; see --listing",
		         pr->len ? show(&a, path) : "./");
		return 1;
	}
	return 0;
}

void
explain_unopened(const struct site *s, const struct http_request *req, struct reply *r, char *path,
                 const struct path_result *pr, int fd)
{
	if (fd == -ENOENT && pr->trailing_slash && s->cfg->listing) {
		path[pr->len] = '\0';
		listing_respond(s, req, r, path, pr->len);
		return;
	}
	char why[1536];
	int status = path_errno_status(fd);
	if (status >= 500) {
		struct shown a;
		log_warn("open %s: %s", show(&a, path), strerror(-fd));
	} else if (status == 403) {
		why_refused(s, path, fd, why, sizeof why);
		explain_reply(s, r, 403, why);
		return;
	} else if (status == 404 && why_not_found(s, path, pr, fd, why, sizeof why)) {
		explain_reply(s, r, 404, why);
		return;
	}
	if (status == 404 && s->cfg->dev) {
		path[pr->len] = '\0';
		if (suggest_respond(s, r, path, pr->len))
			return;
	}
	reply_error(s, r, status);
}
