/* cache.h - the small-file cache: whole responses bodies of small files kept
 * in memory with their validators, so a hit costs no open, fstat, sendfile
 * or close: the head and the body leave in one sendmsg.
 *
 * Freshness: the directory of every cached file is watched through the one
 * inotify watcher (watch.h), and pending events are applied (watch_drain: a
 * non-blocking read of its fd) right before a hit is served, after the request's bytes were read: a
 * file changed before a request was sent is never served stale, however long the loop has been busy
 * accepting and answering since its last wake-up. As a backstop (inotify unavailable or out of
 * watches, a symlink into another directory, a queue overflow), an entry whose last check is older
 * than CACHE_CHECK_MS is revalidated (opened beneath the root again, fstat,
 * sidecars probed) before use: staleness is bounded by that in any case. */
#ifndef SHS_CACHE_H
#define SHS_CACHE_H

#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>

#include "cond.h"
#include "response.h"
#include "watch.h"

/* How old a validation may be before an entry is checked again. */
#define CACHE_CHECK_MS 1000

/* Room for an entry's header lines; longer ones are formatted per response
 * instead. */
#define CACHE_FIELDS_MAX 384

struct cache_entry {
	struct cache_entry *chain;               /* hash bucket */
	struct cache_entry *lru_prev, *lru_next; /* most recently used first */
	uint64_t hash;
	unsigned refs; /* the table's reference plus one per response using it */
	int in_table;
	uint64_t checked_ms;
	struct stat st; /* as of the last validation */
	const char *type;
	char etag[COND_ETAG_MAX];
	size_t etag_len;
	char modified[RESP_DATE_LEN + 1];
	/* The entity header lines of a 200 for it (Content-Type through
	 * Vary; Cache-Control is reply_end_headers' job), formatted once by
	 * the server: a hit copies them. */
	char fields[CACHE_FIELDS_MAX];
	size_t fields_len; /* 0: not set, format them per response */
	char *body;
	size_t *account; /* if set, the body's bytes are charged here until it is freed */
	size_t path_len;
	char path[]; /* the key: a normalised path, NUL-terminated */
};

struct cache {
	/* The watcher it subscribes to (the server's), or NULL when inotify is
	 * unavailable: then only the periodic recheck keeps entries fresh. */
	struct watch *watch;
	struct cache_entry **buckets;
	size_t nbuckets;
	struct cache_entry *lru_head, *lru_tail;
	size_t count, bytes;
	size_t max_bytes, max_file; /* max_bytes 0: the cache is off */
	/* --follow-symlinks: revalidate as requests open (path_open_ex), so an
	 * entry reached through a link out of the top dir stays valid. */
	int follow_symlinks;
};

/* max_bytes 0 turns the cache off. w: the watcher to subscribe to (the
 * cache asks it to watch the directory of each file it keeps and drops what
 * it is told changed), or NULL or one without an fd. Returns 0 or -ENOMEM. */
int cache_init(struct cache *c, size_t max_bytes, size_t max_file, struct watch *w);
void cache_free(struct cache *c);

/* A fresh entry for path, after pending inotify events were applied
 * (watch_drain), and
 * revalidated if its last check is older than CACHE_CHECK_MS (a changed,
 * vanished or newly compressed file drops it), or NULL. The caller takes a reference. */
struct cache_entry *cache_lookup(struct cache *c, const char *path, size_t len, uint64_t now_ms,
                                 int rootfd, int check_sidecars);

/* Reads the regular file open at fd (described by st) into a new entry for
 * path. Returns it with a reference for the caller, or NULL if it is not
 * cacheable (too big, short read, out of memory). */
/* Keeps the header lines of a 200 for e (see fields); ignored if too long. */
void cache_set_fields(struct cache_entry *e, const char *p, size_t n);

struct cache_entry *cache_fill(struct cache *c, const char *path, size_t len, int fd,
                               const struct stat *st, const char *type, const char *etag,
                               size_t etag_len, const char *modified, uint64_t now_ms);

/* An entry outside the table for a body built for one response (--live
 * pages), taking ownership of body; its one reference is the caller's. */
struct cache_entry *cache_private(char *body, size_t len, const char *type);

void cache_ref(struct cache_entry *e);
void cache_unref(struct cache_entry *e);

#endif
