/* log.c - leveled error log: "TIME simple-http-server[PID]: LEVEL: message". */
#include "log.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <time.h>
#include <unistd.h>

#include "config.h"

static enum log_level current = LOG_LEVEL_INFO;

void
log_set_level(enum log_level level)
{
	current = level;
}

int
log_reopen(const char *path)
{
	int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOCTTY, 0644);
	if (fd < 0)
		return -errno;
	int r = dup2(fd, STDERR_FILENO) < 0 ? -errno : 0;
	close(fd);
	return r;
}

int
log_enabled(enum log_level level)
{
	return level <= current;
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
			int m = vsnprintf(line + n, sizeof line - (size_t)n, fmt, ap);
			if (m > 0)
				n += m;
			if ((size_t)n >= sizeof line - 1)
				n = sizeof line - 2;
			line[n++] = '\n';
			/* One write(2) per line so lines from a crash-loop or
			 * several instances never interleave mid-line. */
			ssize_t w = write(STDERR_FILENO, line, (size_t)n);
			(void)w;
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
