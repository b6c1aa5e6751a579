/* timer.c - the timeout queues. See timer.h. */
#include "timer.h"

#include "conn.h"

static uint32_t
slot_of(const struct server *srv, const struct conn *c)
{
	return (uint32_t)(c - srv->conns);
}

void
timer_unlink(struct server *srv, struct conn *c)
{
	if (c->timer == TIMER_NONE)
		return;
	struct timer_queue *q = &srv->timers[c->timer];
	struct timer_node *nodes = srv->timer_nodes, *n = &nodes[slot_of(srv, c)];
	if (n->prev != TIMER_NIL)
		nodes[n->prev].next = n->next;
	else
		q->head = n->next;
	if (n->next != TIMER_NIL)
		nodes[n->next].prev = n->prev;
	else
		q->tail = n->prev;
	c->timer = TIMER_NONE;
}

void
timer_set(struct server *srv, struct conn *c, enum timer_class cls)
{
	timer_unlink(srv, c);
	if (cls == TIMER_NONE)
		return;
	struct timer_queue *q = &srv->timers[cls];
	uint32_t i = slot_of(srv, c);
	struct timer_node *n = &srv->timer_nodes[i];
	c->timer = cls;
	n->start_ms = srv->now_ms;
	n->prev = q->tail;
	n->next = TIMER_NIL;
	if (q->tail != TIMER_NIL)
		srv->timer_nodes[q->tail].next = i;
	else
		q->head = i;
	q->tail = i;
}

uint64_t
timer_due(const struct server *srv, int k)
{
	const struct timer_queue *q = &srv->timers[k];
	if (q->head == TIMER_NIL)
		return UINT64_MAX;
	return srv->timer_nodes[q->head].start_ms + q->timeout_ms;
}
