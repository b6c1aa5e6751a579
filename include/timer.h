/* timer.h - the timeout queues of the server loop.
 *
 * One FIFO queue per timer class (header, idle, transfer, linger): every
 * connection in a class has the same timeout, so appending at the tail when
 * its clock starts keeps each queue ordered by deadline, and the loop only
 * looks at the heads (lwan's idea). The links live in srv->timer_nodes[],
 * indexed like srv->conns[]. */
#ifndef SHS_TIMER_H
#define SHS_TIMER_H

#include <stdint.h>

#include "settings.h" /* enum timer_class: the timeouts are configuration */

struct conn;
struct server;

/* Timer queue links, one per connection slot, indexed like conns[] and
 * kept apart from them: re-queueing a connection after each request touches
 * its neighbours' links, and 16-byte nodes in one array stay in cache where
 * 1000 connections' structs would not. */
#define TIMER_NIL UINT32_MAX
struct timer_node {
	uint32_t prev, next; /* slot indexes, TIMER_NIL at the ends */
	uint64_t start_ms;   /* when its clock started */
};

struct timer_queue {
	uint32_t head, tail; /* TIMER_NIL when empty */
	uint64_t timeout_ms;
};

/* Takes c out of its queue (if any); its class becomes TIMER_NONE. */
void timer_unlink(struct server *srv, struct conn *c);

/* Moves c to the tail of the queue of cls, starting its clock now
 * (TIMER_NONE: out of every queue). */
void timer_set(struct server *srv, struct conn *c, enum timer_class cls);

/* When the oldest connection of queue k times out, or UINT64_MAX. */
uint64_t timer_due(const struct server *srv, int k);

#endif
