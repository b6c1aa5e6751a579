/* conn_read.c - the CONN_READ_REQUEST state of the connection state
 * machine (conn.c): borrowing request buffers when bytes arrive and giving
 * them back when a connection goes idle, reading and parsing request heads,
 * discarding request bodies, starting the response a responder plans
 * (serve.c); and CONN_LINGER, draining after our FIN. See conn_step.h. */
#include "conn_step.h"

#include <assert.h>
#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "log.h"
#include "pool.h"
#include "reply.h"
#include "serve.h"

/* Requests on one connection before we close it, so a client cannot hold a
 * slot forever (nginx's keepalive_requests). */
#define KEEP_ALIVE_MAX 1000

/* A request body larger than this is not discarded to keep the connection:
 * we answer and close instead. A chunked body's size is not known up front,
 * so it is discarded until its bytes (framing included) pass this, and then
 * the connection is closed after a lingering drain. */
#define DISCARD_MAX (64 * 1024)

int
conn_borrow(struct conn *c)
{
	struct conn_io *io = pool_get(&c->srv->pool);
	if (!io)
		return -1;
	memset(io, 0, offsetof(struct conn_io, out));
	io->rp.fd = -1;
	c->io = io;
	return 0;
}

void
conn_give_back(struct conn *c)
{
	if (!c->io)
		return;
	reply_release(&c->io->rp);
	pool_put(&c->srv->pool, c->io);
	c->io = NULL;
}

void
conn_give_back_if_empty(struct conn *c)
{
	struct conn_io *io = c->io;
	if (io && io->in_off == io->in_len && !io->body_left && !c->chunked && !io->rp.status &&
	    c->state == CONN_READ_REQUEST)
		conn_give_back(c);
}

enum conn_step
conn_linger(struct conn *c)
{
	conn_give_back(c); /* draining needs no buffer of its own */
	if (shutdown(c->fd, SHUT_WR) != 0)
		return CONN_STEP_CLOSE;
	c->state = CONN_LINGER;
	return CONN_STEP_NEXT;
}

int
conn_drain(struct conn *c)
{
	while (c->readable) {
		char scratch[4096];
		ssize_t n = read(c->fd, scratch, sizeof scratch);
		if (n == 0)
			return -1;
		if (n < 0 && errno == EAGAIN)
			c->readable = 0;
		else if (n < 0 && errno != EINTR)
			return -1;
		else if (n > 0 && (c->lingered += (unsigned)n) > SHS_LINGER_MAX)
			return -1;
	}
	return 0;
}

enum conn_step
conn_linger_drain(struct conn *c)
{
	assert(c->state == CONN_LINGER);
	if (conn_drain(c) < 0)
		return CONN_STEP_CLOSE;
	return CONN_STEP_WAIT;
}

/* The plan is made: sending starts at its first byte. */
static void
begin_send(struct conn *c)
{
	c->io->out_off = 0;
	c->io->mem_off = 0;
	c->io->sent = 0;
}

/* Reads once into in[in_len..). 1 = bytes came, 0 = EAGAIN, -1 = EOF or error. */
int
conn_fill(struct conn *c)
{
	size_t room = sizeof c->io->in - c->io->in_len;
	ssize_t n = read(c->fd, c->io->in + c->io->in_len, room);
	if (n > 0) {
		/* A short read emptied the socket; new data brings a new
		 * edge, so skip the read that would only say EAGAIN. */
		if ((size_t)n < room)
			c->readable = 0;
		if (memchr(c->io->in + c->io->in_len, '\n', (size_t)n) ||
		    c->io->in_len == c->io->in_off)
			c->parse_due = 1;
		c->io->in_len += (size_t)n;
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
	if (c->io->in_off == 0)
		return;
	memmove(c->io->in, c->io->in + c->io->in_off, c->io->in_len - c->io->in_off);
	c->io->in_len -= c->io->in_off;
	c->io->in_off = 0;
}

/* Drops request body bytes already buffered. Returns 0 when the body is
 * done, 1 while more is to come, -1 for a malformed chunked body or one
 * past DISCARD_MAX. */
static int
discard_body(struct conn *c)
{
	size_t avail = c->io->in_len - c->io->in_off;
	if (c->chunked) {
		size_t used;
		enum http_chunk_result r =
		    http_chunked_skip(&c->io->chunk, c->io->in + c->io->in_off, avail, &used);
		c->io->in_off += used;
		if (r == HTTP_CHUNK_BAD || c->io->chunk.consumed > DISCARD_MAX)
			return -1;
		if (r == HTTP_CHUNK_END)
			c->chunked = 0;
	} else {
		size_t n = avail < c->io->body_left ? avail : (size_t)c->io->body_left;
		c->io->in_off += n;
		c->io->body_left -= n;
	}
	if (c->io->in_off == c->io->in_len)
		c->io->in_off = c->io->in_len = 0;
	return (c->chunked || c->io->body_left) ? 1 : 0;
}

static void
note_slice(struct conn *c, struct http_slice s, uint16_t *off, uint16_t *len)
{
	*off = (uint16_t)(s.p ? s.p - c->io->in : 0);
	*len = (uint16_t)s.len;
}

/* Remembers where the fields the access log shows sit in the buffer. */
static void
note_for_log(struct conn *c, const struct http_request *req)
{
	if (c->srv->access_log.fd < 0)
		return;
	const char *line = req->method_name.p;
	const char *eol = memchr(line, '\n', (size_t)(c->io->in + c->io->in_len - line));
	size_t n = eol ? (size_t)(eol - line) : 0;
	if (n > 0 && line[n - 1] == '\r')
		n--;
	note_slice(c, (struct http_slice){line, n}, &c->io->log_req_off, &c->io->log_req_len);
	const struct http_header *h = http_field(req, HTTP_FIELD_REFERER);
	note_slice(c, h ? h->value : (struct http_slice){NULL, 0}, &c->io->log_ref_off,
	           &c->io->log_ref_len);
	h = http_field(req, HTTP_FIELD_USER_AGENT);
	note_slice(c, h ? h->value : (struct http_slice){NULL, 0}, &c->io->log_ua_off,
	           &c->io->log_ua_len);
}

/* Plans the answer to a complete head and consumes it. */
static enum conn_step
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
	memset(&c->io->chunk, 0, sizeof c->io->chunk);
	c->io->body_left = req->chunked ? 0 : req->content_length;

	/* The body is discarded after the answer, but a broken chunk that is
	 * already here gets a 400 before anything is sent, as nginx does. One
	 * that arrives later can only close the connection. */
	size_t body = c->io->in_off + req->head_len;
	struct http_chunked probe = {0};
	size_t used;
	reply_init(&c->io->rp, c->io->out, sizeof c->io->out, keep_alive, req->version_minor == 0,
	           req->method == HTTP_METHOD_HEAD);
	if (req->chunked && body < c->io->in_len &&
	    http_chunked_skip(&probe, c->io->in + body, c->io->in_len - body, &used) ==
	        HTTP_CHUNK_BAD) {
		c->io->rp.keep_alive = 0;
		c->chunked = 0;
		reply_error(&c->srv->site, &c->io->rp, 400);
	} else {
		serve_request(&c->srv->site, req, &c->io->rp);
		c->sse_counted = c->io->rp.sse; /* the server gives the place back */
	}
	begin_send(c);
	note_for_log(c, req);
	c->io->in_off += req->head_len;
	if (log_enabled(LOG_LEVEL_DEBUG))
		log_debug("fd %d: %.*s %.*s -> %d", c->fd, (int)req->method_name.len,
		          req->method_name.p, (int)req->target.len, req->target.p,
		          c->io->rp.status);
	c->state = CONN_SEND_HEAD;
	return CONN_STEP_NEXT;
}

/* An answer to a head we could not parse; the connection closes after it.
 * method is what the parser made of the method token (HEAD gets no body). */
static enum conn_step
start_error(struct conn *c, int status, enum http_method method)
{
	c->requests++;
	/* The log shows the start of what was sent, up to the first line end. */
	size_t avail = c->io->in_len - c->io->in_off;
	const char *eol = memchr(c->io->in + c->io->in_off, '\n', avail);
	size_t n = eol ? (size_t)(eol - (c->io->in + c->io->in_off)) : avail;
	if (n > 0 && c->io->in[c->io->in_off + n - 1] == '\r')
		n--;
	c->io->log_req_off = (uint16_t)c->io->in_off;
	c->io->log_req_len = (uint16_t)(n > 256 ? 256 : n);
	c->io->log_ref_len = c->io->log_ua_len = 0;
	c->io->in_off = c->io->in_len = 0;
	reply_init(&c->io->rp, c->io->out, sizeof c->io->out, 0, 0, method == HTTP_METHOD_HEAD);
	reply_error(&c->srv->site, &c->io->rp, status);
	begin_send(c);
	log_debug("fd %d: bad request head -> %d", c->fd, status);
	c->state = CONN_SEND_HEAD;
	return CONN_STEP_NEXT;
}

/* The buffer is full and holds no whole head. Parsed once more (the last
 * bytes may not have ended a line) to tell a HEAD and a bad byte. */
static enum conn_step
overflow(struct conn *c)
{
	struct http_request req;
	const char *p = c->io->in + c->io->in_off;
	switch (http_parse_request(p, sizeof c->io->in, &req)) {
	case HTTP_PARSE_OK:
		return start_response(c, &req);
	case HTTP_PARSE_ERROR:
		return start_error(c, req.error_status, req.method);
	case HTTP_PARSE_AGAIN:
		break;
	}
	return start_error(c, http_overflow_status(p, sizeof c->io->in), req.method);
}

/* Stops reading requests after a finished response (a body too big or
 * malformed to skip): half-close and drain, as finish_response does. */
static enum conn_step
close_lingering(struct conn *c)
{
	c->io->rp.keep_alive = 0;
	c->chunked = 0;
	c->io->body_left = 0;
	return conn_linger(c);
}

/* Every request buffer is in flight: a short 503 without one, then the
 * lingering close, so the answer is not lost to a reset. The loop reports
 * the count (pool_refused). */
static enum conn_step
shed_no_buffer(struct conn *c)
{
	static const char busy[] = "HTTP/1.1 503 Service Unavailable\r\n"
	                           "Content-Length: 0\r\nRetry-After: 1\r\n"
	                           "Connection: close\r\n\r\n";
	ssize_t n = send(c->fd, busy, sizeof busy - 1, MSG_NOSIGNAL | MSG_DONTWAIT);
	(void)n;
	return conn_linger(c);
}

static enum conn_step read_request(struct conn *c);

enum conn_step
conn_read_request(struct conn *c)
{
	assert(c->state == CONN_READ_REQUEST);
	if (!c->io) {
		/* Idle keep-alive: buffers only once bytes are here. */
		if (!c->readable)
			return CONN_STEP_WAIT;
		if (conn_borrow(c) < 0)
			return shed_no_buffer(c);
	}
	enum conn_step step = read_request(c);
	if (step == CONN_STEP_WAIT)
		conn_give_back_if_empty(c);
	return step;
}

static enum conn_step
read_request(struct conn *c)
{
	assert(c->state == CONN_READ_REQUEST);
	for (;;) {
		/* Pipelined requests count against the turn too. */
		if (c->turn_requests >= SHS_TURN_REQUESTS)
			return CONN_STEP_YIELD;
		if (c->io->body_left || c->chunked) {
			int r = discard_body(c);
			if (r < 0)
				return close_lingering(c);
			if (r > 0) {
				int got = c->readable ? conn_fill(c) : 0;
				if (got < 0)
					return CONN_STEP_CLOSE;
				if (got == 0)
					return CONN_STEP_WAIT;
				c->progress = 1;
				continue;
			}
			c->parse_due = c->io->in_len > c->io->in_off;
		}
		if (c->parse_due) {
			c->parse_due = 0;
			struct http_request req;
			switch (http_parse_request(c->io->in + c->io->in_off,
			                           c->io->in_len - c->io->in_off, &req)) {
			case HTTP_PARSE_OK:
				return start_response(c, &req);
			case HTTP_PARSE_ERROR:
				return start_error(c, req.error_status, req.method);
			case HTTP_PARSE_AGAIN:
				break;
			}
		}
		if (c->io->in_len - c->io->in_off == sizeof c->io->in)
			return overflow(c);
		if (!c->readable)
			return CONN_STEP_WAIT;
		if (c->io->in_len == sizeof c->io->in)
			compact(c);
		int got = conn_fill(c);
		if (got < 0)
			return CONN_STEP_CLOSE; /* EOF between requests, or a client gave up */
		if (got == 0 && !c->parse_due)
			return CONN_STEP_WAIT;
	}
}
