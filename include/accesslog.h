/* accesslog.h - the buffered access log (Common or Combined Log Format).
 *
 * Lines collect in a fixed buffer and go out in one write(2) per loop
 * iteration, not one per request. The log never blocks the loop: stdout is
 * reopened non-blocking, and when the buffer is full lines are dropped and
 * counted. A failing log file is reported once, not per request. */
#ifndef SHS_ACCESSLOG_H
#define SHS_ACCESSLOG_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <time.h>

#define ACCESSLOG_BUF (64 * 1024)

struct accesslog {
	int fd;           /* -1: off */
	const char *path; /* NULL: standard output */
	int combined;     /* Combined (referer, user agent) or Common format */
	int failed;       /* the last write failed: reported already */
	unsigned long dropped;
	/* Other processes (--workers) write to the same pipe or socket: each
	 * write is whole lines of at most PIPE_BUF bytes, which a pipe never
	 * interleaves with another writer's. Files are opened O_APPEND. */
	int shared;
	time_t stamp_sec;
	char stamp[32]; /* "[22/Nov/2026:03:45:00 +0000]" for stamp_sec */
	size_t len;
	char buf[ACCESSLOG_BUF];
};

/* Opens path ("-" = standard output) for appending. Returns 0 or -errno. */
int accesslog_open(struct accesslog *log, const char *path, int combined);

/* The log is off. */
void accesslog_disable(struct accesslog *log);

struct accesslog_entry {
	const struct sockaddr *peer;
	const char *request; /* the request line, not NUL-terminated */
	size_t request_len;
	int status;
	uint64_t bytes; /* body bytes sent */
	const char *referer, *user_agent;
	size_t referer_len, user_agent_len;
};

/* Appends one line (control characters, quotes and non-ASCII escaped as
 * \xHH, so a client cannot forge lines). now is the wall-clock second. */
void accesslog_write(struct accesslog *log, time_t now, const struct accesslog_entry *e);

/* Writes out what is buffered (as much as the fd takes without blocking). */
void accesslog_flush(struct accesslog *log);

/* Reopens the file after a rotation (SIGHUP/SIGUSR1). Returns 0 or -errno. */
int accesslog_reopen(struct accesslog *log);

void accesslog_close(struct accesslog *log);

#endif
