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
#include "response.h"
#include "settings.h"

/* Every object whose address goes into epoll_event.data.ptr starts with one of
 * these, so the loop knows what woke up without mixing .fd and .ptr. */
enum obj_kind {
	OBJ_LISTENER,
	OBJ_SIGNAL,
	OBJ_INOTIFY,
	OBJ_LIVE,
	OBJ_CONN,
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
	enum obj_kind kind; /* OBJ_LIVE: first, see above */
	int fd;             /* inotify, -1 when --live is off */
	struct live_watch *watches;
	size_t nwatches, cap;
	int warned_limit;
	int pending, css_only; /* a change waits for the debounce */
	uint64_t due_ms, heartbeat_ms;
	char changed[256];
	struct conn *clients; /* event-stream connections */
	unsigned nclients;
	unsigned streams; /* event-stream responses, head sent or not (the cap) */
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

struct server {
	const struct server_config *cfg;
	int epfd;
	int rootfd;
	struct server_listener {
		enum obj_kind kind;
		int fd;
	} listeners[SHS_MAX_LISTENERS], sig, inotify;
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

/* Puts a connection that used its fair share on the ready list: it runs
 * again before the loop sleeps, since no new edge will wake it. */
void server_yield(struct server *srv, struct conn *c);

/* Runs a connection now, from outside its own events (a live-reload
 * broadcast), with the loop's bookkeeping after it. */
void server_kick(struct server *srv, struct conn *c);

#endif
