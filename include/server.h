/* server.h - the epoll loop: listener, signal fd, connection table, timeout
 * queues, the ready list, graceful shutdown. One process, one thread. */
#ifndef SHS_SERVER_H
#define SHS_SERVER_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>

#include "accesslog.h"
#include "cache.h"
#include "config.h"
#include "loop.h"
#include "response.h"

/* Timeout classes; each has one FIFO queue ordered by the time a connection
 * entered it, since all members share one timeout (lwan's idea): the head
 * is always the next to expire, so expiry costs O(1) per connection. */
enum timer_class {
	TIMER_NONE = -1,
	TIMER_HEADER,   /* a request head is arriving; not refreshed by bytes */
	TIMER_IDLE,     /* keep-alive, nothing in flight */
	TIMER_TRANSFER, /* sending a response or discarding a body; refreshed on progress */
	TIMER_LINGER,   /* draining input after our FIN */
	TIMER_COUNT,
};

struct server_config {
	const char *top_dir;
	const char *host;
	int port;
	int dotfiles;       /* serve dotfiles and dot-directories */
	unsigned max_conns; /* simultaneous clients; more get a 503 */
	int quiet;
	int listing;               /* directory listings for directories without index.html */
	int precompressed;         /* serve x.br / x.zst / x.gz sidecars when accepted */
	int cors;                  /* Access-Control-Allow-Origin: * and preflight answers */
	const char *cache_control; /* Cache-Control on 200/206/304, or NULL */
	const char *extra_headers; /* pre-rendered "Name: value\r\n" lines (--header) */
	unsigned timeout_ms[TIMER_COUNT]; /* per timer class */
	size_t cache_bytes;               /* small-file cache budget; 0 turns it off */
	size_t cache_max_file;            /* largest file the cache takes */
	const char *error_log;            /* --error-log FILE, reopened on SIGHUP, or NULL */
	int live;                         /* --live: watch files, event stream, script injection */
	int dev;                          /* --dev (implied by --live): helpful 404 pages */
	int spa;                          /* --spa: unknown extension-less paths get /index.html */
	int clean_urls;                   /* --clean-urls: /about is served from about.html */
};

struct conn;

struct live_watch {
	int wd;
	size_t dir_len;
	char *dir; /* "" for the top dir, else "a/b/" */
};

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

/* --live state (live.c): the recursive inotify watch and its clients. */
struct live_state {
	struct loop_handler handler; /* first, see loop.h: reads fd */
	struct server *srv;
	int fd; /* inotify, -1 when --live is off */
	struct live_watch *watches;
	size_t nwatches, cap;
	int warned_limit;
	int pending, css_only; /* a change waits for the debounce */
	uint64_t due_ms, heartbeat_ms;
	char changed[256];
	struct live_page pages[LIVE_PAGES_MAX];
	uint64_t page_clock;
	size_t page_bytes; /* held by injected pages, in the table or in flight */
	int warned_pages;
};

/* Timer queue links, one per connection slot, indexed like conns[] and
 * kept apart from them: re-queueing a connection after each request touches
 * its neighbours' links, and 16-byte nodes in one array stay in cache where
 * 1000 connections' structs would not. */
#define TIMER_NIL UINT32_MAX
struct timer_node {
	uint32_t prev, next; /* slot indexes, TIMER_NIL at the ends */
	uint64_t start_ms;   /* when its clock started */
};

struct timer_queue {
	uint32_t head, tail; /* TIMER_NIL when empty */
	uint64_t timeout_ms;
};

/* The --live event streams (server.c): live_tick() makes the messages, the
 * server writes them to every connection on the list. */
struct server_streams {
	struct conn *head; /* CONN_EVENTS connections, linked by sse_prev/sse_next */
	unsigned count;    /* on the list */
	unsigned open;     /* event-stream responses, head sent or not: the cap
	                    * (live_respond_events takes one, release() gives it back) */
};

struct server {
	const struct server_config *cfg;
	int epfd;
	int rootfd;
	struct server_listener {
		struct loop_handler handler; /* first, see loop.h */
		int fd;
		struct server *srv;
	} listeners[SHS_MAX_LISTENERS], sig;
	unsigned nlisteners;

	struct conn *conns;     /* table of cfg->max_conns, allocated once */
	struct conn *free_list; /* slots used before and free again */
	unsigned used_slots;    /* conns[0..used_slots) have been handed out */
	struct conn *released;  /* closed in this batch; freed after it */
	struct conn *ready;     /* yielded for fairness; run before sleeping */
	struct conn *ready_tail;
	unsigned active;
	struct timer_queue timers[TIMER_COUNT];
	struct timer_node *timer_nodes; /* max_conns of them */

	int spare_fd;      /* kept open to shed a client cleanly on EMFILE */
	int accept_paused; /* accept hit a limit; retry when a slot frees */
	int stopping;      /* SIGTERM/SIGINT seen: finishing in-flight responses */
	int stop_now;      /* SIGQUIT or a second signal: leave the loop at once */
	uint64_t stop_deadline_ms;

	uint64_t now_ms; /* CLOCK_MONOTONIC, refreshed once per wake-up */
	time_t date_sec;
	char date[RESP_DATE_LEN + 1]; /* IMF-fixdate for date_sec */
	/* Server, Date and the configured headers every response carries,
	 * formatted once per second (reply_update_prefix). */
	char head_prefix[SHS_EXTRA_HEADERS_MAX + 160];
	size_t head_prefix_len;
	char boundary[24]; /* multipart/byteranges boundary, random per process */

	struct cache cache;
	struct live_state live;
	struct server_streams streams;
	uint64_t live_next_ms;       /* next live-reload deadline */
	struct accesslog access_log; /* set up by main before server_run */
};

/* Sets up epoll, the signal fd and the connection table around already
 * listening sockets and an open root directory fd. Returns 0 or -errno. */
int server_init(struct server *srv, const struct server_config *cfg, const int *listen_fds,
                unsigned nlisten, int rootfd);

/* Runs the loop until a SIGTERM/SIGINT shutdown completes. Returns the exit
 * status for main (0 for a clean stop). */
int server_run(struct server *srv);

void server_free(struct server *srv);

#endif
