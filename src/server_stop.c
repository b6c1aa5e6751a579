/* server_stop.c - how the loop ends: the signals (the signal fd), the lame
 * duck, the graceful stop, and an on-line upgrade's hand-over (SIGUSR2,
 * then retiring). See server.h (server_begin_stop, server_begin_lameduck)
 * and upgrade.h; the loop (server.c) calls server_end_lameduck when the lame
 * duck's time is up. */
#include "server_loop.h"

#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include "conn.h"
#include "log.h"
#include "upgrade.h"

/* A retiring generation's idle keep-alive connections: time for a request
 * already sent to arrive and be answered (see begin_stop). */
#define RETIRE_IDLE_MS 1000

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
			server_release(srv, c);
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

void
server_end_lameduck(struct server *srv)
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
