/* conn_step.h - private to the connection state machine (conn.c and
 * conn_read.c): the step a state handler returns, and what the reading
 * half shares with the rest. Nothing else includes this. */
#ifndef SHS_CONN_STEP_H
#define SHS_CONN_STEP_H

#include "conn.h"

/* What a state handler tells conn_run(). */
enum conn_step {
	CONN_STEP_NEXT,  /* state changed: run the new one now */
	CONN_STEP_WAIT,  /* EAGAIN: wait for the edge */
	CONN_STEP_YIELD, /* fair share used: go on the ready list */
	CONN_STEP_CLOSE, /* close the connection */
};

/* Reads once into in[in_len..). 1 = bytes came, 0 = EAGAIN, -1 = EOF or
 * error. */
int conn_fill(struct conn *c);

/* Takes request buffers from the server's pool: 0, or -1 when none is
 * left (every buffer is in flight). */
int conn_borrow(struct conn *c);
/* Gives them back (releasing what the plan holds). */
void conn_give_back(struct conn *c);
/* Gives them back if they hold nothing: no unread input, no body to skip,
 * no response. An idle keep-alive connection holds no buffers. */
void conn_give_back_if_empty(struct conn *c);
/* Half-closes and drains what the client still sends (lingering close),
 * without buffers: CONN_LINGER. */
enum conn_step conn_linger(struct conn *c);
/* Reads and drops what the client sends until EAGAIN, through a scratch
 * buffer (never `in`): -1 at EOF, an error, or past SHS_LINGER_MAX bytes
 * in all (c->lingered); else 0. */
int conn_drain(struct conn *c);
/* CONN_LINGER: reads and drops input until EOF, SHS_LINGER_MAX bytes or
 * the linger timer. */
enum conn_step conn_linger_drain(struct conn *c);

/* CONN_READ_REQUEST (conn_read.c): discard any leftover body, then read and
 * parse a head and plan its answer (state CONN_SEND_HEAD). */
enum conn_step conn_read_request(struct conn *c);

#endif
