/* conn.h - one client connection from accept to close: its buffers, the open
 * file it is sending, and the state machine that drives them. conn.c is the
 * only place a client socket or a response file descriptor is closed. */
#ifndef SHS_CONN_H
#define SHS_CONN_H

#include <netinet/in.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/types.h>

#include "config.h"
#include "http.h"
#include "http_chunked.h"
#include "loop.h"
#include "reply.h"
#include "server.h"

enum conn_state {
	CONN_READ_REQUEST, /* discard any leftover body, then read and parse a head */
	CONN_SEND_HEAD,    /* write the status line and headers (and a built-in body) */
	CONN_SEND_FILE,    /* sendfile the body from file_fd */
	CONN_LINGER,       /* our FIN is sent; drain input so no RST eats the answer */
	CONN_EVENTS,       /* a --live event stream: held open, written on changes */
	CONN_DONE,         /* closed; the slot is freed after this epoll batch */
	CONN_STATE_COUNT,
};

/* What a connection borrows from the server's pool (pool.h) while a request
 * is in flight: the input and output buffers, the response plan, and where
 * the transfer stands. An idle keep-alive connection holds none (nginx's
 * idea), so it costs its slot in the table and nothing more. */
struct conn_io {
	void *pool_link; /* first: the pool's free-list link while free */

	/* Input: in[in_off..in_len) is unconsumed. */
	size_t in_off, in_len;
	uint64_t body_left; /* Content-Length bytes still to discard */
	struct http_chunked chunk;

	/* The response in flight: the plan a responder made (reply.h), and
	 * how far it has gone: out[out_off..rp.len), then
	 * rp.mem[mem_off..rp.mem_len), then rp.fd[rp.off..rp.end). */
	struct reply rp;
	size_t out_off, mem_off;
	uint64_t sent; /* bytes of this response sent so far */

	/* For the access log: where the request line, Referer and User-Agent
	 * sit in `in`. A head stays in place until its response is done. */
	uint16_t log_req_off, log_req_len;
	uint16_t log_ref_off, log_ref_len;
	uint16_t log_ua_off, log_ua_len;

	char out[SHS_OUT_MAX];
	char in[SHS_HEAD_MAX];
};

struct conn {
	struct loop_handler handler; /* first, see loop.h; set by server.c */
	enum conn_state state;
	int fd;
	struct server *srv;

	unsigned readable : 1;     /* no EAGAIN (or short read) since the last EPOLLIN */
	unsigned writable : 1;     /* no EAGAIN since the last EPOLLOUT */
	unsigned chunked : 1;      /* discarding a chunked request body */
	unsigned parse_due : 1;    /* new bytes may complete or break the head */
	unsigned progress : 1;     /* bytes moved in this turn (refreshes timers) */
	unsigned in_ready : 1;     /* on the server's ready list */
	unsigned in_sse : 1;       /* on the server's event-stream list */
	unsigned sse_overflow : 1; /* an event did not fit: the client is too slow */
	unsigned sse_counted : 1;  /* holds one of the event-stream places (site.h) */

	/* Owned by server.c: the timer class (its queue links live in the
	 * server's dense timer_nodes[]) and the ready/free lists. */
	enum timer_class timer;
	struct conn *next;                /* free, released or ready list */
	struct conn *sse_prev, *sse_next; /* event-stream list */

	unsigned requests;      /* served on this connection */
	unsigned turn_requests; /* in the current turn (fairness) */
	size_t turn_bytes;
	unsigned lingered;  /* bytes drained after our FIN, or sent by a stream client */
	struct conn_io *io; /* borrowed while a request is in flight, else NULL */

	union {
		struct sockaddr sa;
		struct sockaddr_in in;
		struct sockaddr_in6 in6;
	} peer;
};

/* Makes a freshly accepted socket a connection in CONN_READ_REQUEST; peer
 * is its address (copied), or NULL. */
void conn_init(struct conn *c, struct server *srv, int fd, const struct sockaddr *peer,
               socklen_t peer_len);

/* What the loop must do after conn_run(): conn.c never calls up into the
 * server; it says what happened and server.c acts on it. */
enum conn_run_result {
	CONN_RUN_WAIT,        /* waits for the next edge (or an event to push) */
	CONN_RUN_YIELD,       /* used its fair share: run again before sleeping */
	CONN_RUN_CLOSED,      /* closed (CONN_DONE): release its slot */
	CONN_RUN_JOIN_EVENTS, /* just became an event stream: add it to the streams */
};

/* Runs the state machine until it must wait for an edge, yields, or closes. */
enum conn_run_result conn_run(struct conn *c);

/* The timer class the connection belongs in now. */
enum timer_class conn_timer_class(const struct conn *c);

/* Idle between requests (no bytes of a next request yet)? Shutdown closes those. */
int conn_is_idle(const struct conn *c);

/* Stop after the response in flight (shutdown). */
void conn_stop_keep_alive(struct conn *c);

/* Queues an event-stream message on a CONN_EVENTS connection (the caller
 * then runs it). A client too slow to take it is marked to be closed. */
void conn_push(struct conn *c, const char *msg, size_t len);

/* The one teardown: closes the socket and any open file, state CONN_DONE. */
void conn_close(struct conn *c);

#endif
