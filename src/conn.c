/* conn.c - the per-connection state machine. See conn.h.
 *
 * Each state has one handler that asserts its state and returns a step:
 * NEXT (state changed, run the new one now), WAIT (EAGAIN: wait for the edge),
 * YIELD (fair share used: go on the ready list) or CLOSE. conn_run() loops
 * while the answer is NEXT, so a request that arrives in one read is answered
 * in the same wake-up. Readiness is kept in the readable/writable flags,
 * set by epoll events and cleared on EAGAIN, so no handler depends on which
 * event woke it (nginx's ready flags). */
#include "conn.h"

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
#include "serve.h"

enum step {
	STEP_NEXT,
	STEP_WAIT,
	STEP_YIELD,
	STEP_CLOSE,
};

/* Requests on one connection before we close it, so a client cannot hold a
 * slot forever (nginx's keepalive_requests). */
#define KEEP_ALIVE_MAX 1000

/* A request body larger than this is not discarded to keep the connection:
 * we answer and close instead. A chunked body's size is not known up front,
 * so it is discarded until its bytes (framing included) pass this, and then
 * the connection is closed after a lingering drain. */
#define DISCARD_MAX (64 * 1024)

void
conn_init(struct conn *c, struct server *srv, int fd, const struct sockaddr *peer,
          socklen_t peer_len)
{
	memset(c, 0, offsetof(struct conn, in));
	if (peer && peer_len <= sizeof c->peer)
		memcpy(&c->peer, peer, peer_len);
	c->state = CONN_READ_REQUEST;
	c->fd = fd;
	c->srv = srv;
	c->rp.fd = -1;
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
	if (log->fd < 0 || c->rp.status == 0)
		return;
	struct accesslog_entry e = {
	    .peer = c->peer.sa.sa_family ? &c->peer.sa : NULL,
	    .request = c->in + c->log_req_off,
	    .request_len = c->log_req_len,
	    .status = c->rp.status,
	    .bytes = c->sent > c->rp.head_len ? c->sent - c->rp.head_len : 0,
	    .referer = c->in + c->log_ref_off,
	    .referer_len = c->log_ref_len,
	    .user_agent = c->in + c->log_ua_off,
	    .user_agent_len = c->log_ua_len,
	};
	accesslog_write(log, c->srv->date_sec, &e);
	c->rp.status = 0;
}

/* The plan is made: sending starts at its first byte. */
static void
begin_send(struct conn *c)
{
	c->out_off = 0;
	c->mem_off = 0;
	c->sent = 0;
}

void
conn_close(struct conn *c)
{
	if (c->state == CONN_SEND_HEAD || c->state == CONN_SEND_FILE || c->state == CONN_EVENTS)
		log_access(c); /* cut short: the line shows the bytes that went */
	reply_release(&c->rp);
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
	return c->state == CONN_READ_REQUEST && c->in_len == c->in_off && c->body_left == 0 &&
	       !c->chunked;
}

void
conn_stop_keep_alive(struct conn *c)
{
	c->rp.keep_alive = 0;
}

enum timer_class
conn_timer_class(const struct conn *c)
{
	switch (c->state) {
	case CONN_READ_REQUEST:
		if (c->body_left || c->chunked)
			return TIMER_TRANSFER;
		if (c->in_len > c->in_off || c->requests == 0)
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

/* Reads once into in[in_len..). 1 = bytes came, 0 = EAGAIN, -1 = EOF or error. */
static int
fill(struct conn *c)
{
	size_t room = sizeof c->in - c->in_len;
	ssize_t n = read(c->fd, c->in + c->in_len, room);
	if (n > 0) {
		/* A short read emptied the socket; new data brings a new
		 * edge, so skip the read that would only say EAGAIN. */
		if ((size_t)n < room)
			c->readable = 0;
		if (memchr(c->in + c->in_len, '\n', (size_t)n) || c->in_len == c->in_off)
			c->parse_due = 1;
		c->in_len += (size_t)n;
		return 1;
	}
	if (n == 0)
		return -1;
	if (errno == EAGAIN || errno == EINTR) {
		c->readable = errno == EINTR;
		return 0;
	}
	if (errno != ECONNRESET)
		log_debug("read: %s", strerror(errno));
	return -1;
}

/* Moves unconsumed input to the front so a head can use the whole buffer. */
static void
compact(struct conn *c)
{
	if (c->in_off == 0)
		return;
	memmove(c->in, c->in + c->in_off, c->in_len - c->in_off);
	c->in_len -= c->in_off;
	c->in_off = 0;
}

/* Drops request body bytes already buffered. Returns 0 when the body is
 * done, 1 while more is to come, -1 for a malformed chunked body or one
 * past DISCARD_MAX. */
static int
discard_body(struct conn *c)
{
	size_t avail = c->in_len - c->in_off;
	if (c->chunked) {
		size_t used;
		enum http_chunk_result r =
		    http_chunked_skip(&c->chunk, c->in + c->in_off, avail, &used);
		c->in_off += used;
		if (r == HTTP_CHUNK_BAD || c->chunk.consumed > DISCARD_MAX)
			return -1;
		if (r == HTTP_CHUNK_END)
			c->chunked = 0;
	} else {
		size_t n = avail < c->body_left ? avail : (size_t)c->body_left;
		c->in_off += n;
		c->body_left -= n;
	}
	if (c->in_off == c->in_len)
		c->in_off = c->in_len = 0;
	return (c->chunked || c->body_left) ? 1 : 0;
}

static void
note_slice(struct conn *c, struct http_slice s, uint16_t *off, uint16_t *len)
{
	*off = (uint16_t)(s.p ? s.p - c->in : 0);
	*len = (uint16_t)s.len;
}

/* Remembers where the fields the access log shows sit in the buffer. */
static void
note_for_log(struct conn *c, const struct http_request *req)
{
	if (c->srv->access_log.fd < 0)
		return;
	const char *line = req->method_name.p;
	const char *eol = memchr(line, '\n', (size_t)(c->in + c->in_len - line));
	size_t n = eol ? (size_t)(eol - line) : 0;
	if (n > 0 && line[n - 1] == '\r')
		n--;
	note_slice(c, (struct http_slice){line, n}, &c->log_req_off, &c->log_req_len);
	const struct http_header *h = http_field(req, HTTP_FIELD_REFERER);
	note_slice(c, h ? h->value : (struct http_slice){NULL, 0}, &c->log_ref_off,
	           &c->log_ref_len);
	h = http_field(req, HTTP_FIELD_USER_AGENT);
	note_slice(c, h ? h->value : (struct http_slice){NULL, 0}, &c->log_ua_off, &c->log_ua_len);
}

/* Plans the answer to a complete head and consumes it. */
static enum step
start_response(struct conn *c, const struct http_request *req)
{
	c->requests++;
	c->turn_requests++;
	/* close wins over keep-alive, in any order or field (RFC 9112 9.6). */
	int keep_alive = !req->conn_close && (req->version_minor >= 1 || req->conn_keep_alive);
	if (c->requests >= KEEP_ALIVE_MAX || c->srv->stopping)
		keep_alive = 0;

	int has_body = req->chunked || req->content_length > 0;
	/* A client that asked for 100-continue may never send the body once it
	 * sees our final answer; waiting for it could read the next request as
	 * body. Close instead of guessing. */
	if (has_body && (req->expect_continue || req->content_length > DISCARD_MAX))
		keep_alive = 0;
	c->chunked = req->chunked;
	memset(&c->chunk, 0, sizeof c->chunk);
	c->body_left = req->chunked ? 0 : req->content_length;

	/* The body is discarded after the answer, but a broken chunk that is
	 * already here gets a 400 before anything is sent, as nginx does. One
	 * that arrives later can only close the connection. */
	size_t body = c->in_off + req->head_len;
	struct http_chunked probe = {0};
	size_t used;
	reply_init(&c->rp, c->out, sizeof c->out, keep_alive, req->version_minor == 0,
	           req->method == HTTP_METHOD_HEAD);
	if (req->chunked && body < c->in_len &&
	    http_chunked_skip(&probe, c->in + body, c->in_len - body, &used) == HTTP_CHUNK_BAD) {
		c->rp.keep_alive = 0;
		c->chunked = 0;
		reply_error(&c->srv->site, &c->rp, 400);
	} else {
		serve_request(&c->srv->site, req, &c->rp);
	}
	begin_send(c);
	note_for_log(c, req);
	c->in_off += req->head_len;
	if (log_enabled(LOG_LEVEL_DEBUG))
		log_debug("fd %d: %.*s %.*s -> %d", c->fd, (int)req->method_name.len,
		          req->method_name.p, (int)req->target.len, req->target.p, c->rp.status);
	c->state = CONN_SEND_HEAD;
	return STEP_NEXT;
}

/* An answer to a head we could not parse; the connection closes after it.
 * method is what the parser made of the method token (HEAD gets no body). */
static enum step
start_error(struct conn *c, int status, enum http_method method)
{
	c->requests++;
	/* The log shows the start of what was sent, up to the first line end. */
	size_t avail = c->in_len - c->in_off;
	const char *eol = memchr(c->in + c->in_off, '\n', avail);
	size_t n = eol ? (size_t)(eol - (c->in + c->in_off)) : avail;
	if (n > 0 && c->in[c->in_off + n - 1] == '\r')
		n--;
	c->log_req_off = (uint16_t)c->in_off;
	c->log_req_len = (uint16_t)(n > 256 ? 256 : n);
	c->log_ref_len = c->log_ua_len = 0;
	c->in_off = c->in_len = 0;
	reply_init(&c->rp, c->out, sizeof c->out, 0, 0, method == HTTP_METHOD_HEAD);
	reply_error(&c->srv->site, &c->rp, status);
	begin_send(c);
	log_debug("fd %d: bad request head -> %d", c->fd, status);
	c->state = CONN_SEND_HEAD;
	return STEP_NEXT;
}

/* The buffer is full and holds no whole head. Parsed once more (the last
 * bytes may not have ended a line) to tell a HEAD and a bad byte. */
static enum step
overflow(struct conn *c)
{
	struct http_request req;
	const char *p = c->in + c->in_off;
	switch (http_parse_request(p, sizeof c->in, &req)) {
	case HTTP_PARSE_OK:
		return start_response(c, &req);
	case HTTP_PARSE_ERROR:
		return start_error(c, req.error_status, req.method);
	case HTTP_PARSE_AGAIN:
		break;
	}
	return start_error(c, http_overflow_status(p, sizeof c->in), req.method);
}

/* Stops reading requests after a finished response (a body too big or
 * malformed to skip): half-close and drain, as finish_response does. */
static enum step
close_lingering(struct conn *c)
{
	c->rp.keep_alive = 0;
	c->chunked = 0;
	c->body_left = 0;
	if (shutdown(c->fd, SHUT_WR) != 0)
		return STEP_CLOSE;
	c->state = CONN_LINGER;
	return STEP_NEXT;
}

static enum step
read_request(struct conn *c)
{
	assert(c->state == CONN_READ_REQUEST);
	for (;;) {
		/* Pipelined requests count against the turn too. */
		if (c->turn_requests >= SHS_TURN_REQUESTS)
			return STEP_YIELD;
		if (c->body_left || c->chunked) {
			int r = discard_body(c);
			if (r < 0)
				return close_lingering(c);
			if (r > 0) {
				int got = c->readable ? fill(c) : 0;
				if (got < 0)
					return STEP_CLOSE;
				if (got == 0)
					return STEP_WAIT;
				c->progress = 1;
				continue;
			}
			c->parse_due = c->in_len > c->in_off;
		}
		if (c->parse_due) {
			c->parse_due = 0;
			struct http_request req;
			switch (
			    http_parse_request(c->in + c->in_off, c->in_len - c->in_off, &req)) {
			case HTTP_PARSE_OK:
				return start_response(c, &req);
			case HTTP_PARSE_ERROR:
				return start_error(c, req.error_status, req.method);
			case HTTP_PARSE_AGAIN:
				break;
			}
		}
		if (c->in_len - c->in_off == sizeof c->in)
			return overflow(c);
		if (!c->readable)
			return STEP_WAIT;
		if (c->in_len == sizeof c->in)
			compact(c);
		int got = fill(c);
		if (got < 0)
			return STEP_CLOSE; /* EOF between requests, or a client gave up */
		if (got == 0 && !c->parse_due)
			return STEP_WAIT;
	}
}

static enum step finish_response(struct conn *c);

static enum step
send_head(struct conn *c)
{
	assert(c->state == CONN_SEND_HEAD);
	/* MSG_MORE: the headers wait for the first body bytes, so both leave
	 * in one packet instead of a tiny one and then the rest. On a last
	 * response the data waits for the FIN that close() or shutdown() adds
	 * a moment later, and the kernel sends both in one segment: one packet
	 * (and one ACK) less per connection, as nginx gets with TCP_CORK. */
	int more = (c->rp.fd >= 0 && c->rp.off < c->rp.end) || (!c->rp.keep_alive && !c->rp.sse)
	               ? MSG_MORE
	               : 0;
	while (c->out_off < c->rp.len || c->mem_off < c->rp.mem_len) {
		if (!c->writable)
			return STEP_WAIT;
		/* Head and cached body in one call: one syscall per hit. */
		struct iovec iov[2];
		struct msghdr msg = {.msg_iov = iov};
		if (c->out_off < c->rp.len)
			iov[msg.msg_iovlen++] =
			    (struct iovec){c->out + c->out_off, c->rp.len - c->out_off};
		if (c->mem_off < c->rp.mem_len)
			iov[msg.msg_iovlen++] = (struct iovec){(void *)(c->rp.mem + c->mem_off),
			                                       c->rp.mem_len - c->mem_off};
		ssize_t n = sendmsg(c->fd, &msg, MSG_NOSIGNAL | more);
		if (n > 0) {
			size_t k = (size_t)n, head = c->rp.len - c->out_off;
			if (k <= head) {
				c->out_off += k;
			} else {
				c->out_off = c->rp.len;
				c->mem_off += k - head;
			}
			c->sent += (uint64_t)n;
			c->turn_bytes += (size_t)n;
			c->progress = 1;
		} else if (errno == EAGAIN) {
			c->writable = 0;
		} else if (errno != EINTR) {
			return STEP_CLOSE;
		}
	}
	if (c->rp.fd >= 0 && c->rp.off < c->rp.end) {
		c->state = CONN_SEND_FILE;
		return STEP_NEXT;
	}
	if (byteranges_next_part(&c->srv->site, &c->rp)) {
		c->out_off = 0;
		c->state = CONN_SEND_HEAD;
		return STEP_NEXT;
	}
	if (c->rp.sse) {
		c->state = CONN_EVENTS;
		c->out_off = c->rp.len = 0;
		return STEP_NEXT; /* conn_run() tells the loop it joined */
	}
	return finish_response(c);
}

void
conn_push(struct conn *c, const char *msg, size_t len)
{
	if (c->state != CONN_EVENTS)
		return;
	if (c->out_off > 0) {
		memmove(c->out, c->out + c->out_off, c->rp.len - c->out_off);
		c->rp.len -= c->out_off;
		c->out_off = 0;
	}
	if (len > sizeof c->out - c->rp.len) {
		c->sse_overflow = 1;
		return;
	}
	memcpy(c->out + c->rp.len, msg, len);
	c->rp.len += len;
	c->writable = 1; /* try now; EAGAIN puts it back to waiting */
}

/* An event stream: written when changes are pushed, read only to notice the
 * client leaving. What the client sends is thrown away through a scratch
 * buffer, never read into `in`: the request line, Referer and User-Agent
 * the access log shows when the stream ends are still there. */
static enum step
events(struct conn *c)
{
	assert(c->state == CONN_EVENTS);
	while (c->readable) {
		char scratch[512];
		ssize_t n = read(c->fd, scratch, sizeof scratch);
		if (n == 0)
			return STEP_CLOSE;
		if (n < 0 && errno == EAGAIN)
			c->readable = 0;
		else if (n < 0 && errno != EINTR)
			return STEP_CLOSE;
		/* An EventSource sends nothing: one that streams at us goes. */
		if (n > 0 && (c->lingered += (size_t)n) > SHS_LINGER_MAX)
			return STEP_CLOSE;
	}
	if (c->sse_overflow)
		return STEP_CLOSE;
	while (c->out_off < c->rp.len && c->writable) {
		ssize_t n = send(c->fd, c->out + c->out_off, c->rp.len - c->out_off, MSG_NOSIGNAL);
		if (n > 0) {
			c->out_off += (size_t)n;
			c->sent += (uint64_t)n;
		} else if (errno == EAGAIN) {
			c->writable = 0;
		} else if (errno != EINTR) {
			return STEP_CLOSE;
		}
	}
	return STEP_WAIT;
}

static enum step
send_file(struct conn *c)
{
	assert(c->state == CONN_SEND_FILE);
	while (c->rp.off < c->rp.end) {
		if (!c->writable)
			return STEP_WAIT;
		if (c->turn_bytes >= SHS_TURN_BYTES)
			return STEP_YIELD;
		off_t left = c->rp.end - c->rp.off;
		/* At most a turn's worth per call: loopback sockets take MBs
		 * at once, and other clients should not wait behind that. */
		size_t chunk = left > SHS_TURN_BYTES ? SHS_TURN_BYTES : (size_t)left;
		ssize_t n = sendfile(c->fd, c->rp.fd, &c->rp.off, chunk);
		if (n > 0) {
			c->sent += (uint64_t)n;
			c->turn_bytes += (size_t)n;
			c->progress = 1;
		} else if (n == 0) {
			/* The file shrank under us. Never pad: the client sees a
			 * short body and a closed connection. */
			log_warn("fd %d: file ended %lld bytes early", c->fd, (long long)left);
			return STEP_CLOSE;
		} else if (errno == EAGAIN) {
			c->writable = 0;
		} else if (errno != EINTR) {
			if (errno != EPIPE && errno != ECONNRESET)
				log_debug("sendfile: %s", strerror(errno));
			return STEP_CLOSE;
		}
	}
	if (byteranges_next_part(&c->srv->site, &c->rp)) {
		c->out_off = 0;
		c->state = CONN_SEND_HEAD;
		return STEP_NEXT;
	}
	return finish_response(c);
}

static enum step
finish_response(struct conn *c)
{
	log_access(c);
	reply_release(&c->rp);
	c->out_off = c->rp.len = 0;
	if (c->rp.keep_alive) {
		c->state = CONN_READ_REQUEST;
		c->parse_due = c->in_len > c->in_off;
		return STEP_NEXT;
	}
	/* If the client may still be sending (a body we did not read, a
	 * pipelined request, an unread socket), closing now would answer its
	 * bytes with an RST that can destroy our response in its receive
	 * buffer. Half-close and drain instead (nginx's lingering close). */
	if (!c->readable && c->in_len == c->in_off && !c->body_left && !c->chunked)
		return STEP_CLOSE;
	if (shutdown(c->fd, SHUT_WR) != 0)
		return STEP_CLOSE;
	c->state = CONN_LINGER;
	return STEP_NEXT;
}

static enum step
linger(struct conn *c)
{
	assert(c->state == CONN_LINGER);
	for (;;) {
		if (!c->readable)
			return STEP_WAIT;
		c->in_off = c->in_len = 0;
		int got = fill(c);
		if (got < 0)
			return STEP_CLOSE;
		c->lingered += c->in_len;
		if (c->lingered > SHS_LINGER_MAX)
			return STEP_CLOSE;
	}
}

static enum step
done(struct conn *c)
{
	(void)c;
	assert(!"run on a closed connection");
	return STEP_CLOSE;
}

static enum step (*const handlers[CONN_STATE_COUNT])(struct conn *) = {
    [CONN_READ_REQUEST] = read_request,
    [CONN_SEND_HEAD] = send_head,
    [CONN_SEND_FILE] = send_file,
    [CONN_LINGER] = linger,
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
		case STEP_NEXT:
			if (c->state == CONN_EVENTS && was != CONN_EVENTS)
				joined = 1;
			continue;
		case STEP_WAIT:
			return joined ? CONN_RUN_JOIN_EVENTS : CONN_RUN_WAIT;
		case STEP_YIELD:
			return CONN_RUN_YIELD;
		case STEP_CLOSE:
			conn_close(c);
			return CONN_RUN_CLOSED;
		}
	}
}
