/* live.h - local development mode (--live): the top dir watched recursively
 * (the tree subscription of the one inotify watcher, watch.h), changes
 * debounced, and every
 * Server-Sent Events client told to reload (or to swap stylesheets when only
 * CSS changed). Also the script injected into HTML pages. */
#ifndef SHS_LIVE_H
#define SHS_LIVE_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>

#include "config.h"

struct cache_entry;

/* The reserved path of the event stream (without the leading slash). */
#define LIVE_EVENTS_PATH "__simple-http-server/events"

/* Changes are announced this long after the last one, so one build makes
 * one reload and half-written files are not shown. */
#define LIVE_DEBOUNCE_MS 100

/* A comment line keeps idle event streams (and proxies) from timing out. */
#define LIVE_HEARTBEAT_MS 15000

/* Memory for pages with the script put in, shared or still being sent to
 * clients that read slowly (or not at all, until the send timeout). Room
 * for four of the largest pages that get the script; past it a page that
 * must be built gets a 503 with Retry-After: 1. */
#define LIVE_PAGE_BYTES_MAX (4 * (size_t)SHS_LIVE_INJECT_MAX)

/* Event streams at most (each holds a connection slot for as long as its
 * tab is open): a 503 past it. Never more than half of --max-connections,
 * so streams cannot starve the pages themselves. */
#define LIVE_STREAMS_MAX 64

/* An HTML page with the --live script, shared by every response for one
 * version of the file (live.c). A site under edit has a handful of pages
 * open; more are rebuilt from disk when asked for again. */
#define LIVE_PAGES_MAX 8
struct live_page {
	struct cache_entry *entry; /* NULL: a free slot */
	dev_t dev;
	ino_t ino;
	off_t size;
	struct timespec mtim, ctim;
	uint64_t used; /* LRU stamp */
};

/* --live state: the pending change and the injected pages (the watches
 * are the watcher's, srv->watch). Private to live.c; struct server holds it
 * by value. The event-stream clients are the server's (struct
 * server_streams). */
struct live_state {
	int on;                /* live_init succeeded */
	const uint64_t *clock; /* the loop's now_ms (ms, monotonic) */
	int pending, css_only; /* a change waits for the debounce */
	uint64_t due_ms, heartbeat_ms;
	char changed[256];
	struct live_page pages[LIVE_PAGES_MAX];
	uint64_t page_clock;
	size_t page_bytes; /* held by injected pages, in the table or in flight */
	int warned_pages;
};

/* The script put into HTML pages: before </body>, else </head>, else at the end. */
extern const char live_script[];
extern const size_t live_script_len;

/* Subscribes to the whole tree through w (already open): each change
 * (re)starts the debounce timer, read from *clock. Returns 0 or -errno
 * (inotify unavailable). Hitting the watch limit is logged once. */
struct watch;
int live_init(struct live_state *l, struct watch *w, int dotfiles, const uint64_t *clock);

/* Room for the longest message live_tick() makes: a change event and a
 * heartbeat. */
#define LIVE_MSG_MAX 512

/* The message due now for every event stream: a change announced after the
 * debounce and/or a heartbeat, written to msg (cap bytes, LIVE_MSG_MAX is
 * enough). Returns its length, 0 for none; the caller sends it. *next_ms
 * is the next deadline (ms, monotonic), UINT64_MAX when nothing is pending. */
size_t live_tick(struct live_state *l, unsigned clients, char *msg, size_t cap, uint64_t *next_ms);

void live_free(struct live_state *l);

struct reply;
struct reply_file;
struct server_config;
struct site;
struct stat;

/* An HTML page with the script put in, built in memory (the file on disk is
 * never touched), with its own length; no ranges on this variant. Takes
 * ownership of fd. */
void live_respond_page(const struct site *s, struct reply *r, int fd, const struct stat *st,
                       const struct reply_file *fi, const char *type);

/* Event streams allowed at once: LIVE_STREAMS_MAX, at most half of
 * --max-connections (at least 1). */
unsigned live_streams_max(const struct server_config *cfg);

/* GET /__simple-http-server/events: the head of the Server-Sent Events
 * stream (r->sse: the connection then stays open as CONN_EVENTS). Past
 * s->streams_max streams: 503 with Retry-After: 1. */
void live_respond_events(const struct site *s, struct reply *r);

/* Where the script goes in an HTML body of len bytes: the offset of the
 * last "</body>", else of the last "</head>", else len. Case-insensitive. */
size_t live_inject_at(const char *html, size_t len);

/* Puts n bytes of snippet into html (len bytes, with room for n more) at
 * live_inject_at(): the script of --live pages, the suggestion of --dev
 * 404s. Returns the new length. */
size_t live_splice(char *html, size_t len, const char *snippet, size_t n);

#endif
