/* accept.c - taking clients: accept until EAGAIN, a slot from the
 * connection table, the answer at once (deferred accept), registration
 * with epoll; and shedding what cannot be taken (a short 503, the
 * spare-fd trick on EMFILE) with its rate-limited warning. See accept.h. */
#include "accept.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "conn.h"
#include "log.h"

/* Shed clients are reported in one line at most this often. */
#define SHS_SHED_LOG_MS 1000

/* Why a client was shed. */
enum shed_reason {
	SHED_TABLE_FULL, /* --max-connections reached */
	SHED_NO_FDS,     /* EMFILE/ENFILE */
	SHED_REASONS,
};

/* Clients shed since the last report. A flood of clients would otherwise be
 * a flood of log lines: the count is reported at most once a second. One
 * server per process (workers are processes), so file scope will do. */
static struct {
	unsigned long count[SHED_REASONS];
	uint64_t last_ms; /* when the last line was written; 0: never */
} shed_log;

/* Writes the pending count if a second has passed since the last line (or
 * there was none yet), or now if force (the server stops). */
void
accept_shed_report(const struct server *srv, int force)
{
	unsigned long full = shed_log.count[SHED_TABLE_FULL], nofd = shed_log.count[SHED_NO_FDS];
	if (full + nofd == 0 ||
	    (!force && shed_log.last_ms && srv->now_ms - shed_log.last_ms < SHS_SHED_LOG_MS))
		return;
	log_warn("%lu connection(s) shed in the last second (%s%s%s)", full + nofd,
	         full ? "table full" : "", full && nofd ? ", " : "",
	         nofd ? "out of file descriptors" : "");
	shed_log.count[SHED_TABLE_FULL] = shed_log.count[SHED_NO_FDS] = 0;
	shed_log.last_ms = srv->now_ms ? srv->now_ms : 1;
}

/* When accept_shed_report has a line to write, or UINT64_MAX. */
uint64_t
accept_shed_report_due(void)
{
	if (shed_log.count[SHED_TABLE_FULL] + shed_log.count[SHED_NO_FDS] == 0)
		return UINT64_MAX;
	return shed_log.last_ms + SHS_SHED_LOG_MS;
}

/* Sheds a client we cannot take: a short 503 and close, never a hang. */
static void
shed(struct server *srv, int fd, enum shed_reason why)
{
	static const char busy[] = "HTTP/1.1 503 Service Unavailable\r\n"
	                           "Content-Length: 0\r\nConnection: close\r\n\r\n";
	ssize_t n = send(fd, busy, sizeof busy - 1, MSG_NOSIGNAL | MSG_DONTWAIT);
	(void)n;
	close(fd);
	shed_log.count[why]++;
	accept_shed_report(srv, 0);
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

/* accept4 on l failed with err: 1 to try again, 0 to stop (EAGAIN, or a
 * limit: then accept_paused says to look again when a slot frees). */
static int
accept_failed(struct server *srv, struct server_listener *l, int err)
{
	switch (err) {
	case EAGAIN:
		return 0;
	case EINTR:
	case ECONNABORTED:
	case EPROTO:
	case EPERM:
		return 1;
	case EMFILE:
	case ENFILE:
		/* Out of fds: free the spare to take the client and shed it,
		 * so it gets an answer and the backlog drains, then take the
		 * spare back (libuv's trick). */
		if (srv->spare_fd >= 0) {
			close(srv->spare_fd);
			srv->spare_fd = -1;
			int extra = accept4(l->fd, NULL, NULL, SOCK_CLOEXEC);
			if (extra >= 0)
				shed(srv, extra, SHED_NO_FDS);
			srv->spare_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
			if (extra >= 0 && srv->spare_fd >= 0)
				return 1;
		}
		srv->accept_paused = 1;
		return 0;
	default:
		log_error("accept: %s", strerror(err));
		srv->accept_paused = 1;
		return 0;
	}
}

void
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
		struct sockaddr_storage peer;
		socklen_t peer_len = sizeof peer;
		int fd = accept4(l->fd, (struct sockaddr *)&peer, &peer_len,
		                 SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0) {
			if (accept_failed(srv, l, errno))
				continue;
			return;
		}
		struct conn *c = take_slot(srv);
		if (!c) {
			shed(srv, fd, SHED_TABLE_FULL);
			continue;
		}
		srv->active++;
		conn_init(c, srv, fd, (struct sockaddr *)&peer, peer_len);
		c->handler = (struct loop_handler){.on_event = server_on_conn_event};
		/* Deferred accept means the request is usually here already:
		 * answer it before registering, so a Connection: close client
		 * costs accept, read, send and close and no epoll_ctl. */
		server_run_conn(srv, c);
		if (c->state == CONN_DONE) {
			/* No event of this batch can name it (it was never
			 * registered), so its slot is reusable at once. */
			if (srv->released == c) {
				srv->released = c->next;
				c->next = srv->free_list;
				srv->free_list = c;
			}
			continue;
		}
		/* It waits for bytes or for room to write. EPOLL_CTL_ADD reports
		 * readiness that came meanwhile, so no edge is lost. */
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
}

void
accept_on_listener(void *self, uint32_t events)
{
	struct server_listener *l = self;
	(void)events;
	accept_clients(l->srv, l);
}
