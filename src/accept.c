/* accept.c - taking client sockets from a listener and shedding those that
 * cannot be taken, with a rate-limited warning. See accept.h. */
#include "accept.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "log.h"

/* Shed clients are reported in one line at most this often. */
#define SHS_SHED_LOG_MS 1000

/* Clients shed since the last report. A flood of clients would otherwise be
 * a flood of log lines: the count is reported at most once a second. One
 * server per process (workers are processes), so file scope will do. */
static struct {
	unsigned long count[ACCEPT_SHED_REASONS];
	uint64_t last_ms; /* when the last line was written; 0: never */
} shed_log;

static unsigned long
shed_total(void)
{
	unsigned long n = 0;
	for (int i = 0; i < ACCEPT_SHED_REASONS; i++)
		n += shed_log.count[i];
	return n;
}

void
accept_shed_note(enum accept_shed_reason why, unsigned long n)
{
	shed_log.count[why] += n;
}

void
accept_shed_report(uint64_t now_ms, int force)
{
	static const char *const why[ACCEPT_SHED_REASONS] = {
	    [ACCEPT_SHED_TABLE_FULL] = "table full",
	    [ACCEPT_SHED_NO_FDS] = "out of file descriptors",
	    [ACCEPT_SHED_NO_BUFFERS] = "no request buffers",
	};
	unsigned long total = shed_total();
	if (total == 0 ||
	    (!force && shed_log.last_ms && now_ms - shed_log.last_ms < SHS_SHED_LOG_MS))
		return;
	char reasons[96] = "";
	size_t len = 0;
	for (int i = 0; i < ACCEPT_SHED_REASONS; i++) {
		if (!shed_log.count[i])
			continue;
		int n =
		    snprintf(reasons + len, sizeof reasons - len, "%s%s", len ? ", " : "", why[i]);
		if (n > 0 && (size_t)n < sizeof reasons - len)
			len += (size_t)n;
		shed_log.count[i] = 0;
	}
	log_warn("%lu connection(s) shed in the last second (%s)", total, reasons);
	shed_log.last_ms = now_ms ? now_ms : 1;
}

uint64_t
accept_shed_report_due(void)
{
	if (shed_total() == 0)
		return UINT64_MAX;
	return shed_log.last_ms + SHS_SHED_LOG_MS;
}

void
accept_shed(int fd, enum accept_shed_reason why, uint64_t now_ms)
{
	static const char busy[] = "HTTP/1.1 503 Service Unavailable\r\n"
	                           "Content-Length: 0\r\nConnection: close\r\n\r\n";
	ssize_t n = send(fd, busy, sizeof busy - 1, MSG_NOSIGNAL | MSG_DONTWAIT);
	(void)n;
	close(fd);
	shed_log.count[why]++;
	accept_shed_report(now_ms, 0);
}

/* Out of descriptors: the spare one makes room to take a client and shed
 * it. 1 if that worked (try again), 0 to pause. */
static int
shed_with_spare(int lfd, int *spare_fd, uint64_t now_ms)
{
	if (*spare_fd < 0)
		return 0;
	close(*spare_fd);
	*spare_fd = -1;
	int extra = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
	if (extra >= 0)
		accept_shed(extra, ACCEPT_SHED_NO_FDS, now_ms);
	*spare_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	return extra >= 0 && *spare_fd >= 0;
}

enum accept_result
accept_next(int lfd, int *spare_fd, uint64_t now_ms, int *fd, struct sockaddr_storage *peer,
            socklen_t *peer_len)
{
	for (;;) {
		*peer_len = sizeof *peer;
		*fd = accept4(lfd, (struct sockaddr *)peer, peer_len, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (*fd >= 0)
			return ACCEPT_CLIENT;
		switch (errno) {
		case EAGAIN:
			return ACCEPT_EMPTY;
		case EINTR:
		case ECONNABORTED:
		case EPROTO:
		case EPERM:
			continue;
		case EMFILE:
		case ENFILE:
			if (shed_with_spare(lfd, spare_fd, now_ms))
				continue;
			return ACCEPT_LIMIT;
		default:
			log_error("accept: %s", strerror(errno));
			return ACCEPT_LIMIT;
		}
	}
}
