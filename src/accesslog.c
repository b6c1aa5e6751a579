/* accesslog.c - buffered access log. See accesslog.h.
 *
 * How each target is written without ever blocking the loop, and without
 * changing what other holders of the same open file description see (the
 * shell that started us, journald's other writers, our own --workers):
 *
 * - a file opened by path: our own description, opened O_NONBLOCK (a FIFO
 *   or terminal named on the command line cannot block us either);
 * - standard output that is a regular file: duplicated; a file write never
 *   waits for a reader, and "> log 2>&1" must keep sharing its offset;
 * - standard output that is a socket (journald under systemd): duplicated,
 *   and written with send(MSG_DONTWAIT), a per-call flag, so the shared
 *   description stays blocking for everyone else (our own stderr included);
 * - standard output that is a pipe, FIFO or terminal: reopened through
 *   /proc/self/fd/1 with O_NONBLOCK, a private description. When that is
 *   refused (a pipe owned by another user, no /proc), it is duplicated and
 *   written with pwritev2(RWF_NOWAIT), again a per-call flag. Only a kernel
 *   without RWF_NOWAIT for pipes (before 5.x) makes us set O_NONBLOCK on the
 *   shared description itself: the other holders would then see EAGAIN
 *   where they expected to wait, but the alternative is a server that stops
 *   for every client when the reader stops. The flag is put back at exit. */
#include "accesslog.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include "log.h"
#include "net.h"

_Static_assert(ACCESSLOG_LINE_MAX <= PIPE_BUF, "a line must be one atomic pipe write");
_Static_assert(64 + 5 + 32 + 2 + ACCESSLOG_REQUEST_MAX + 2 + 11 + 1 + 20 + 2 +
                       ACCESSLOG_REFERER_MAX + 3 + ACCESSLOG_UA_MAX + 1 + 1 <=
                   ACCESSLOG_LINE_MAX,
               "the longest fields must fit in one line");

static time_t
mono_sec(void)
{
	struct timespec ts;
	if (clock_gettime(CLOCK_MONOTONIC_COARSE, &ts) != 0)
		return 0;
	return ts.tv_sec;
}

/* Standard output, set up as the comment at the top says. */
static int
open_stdout(struct accesslog *log)
{
	struct stat st;
	if (fstat(STDOUT_FILENO, &st) != 0)
		return -errno;
	int fd = -1;
	if (S_ISSOCK(st.st_mode)) {
		log->mode = ACCESSLOG_SEND;
	} else if (!S_ISREG(st.st_mode)) {
		fd = open("/proc/self/fd/1",
		          O_WRONLY | O_APPEND | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
		log->mode = fd >= 0 ? ACCESSLOG_WRITE : ACCESSLOG_RWF_NOWAIT;
	}
	if (fd < 0)
		fd = fcntl(STDOUT_FILENO, F_DUPFD_CLOEXEC, 3);
	if (fd < 0)
		return -errno;
	log->fd = fd;
	return 0;
}

static int
open_file(struct accesslog *log)
{
	int fd = openat(log->dirfd, log->base,
	                O_WRONLY | O_APPEND | O_CREAT | O_NONBLOCK | O_CLOEXEC | O_NOCTTY, 0644);
	return fd >= 0 ? fd : -errno;
}

int
accesslog_open(struct accesslog *log, const char *path, int combined)
{
	memset(log, 0, offsetof(struct accesslog, buf));
	log->fd = log->dirfd = log->restore_flags = -1;
	log->combined = combined;
	if (strcmp(path, "-") == 0)
		return open_stdout(log);
	log->path = path;
	/* The directory stays open so that a reopen after chroot (or after
	 * --daemon's chdir with a relative path) finds the same place. */
	int dirfd = log_dir_open(path, &log->base);
	if (dirfd < 0)
		return dirfd;
	log->dirfd = dirfd;
	int fd = open_file(log);
	if (fd < 0) {
		close(log->dirfd);
		log->dirfd = -1;
		return fd;
	}
	log->fd = fd;
	log->mode = ACCESSLOG_WRITE;
	return 0;
}

void
accesslog_disable(struct accesslog *log)
{
	memset(log, 0, offsetof(struct accesslog, buf));
	log->fd = log->dirfd = log->restore_flags = -1;
}

static ssize_t
put_out(struct accesslog *log, const char *p, size_t n)
{
	switch (log->mode) {
	case ACCESSLOG_SEND:
		return send(log->fd, p, n, MSG_DONTWAIT | MSG_NOSIGNAL);
	case ACCESSLOG_RWF_NOWAIT: {
		struct iovec v = {.iov_base = (void *)p, .iov_len = n};
		return pwritev2(log->fd, &v, 1, -1, RWF_NOWAIT);
	}
	case ACCESSLOG_WRITE:
		break;
	}
	return write(log->fd, p, n);
}

/* No RWF_NOWAIT for this fd on this kernel: the last resort described at
 * the top of the file. */
static int
set_nonblock(struct accesslog *log)
{
	int fl = fcntl(log->fd, F_GETFL);
	if (fl < 0)
		return -errno;
	if (!(fl & O_NONBLOCK)) {
		if (fcntl(log->fd, F_SETFL, fl | O_NONBLOCK) != 0)
			return -errno;
		log->restore_flags = fl;
		log_warn("access log: stdout cannot be written without blocking otherwise; "
		         "set O_NONBLOCK on it (shared with the processes that share stdout)");
	}
	log->mode = ACCESSLOG_WRITE;
	return 0;
}

static void
report_drops(struct accesslog *log, int final)
{
	if (log->dropped == 0)
		return;
	time_t now = mono_sec();
	if (!final && log->drop_report != 0 && now - log->drop_report < ACCESSLOG_DROP_REPORT_S)
		return;
	log_warn("access log: %lu line%s dropped (reader not keeping up)", log->dropped,
	         log->dropped == 1 ? "" : "s");
	log->dropped = 0;
	log->drop_report = now ? now : 1;
}

/* Bytes to hand over at once from off: for a shared pipe or socket, whole
 * lines of at most PIPE_BUF bytes, so writers never interleave mid-line. */
static size_t
chunk(const struct accesslog *log, size_t off)
{
	size_t want = log->len - off;
	if (!log->shared || want <= PIPE_BUF)
		return want;
	want = PIPE_BUF;
	while (want > 0 && log->buf[off + want - 1] != '\n')
		want--;
	if (want == 0) { /* cannot happen: lines are shorter than PIPE_BUF */
		const char *nl = memchr(log->buf + off, '\n', log->len - off);
		want = nl ? (size_t)(nl - (log->buf + off)) + 1 : log->len - off;
	}
	return want;
}

void
accesslog_flush(struct accesslog *log)
{
	size_t off = 0;
	while (off < log->len) {
		ssize_t n = put_out(log, log->buf + off, chunk(log, off));
		if (n > 0) {
			off += (size_t)n;
			log->failed = 0;
			continue;
		}
		if (n == 0)
			break; /* took nothing: try again later */
		if (errno == EINTR)
			continue;
		if (errno == EAGAIN || errno == EWOULDBLOCK)
			break; /* keep the rest for the next iteration */
		if (log->mode == ACCESSLOG_RWF_NOWAIT && (errno == EOPNOTSUPP || errno == EINVAL) &&
		    set_nonblock(log) == 0)
			continue;
		if (!log->failed)
			log_error("access log %s: %s (lines are dropped until it works again)",
			          log->path ? log->path : "stdout", strerror(errno));
		log->failed = 1;
		off = log->len;
	}
	memmove(log->buf, log->buf + off, log->len - off);
	log->len -= off;
	report_drops(log, 0);
}

/* ---- formatting ---- */

struct out {
	char *p;
	size_t len, cap;
};

static void
put(struct out *o, const char *s, size_t n)
{
	if (n > o->cap - o->len) /* cannot happen: every field is bounded */
		n = o->cap - o->len;
	memcpy(o->p + o->len, s, n);
	o->len += n;
}

static size_t
escaped_len(unsigned char c)
{
	return (c < 0x20 || c >= 0x7f || c == '"' || c == '\\') ? 4 : 1;
}

/* A quoted field's contents: '"', '\\', controls and bytes >= 0x7f become
 * \xHH; empty is "-". Longer than max escaped bytes, it is cut at a whole
 * character and ends in "...", so what follows it is never lost. */
static void
put_field(struct out *o, const char *s, size_t n, size_t max)
{
	static const char hex[] = "0123456789ABCDEF";
	if (n == 0) {
		put(o, "-", 1);
		return;
	}
	size_t total = 0;
	for (size_t i = 0; i < n && total <= max; i++)
		total += escaped_len((unsigned char)s[i]);
	size_t budget = total <= max ? max : max - 3;
	size_t used = 0;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		size_t k = escaped_len(c);
		if (used + k > budget)
			break;
		used += k;
		if (k == 4) {
			char esc[4] = {'\\', 'x', hex[c >> 4], hex[c & 15]};
			put(o, esc, 4);
		} else {
			put(o, (const char *)&c, 1);
		}
	}
	if (total > max)
		put(o, "...", 3);
}

size_t
accesslog_format(char *dst, size_t cap, const char *stamp, int combined,
                 const struct accesslog_entry *e)
{
	struct out o = {.p = dst, .cap = cap};
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
	put(&o, host, strlen(host));
	put(&o, " - - ", 5);
	put(&o, stamp, strnlen(stamp, 31));
	put(&o, " \"", 2);
	put_field(&o, e->request, e->request_len, ACCESSLOG_REQUEST_MAX);
	int n = snprintf(num, sizeof num, "\" %d %llu", e->status, (unsigned long long)e->bytes);
	put(&o, num, (size_t)n);
	if (combined) {
		put(&o, " \"", 2);
		put_field(&o, e->referer, e->referer_len, ACCESSLOG_REFERER_MAX);
		put(&o, "\" \"", 3);
		put_field(&o, e->user_agent, e->user_agent_len, ACCESSLOG_UA_MAX);
		put(&o, "\"", 1);
	}
	put(&o, "\n", 1);
	return o.len;
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
	char line[ACCESSLOG_LINE_MAX];
	size_t len = accesslog_format(line, sizeof line, log->stamp, log->combined, e);
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
	int fd = open_file(log);
	if (fd < 0)
		return fd; /* keep writing to the old file */
	close(log->fd);
	log->fd = fd;
	log->failed = 0;
	return 1;
}

void
accesslog_close(struct accesslog *log)
{
	if (log->fd < 0)
		return;
	/* Wait for room, bounded: a reader that never reads costs the last
	 * lines, not a hang at exit. */
	for (int waited = 0; log->len > 0 && !log->failed && waited < 2000; waited += 50) {
		accesslog_flush(log);
		struct pollfd p = {.fd = log->fd, .events = POLLOUT};
		if (log->len > 0)
			(void)poll(&p, 1, 50);
	}
	for (size_t i = 0; i < log->len; i++)
		log->dropped += log->buf[i] == '\n';
	log->len = 0;
	report_drops(log, 1);
	/* Only the last holder puts the flag back (see main for --workers). */
	if (log->restore_flags >= 0 && !log->shared)
		(void)fcntl(log->fd, F_SETFL, log->restore_flags);
	close(log->fd);
	if (log->dirfd >= 0)
		close(log->dirfd);
	log->fd = log->dirfd = -1;
}

/* SIGHUP/SIGUSR1 after logrotate moved the files. Each file is reopened by
 * name in its directory, kept open since before any chroot; a reopen that
 * fails is reported and the old file kept, and only what was reopened is
 * said to be. */
void
accesslog_reopen_all(struct accesslog *log)
{
	int ra = accesslog_reopen(log);
	if (ra < 0)
		log_error("reopening access log %s: %s (still writing to the old file)", log->path,
		          strerror(-ra));
	int re = log_reopen();
	if (re < 0)
		log_error("reopening error log %s: %s (still writing to the old file)", log_file(),
		          strerror(-re));
	if (ra > 0 && re > 0)
		log_info("log files reopened");
	else if (ra > 0)
		log_info("access log reopened");
	else if (re > 0)
		log_info("error log reopened");
	else if (ra == 0 && re == 0)
		log_debug("no log file to reopen");
}
