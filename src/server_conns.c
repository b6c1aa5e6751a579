/* server_conns.c - a connection's places on the loop's lists: the ready
 * list (yielded for fairness), the --live event-stream list, and server_release(),
 * which takes a closed connection off all of them and queues its slot to be
 * freed after the batch. Shared by the loop (server.c) and the stop
 * (server_stop.c), which closes idle connections. See server_loop.h. */
#include "server_loop.h"

#include "conn.h"
#include "timer.h"

/* Puts a connection that used its fair share on the ready list: it runs
 * again before the loop sleeps, since no new edge will wake it. */
void
server_ready_push(struct server *srv, struct conn *c)
{
	if (c->in_ready)
		return;
	c->in_ready = 1;
	c->next = NULL;
	if (srv->ready_tail)
		srv->ready_tail->next = c;
	else
		srv->ready = c;
	srv->ready_tail = c;
}

/* Adds a connection that has just become an event stream to the list
 * live_tick()'s messages go to. */
void
server_streams_join(struct server *srv, struct conn *c)
{
	c->sse_prev = NULL;
	c->sse_next = srv->streams.head;
	if (c->sse_next)
		c->sse_next->sse_prev = c;
	srv->streams.head = c;
	c->in_sse = 1;
	srv->streams.count++;
}

/* Takes a closed connection off the stream list and gives back its place
 * under the cap. */
static void
streams_leave(struct server *srv, struct conn *c)
{
	if (c->sse_counted) {
		c->sse_counted = 0;
		srv->streams.open--;
	}
	if (!c->in_sse)
		return;
	if (c->sse_prev)
		c->sse_prev->sse_next = c->sse_next;
	else
		srv->streams.head = c->sse_next;
	if (c->sse_next)
		c->sse_next->sse_prev = c->sse_prev;
	c->sse_prev = c->sse_next = NULL;
	c->in_sse = 0;
	srv->streams.count--;
}

/* Removes a closed connection from every list; its slot is freed after the
 * batch. The ready list is short (only connections that yielded), so the
 * scan is cheap and rare. */
void
server_release(struct server *srv, struct conn *c)
{
	streams_leave(srv, c);
	timer_unlink(srv, c);
	if (c->in_ready) {
		struct conn **pp = &srv->ready, *prev = NULL;
		while (*pp != c) {
			prev = *pp;
			pp = &(*pp)->next;
		}
		*pp = c->next;
		if (srv->ready_tail == c)
			srv->ready_tail = prev;
		c->in_ready = 0;
	}
	srv->active--;
	c->next = srv->released;
	srv->released = c;
}
