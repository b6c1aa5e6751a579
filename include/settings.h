/* settings.h - the runtime configuration: struct server_config, filled by
 * options.c from the command line and read by everything that serves, and
 * the timeout classes it gives one timeout each. Plain data with no other
 * project header, so the pure options module includes this, not server.h
 * (and with it the cache, http and response headers). */
#ifndef SHS_SETTINGS_H
#define SHS_SETTINGS_H

#include <stddef.h>

/* Timeout classes; each has one FIFO queue ordered by the time a connection
 * entered it, since all members share one timeout (lwan's idea): the head
 * is always the next to expire, so expiry costs O(1) per connection. */
enum timer_class {
	TIMER_NONE = -1,
	TIMER_HEADER,   /* a request head is arriving; not refreshed by bytes */
	TIMER_IDLE,     /* keep-alive, nothing in flight */
	TIMER_TRANSFER, /* sending a response or discarding a body; refreshed on progress */
	TIMER_LINGER,   /* draining input after our FIN */
	TIMER_COUNT,
};

struct server_config {
	const char *top_dir; /* NULL until main.c picks ./public or . (none given) */
	const char *host;
	int port;
	int dotfiles;       /* serve dotfiles and dot-directories */
	unsigned max_conns; /* simultaneous clients; more get a 503 */
	unsigned max_buffers; /* request buffers in flight (0: max_conns); more get a 503 */
	int quiet;
	int listing;               /* directory listings for directories without index.html */
	int precompressed;         /* serve x.br / x.zst / x.gz sidecars when accepted */
	int cors;                  /* Access-Control-Allow-Origin: * and preflight answers */
	const char *cache_control; /* Cache-Control on 200/206/304, or NULL */
	const char *extra_headers; /* pre-rendered "Name: value\r\n" lines (--header) */
	unsigned timeout_ms[TIMER_COUNT]; /* per timer class */
	size_t cache_bytes;               /* small-file cache budget; 0 turns it off */
	size_t cache_max_file;            /* largest file the cache takes */
	const char *error_log;            /* --error-log FILE, reopened on SIGHUP, or NULL */
	int live;                         /* --live: watch files, event stream, script injection */
	int dev;                          /* --dev (implied by --live): helpful 404 pages */
	int spa;                          /* --spa: unknown extension-less paths get /index.html */
	int clean_urls;                   /* --clean-urls: /about is served from about.html */
	int follow_symlinks;              /* --follow-symlinks: links may leave the top dir */
	int rules;                        /* --rules: _redirects and _headers (--dev: if present) */
	const char *error_cache_control;  /* Cache-Control on errors and redirects, or NULL */
	const char *health_path;          /* --health PATH ("/healthz"), or NULL */
	unsigned lameduck_ms;             /* --lameduck: SIGTERM fails health this long first */
	unsigned drain_timeout_ms;        /* --drain-timeout: old generation after an upgrade */
};

#endif
