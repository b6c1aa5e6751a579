/* accesslog.c - buffered access log. See accesslog.h. */
#include "accesslog.h"

#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log.h"
#include "net.h"

static int
open_target(const char *path)
{
	if (path == NULL) {
		/* A pipe or terminal gets a private, non-blocking description,
		 * so a reader that stalls cannot stall the loop and our flag
		 * does not leak to the shell's terminal. A regular file never
		 * blocks and must keep sharing its offset with stdout/stderr
		 * ("> log 2>&1"), so it is only duplicated. */
		struct stat st;
		int fd = -1;
		if (fstat(STDOUT_FILENO, &st) == 0 && !S_ISREG(st.st_mode))
			fd = open("/proc/self/fd/1", O_WRONLY | O_APPEND | O_NONBLOCK | O_CLOEXEC);
		if (fd >= 0)
			return fd;
		fd = fcntl(STDOUT_FILENO, F_DUPFD_CLOEXEC, 3);
		return fd >= 0 ? fd : -errno;
	}
	int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOCTTY, 0644);
	return fd >= 0 ? fd : -errno;
}

int
accesslog_open(struct accesslog *log, const char *path, int combined)
{
	memset(log, 0, offsetof(struct accesslog, buf));
	log->path = strcmp(path, "-") == 0 ? NULL : path;
	log->combined = combined;
	log->fd = open_target(log->path);
	return log->fd >= 0 ? 0 : log->fd;
}

void
accesslog_disable(struct accesslog *log)
{
	memset(log, 0, offsetof(struct accesslog, buf));
	log->fd = -1;
}

void
accesslog_flush(struct accesslog *log)
{
	size_t off = 0;
	while (off < log->len) {
		size_t want = log->len - off;
		if (log->shared && want > PIPE_BUF) {
			want = PIPE_BUF;
			while (want > 0 && log->buf[off + want - 1] != '\n')
				want--;
			if (want == 0) { /* one line longer than PIPE_BUF: alone */
				const char *nl = memchr(log->buf + off, '\n', log->len - off);
				want = nl ? (size_t)(nl - (log->buf + off)) + 1 : log->len - off;
			}
		}
		ssize_t n = write(log->fd, log->buf + off, want);
		if (n > 0) {
			off += (size_t)n;
			log->failed = 0;
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			break; /* keep the rest for the next iteration */
		if (!log->failed)
			log_error("access log %s: %s (lines are dropped until it works again)",
			          log->path ? log->path : "stdout", strerror(errno));
		log->failed = 1;
		off = log->len;
	}
	memmove(log->buf, log->buf + off, log->len - off);
	log->len -= off;
	if (log->dropped && log->len == 0) {
		log_warn("access log: %lu line(s) dropped while the log was not keeping up",
		         log->dropped);
		log->dropped = 0;
	}
}

static void
put(char **w, char *end, const char *s, size_t n)
{
	if ((size_t)(end - *w) < n) {
		*w = end + 1; /* marks overflow */
		return;
	}
	if (*w <= end) {
		memcpy(*w, s, n);
		*w += n;
	}
}

/* A quoted field: '"', '\\', controls and bytes >= 0x7f become \xHH. */
static void
put_escaped(char **w, char *end, const char *s, size_t n)
{
	static const char hex[] = "0123456789ABCDEF";
	for (size_t i = 0; i < n && *w <= end; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c < 0x20 || c >= 0x7f || c == '"' || c == '\\') {
			char esc[4] = {'\\', 'x', hex[c >> 4], hex[c & 15]};
			put(w, end, esc, 4);
		} else {
			put(w, end, (const char *)&c, 1);
		}
	}
}

static void
update_stamp(struct accesslog *log, time_t now)
{
	if (now == log->stamp_sec && log->stamp[0])
		return;
	struct tm tm;
	log->stamp_sec = now;
	if (!gmtime_r(&now, &tm) ||
	    strftime(log->stamp, sizeof log->stamp, "[%d/%b/%Y:%H:%M:%S +0000]", &tm) == 0)
		strcpy(log->stamp, "[-]");
}

void
accesslog_write(struct accesslog *log, time_t now, const struct accesslog_entry *e)
{
	if (log->fd < 0)
		return;
	update_stamp(log, now);
	char line[3 * 1024];
	char *w = line, *end = line + sizeof line - 1;
	char addr[64];
	if (e->peer == NULL || net_format_addr(e->peer, addr, sizeof addr) != 0)
		strcpy(addr, "-");
	/* CLF wants the bare host: drop ":port" and IPv6 brackets. */
	char *colon = strrchr(addr, ':');
	if (colon && addr[0] != '-')
		*colon = '\0';
	char *host = addr;
	if (host[0] == '[') {
		host++;
		host[strlen(host) - 1] = '\0';
	}
	char num[48];
	put(&w, end, host, strlen(host));
	put(&w, end, " - - ", 5);
	put(&w, end, log->stamp, strlen(log->stamp));
	put(&w, end, " \"", 2);
	put_escaped(&w, end, e->request, e->request_len);
	int n = snprintf(num, sizeof num, "\" %d %llu", e->status, (unsigned long long)e->bytes);
	put(&w, end, num, (size_t)n);
	if (log->combined) {
		put(&w, end, " \"", 2);
		if (e->referer_len)
			put_escaped(&w, end, e->referer, e->referer_len);
		else
			put(&w, end, "-", 1);
		put(&w, end, "\" \"", 3);
		if (e->user_agent_len)
			put_escaped(&w, end, e->user_agent, e->user_agent_len);
		else
			put(&w, end, "-", 1);
		put(&w, end, "\"", 1);
	}
	if (w > end) { /* a huge request line: cut it, keep the line well-formed */
		w = line + sizeof line - 8;
		memcpy(w, "...\"", 4);
		w += 4;
	}
	*w++ = '\n';
	size_t len = (size_t)(w - line);
	if (log->len + len > sizeof log->buf)
		accesslog_flush(log);
	if (log->len + len > sizeof log->buf) {
		log->dropped++;
		return;
	}
	memcpy(log->buf + log->len, line, len);
	log->len += len;
}

int
accesslog_reopen(struct accesslog *log)
{
	if (log->fd < 0 || log->path == NULL)
		return 0;
	accesslog_flush(log);
	int fd = open_target(log->path);
	if (fd < 0)
		return fd; /* keep writing to the old file */
	close(log->fd);
	log->fd = fd;
	log->failed = 0;
	return 0;
}

void
accesslog_close(struct accesslog *log)
{
	if (log->fd < 0)
		return;
	if (log->shared) {
		/* The other workers share this open file description: its
		 * O_NONBLOCK is theirs too, so wait for room instead (bounded:
		 * a reader that never reads costs the last lines, not a hang). */
		for (int waited = 0; log->len > 0 && !log->failed && waited < 2000; waited += 50) {
			accesslog_flush(log);
			struct pollfd p = {.fd = log->fd, .events = POLLOUT};
			if (log->len > 0)
				(void)poll(&p, 1, 50);
		}
	} else {
		/* At exit a blocking write is fine: nothing else is waiting. */
		int flags = fcntl(log->fd, F_GETFL);
		if (flags >= 0 && (flags & O_NONBLOCK))
			(void)fcntl(log->fd, F_SETFL, flags & ~O_NONBLOCK);
	}
	accesslog_flush(log);
	close(log->fd);
	log->fd = -1;
}
