/* watch.h - the one inotify watcher: one inotify fd, a wd -> directory
 * table, and two subscribers.
 *
 * - The cache (files): "watch the directory of this file" (watch_dir); it is
 *   told of every change in a watched directory, with that directory's path.
 * - --live (tree): "watch the whole top dir" (watch_tree); new directories
 *   are followed, directories moved away or deleted are forgotten, and it is
 *   told of every change in the tree (the raw directory, name and mask) for
 *   its debounce.
 *
 * With --live the tree already covers every directory the cache asks for,
 * so the cache adds no kernel watch of its own; without it, only the
 * cache's directories are watched. The loop reads the fd (the handler is
 * early: file changes are applied before the requests of the same batch),
 * and the cache drains it right before each hit (watch_drain): one read()
 * when nothing changed. */
#ifndef SHS_WATCH_H
#define SHS_WATCH_H

#include <stddef.h>
#include <stdint.h>

#include "loop.h"

/* Directories watched for the cache at most, beyond those of the tree
 * (each costs a kernel inotify watch). */
#define WATCH_FILE_DIRS_MAX 1024

/* Who wants a directory watched (struct watch_dir.subs). */
enum {
	WATCH_FILES = 1, /* the cache asked for it */
	WATCH_TREE = 2,  /* part of the --live tree */
};

/* One table entry. The tree has at most one entry per wd (inotify gives one
 * wd per inode: a directory renamed within the tree keeps its wd and its
 * entry is renamed); the cache may add another path for the same wd (a
 * directory reached through a symlink). */
struct watch_dir {
	int wd;
	unsigned subs;
	size_t dir_len;
	char *dir; /* normalised, with its trailing '/'; "" for the top dir */
};

/* What a subscriber is told: a change to name (name_len 0: the directory
 * itself) in dir, with the inotify mask. IN_IGNORED: the directory is no
 * longer watched; IN_Q_OVERFLOW (dir and name ""): events were lost. */
struct watch_change {
	const char *dir;
	size_t dir_len;
	const char *name;
	size_t name_len;
	uint32_t mask;
};

struct watch {
	struct loop_handler handler; /* first, see loop.h: drains fd, early */
	int fd;                      /* inotify; -1 when unavailable or unused */
	int rootfd;
	struct watch_dir *dirs;
	size_t ndirs, cap;
	void (*on_file)(void *ctx, const struct watch_change *ch); /* the cache, or NULL */
	void *file_ctx;
	void (*on_tree)(void *ctx, const struct watch_change *ch); /* --live, or NULL */
	void *tree_ctx;
	void (*on_top)(void *ctx, const struct watch_change *ch); /* rules.c's reload, or NULL */
	void *top_ctx;
	int tree_dotfiles; /* the tree follows dot directories */
	int warned_limit;
};

/* Opens the inotify fd for the top dir rootfd. Returns 0 or -errno (then
 * w->fd is -1 and every other call is a no-op). */
int watch_init(struct watch *w, int rootfd);
void watch_free(struct watch *w);

/* The cache's subscription: fn is told of changes in the directories
 * watch_dir() was asked for (and, with a tree, in all of them). */
void watch_files(struct watch *w, void (*fn)(void *ctx, const struct watch_change *ch), void *ctx);

/* Watches the directory part of path (up to its last '/') for the cache,
 * once. Failure only means the caller's revalidation backstop applies. */
void watch_dir(struct watch *w, const char *path, size_t len);

/* Watches the top dir and everything below it (dot directories only if
 * dotfiles) for fn. Returns 0 or -errno. Hitting the kernel's watch limit
 * is logged once. */
int watch_tree(struct watch *w, int dotfiles, void (*fn)(void *ctx, const struct watch_change *ch),
               void *ctx);

/* With a tree: fn is also told of each change in the top dir itself (and
 * of an overflow), for _redirects and _headers. */
void watch_top(struct watch *w, void (*fn)(void *ctx, const struct watch_change *ch), void *ctx);

/* Reads every pending event (the fd is non-blocking) and tells the
 * subscribers. One read() when nothing is pending. */
void watch_drain(struct watch *w);

/* Names editors leave behind (backups, swap files, dot files): --live does
 * not announce them and the tree does not follow new directories so named. */
int watch_ignorable(const char *name, size_t n);

/* Entries in the table (tests and the log). */
size_t watch_count(const struct watch *w);

#endif
