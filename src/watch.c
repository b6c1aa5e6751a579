/* watch.c - the one inotify watcher. See watch.h.
 *
 * Directories are opened beneath the root like any file, then watched
 * through /proc/self/fd, so a watch cannot be sent elsewhere by a symlink. */
#include "watch.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log.h"
#include "path.h"

/* What changes a cached answer or a page under edit: contents, metadata,
 * names coming and going (a new x.gz changes the answer for x), the
 * directory itself vanishing. One mask for both subscribers: watching an
 * inode again replaces its mask. */
#define WATCH_MASK                                                                                 \
	(IN_MODIFY | IN_ATTRIB | IN_CLOSE_WRITE | IN_CREATE | IN_DELETE | IN_MOVED_FROM |          \
	 IN_MOVED_TO | IN_DELETE_SELF | IN_MOVE_SELF)

static void
on_event(void *self, uint32_t events)
{
	(void)events;
	watch_drain(self);
}

int
watch_init(struct watch *w, int rootfd)
{
	memset(w, 0, sizeof *w);
	w->handler = (struct loop_handler){.on_event = on_event, .early = 1};
	w->rootfd = rootfd;
	w->fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	return w->fd < 0 ? -errno : 0;
}

void
watch_free(struct watch *w)
{
	for (size_t i = 0; i < w->ndirs; i++)
		free(w->dirs[i].dir);
	free(w->dirs);
	w->dirs = NULL;
	w->ndirs = w->cap = 0;
	if (w->fd >= 0)
		close(w->fd);
	w->fd = -1;
}

void
watch_files(struct watch *w, void (*fn)(void *ctx, const struct watch_change *ch), void *ctx)
{
	w->on_file = fn;
	w->file_ctx = ctx;
}

void
watch_top(struct watch *w, void (*fn)(void *ctx, const struct watch_change *ch), void *ctx)
{
	w->on_top = fn;
	w->top_ctx = ctx;
}

size_t
watch_count(const struct watch *w)
{
	return w->ndirs;
}

int
watch_ignorable(const char *name, size_t n)
{
	return n == 0 || name[0] == '.' || name[n - 1] == '~' ||
	       (n > 4 && strcmp(name + n - 4, ".swp") == 0) || name[0] == '#';
}

static void
tell_files(struct watch *w, const char *dir, size_t dlen, const char *name, size_t n, uint32_t mask)
{
	if (w->on_file)
		w->on_file(w->file_ctx, &(struct watch_change){dir, dlen, name, n, mask});
}

static void
tell_tree(struct watch *w, const char *dir, size_t dlen, const char *name, size_t n, uint32_t mask)
{
	w->on_tree(w->tree_ctx, &(struct watch_change){dir, dlen, name, n, mask});
	if (w->on_top && dlen == 0)
		w->on_top(w->top_ctx, &(struct watch_change){dir, dlen, name, n, mask});
}

/* The tree's entry for wd, or -1. */
static long
find_tree(const struct watch *w, int wd)
{
	for (size_t i = 0; i < w->ndirs; i++)
		if (w->dirs[i].wd == wd && (w->dirs[i].subs & WATCH_TREE))
			return (long)i;
	return -1;
}

/* Drops entry i; the table is unordered. The cache needs no word: every
 * caller acts on an event it has heard already (IN_IGNORED, IN_MOVE_SELF,
 * the parent's IN_MOVED_FROM, an overflow). */
static void
drop_entry(struct watch *w, size_t i)
{
	free(w->dirs[i].dir);
	w->dirs[i] = w->dirs[--w->ndirs];
}

/* Every entry for wd goes: its kernel watch is gone or about to go. */
static void
drop_wd(struct watch *w, int wd)
{
	for (size_t i = 0; i < w->ndirs;)
		if (w->dirs[i].wd == wd)
			drop_entry(w, i);
		else
			i++;
}

static int
append(struct watch *w, int wd, unsigned subs, const char *dir, size_t len)
{
	char *copy = malloc(len + 1);
	if (!copy)
		return -ENOMEM;
	memcpy(copy, dir, len);
	copy[len] = '\0';
	if (w->ndirs == w->cap) {
		size_t cap = w->cap ? 2 * w->cap : 64;
		struct watch_dir *d = realloc(w->dirs, cap * sizeof *d);
		if (!d) {
			free(copy);
			return -ENOMEM;
		}
		w->dirs = d;
		w->cap = cap;
	}
	w->dirs[w->ndirs++] = (struct watch_dir){wd, subs, len, copy};
	return 0;
}

/* Records dir under wd for the tree. inotify gives one wd per inode, so a
 * directory that comes back (moved away and back, or renamed within the
 * tree) gets the wd it had: its entry is renamed, never duplicated; one the
 * cache already watches under that name becomes the tree's too. */
static int
record_tree(struct watch *w, int wd, const char *dir, size_t len)
{
	long i = find_tree(w, wd);
	if (i >= 0) {
		char *copy = malloc(len + 1);
		if (!copy)
			return -ENOMEM;
		memcpy(copy, dir, len + 1);
		free(w->dirs[i].dir);
		w->dirs[i].dir = copy;
		w->dirs[i].dir_len = len;
		return 0;
	}
	for (size_t k = 0; k < w->ndirs; k++) {
		struct watch_dir *d = &w->dirs[k];
		if (d->wd == wd && d->dir_len == len && memcmp(d->dir, dir, len) == 0) {
			d->subs |= WATCH_TREE;
			return 0;
		}
	}
	return append(w, wd, WATCH_TREE, dir, len);
}

/* Opens dir (NUL-terminated) beneath the root and watches that inode.
 * Returns the wd, with the directory's fd in *fdp, or -errno. */
static int
add_kernel_watch(struct watch *w, const char *dir, int *fdp)
{
	struct stat st;
	int fd = path_open(w->rootfd, dir, &st);
	if (fd < 0)
		return fd;
	char proc[64];
	snprintf(proc, sizeof proc, "/proc/self/fd/%d", fd);
	int wd = inotify_add_watch(w->fd, proc, WATCH_MASK);
	if (wd < 0) {
		int e = errno;
		close(fd);
		return -e;
	}
	*fdp = fd;
	return wd;
}

void
watch_dir(struct watch *w, const char *path, size_t len)
{
	if (w->fd < 0)
		return;
	size_t dlen = len;
	while (dlen > 0 && path[dlen - 1] != '/')
		dlen--;
	size_t own = 0;
	for (size_t i = 0; i < w->ndirs; i++) {
		struct watch_dir *d = &w->dirs[i];
		if (d->dir_len == dlen && memcmp(d->dir, path, dlen) == 0) {
			d->subs |= WATCH_FILES; /* the tree's already, or ours */
			return;
		}
		own += d->subs == WATCH_FILES;
	}
	char dir[4096];
	if (own >= WATCH_FILE_DIRS_MAX || dlen >= sizeof dir)
		return;
	memcpy(dir, path, dlen);
	dir[dlen] = '\0';
	int fd;
	int wd = add_kernel_watch(w, dir, &fd);
	if (wd < 0)
		return;
	close(fd);
	/* The same wd may be in the table under another name (a directory
	 * reached through a symlink): a second entry, so both names hear. */
	int known = 0;
	for (size_t i = 0; i < w->ndirs; i++)
		known |= w->dirs[i].wd == wd;
	if (append(w, wd, WATCH_FILES, dir, dlen) < 0 && !known)
		(void)inotify_rm_watch(w->fd, wd);
}

/* A directory moved away: the tree's watches of it and of everything below
 * it go (a MOVED_TO elsewhere in the tree adds them again). Without this, a
 * directory moved out of the tree would stay watched for good. */
static void
forget_tree(struct watch *w, const char *dir, size_t len)
{
	for (size_t i = 0; i < w->ndirs;) {
		struct watch_dir *d = &w->dirs[i];
		if ((d->subs & WATCH_TREE) && d->dir_len >= len && memcmp(d->dir, dir, len) == 0) {
			/* IN_IGNORED follows for wd; by then it is unknown
			 * (unless the cache knows it by another name). */
			(void)inotify_rm_watch(w->fd, d->wd);
			drop_entry(w, i);
		} else {
			i++;
		}
	}
}

static int
add_tree(struct watch *w, const char *dir, size_t len)
{
	int fd;
	int wd = add_kernel_watch(w, dir, &fd);
	if (wd < 0) {
		if (wd == -ENOSPC && !w->warned_limit) {
			w->warned_limit = 1;
			log_warn("--live: out of inotify watches at '/%s'; raise "
			         "fs.inotify.max_user_watches to watch everything",
			         dir);
		}
		return wd;
	}
	int r = record_tree(w, wd, dir, len);
	if (r < 0) {
		(void)inotify_rm_watch(w->fd, wd);
		close(fd);
		return r;
	}

	/* Walk what is already inside: directories made before this watch
	 * existed would otherwise never be seen. */
	DIR *d = fdopendir(fd);
	if (!d) {
		close(fd);
		return 0;
	}
	struct dirent *de;
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.' && (!w->tree_dotfiles || de->d_name[1] == '\0' ||
		                             (de->d_name[1] == '.' && de->d_name[2] == '\0')))
			continue;
		if (de->d_type != DT_DIR)
			continue; /* DT_LNK: symlinked directories are not followed */
		char sub[4096];
		int n = snprintf(sub, sizeof sub, "%s%s/", dir, de->d_name);
		if (n > 0 && (size_t)n < sizeof sub)
			(void)add_tree(w, sub, (size_t)n);
	}
	closedir(d);
	return 0;
}

int
watch_tree(struct watch *w, int dotfiles, void (*fn)(void *ctx, const struct watch_change *ch),
           void *ctx)
{
	if (w->fd < 0)
		return -EBADF;
	w->on_tree = fn;
	w->tree_ctx = ctx;
	w->tree_dotfiles = dotfiles;
	return add_tree(w, "", 0);
}

/* The tree's part of an event for its entry t: tell --live, then follow a
 * directory that came or forget one that went. */
static void
apply_tree(struct watch *w, size_t t, const struct inotify_event *ev, size_t n)
{
	/* The path of the entry, copied: add_tree and forget_tree below
	 * change (and may move) the table an entry pointer would point into. */
	char sub[4096];
	int k = snprintf(sub, sizeof sub, "%s%.*s/", w->dirs[t].dir, (int)n, ev->name);
	size_t dlen = w->dirs[t].dir_len;
	if (k <= 0 || (size_t)k >= sizeof sub) {
		tell_tree(w, w->dirs[t].dir, dlen, ev->name, n, ev->mask);
		return; /* too deep to watch below */
	}
	tell_tree(w, sub, dlen, ev->name, n, ev->mask);
	if (!(ev->mask & IN_ISDIR) || watch_ignorable(ev->name, n))
		return;
	if (ev->mask & IN_MOVED_FROM)
		forget_tree(w, sub, (size_t)k);
	if (ev->mask & (IN_CREATE | IN_MOVED_TO))
		(void)add_tree(w, sub, (size_t)k);
}

static void
apply(struct watch *w, const struct inotify_event *ev)
{
	if (ev->mask & IN_Q_OVERFLOW) {
		tell_files(w, "", 0, "", 0, IN_Q_OVERFLOW);
		if (w->on_tree) {
			tell_tree(w, "", 0, "", 0, IN_Q_OVERFLOW);
			/* Lost events may have been renames: watch the tree afresh. */
			forget_tree(w, "", 0);
			(void)add_tree(w, "", 0);
		}
		return;
	}
	size_t n = strnlen(ev->name, ev->len);
	/* The cache hears every event, under every name the directory has. */
	for (size_t i = 0; i < w->ndirs; i++)
		if (w->dirs[i].wd == ev->wd)
			tell_files(w, w->dirs[i].dir, w->dirs[i].dir_len, ev->name, n, ev->mask);
	if (ev->mask & IN_IGNORED) { /* the watch is gone: forget it */
		drop_wd(w, ev->wd);
		return;
	}
	long t = find_tree(w, ev->wd);
	if (t >= 0) {
		apply_tree(w, (size_t)t, ev, n);
	} else if (ev->mask & IN_MOVE_SELF) {
		/* Only the cache's, and its name is now wrong: let go, so a
		 * new directory of that name gets a watch of its own. */
		(void)inotify_rm_watch(w->fd, ev->wd);
		drop_wd(w, ev->wd);
	}
}

void
watch_drain(struct watch *w)
{
	if (w->fd < 0)
		return;
	char buf[8192] __attribute__((aligned(__alignof__(struct inotify_event))));
	for (;;) {
		ssize_t n = read(w->fd, buf, sizeof buf);
		if (n <= 0) {
			if (n < 0 && errno == EINTR)
				continue;
			return; /* EAGAIN: drained */
		}
		for (char *p = buf; p < buf + n;) {
			const struct inotify_event *ev = (const struct inotify_event *)p;
			apply(w, ev);
			p += sizeof *ev + ev->len;
		}
	}
}
