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
#include "live.h"
#include "loop.h"
#include "response.h"
#include "rules.h"
#include "pool.h"
#include "settings.h"
#include "site.h"
#include "timer.h"
#include "watch.h"

struct conn;

/* The --live event streams (server.c; the list is server_conns.c):
 * live_tick() makes the messages, the server writes them to every
 * connection on the list. */
struct server_streams {
	struct conn *head; /* CONN_EVENTS connections, linked by sse_prev/sse_next */
	unsigned count;    /* on the list */
	unsigned open;     /* event-stream responses, head sent or not: the cap
	                    * (live_respond_events takes one, server_release() gives it back) */
};

struct server {
	const struct server_config *cfg;
	int epfd;
	int rootfd;
	struct server_listener {
		struct loop_handler handler; /* first, see loop.h */
		int fd;
		struct server *srv;
	} listeners[SHS_MAX_LISTENERS], sig, upgrade; /* upgrade: see upgrade.h */
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
	struct pool pool;               /* request buffers (struct conn_io), borrowed per request */
	uint64_t pool_next_ms;          /* when pool_trim wants to look again */

	int spare_fd;      /* kept open to shed a client cleanly on EMFILE */
	int accept_paused; /* accept hit a limit; retry when a slot frees */
	int stopping;      /* SIGTERM/SIGINT seen: finishing in-flight responses */
	int stop_now;      /* SIGQUIT or a second signal: leave the loop at once */
	/* Lame duck (site.lameduck set): until this time --health says 503
	 * and everything else is served; then server_begin_stop. */
	uint64_t lameduck_end_ms;
	int lameduck_retire; /* at its end retire (an upgrade) rather than stop */
	uint64_t stop_deadline_ms;
	unsigned stop_grace_ms; /* the grace of that deadline (SIGTERM's, or --drain-timeout) */

	uint64_t now_ms; /* CLOCK_MONOTONIC, refreshed once per wake-up */
	time_t date_sec;
	char date[RESP_DATE_LEN + 1]; /* IMF-fixdate for date_sec */
	/* Server, Date and the configured headers every response carries,
	 * formatted once per second (reply_format_prefix). */
	char head_prefix[SHS_EXTRA_HEADERS_MAX + 160];
	size_t head_prefix_len;
	char boundary[24]; /* multipart/byteranges boundary, random per process */
	struct site site;  /* what responders see (site.h): set up once, its clock
	                    * and prefix length refreshed with the server's */

	struct watch watch; /* the one inotify fd: the cache's and --live's */
	struct cache cache;
	struct rules rules; /* _redirects, _headers (--rules, --dev) */
	int rules_quiet;    /* loads them without logging (server_ready) */
	struct live_state live;
	struct server_streams streams;
	uint64_t live_next_ms;       /* next live-reload deadline */
	struct accesslog access_log; /* set up by main before server_run */
};

/* Sets up epoll, the signal fd and the connection table around already
 * listening sockets and an open root directory fd. Returns 0 or -errno. */
int server_init(struct server *srv, const struct server_config *cfg, const int *listen_fds,
                unsigned nlisten, int rootfd);

/* The last step of a start, after server_init, once the error log is open
 * (so these lines go there, not to the terminal): loads _redirects and
 * _headers when they are on (--rules, --dev), and says what was loaded and
 * how many directories --live watches. quiet: another process says it
 * (--workers: every worker but worker 0), so each line appears once, at
 * startup and on each --live reload of the rules. */
void server_ready(struct server *srv, int quiet);

/* Runs the loop until a SIGTERM/SIGINT shutdown completes. Returns the exit
 * status for main (0 for a clean stop). */
int server_run(struct server *srv);

/* Lame duck, what SIGTERM/SIGINT start when cfg->lameduck_ms > 0: for
 * that long the --health path answers 503 (so a balancer's checks take the
 * instance out) while every other request is served and new connections
 * are accepted; then server_begin_stop. A stop signal meanwhile stops at
 * once. With lameduck_ms 0 it is server_begin_stop. Called again, or while
 * stopping, it does nothing. An on-line upgrade's old generation calls it
 * before it retires, so the same drain applies. */
void server_begin_lameduck(struct server *srv);

/* The graceful stop: close the listeners and idle connections, finish the
 * responses in flight (at most SHS_SHUTDOWN_GRACE_MS), then server_run
 * returns. Ends a lame duck. */
void server_begin_stop(struct server *srv);

void server_free(struct server *srv);

#endif
