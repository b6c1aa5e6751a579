/* log.c - leveled error log: "TIME simple-http-server[PID]: LEVEL: message". */
#include "log.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include "config.h"

static enum log_level current = LOG_LEVEL_INFO;

/* The error log file (log_open): its path, directory and name in it. */
static const char *file_path;
static const char *file_base;
static int file_dirfd = -1;

static unsigned long lost; /* lines a stalled reader did not take */

void
log_set_level(enum log_level level)
{
	current = level;
}

int
log_dir_open(const char *path, const char **base)
{
	const char *slash = strrchr(path, '/');
	*base = slash ? slash + 1 : path;
	if (**base == '\0')
		return -EISDIR;
	char dir[PATH_MAX] = ".";
	if (slash) {
		size_t n = (size_t)(slash - path);
		if (n >= sizeof dir)
			return -ENAMETOOLONG;
		memcpy(dir, path, n ? n : 1); /* "/name": the root */
		dir[n ? n : 1] = '\0';
	}
	int fd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
	return fd >= 0 ? fd : -errno;
}

static int
open_onto_stderr(void)
{
	int fd = openat(file_dirfd, file_base, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOCTTY,
	                0644);
	if (fd < 0)
		return -errno;
	int r = dup2(fd, STDERR_FILENO) < 0 ? -errno : 0;
	close(fd);
	return r;
}

int
log_open(const char *path)
{
	const char *base;
	int dirfd = log_dir_open(path, &base);
	if (dirfd < 0)
		return dirfd;
	if (file_dirfd >= 0)
		close(file_dirfd);
	file_path = path;
	file_base = base;
	file_dirfd = dirfd;
	return open_onto_stderr();
}

int
log_reopen(void)
{
	if (file_dirfd < 0)
		return 0;
	int r = open_onto_stderr();
	return r < 0 ? r : 1;
}

const char *
log_file(void)
{
	return file_path;
}

int
log_enabled(enum log_level level)
{
	return level <= current;
}

/* Per-call non-blocking writes (the description is shared with whoever
 * started us, so its O_NONBLOCK flag is left alone): send(MSG_DONTWAIT) on
 * a socket, pwritev2(RWF_NOWAIT) on a pipe, a plain write otherwise (a file,
 * a terminal, or a kernel without RWF_NOWAIT for pipes). stderr is looked at
 * for every line (an fstat is cheap next to a log line): --daemon and
 * log_open replace it. */
static ssize_t
put_line(const char *line, size_t n)
{
	struct stat st;
	if (fstat(STDERR_FILENO, &st) != 0)
		st.st_mode = 0;
	if (S_ISSOCK(st.st_mode))
		return send(STDERR_FILENO, line, n, MSG_DONTWAIT | MSG_NOSIGNAL);
	if (S_ISFIFO(st.st_mode)) {
		struct iovec v = {.iov_base = (void *)line, .iov_len = n};
		ssize_t w = pwritev2(STDERR_FILENO, &v, 1, -1, RWF_NOWAIT);
		if (w >= 0 || (errno != EOPNOTSUPP && errno != EINVAL))
			return w;
	}
	return write(STDERR_FILENO, line, n);
}

static void
vlog(enum log_level level, const char *fmt, va_list ap)
{
	static const char *const names[] = {
	    [LOG_LEVEL_ERROR] = "error",
	    [LOG_LEVEL_WARN] = "warning",
	    [LOG_LEVEL_INFO] = "info",
	    [LOG_LEVEL_DEBUG] = "debug",
	};
	int saved = errno;
	if (level <= current) {
		char stamp[32] = "";
		struct timespec ts;
		struct tm tm;
		if (clock_gettime(CLOCK_REALTIME, &ts) == 0 && gmtime_r(&ts.tv_sec, &tm))
			strftime(stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%SZ", &tm);
		char line[1024];
		int n = snprintf(line, sizeof line, "%s %s[%ld]: %s: ", stamp, SHS_NAME,
		                 (long)getpid(), names[level]);
		if (n > 0 && (size_t)n < sizeof line) {
			if (lost) {
				char note[160];
				int k = snprintf(
				    note, sizeof note,
				    "%s %s[%ld]: warning: %lu error log line%s dropped "
				    "(reader not keeping up)\n",
				    stamp, SHS_NAME, (long)getpid(), lost, lost == 1 ? "" : "s");
				if (k > 0 && (size_t)k < sizeof note &&
				    put_line(note, (size_t)k) == k)
					lost = 0;
			}
			int m = vsnprintf(line + n, sizeof line - (size_t)n, fmt, ap);
			if (m > 0)
				n += m;
			if ((size_t)n >= sizeof line - 1)
				n = sizeof line - 2;
			line[n++] = '\n';
			/* One write per line so lines from a crash-loop or several
			 * instances never interleave mid-line. */
			if (put_line(line, (size_t)n) < 0 &&
			    (errno == EAGAIN || errno == EWOULDBLOCK))
				lost++;
		}
	}
	errno = saved;
}

#define DEFINE_LOG(fn, level)                                                                      \
	void fn(const char *fmt, ...)                                                              \
	{                                                                                          \
		va_list ap;                                                                        \
		va_start(ap, fmt);                                                                 \
		vlog(level, fmt, ap);                                                              \
		va_end(ap);                                                                        \
	}

DEFINE_LOG(log_error, LOG_LEVEL_ERROR)
DEFINE_LOG(log_warn, LOG_LEVEL_WARN)
DEFINE_LOG(log_info, LOG_LEVEL_INFO)
DEFINE_LOG(log_debug, LOG_LEVEL_DEBUG)
