/* harness.h - what the integration suites need to drive the real binary:
 * temporary document roots, starting and stopping SHS_BIN (with options:
 * environment, RLIMIT_NOFILE, a passed listening socket, failing starts),
 * raw client sockets with receive timeouts, an HTTP/1.1 response reader
 * strict enough to assert exact bytes, and polling helpers with deadlines.
 *
 * Time: every timeout_ms argument of a harness function is nominal: the
 * harness multiplies it by h_time_scale() (SHS_TEST_TIME_SCALE, default 1;
 * `make asan` sets 3), so a loaded or sanitized run gets more time without
 * editing the tests; Check's per-test timeouts get the same multiplier
 * (h_scale_check_timeouts). Arguments named deadline are absolute h_now_ms() times
 * and are not scaled again: build them with h_now_ms() + h_ms(x). Suites
 * scale their own limits with h_ms() too. Never a fixed sleep before an
 * assertion: poll for something observable (h_poll, h_wait_file_*,
 * h_settled_fds, h_wait_closed, ...).
 *
 * The code is in tests/check_harness.c: the Makefile links every
 * tests/check_*.c into the runner, and that file defines no suite.
 * Helpers that cannot go on report through ck_abort_msg, so they also work in
 * an unchecked fixture (Check then fails the tests of that TCase). */
#ifndef SHS_TESTS_HARNESS_H
#define SHS_TESTS_HARNESS_H

#include <check.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/types.h>

/* A hung server fails the test after this long (scaled by h_ms) instead of
 * hanging the run. */
#define H_RECV_TIMEOUT_MS 5000

/* ---- time ---- */

/* CLOCK_MONOTONIC in ms. */
uint64_t h_now_ms(void);
/* SHS_TEST_TIME_SCALE (a number > 0, read once; default 1). */
double h_time_scale(void);
/* ms * h_time_scale(), rounded up: every deadline and time limit. */
int h_ms(int ms);
/* Sets CK_TIMEOUT_MULTIPLIER to h_time_scale() unless it is set already, so
 * Check's per-test timeouts (its 4 s default and every tcase_set_timeout)
 * scale too. The runner calls it before creating any suite. */
void h_scale_check_timeouts(void);
/* Sleeps ms, unscaled. Only for pacing a scenario (a slow reader, a
 * trickling writer, a poll interval), never to wait for a result. */
void h_sleep_ms(unsigned ms);
/* Calls cond(arg) until it returns non-zero or timeout_ms passes: the ms it
 * took (>= 0), or -1 on timeout. Checks first, then every 5 ms. */
long h_poll(int (*cond)(void *arg), void *arg, int timeout_ms);
/* One datagram from a fake NOTIFY_SOCKET (fd, bound with SO_PASSCRED) into
 * buf (NUL-terminated), the sender's pid in *sender (-1 without
 * credentials). Its length, or -1 if none came within timeout_ms (not
 * scaled: pass h_ms(...)). */
ssize_t h_recv_notify(int fd, char *buf, size_t cap, pid_t *sender, int timeout_ms);

/* Every file the harness writes gets this mtime, so Last-Modified is known. */
#define H_MTIME 1700000000
#define H_MTIME_IMF "Tue, 14 Nov 2023 22:13:20 GMT"

/* ---- document roots ---- */

/* mkdtemp("/tmp/shs-test-XXXXXX"); the caller frees the path. */
char *h_mkdtemp(void);
/* base/rel with its parent directories, the content, and mtime H_MTIME. */
void h_write_file(const char *base, const char *rel, const void *data, size_t len);
void h_write_str(const char *base, const char *rel, const char *text);
void h_mkdir(const char *base, const char *rel);
void h_symlink(const char *base, const char *rel, const char *target);
void h_mkfifo(const char *base, const char *rel);
/* Sets base/rel's mtime (and atime), not following a symlink. */
void h_set_mtime(const char *base, const char *rel, long long sec, long nsec);
/* size bytes of a pseudo-random (splitmix64) pattern: no two 8-byte words
 * alike, so a resend from the wrong offset cannot compare equal. */
void h_write_pattern(const char *base, const char *rel, size_t size);
/* The whole of base/rel; the caller frees it. */
unsigned char *h_slurp(const char *base, const char *rel, size_t *len);
/* The whole file at path, NUL-terminated (caller frees; len may be NULL), or
 * NULL if it cannot be opened (errno set). Reads to EOF, so /proc files
 * work too. */
char *h_read_file(const char *path, size_t *len);
/* rm -rf that never follows symlinks. */
void h_rmtree(const char *path);

/* ---- the server process ---- */

struct h_server {
	pid_t pid;
	int port;
	int out_fd; /* read end of the server's stdout */
};

/* How h_server_start_ex starts the server. Zero-initialize, then set. */
struct h_start {
	const char *bin;         /* NULL: $SHS_BIN */
	const char *root;        /* "--top-dir ROOT --port 0" first; NULL: neither */
	const char *const *args; /* then these (NULL-ended; may be NULL) */
	const char *log_path;    /* stderr is appended there (required) */
	const char *const *env;  /* "NAME=value" entries set for the server */
	unsigned long nofile;    /* > 0: its RLIMIT_NOFILE, soft = hard */
	int listen_fd;           /* > 0: passed as fd 3 with LISTEN_FDS=1 and
	                          * LISTEN_PID, as systemd does */
	int no_wait;             /* 1: return once started, without reading the
	                          * startup line (a start expected to fail, or one
	                          * the test watches itself); port is then -1 */
	const char *host;        /* host of the startup line; NULL: 127.0.0.1 */
	int out_fd, line_fd;     /* out_fd > 0: the server's stdout (a socket or
	                          * pipe end the test holds; closed here once the
	                          * server has it), line_fd the end the startup
	                          * line is read from (becomes s->out_fd); else a
	                          * pipe */
	const char *user;        /* run the server as this user, or NULL */
	const char *cwd;         /* its working directory, or NULL: ours */
};

/* $SHS_BIN, or NULL. */
const char *h_bin(void);
/* Starts SHS_BIN --top-dir ROOT --port 0 [extra...] (extra ends with NULL;
 * may be NULL) with stderr appended to log_path and waits for the startup
 * line "serving ROOT on http://127.0.0.1:PORT/". Returns 0, or -1 with err set. The
 * server gets SIGKILL if the process that started it dies. */
int h_server_start(struct h_server *s, const char *root, const char *log_path,
                   const char *const *extra, char *err, size_t errcap);
/* The same with options (h_server_start is this with root, extra and
 * log_path). Waits (15 s, scaled) for the exact line
 * "serving DIR on http://HOST:PORT/" (h_parse_listening) unless o->no_wait. 0, or -1 with err
 * (the server is then stopped). */
int h_server_start_ex(struct h_server *s, const struct h_start *o, char *err, size_t errcap);
/* SIGTERM, then waits up to timeout_ms (SIGKILL after that). Returns the wait
 * status, or -1 if the server had to be killed. */
int h_server_stop(struct h_server *s, int timeout_ms);
/* The same with another signal (SIGQUIT, SIGINT, ...). */
int h_server_stop_sig(struct h_server *s, int sig, int timeout_ms);
/* h_server_stop, then asserts a clean exit (status 0), naming the status
 * and showing the tail of log when it was not. */
void h_server_stop_clean(struct h_server *s, const char *log, int timeout_ms);
/* One line (with its '\n') from fd within timeout_ms: its length, or -1
 * (buf then holds what came, NUL-terminated). Reads byte by byte, so
 * nothing after the line is consumed. */
int h_read_line(int fd, char *buf, size_t cap, int timeout_ms);
/* The port of a startup line, or -1: exactly "serving DIR on
 * http://HOST:PORT/\n" (the first) or "also on http://HOST:PORT/\n" (the
 * other listeners), either maybe with " (NOTE)" before the newline. */
int h_parse_listening(const char *line, const char *host);
/* waitpid with a deadline: 0 and *status, or -1 on timeout. */
int h_wait_exit(pid_t pid, int timeout_ms, int *status);
/* Whether pid is running (a zombie is not). */
int h_alive(pid_t pid);
/* Entries in /proc/PID/fd, or -1. */
int h_count_fds(pid_t pid);
/* Process state from /proc/PID/stat ('R', 'S', 'Z', ...), or 0 if gone. */
char h_proc_state(pid_t pid);
/* Whether one of pid's fds is open on exactly this path. */
int h_has_open(pid_t pid, const char *path);
/* Raises our soft RLIMIT_NOFILE to the hard limit and asserts it reaches
 * need (for tests that open hundreds of sockets). */
void h_raise_nofile(unsigned long need);

/* The fd count of pid once it has held still for a few samples, or as soon
 * as it equals want (want < 0: no target). */
int h_settled_fds(pid_t pid, int want, int timeout_ms);

/* "exit status 3", "killed by signal 9", ...; status -1 means the server
 * had to be killed after the wait. Returns buf. */
const char *h_describe_status(int status, char *buf, size_t cap);

/* Records that a server stopped badly in an unchecked teardown. Check
 * ignores failures there, so the process that recorded it (the runner)
 * prints a summary at exit and exits non-zero, after Check's own report;
 * forked test processes inherit the handler but are not the runner. */
void h_teardown_failed(const char *suite);
/* "3->socket:[123] 4->/tmp/x ..." for failure messages. */
void h_list_fds(pid_t pid, char *buf, size_t cap);
/* The last cap-1 bytes of a file (a server log) as a string. */
void h_tail_file(const char *path, char *buf, size_t cap);
/* The last 4 KiB of a server's log on stderr, under a "--- server log
 * (tail) ---" line; nothing when it is empty or missing. */
void h_print_log_tail(const char *path);
/* Polls the file until it holds needle / at least n lines: the ms it took,
 * or -1 after timeout_ms. A missing file holds nothing. */
long h_wait_file_contains(const char *path, const char *needle, int timeout_ms);
long h_wait_file_lines(const char *path, size_t n, int timeout_ms);
/* Polls until path exists: the ms it took, or -1. */
long h_wait_exists(const char *path, int timeout_ms);
/* '\n' in s. */
size_t h_count_lines(const char *s);

/* Output of a finished run of SHS_BIN with the given arguments. */
struct h_run {
	int status; /* wait status */
	char out[8192];
	size_t out_len;
	char err[8192];
	size_t err_len;
	pid_t pid; /* of the process that ran (h_run_ex) */
	long ms;   /* until it exited (h_run_ex) */
};
/* argv excludes argv[0] and ends with NULL. 0, or -1 if it did not exit in
 * timeout_ms (it is killed). */
int h_run_cli(const char *const *args, struct h_run *r, int timeout_ms);
/* Like h_run_cli, but done when the process exits (then whatever its pipes
 * hold is read without waiting), so a --daemon whose grandchild keeps a
 * pipe open cannot stall it. bin NULL: SHS_BIN; env: "NAME=value" entries
 * (may be NULL). */
int h_run_ex(const char *bin, const char *const *args, const char *const *env, struct h_run *r,
             int timeout_ms);

/* ---- client sockets ---- */

/* TCP to 127.0.0.1:port with SO_RCVTIMEO/SO_SNDTIMEO of H_RECV_TIMEOUT_MS
 * and TCP_NODELAY; rcvbuf > 0 sets SO_RCVBUF before connecting. -1 on
 * failure (errno set). */
int h_connect(int port, int rcvbuf);
/* The same to ::1 (family AF_INET6) or 127.0.0.1 (AF_INET). */
int h_connect_family(int family, int port, int rcvbuf);
/* A listening TCP socket of ours on 127.0.0.1, port 0 (asserts); *port gets
 * its port. For socket activation, or to hold a port busy. */
int h_listen_socket(int *port);
/* A non-blocking socket connecting to 127.0.0.1:port (the connect may be
 * in progress: wait for POLLOUT, then SO_ERROR), for tests that drive many
 * clients from one poll loop. Not tracked: close() it. -1 with errno. */
int h_connect_nb(int port);
/* Aborts a connection: SO_LINGER 0, so close() sends an RST. */
void h_reset_close(int fd);
/* Waits until the peer closes a socket we do not write to: the ms since
 * `since` when recv said EOF or reset; -1 if bytes came (*got counts them)
 * or nothing happened before deadline (absolute h_now_ms() times). */
long h_wait_closed(int fd, uint64_t since, uint64_t deadline, size_t *got);
/* Closes a socket from h_connect. */
void h_close(int fd);
/* Closes every h_connect socket still open: with CK_FORK=no a failed test
 * does not exit, and its sockets would stay open in the server too. */
void h_close_all(void);
/* Sends everything; 0, or -errno. Never raises SIGPIPE. */
int h_send_all(int fd, const void *buf, size_t len);

/* A connection with a read buffer, so pipelined responses can be split. */
#define H_CONN_BUF 16384
struct h_conn {
	int fd;
	size_t off, len;
	unsigned char buf[H_CONN_BUF];
};

/* Reader results. */
enum {
	H_OK = 0,
	H_EOF = -1,     /* orderly close before the first byte of a response */
	H_TIMEOUT = -2, /* nothing for H_RECV_TIMEOUT_MS */
	H_RESET = -3,   /* ECONNRESET or another socket error */
	H_BAD = -4,     /* not a well-formed response (see h_resp.err) */
};
const char *h_strerror(int rc);

void h_conn_open(struct h_conn *c, int port); /* asserts the connect */
/* h_conn_open with a family (AF_INET, AF_INET6) and SO_RCVBUF (0: default). */
void h_conn_open_ex(struct h_conn *c, int family, int port, int rcvbuf);
/* Wraps an fd we already have (h_conn_close closes it). */
void h_conn_attach(struct h_conn *c, int fd);
void h_conn_close(struct h_conn *c);
/* Asserting send of a whole string / buffer. */
void h_conn_send(struct h_conn *c, const char *s);
void h_conn_send_buf(struct h_conn *c, const void *buf, size_t len);
/* Exactly n bytes (buffered first): H_OK, H_EOF, H_TIMEOUT or H_RESET. */
int h_read_exact(struct h_conn *c, void *dst, size_t n);
/* Up to cap bytes (buffered first): > 0, or 0 at EOF, or an H_ error. */
long h_read_some(struct h_conn *c, void *dst, size_t cap);
/* Reads until the peer closes. H_OK if it closed (EOF or reset) with no
 * bytes before that, H_BAD if bytes came (*extra counts them), H_TIMEOUT if
 * it stayed open. */
int h_expect_close(struct h_conn *c, size_t *extra);

#define H_MAX_HEADERS 64
struct h_header {
	const char *name;
	const char *value; /* optional whitespace trimmed */
};
struct h_resp {
	char status_line[256]; /* without CRLF */
	int status;
	char *head; /* copy of the head the header slices point into */
	size_t nhdr;
	struct h_header hdr[H_MAX_HEADERS];
	unsigned char *body; /* NUL-terminated for convenience */
	size_t body_len;
	char err[512];
};

/* Status line and headers only: the body is left on the connection. */
int h_read_head(struct h_conn *c, struct h_resp *r);
/* A whole response: the head, then exactly Content-Length body bytes unless
 * no_body (HEAD). A missing or malformed Content-Length is H_BAD. */
int h_read_response(struct h_conn *c, struct h_resp *r, int no_body);
void h_resp_free(struct h_resp *r);
/* A response framed as RFC 9112 6.3 says: no body after HEAD (head_request)
 * or for 1xx, 204 and 304, else Content-Length bytes, else up to EOF. */
int h_read_framed(struct h_conn *c, struct h_resp *r, int head_request);
/* Parses the response head at the start of buf (len bytes): H_OK and
 * *head_len (through the blank line), or H_BAD (no complete head, or a
 * malformed one; see r->err). h_resp_free after either. */
int h_parse_head(const void *buf, size_t len, struct h_resp *r, size_t *head_len);
/* Content-Length as a number, or -1 if absent or malformed. */
long long h_content_length(const struct h_resp *r);
/* Whether the response says Connection: close. */
int h_says_close(const struct h_resp *r);
/* One request (len bytes of raw) on a new connection, read with
 * h_read_framed (HEAD if raw starts with "HEAD "). until_close: then the
 * server must close with no byte more. Asserts all of that. */
void h_exchange(int port, const void *raw, size_t len, int until_close, struct h_resp *r);
/* "METHOD TARGET HTTP/1.1" with Host, Connection: close and the given header
 * lines (each ending in CRLF; may be NULL), through h_exchange until the
 * close. */
void h_fetch(int port, const char *method, const char *target, const char *headers,
             struct h_resp *r);
/* The body as a C string (h_read_response NUL-terminates it). */
#define H_TEXT(r) ((const char *)(r)->body)
/* Value of the first header with that name (case-insensitive), or NULL. */
const char *h_header(const struct h_resp *r, const char *name);
int h_header_count(const struct h_resp *r, const char *name);
/* Whether s is an IMF-fixdate ("Sun, 06 Nov 1994 08:49:37 GMT") naming a real
 * day; *t gets the time. */
int h_imf_date(const char *s, long long *t);

/* ---- assertions (macros, so failures name the test's line) ---- */

#define H_ASSERT_RC(rc, r)                                                                         \
	ck_assert_msg((rc) == H_OK, "reading response: %s %s", h_strerror(rc), (r)->err)

#define H_ASSERT_STATUS(r, line)                                                                   \
	ck_assert_msg(strcmp((r)->status_line, (line)) == 0,                                       \
	              "status line: expected '%s', got '%s'", (line), (r)->status_line)

/* The status code only. */
#define H_ASSERT_CODE(r, code)                                                                     \
	ck_assert_msg((r)->status == (code), "status %d, want %d ('%s')", (r)->status, (code),     \
	              (r)->status_line)

/* Exactly one header of that name, with exactly that value. */
#define H_ASSERT_HEADER(r, name, want)                                                             \
	do {                                                                                       \
		int n_ = h_header_count((r), (name));                                              \
		const char *v_ = h_header((r), (name));                                            \
		ck_assert_msg(n_ == 1, "%s: header %s appears %d times", (r)->status_line, (name), \
		              n_);                                                                 \
		ck_assert_msg(strcmp(v_, (want)) == 0, "%s: header %s: expected '%s', got '%s'",   \
		              (r)->status_line, (name), (want), v_);                               \
	} while (0)

#define H_ASSERT_NO_HEADER(r, name)                                                                \
	ck_assert_msg(h_header((r), (name)) == NULL, "%s: unexpected header %s: %s",               \
	              (r)->status_line, (name), h_header((r), (name)))

#define H_ASSERT_BODY(r, data, n)                                                                  \
	do {                                                                                       \
		size_t want_ = (n);                                                                \
		ck_assert_msg((r)->body_len == want_, "%s: body length: expected %zu, got %zu",    \
		              (r)->status_line, want_, (r)->body_len);                             \
		ck_assert_msg(memcmp((r)->body, (data), want_) == 0,                               \
		              "%s: body differs: got '%.200s'", (r)->status_line, (r)->body);      \
	} while (0)

/* The body is exactly the string s. */
#define H_ASSERT_TEXT(r, s) H_ASSERT_BODY((r), (s), strlen(s))

/* The server closes the connection with no bytes after the last response. */
#define H_ASSERT_CLOSED(c)                                                                         \
	do {                                                                                       \
		size_t extra_ = 0;                                                                 \
		int rc_ = h_expect_close((c), &extra_);                                            \
		ck_assert_msg(rc_ == H_OK, "expected the server to close: %s (%zu extra bytes)",   \
		              h_strerror(rc_), extra_);                                            \
	} while (0)

/* ---- added for logs ---- */

/* How h_server_start_opts starts the server, beyond h_server_start. */
struct h_start_opts {
	/* The server's stdout, e.g. one end of a socketpair or a pipe the
	 * test holds (out_fd < 0: a pipe, as h_server_start). line_fd is
	 * where the startup line is read from (the other end); it becomes
	 * s->out_fd and h_server_stop closes it. */
	int out_fd, line_fd;
	/* Run the server as this user (setgid/setuid before exec); NULL: as
	 * we are. */
	const char *user;
	/* Extra "NAME=value" environment entries, NULL-terminated; or NULL. */
	const char *const *env;
};
/* h_server_start with those options. Returns 0, or -1 with err set. */
int h_server_start_opts(struct h_server *s, const char *root, const char *log_path,
                        const char *const *extra, const struct h_start_opts *o, char *err,
                        size_t errcap);
/* "ASAN_OPTIONS=<current>:detect_leaks=0" into buf: LeakSanitizer reads
 * /proc at exit, which a chroot hides. */
const char *h_env_no_leaks(char *buf, size_t cap);

#endif
