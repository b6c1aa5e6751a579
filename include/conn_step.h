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

/* CONN_READ_REQUEST (conn_read.c): discard any leftover body, then read and
 * parse a head and plan its answer (state CONN_SEND_HEAD). */
enum conn_step conn_read_request(struct conn *c);

#endif
