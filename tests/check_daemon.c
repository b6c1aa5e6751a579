/* check_daemon.c - the binary as an administrator runs it (issue 5): --daemon
 * and --pidfile, startup errors seen by the parent, the access log and its
 * rotation by signal, systemd socket activation and NOTIFY_SOCKET, privilege
 * drop and chroot, SIGTERM/SIGQUIT, repeated --listen, make install.
 *
 * Every server listens on 127.0.0.1 (or ::1) port 0 and is stopped by its
 * pid. Foreground servers die with the test process (the harness sets
 * PR_SET_PDEATHSIG); daemons cannot, so their pids and the temp dirs go in a
 * page shared with the runner, whose unchecked teardown kills and removes
 * what a failed test left behind. Processes, sockets and responses go
 * through tests/harness.h; every wait scales with SHS_TEST_TIME_SCALE. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <netinet/in.h>
#include <poll.h>
#include <pwd.h>
#include <regex.h>
#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "harness.h"
#include "suites.h"

/* Every wait in this file gives up after this long. */
#define D_TIMEOUT_MS 5000
/* SIGTERM lets responses run for 5 s; allow that plus a margin. */
#define D_STOP_TIMEOUT_MS 8000

#define X_BODY "hello, daemon\n"
/* A top dir that cannot exist. */
#define NO_DIR "/nonexistent/shs-check"

/* ---- what a failed test leaves behind, shared with the runner ---- */

/* Foreground servers die with the test (the harness sets PR_SET_PDEATHSIG);
 * a daemon cannot, so its pid and the temp dirs are recorded here. */
#define D_MAX_PIDS 32
#define D_MAX_DIRS 16

struct d_registry {
	pid_t pid[D_MAX_PIDS];
	unsigned long long start[D_MAX_PIDS]; /* guards against a reused pid */
	char dir[D_MAX_DIRS][64];
};
static struct d_registry local_registry;
static struct d_registry *reg = &local_registry;

/* Field 22 of /proc/PID/stat (start time in clock ticks), or 0. */
static unsigned long long
proc_start_time(pid_t pid)
{
	char path[64];
	snprintf(path, sizeof path, "/proc/%ld/stat", (long)pid);
	char *buf = h_read_file(path, NULL);
	if (!buf)
		return 0;
	unsigned long long t = 0;
	char *p = strrchr(buf, ')'); /* the name may hold spaces */
	if (p && p[1] == ' ') {
		p += 2; /* field 3 */
		for (int field = 3; p && field < 22; field++) {
			p = strchr(p, ' ');
			p = p ? p + 1 : NULL;
		}
		t = p ? strtoull(p, NULL, 10) : 0;
	}
	free(buf);
	return t;
}

static void
d_track_pid(pid_t pid)
{
	for (int i = 0; i < D_MAX_PIDS; i++) {
		if (reg->pid[i] == 0) {
			reg->pid[i] = pid;
			reg->start[i] = proc_start_time(pid);
			return;
		}
	}
}

static void
d_untrack_pid(pid_t pid)
{
	for (int i = 0; i < D_MAX_PIDS; i++)
		if (reg->pid[i] == pid)
			reg->pid[i] = 0;
}

/* Unchecked teardown: runs in the runner even when a test failed. */
static void
d_cleanup(void)
{
	for (int i = 0; i < D_MAX_PIDS; i++) {
		pid_t pid = reg->pid[i];
		if (pid <= 0)
			continue;
		if (reg->start[i] != 0 && proc_start_time(pid) == reg->start[i])
			(void)kill(pid, SIGKILL);
		(void)waitpid(pid, NULL, WNOHANG);
		reg->pid[i] = 0;
	}
	for (int i = 0; i < D_MAX_DIRS; i++) {
		if (reg->dir[i][0]) {
			h_rmtree(reg->dir[i]);
			reg->dir[i][0] = '\0';
		}
	}
}

/* ---- temp dirs and files ---- */

struct d_env {
	char dir[64];       /* mkdtemp'd, removed at the end */
	char www[PATH_MAX]; /* dir/www: the top dir, holding x.txt */
};

static void
d_path(const struct d_env *e, const char *rel, char *dst)
{
	int n = snprintf(dst, PATH_MAX, "%s/%s", e->dir, rel);
	ck_assert_msg(n > 0 && n < PATH_MAX, "path too long: %s/%s", e->dir, rel);
}

/* dst = a/b in a PATH_MAX buffer. */
static void
d_join(char *dst, const char *a, const char *b)
{
	int n = snprintf(dst, PATH_MAX, "%s/%s", a, b);
	ck_assert_msg(n > 0 && n < PATH_MAX, "path too long: %s/%s", a, b);
}

static void
d_env_init(struct d_env *e)
{
	snprintf(e->dir, sizeof e->dir, "/tmp/shs-daemon-XXXXXX");
	ck_assert_msg(mkdtemp(e->dir) != NULL, "mkdtemp: %s", strerror(errno));
	for (int i = 0; i < D_MAX_DIRS; i++) {
		if (!reg->dir[i][0]) {
			snprintf(reg->dir[i], sizeof reg->dir[i], "%s", e->dir);
			break;
		}
	}
	d_path(e, "www", e->www);
	h_mkdir(e->dir, "www");
	h_write_str(e->dir, "www/x.txt", X_BODY);
}

static void
d_env_done(struct d_env *e)
{
	h_rmtree(e->dir);
	for (int i = 0; i < D_MAX_DIRS; i++)
		if (strcmp(reg->dir[i], e->dir) == 0)
			reg->dir[i][0] = '\0';
}

/* ---- processes ---- */

static int
exited_with(int status, int code)
{
	return status != -1 && WIFEXITED(status) && WEXITSTATUS(status) == code;
}

/* A command that is expected to exit by itself within D_TIMEOUT_MS. */
static void
d_run(const char *bin, const char *const *args, struct h_run *r)
{
	ck_assert_msg(h_run_ex(bin, args, NULL, r, D_TIMEOUT_MS) == 0,
	              "'%s %s ...' did not exit within %d ms; stdout '%s', stderr '%s'",
	              bin ? bin : h_bin(), args[0], h_ms(D_TIMEOUT_MS), r->out, r->err);
}

/* A foreground server whose stderr goes to DIR/server.err. */
struct d_server {
	struct h_server h;
	char err_path[PATH_MAX];
};

static void
d_server_fail(struct d_server *s, const char *what)
{
	(void)h_server_stop_sig(&s->h, SIGKILL, 2000);
	char *log = h_read_file(s->err_path, NULL);
	char msg[2048];
	snprintf(msg, sizeof msg, "%s; server stderr: %.1500s", what, log ? log : "(none)");
	free(log);
	ck_abort_msg("%s", msg);
}

/* Starts SHS_BIN with exactly args (plus env, and listen_fd > 0 passed as
 * systemd would); unless no_wait, its first line must be
 * "serving DIR on http://127.0.0.1:PORT/". */
static void
d_server_start_ex(struct d_server *s, const struct d_env *e, const char *const *args,
                  const char *const *env, int listen_fd, int no_wait)
{
	d_path(e, "server.err", s->err_path);
	struct h_start o = {.args = args,
	                    .log_path = s->err_path,
	                    .env = env,
	                    .listen_fd = listen_fd,
	                    .no_wait = no_wait};
	char err[512];
	if (h_server_start_ex(&s->h, &o, err, sizeof err) != 0) {
		char *log = h_read_file(s->err_path, NULL);
		char msg[2048];
		snprintf(msg, sizeof msg, "%s; server stderr: %.1500s", err, log ? log : "(none)");
		free(log);
		ck_abort_msg("%s", msg);
	}
}

static void
d_server_start(struct d_server *s, const struct d_env *e, const char *const *args,
               const char *const *env, int listen_fd)
{
	d_server_start_ex(s, e, args, env, listen_fd, 0);
}

/* Sends sig and waits for the exit: the wait status. */
static int
d_server_stop(struct d_server *s, int sig)
{
	pid_t pid = s->h.pid;
	int status = h_server_stop_sig(&s->h, sig, D_STOP_TIMEOUT_MS);
	if (status == -1) {
		char *log = h_read_file(s->err_path, NULL);
		ck_abort_msg("server %ld did not exit within %d ms of signal %d; stderr: %.1500s",
		             (long)pid, h_ms(D_STOP_TIMEOUT_MS), sig, log ? log : "(none)");
	}
	return status;
}

static void
d_server_stop_clean(struct d_server *s)
{
	char buf[64];
	int status = d_server_stop(s, SIGTERM);
	ck_assert_msg(exited_with(status, 0), "after SIGTERM: expected exit status 0, got %s",
	              h_describe_status(status, buf, sizeof buf));
}

/* ---- HTTP ---- */

/* GET /x.txt answers 200 with X_BODY, then the server closes. */
static void
d_assert_get_x(int family, int port)
{
	static const char req[] = "GET /x.txt HTTP/1.1\r\nHost: localhost\r\n"
	                          "Connection: close\r\n\r\n";
	struct h_conn c;
	struct h_resp r;
	h_conn_open_ex(&c, family, port, 0);
	h_conn_send(&c, req);
	int rc = h_read_framed(&c, &r, 0);
	H_ASSERT_RC(rc, &r);
	ck_assert_msg(r.status == 200, "GET /x.txt: expected 200, got '%s'", r.status_line);
	H_ASSERT_TEXT(&r, X_BODY);
	H_ASSERT_CLOSED(&c);
	h_conn_close(&c);
	h_resp_free(&r);
}

/* ---- daemons ---- */

struct d_daemon {
	pid_t pid;
	int port;
};

/* Runs a --daemon command that must succeed, checks the startup line it
 * printed before returning and the pidfile, and records the daemon. */
static void
d_daemon_start(struct d_daemon *d, const char *const *args, const char *pidfile, pid_t *forked)
{
	/* The daemon's parent exits: make it ours, so it can be reaped and
	 * its exit status seen. */
	ck_assert_msg(prctl(PR_SET_CHILD_SUBREAPER, 1) == 0, "PR_SET_CHILD_SUBREAPER: %s",
	              strerror(errno));
	static struct h_run r;
	char buf[64];
	d_run(NULL, args, &r);
	if (forked)
		*forked = r.pid;
	char *pf = h_read_file(pidfile, NULL);
	long pid = pf ? atol(pf) : 0;
	if (pid > 0)
		d_track_pid((pid_t)pid);
	ck_assert_msg(exited_with(r.status, 0),
	              "--daemon: expected exit status 0, got %s; stderr '%s'",
	              h_describe_status(r.status, buf, sizeof buf), r.err);
	ck_assert_msg(r.ms < h_ms(3000), "--daemon took %ld ms to return", r.ms);
	d->port = h_parse_listening(r.out, "127.0.0.1");
	ck_assert_msg(d->port > 0,
	              "before returning, --daemon should print exactly 'serving DIR on "
	              "http://127.0.0.1:PORT/\\n'; stdout had '%s'",
	              r.out);
	ck_assert_msg(pf != NULL, "pidfile %s: %s", pidfile, strerror(errno));
	char want[32];
	snprintf(want, sizeof want, "%ld\n", pid);
	ck_assert_msg(pid > 0 && strcmp(pf, want) == 0,
	              "pidfile: expected the pid and a newline, got '%s'", pf);
	free(pf);
	d->pid = (pid_t)pid;
}

/* Waits until pid is gone. Returns 1 with *status if we reaped it (it was
 * reparented to us), 0 if it vanished otherwise; fails after the timeout. */
static int
d_wait_gone(pid_t pid, int timeout_ms, int *status)
{
	uint64_t end = h_now_ms() + (uint64_t)h_ms(timeout_ms);
	for (;;) {
		pid_t r = waitpid(pid, status, WNOHANG);
		if (r == pid) {
			d_untrack_pid(pid);
			return 1;
		}
		if (r < 0 && errno == ECHILD && kill(pid, 0) != 0 && errno == ESRCH) {
			d_untrack_pid(pid);
			return 0;
		}
		ck_assert_msg(h_now_ms() < end, "process %ld still running %d ms after the signal",
		              (long)pid, h_ms(timeout_ms));
		h_sleep_ms(5);
	}
}

static void
d_daemon_stop(const struct d_daemon *d, const char *pidfile)
{
	int status;
	char buf[64];
	ck_assert_msg(kill(d->pid, SIGTERM) == 0, "kill %ld: %s", (long)d->pid, strerror(errno));
	int reaped = d_wait_gone(d->pid, D_STOP_TIMEOUT_MS, &status);
	ck_assert_msg(kill(d->pid, 0) != 0 && errno == ESRCH, "daemon %ld still exists",
	              (long)d->pid);
	if (reaped)
		ck_assert_msg(exited_with(status, 0),
		              "daemon after SIGTERM: expected exit 0, got %s",
		              h_describe_status(status, buf, sizeof buf));
	ck_assert_msg(access(pidfile, F_OK) != 0 && errno == ENOENT,
	              "pidfile %s still exists after the daemon stopped", pidfile);
}

static void
d_readlink_proc(pid_t pid, const char *what, char *dst, size_t cap)
{
	char path[64];
	snprintf(path, sizeof path, "/proc/%ld/%s", (long)pid, what);
	ssize_t n = readlink(path, dst, cap - 1);
	ck_assert_msg(n >= 0, "readlink %s: %s", path, strerror(errno));
	dst[n] = '\0';
}

/* ---- 1, 2, 3: --daemon, --pidfile and startup errors ---- */

START_TEST(test_daemon_start_stop)
{
	struct d_env e;
	d_env_init(&e);
	char pidfile[PATH_MAX], alog[PATH_MAX], elog[PATH_MAX];
	d_path(&e, "shs.pid", pidfile);
	d_path(&e, "access.log", alog);
	d_path(&e, "error.log", elog);
	const char *args[] = {"--daemon", "--pidfile",    pidfile, "--port",      "0",  "--top-dir",
	                      e.www,      "--access-log", alog,    "--error-log", elog, NULL};
	struct d_daemon d;
	pid_t forked;
	d_daemon_start(&d, args, pidfile, &forked);

	ck_assert_msg(kill(d.pid, 0) == 0, "daemon %ld from the pidfile is not alive: %s",
	              (long)d.pid, strerror(errno));
	ck_assert_msg(d.pid != forked,
	              "the pid in the pidfile is the process we started (%ld): it did not fork",
	              (long)forked);
	/* Double fork after setsid: a new session that it does not lead. */
	pid_t sid = getsid(d.pid);
	ck_assert_msg(sid >= 0 && sid != getsid(0), "daemon still in our session %ld", (long)sid);
	ck_assert_msg(sid != d.pid, "daemon %ld leads its session: no second fork", (long)d.pid);
	char link[PATH_MAX];
	d_readlink_proc(d.pid, "cwd", link, sizeof link);
	ck_assert_msg(strcmp(link, "/") == 0, "daemon cwd: expected '/', got '%s'", link);
	d_readlink_proc(d.pid, "fd/0", link, sizeof link);
	ck_assert_msg(strcmp(link, "/dev/null") == 0, "daemon stdin: expected /dev/null, got %s",
	              link);
	d_readlink_proc(d.pid, "fd/1", link, sizeof link);
	ck_assert_msg(strcmp(link, "/dev/null") == 0, "daemon stdout: expected /dev/null, got %s",
	              link);

	d_assert_get_x(AF_INET, d.port);
	ck_assert_msg(h_wait_file_lines(alog, 1, D_TIMEOUT_MS) >= 0,
	              "no access log line from the daemon");
	char *text = h_read_file(alog, NULL);
	ck_assert_msg(strstr(text, "\"GET /x.txt HTTP/1.1\" 200 ") != NULL,
	              "access log of the daemon: '%s'", text);
	free(text);

	d_daemon_stop(&d, pidfile);
	d_env_done(&e);
}
END_TEST

START_TEST(test_daemon_pidfile_held)
{
	struct d_env e;
	d_env_init(&e);
	char pidfile[PATH_MAX], buf[64];
	d_path(&e, "shs.pid", pidfile);
	const char *args[] = {"--daemon",  "--pidfile", pidfile,           "--port", "0",
	                      "--top-dir", e.www,       "--no-access-log", NULL};
	struct d_daemon d;
	d_daemon_start(&d, args, pidfile, NULL);

	/* The same command again, then in the foreground. */
	const char *fg[] = {"--pidfile", pidfile, "--port",          "0",
	                    "--top-dir", e.www,   "--no-access-log", NULL};
	const char *const *again[] = {args, fg};
	for (int i = 0; i < 2; i++) {
		struct h_run r;
		d_run(NULL, again[i], &r);
		const char *how = i == 0 ? "--daemon" : "foreground";
		ck_assert_msg(exited_with(r.status, 2),
		              "%s second instance on a held pidfile: expected exit status 2, "
		              "got %s",
		              how, h_describe_status(r.status, buf, sizeof buf));
		size_t n = strlen(r.err);
		ck_assert_msg(n > 0 && r.err[n - 1] == '\n' && h_count_lines(r.err) == 1,
		              "%s second instance: expected one line on stderr, got '%s'", how,
		              r.err);
		ck_assert_msg(strstr(r.err, pidfile) || strstr(r.err, "already running"),
		              "%s second instance: stderr should name the pidfile or say 'already "
		              "running': '%s'",
		              how, r.err);
	}

	/* The first one is untouched. */
	char *pf = h_read_file(pidfile, NULL);
	char want[32];
	snprintf(want, sizeof want, "%ld\n", (long)d.pid);
	ck_assert_msg(pf && strcmp(pf, want) == 0, "pidfile changed to '%s' (expected '%s')",
	              pf ? pf : "(missing)", want);
	free(pf);
	ck_assert_msg(kill(d.pid, 0) == 0, "first daemon died: %s", strerror(errno));
	d_assert_get_x(AF_INET, d.port);

	d_daemon_stop(&d, pidfile);
	d_env_done(&e);
}
END_TEST

START_TEST(test_daemon_pidfile_stale)
{
	struct d_env e;
	d_env_init(&e);
	char pidfile[PATH_MAX];
	d_path(&e, "shs.pid", pidfile);
	/* A pid that surely died: a child we have reaped. */
	pid_t dead = fork();
	ck_assert(dead >= 0);
	if (dead == 0)
		_exit(0);
	int st;
	ck_assert(waitpid(dead, &st, 0) == dead);
	char stale[32];
	snprintf(stale, sizeof stale, "%ld\n", (long)dead);
	h_write_file(e.dir, "shs.pid", stale, strlen(stale));

	const char *args[] = {"--daemon",  "--pidfile", pidfile,           "--port", "0",
	                      "--top-dir", e.www,       "--no-access-log", NULL};
	struct d_daemon d;
	d_daemon_start(&d, args, pidfile, NULL);
	ck_assert_msg(d.pid != dead, "pidfile still holds the stale pid");
	d_assert_get_x(AF_INET, d.port);
	d_daemon_stop(&d, pidfile);
	d_env_done(&e);
}
END_TEST

/* The original command fails with 2, says why, and leaves no pidfile. */
static void
d_assert_start_fails(const char *const *args, const char *pidfile, const char *mention)
{
	struct h_run r;
	char buf[64];
	ck_assert_msg(prctl(PR_SET_CHILD_SUBREAPER, 1) == 0, "prctl: %s", strerror(errno));
	d_run(NULL, args, &r);
	ck_assert_msg(exited_with(r.status, 2), "expected exit status 2, got %s; stderr '%s'",
	              h_describe_status(r.status, buf, sizeof buf), r.err);
	ck_assert_msg(strstr(r.err, mention) != NULL,
	              "the command's stderr should explain the failure (mention '%s'); got '%s'",
	              mention, r.err);
	ck_assert_msg(access(pidfile, F_OK) != 0 && errno == ENOENT,
	              "a failed start left the pidfile %s", pidfile);
}

START_TEST(test_daemon_bad_top_dir)
{
	struct d_env e;
	d_env_init(&e);
	char pidfile[PATH_MAX];
	d_path(&e, "shs.pid", pidfile);
	const char *args[] = {"--daemon",  "--pidfile", pidfile,           "--port", "0",
	                      "--top-dir", NO_DIR,      "--no-access-log", NULL};
	d_assert_start_fails(args, pidfile, NO_DIR);
	d_env_done(&e);
}
END_TEST

START_TEST(test_daemon_port_in_use)
{
	struct d_env e;
	d_env_init(&e);
	char pidfile[PATH_MAX], port[16];
	d_path(&e, "shs.pid", pidfile);
	int busy;
	int lfd = h_listen_socket(&busy);
	snprintf(port, sizeof port, "%d", busy);
	const char *args[] = {"--daemon",  "--pidfile", pidfile,           "--port", port,
	                      "--top-dir", e.www,       "--no-access-log", NULL};
	d_assert_start_fails(args, pidfile, port);
	close(lfd);
	d_env_done(&e);
}
END_TEST

/* With --error-log the error log takes stderr over early; a startup
 * failure must still reach the terminal of the command that was run. */
START_TEST(test_daemon_startup_error_with_error_log)
{
	struct d_env e;
	d_env_init(&e);
	char pidfile[PATH_MAX], elog[PATH_MAX];
	d_path(&e, "shs.pid", pidfile);
	d_path(&e, "error.log", elog);
	const char *args[] = {"--daemon", "--pidfile",       pidfile, "--port",
	                      "0",        "--error-log",     elog,    "--top-dir",
	                      NO_DIR,     "--no-access-log", NULL};
	d_assert_start_fails(args, pidfile, NO_DIR);
	d_env_done(&e);
}
END_TEST

/* ---- 4: access log lines ---- */

/* Checks that text is exactly one line "127.0.0.1 - - [DD/Mon/YYYY:HH:MM:SS
 * +0000] " + rest, with a timestamp within 10 s of now. */
static void
d_assert_log_line(const char *text, const char *rest)
{
	static const char *const months[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
	                                     "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
	regex_t re;
	regmatch_t m[8];
	ck_assert(
	    regcomp(&re,
	            "^127\\.0\\.0\\.1 - - \\[([0-9]{2})/([A-Z][a-z]{2})/([0-9]{4}):([0-9]{2}):"
	            "([0-9]{2}):([0-9]{2}) \\+0000\\] ",
	            REG_EXTENDED) == 0);
	int ok = regexec(&re, text, 8, m, 0) == 0;
	regfree(&re);
	ck_assert_msg(ok,
	              "access log line: expected '127.0.0.1 - - [DD/Mon/YYYY:HH:MM:SS +0000] "
	              "%s', got '%s'",
	              rest, text);
	struct tm tm = {0};
	tm.tm_mon = -1;
	for (int i = 0; i < 12; i++)
		if (strncmp(text + m[2].rm_so, months[i], 3) == 0)
			tm.tm_mon = i;
	tm.tm_mday = atoi(text + m[1].rm_so);
	tm.tm_year = atoi(text + m[3].rm_so) - 1900;
	tm.tm_hour = atoi(text + m[4].rm_so);
	tm.tm_min = atoi(text + m[5].rm_so);
	tm.tm_sec = atoi(text + m[6].rm_so);
	ck_assert_msg(tm.tm_mon >= 0, "access log month: '%s'", text);
	long long skew = (long long)timegm(&tm) - (long long)time(NULL);
	ck_assert_msg(skew >= -10 && skew <= 10, "access log time is %lld s off: '%s'", skew, text);
	ck_assert_msg(strcmp(text + m[0].rm_eo, rest) == 0,
	              "access log line after the time:\n expected '%s'\n got      '%s'", rest,
	              text + m[0].rm_eo);
}

/* Serves one request with the given log flags and returns the whole log
 * (exactly one line, flushed within a second); *resp gets the answer. */
static char *
d_log_one(const char *const *log_args, const char *req, struct h_resp *resp)
{
	struct d_env e;
	d_env_init(&e);
	char alog[PATH_MAX];
	d_path(&e, "access.log", alog);
	const char *args[16] = {"--top-dir", e.www, "--port", "0", "--access-log", alog};
	size_t n = 6;
	for (size_t i = 0; log_args[i]; i++)
		args[n++] = log_args[i];
	args[n] = NULL;
	struct d_server s;
	d_server_start(&s, &e, args, NULL, -1);
	h_exchange(s.h.port, req, strlen(req), 1, resp);
	long ms = h_wait_file_lines(alog, 1, D_TIMEOUT_MS);
	ck_assert_msg(ms >= 0, "no access log line within %d ms", h_ms(D_TIMEOUT_MS));
	ck_assert_msg(ms <= h_ms(1000),
	              "the access log line took %ld ms to reach the file (max 1 s, scaled: %d ms)",
	              ms, h_ms(1000));
	d_server_stop_clean(&s);
	char *text = h_read_file(alog, NULL);
	ck_assert_msg(text && h_count_lines(text) == 1, "expected one access log line, got '%s'",
	              text ? text : "(no file)");
	d_env_done(&e);
	return text;
}

START_TEST(test_access_log_combined)
{
	static const char req[] = "GET /x.txt HTTP/1.1\r\nHost: localhost\r\n"
	                          "Referer: http://example.com/from?a=1&b=2\r\n"
	                          "User-Agent: check-daemon/1.0 (Linux; test)\r\n"
	                          "Connection: close\r\n\r\n";
	struct h_resp r;
	const char *none[] = {NULL};
	char *text = d_log_one(none, req, &r);
	ck_assert_int_eq(r.status, 200);
	char want[256];
	snprintf(want, sizeof want,
	         "\"GET /x.txt HTTP/1.1\" 200 %zu \"http://example.com/from?a=1&b=2\" "
	         "\"check-daemon/1.0 (Linux; test)\"\n",
	         strlen(X_BODY));
	d_assert_log_line(text, want);
	h_resp_free(&r);
	free(text);
}
END_TEST

START_TEST(test_access_log_common)
{
	static const char req[] = "GET /x.txt HTTP/1.1\r\nHost: localhost\r\n"
	                          "Referer: http://example.com/\r\nUser-Agent: ua/2\r\n"
	                          "Connection: close\r\n\r\n";
	struct h_resp r;
	const char *common[] = {"--log-format", "common", NULL};
	char *text = d_log_one(common, req, &r);
	ck_assert_int_eq(r.status, 200);
	char want[128];
	snprintf(want, sizeof want, "\"GET /x.txt HTTP/1.1\" 200 %zu\n", strlen(X_BODY));
	d_assert_log_line(text, want);
	h_resp_free(&r);
	free(text);
}
END_TEST

/* Quotes, backslashes, HTAB and bytes >= 0x7f are legal in a header field
 * value and must be escaped as \xHH in the log. */
START_TEST(test_access_log_escapes)
{
	static const char req[] = "GET /x.txt HTTP/1.1\r\nHost: localhost\r\n"
	                          "Referer: http://e.example/\"q\"\r\n"
	                          "User-Agent: a\"b\tc\xff"
	                          "d\\e\r\n"
	                          "Connection: close\r\n\r\n";
	struct h_resp r;
	const char *none[] = {NULL};
	char *text = d_log_one(none, req, &r);
	ck_assert_int_eq(r.status, 200);
	char want[256];
	snprintf(want, sizeof want,
	         "\"GET /x.txt HTTP/1.1\" 200 %zu \"http://e.example/\\x22q\\x22\" "
	         "\"a\\x22b\\x09c\\xFFd\\x5Ce\"\n",
	         strlen(X_BODY));
	d_assert_log_line(text, want);
	h_resp_free(&r);
	free(text);
}
END_TEST

/* A control character in a field value is not HTTP (RFC 9110 5.5): the
 * answer is 400. The log line must still be one clean line: the request
 * line as sent (no CR), and the User-Agent either "-" (not parsed) or
 * escaped. */
START_TEST(test_access_log_control_chars)
{
	static const char req[] = "GET /x.txt HTTP/1.1\r\nHost: localhost\r\n"
	                          "User-Agent: a\"b\x01"
	                          "c\r\n"
	                          "Connection: close\r\n\r\n";
	struct h_resp r;
	const char *none[] = {NULL};
	char *text = d_log_one(none, req, &r);
	ck_assert_msg(r.status == 400 || r.status == 200, "status %d", r.status);
	for (const char *p = text; *p; p++)
		ck_assert_msg((unsigned char)*p >= 0x20 || *p == '\n',
		              "raw control byte %#x in the access log: '%s'", (unsigned char)*p,
		              text);
	char want_dash[128], want_ua[128];
	snprintf(want_dash, sizeof want_dash, "\"GET /x.txt HTTP/1.1\" %d %zu \"-\" \"-\"\n",
	         r.status, r.body_len);
	snprintf(want_ua, sizeof want_ua,
	         "\"GET /x.txt HTTP/1.1\" %d %zu \"-\" \"a\\x22b\\x01c\"\n", r.status, r.body_len);
	const char *close_br = strstr(text, "] ");
	ck_assert_msg(close_br != NULL, "no timestamp in '%s'", text);
	d_assert_log_line(text, strcmp(close_br + 2, want_ua) == 0 ? want_ua : want_dash);
	h_resp_free(&r);
	free(text);
}
END_TEST

/* ---- 5: SIGHUP / SIGUSR1 reopen the logs ---- */

static const int reopen_signals[] = {SIGHUP, SIGUSR1};

static void
d_get_path(int port, const char *path)
{
	char req[256];
	struct h_resp r;
	int n = snprintf(req, sizeof req,
	                 "GET %s HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n", path);
	h_exchange(port, req, (size_t)n, 1, &r);
	ck_assert_msg(r.status == 200, "GET %s: expected 200, got '%s'", path, r.status_line);
	h_resp_free(&r);
}

/* Whether the two access logs hold 5 lines together. */
static int
five_lines(void *arg)
{
	const char *const *paths = arg;
	size_t n = 0;
	for (int i = 0; i < 2; i++) {
		char *t = h_read_file(paths[i], NULL);
		n += t ? h_count_lines(t) : 0;
		free(t);
	}
	return n >= 5;
}

START_TEST(test_reopen_logs)
{
	int sig = reopen_signals[_i];
	struct d_env e;
	d_env_init(&e);
	char alog[PATH_MAX], alog1[PATH_MAX], elog[PATH_MAX], elog1[PATH_MAX];
	d_path(&e, "access.log", alog);
	d_path(&e, "access.log.1", alog1);
	d_path(&e, "error.log", elog);
	d_path(&e, "error.log.1", elog1);
	const char *args[] = {"--top-dir", e.www,         "--port", "0", "--access-log",
	                      alog,        "--error-log", elog,     NULL};
	struct d_server s;
	d_server_start(&s, &e, args, NULL, -1);

	d_get_path(s.h.port, "/x.txt?1");
	d_get_path(s.h.port, "/x.txt?2");
	ck_assert_msg(h_wait_file_lines(alog, 2, D_TIMEOUT_MS) >= 0,
	              "first two lines never logged");
	d_get_path(s.h.port, "/x.txt?3"); /* maybe still buffered: must not be lost */
	ck_assert(rename(alog, alog1) == 0);
	ck_assert(rename(elog, elog1) == 0 || errno == ENOENT);
	ck_assert(kill(s.h.pid, sig) == 0);
	ck_assert_msg(h_wait_exists(alog, D_TIMEOUT_MS) >= 0,
	              "signal %d: no new access log at the original path within %d ms", sig,
	              h_ms(D_TIMEOUT_MS));
	d_get_path(s.h.port, "/x.txt?4");
	d_get_path(s.h.port, "/x.txt?5");

	const char *logs[] = {alog, alog1};
	(void)h_poll(five_lines, logs, D_TIMEOUT_MS); /* the count is asserted below */
	char *old = h_read_file(alog1, NULL), *cur = h_read_file(alog, NULL);
	ck_assert(old != NULL && cur != NULL);
	ck_assert_msg(h_count_lines(old) + h_count_lines(cur) == 5,
	              "signal %d: expected 5 lines across both files, got\nold:\n%s\nnew:\n%s", sig,
	              old, cur);
	for (int i = 1; i <= 5; i++) {
		char needle[64];
		snprintf(needle, sizeof needle, "\"GET /x.txt?%d HTTP/1.1\" 200 ", i);
		const char *in_old = strstr(old, needle), *in_new = strstr(cur, needle);
		ck_assert_msg((in_old != NULL) + (in_new != NULL) == 1,
		              "request %d logged %s\nold:\n%s\nnew:\n%s", i,
		              in_old && in_new ? "in both files" : "nowhere", old, cur);
		if (i <= 3)
			ck_assert_msg(in_old, "request %d (before the signal) went to the new file",
			              i);
		else
			ck_assert_msg(in_new, "request %d (after the reopen) went to the old file",
			              i);
	}
	free(old);
	free(cur);

	/* The error log is reopened too, with timestamped lines. */
	ck_assert_msg(h_wait_exists(elog, D_TIMEOUT_MS) >= 0,
	              "signal %d: the error log was not reopened at its path", sig);
	d_server_stop_clean(&s);
	char *err = h_read_file(elog, NULL);
	ck_assert(err != NULL);
	regex_t re;
	ck_assert(regcomp(&re, "^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}",
	                  REG_EXTENDED | REG_NEWLINE) == 0);
	ck_assert_msg(err[0] != '\0' && regexec(&re, err, 0, NULL, 0) == 0,
	              "new error log should hold timestamped lines: '%s'", err);
	regfree(&re);
	free(err);
	d_env_done(&e);
}
END_TEST

/* ---- 6, 7: systemd ---- */

/* _i = 1: with --workers 2, both workers share the passed socket. */
START_TEST(test_socket_activation)
{
	struct d_env e;
	d_env_init(&e);
	int port;
	int lfd = h_listen_socket(&port);
	const char *args[] = {"--top-dir", e.www, "--no-access-log", _i ? "--workers" : NULL,
	                      "2",         NULL};
	struct d_server s;
	d_server_start(&s, &e, args, NULL, lfd);
	close(lfd); /* only the server holds it now */
	ck_assert_msg(s.h.port == port,
	              "with LISTEN_FDS=1 the server should serve the passed socket (port %d), but "
	              "it listens on %d",
	              port, s.h.port);
	char more[256];
	ck_assert_msg(h_read_line(s.h.out_fd, more, sizeof more, 200) < 0 && more[0] == '\0',
	              "only the passed socket should be used; also got '%s'", more);
	d_assert_get_x(AF_INET, port);
	d_assert_get_x(AF_INET, port);
	if (_i) {
		char path[64], kids[256] = "";
		snprintf(path, sizeof path, "/proc/%ld/task/%ld/children", (long)s.h.pid,
		         (long)s.h.pid);
		FILE *f = fopen(path, "r");
		ck_assert_msg(f != NULL, "%s: %s", path, strerror(errno));
		ck_assert(fgets(kids, sizeof kids, f) != NULL || kids[0] == '\0');
		fclose(f);
		int n = 0;
		for (char *t = strtok(kids, " \n"); t; t = strtok(NULL, " \n"))
			n++;
		ck_assert_msg(n == 2, "--workers 2 with a passed socket: %d worker(s) ('%s')", n,
		              kids);
		for (int k = 0; k < 20; k++)
			d_assert_get_x(AF_INET, port);
	}
	d_server_stop_clean(&s);
	d_env_done(&e);
}
END_TEST

/* A datagram socket bound at a path or (abstract) "@name". */
static int
d_notify_socket(int abstract, const struct d_env *e, char *name, size_t cap)
{
	struct sockaddr_un sun = {.sun_family = AF_UNIX};
	if (abstract) {
		snprintf(name, cap, "@shs-check-notify-%ld-%llu", (long)getpid(),
		         (unsigned long long)h_now_ms());
	} else {
		char p[PATH_MAX];
		d_path(e, "notify.sock", p);
		snprintf(name, cap, "%s", p);
	}
	size_t len = strlen(name);
	ck_assert(len < sizeof sun.sun_path);
	memcpy(sun.sun_path, name, len);
	if (abstract)
		sun.sun_path[0] = '\0';
	int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	ck_assert_msg(fd >= 0, "socket: %s", strerror(errno));
	socklen_t alen = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + len + !abstract);
	ck_assert_msg(bind(fd, (struct sockaddr *)&sun, alen) == 0, "bind %s: %s", name,
	              strerror(errno));
	int on = 1;
	ck_assert(setsockopt(fd, SOL_SOCKET, SO_PASSCRED, &on, sizeof on) == 0);
	return fd;
}

/* Waits for a datagram from pid holding the line want (datagrams are
 * newline-separated assignments). */
static void
d_expect_notify(int fd, const char *want, pid_t pid)
{
	uint64_t end = h_now_ms() + (uint64_t)h_ms(D_TIMEOUT_MS);
	char seen[1024] = "";
	for (;;) {
		long long left = end - h_now_ms();
		ck_assert_msg(left > 0, "no '%s' on NOTIFY_SOCKET within %d ms (got '%s')", want,
		              h_ms(D_TIMEOUT_MS), seen);
		char buf[1024];
		pid_t sender;
		if (h_recv_notify(fd, buf, sizeof buf, &sender, (int)left) < 0)
			continue;
		size_t used = strlen(seen);
		if (snprintf(seen + used, sizeof seen - used, "%s|", buf) < 0)
			seen[used] = '\0';
		ck_assert_msg(sender > 0, "no sender credentials on the notification");
		/* systemd's NotifyAccess=main accepts only the main pid. */
		ck_assert_msg(sender == pid, "'%s' sent by pid %ld, not the server (%ld)", buf,
		              (long)sender, (long)pid);
		char *save = NULL;
		for (char *line = strtok_r(buf, "\n", &save); line;
		     line = strtok_r(NULL, "\n", &save))
			if (strcmp(line, want) == 0)
				return;
	}
}

START_TEST(test_notify_socket)
{
	int abstract = _i;
	struct d_env e;
	d_env_init(&e);
	char name[PATH_MAX], env_notify[PATH_MAX + 16];
	int nfd = d_notify_socket(abstract, &e, name, sizeof name);
	snprintf(env_notify, sizeof env_notify, "NOTIFY_SOCKET=%s", name);
	const char *env[] = {env_notify, NULL};
	const char *args[] = {"--top-dir", e.www, "--port", "0", "--no-access-log", NULL};
	struct d_server s;
	d_server_start_ex(&s, &e, args, env, -1, 1);
	d_expect_notify(nfd, "READY=1", s.h.pid);
	/* Ready means serving: the startup line is already out. */
	char line[256];
	ck_assert_msg(h_read_line(s.h.out_fd, line, sizeof line, 1000) > 0,
	              "no startup line after READY=1 (got '%s')", line);
	s.h.port = h_parse_listening(line, "127.0.0.1");
	ck_assert_msg(s.h.port > 0, "startup line '%s'", line);
	d_assert_get_x(AF_INET, s.h.port);
	ck_assert(kill(s.h.pid, SIGTERM) == 0);
	d_expect_notify(nfd, "STOPPING=1", s.h.pid);
	int status;
	char buf[64];
	ck_assert_msg(h_wait_exit(s.h.pid, D_STOP_TIMEOUT_MS, &status) == 0,
	              "no exit after SIGTERM");
	ck_assert_msg(exited_with(status, 0), "expected exit 0, got %s",
	              h_describe_status(status, buf, sizeof buf));
	close(s.h.out_fd);
	close(nfd);
	d_env_done(&e);
}
END_TEST

/* ---- 8, 9: privileges ---- */

static int
d_skip_unless_root(const char *what)
{
	if (geteuid() == 0)
		return 0;
	printf("daemon suite: skipping %s: needs root (euid is %ld); passes without checking\n",
	       what, (long)geteuid());
	fflush(stdout);
	return 1;
}

/* The value of "Key:" in /proc/PID/status. */
static void
d_proc_status(pid_t pid, const char *key, char *dst, size_t cap)
{
	char path[64];
	snprintf(path, sizeof path, "/proc/%ld/status", (long)pid);
	char *text = h_read_file(path, NULL);
	ck_assert_msg(text != NULL, "%s: %s", path, strerror(errno));
	size_t klen = strlen(key);
	dst[0] = '\0';
	int found = 0;
	for (char *line = text; line && *line;) {
		char *nl = strchr(line, '\n');
		if (nl)
			*nl = '\0';
		if (strncmp(line, key, klen) == 0 && line[klen] == ':') {
			const char *v = line + klen + 1;
			while (*v == '\t' || *v == ' ')
				v++;
			snprintf(dst, cap, "%s", v);
			found = 1;
			break;
		}
		line = nl ? nl + 1 : NULL;
	}
	free(text);
	ck_assert_msg(found, "no %s in %s", key, path);
}

static void
d_assert_ids(pid_t pid, const char *key, unsigned want)
{
	char v[256];
	unsigned a, b, c, d;
	d_proc_status(pid, key, v, sizeof v);
	ck_assert_msg(sscanf(v, "%u %u %u %u", &a, &b, &c, &d) == 4, "%s: '%s'", key, v);
	ck_assert_msg(a == want && b == want && c == want && d == want,
	              "%s (real, effective, saved, fs): expected all %u, got '%s'", key, want, v);
}

/* Uid/Gid all nobody's, no supplementary group but nobody's, no
 * capabilities left. */
static void
d_assert_dropped(pid_t pid)
{
	struct passwd *pw = getpwnam("nobody");
	ck_assert_msg(pw != NULL, "no user 'nobody' on this system");
	uid_t uid = pw->pw_uid;
	gid_t gid = pw->pw_gid;
	d_assert_ids(pid, "Uid", (unsigned)uid);
	d_assert_ids(pid, "Gid", (unsigned)gid);
	char v[512];
	d_proc_status(pid, "Groups", v, sizeof v);
	char *save = NULL;
	for (char *t = strtok_r(v, " ", &save); t; t = strtok_r(NULL, " ", &save))
		ck_assert_msg(strtoul(t, NULL, 10) == gid,
		              "supplementary group %s kept after the drop (only %u expected)", t,
		              (unsigned)gid);
	static const char *const caps[] = {"CapEff", "CapPrm"};
	for (int i = 0; i < 2; i++) {
		d_proc_status(pid, caps[i], v, sizeof v);
		ck_assert_msg(strtoull(v, NULL, 16) == 0, "%s after the drop: %s", caps[i], v);
	}
}

START_TEST(test_user_nobody)
{
	if (d_skip_unless_root("the --user nobody privilege drop"))
		return;
	struct d_env e;
	d_env_init(&e);
	ck_assert(chmod(e.dir, 0755) == 0); /* nobody must reach www */
	const char *args[] = {"--top-dir",       e.www,    "--port", "0",
	                      "--no-access-log", "--user", "nobody", NULL};
	struct d_server s;
	d_server_start(&s, &e, args, NULL, -1);
	d_assert_dropped(s.h.pid);
	d_assert_get_x(AF_INET, s.h.port);
	d_server_stop_clean(&s);
	d_env_done(&e);
}
END_TEST

START_TEST(test_user_unknown)
{
	struct d_env e;
	d_env_init(&e);
	const char *args[] = {"--top-dir",       e.www,    "--port",           "0",
	                      "--no-access-log", "--user", "no-such-user-xyz", NULL};
	struct h_run r;
	char buf[64];
	d_run(NULL, args, &r);
	ck_assert_msg(exited_with(r.status, 2), "--user no-such-user-xyz: expected exit 2, got %s",
	              h_describe_status(r.status, buf, sizeof buf));
	ck_assert_msg(strstr(r.err, "no-such-user-xyz") != NULL,
	              "stderr should name the user: '%s'", r.err);
	d_env_done(&e);
}
END_TEST

START_TEST(test_no_root)
{
	if (d_skip_unless_root("--no-root as root"))
		return;
	struct d_env e;
	d_env_init(&e);
	const char *args[] = {"--top-dir",       e.www,       "--port", "0",
	                      "--no-access-log", "--no-root", NULL};
	struct h_run r;
	char buf[64];
	d_run(NULL, args, &r);
	ck_assert_msg(exited_with(r.status, 2),
	              "--no-root as root without --user: expected exit 2, got %s",
	              h_describe_status(r.status, buf, sizeof buf));
	ck_assert_msg(r.err[0] != '\0', "no reason on stderr");
	d_env_done(&e);
}
END_TEST

START_TEST(test_chroot_nobody)
{
	if (d_skip_unless_root("--chroot with --user nobody"))
		return;
	struct d_env e;
	d_env_init(&e);
	ck_assert(chmod(e.dir, 0755) == 0);
	const char *args[] = {"--top-dir", e.www,    "--port",   "0", "--no-access-log",
	                      "--user",    "nobody", "--chroot", NULL};
	struct d_server s;
	/* LeakSanitizer reads /proc at exit, which a chroot hides: under
	 * make asan it would turn a clean stop into exit 1. */
	char asan[512];
	const char *prev = getenv("ASAN_OPTIONS");
	snprintf(asan, sizeof asan, "ASAN_OPTIONS=%s%sdetect_leaks=0", prev ? prev : "",
	         prev && *prev ? ":" : "");
	const char *env[] = {asan, NULL};
	d_server_start(&s, &e, args, env, -1);
	char root[PATH_MAX], want[PATH_MAX];
	ck_assert(realpath(e.www, want) != NULL);
	d_readlink_proc(s.h.pid, "root", root, sizeof root);
	ck_assert_msg(strcmp(root, want) == 0, "root directory: expected %s, got %s", want, root);
	d_assert_dropped(s.h.pid);
	d_assert_get_x(AF_INET, s.h.port);
	d_server_stop_clean(&s);
	d_env_done(&e);
}
END_TEST

/* ---- 10: make install / uninstall, the man page ---- */

static int
is_repo(const char *dir)
{
	char p[PATH_MAX];
	d_join(p, dir, "Makefile");
	if (access(p, F_OK) != 0)
		return 0;
	d_join(p, dir, "doc/simple-http-server.1");
	return access(p, F_OK) == 0;
}

/* SHS_SRC, else the directory of SHS_BIN or its parent, else the cwd. */
static void
d_repo_root(char *dst, size_t cap)
{
	const char *src = getenv("SHS_SRC");
	if (src && *src) {
		snprintf(dst, cap, "%s", src);
		return;
	}
	const char *bin = getenv("SHS_BIN");
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

static void
d_make(const char *root, const char *target, const char *dest, const char *logpath)
{
	/* Install the binary under test: with SHS_BIN in build-asan/, say,
	 * name it and its objects so make finds them up to date. */
	char vars[PATH_MAX * 2] = "";
	const char *bin = getenv("SHS_BIN");
	size_t rl = strlen(root);
	if (bin && strncmp(bin, root, rl) == 0 && bin[rl] == '/') {
		const char *rel = bin + rl + 1;
		const char *slash = strrchr(rel, '/');
		if (slash)
			snprintf(vars, sizeof vars, " BIN='%s' BUILD='%.*s'", rel,
			         (int)(slash - rel), rel);
	}
	char cmd[PATH_MAX * 5];
	/* Not the outer make's jobserver or command-line overrides. */
	snprintf(cmd, sizeof cmd,
	         "env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL -u MAKEOVERRIDES make -s -C '%s' %s "
	         "DESTDIR='%s' PREFIX=/usr%s >'%s' 2>&1",
	         root, target, dest, vars, logpath);
	int rc = system(cmd);
	char *log = h_read_file(logpath, NULL);
	ck_assert_msg(rc != -1 && WIFEXITED(rc) && WEXITSTATUS(rc) == 0,
	              "make %s failed (wait status %#x): %s\noutput:\n%.1500s", target,
	              (unsigned)rc, cmd, log ? log : "");
	free(log);
}

static void
d_assert_file(const char *dest, const char *rel, unsigned mode)
{
	char p[PATH_MAX];
	struct stat st;
	d_join(p, dest, rel);
	ck_assert_msg(lstat(p, &st) == 0, "make install did not create %s: %s", rel,
	              strerror(errno));
	ck_assert_msg(S_ISREG(st.st_mode), "%s is not a regular file", rel);
	ck_assert_msg((st.st_mode & 07777) == mode, "%s: mode %04o, expected %04o", rel,
	              (unsigned)(st.st_mode & 07777), mode);
}

static void
d_assert_same(const char *dest, const char *rel, const char *root, const char *src_rel)
{
	char a[PATH_MAX], b[PATH_MAX];
	d_join(a, dest, rel);
	d_join(b, root, src_rel);
	size_t na, nb;
	char *x = h_read_file(a, &na), *y = h_read_file(b, &nb);
	ck_assert_msg(x && y, "reading %s / %s", a, b);
	ck_assert_msg(na == nb && memcmp(x, y, na) == 0, "installed %s differs from %s", rel,
	              src_rel);
	free(x);
	free(y);
}

START_TEST(test_make_install)
{
	struct d_env e;
	d_env_init(&e);
	char root[PATH_MAX], dest[PATH_MAX], logpath[PATH_MAX], buf[64];
	d_repo_root(root, sizeof root);
	ck_assert_msg(is_repo(root), "cannot find the source tree (tried %s); set SHS_SRC", root);
	d_path(&e, "dest", dest);
	d_path(&e, "make.log", logpath);
	d_make(root, "install", dest, logpath);

	static const char *const files[] = {
	    "usr/bin/simple-http-server",
	    "usr/share/man/man1/simple-http-server.1",
	    "usr/lib/systemd/system/simple-http-server.service",
	    "usr/lib/systemd/system/simple-http-server.socket",
	};
	d_assert_file(dest, files[0], 0755);
	d_assert_file(dest, files[1], 0644);
	d_assert_file(dest, files[2], 0644);
	d_assert_file(dest, files[3], 0644);
	d_assert_same(dest, files[1], root, "doc/simple-http-server.1");
	d_assert_same(dest, files[3], root, "doc/simple-http-server.socket");

	/* The installed binary runs and reports the same version. */
	char bin[PATH_MAX];
	d_join(bin, dest, files[0]);
	ck_assert_msg(access(bin, X_OK) == 0, "%s is not executable", bin);
	const char *version[] = {"--version", NULL};
	struct h_run r1, r2;
	d_run(bin, version, &r1);
	ck_assert_msg(exited_with(r1.status, 0), "installed --version: %s",
	              h_describe_status(r1.status, buf, sizeof buf));
	d_run(NULL, version, &r2);
	ck_assert_msg(strncmp(r1.out, "simple-http-server ", 19) == 0 && h_count_lines(r1.out) == 1,
	              "installed --version printed '%s'", r1.out);
	ck_assert_msg(strcmp(r1.out, r2.out) == 0, "installed --version '%s' differs from '%s'",
	              r1.out, r2.out);

	/* The unit starts the installed path, and nothing points at /usr/local. */
	char unit[PATH_MAX];
	d_join(unit, dest, files[2]);
	char *text = h_read_file(unit, NULL);
	ck_assert(text != NULL);
	const char *exec = strstr(text, "\nExecStart=");
	ck_assert_msg(exec != NULL, "no ExecStart= line in the unit");
	ck_assert_msg(strncmp(exec, "\nExecStart=/usr/bin/simple-http-server ", 39) == 0,
	              "ExecStart should start the installed /usr/bin/simple-http-server: '%.80s'",
	              exec + 1);
	ck_assert_msg(strstr(text, "/usr/local/") == NULL,
	              "with PREFIX=/usr the unit still mentions /usr/local/");
	ck_assert_msg(strstr(text, "\nType=notify\n") != NULL, "the unit is not Type=notify");
	free(text);

	d_make(root, "uninstall", dest, logpath);
	for (int i = 0; i < 4; i++) {
		char p[PATH_MAX];
		struct stat st;
		d_join(p, dest, files[i]);
		ck_assert_msg(lstat(p, &st) != 0 && errno == ENOENT, "make uninstall left %s",
		              files[i]);
	}
	d_env_done(&e);
}
END_TEST

/* The man page documents every flag of --help, the signals, the exit
 * statuses, and has examples. */
START_TEST(test_man_page)
{
	char root[PATH_MAX], path[PATH_MAX];
	d_repo_root(root, sizeof root);
	d_join(path, root, "doc/simple-http-server.1");
	char *man = h_read_file(path, NULL);
	ck_assert_msg(man != NULL, "%s: %s", path, strerror(errno));
	/* roff writes a hyphen as \- */
	char *w = man;
	for (const char *p = man; *p; p++)
		if (!(p[0] == '\\' && p[1] == '-'))
			*w++ = *p;
	*w = '\0';
	const char *help[] = {"--help", NULL};
	static struct h_run r;
	char buf[64];
	d_run(NULL, help, &r);
	ck_assert_msg(exited_with(r.status, 0), "--help: %s",
	              h_describe_status(r.status, buf, sizeof buf));
	int flags = 0;
	for (const char *p = r.out; (p = strstr(p, "--")) != NULL;) {
		size_t n = 2;
		while ((p[n] >= 'a' && p[n] <= 'z') || p[n] == '-')
			n++;
		char flag[64];
		snprintf(flag, sizeof flag, "%.*s", (int)n, p);
		p += n;
		if (n == 2)
			continue;
		flags++;
		const char *q = man;
		int found = 0;
		while (!found && (q = strstr(q, flag)) != NULL) {
			q += n;
			found = !((*q >= 'a' && *q <= 'z') || *q == '-');
		}
		ck_assert_msg(found, "%s is in --help but not in the man page", flag);
	}
	ck_assert_msg(flags >= 20, "only %d flags found in --help", flags);
	static const char *const must[] = {
	    ".SH SIGNALS", ".SH EXIT STATUS", ".SH EXAMPLES", "SIGTERM",       "SIGINT",
	    "SIGHUP",      "SIGUSR1",         "SIGQUIT",      "NOTIFY_SOCKET", "LISTEN_FDS"};
	for (size_t i = 0; i < sizeof must / sizeof must[0]; i++)
		ck_assert_msg(strstr(man, must[i]) != NULL, "the man page lacks '%s'", must[i]);
	free(man);
}
END_TEST

/* ---- 11: SIGTERM lets a download finish, SIGQUIT does not wait ---- */

#define BIG_SIZE ((size_t)32 << 20)

/* www/big.bin, 32 MiB without repeats; the caller frees the copy. */
static unsigned char *
d_big_file(const struct d_env *e)
{
	unsigned char *data = malloc(BIG_SIZE);
	ck_assert(data != NULL);
	uint64_t x = 0x9e3779b97f4a7c15u;
	for (size_t i = 0; i < BIG_SIZE; i += 8) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		memcpy(data + i, &x, 8);
	}
	h_write_file(e->dir, "www/big.bin", data, BIG_SIZE);
	return data;
}

/* Asks for /big.bin with a small receive buffer and reads the head and
 * 256 KiB of body slowly. Returns the connection (free it after
 * h_conn_close); *got counts body bytes so far. */
static struct h_conn *
d_start_download(int port, const unsigned char *data, size_t *got)
{
	struct h_conn *c = malloc(sizeof *c);
	ck_assert(c != NULL);
	h_conn_open_ex(c, AF_INET, port, 64 * 1024);
	h_conn_send(c, "GET /big.bin HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n");
	struct h_resp r;
	int rc = h_read_head(c, &r);
	H_ASSERT_RC(rc, &r);
	ck_assert_msg(strncmp(r.status_line, "HTTP/1.1 200 ", 13) == 0, "GET /big.bin: '%s'",
	              r.status_line);
	ck_assert_msg(h_content_length(&r) == (long long)BIG_SIZE,
	              "GET /big.bin: Content-Length %s, expected %zu",
	              h_header(&r, "Content-Length"), BIG_SIZE);
	h_resp_free(&r);
	*got = 0;
	unsigned char buf[16384];
	while (*got < 256 * 1024) {
		long k = h_read_some(c, buf, sizeof buf);
		ck_assert_msg(k > 0, "reading the body: %s", k == 0 ? "EOF" : h_strerror((int)k));
		ck_assert_msg(memcmp(buf, data + *got, (size_t)k) == 0, "wrong bytes at %zu", *got);
		*got += (size_t)k;
		h_sleep_ms(10); /* a slow reader */
	}
	return c;
}

START_TEST(test_sigterm_finishes_download)
{
	struct d_env e;
	d_env_init(&e);
	unsigned char *data = d_big_file(&e);
	const char *args[] = {"--top-dir", e.www, "--port", "0", "--no-access-log", NULL};
	struct d_server s;
	d_server_start(&s, &e, args, NULL, -1);
	size_t got;
	struct h_conn *c = d_start_download(s.h.port, data, &got);

	ck_assert(kill(s.h.pid, SIGTERM) == 0);
	int status;
	char buf[64];
	static unsigned char chunk[65536];
	for (;;) {
		/* While more is due than the socket buffers can hold (our
		 * 64 KiB and at most 4 MiB of send buffer), the server must
		 * still be running: it has the response in flight. */
		if (BIG_SIZE - got > (8u << 20))
			ck_assert_msg(waitpid(s.h.pid, &status, WNOHANG) == 0,
			              "the server exited (%s) after SIGTERM with %zu of %zu bytes "
			              "still to send",
			              h_describe_status(status, buf, sizeof buf), BIG_SIZE - got,
			              BIG_SIZE);
		long k = h_read_some(c, chunk, sizeof chunk);
		if (k == 0)
			break;
		ck_assert_msg(k > 0, "download cut at %zu of %zu bytes after SIGTERM: %s", got,
		              BIG_SIZE, h_strerror((int)k));
		ck_assert_msg(got + (size_t)k <= BIG_SIZE, "more bytes than the file holds");
		ck_assert_msg(memcmp(chunk, data + got, (size_t)k) == 0, "wrong bytes at %zu", got);
		got += (size_t)k;
	}
	h_conn_close(c);
	free(c);
	ck_assert_msg(got == BIG_SIZE, "download ended at %zu of %zu bytes after SIGTERM", got,
	              BIG_SIZE);
	ck_assert_msg(h_wait_exit(s.h.pid, D_STOP_TIMEOUT_MS, &status) == 0,
	              "no exit after the last response finished");
	ck_assert_msg(exited_with(status, 0), "after SIGTERM: expected exit 0, got %s",
	              h_describe_status(status, buf, sizeof buf));
	close(s.h.out_fd);
	free(data);
	d_env_done(&e);
}
END_TEST

START_TEST(test_sigquit_stops_at_once)
{
	struct d_env e;
	d_env_init(&e);
	unsigned char *data = d_big_file(&e);
	const char *args[] = {"--top-dir", e.www, "--port", "0", "--no-access-log", NULL};
	struct d_server s;
	d_server_start(&s, &e, args, NULL, -1);
	size_t got;
	struct h_conn *c = d_start_download(s.h.port, data, &got);

	uint64_t t0 = h_now_ms();
	ck_assert(kill(s.h.pid, SIGQUIT) == 0);
	int status;
	char buf[64];
	ck_assert_msg(h_wait_exit(s.h.pid, 2000, &status) == 0,
	              "SIGQUIT: still running after %d ms with a download in flight", h_ms(2000));
	long ms = (long)(h_now_ms() - t0);
	ck_assert_msg(ms <= h_ms(1000), "SIGQUIT took %ld ms to stop the server", ms);
	ck_assert_msg(exited_with(status, 0), "after SIGQUIT: expected exit 0, got %s",
	              h_describe_status(status, buf, sizeof buf));
	static unsigned char chunk[65536];
	long k;
	while ((k = h_read_some(c, chunk, sizeof chunk)) > 0)
		got += (size_t)k;
	/* EOF or a reset is the end; a timeout means it was left open. */
	ck_assert_msg(k == 0 || k == H_RESET, "the connection stayed open after SIGQUIT: %s",
	              h_strerror((int)k));
	h_conn_close(c);
	free(c);
	ck_assert_msg(got < BIG_SIZE, "the whole file arrived: SIGQUIT waited for it");
	close(s.h.out_fd);
	free(data);
	d_env_done(&e);
}
END_TEST

/* ---- 12: --listen, IPv4 and IPv6 at once ---- */

static int
have_ipv6_loopback(void)
{
	int fd = socket(AF_INET6, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return 0;
	struct sockaddr_in6 a = {.sin6_family = AF_INET6};
	a.sin6_addr = in6addr_loopback;
	int ok = bind(fd, (struct sockaddr *)&a, sizeof a) == 0;
	close(fd);
	return ok;
}

START_TEST(test_listen_v4_v6)
{
	int v6 = have_ipv6_loopback();
	if (!v6) {
		printf("daemon suite: ::1 is not available here; testing only the IPv4 --listen\n");
		fflush(stdout);
	}
	struct d_env e;
	d_env_init(&e);
	const char *args[] = {"--top-dir", e.www,         "--no-access-log",
	                      "--listen",  "127.0.0.1:0", v6 ? "--listen" : NULL,
	                      "[::1]:0",   NULL};
	struct d_server s;
	d_server_start_ex(&s, &e, args, NULL, -1, 1);
	int port4 = -1, port6 = -1;
	for (int i = 0; i < 1 + v6; i++) {
		char line[256], msg[512];
		if (h_read_line(s.h.out_fd, line, sizeof line, D_TIMEOUT_MS) < 0) {
			snprintf(msg, sizeof msg, "startup line %d never came (got '%s')", i + 1,
			         line);
			d_server_fail(&s, msg);
		}
		int p4 = h_parse_listening(line, "127.0.0.1"),
		    p6 = h_parse_listening(line, "[::1]");
		if (p4 > 0 && port4 < 0)
			port4 = p4;
		else if (p6 > 0 && port6 < 0)
			port6 = p6;
		else {
			snprintf(msg, sizeof msg, "unexpected startup line '%s'", line);
			d_server_fail(&s, msg);
		}
	}
	char more[256];
	ck_assert_msg(h_read_line(s.h.out_fd, more, sizeof more, 200) < 0 && more[0] == '\0',
	              "--listen replaces --host/--port: unexpected extra line '%s'", more);
	d_assert_get_x(AF_INET, port4);
	if (v6)
		d_assert_get_x(AF_INET6, port6);
	d_server_stop_clean(&s);
	d_env_done(&e);
}
END_TEST

static TCase *
d_tcase(Suite *s, const char *name)
{
	TCase *tc = tcase_create(name);
	tcase_add_unchecked_fixture(tc, NULL, d_cleanup);
	tcase_set_timeout(tc, 30);
	suite_add_tcase(s, tc);
	return tc;
}

Suite *
daemon_suite(void)
{
	/* Shared with the forked tests, so the teardown sees what they left. */
	void *page = mmap(NULL, sizeof(struct d_registry), PROT_READ | PROT_WRITE,
	                  MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (page != MAP_FAILED)
		reg = page;

	Suite *s = suite_create("daemon");
	TCase *tc = d_tcase(s, "daemon");
	tcase_add_test(tc, test_daemon_start_stop);
	tcase_add_test(tc, test_daemon_pidfile_held);
	tcase_add_test(tc, test_daemon_pidfile_stale);
	tcase_add_test(tc, test_daemon_bad_top_dir);
	tcase_add_test(tc, test_daemon_port_in_use);
	tcase_add_test(tc, test_daemon_startup_error_with_error_log);

	tc = d_tcase(s, "logs");
	tcase_add_test(tc, test_access_log_combined);
	tcase_add_test(tc, test_access_log_common);
	tcase_add_test(tc, test_access_log_escapes);
	tcase_add_test(tc, test_access_log_control_chars);
	tcase_add_loop_test(tc, test_reopen_logs, 0,
	                    (int)(sizeof reopen_signals / sizeof reopen_signals[0]));

	tc = d_tcase(s, "systemd");
	tcase_add_loop_test(tc, test_socket_activation, 0, 2);
	tcase_add_loop_test(tc, test_notify_socket, 0, 2); /* path, then abstract */

	tc = d_tcase(s, "privileges");
	tcase_add_test(tc, test_user_nobody);
	tcase_add_test(tc, test_user_unknown);
	tcase_add_test(tc, test_no_root);
	tcase_add_test(tc, test_chroot_nobody);

	tc = d_tcase(s, "install");
	tcase_add_test(tc, test_make_install);
	tcase_add_test(tc, test_man_page);

	tc = d_tcase(s, "signals");
	tcase_add_test(tc, test_sigterm_finishes_download);
	tcase_add_test(tc, test_sigquit_stops_at_once);

	tc = d_tcase(s, "listen");
	tcase_add_test(tc, test_listen_v4_v6);
	return s;
}
