/* path_trace.c - a path resolved component by component. See path_trace.h. */
#include "path_trace.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

/* Where the walk is: cur is relative to the top dir (inside) or absolute. */
struct walk {
	int rootfd, outside;
	char cur[PATH_TRACE_MAX];
	size_t n;
};

/* cur + "/" + name into out; -ENAMETOOLONG if it does not fit. */
static int
join(const struct walk *w, const char *name, size_t len, char *out)
{
	size_t sep = w->n > 0 && w->cur[w->n - 1] != '/';
	if (w->n + sep + len >= PATH_TRACE_MAX)
		return -ENAMETOOLONG;
	memcpy(out, w->cur, w->n);
	if (sep)
		out[w->n] = '/';
	memcpy(out + w->n + sep, name, len);
	out[w->n + sep + len] = '\0';
	return 0;
}

static void
pop(struct walk *w)
{
	size_t min = w->outside ? 1 : 0; /* never above "/" */
	while (w->n > min && w->cur[w->n - 1] != '/')
		w->n--;
	if (w->n > min)
		w->n--;
	w->cur[w->n] = '\0';
}

/* ".." at the top dir: continue from its real path (the kernel's own name
 * for it, from /proc), or stop when that cannot be known (a chroot without
 * /proc). */
static int
leave_upwards(struct walk *w)
{
	char self[64];
	snprintf(self, sizeof self, "/proc/self/fd/%d", w->rootfd);
	ssize_t k = readlink(self, w->cur, sizeof w->cur - 1);
	if (k <= 0 || w->cur[0] != '/')
		return -EXDEV;
	w->cur[k] = '\0';
	w->n = (size_t)k;
	w->outside = 1;
	pop(w);
	return 0;
}

static void
note_leaving(struct path_trace *t, const char *link, const char *target)
{
	if (t->leaves)
		return;
	t->leaves = 1;
	snprintf(t->link, sizeof t->link, "%s", link);
	snprintf(t->target, sizeof t->target, "%s", target);
}

int
path_trace(int rootfd, const char *rel, struct path_trace *t)
{
	memset(t, 0, sizeof *t);
	struct walk w = {.rootfd = rootfd};
	char rest[2 * PATH_TRACE_MAX], next[PATH_TRACE_MAX], target[PATH_TRACE_MAX];
	char link[PATH_TRACE_MAX] = ""; /* the link being expanded while inside */
	if (snprintf(rest, sizeof rest, "%s", rel) >= (int)sizeof rest)
		return t->err = -ENAMETOOLONG;
	size_t pos = 0;
	int err = 0;
	for (;;) {
		while (rest[pos] == '/')
			pos++;
		if (rest[pos] == '\0')
			break;
		size_t s = pos;
		while (rest[pos] != '\0' && rest[pos] != '/')
			pos++;
		size_t len = pos - s;
		if (len == 1 && rest[s] == '.')
			continue;
		if (len == 2 && rest[s] == '.' && rest[s + 1] == '.') {
			if (!w.outside && w.n == 0) {
				note_leaving(t, link, link[0] ? target : "..");
				if ((err = leave_upwards(&w)) != 0)
					break;
			} else {
				pop(&w);
			}
			continue;
		}
		if ((err = join(&w, rest + s, len, next)) != 0)
			break;
		struct stat st;
		if (fstatat(w.outside ? AT_FDCWD : rootfd, next, &t->st, AT_SYMLINK_NOFOLLOW) !=
		    0) {
			err = -errno;
			memcpy(w.cur, next, strlen(next) + 1);
			break;
		}
		st = t->st;
		if (!S_ISLNK(st.st_mode)) {
			w.n = strlen(next);
			memcpy(w.cur, next, w.n + 1);
			size_t more = pos;
			while (rest[more] == '/')
				more++;
			if (rest[more] != '\0' && !S_ISDIR(st.st_mode)) {
				err = -ENOTDIR;
				break;
			}
			continue;
		}
		if (++t->links > PATH_TRACE_LINKS) {
			err = -ELOOP;
			break;
		}
		if (w.outside && strncmp(next, "/proc/", 6) == 0)
			t->magic = 1;
		ssize_t k =
		    readlinkat(w.outside ? AT_FDCWD : rootfd, next, target, sizeof target - 1);
		if (k <= 0) {
			err = k == 0 ? -ENOENT : -errno;
			break;
		}
		target[k] = '\0';
		if (!w.outside)
			memcpy(link, next, strlen(next) + 1);
		/* The rest of the path now follows the link's target. */
		char tmp[2 * PATH_TRACE_MAX];
		if (snprintf(tmp, sizeof tmp, "%s/%s", target, rest + pos) >= (int)sizeof tmp) {
			err = -ENAMETOOLONG;
			break;
		}
		memcpy(rest, tmp, strlen(tmp) + 1);
		pos = 0;
		if (target[0] == '/') {
			if (!w.outside)
				note_leaving(t, link, target);
			w.outside = 1;
			w.cur[0] = '/';
			w.cur[1] = '\0';
			w.n = 1;
		}
	}
	if (!w.outside && t->link[0] == '\0' && link[0]) {
		snprintf(t->link, sizeof t->link, "%s", link);
		snprintf(t->target, sizeof t->target, "%s", target);
	}
	snprintf(t->final, sizeof t->final, "%s", w.cur);
	if (err == 0 && w.n == 0 && !w.outside && fstat(rootfd, &t->st) != 0)
		err = -errno;
	return t->err = err;
}
