/* site.h - what a responder may know about the server: the read-only,
 * per-request context (configuration, the root directory fd, the clock, the
 * preformatted header prefix, the multipart boundary) and the shared stores
 * a response may use (the small-file cache, --live's page table and its
 * event-stream count). server.c owns it and refreshes it once per wake-up;
 * responders take a `const struct site *` and never see struct conn or
 * struct server, so they can be tested from tables without a socket. */
#ifndef SHS_SITE_H
#define SHS_SITE_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "settings.h"

struct cache;
struct live_state;
struct rules;

struct site {
	const struct server_config *cfg;
	int rootfd;              /* the top dir; every path is opened beneath it */
	struct cache *cache;     /* small-file cache (may be turned off: see cache.h) */
	struct live_state *live; /* --live's shared pages, or NULL without --live */
	unsigned *streams_open;  /* event-stream answers open (--live), or NULL */
	unsigned streams_max;    /* at most this many */
	uint64_t now_ms;         /* CLOCK_MONOTONIC of this wake-up */
	const char *head_prefix; /* "Server: ...\r\nDate: ...\r\n" and --header lines */
	size_t head_prefix_len;
	const char *boundary; /* multipart/byteranges, random per process */
	int lameduck;         /* lame duck (server_begin_lameduck): --health says 503 */
	const struct rules *rules; /* _redirects and _headers (rules.h), or NULL when off */
};

#endif
