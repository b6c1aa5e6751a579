/* check_logs.c - the logs and daemon operation of issue 11: a log reader that
 * stops does not stop the server (socket and pipe on stdout), long access-log
 * lines keep their status and byte count, --daemon --chroot detaches, SIGHUP
 * reopens both logs under --chroot (and --user), the pidfile goes at SIGTERM,
 * and the logrotate file is installed and works.
 *
 * Servers run on 127.0.0.1 port 0 through the harness and are stopped by
 * pid; a daemon is made our child (PR_SET_CHILD_SUBREAPER) and stopped by the
 * pid in its pidfile before anything is asserted. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "accesslog.h"
#include "harness.h"
#include "suites.h"

/* Every wait gives up after this long (ASan on a loaded 2-core machine). */
#define L_TIMEOUT_MS 15000
#define L_STOP_MS 10000

#define X_BODY "hello, logs\n"

#define now_ms() ((long long)h_now_ms())

static void
join(char *dst, const char *dir, const char *name)
{
	int n = snprintf(dst, PATH_MAX, "%s/%s", dir, name);
	ck_assert(n > 0 && n < PATH_MAX);
}

static int
is_root(void)
{
	return geteuid() == 0;
}

/* The file holds needle within timeout_ms (scaled): the harness polls. */
#define wait_contains(path, needle, ms) (h_wait_file_contains((path), (needle), (ms)) >= 0)

/* One GET on a fresh connection; the status. */
static int
get_status(int port, const char *target)
{
	struct h_conn *c = malloc(sizeof *c);
	ck_assert(c != NULL);
	h_conn_open(c, port);
	char req[512];
	snprintf(req, sizeof req, "GET %s HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n",
	         target);
	h_conn_send(c, req);
	struct h_resp r;
	int rc = h_read_response(c, &r, 0);
	H_ASSERT_RC(rc, &r);
	int status = r.status;
	h_resp_free(&r);
	h_conn_close(c);
	free(c);
	return status;
}

static void
stop_clean(struct h_server *s)
{
	char buf[64];
	int st = h_server_stop(s, L_STOP_MS);
	ck_assert_msg(st >= 0 && WIFEXITED(st) && WEXITSTATUS(st) == 0,
	              "server did not stop cleanly: %s", h_describe_status(st, buf, sizeof buf));
}

/* ---- 2: a log reader that stops does not stop the server ---- */

#define STALL_REQUESTS 2000
#define STALL_CONNS 4

/* STALL_REQUESTS keep-alive GETs over STALL_CONNS connections, each with a
 * 300-byte User-Agent so the log fills fast; all must be 200. Returns ms. */
static long long
hammer(int port)
{
	static struct h_conn conns[STALL_CONNS];
	char ua[301];
	memset(ua, 'u', 300);
	ua[300] = '\0';
	char req[512];
	int n = snprintf(req, sizeof req,
	                 "GET /x.txt HTTP/1.1\r\nHost: t\r\nUser-Agent: %s\r\n\r\n", ua);
	ck_assert(n > 0 && (size_t)n < sizeof req);
	for (int i = 0; i < STALL_CONNS; i++)
		h_conn_open(&conns[i], port);
	long long t0 = now_ms();
	for (int i = 0; i < STALL_REQUESTS; i++) {
		struct h_conn *c = &conns[i % STALL_CONNS];
		h_conn_send(c, req);
		struct h_resp r;
		int rc = h_read_response(c, &r, 0);
		ck_assert_msg(rc == H_OK, "request %d of %d while the log reader is stopped: %s %s",
		              i + 1, STALL_REQUESTS, h_strerror(rc), r.err);
		H_ASSERT_STATUS(&r, "HTTP/1.1 200 OK");
		H_ASSERT_BODY(&r, X_BODY, strlen(X_BODY));
		h_resp_free(&r);
	}
	long long ms = now_ms() - t0;
	for (int i = 0; i < STALL_CONNS; i++)
		h_conn_close(&conns[i]);
	return ms;
}

/* _i: 0 stdout is a unix stream socket (journald), 1 a pipe, 2 a pipe owned
 * by another user than the server's (it cannot reopen it via /proc). The
 * test holds the other end and never reads after the startup line. */
START_TEST(test_log_stall)
{
	if (_i == 2 && !is_root())
		return; /* needs to start the server as another user */
	char *root = h_mkdtemp();
	ck_assert(chmod(root, 0755) == 0);
	h_write_str(root, "x.txt", X_BODY);
	char elog[PATH_MAX];
	join(elog, root, "error.log"); /* inside the top dir: harmless here */
	int fds[2];
	if (_i == 0) {
		ck_assert(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) == 0);
		int small = 4096; /* fills after a few lines, as a stopped journald */
		ck_assert(setsockopt(fds[1], SOL_SOCKET, SO_SNDBUF, &small, sizeof small) == 0);
	} else {
		ck_assert(pipe2(fds, O_CLOEXEC) == 0);
	}
	const char *extra[] = {"--access-log", "-", NULL};
	struct h_start_opts o = {
	    .out_fd = fds[1], .line_fd = fds[0], .user = _i == 2 ? "nobody" : NULL};
	struct h_server s;
	char err[512];
	ck_assert_msg(h_server_start_opts(&s, root, elog, extra, &o, err, sizeof err) == 0, "%s",
	              err);

	long long ms = hammer(s.port);
	/* The reader really is stuck: the log's buffer on our side is full. */
	int queued = 0;
	ck_assert(ioctl(s.out_fd, FIONREAD, &queued) == 0);
	ck_assert_msg(queued >= 1024, "only %d bytes wait in the log %s: it never filled", queued,
	              _i == 0 ? "socket" : "pipe");
	ck_assert_msg(wait_contains(elog, "lines dropped (reader not keeping up)", L_TIMEOUT_MS),
	              "no 'access log: N lines dropped' report in the error log");
	char tail[2048];
	h_tail_file(elog, tail, sizeof tail);
	ck_assert_msg(strstr(tail, "access log: ") != NULL, "error log: %s", tail);
	ck_assert_msg(ms < h_ms(60000), "%d requests took %lld ms with the log reader stopped",
	              STALL_REQUESTS, ms);
	ck_assert_int_eq(get_status(s.port, "/x.txt"), 200);
	stop_clean(&s); /* the exit does not hang on the full log either */
	h_rmtree(root);
	free(root);
}
END_TEST

/* ---- 7: long access-log lines keep their status ---- */

/* The line of the single request logged to path. */
static char *
log_one(const char *req, int *status)
{
	char *root = h_mkdtemp();
	h_write_str(root, "x.txt", X_BODY);
	char alog[PATH_MAX], elog[PATH_MAX];
	join(alog, root, "access.log");
	join(elog, root, "error.log");
	const char *extra[] = {"--access-log", alog, NULL};
	struct h_server s;
	char err[512];
	ck_assert_msg(h_server_start(&s, root, elog, extra, err, sizeof err) == 0, "%s", err);
	struct h_conn *c = malloc(sizeof *c);
	ck_assert(c != NULL);
	h_conn_open(c, s.port);
	h_conn_send(c, req);
	struct h_resp r;
	int rc = h_read_response(c, &r, 0);
	H_ASSERT_RC(rc, &r);
	*status = r.status;
	h_resp_free(&r);
	h_conn_close(c);
	free(c);
	ck_assert_msg(wait_contains(alog, "\n", L_TIMEOUT_MS), "no access log line");
	stop_clean(&s);
	char *text = h_read_file(alog, NULL);
	ck_assert(text != NULL);
	h_rmtree(root);
	free(root);
	return text;
}

/* Unescaped quotes in a line (escapes are \xHH, so every '"' is one). */
static int
count_quotes(const char *s)
{
	int n = 0;
	for (; *s; s++)
		n += *s == '"';
	return n;
}

/* _i: 0 a 7 KB request target; 1 a 3 KB target, Referer and User-Agent
 * (the whole head must stay under 8 KiB). */
START_TEST(test_log_long_line)
{
	size_t tlen = _i == 0 ? 7000 : 2500, hlen = _i == 0 ? 20 : 2500;
	char *target = malloc(tlen + 1), *ref = malloc(hlen + 1), *ua = malloc(hlen + 1);
	ck_assert(target && ref && ua);
	memcpy(target, "/x.txt?q=", 9);
	memset(target + 9, 'a', tlen - 9);
	target[tlen] = '\0';
	memset(ref, 'r', hlen);
	memcpy(ref, "http://r/", 9);
	ref[hlen] = '\0';
	memset(ua, 'u', hlen);
	ua[hlen] = '\0';
	if (_i == 0) {
		strcpy(ref, "http://ref.example/");
		strcpy(ua, "ua/1.0");
	}
	size_t cap = tlen + 2 * hlen + 256;
	char *req = malloc(cap);
	ck_assert(req != NULL);
	snprintf(req, cap,
	         "GET %s HTTP/1.1\r\nHost: t\r\nReferer: %s\r\nUser-Agent: %s\r\n"
	         "Connection: close\r\n\r\n",
	         target, ref, ua);
	int status = 0;
	char *text = log_one(req, &status);
	ck_assert_int_eq(status, 200);
	size_t len = strlen(text);
	ck_assert_msg(len > 0 && text[len - 1] == '\n' && strchr(text, '\n') == text + len - 1,
	              "expected one line, got %zu bytes", len);
	ck_assert_msg(len <= ACCESSLOG_LINE_MAX, "line of %zu bytes (max %d)", len,
	              ACCESSLOG_LINE_MAX);
	ck_assert_msg(count_quotes(text) == 6, "unbalanced quotes (%d) in '%.300s'",
	              count_quotes(text), text);
	ck_assert_msg(strstr(text, "\"GET /x.txt?q=aaaa") != NULL, "request line: '%.300s'", text);
	/* The end of the line: status, bytes, Referer and UA, each field either
	 * whole or cut with "...". */
	char want[512];
	if (_i == 0)
		snprintf(want, sizeof want, "...\" 200 %zu \"http://ref.example/\" \"ua/1.0\"\n",
		         strlen(X_BODY));
	else
		snprintf(want, sizeof want, "...\" 200 %zu \"http://r/rrrr", strlen(X_BODY));
	ck_assert_msg(strstr(text, want) != NULL, "expected '%s' in the line; its end: '%s'", want,
	              len > 400 ? text + len - 400 : text);
	if (_i == 1)
		ck_assert_msg(strstr(text, "rrr...\" \"uuuu") != NULL &&
		                  strcmp(text + len - 8, "uuu...\"\n") == 0,
		              "Referer/UA not cut with '...': end '%s'", text + len - 40);
	free(text);
	free(req);
	free(target);
	free(ref);
	free(ua);
}
END_TEST

/* accesslog_format from a table: fields exactly at their limit stay whole,
 * one byte more is cut with "...", and an escape is never split. */
START_TEST(test_log_format_limits)
{
	static char field[8192], line[ACCESSLOG_LINE_MAX];
	static const struct {
		size_t n;       /* bytes of the request field */
		char fill;      /* what they are */
		size_t escaped; /* expected escaped bytes before "..." (0: whole) */
	} cases[] = {
	    {ACCESSLOG_REQUEST_MAX, 'a', 0},
	    {ACCESSLOG_REQUEST_MAX + 1, 'a', ACCESSLOG_REQUEST_MAX - 3},
	    {ACCESSLOG_REQUEST_MAX / 4, '"', 0}, /* 4 escaped bytes each: exactly full */
	    {ACCESSLOG_REQUEST_MAX / 4 + 1, '"', (ACCESSLOG_REQUEST_MAX - 3) / 4 * 4},
	    {8000, '\x01', (ACCESSLOG_REQUEST_MAX - 3) / 4 * 4},
	};
	for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
		memset(field, cases[k].fill, cases[k].n);
		struct accesslog_entry e = {.request = field,
		                            .request_len = cases[k].n,
		                            .status = 206,
		                            .bytes = 12345678901ULL,
		                            .user_agent = field,
		                            .user_agent_len = cases[k].n};
		size_t len =
		    accesslog_format(line, sizeof line, "[01/Jan/2026:00:00:00 +0000]", 1, &e);
		ck_assert_msg(len <= sizeof line && line[len - 1] == '\n', "case %zu: length %zu",
		              k, len);
		line[len - 1] = '\0';
		const char *req = strstr(line, "] \"");
		ck_assert(req != NULL);
		req += 3;
		const char *endq = strstr(req, "\" 206 12345678901 \"-\" \"");
		ck_assert_msg(endq != NULL, "case %zu: status/bytes/referer lost: '%.200s'", k,
		              len > 200 ? line + len - 200 : line);
		size_t flen = (size_t)(endq - req);
		if (cases[k].escaped == 0) {
			ck_assert_msg(flen <= ACCESSLOG_REQUEST_MAX &&
			                  (flen < 3 || strcmp(req + flen - 3, "...") != 0 ||
			                   cases[k].fill == '.'),
			              "case %zu: field of %zu cut", k, flen);
		} else {
			ck_assert_msg(flen == cases[k].escaped + 3 &&
			                  strncmp(req + cases[k].escaped, "...", 3) == 0,
			              "case %zu: field of %zu bytes, expected %zu + '...'", k, flen,
			              cases[k].escaped);
		}
		ck_assert_msg(line[len - 2] == '"', "case %zu: UA not closed", k);
		ck_assert_int_eq(count_quotes(line), 6);
	}
}
END_TEST

/* ---- 4: --daemon --chroot detaches ---- */

static pid_t
read_pid(const char *pidfile)
{
	char *text = h_read_file(pidfile, NULL);
	pid_t pid = text ? (pid_t)atol(text) : 0;
	free(text);
	return pid;
}

/* SIGTERM to a daemon made our child; its wait status, or -1. */
static int
stop_daemon(pid_t pid)
{
	int status = -1;
	if (pid <= 0)
		return -1;
	kill(pid, SIGTERM);
	if (h_wait_exit(pid, L_STOP_MS, &status) != 0) {
		kill(pid, SIGKILL);
		(void)h_wait_exit(pid, 5000, &status);
		return -1;
	}
	return status;
}

START_TEST(test_daemon_chroot_detaches)
{
	ck_assert_msg(prctl(PR_SET_CHILD_SUBREAPER, 1) == 0, "prctl: %s", strerror(errno));
	char *dir = h_mkdtemp();
	char www[PATH_MAX], jail[PATH_MAX], pidfile[PATH_MAX];
	join(jail, dir, "jail"); /* no /dev in it; it holds the top dir */
	join(www, jail, "www");
	join(pidfile, dir, "shs.pid");
	h_write_str(dir, "jail/www/x.txt", X_BODY);
	char asan[512];
	const char *prev = getenv("ASAN_OPTIONS");
	char *saved = prev ? strdup(prev) : NULL;
	setenv("ASAN_OPTIONS", h_env_no_leaks(asan, sizeof asan) + strlen("ASAN_OPTIONS="), 1);
	char chroot_arg[PATH_MAX + 16];
	snprintf(chroot_arg, sizeof chroot_arg, "--chroot=%s", jail);
	const char *args[] = {"--daemon", chroot_arg, "--pidfile", pidfile,           "--top-dir",
	                      www,        "--port",   "0",         "--no-access-log", NULL};
	static struct h_run r;
	long long t0 = now_ms();
	int rc = h_run_cli(args, &r, 8000);
	long long ms = now_ms() - t0;
	if (saved) {
		setenv("ASAN_OPTIONS", saved, 1);
		free(saved);
	} else {
		unsetenv("ASAN_OPTIONS");
	}
	pid_t pid = read_pid(pidfile);
	int port = -1;
	port = h_parse_listening(r.out, "127.0.0.1");
	int served = rc == 0 && port > 0 ? get_status(port, "/x.txt") : -1;
	char link[PATH_MAX] = "";
	char proc[64];
	snprintf(proc, sizeof proc, "/proc/%ld/fd/1", (long)pid);
	ssize_t ln = pid > 0 ? readlink(proc, link, sizeof link - 1) : -1;
	link[ln > 0 ? ln : 0] = '\0';
	int st = stop_daemon(pid);
	char buf[64];
	ck_assert_msg(rc == 0,
	              "--daemon --chroot DIR (no /dev in DIR) did not return, or its stdout/"
	              "stderr pipes stayed open, for 8 s; stdout '%s' stderr '%s'",
	              r.out, r.err);
	ck_assert_msg(WIFEXITED(r.status) && WEXITSTATUS(r.status) == 0,
	              "--daemon exit: %s, stderr '%s'",
	              h_describe_status(r.status, buf, sizeof buf), r.err);
	ck_assert_msg(ms < h_ms(5000), "--daemon --chroot took %lld ms to return", ms);
	ck_assert_int_eq(served, 200);
	ck_assert_msg(strcmp(link, "/dev/null") == 0, "daemon stdout: '%s'", link);
	ck_assert_msg(st >= 0 && WIFEXITED(st) && WEXITSTATUS(st) == 0, "daemon stop: %s",
	              h_describe_status(st, buf, sizeof buf));
	ck_assert_msg(access(pidfile, F_OK) != 0, "pidfile left after SIGTERM");
	h_rmtree(dir);
	free(dir);
}
END_TEST

/* ---- 14: SIGHUP reopens the logs under --chroot; the pidfile goes ---- */

/* _i: 0 --chroot as root (the server creates the new files); 1 --chroot
 * --user nobody, new files created as logrotate's "create" does and the
 * pidfile in a directory nobody may write (removed); 2 the same with the
 * pidfile in root's directory (nobody cannot remove it: it is emptied). */
START_TEST(test_reopen_under_chroot)
{
	if (!is_root())
		return; /* chroot needs root */
	const char *user = _i ? "nobody" : NULL;
	struct passwd *pw = getpwnam("nobody");
	if (_i && !pw)
		return;
	char *dir = h_mkdtemp();
	ck_assert(chmod(dir, 0755) == 0);
	char www[PATH_MAX], logs[PATH_MAX], run[PATH_MAX], pidfile[PATH_MAX];
	char alog[PATH_MAX], alog1[PATH_MAX], elog[PATH_MAX], elog1[PATH_MAX], slog[PATH_MAX];
	join(www, dir, "www");
	join(logs, dir, "logs");
	join(run, dir, "run");
	join(pidfile, run, "shs.pid");
	join(alog, logs, "access.log");
	join(alog1, logs, "access.log.1");
	join(elog, logs, "error.log");
	join(elog1, logs, "error.log.1");
	join(slog, dir, "startup.log");
	h_write_str(dir, "www/x.txt", X_BODY);
	ck_assert(chmod(www, 0755) == 0);
	h_mkdir(dir, "logs");
	h_mkdir(dir, "run");
	if (_i == 1)
		ck_assert(chown(run, pw->pw_uid, pw->pw_gid) == 0);
	char asan[512];
	const char *env[] = {h_env_no_leaks(asan, sizeof asan), NULL};
	const char *extra[] = {"--access-log", alog,       "--error-log",        elog, "--pidfile",
	                       pidfile,        "--chroot", _i ? "--user" : NULL, user, NULL};
	struct h_start_opts o = {.out_fd = -1, .env = env};
	struct h_server s;
	char err[512];
	ck_assert_msg(h_server_start_opts(&s, www, slog, extra, &o, err, sizeof err) == 0, "%s",
	              err);

	ck_assert_int_eq(get_status(s.port, "/x.txt?before"), 200);
	ck_assert_msg(wait_contains(alog, "/x.txt?before", L_TIMEOUT_MS), "first line not logged");
	ck_assert(rename(alog, alog1) == 0);
	ck_assert(rename(elog, elog1) == 0);
	if (_i) { /* logrotate's "create 0640 nobody nogroup" */
		const char *made[] = {alog, elog};
		for (int k = 0; k < 2; k++) {
			int fd = open(made[k], O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0640);
			ck_assert(fd >= 0);
			ck_assert(fchown(fd, pw->pw_uid, pw->pw_gid) == 0);
			close(fd);
		}
	}
	ck_assert(kill(s.pid, SIGHUP) == 0);
	ck_assert_msg(wait_contains(elog, "info: log files reopened", L_TIMEOUT_MS),
	              "no 'log files reopened' in the new error log");
	ck_assert_int_eq(get_status(s.port, "/x.txt?after"), 200);
	ck_assert_msg(wait_contains(alog, "/x.txt?after", L_TIMEOUT_MS),
	              "the request after SIGHUP is not in the new access log");
	ck_assert_int_eq(get_status(s.port, "/nonexistent-after"), 404);
	ck_assert_msg(wait_contains(alog, "/nonexistent-after", L_TIMEOUT_MS),
	              "the 404 after SIGHUP is not in the new access log");
	char *old_a = h_read_file(alog1, NULL), *old_e = h_read_file(elog1, NULL);
	ck_assert(old_a && old_e);
	ck_assert_msg(strstr(old_a, "after") == NULL, "the old access log got: %s", old_a);
	ck_assert_msg(strstr(old_e, "reopen") == NULL, "the old error log got: %s", old_e);
	free(old_a);
	free(old_e);
	char *new_a = h_read_file(alog, NULL);
	ck_assert_msg(new_a && strstr(new_a, "before") == NULL, "new access log: %s", new_a);
	free(new_a);

	stop_clean(&s);
	ck_assert_msg(wait_contains(elog, "info: stopped", 1000),
	              "the last error log lines did not go to the new file");
	struct stat st;
	if (_i < 2) {
		ck_assert_msg(stat(pidfile, &st) != 0 && errno == ENOENT,
		              "pidfile left after SIGTERM (size %lld)", (long long)st.st_size);
	} else {
		ck_assert_msg(stat(pidfile, &st) != 0 || st.st_size == 0,
		              "pidfile nobody cannot remove should be emptied, has %lld bytes",
		              (long long)st.st_size);
	}
	h_rmtree(dir);
	free(dir);
}
END_TEST

/* ---- 15: the logrotate file ---- */

static int
is_repo(const char *dir)
{
	char p[PATH_MAX];
	join(p, dir, "doc/simple-http-server.logrotate");
	return access(p, F_OK) == 0;
}

/* SHS_SRC, else the directory of SHS_BIN or one above, else the cwd. */
static void
repo_root(char *dst, size_t cap)
{
	const char *src = getenv("SHS_SRC");
	const char *bin = getenv("SHS_BIN");
	if (src && *src) {
		snprintf(dst, cap, "%s", src);
		return;
	}
	if (bin && bin[0] == '/') {
		snprintf(dst, cap, "%s", bin);
		for (int up = 0; up < 2; up++) {
			char *slash = strrchr(dst, '/');
			if (!slash || slash == dst)
				break;
			*slash = '\0';
			if (is_repo(dst))
				return;
		}
	}
	ck_assert(getcwd(dst, cap) != NULL);
}

static int
run_sh(const char *cmd)
{
	int rc = system(cmd);
	return rc != -1 && WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
}

START_TEST(test_install_logrotate)
{
	char root[PATH_MAX];
	repo_root(root, sizeof root);
	ck_assert_msg(is_repo(root), "no doc/simple-http-server.logrotate in %s; set SHS_SRC",
	              root);
	char *dir = h_mkdtemp();
	char dest[PATH_MAX], mlog[PATH_MAX], inst[PATH_MAX], src[PATH_MAX];
	join(dest, dir, "dest");
	join(mlog, dir, "make.log");
	join(inst, dest, "etc/logrotate.d/simple-http-server");
	join(src, root, "doc/simple-http-server.logrotate");
	/* The binary under test, so make finds it up to date (build-asan/...). */
	char vars[PATH_MAX * 2] = "";
	const char *bin = getenv("SHS_BIN");
	size_t rl = strlen(root);
	if (bin && strncmp(bin, root, rl) == 0 && bin[rl] == '/') {
		const char *rel = bin + rl + 1, *slash = strrchr(rel, '/');
		if (slash)
			snprintf(vars, sizeof vars, " BIN='%s' BUILD='%.*s'", rel,
			         (int)(slash - rel), rel);
	}
	char cmd[PATH_MAX * 6];
	const char *targets[] = {"install", "uninstall"};
	for (int t = 0; t < 2; t++) {
		snprintf(
		    cmd, sizeof cmd,
		    "env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL -u MAKEOVERRIDES make -s -C '%s' %s "
		    "DESTDIR='%s' PREFIX=/usr%s >'%s' 2>&1",
		    root, targets[t], dest, vars, mlog);
		int rc = run_sh(cmd);
		char tail[1024];
		h_tail_file(mlog, tail, sizeof tail);
		ck_assert_msg(rc == 0, "make %s: %s", targets[t], tail);
		struct stat st;
		if (t == 0) {
			ck_assert_msg(stat(inst, &st) == 0, "make install did not create %s", inst);
			ck_assert_msg((st.st_mode & 07777) == 0644, "mode %o", st.st_mode & 07777);
			size_t na, nb;
			char *a = h_read_file(inst, &na), *b = h_read_file(src, &nb);
			ck_assert(a && b && na == nb && memcmp(a, b, na) == 0);
			ck_assert_msg(strstr(a, "sharedscripts") && strstr(a, "postrotate") &&
			                  strstr(a, "[ -s /run/simple-http-server.pid ]") &&
			                  strstr(a, "/var/log/simple-http-server/*.log"),
			              "logrotate file: %s", a);
			free(a);
			free(b);
		} else {
			ck_assert_msg(stat(inst, &st) != 0 && errno == ENOENT,
			              "make uninstall left %s", inst);
		}
	}
	h_rmtree(dir);
	free(dir);
}
END_TEST

static int
have_logrotate(void)
{
	return run_sh("command -v logrotate >/dev/null 2>&1") == 0;
}

/* Replaces every from in text by to (text is freed). */
static char *
replace(char *text, const char *from, const char *to)
{
	size_t fl = strlen(from), tl = strlen(to), n = 0;
	for (const char *p = text; (p = strstr(p, from)); p += fl)
		n++;
	char *out = malloc(strlen(text) + n * (tl + 1) + 1), *w = out;
	ck_assert(out != NULL);
	const char *p = text, *q;
	while ((q = strstr(p, from))) {
		memcpy(w, p, (size_t)(q - p));
		w += q - p;
		memcpy(w, to, tl);
		w += tl;
		p = q + fl;
	}
	strcpy(w, p);
	free(text);
	return out;
}

/* The shipped file, pointed at a temp dir: logrotate -f rotates both logs
 * of a running server and its postrotate makes the server reopen them;
 * with the server down, the postrotate script still succeeds. Skipped
 * without logrotate (apt-get install logrotate). */
START_TEST(test_logrotate_runs)
{
	if (!have_logrotate() || !is_root())
		return;
	char root[PATH_MAX];
	repo_root(root, sizeof root);
	char *dir = h_mkdtemp();
	char src[PATH_MAX], conf[PATH_MAX], state[PATH_MAX], logs[PATH_MAX], pidfile[PATH_MAX];
	char alog[PATH_MAX], elog[PATH_MAX], alog1[PATH_MAX], slog[PATH_MAX], out[PATH_MAX];
	join(src, root, "doc/simple-http-server.logrotate");
	join(conf, dir, "shs.logrotate");
	join(state, dir, "logrotate.state");
	join(logs, dir, "logs");
	join(pidfile, dir, "shs.pid");
	join(alog, logs, "access.log");
	join(alog1, logs, "access.log.1");
	join(elog, logs, "error.log");
	join(slog, dir, "startup.log");
	join(out, dir, "logrotate.out");
	h_write_str(dir, "www/x.txt", X_BODY);
	h_mkdir(dir, "logs");
	char *text = h_read_file(src, NULL);
	ck_assert(text != NULL);
	text = replace(text, "/var/log/simple-http-server", logs);
	text = replace(text, "/run/simple-http-server.pid", pidfile);
	text = replace(text, "www-data adm", "root root");
	h_write_str(dir, "shs.logrotate", text);
	free(text);
	char cmd[PATH_MAX * 4];
	snprintf(cmd, sizeof cmd, "logrotate -d -s '%s' '%s' >'%s' 2>&1", state, conf, out);
	char tail[2048];
	int rc = run_sh(cmd);
	h_tail_file(out, tail, sizeof tail);
	ck_assert_msg(rc == 0 && strstr(tail, "error") == NULL, "logrotate -d: %s", tail);

	char www[PATH_MAX];
	join(www, dir, "www");
	const char *extra[] = {"--access-log", alog,    "--error-log", elog,
	                       "--pidfile",    pidfile, NULL};
	struct h_server s;
	char err[512];
	ck_assert_msg(h_server_start(&s, www, slog, extra, err, sizeof err) == 0, "%s", err);
	ck_assert_int_eq(get_status(s.port, "/x.txt?before"), 200);
	ck_assert(wait_contains(alog, "?before", L_TIMEOUT_MS));
	snprintf(cmd, sizeof cmd, "logrotate -f -s '%s' '%s' >'%s' 2>&1", state, conf, out);
	rc = run_sh(cmd);
	h_tail_file(out, tail, sizeof tail);
	ck_assert_msg(rc == 0, "logrotate -f: %s", tail);
	ck_assert_msg(wait_contains(elog, "log files reopened", L_TIMEOUT_MS),
	              "no reopen after logrotate's postrotate");
	ck_assert_int_eq(get_status(s.port, "/x.txt?after"), 200);
	ck_assert(wait_contains(alog, "?after", L_TIMEOUT_MS));
	char *old = h_read_file(alog1, NULL);
	ck_assert_msg(old && strstr(old, "?before") && !strstr(old, "?after"), "rotated: %s",
	              old ? old : "(missing)");
	free(old);
	stop_clean(&s);
	ck_assert(access(pidfile, F_OK) != 0);
	/* Down: the postrotate script is a no-op that succeeds. */
	rc = run_sh(cmd);
	h_tail_file(out, tail, sizeof tail);
	ck_assert_msg(rc == 0, "logrotate -f with the server down: %s", tail);
	h_rmtree(dir);
	free(dir);
}
END_TEST

Suite *
logs_suite(void)
{
	Suite *s = suite_create("logs");
	TCase *tc = tcase_create("logs");
	tcase_set_timeout(tc, 120);
	tcase_add_loop_test(tc, test_log_stall, 0, 3);
	tcase_add_loop_test(tc, test_log_long_line, 0, 2);
	tcase_add_test(tc, test_log_format_limits);
	tcase_add_test(tc, test_daemon_chroot_detaches);
	tcase_add_loop_test(tc, test_reopen_under_chroot, 0, 3);
	tcase_add_test(tc, test_install_logrotate);
	tcase_add_test(tc, test_logrotate_runs);
	suite_add_tcase(s, tc);
	return s;
}
