/* conn.c - the per-connection state machine. See conn.h.
 *
 * Each state has one handler that asserts its state and returns a step:
 * NEXT (state changed, run the new one now), WAIT (EAGAIN: wait for the edge),
 * YIELD (fair share used: go on the ready list) or CLOSE. conn_run() loops
 * while the answer is NEXT, so a request that arrives in one read is answered
 * in the same wake-up (the reading state is in conn_read.c). Readiness is
 * kept in the readable/writable flags, set by epoll events and cleared on
 * EAGAIN, so no handler depends on which event woke it (nginx's ready
 * flags). */
#include "conn_step.h"

#include <assert.h>
#include <errno.h>
#include <string.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include "accesslog.h"
#include "byteranges.h"
#include "log.h"
#include "reply.h"

void
conn_init(struct conn *c, struct server *srv, int fd, const struct sockaddr *peer,
          socklen_t peer_len)
{
	memset(c, 0, sizeof *c);
	if (peer && peer_len <= sizeof c->peer)
		memcpy(&c->peer, peer, peer_len);
	c->state = CONN_READ_REQUEST;
	c->fd = fd;
	c->srv = srv;
	c->timer = TIMER_NONE;
	/* The request often arrives before accept returns: try to read at
	 * once instead of waiting for the first edge. */
	c->readable = 1;
	c->writable = 1;
}

/* One access-log line for the response in flight. */
static void
log_access(struct conn *c)
{
	struct accesslog *log = &c->srv->access_log;
	if (log->fd < 0 || !c->io || c->io->rp.status == 0 || c->io->rp.no_log)
		return;
	struct accesslog_entry e = {
	    .peer = c->peer.sa.sa_family ? &c->peer.sa : NULL,
	    .request = c->io->in + c->io->log_req_off,
	    .request_len = c->io->log_req_len,
	    .status = c->io->rp.status,
	    .bytes = c->io->sent > c->io->rp.head_len ? c->io->sent - c->io->rp.head_len : 0,
	    .referer = c->io->in + c->io->log_ref_off,
	    .referer_len = c->io->log_ref_len,
	    .user_agent = c->io->in + c->io->log_ua_off,
	    .user_agent_len = c->io->log_ua_len,
	};
	accesslog_write(log, c->srv->date_sec, &e);
	c->io->rp.status = 0;
}

void
conn_close(struct conn *c)
{
	if (c->state == CONN_SEND_HEAD || c->state == CONN_SEND_FILE || c->state == CONN_EVENTS)
		log_access(c); /* cut short: the line shows the bytes that went */
	conn_give_back(c);
	if (c->fd >= 0)
		close(c->fd);
	c->fd = -1;
	c->state = CONN_DONE;
}

int
conn_is_idle(const struct conn *c)
{
	if (c->state == CONN_EVENTS)
		return 1; /* an event stream never ends by itself */
	const struct conn_io *io = c->io;
	return c->state == CONN_READ_REQUEST && !c->chunked &&
	       (!io || (io->in_len == io->in_off && io->body_left == 0));
}

void
conn_stop_keep_alive(struct conn *c)
{
	if (c->io)
		c->io->rp.keep_alive = 0;
}

enum timer_class
conn_timer_class(const struct conn *c)
{
	switch (c->state) {
	case CONN_READ_REQUEST:
		if ((c->io && c->io->body_left) || c->chunked)
			return TIMER_TRANSFER;
		if ((c->io && c->io->in_len > c->io->in_off) || c->requests == 0)
			return TIMER_HEADER;
		return TIMER_IDLE;
	case CONN_SEND_HEAD:
	case CONN_SEND_FILE:
		return TIMER_TRANSFER;
	case CONN_LINGER:
		return TIMER_LINGER;
	default:
		return TIMER_NONE;
	}
}

static enum conn_step finish_response(struct conn *c);

static enum conn_step
send_head(struct conn *c)
{
	assert(c->state == CONN_SEND_HEAD);
	/* MSG_MORE: the headers wait for the first body bytes, so both leave
	 * in one packet instead of a tiny one and then the rest. On a last
	 * response the data waits for the FIN that close() or shutdown() adds
	 * a moment later, and the kernel sends both in one segment: one packet
	 * (and one ACK) less per connection, as nginx gets with TCP_CORK. */
	int more = (c->io->rp.fd >= 0 && c->io->rp.off < c->io->rp.end) ||
	                   (!c->io->rp.keep_alive && !c->io->rp.sse)
	               ? MSG_MORE
	               : 0;
	while (c->io->out_off < c->io->rp.len || c->io->mem_off < c->io->rp.mem_len) {
		if (!c->writable)
			return CONN_STEP_WAIT;
		/* Head and cached body in one call: one syscall per hit. */
		struct iovec iov[2];
		struct msghdr msg = {.msg_iov = iov};
		if (c->io->out_off < c->io->rp.len)
			iov[msg.msg_iovlen++] = (struct iovec){c->io->out + c->io->out_off,
			                                       c->io->rp.len - c->io->out_off};
		if (c->io->mem_off < c->io->rp.mem_len)
			iov[msg.msg_iovlen++] =
			    (struct iovec){(void *)(c->io->rp.mem + c->io->mem_off),
			                   c->io->rp.mem_len - c->io->mem_off};
		ssize_t n = sendmsg(c->fd, &msg, MSG_NOSIGNAL | more);
		if (n > 0) {
			size_t k = (size_t)n, head = c->io->rp.len - c->io->out_off;
			if (k <= head) {
				c->io->out_off += k;
			} else {
				c->io->out_off = c->io->rp.len;
				c->io->mem_off += k - head;
			}
			c->io->sent += (uint64_t)n;
			c->turn_bytes += (size_t)n;
			c->progress = 1;
		} else if (errno == EAGAIN) {
			c->writable = 0;
		} else if (errno != EINTR) {
			return CONN_STEP_CLOSE;
		}
	}
	if (c->io->rp.fd >= 0 && c->io->rp.off < c->io->rp.end) {
		c->state = CONN_SEND_FILE;
		return CONN_STEP_NEXT;
	}
	if (byteranges_next_part(&c->srv->site, &c->io->rp)) {
		c->io->out_off = 0;
		c->state = CONN_SEND_HEAD;
		return CONN_STEP_NEXT;
	}
	if (c->io->rp.sse) {
		c->state = CONN_EVENTS;
		c->io->out_off = c->io->rp.len = 0;
		return CONN_STEP_NEXT; /* conn_run() tells the loop it joined */
	}
	return finish_response(c);
}

void
conn_push(struct conn *c, const char *msg, size_t len)
{
	if (c->state != CONN_EVENTS)
		return;
	if (c->io->out_off > 0) {
		memmove(c->io->out, c->io->out + c->io->out_off, c->io->rp.len - c->io->out_off);
		c->io->rp.len -= c->io->out_off;
		c->io->out_off = 0;
	}
	if (len > sizeof c->io->out - c->io->rp.len) {
		c->sse_overflow = 1;
		return;
	}
	memcpy(c->io->out + c->io->rp.len, msg, len);
	c->io->rp.len += len;
	c->writable = 1; /* try now; EAGAIN puts it back to waiting */
}

/* An event stream: written when changes are pushed, read only to notice the
 * client leaving. What the client sends is thrown away through a scratch
 * buffer, never read into `in`: the request line, Referer and User-Agent
 * the access log shows when the stream ends are still there. */
static enum conn_step
events(struct conn *c)
{
	assert(c->state == CONN_EVENTS);
	/* An EventSource sends nothing: one that streams at us goes. */
	if (conn_drain(c) < 0)
		return CONN_STEP_CLOSE;
	if (c->sse_overflow)
		return CONN_STEP_CLOSE;
	while (c->io->out_off < c->io->rp.len && c->writable) {
		ssize_t n = send(c->fd, c->io->out + c->io->out_off, c->io->rp.len - c->io->out_off,
		                 MSG_NOSIGNAL);
		if (n > 0) {
			c->io->out_off += (size_t)n;
			c->io->sent += (uint64_t)n;
		} else if (errno == EAGAIN) {
			c->writable = 0;
		} else if (errno != EINTR) {
			return CONN_STEP_CLOSE;
		}
	}
	return CONN_STEP_WAIT;
}

static enum conn_step
send_file(struct conn *c)
{
	assert(c->state == CONN_SEND_FILE);
	while (c->io->rp.off < c->io->rp.end) {
		if (!c->writable)
			return CONN_STEP_WAIT;
		if (c->turn_bytes >= SHS_TURN_BYTES)
			return CONN_STEP_YIELD;
		off_t left = c->io->rp.end - c->io->rp.off;
		/* At most a turn's worth per call: loopback sockets take MBs
		 * at once, and other clients should not wait behind that. */
		size_t chunk = left > SHS_TURN_BYTES ? SHS_TURN_BYTES : (size_t)left;
		ssize_t n = sendfile(c->fd, c->io->rp.fd, &c->io->rp.off, chunk);
		if (n > 0) {
			c->io->sent += (uint64_t)n;
			c->turn_bytes += (size_t)n;
			c->progress = 1;
		} else if (n == 0) {
			/* The file shrank under us. Never pad: the client sees a
			 * short body and a closed connection. */
			log_warn("fd %d: file ended %lld bytes early", c->fd, (long long)left);
			return CONN_STEP_CLOSE;
		} else if (errno == EAGAIN) {
			c->writable = 0;
		} else if (errno != EINTR) {
			if (errno != EPIPE && errno != ECONNRESET)
				log_debug("sendfile: %s", strerror(errno));
			return CONN_STEP_CLOSE;
		}
	}
	if (byteranges_next_part(&c->srv->site, &c->io->rp)) {
		c->io->out_off = 0;
		c->state = CONN_SEND_HEAD;
		return CONN_STEP_NEXT;
	}
	return finish_response(c);
}

static enum conn_step
finish_response(struct conn *c)
{
	log_access(c);
	reply_release(&c->io->rp);
	c->io->rp.status = 0; /* logged or not: no response in flight */
	c->io->out_off = c->io->rp.len = 0;
	if (c->io->rp.keep_alive) {
		c->state = CONN_READ_REQUEST;
		c->parse_due = c->io->in_len > c->io->in_off;
		/* Nothing pipelined behind it: idle until the next request,
		 * without buffers. */
		conn_give_back_if_empty(c);
		return CONN_STEP_NEXT;
	}
	/* If the client may still be sending (a body we did not read, a
	 * pipelined request, an unread socket), closing now would answer its
	 * bytes with an RST that can destroy our response in its receive
	 * buffer. Half-close and drain instead (nginx's lingering close). */
	if (!c->readable && c->io->in_len == c->io->in_off && !c->io->body_left && !c->chunked)
		return CONN_STEP_CLOSE;
	return conn_linger(c);
}

static enum conn_step
done(struct conn *c)
{
	(void)c;
	assert(!"run on a closed connection");
	return CONN_STEP_CLOSE;
}

static enum conn_step (*const handlers[CONN_STATE_COUNT])(struct conn *) = {
    [CONN_READ_REQUEST] = conn_read_request,
    [CONN_SEND_HEAD] = send_head,
    [CONN_SEND_FILE] = send_file,
    [CONN_LINGER] = conn_linger_drain,
    [CONN_EVENTS] = events,
    [CONN_DONE] = done,
};

enum conn_run_result
conn_run(struct conn *c)
{
	c->turn_requests = 0;
	c->turn_bytes = 0;
	int joined = 0; /* became an event stream in this run */
	for (;;) {
		enum conn_state was = c->state;
		switch (handlers[c->state](c)) {
		case CONN_STEP_NEXT:
			if (c->state == CONN_EVENTS && was != CONN_EVENTS)
				joined = 1;
			continue;
		case CONN_STEP_WAIT:
			return joined ? CONN_RUN_JOIN_EVENTS : CONN_RUN_WAIT;
		case CONN_STEP_YIELD:
			return CONN_RUN_YIELD;
		case CONN_STEP_CLOSE:
			conn_close(c);
			return CONN_RUN_CLOSED;
		}
	}
}
