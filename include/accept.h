/* accept.h - taking client sockets from a listener: accept4 until EAGAIN,
 * the EMFILE spare-descriptor trick, and shedding a client that cannot be
 * taken (a short 503 and close) with a rate-limited warning. It knows
 * descriptors only; the connection table is server.c's, which calls this
 * and is never called back. */
#ifndef SHS_ACCEPT_H
#define SHS_ACCEPT_H

#include <stdint.h>
#include <sys/socket.h>

/* Why a client was shed. */
enum accept_shed_reason {
	ACCEPT_SHED_TABLE_FULL, /* --max-connections reached */
	ACCEPT_SHED_NO_FDS,     /* EMFILE/ENFILE */
	ACCEPT_SHED_NO_BUFFERS, /* every request buffer in flight (--max-buffers) */
	ACCEPT_SHED_REASONS,
};

/* What accept_next() got. */
enum accept_result {
	ACCEPT_CLIENT, /* *fd is a new non-blocking client */
	ACCEPT_EMPTY,  /* EAGAIN: the backlog is empty */
	ACCEPT_LIMIT,  /* out of descriptors (or an error): look again when one frees */
};

/* The next client on listening socket lfd, with its address in peer.
 * On EMFILE/ENFILE it closes *spare_fd to take one client and shed it, so
 * the backlog drains with an answer, then reopens the spare (libuv's
 * trick); now_ms dates the shed warning. */
enum accept_result accept_next(int lfd, int *spare_fd, uint64_t now_ms, int *fd,
                               struct sockaddr_storage *peer, socklen_t *peer_len);

/* Sheds a client we cannot take: a short 503 and close, never a hang. */
void accept_shed(int fd, enum accept_shed_reason why, uint64_t now_ms);

/* Counts n requests shed elsewhere (conn.c, without buffers) for the
 * report. */
void accept_shed_note(enum accept_shed_reason why, unsigned long n);

/* Writes the count of clients shed since the last line, if a second has
 * passed since it (or there was none yet), or now if force. */
void accept_shed_report(uint64_t now_ms, int force);

/* When accept_shed_report has a line to write, or UINT64_MAX. */
uint64_t accept_shed_report_due(void);

#endif
