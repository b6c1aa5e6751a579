/* server.c - the one epoll loop. See server.h.
 *
 * Each wake-up: epoll_wait, refresh the clock and Date string, run every
 * connection that has an event, run the ready list, expire timers, and only
 * then put closed connections back on the free list. A connection closed
 * earlier in a batch is CONN_DONE and its slot is not reused before the batch
 * ends, so a stale event for it finds CONN_DONE and is ignored. */
#include "server_loop.h"

#include <assert.h>
#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include "accept.h"
#include "conn.h"
#include "live.h"
#include "log.h"
#include "reply.h"
#include "timer.h"
#include "upgrade.h"

/* A retiring generation's idle keep-alive connections: time for a request
 * already sent to arrive and be answered (see begin_stop). */
#define RETIRE_IDLE_MS 1000

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

/* Puts a connection that used its fair share on the ready list: it runs
 * again before the loop sleeps, since no new edge will wake it. */
static void
ready_push(struct server *srv, struct conn *c)
{
	if (c->in_ready)
		return;
	c->in_ready = 1;
	c->next = NULL;
	if (srv->ready_tail)
		srv->ready_tail->next = c;
	else
		srv->ready = c;
	srv->ready_tail = c;
}

/* Adds a connection that has just become an event stream to the list
 * live_tick()'s messages go to. */
static void
streams_join(struct server *srv, struct conn *c)
{
	c->sse_prev = NULL;
	c->sse_next = srv->streams.head;
	if (c->sse_next)
		c->sse_next->sse_prev = c;
	srv->streams.head = c;
	c->in_sse = 1;
	srv->streams.count++;
}

/* Takes a closed connection off the stream list and gives back its place
 * under the cap. */
static void
streams_leave(struct server *srv, struct conn *c)
{
	if (c->sse_counted) {
		c->sse_counted = 0;
		srv->streams.open--;
	}
	if (!c->in_sse)
		return;
	if (c->sse_prev)
		c->sse_prev->sse_next = c->sse_next;
	else
		srv->streams.head = c->sse_next;
	if (c->sse_next)
		c->sse_next->sse_prev = c->sse_prev;
	c->sse_prev = c->sse_next = NULL;
	c->in_sse = 0;
	srv->streams.count--;
}

/* Removes a closed connection from every list; its slot is freed after the
 * batch. The ready list is short (only connections that yielded), so the
 * scan is cheap and rare. */
static void
release(struct server *srv, struct conn *c)
{
	streams_leave(srv, c);
	timer_unlink(srv, c);
	if (c->in_ready) {
		struct conn **pp = &srv->ready, *prev = NULL;
		while (*pp != c) {
			prev = *pp;
			pp = &(*pp)->next;
		}
		*pp = c->next;
		if (srv->ready_tail == c)
			srv->ready_tail = prev;
		c->in_ready = 0;
	}
	srv->active--;
	c->next = srv->released;
	srv->released = c;
}

/* Bookkeeping after a connection ran: free it, or put it in the timer
 * queue its state calls for. */
static void
after_run(struct server *srv, struct conn *c)
{
	if (c->state == CONN_DONE) {
		release(srv, c);
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
		ready_push(srv, c);
		break;
	case CONN_RUN_JOIN_EVENTS:
		streams_join(srv, c);
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

/* gently (a retiring generation): idle keep-alive connections stay open
 * for a moment (RETIRE_IDLE_MS at most): a request already on its way gets
 * its answer, with Connection: close, rather than a closed socket, which
 * clients that do not retry (ab -k) count as a failure. A stop closes them
 * at once. */
static void
begin_stop(struct server *srv, unsigned grace_ms, int gently)
{
	if (srv->stopping)
		return;
	srv->lameduck_end_ms = 0;
	srv->site.lameduck = 0;
	log_info("stopping: finishing %u connection(s)", srv->active);
	srv->stopping = 1;
	srv->stop_grace_ms = grace_ms;
	srv->stop_deadline_ms = srv->now_ms + grace_ms;
	/* Every idle connection is due this soon; the queue stays in order,
	 * since all of its members share the one timeout. */
	if (gently && srv->timers[TIMER_IDLE].timeout_ms > RETIRE_IDLE_MS)
		srv->timers[TIMER_IDLE].timeout_ms = RETIRE_IDLE_MS;
	for (unsigned i = 0; i < srv->nlisteners; i++) {
		if (srv->listeners[i].fd >= 0)
			close(srv->listeners[i].fd); /* closing also removes it from epoll */
		srv->listeners[i].fd = -1;
	}
	for (unsigned i = 0; i < srv->used_slots; i++) {
		struct conn *c = &srv->conns[i];
		if (c->state == CONN_DONE)
			continue;
		if (conn_is_idle(c) && gently && c->state == CONN_READ_REQUEST) {
			continue; /* closed by the shortened idle timer */
		} else if (conn_is_idle(c)) {
			conn_close(c);
			release(srv, c);
		} else {
			conn_stop_keep_alive(c);
		}
	}
}

void
server_begin_stop(struct server *srv)
{
	begin_stop(srv, SHS_SHUTDOWN_GRACE_MS, 0);
}

/* The old generation after an upgrade (or a worker of it): stop accepting
 * (the listeners stay open in the new generation, so queued clients wait
 * for it), close idle keep-alive connections, end the others after their
 * response, and give downloads in flight up to --drain-timeout. */
static void
retire_now(struct server *srv)
{
	log_info("retiring (--drain-timeout %u ms)", srv->cfg->drain_timeout_ms);
	begin_stop(srv, srv->cfg->drain_timeout_ms, 1);
}

/* Lame duck for cfg->lameduck_ms, then a stop, or with retire (an
 * upgrade's old generation) retire_now. */
static void
lameduck_then(struct server *srv, int retire)
{
	if (srv->stopping)
		return;
	if (srv->site.lameduck) {
		srv->lameduck_retire |= retire; /* an upgrade ended inside a stop's lame duck */
		return;
	}
	unsigned ms = srv->cfg->lameduck_ms;
	if (ms == 0) {
		if (retire)
			retire_now(srv);
		else
			server_begin_stop(srv);
		return;
	}
	const char *health = srv->cfg->health_path;
	log_info("lame duck: %s%s for %g s, then %s", health ? "failing " : "serving",
	         health ? health : "", ms / 1000.0, retire ? "retiring" : "stopping");
	srv->site.lameduck = 1;
	srv->lameduck_retire = retire;
	srv->lameduck_end_ms = srv->now_ms + ms;
}

void
server_begin_lameduck(struct server *srv)
{
	lameduck_then(srv, 0);
}

/* The lame duck's time is up. */
static void
end_lameduck(struct server *srv)
{
	if (srv->lameduck_retire)
		retire_now(srv);
	else
		server_begin_stop(srv);
}

/* What the new generation said (upgrade_poll closes its fd when done):
 * ready, so this generation drains (--lameduck) and retires. */
static void
on_upgrade(void *self, uint32_t events)
{
	struct server_listener *u = self;
	(void)events;
	enum upgrade_result r = upgrade_poll();
	if (r == UPGRADE_PENDING)
		return;
	u->fd = -1;
	if (r == UPGRADE_READY)
		lameduck_then(u->srv, 1);
}

/* SIGUSR2: start the new generation and watch it; in a worker, the
 * master's word that it is ready: retire. */
static void
on_usr2(struct server *srv)
{
	if (upgrade_is_worker()) {
		lameduck_then(srv, 1);
		return;
	}
	if (srv->stopping || srv->site.lameduck) {
		log_warn("SIGUSR2: stopping already; ignored");
		return;
	}
	int fd = upgrade_begin();
	if (fd < 0)
		return; /* logged */
	srv->upgrade = (struct server_listener){{.on_event = on_upgrade}, fd, srv};
	struct epoll_event ev = {.events = EPOLLIN, .data.ptr = &srv->upgrade};
	if (epoll_ctl(srv->epfd, EPOLL_CTL_ADD, fd, &ev) != 0)
		log_error("upgrade: epoll_ctl: %s", strerror(errno)); /* stays pending */
}

/* 1 to go on, 0 to stop now. */
static int
handle_signals(struct server *srv)
{
	struct signalfd_siginfo si;
	while (read(srv->sig.fd, &si, sizeof si) == (ssize_t)sizeof si) {
		if (si.ssi_signo == SIGHUP || si.ssi_signo == SIGUSR1) {
			accesslog_reopen_all(&srv->access_log);
			continue;
		}
		if (si.ssi_signo == SIGUSR2) {
			on_usr2(srv);
			continue;
		}
		if (si.ssi_signo == SIGQUIT) {
			log_info("SIGQUIT: stopping now");
			return 0;
		}
		if (si.ssi_signo != SIGINT && si.ssi_signo != SIGTERM)
			continue;
		if (srv->stopping || srv->site.lameduck) {
			log_warn("second signal: stopping now");
			return 0;
		}
		server_begin_lameduck(srv);
	}
	return 1;
}

void
server_on_signal(void *self, uint32_t events)
{
	struct server_listener *s = self;
	(void)events;
	if (!handle_signals(s->srv))
		s->srv->stop_now = 1;
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
 * taken from here on; release() hands it back. */
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
	release(srv, oldest);
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
		release(srv, c);
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
			release(srv, c);
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
			end_lameduck(srv);
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
