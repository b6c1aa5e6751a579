/* accept.h - taking clients from the listeners into the connection table,
 * and shedding those that cannot be taken (server.c's loop calls it; it
 * runs a new connection through server_run_conn). */
#ifndef SHS_ACCEPT_H
#define SHS_ACCEPT_H

#include <stdint.h>

#include "server.h"

/* Accepts on l until EAGAIN; each client is answered at once if its
 * request is already here, else registered with epoll. Sets
 * srv->accept_paused when a limit stops it (call again when a slot frees). */
void accept_clients(struct server *srv, struct server_listener *l);

/* The listener's loop handler (self: a struct server_listener). */
void accept_on_listener(void *self, uint32_t events);

/* Writes the count of clients shed since the last line, if a second has
 * passed since it (or there was none yet), or now if force. */
void accept_shed_report(const struct server *srv, int force);

/* When accept_shed_report has a line to write, or UINT64_MAX. */
uint64_t accept_shed_report_due(void);

#endif
