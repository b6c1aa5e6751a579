/* server.c - the one epoll loop. See server.h; its lists are
 * server_conns.c, signals and the stop server_stop.c.
 *
 * Each wake-up: epoll_wait, refresh the clock and Date string, run every
 * connection that has an event, run the ready list, expire timers, and only
 * then put closed connections back on the free list. A connection closed
 * earlier in a batch is CONN_DONE and its slot is not reused before the batch
 * ends, so a stale event for it finds CONN_DONE and is ignored. */
#include "server_loop.h"

#include <assert.h>
#include <errno.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>

#include "accept.h"
#include "conn.h"
#include "live.h"
#include "log.h"
#include "reply.h"
#include "timer.h"

void
server_update_clock(struct server *srv)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
	srv->now_ms = (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
	srv->site.now_ms = srv->now_ms;
	clock_gettime(CLOCK_REALTIME_COARSE, &ts);
	/* The Date header is formatted at most once per second. */
	if (ts.tv_sec != srv->date_sec) {
		srv->date_sec = ts.tv_sec;
		if (resp_format_date(ts.tv_sec, srv->date, sizeof srv->date) < 0)
			memcpy(srv->date, "Thu, 01 Jan 1970 00:00:00 GMT", RESP_DATE_LEN + 1);
		srv->head_prefix_len = reply_format_prefix(srv->cfg, srv->date, srv->head_prefix,
		                                           sizeof srv->head_prefix);
		/* Sized for the longest extra headers main accepts; never cut. */
		assert(srv->head_prefix_len > 0);
		srv->site.head_prefix_len = srv->head_prefix_len;
	}
}

/* Bookkeeping after a connection ran: free it, or put it in the timer
 * queue its state calls for. */
static void
after_run(struct server *srv, struct conn *c)
{
	if (c->state == CONN_DONE) {
		server_release(srv, c);
		return;
	}
	enum timer_class cls = conn_timer_class(c);
	/* A new clock when the class changes, when a request was answered in
	 * this turn (the next head or idle time starts now, even if the class
	 * looks the same), and when a transfer made progress. */
	if (cls != c->timer || c->turn_requests > 0 || (cls == TIMER_TRANSFER && c->progress))
		timer_set(srv, c, cls);
	c->progress = 0;
}

static void
run(struct server *srv, struct conn *c)
{
	switch (conn_run(c)) {
	case CONN_RUN_YIELD:
		server_ready_push(srv, c);
		break;
	case CONN_RUN_JOIN_EVENTS:
		server_streams_join(srv, c);
		break;
	case CONN_RUN_WAIT:
	case CONN_RUN_CLOSED:
		break;
	}
	after_run(srv, c);
}

/* Writes msg to every event stream, each run at once with the loop's
 * bookkeeping after it (a client too slow to take it is closed). */
static void
streams_broadcast(struct server *srv, const char *msg, size_t len)
{
	struct conn *c = srv->streams.head;
	while (c) {
		struct conn *next = c->sse_next;
		conn_push(c, msg, len);
		if (c->state != CONN_DONE && !c->in_ready)
			run(srv, c);
		c = next;
	}
}

/* --live: announces a due change and sends heartbeats. */
static void
tick_live_streams(struct server *srv)
{
	char msg[LIVE_MSG_MAX];
	size_t len = live_tick(&srv->live, srv->streams.count, msg, sizeof msg, &srv->live_next_ms);
	if (len > 0)
		streams_broadcast(srv, msg, len);
}

/* A client socket: note what it is ready for and run it. A connection
 * closed earlier in the batch is CONN_DONE, its slot not reused before the
 * batch ends: the stale event is ignored. */
static void
on_conn_event(void *self, uint32_t e)
{
	struct conn *c = self;
	if (c->state == CONN_DONE)
		return;
	if (e & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR))
		c->readable = 1;
	if (e & (EPOLLOUT | EPOLLHUP | EPOLLERR))
		c->writable = 1;
	if (!c->in_ready)
		run(c->srv, c);
}

/* A free slot: a reused one first (its pages are already resident), else
 * the next never-used one. NULL when the table is full. The slot stays
 * taken from here on; server_release() hands it back. */
static struct conn *
take_slot(struct server *srv)
{
	struct conn *c = srv->free_list;
	if (c) {
		srv->free_list = c->next;
		return c;
	}
	if (srv->used_slots == srv->cfg->max_conns)
		return NULL;
	return &srv->conns[srv->used_slots++];
}

/* When the table is full: will a slot free up by itself within moments? A
 * connection closed in this batch is freed after it; one that is only
 * lingering (draining after our answer) is closed now to make room. */
static int
slots_coming(struct server *srv)
{
	if (srv->released)
		return 1;
	if (srv->timers[TIMER_LINGER].head == TIMER_NIL)
		return 0;
	struct conn *oldest = &srv->conns[srv->timers[TIMER_LINGER].head];
	conn_close(oldest);
	server_release(srv, oldest);
	return 1;
}

/* A new client in a slot: answered at once if its request is here already
 * (deferred accept), else registered with epoll to wait. */
static void
take_client(struct server *srv, struct conn *c, int fd, const struct sockaddr_storage *peer,
            socklen_t peer_len)
{
	srv->active++;
	conn_init(c, srv, fd, (const struct sockaddr *)peer, peer_len);
	c->handler = (struct loop_handler){.on_event = on_conn_event};
	/* A Connection: close client then costs accept, read, send and close
	 * and no epoll_ctl. */
	run(srv, c);
	if (c->state == CONN_DONE) {
		/* No event of this batch can name it (it was never registered),
		 * so its slot is reusable at once. */
		if (srv->released == c) {
			srv->released = c->next;
			c->next = srv->free_list;
			srv->free_list = c;
		}
		return;
	}
	/* EPOLL_CTL_ADD reports readiness that came meanwhile: no edge lost. */
	struct epoll_event ev = {
	    .events = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET,
	    .data.ptr = c,
	};
	if (epoll_ctl(srv->epfd, EPOLL_CTL_ADD, fd, &ev) != 0) {
		log_error("epoll_ctl: %s", strerror(errno));
		conn_close(c);
		server_release(srv, c);
	}
}

/* Accepts on l until EAGAIN. A limit (no slot coming, no descriptors) sets
 * accept_paused: the loop looks again when a slot frees, since no new edge
 * will come for clients already waiting. */
static void
accept_clients(struct server *srv, struct server_listener *l)
{
	srv->accept_paused = 0;
	while (l->fd >= 0) {
		if (!srv->free_list && srv->used_slots == srv->cfg->max_conns &&
		    slots_coming(srv)) {
			/* Full, but slots are about to free up: leave clients in
			 * the backlog for a moment rather than turn them away. */
			srv->accept_paused = 1;
			return;
		}
		int fd;
		struct sockaddr_storage peer;
		socklen_t peer_len;
		switch (accept_next(l->fd, &srv->spare_fd, srv->now_ms, &fd, &peer, &peer_len)) {
		case ACCEPT_EMPTY:
			return;
		case ACCEPT_LIMIT:
			srv->accept_paused = 1;
			return;
		case ACCEPT_CLIENT:
			break;
		}
		struct conn *c = take_slot(srv);
		if (c)
			take_client(srv, c, fd, &peer, peer_len);
		else
			accept_shed(fd, ACCEPT_SHED_TABLE_FULL, srv->now_ms);
	}
}

void
server_on_listener(void *self, uint32_t events)
{
	struct server_listener *l = self;
	(void)events;
	accept_clients(l->srv, l);
}

static void
expire_timers(struct server *srv)
{
	for (int k = 0; k < TIMER_COUNT; k++) {
		while (srv->now_ms >= timer_due(srv, k)) {
			struct conn *c = &srv->conns[srv->timers[k].head];
			log_debug("fd %d: timed out (class %d)", c->fd, k);
			conn_close(c);
			server_release(srv, c);
		}
	}
}

/* Milliseconds epoll_wait may sleep: until the earliest deadline. */
static int
wait_time(const struct server *srv)
{
	if (srv->ready)
		return 0;
	uint64_t next = UINT64_MAX;
	for (int k = 0; k < TIMER_COUNT; k++)
		if (timer_due(srv, k) < next)
			next = timer_due(srv, k);
	if (srv->stopping && srv->stop_deadline_ms < next)
		next = srv->stop_deadline_ms;
	if (srv->site.lameduck && srv->lameduck_end_ms < next)
		next = srv->lameduck_end_ms;
	if (srv->live_next_ms < next)
		next = srv->live_next_ms;
	if (accept_shed_report_due() < next)
		next = accept_shed_report_due();
	if (srv->pool_next_ms < next)
		next = srv->pool_next_ms;
	/* Log lines a full pipe did not take: no edge tells us when it
	 * drains, so look again shortly. */
	if (srv->access_log.len && srv->now_ms + SHS_LOG_RETRY_MS < next)
		next = srv->now_ms + SHS_LOG_RETRY_MS;
	if (next == UINT64_MAX)
		return -1;
	if (next <= srv->now_ms)
		return 0;
	/* +1: the coarse clock must have passed the deadline when we wake. */
	uint64_t ms = next - srv->now_ms + 1;
	return ms > 60000 ? 60000 : (int)ms;
}

static void
run_ready(struct server *srv)
{
	struct conn *c = srv->ready;
	srv->ready = srv->ready_tail = NULL;
	while (c) {
		struct conn *next = c->next;
		c->in_ready = 0;
		if (c->state != CONN_DONE)
			run(srv, c);
		c = next;
	}
}

static void
free_released(struct server *srv)
{
	while (srv->released) {
		struct conn *c = srv->released;
		srv->released = c->next;
		c->next = srv->free_list;
		srv->free_list = c;
	}
}

int
server_run(struct server *srv)
{
	struct epoll_event events[SHS_EPOLL_BATCH];
	for (;;) {
		if (srv->stopping && srv->active == 0)
			break;
		if (srv->stopping && srv->now_ms >= srv->stop_deadline_ms) {
			log_warn("stop: %u connection(s) still busy after %u ms, closing them",
			         srv->active, srv->stop_grace_ms);
			break;
		}
		int n = epoll_wait(srv->epfd, events, SHS_EPOLL_BATCH, wait_time(srv));
		if (n < 0 && errno != EINTR) {
			log_error("epoll_wait: %s", strerror(errno));
			return 1;
		}
		server_update_clock(srv);
		/* Early handlers first (the watcher: file changes; the queue
		 * stays short; requests read later in the batch, as accept
		 * keeps going, are covered by the drain cache_lookup does
		 * before every hit). */
		for (int i = 0; i < n; i++) {
			struct loop_handler *h = events[i].data.ptr;
			if (h->early)
				h->on_event(h, events[i].events);
		}
		for (int i = 0; i < n; i++) {
			struct loop_handler *h = events[i].data.ptr;
			if (h->early)
				continue; /* ran above */
			h->on_event(h, events[i].events);
			if (srv->stop_now)
				return 0;
		}
		run_ready(srv);
		tick_live_streams(srv);
		expire_timers(srv);
		if (srv->site.lameduck && srv->now_ms >= srv->lameduck_end_ms)
			server_end_lameduck(srv);
		accept_shed_note(ACCEPT_SHED_NO_BUFFERS, pool_refused(&srv->pool));
		accept_shed_report(srv->now_ms, 0);
		srv->pool_next_ms = pool_trim(&srv->pool, srv->now_ms);
		free_released(srv);
		if (srv->access_log.len)
			accesslog_flush(&srv->access_log);
		/* Accepting stopped at a limit and no new edge will come for
		 * clients already waiting: look again now that slots are free. */
		for (unsigned i = 0; srv->accept_paused &&
		                     (srv->free_list || srv->used_slots < srv->cfg->max_conns) &&
		                     i < srv->nlisteners;
		     i++)
			accept_clients(srv, &srv->listeners[i]);
	}
	return 0;
}
