/* config.h - compile-time limits of simple-http-server, each with its reason.
 * Runtime knobs (port, top dir, ...) live in struct server_config (settings.h). */
#ifndef SHS_CONFIG_H
#define SHS_CONFIG_H

#define SHS_NAME "simple-http-server"
#define SHS_VERSION "0.1.0"

/* Largest request head (request line + headers) we buffer. Matches the 8 KiB
 * that nginx (large_client_header_buffers) and most servers accept; anything
 * longer is refused with 414 or 431 rather than growing the buffer. */
#define SHS_HEAD_MAX 8192

/* Header fields kept per request. More than this is a 431: real browsers send
 * about 20, and the limit bounds the work per request. */
#define SHS_MAX_HEADERS 100

/* Per-connection output buffer for the status line and headers (and small
 * built-in error bodies). A Location header is bounded by SHS_LOCATION_MAX. */
#define SHS_OUT_MAX 4096

/* Bytes of --header lines; they go into every response head, which must
 * still fit in SHS_OUT_MAX with our own headers and a Location. */
#define SHS_EXTRA_HEADERS_MAX 1024

/* Longest percent-encoded Location we emit in a redirect; longer paths get 414. */
#define SHS_LOCATION_MAX 2048

/* Longest decoded, normalised path we try to open (PATH_MAX is 4096). */
#define SHS_PATH_MAX 4096

/* Listening sockets (--listen, socket activation) at most. */
#define SHS_MAX_LISTENERS 16
/* Most --workers (options.c checks it; workers.c and main.c size their
 * tables by it): one per core is the point, processes beyond the cores only
 * add memory and context switches, and 64 is far more than cores on any
 * machine we target. */
#define SHS_MAX_WORKERS 64

/* Small-file cache: default budget in MiB (--cache-size) and the largest
 * file it holds; bigger files go out with sendfile from an open fd. */
#define SHS_CACHE_MIB 32
#define SHS_CACHE_MAX_FILE (256 * 1024)

/* --live: largest HTML page that gets the reload script (bigger ones are
 * sent as they are). */
#define SHS_LIVE_INJECT_MAX (16 * 1024 * 1024)

/* Default number of simultaneous client connections (--max-connections). */
#define SHS_DEFAULT_MAX_CONNS 4096

/* Events fetched per epoll_wait call. */
#define SHS_EPOLL_BATCH 256

/* Fairness: a connection that has done this much work in one turn yields to
 * the others through the ready list (edge-triggered: no new edge will come). */
#define SHS_TURN_REQUESTS 32
#define SHS_TURN_BYTES (1024 * 1024)

/* Timeouts in milliseconds. */
#define SHS_HEADER_TIMEOUT_MS 10000 /* a whole head must arrive in this time (slowloris) */
#define SHS_IDLE_TIMEOUT_MS 15000   /* keep-alive connection with no request in flight */
#define SHS_SEND_TIMEOUT_MS 30000   /* client that stops reading a response */
/* TCP_DEFER_ACCEPT on our listeners: the kernel wakes us for a connection
 * only once its first bytes are in, so accept, read, answer and (for a
 * Connection: close client) close take one wake-up and no epoll_ctl. A
 * client that sends nothing is accepted after this long anyway (one SYN-ACK
 * retransmit), and the header timeout then applies as usual. */
#define SHS_DEFER_ACCEPT_S 1
/* Draining input after our FIN, so no RST eats the answer. */
#define SHS_LINGER_TIMEOUT_MS 2000
/* Access-log lines waiting for a full pipe: retry this often. */
#define SHS_LOG_RETRY_MS 10
#define SHS_SHUTDOWN_GRACE_MS 5000 /* SIGTERM: in-flight responses get this long to finish */
/* --drain-timeout: after an upgrade (SIGUSR2) hands over, the old generation
 * finishes its responses in flight (a download in progress) this long. */
#define SHS_DRAIN_TIMEOUT_MS 60000

/* Bytes discarded while lingering before we stop caring and close. */
#define SHS_LINGER_MAX (64 * 1024)

#endif
