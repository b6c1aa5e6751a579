/* server_loop.h - private to the loop (server.c) and its setup
 * (server_setup.c): the handlers setup registers and the clock it starts.
 * Nothing else includes this. */
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
void server_on_signal(void *self, uint32_t events);

#endif
