/* server_setup.c - setting the loop up and taking it down: epoll, the
 * signal fd, the connection table, the one inotify watcher with its
 * subscribers (cache, --live), and what responders see (struct site).
 * See server.h; the loop itself is server.c. */
#include "server_loop.h"

#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/inotify.h>
#include <sys/random.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include "accept.h"
#include "conn.h"
#include "live.h"
#include "log.h"

/* _redirects and _headers, and what was loaded to the log, unless another
 * worker logs it (srv->rules_quiet). A failure to load (out of memory) is logged
 * by each and leaves no rules: never fatal. */
static void
load_rules(struct server *srv)
{
	if (!srv->rules_quiet)
		(void)rules_load_logged(&srv->rules, srv->rootfd, srv->cfg->rules);
	else if (rules_load(&srv->rules, srv->rootfd, NULL, NULL) < 0)
		log_error("_redirects/_headers: %s; serving without rules", strerror(ENOMEM));
}

/* --live: a change to _redirects or _headers (or lost events) reloads
 * both; what was loaded goes to the log again. */
static void
on_top_change(void *ctx, const struct watch_change *ch)
{
	struct server *srv = ctx;
	if ((ch->mask & IN_Q_OVERFLOW) ||
	    (rules_is_rule_file(ch->name, ch->name_len) &&
	     (ch->mask & (IN_CLOSE_WRITE | IN_MOVED_TO | IN_MOVED_FROM | IN_DELETE))))
		load_rules(srv);
}

/* The one inotify watcher, opened for the cache or --live, its two
 * subscribers, and its fd in the loop (an early handler). */
static int
init_watchers(struct server *srv)
{
	const struct server_config *cfg = srv->cfg;
	int r = cfg->live || cfg->cache_bytes ? watch_init(&srv->watch, srv->rootfd) : 0;
	if (r < 0 && cfg->live)
		return r;
	if (r < 0)
		log_warn("inotify: %s; cached files are rechecked every %d ms instead",
		         strerror(-r), CACHE_CHECK_MS);
	if (cache_init(&srv->cache, cfg->cache_bytes, cfg->cache_max_file, &srv->watch) != 0)
		return -ENOMEM;
	srv->cache.follow_symlinks = cfg->follow_symlinks;
	srv->live_next_ms = UINT64_MAX;
	if (cfg->live) {
		r = live_init(&srv->live, &srv->watch, cfg->dotfiles, &srv->now_ms);
		if (r < 0)
			return r;
		srv->live_next_ms = srv->live.heartbeat_ms;
		if (srv->site.rules)
			watch_top(&srv->watch, on_top_change, srv);
	}
	if (srv->watch.fd >= 0) {
		struct epoll_event ev = {.events = EPOLLIN | EPOLLET,
		                         .data.ptr = &srv->watch.handler};
		if (epoll_ctl(srv->epfd, EPOLL_CTL_ADD, srv->watch.fd, &ev) != 0)
			return -errno;
	}
	return 0;
}

/* What responders see (site.h), the clock, and a random multipart
 * boundary: one a file cannot hold to forge parts. */
static void
init_site(struct server *srv)
{
	const struct server_config *cfg = srv->cfg;
	srv->site = (struct site){
	    .cfg = cfg,
	    .rootfd = srv->rootfd,
	    .cache = &srv->cache,
	    .live = cfg->live ? &srv->live : NULL,
	    .streams_open = &srv->streams.open,
	    .streams_max = live_streams_max(cfg),
	    .head_prefix = srv->head_prefix,
	    .boundary = srv->boundary,
	};
	server_update_clock(srv);
	unsigned char rnd[8] = {0};
	if (getrandom(rnd, sizeof rnd, GRND_NONBLOCK) != (ssize_t)sizeof rnd)
		memcpy(rnd, &srv->now_ms,
		       sizeof rnd < sizeof srv->now_ms ? sizeof rnd : sizeof srv->now_ms);
	static const char hex[] = "0123456789abcdef";
	memcpy(srv->boundary, "shs-", 4);
	for (size_t i = 0; i < sizeof rnd; i++) {
		srv->boundary[4 + 2 * i] = hex[rnd[i] >> 4];
		srv->boundary[5 + 2 * i] = hex[rnd[i] & 15];
	}
	srv->boundary[4 + 2 * sizeof rnd] = '\0';
}

int
server_init(struct server *srv, const struct server_config *cfg, const int *listen_fds,
            unsigned nlisten, int rootfd)
{
	memset(srv, 0, sizeof *srv);
	srv->watch.fd = -1;
	srv->cfg = cfg;
	srv->rootfd = rootfd;
	if (nlisten > SHS_MAX_LISTENERS)
		return -EINVAL;
	srv->nlisteners = nlisten;
	for (unsigned i = 0; i < nlisten; i++)
		srv->listeners[i] =
		    (struct server_listener){{.on_event = server_on_listener}, listen_fds[i], srv};
	srv->sig = (struct server_listener){{.on_event = server_on_signal}, -1, srv};
	srv->epfd = -1;
	srv->spare_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	for (int k = 0; k < TIMER_COUNT; k++) {
		srv->timers[k].timeout_ms = cfg->timeout_ms[k];
		srv->timers[k].head = srv->timers[k].tail = TIMER_NIL;
	}
	accesslog_disable(&srv->access_log);
	init_site(srv);

	/* calloc of a large table is fresh zero pages from mmap, and slots are
	 * handed out in order (see take_slot) and never touched before: a slot
	 * costs memory only once a connection has used it. */
	srv->conns = calloc(cfg->max_conns, sizeof *srv->conns);
	srv->timer_nodes = calloc(cfg->max_conns, sizeof *srv->timer_nodes);
	/* Buffers are borrowed per request in flight, not owned per
	 * connection: an idle connection costs its slot and nothing more. */
	pool_init(&srv->pool, sizeof(struct conn_io),
	          cfg->max_buffers ? cfg->max_buffers : cfg->max_conns);
	srv->pool_next_ms = UINT64_MAX;
	if (!srv->conns || !srv->timer_nodes)
		return -ENOMEM;

	/* Signals arrive as reads on a signalfd in the loop; nothing runs in a
	 * handler. A vanished client shows up as EPIPE, never SIGPIPE. */
	signal(SIGPIPE, SIG_IGN);
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGQUIT);
	sigaddset(&set, SIGHUP);
	sigaddset(&set, SIGUSR1);
	sigaddset(&set, SIGUSR2); /* upgrade (upgrade.h); in a worker: retire */
	if (sigprocmask(SIG_BLOCK, &set, NULL) != 0)
		return -errno;
	srv->sig.fd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
	srv->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (srv->sig.fd < 0 || srv->epfd < 0)
		return -errno;
	struct epoll_event ev = {.events = EPOLLIN | EPOLLET};
	for (unsigned i = 0; i < nlisten; i++) {
		ev.data.ptr = &srv->listeners[i];
		if (epoll_ctl(srv->epfd, EPOLL_CTL_ADD, listen_fds[i], &ev) != 0)
			return -errno;
	}
	/* --rules, or --dev/--live when the files are there; loaded by
	 * server_ready, before the first request. */
	rules_init(&srv->rules);
	if (cfg->rules || cfg->dev)
		srv->site.rules = &srv->rules;
	int r = init_watchers(srv);
	if (r < 0)
		return r;
	ev.data.ptr = &srv->sig;
	if (epoll_ctl(srv->epfd, EPOLL_CTL_ADD, srv->sig.fd, &ev) != 0)
		return -errno;
	return 0;
}

void
server_ready(struct server *srv, int quiet)
{
	srv->rules_quiet = quiet;
	if (srv->site.rules)
		load_rules(srv);
	if (!quiet && srv->live.on)
		log_info("--live: watching %zu directories", watch_count(&srv->watch));
}

void
server_free(struct server *srv)
{
	accept_shed_report(srv->now_ms, 1);
	accesslog_close(&srv->access_log);
	if (srv->conns) {
		for (unsigned i = 0; i < srv->used_slots; i++)
			if (srv->conns[i].state != CONN_DONE)
				conn_close(&srv->conns[i]);
		free(srv->conns);
		srv->conns = NULL;
	}
	free(srv->timer_nodes);
	srv->timer_nodes = NULL;
	pool_free(&srv->pool);
	cache_free(&srv->cache);
	rules_free(&srv->rules);
	live_free(&srv->live);
	watch_free(&srv->watch);
	for (unsigned i = 0; i < srv->nlisteners; i++)
		if (srv->listeners[i].fd >= 0)
			close(srv->listeners[i].fd);
	if (srv->sig.fd >= 0)
		close(srv->sig.fd);
	if (srv->epfd >= 0)
		close(srv->epfd);
	if (srv->spare_fd >= 0)
		close(srv->spare_fd);
	srv->nlisteners = 0;
	srv->sig.fd = srv->epfd = srv->spare_fd = -1;
}
