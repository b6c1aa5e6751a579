/* path.c - request-target to a file beneath the document root. See path.h. */
#include "path.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

static int
hex_digit(unsigned char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* The path part of an absolute-form target ("http://host:port/p"), or -1. */
static long
absolute_form_path(const char *t, size_t len)
{
	size_t i;
	if (len >= 7 && strncasecmp(t, "http://", 7) == 0)
		i = 7;
	else if (len >= 8 && strncasecmp(t, "https://", 8) == 0)
		i = 8;
	else
		return -1;
	size_t host = i;
	while (i < len && t[i] != '/' && t[i] != '?' && t[i] != '#')
		i++;
	if (i == host)
		return -1; /* "http:///x" has no authority */
	return (long)i;
}

/* Percent-decodes src[0..len) into out. Decoding once and never again is
 * what keeps "%252e" a literal "%2e" rather than a dot. */
static enum path_status
decode(const char *src, size_t len, char *out, size_t cap, size_t *outlen)
{
	size_t w = 0;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)src[i];
		if (c == 0)
			return PATH_BAD; /* the parser never lets one through; be sure */
		if (c == '%') {
			if (i + 2 >= len)
				return PATH_BAD;
			int hi = hex_digit((unsigned char)src[i + 1]);
			int lo = hex_digit((unsigned char)src[i + 2]);
			if (hi < 0 || lo < 0)
				return PATH_BAD;
			c = (unsigned char)(hi << 4 | lo);
			if (c == 0)
				return PATH_BAD;
			i += 2;
		}
		if (w + 1 >= cap)
			return PATH_TOO_LONG;
		out[w++] = (char)c;
	}
	*outlen = w;
	return PATH_OK;
}

/* Removes empty, "." and ".." segments from the decoded absolute path
 * buf[0..len) in place, leaving segments joined by '/' with no leading slash
 * and a trailing one when the path named a directory. */
static enum path_status
remove_dot_segments(char *buf, size_t len, size_t *outlen, int *trailing)
{
	size_t r = 0, w = 0;
	*trailing = 1;
	while (r < len) {
		while (r < len && buf[r] == '/')
			r++;
		size_t s = r;
		while (r < len && buf[r] != '/')
			r++;
		size_t n = r - s;
		if (n == 0 || (n == 1 && buf[s] == '.')) {
			*trailing = 1;
		} else if (n == 2 && buf[s] == '.' && buf[s + 1] == '.') {
			if (w == 0)
				return PATH_FORBIDDEN;
			while (w > 0 && buf[w - 1] != '/')
				w--;
			if (w > 0)
				w--; /* the '/' before the dropped segment */
			*trailing = 1;
		} else {
			if (w > 0)
				buf[w++] = '/';
			memmove(buf + w, buf + s, n);
			w += n;
			*trailing = r < len;
		}
	}
	if (*trailing && w > 0)
		buf[w++] = '/';
	*outlen = w;
	return PATH_OK;
}

static int
hidden(const char *p, size_t len)
{
	size_t i = 0;
	int first = 1;
	while (i < len) {
		size_t s = i;
		while (i < len && p[i] != '/')
			i++;
		if (i > s && p[s] == '.') {
			int well_known =
			    first && i - s == 11 && memcmp(p + s, ".well-known", 11) == 0;
			if (!well_known)
				return 1;
		}
		first = 0;
		i++;
	}
	return 0;
}

enum path_status
path_normalize(const char *target, size_t len, int allow_dotfiles, char *out, size_t cap,
               struct path_result *res)
{
	memset(res, 0, sizeof *res);
	if (cap == 0)
		return PATH_TOO_LONG;
	size_t start = 0;
	if (len == 0)
		return PATH_BAD;
	if (target[0] != '/') {
		long p = absolute_form_path(target, len);
		if (p < 0)
			return PATH_BAD;
		start = (size_t)p;
	}

	size_t end = start;
	while (end < len && target[end] != '?' && target[end] != '#')
		end++;
	if (end < len && target[end] == '?') {
		size_t q = end;
		while (q < len && target[q] != '#')
			q++;
		res->query = target + end;
		res->query_len = q - end;
	}

	/* An absolute-form target with an empty path means "/". The leading
	 * slash is not copied: the output has none, so it needs no room. */
	if (end > start && target[start] == '/')
		start++;
	size_t n = 0;
	if (end > start) {
		enum path_status st = decode(target + start, end - start, out, cap, &n);
		if (st != PATH_OK)
			return st;
	}
	enum path_status st = remove_dot_segments(out, n, &n, &res->trailing_slash);
	if (st != PATH_OK)
		return st;
	out[n] = '\0';
	res->len = n;
	if (!allow_dotfiles && hidden(out, n))
		return PATH_HIDDEN;
	return PATH_OK;
}

/* Characters a path segment may carry unescaped in a Location header. '\\'
 * is not among them: browsers read "/\host" as "//host", an off-site link. */
static int
keep_in_location(unsigned char c)
{
	if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))
		return 1;
	return c != 0 && strchr("-._~/!$&'()*+,;=:@", c) != NULL;
}

long
path_encode(const char *path, size_t len, char *out, size_t cap)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t w = 0;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)path[i];
		if (keep_in_location(c)) {
			if (w + 1 >= cap)
				return -1;
			out[w++] = (char)c;
		} else {
			if (w + 3 >= cap)
				return -1;
			out[w++] = '%';
			out[w++] = hex[c >> 4];
			out[w++] = hex[c & 15];
		}
	}
	if (w >= cap)
		return -1;
	out[w] = '\0';
	return (long)w;
}

/* O_NONBLOCK: opening a FIFO must not wait for a writer. O_NOCTTY: a tty
 * under the root must never become our controlling terminal. */
#define OPEN_FLAGS (O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY)

static int
finish_open(int fd, struct stat *st)
{
	if (fd < 0)
		return -errno;
	if (fstat(fd, st) != 0) {
		int e = errno;
		close(fd);
		return -e;
	}
	return fd;
}

int
path_open_walk(int rootfd, const char *rel, struct stat *st)
{
	int dir = rootfd;
	const char *p = rel;
	if (*p == '\0')
		return finish_open(openat(rootfd, ".", OPEN_FLAGS | O_DIRECTORY), st);
	for (;;) {
		const char *slash = strchr(p, '/');
		size_t n = slash ? (size_t)(slash - p) : strlen(p);
		char comp[256];
		if (n >= sizeof comp) {
			if (dir != rootfd)
				close(dir);
			return -ENAMETOOLONG;
		}
		memcpy(comp, p, n);
		comp[n] = '\0';
		int last = slash == NULL || slash[1] == '\0';
		int flags = OPEN_FLAGS | O_NOFOLLOW | (last && !slash ? 0 : O_DIRECTORY);
		int fd = (n == 2 && comp[0] == '.' && comp[1] == '.') ? (errno = EXDEV, -1)
		                                                      : openat(dir, comp, flags);
		int e = errno;
		struct stat lst;
		/* O_NOFOLLOW|O_DIRECTORY on a symlink says ENOTDIR: report it
		 * as the refused symlink it is. */
		if (fd < 0 && e == ENOTDIR && fstatat(dir, comp, &lst, AT_SYMLINK_NOFOLLOW) == 0 &&
		    S_ISLNK(lst.st_mode))
			e = ELOOP;
		if (dir != rootfd)
			close(dir);
		if (fd < 0)
			return -e;
		if (last)
			return finish_open(fd, st);
		dir = fd;
		p = slash + 1;
	}
}

/* Set once openat2 says ENOSYS (a kernel older than 5.6): walk from then on. */
static int no_openat2;

/* openat2 beneath dirfd with these resolve flags. On a kernel without it
 * (older than 5.6) it remembers so and returns OPENAT2_NONE: the caller
 * walks the path instead. */
#define OPENAT2_NONE (-2)
static long
openat2_(int dirfd, const char *rel, unsigned long long resolve)
{
	if (no_openat2)
		return OPENAT2_NONE;
	struct open_how how = {.flags = OPEN_FLAGS, .resolve = resolve};
	long fd = syscall(SYS_openat2, dirfd, *rel ? rel : ".", &how, sizeof how);
	if (fd < 0 && errno == ENOSYS) {
		no_openat2 = 1;
		return OPENAT2_NONE;
	}
	return fd;
}

int
path_open(int rootfd, const char *rel, struct stat *st)
{
	return path_open_ex(rootfd, rel, 0, 1, st);
}

/* Does the absolute, symlink-free path p lie in the directory described by
 * root? Then the offset of what follows it ("" for root itself), else -1.
 * Prefixes are compared by device and inode, so no /proc is needed. */
static long
inside_root(const char *p, const struct stat *root)
{
	char buf[PATH_TRACE_MAX];
	size_t n = strlen(p);
	if (n >= sizeof buf)
		return -1;
	memcpy(buf, p, n + 1);
	for (size_t i = 1; i <= n; i++) {
		if (i < n && buf[i] != '/')
			continue;
		char c = buf[i];
		buf[i] = '\0';
		struct stat st;
		int same =
		    stat(buf, &st) == 0 && st.st_dev == root->st_dev && st.st_ino == root->st_ino;
		buf[i] = c;
		if (same)
			return (long)(i < n ? i + 1 : n);
	}
	return -1;
}

long
path_within(int rootfd, const char *abs)
{
	struct stat root;
	if (abs[0] != '/' || fstat(rootfd, &root) != 0)
		return -1;
	return inside_root(abs, &root);
}

int
path_check_target(int rootfd, const char *rel, const struct stat *st)
{
	struct path_trace t;
	if (path_trace(rootfd, rel, &t) != 0 || t.st.st_dev != st->st_dev ||
	    t.st.st_ino != st->st_ino)
		return -ELOOP;
	const char *in = t.final;
	if (t.leaves) {
		struct stat root;
		if (fstat(rootfd, &root) != 0)
			return -ELOOP;
		long off = inside_root(t.final, &root);
		if (off < 0)
			return 0; /* outside the top dir: the dotfile rule is not ours */
		in = t.final + off;
	}
	return hidden(in, strlen(in)) ? -PATH_EHIDDEN : 0;
}

int
path_open_ex(int rootfd, const char *rel, int follow, int dotfiles, struct stat *st)
{
	unsigned long long rules = RESOLVE_NO_MAGICLINKS | (follow ? 0 : RESOLVE_BENEATH);
	long fd;
	if (!dotfiles) {
		/* The common case, a path without symlinks, costs one call;
		 * only one that meets a link pays for the dotfile check. */
		fd = openat2_(rootfd, rel, RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS);
		if (fd == OPENAT2_NONE)
			return path_open_walk(rootfd, rel, st); /* every symlink refused */
		if (fd >= 0 || errno != ELOOP)
			return finish_open((int)fd, st);
	}
	fd = openat2_(rootfd, rel, rules);
	if (fd == OPENAT2_NONE)
		return path_open_walk(rootfd, rel, st);
	int r = finish_open((int)fd, st);
	if (r >= 0 && !dotfiles) {
		int c = path_check_target(rootfd, rel, st);
		if (c < 0) {
			close(r);
			return c;
		}
	}
	return r;
}

int
path_status_code(enum path_status ps)
{
	switch (ps) {
	case PATH_BAD:
		return 400;
	case PATH_FORBIDDEN:
		return 403;
	case PATH_HIDDEN:
		return 404;
	case PATH_TOO_LONG:
		return 414;
	case PATH_OK:
		break;
	}
	return 0;
}

int
path_errno_status(int neg_errno)
{
	switch (-neg_errno) {
	case ENOENT:
	case ENOTDIR:
	case PATH_EHIDDEN:
		return 404;
	case EXDEV:
	case ELOOP:
	case EACCES:
	case EPERM:
	case ENXIO: /* a unix socket, or a device with nothing behind it */
	case ENODEV:
		return 403;
	case ENAMETOOLONG:
		return 414;
	case EMFILE:
	case ENFILE:
		return 503;
	default:
		return 500;
	}
}
