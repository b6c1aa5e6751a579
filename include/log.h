/* log.h - leveled error log on stderr. Every function keeps errno intact so a
 * log call between a syscall and its errno check cannot change the cause.
 *
 * A line is one write and never blocks the loop for long: on a socket
 * (journald) or pipe whose reader stopped, it is dropped and counted, and
 * the count goes out with the next line that gets through. */
#ifndef SHS_LOG_H
#define SHS_LOG_H

enum log_level {
	LOG_LEVEL_ERROR,
	LOG_LEVEL_WARN,
	LOG_LEVEL_INFO,
	LOG_LEVEL_DEBUG,
};

void log_set_level(enum log_level level);

/* Sends the error log to path (appending) instead of stderr, by dup2 onto
 * fd 2 so that anything else written to stderr lands there too. The file's
 * directory stays open, so log_reopen works after chroot. Returns 0 or
 * -errno. */
int log_open(const char *path);

/* Reopens the file of log_open by name (after a rotation). Returns 1 if
 * reopened, 0 if there is no error log file, or -errno (the old file is
 * kept). */
int log_reopen(void);

/* The path given to log_open, or NULL. */
const char *log_file(void);

/* Opens the directory part of path (O_PATH, close-on-exec) and points
 * *base at the last component of path. Returns the fd or -errno. */
int log_dir_open(const char *path, const char **base);

int log_enabled(enum log_level level);

void log_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
