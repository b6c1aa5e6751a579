/* cache.c - the small-file cache. See cache.h.
 *
 * Allocation happens when a file enters the cache, never on a hit. */
#include "cache.h"

#include <errno.h>
#include <sys/inotify.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fileio.h"
#include "hash.h"
#include "path.h"
#include "sidecar.h"

/* Entries at most; the byte budget usually binds first. */
#define CACHE_MAX_ENTRIES 4096

static void on_change(void *self, const struct watch_change *ch);

int
cache_init(struct cache *c, size_t max_bytes, size_t max_file, struct watch *w)
{
	memset(c, 0, sizeof *c);
	c->max_bytes = max_bytes;
	c->max_file = max_file;
	if (max_bytes == 0)
		return 0;
	c->nbuckets = 8192; /* a power of two, twice the entry cap */
	c->buckets = calloc(c->nbuckets, sizeof *c->buckets);
	if (!c->buckets)
		return -ENOMEM;
	if (w && w->fd >= 0) {
		c->watch = w;
		watch_files(w, on_change, c);
	}
	return 0;
}

struct cache_entry *
cache_private(char *body, size_t len, const char *type)
{
	struct cache_entry *e = calloc(1, sizeof *e + 1);
	if (!e) {
		free(body);
		return NULL;
	}
	e->body = body;
	e->st.st_size = (off_t)len;
	e->type = type;
	e->refs = 1;
	return e;
}

void
cache_ref(struct cache_entry *e)
{
	e->refs++;
}

void
cache_unref(struct cache_entry *e)
{
	if (--e->refs == 0) {
		if (e->account)
			*e->account -= (size_t)e->st.st_size;
		free(e->body);
		free(e);
	}
}

static void
lru_unlink(struct cache *c, struct cache_entry *e)
{
	if (e->lru_prev)
		e->lru_prev->lru_next = e->lru_next;
	else
		c->lru_head = e->lru_next;
	if (e->lru_next)
		e->lru_next->lru_prev = e->lru_prev;
	else
		c->lru_tail = e->lru_prev;
	e->lru_prev = e->lru_next = NULL;
}

static void
lru_push_front(struct cache *c, struct cache_entry *e)
{
	e->lru_prev = NULL;
	e->lru_next = c->lru_head;
	if (c->lru_head)
		c->lru_head->lru_prev = e;
	else
		c->lru_tail = e;
	c->lru_head = e;
}

/* Takes e out of the table; responses still sending it keep it alive. */
static void
drop(struct cache *c, struct cache_entry *e)
{
	struct cache_entry **pp = &c->buckets[e->hash & (c->nbuckets - 1)];
	while (*pp != e)
		pp = &(*pp)->chain;
	*pp = e->chain;
	lru_unlink(c, e);
	c->count--;
	c->bytes -= (size_t)e->st.st_size;
	e->in_table = 0;
	cache_unref(e);
}

void
cache_free(struct cache *c)
{
	while (c->lru_head)
		drop(c, c->lru_head);
	free(c->buckets);
	c->buckets = NULL;
	if (c->watch)
		watch_files(c->watch, NULL, NULL);
	c->watch = NULL;
}

/* Drops every entry whose path starts with prefix ("" drops them all). */
static void
drop_prefix(struct cache *c, const char *prefix, size_t n)
{
	struct cache_entry *e = c->lru_head;
	while (e) {
		struct cache_entry *next = e->lru_next;
		if (e->path_len >= n && memcmp(e->path, prefix, n) == 0)
			drop(c, e);
		e = next;
	}
}

static void
drop_path(struct cache *c, const char *path, size_t len)
{
	uint64_t h = hash_fnv1a(path, len);
	struct cache_entry *e = c->buckets[h & (c->nbuckets - 1)];
	while (e && !(e->hash == h && e->path_len == len && memcmp(e->path, path, len) == 0))
		e = e->chain;
	if (e)
		drop(c, e);
}

/* The watcher's word: something in a watched directory changed. */
static void
on_change(void *self, const struct watch_change *ch)
{
	struct cache *c = self;
	if (ch->mask & IN_Q_OVERFLOW) {
		drop_prefix(c, "", 0);
		return;
	}
	if (ch->mask & (IN_IGNORED | IN_DELETE_SELF | IN_MOVE_SELF | IN_UNMOUNT)) {
		drop_prefix(c, ch->dir, ch->dir_len);
		return;
	}
	char path[4096 + 256];
	size_t n = ch->name_len;
	if (n == 0 || ch->dir_len + n + 1 >= sizeof path)
		return;
	memcpy(path, ch->dir, ch->dir_len);
	memcpy(path + ch->dir_len, ch->name, n);
	size_t len = ch->dir_len + n;
	path[len] = '\0';
	drop_path(c, path, len);
	if (ch->mask & IN_ISDIR) {
		path[len] = '/';
		drop_prefix(c, path, len + 1);
	}
	/* x.gz appearing or changing changes the answer for x. */
	for (size_t k = 0; k < SIDECAR_COUNT; k++) {
		size_t el = strlen(sidecars[k].ext);
		if (len > el && memcmp(path + len - el, sidecars[k].ext, el) == 0)
			drop_path(c, path, len - el);
	}
}

static int
same_file(const struct stat *a, const struct stat *b)
{
	return a->st_ino == b->st_ino && a->st_dev == b->st_dev && a->st_size == b->st_size &&
	       a->st_mtim.tv_sec == b->st_mtim.tv_sec && a->st_mtim.tv_nsec == b->st_mtim.tv_nsec &&
	       a->st_ctim.tv_sec == b->st_ctim.tv_sec && a->st_ctim.tv_nsec == b->st_ctim.tv_nsec;
}

/* Is the entry still what the path names, beneath the root, with no
 * precompressed sibling that would change the answer? */
static int
still_valid(const struct cache *c, const struct cache_entry *e, int rootfd, int check_sidecars)
{
	struct stat st;
	/* Dotfiles allowed here: the entry passed that rule when it was
	 * loaded, and same_file below refuses any other file at the path. */
	int fd = path_open_ex(rootfd, e->path, c->follow_symlinks, 1, &st);
	if (fd < 0)
		return 0;
	close(fd);
	if (!S_ISREG(st.st_mode) || !same_file(&st, &e->st))
		return 0;
	if (check_sidecars) {
		char p[4096 + 8];
		if (e->path_len + SIDECAR_EXT_MAX + 1 > sizeof p)
			return 0;
		for (size_t i = 0; i < SIDECAR_COUNT; i++) {
			memcpy(p, e->path, e->path_len);
			strcpy(p + e->path_len, sidecars[i].ext);
			fd = path_open_ex(rootfd, p, c->follow_symlinks, 1, &st);
			if (fd >= 0) {
				close(fd);
				return 0;
			}
		}
	}
	return 1;
}

struct cache_entry *
cache_lookup(struct cache *c, const char *path, size_t len, uint64_t now_ms, int rootfd,
             int check_sidecars)
{
	if (c->max_bytes == 0)
		return NULL;
	uint64_t h = hash_fnv1a(path, len);
	struct cache_entry *e = c->buckets[h & (c->nbuckets - 1)];
	while (e && !(e->hash == h && e->path_len == len && memcmp(e->path, path, len) == 0))
		e = e->chain;
	if (!e)
		return NULL;
	/* A hit is about to be served, and the request's bytes were read after
	 * the loop last drained inotify (it drains once per wake-up, then keeps
	 * accepting and reading). An event queued before those bytes came in
	 * must be applied now, or a file written before the request was sent
	 * could be answered from the old body. One read that says EAGAIN is
	 * the whole cost when nothing changed; a miss needs no drain (it opens
	 * the file). */
	if (c->watch) {
		cache_ref(e); /* the drain may drop it from the table */
		watch_drain(c->watch);
		int gone = !e->in_table;
		cache_unref(e);
		if (gone)
			return NULL;
	}
	if (now_ms - e->checked_ms >= CACHE_CHECK_MS) {
		if (!still_valid(c, e, rootfd, check_sidecars)) {
			drop(c, e);
			return NULL;
		}
		e->checked_ms = now_ms;
	}
	if (c->lru_head != e) {
		lru_unlink(c, e);
		lru_push_front(c, e);
	}
	cache_ref(e);
	return e;
}

void
cache_set_fields(struct cache_entry *e, const char *p, size_t n)
{
	if (n > sizeof e->fields)
		return;
	memcpy(e->fields, p, n);
	e->fields_len = n;
}

struct cache_entry *
cache_fill(struct cache *c, const char *path, size_t len, int fd, const struct stat *st,
           const char *type, const char *etag, size_t etag_len, const char *modified,
           uint64_t now_ms)
{
	size_t size = (size_t)st->st_size;
	if (c->max_bytes == 0 || st->st_size < 0 || size > c->max_file || size > c->max_bytes ||
	    etag_len >= COND_ETAG_MAX)
		return NULL;
	struct cache_entry *e = calloc(1, sizeof *e + len + 1);
	char *body = malloc(size ? size : 1);
	if (!e || !body) {
		free(e);
		free(body);
		return NULL;
	}
	if (fileio_read_all(fd, body, size) != (ssize_t)size) {
		/* it shrank under us: let the slow path deal with it */
		free(e);
		free(body);
		return NULL;
	}
	e->hash = hash_fnv1a(path, len);
	e->st = *st;
	e->type = type;
	memcpy(e->etag, etag, etag_len);
	e->etag_len = etag_len;
	memcpy(e->modified, modified, sizeof e->modified);
	e->body = body;
	e->path_len = len;
	memcpy(e->path, path, len);
	e->checked_ms = now_ms;

	/* Replace an older entry for the same path, then make room. */
	struct cache_entry *old = c->buckets[e->hash & (c->nbuckets - 1)];
	while (old &&
	       !(old->hash == e->hash && old->path_len == len && memcmp(old->path, path, len) == 0))
		old = old->chain;
	if (old)
		drop(c, old);
	while (c->lru_tail && (c->bytes + size > c->max_bytes || c->count >= CACHE_MAX_ENTRIES))
		drop(c, c->lru_tail);

	struct cache_entry **bucket = &c->buckets[e->hash & (c->nbuckets - 1)];
	e->chain = *bucket;
	*bucket = e;
	lru_push_front(c, e);
	e->in_table = 1;
	e->refs = 2; /* the table's and the caller's */
	c->count++;
	c->bytes += size;
	if (c->watch)
		watch_dir(c->watch, path, len);
	return e;
}
