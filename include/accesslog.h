/* accesslog.h - the buffered access log (Common or Combined Log Format).
 *
 * Lines collect in a fixed buffer and go out in one write per loop
 * iteration, not one per request. The log never blocks the loop, whatever
 * the target is (see accesslog.c for how each kind is written without
 * blocking); when the buffer is full lines are dropped, counted, and the
 * count is reported in the error log at most every ACCESSLOG_DROP_REPORT_S.
 * A failing log file is reported once, not per request.
 *
 * A line never exceeds ACCESSLOG_LINE_MAX (< PIPE_BUF): the request line,
 * Referer and User-Agent are cut (ending in "...") to fit, the status and
 * byte count never are. */
#ifndef SHS_ACCESSLOG_H
#define SHS_ACCESSLOG_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <time.h>

#define ACCESSLOG_BUF (64 * 1024)
/* Whole lines of at most PIPE_BUF bytes are never interleaved with another
 * writer's (--workers) on a pipe. */
#define ACCESSLOG_LINE_MAX 4096
/* Escaped bytes kept of each free-form field (a longer one is cut). */
#define ACCESSLOG_REQUEST_MAX 2048
#define ACCESSLOG_REFERER_MAX 768
#define ACCESSLOG_UA_MAX 768
/* Dropped lines are reported at most this often (and once more at close). */
#define ACCESSLOG_DROP_REPORT_S 10

/* How a line reaches the fd without ever blocking the loop. */
enum accesslog_mode {
	ACCESSLOG_WRITE,      /* write(2): a regular file, or our own O_NONBLOCK description */
	ACCESSLOG_SEND,       /* send(MSG_DONTWAIT): a socket (journald), description untouched */
	ACCESSLOG_RWF_NOWAIT, /* pwritev2(RWF_NOWAIT): a shared pipe, description untouched */
};

struct accesslog {
	int fd;           /* -1: off */
	const char *path; /* NULL: standard output */
	int dirfd;        /* the file's directory, opened before any chroot; -1 for stdout */
	const char *base; /* the file's name in dirfd (points into path) */
	enum accesslog_mode mode;
	int restore_flags; /* >= 0: file status flags to put back at close */
	int combined;      /* Combined (referer, user agent) or Common format */
	int failed;        /* the last write failed: reported already */
	unsigned long dropped;
	time_t drop_report; /* monotonic second of the last "dropped" report */
	/* Other processes (--workers) write to the same pipe or socket: each
	 * write is whole lines of at most PIPE_BUF bytes, which a pipe never
	 * interleaves with another writer's. Files are opened O_APPEND. */
	int shared;
	time_t stamp_sec;
	char stamp[32]; /* "[22/Nov/2026:03:45:00 +0000]" for stamp_sec */
	size_t len;
	char buf[ACCESSLOG_BUF];
};

/* Opens path ("-" = standard output) for appending; a file's directory is
 * kept open so that a reopen works after chroot. Returns 0 or -errno. */
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

/* Formats one line into dst (cap >= ACCESSLOG_LINE_MAX) and returns its
 * length, newline included. Control characters, quotes and non-ASCII bytes
 * are escaped as \xHH, so a client cannot forge lines. Pure: no I/O. */
size_t accesslog_format(char *dst, size_t cap, const char *stamp, int combined,
                        const struct accesslog_entry *e);

/* Appends one line. now is the wall-clock second. */
void accesslog_write(struct accesslog *log, time_t now, const struct accesslog_entry *e);

/* Writes out what is buffered (as much as the fd takes without blocking). */
void accesslog_flush(struct accesslog *log);

/* Reopens the file after a rotation (SIGHUP/SIGUSR1), by name in the
 * directory kept open. Returns 1 if reopened, 0 if there is nothing to
 * reopen (off, or stdout), or -errno (the old file is kept). */
int accesslog_reopen(struct accesslog *log);

/* SIGHUP/SIGUSR1: reopens the access log and the error log (log.c), says
 * which were reopened, and reports a failure with the old file kept. */
void accesslog_reopen_all(struct accesslog *log);

/* Flushes (waiting a bounded time for a stalled reader) and closes. */
void accesslog_close(struct accesslog *log);

#endif
