/* loop.h - what the epoll loop (server.c) knows of the objects it watches:
 * a file descriptor and a callback, never the feature behind them (Redis's
 * ae). Every object whose address goes into epoll_event.data.ptr starts
 * with a struct loop_handler; a module that needs the loop embeds one and
 * the server registers its fd with it. */
#ifndef SHS_LOOP_H
#define SHS_LOOP_H

#include <stdint.h>

struct loop_handler {
	/* Called with the object (the address of this header) and the epoll
	 * events that woke it. */
	void (*on_event)(void *self, uint32_t events);
	/* Run before every other object of the same epoll batch: state that
	 * requests of the batch read (the cache's inotify queue). */
	int early;
};

#endif
