/* server_loop.h - private to the loop (server.c), its setup
 * (server_setup.c), its connection lists (server_conns.c) and its stop
 * (server_stop.c): the handlers setup registers, the clock it starts, and
 * what the loop and the stop share. Nothing else includes this.
 *
 * No circle (tests/layers.sh): server.c calls server_conns.c and
 * server_stop.c; server_stop.c calls server_conns.c only. */
#ifndef SHS_SERVER_LOOP_H
#define SHS_SERVER_LOOP_H

#include <stdint.h>

#include "server.h"

/* Refreshes now_ms and, once a second, the Date string and the header
 * prefix (struct site sees both). */
void server_update_clock(struct server *srv);

/* Loop handlers (self: a struct server_listener): a listening socket
 * (accept until EAGAIN) and the signal fd. */
void server_on_listener(void *self, uint32_t events);
void server_on_signal(void *self, uint32_t events); /* server_stop.c */

/* server_stop.c: the lame duck's time is up (lameduck_end_ms): stop, or
 * retire after an upgrade. */
void server_end_lameduck(struct server *srv);

/* server_conns.c: the ready list (a connection that yielded runs again
 * before the loop sleeps; no new edge will wake it), the --live stream
 * list, and server_release, which takes a closed connection (CONN_DONE)
 * off every list and queues its slot, freed after the batch. */
void server_ready_push(struct server *srv, struct conn *c);
void server_streams_join(struct server *srv, struct conn *c);
void server_release(struct server *srv, struct conn *c);

#endif
