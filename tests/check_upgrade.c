/* check_upgrade.c - on-line binary upgrade with SIGUSR2 (issue 16): the new
 * generation serves on the same sockets, the old one exits 0 once it is
 * ready, the pidfile and systemd's MAINPID follow; a new generation that
 * cannot start changes nothing; a second SIGUSR2 is ignored; --workers,
 * --daemon, systemd socket activation; a download and a keep-alive client
 * across the hand-over; --lameduck before the old generation retires, and
 * SIGUSR2 ignored during a stop's lame duck.
 *
 * The test process is a child subreaper, so the new generation (a child of
 * the old one) is reparented to it and its exit status can be seen. Every
 * server pid goes in a page shared with the runner, whose unchecked
 * teardown kills what a failed test left behind. Every wait polls with a
 * deadline (h_ms). */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "harness.h"
#include "suites.h"

#define U_TIMEOUT_MS 15000
#define U_MAX_PIDS 16
#define INDEX "<p>upgrade</p>\n"

/* Shared with the runner (unchecked fixture): pids to kill, dirs to remove. */
static struct u_reg {
	pid_t pid[U_MAX_PIDS];
	char dir[PATH_MAX];
} * reg;

static void
u_track(pid_t pid)
{
	for (int i = 0; i < U_MAX_PIDS; i++)
		if (reg->pid[i] == pid || reg->pid[i] == 0) {
			reg->pid[i] = pid;
			return;
		}
}

static void
u_setup(void)
{
	reg = mmap(NULL, sizeof *reg, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	ck_assert_msg(reg != MAP_FAILED, "mmap: %s", strerror(errno));
	memset(reg, 0, sizeof *reg);
}

static void
u_teardown(void)
{
	for (int i = 0; i < U_MAX_PIDS; i++) {
		if (reg->pid[i] > 0 && h_alive(reg->pid[i]))
			(void)kill(reg->pid[i], SIGKILL);
		reg->pid[i] = 0;
	}
	if (reg->dir[0])
		h_rmtree(reg->dir);
	munmap(reg, sizeof *reg);
}

/* One test's files: www/, the log, the pidfile. */
struct u_env {
	char *dir;
	const char *cwd; /* the server's working directory, or NULL: ours */
	char www[PATH_MAX], log[PATH_MAX], pidfile[PATH_MAX], bin[PATH_MAX];
};

static void
u_env_init(struct u_env *e)
{
	ck_assert_msg(prctl(PR_SET_CHILD_SUBREAPER, 1) == 0, "PR_SET_CHILD_SUBREAPER: %s",
	              strerror(errno));
	e->dir = h_mkdtemp();
	e->cwd = NULL;
	snprintf(reg->dir, sizeof reg->dir, "%s", e->dir);
	snprintf(e->www, sizeof e->www, "%s/www", e->dir);
	snprintf(e->log, sizeof e->log, "%s/err.log", e->dir);
	snprintf(e->pidfile, sizeof e->pidfile, "%s/shs.pid", e->dir);
	snprintf(e->bin, sizeof e->bin, "%s/bin/simple-http-server", e->dir);
	h_write_str(e->dir, "www/index.html", INDEX);
}

static void
u_env_free(struct u_env *e)
{
	h_rmtree(e->dir);
	reg->dir[0] = '\0';
	free(e->dir);
}

/* A copy of SHS_BIN at e->bin, which a test may replace later. */
static void
u_copy_bin(struct u_env *e)
{
	size_t len;
	char *img = h_read_file(h_bin(), &len);
	ck_assert_msg(img != NULL, "%s: %s", h_bin(), strerror(errno));
	h_write_file(e->dir, "bin/simple-http-server", img, len);
	free(img);
	ck_assert_int_eq(chmod(e->bin, 0755), 0);
}

/* Replaces e->bin (running or not: a new file renamed over it) with a
 * shell script. */
static void
u_replace_bin(struct u_env *e, const char *script)
{
	h_write_str(e->dir, "bin/next", script);
	char next[PATH_MAX + 8];
	snprintf(next, sizeof next, "%s/bin/next", e->dir);
	ck_assert_int_eq(chmod(next, 0755), 0);
	ck_assert_msg(rename(next, e->bin) == 0, "rename: %s", strerror(errno));
}

/* Starts the server (e->bin if copy, else SHS_BIN) with --pidfile and the
 * extra args; returns with the startup line read. */
static void
u_start(struct u_env *e, struct h_server *s, int copy, const char *const *extra,
        const char *const *env, int listen_fd)
{
	const char *args[24] = {"--pidfile", e->pidfile, "--no-access-log"};
	int n = 3;
	for (int i = 0; extra && extra[i]; i++)
		args[n++] = extra[i];
	args[n] = NULL;
	struct h_start o = {.bin = copy ? e->bin : NULL,
	                    .root = e->www,
	                    .args = args,
	                    .log_path = e->log,
	                    .env = env,
	                    .listen_fd = listen_fd,
	                    .cwd = e->cwd};
	char err[512];
	int r = h_server_start_ex(s, &o, err, sizeof err);
	ck_assert_msg(r == 0, "start: %s", err);
	u_track(s->pid);
}

/* The pid in the pidfile, or 0. */
static pid_t
u_pidfile(const struct u_env *e)
{
	char *t = h_read_file(e->pidfile, NULL);
	long pid = t ? atol(t) : 0;
	free(t);
	return (pid_t)pid;
}

struct u_change {
	const struct u_env *e;
	pid_t old;
};

static int
pid_changed(void *arg)
{
	struct u_change *c = arg;
	pid_t p = u_pidfile(c->e);
	return p > 0 && p != c->old;
}

/* Sends SIGUSR2 to old and waits until the pidfile names the new
 * generation, which it returns (tracked). */
static pid_t
u_upgrade(const struct u_env *e, pid_t old)
{
	ck_assert_int_eq(kill(old, SIGUSR2), 0);
	struct u_change c = {e, old};
	char tail[2048];
	if (h_poll(pid_changed, &c, U_TIMEOUT_MS) < 0) {
		h_tail_file(e->log, tail, sizeof tail);
		ck_abort_msg("the pidfile did not move to a new generation; log: %s", tail);
	}
	pid_t pid = u_pidfile(e);
	u_track(pid);
	return pid;
}

/* Waits for pid to end (reaped by us: it is our child or was reparented
 * to us) and returns its wait status. */
static int
u_wait_gone(pid_t pid)
{
	int status = -1;
	ck_assert_msg(h_wait_exit(pid, U_TIMEOUT_MS, &status) == 0, "pid %ld still running",
	              (long)pid);
	return status;
}

static void
u_assert_exit0(pid_t pid, const char *who)
{
	char buf[64];
	int status = u_wait_gone(pid);
	ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0, "%s (pid %ld): %s", who,
	              (long)pid, h_describe_status(status, buf, sizeof buf));
}

static void
u_assert_serves(int port)
{
	struct h_resp r;
	h_fetch(port, "GET", "/", NULL, &r);
	H_ASSERT_CODE(&r, 200);
	H_ASSERT_TEXT(&r, INDEX);
	h_resp_free(&r);
}

/* SIGTERM to the last generation: exit 0, pidfile removed. */
static void
u_stop(const struct u_env *e, pid_t pid)
{
	ck_assert_int_eq(kill(pid, SIGTERM), 0);
	u_assert_exit0(pid, "the new generation after SIGTERM");
	ck_assert_msg(access(e->pidfile, F_OK) != 0, "pidfile left behind");
}

static void
u_expect_log(const struct u_env *e, const char *needle)
{
	char tail[2048];
	if (h_wait_file_contains(e->log, needle, U_TIMEOUT_MS) < 0) {
		h_tail_file(e->log, tail, sizeof tail);
		ck_abort_msg("no '%s' in the log: %s", needle, tail);
	}
}

/* ---- tests ---- */

START_TEST(test_upgrade_same_binary)
{
	struct u_env e;
	u_env_init(&e);
	struct h_server s;
	u_start(&e, &s, 0, NULL, NULL, 0);
	ck_assert_int_eq(u_pidfile(&e), s.pid);
	pid_t next = u_upgrade(&e, s.pid);
	/* The old one exits 0 by itself once the new one is ready. */
	u_assert_exit0(s.pid, "the old generation");
	/* The same port (--port 0 was not bound again): the new one's
	 * startup line on the same stdout. */
	char line[512], want[64];
	snprintf(want, sizeof want, " on http://127.0.0.1:%d/\n", s.port);
	ck_assert_msg(h_read_line(s.out_fd, line, sizeof line, U_TIMEOUT_MS) > 0 &&
	                  strncmp(line, "serving ", 8) == 0 && strlen(line) > strlen(want) &&
	                  strcmp(line + strlen(line) - strlen(want), want) == 0,
	              "new generation's startup line: '%s'", line);
	u_assert_serves(s.port);
	ck_assert_int_eq(u_pidfile(&e), next);
	/* And again, from the new one. */
	pid_t third = u_upgrade(&e, next);
	u_assert_exit0(next, "the second generation");
	u_assert_serves(s.port);
	u_stop(&e, third);
	close(s.out_fd);
	u_env_free(&e);
}
END_TEST

START_TEST(test_upgrade_failed_exit2)
{
	struct u_env e;
	u_env_init(&e);
	u_copy_bin(&e);
	struct h_server s;
	u_start(&e, &s, 1, NULL, NULL, 0);
	u_replace_bin(&e, "#!/bin/sh\necho 'simple-http-server: broken build' >&2\nexit 2\n");
	ck_assert_int_eq(kill(s.pid, SIGUSR2), 0);
	u_expect_log(&e, "upgrade failed: new generation");
	u_expect_log(&e, "exited with status 2; still serving");
	ck_assert(h_alive(s.pid));
	ck_assert_int_eq(u_pidfile(&e), s.pid);
	u_assert_serves(s.port);
	/* The binary gone: refused with a line, still serving. */
	ck_assert_int_eq(unlink(e.bin), 0);
	ck_assert_int_eq(kill(s.pid, SIGUSR2), 0);
	u_expect_log(&e, "upgrade refused: cannot execute");
	u_assert_serves(s.port);
	ck_assert_int_eq(u_pidfile(&e), s.pid);
	ck_assert_int_eq(h_server_stop(&s, U_TIMEOUT_MS), 0);
	u_env_free(&e);
}
END_TEST

/* Our own binary failing at startup: its error line is in the old one's. */
START_TEST(test_upgrade_failed_startup_error)
{
	struct u_env e;
	u_env_init(&e);
	struct h_server s;
	u_start(&e, &s, 0, NULL, NULL, 0);
	char moved[PATH_MAX + 8];
	snprintf(moved, sizeof moved, "%s.moved", e.www);
	ck_assert_int_eq(rename(e.www, moved), 0); /* the old one keeps its fd */
	ck_assert_int_eq(kill(s.pid, SIGUSR2), 0);
	u_expect_log(&e, "exited with status 2: simple-http-server: top dir");
	ck_assert(h_alive(s.pid));
	ck_assert_int_eq(u_pidfile(&e), s.pid);
	u_assert_serves(s.port);
	/* Nothing changed: the next upgrade works. */
	ck_assert_int_eq(rename(moved, e.www), 0);
	pid_t next = u_upgrade(&e, s.pid);
	u_assert_exit0(s.pid, "the old generation");
	u_assert_serves(s.port);
	u_stop(&e, next);
	close(s.out_fd);
	u_env_free(&e);
}
END_TEST

START_TEST(test_upgrade_second_ignored)
{
	struct u_env e;
	u_env_init(&e);
	u_copy_bin(&e);
	struct h_server s;
	u_start(&e, &s, 1, NULL, NULL, 0);
	/* A new generation that waits for our word, then fails. */
	char script[PATH_MAX * 2];
	snprintf(script, sizeof script,
	         "#!/bin/sh\ni=0\nwhile [ ! -e %s/go ] && [ $i -lt 600 ]; do sleep 0.05; "
	         "i=$((i+1)); done\nexit 2\n",
	         e.dir);
	u_replace_bin(&e, script);
	ck_assert_int_eq(kill(s.pid, SIGUSR2), 0);
	u_expect_log(&e, "upgrade: starting");
	ck_assert_int_eq(kill(s.pid, SIGUSR2), 0);
	u_expect_log(&e, "SIGUSR2: an upgrade is in progress");
	u_assert_serves(s.port);
	h_write_str(e.dir, "go", "");
	u_expect_log(&e, "exited with status 2; still serving");
	ck_assert_int_eq(u_pidfile(&e), s.pid);
	u_assert_serves(s.port);
	ck_assert_int_eq(h_server_stop(&s, U_TIMEOUT_MS), 0);
	u_env_free(&e);
}
END_TEST

/* The master's children, from /proc (it is single-threaded). */
static int
u_children(pid_t master)
{
	char path[96];
	snprintf(path, sizeof path, "/proc/%d/task/%d/children", (int)master, (int)master);
	char *t = h_read_file(path, NULL);
	int n = 0;
	for (char *p = t; p && *p; p++)
		n += *p == ' ';
	free(t);
	return n;
}

START_TEST(test_upgrade_workers)
{
	struct u_env e;
	u_env_init(&e);
	struct h_server s;
	const char *extra[] = {"--workers", "2", NULL};
	u_start(&e, &s, 0, extra, NULL, 0);
	pid_t next = u_upgrade(&e, s.pid);
	u_assert_exit0(s.pid, "the old master");
	ck_assert_int_eq(u_children(next), 2);
	for (int i = 0; i < 20; i++)
		u_assert_serves(s.port);
	u_stop(&e, next);
	close(s.out_fd);
	u_env_free(&e);
}
END_TEST

/* The session id of pid (/proc/PID/stat: pid (comm) state ppid pgrp sid). */
static long
u_session(pid_t pid)
{
	char path[64];
	snprintf(path, sizeof path, "/proc/%ld/stat", (long)pid);
	char *st = h_read_file(path, NULL);
	ck_assert_msg(st != NULL, "%s: %s", path, strerror(errno));
	char *p = strrchr(st, ')');
	long ppid = 0, pgrp = 0, sid = -1;
	ck_assert(p && sscanf(p + 1, " %*c %ld %ld %ld", &ppid, &pgrp, &sid) == 3);
	free(st);
	return sid;
}

START_TEST(test_upgrade_daemon)
{
	struct u_env e;
	u_env_init(&e);
	/* A relative top dir: the daemon has moved to /, the new generation
	 * must still find it where the first one did. */
	const char *args[] = {"--daemon", "--pidfile",       e.pidfile, "--port",
	                      "0",        "--top-dir",       "www",     "--error-log",
	                      e.log,      "--no-access-log", NULL};
	static struct h_run r;
	char cwd[PATH_MAX];
	ck_assert(getcwd(cwd, sizeof cwd) != NULL);
	ck_assert_int_eq(chdir(e.dir), 0);
	int rc = h_run_ex(NULL, args, NULL, &r, U_TIMEOUT_MS);
	ck_assert_int_eq(chdir(cwd), 0);
	ck_assert_int_eq(rc, 0);
	ck_assert_msg(WIFEXITED(r.status) && WEXITSTATUS(r.status) == 0, "--daemon: %s", r.err);
	int port = h_parse_listening(r.out, "127.0.0.1");
	ck_assert_int_gt(port, 0);
	pid_t old = u_pidfile(&e);
	ck_assert_int_gt(old, 0);
	u_track(old);
	long sid = u_session(old);
	pid_t next = u_upgrade(&e, old);
	/* It did not detach again (setsid would give it a session of its own). */
	ck_assert_int_eq(u_session(next), sid);
	u_assert_exit0(old, "the old daemon");
	u_assert_serves(port);
	u_stop(&e, next);
	u_env_free(&e);
}
END_TEST

START_TEST(test_upgrade_socket_activation)
{
	struct u_env e;
	u_env_init(&e);
	int port;
	int lfd = h_listen_socket(&port);
	struct h_server s;
	u_start(&e, &s, 0, NULL, NULL, lfd);
	close(lfd); /* the servers hold it now */
	pid_t next = u_upgrade(&e, s.pid);
	u_assert_exit0(s.pid, "the old generation");
	u_assert_serves(port);
	u_stop(&e, next);
	close(s.out_fd);
	u_env_free(&e);
}
END_TEST

/* Datagrams on our NOTIFY_SOCKET until one holds want, each from a pid
 * that is recorded in *sender; everything seen goes into seen. */
static void
u_expect_notify(int fd, const char *want, pid_t *sender, char *seen, size_t cap)
{
	uint64_t end = h_now_ms() + (uint64_t)h_ms(U_TIMEOUT_MS);
	for (;;) {
		uint64_t now = h_now_ms();
		ck_assert_msg(now < end, "no '%s' on NOTIFY_SOCKET; got '%s'", want, seen);
		char buf[512];
		if (h_recv_notify(fd, buf, sizeof buf, sender, (int)(end - now)) < 0)
			continue;
		size_t used = strlen(seen);
		snprintf(seen + used, cap - used, "%s|", buf);
		ck_assert_msg(*sender > 0, "no sender credentials on '%s'", buf);
		if (strstr(buf, want))
			return;
	}
}

START_TEST(test_upgrade_notify_socket)
{
	struct u_env e;
	u_env_init(&e);
	char name[PATH_MAX], env_notify[PATH_MAX + 16];
	snprintf(name, sizeof name, "%s/notify", e.dir);
	int nfd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	struct sockaddr_un sun = {.sun_family = AF_UNIX};
	ck_assert(strlen(name) < sizeof sun.sun_path);
	memcpy(sun.sun_path, name, strlen(name) + 1);
	int one = 1;
	ck_assert_int_eq(bind(nfd, (struct sockaddr *)&sun, sizeof sun), 0);
	ck_assert_int_eq(setsockopt(nfd, SOL_SOCKET, SO_PASSCRED, &one, sizeof one), 0);
	snprintf(env_notify, sizeof env_notify, "NOTIFY_SOCKET=%s", name);
	const char *env[] = {env_notify, NULL};
	struct h_server s;
	u_start(&e, &s, 0, NULL, env, 0);
	char seen[2048] = "";
	pid_t sender = 0;
	u_expect_notify(nfd, "READY=1", &sender, seen, sizeof seen);
	ck_assert_int_eq(sender, s.pid);
	seen[0] = '\0';
	pid_t next = u_upgrade(&e, s.pid);
	u_expect_notify(nfd, "READY=1", &sender, seen, sizeof seen);
	/* MAINPID=<new> then READY=1, from the new generation. */
	char want[64];
	snprintf(want, sizeof want, "MAINPID=%ld\nREADY=1|", (long)next);
	ck_assert_msg(strcmp(seen, want) == 0, "datagrams '%s', want '%s'", seen, want);
	ck_assert_int_eq(sender, next);
	u_assert_exit0(s.pid, "the old generation");
	/* The retired one said nothing more (no STOPPING=1). */
	char buf[256];
	ssize_t n = recv(nfd, buf, sizeof buf - 1, MSG_DONTWAIT);
	ck_assert_msg(n < 0, "the old generation sent '%.*s'", (int)(n > 0 ? n : 0), buf);
	u_stop(&e, next);
	u_expect_notify(nfd, "STOPPING=1", &sender, seen, sizeof seen);
	ck_assert_int_eq(sender, next);
	close(nfd);
	close(s.out_fd);
	u_env_free(&e);
}
END_TEST

/* A download in progress and a keep-alive client across the hand-over. */
START_TEST(test_upgrade_in_flight)
{
	struct u_env e;
	u_env_init(&e);
	const size_t big = 8u << 20;
	h_write_pattern(e.www, "big.bin", big);
	size_t len;
	unsigned char *want = h_slurp(e.www, "big.bin", &len);
	struct h_server s;
	u_start(&e, &s, 0, NULL, NULL, 0);

	/* An idle keep-alive connection, and one downloading slowly. */
	struct h_conn idle, dl;
	struct h_resp r;
	h_conn_open(&idle, s.port);
	h_conn_send(&idle, "GET / HTTP/1.1\r\nHost: x\r\n\r\n");
	int rc = h_read_response(&idle, &r, 0);
	H_ASSERT_RC(rc, &r);
	H_ASSERT_TEXT(&r, INDEX);
	h_resp_free(&r);
	h_conn_open_ex(&dl, AF_INET, s.port, 4096);
	h_conn_send(&dl, "GET /big.bin HTTP/1.1\r\nHost: x\r\n\r\n");
	rc = h_read_head(&dl, &r);
	H_ASSERT_RC(rc, &r);
	H_ASSERT_CODE(&r, 200);
	ck_assert_int_eq(h_content_length(&r), (long long)big);
	h_resp_free(&r);
	unsigned char *got = malloc(big);
	ck_assert_int_eq(h_read_exact(&dl, got, 65536), H_OK);

	pid_t next = u_upgrade(&e, s.pid);
	/* The idle one is closed by the old generation ... */
	H_ASSERT_CLOSED(&idle);
	h_conn_close(&idle);
	/* ... which is still finishing the download. */
	ck_assert(h_alive(s.pid));
	u_assert_serves(s.port);
	ck_assert_int_eq(h_read_exact(&dl, got + 65536, big - 65536), H_OK);
	ck_assert(memcmp(got, want, big) == 0);
	/* Then it closes that connection too, and exits 0. */
	H_ASSERT_CLOSED(&dl);
	h_conn_close(&dl);
	u_assert_exit0(s.pid, "the old generation");
	u_expect_log(&e, "retiring");
	u_stop(&e, next);
	free(got);
	free(want);
	close(s.out_fd);
	u_env_free(&e);
}
END_TEST

/* Where needle first occurs in the log after the offset from, or -1. */
static long
u_log_at(const struct u_env *e, const char *needle, long from)
{
	char *text = h_read_file(e->log, NULL);
	ck_assert_msg(text != NULL, "%s: %s", e->log, strerror(errno));
	char *at = (size_t)from <= strlen(text) ? strstr(text + from, needle) : NULL;
	long off = at ? (long)(at - text) : -1;
	free(text);
	return off;
}

/* GET /h (--health /h) answers code, and / is served. */
static void
u_assert_health(int port, int code)
{
	struct h_resp r;
	h_fetch(port, "GET", "/h", NULL, &r);
	H_ASSERT_CODE(&r, code);
	h_resp_free(&r);
	u_assert_serves(port);
}

/* --lameduck applies to the old generation too: once the new one is ready
 * the old one fails --health for the lame duck's time (a balancer takes it
 * out) while it still serves, then retires and exits 0; the new one answers
 * the health path with 200. */
START_TEST(test_upgrade_lameduck)
{
	struct u_env e;
	u_env_init(&e);
	const char *extra[] = {"--health", "/h", "--lameduck", "2", NULL};
	struct h_server s;
	u_start(&e, &s, 0, extra, NULL, 0);
	uint64_t t0 = h_now_ms();
	pid_t next = u_upgrade(&e, s.pid);
	u_expect_log(&e, "lame duck: failing /h for 2 s, then retiring");
	u_assert_exit0(s.pid, "the old generation");
	/* At least the lame duck's 2 s from SIGUSR2 (the lame duck starts
	 * later still, once the new one is ready; 50 ms for the coarse clock
	 * the server measures it with). Load only makes it longer. */
	uint64_t took = h_now_ms() - t0;
	ck_assert_msg(took >= 1950, "the old generation exited %llu ms after SIGUSR2",
	              (unsigned long long)took);
	/* In this order: ready, the lame duck, then retiring. */
	char tail[2048];
	h_tail_file(e.log, tail, sizeof tail);
	long ready = u_log_at(&e, "upgrade: new generation", 0);
	ck_assert_msg(ready >= 0, "no ready line: %s", tail);
	long duck = u_log_at(&e, "lame duck: failing /h for 2 s, then retiring", ready);
	ck_assert_msg(duck > ready, "no lame duck after ready: %s", tail);
	long retire = u_log_at(&e, "retiring (--drain-timeout", duck);
	ck_assert_msg(retire > duck, "no retiring after the lame duck: %s", tail);
	/* Only the new generation is left: the health path says 200. */
	u_assert_health(s.port, 200);
	ck_assert_int_eq(u_pidfile(&e), next);
	u_stop(&e, next);
	close(s.out_fd);
	u_env_free(&e);
}
END_TEST

/* SIGUSR2 during a SIGTERM's lame duck: the process is on its way out, so
 * no upgrade starts (a new generation would inherit a draining one's
 * sockets for nothing). Logged and ignored; a second SIGTERM stops it. */
START_TEST(test_upgrade_during_lameduck_ignored)
{
	struct u_env e;
	u_env_init(&e);
	/* Long enough that the lame duck cannot end before SIGUSR2 arrives. */
	const char *extra[] = {"--health", "/h", "--lameduck", "60", NULL};
	struct h_server s;
	u_start(&e, &s, 0, extra, NULL, 0);
	ck_assert_int_eq(kill(s.pid, SIGTERM), 0);
	u_expect_log(&e, "lame duck: failing /h for 60 s, then stopping");
	ck_assert_int_eq(kill(s.pid, SIGUSR2), 0);
	u_expect_log(&e, "SIGUSR2: stopping already; ignored");
	ck_assert_msg(u_log_at(&e, "upgrade: starting", 0) < 0, "an upgrade started");
	ck_assert_int_eq(u_pidfile(&e), s.pid);
	/* Still in the lame duck: serving, /h failing. */
	u_assert_health(s.port, 503);
	ck_assert_int_eq(kill(s.pid, SIGTERM), 0);
	u_expect_log(&e, "second signal: stopping now");
	u_assert_exit0(s.pid, "the server after a second SIGTERM");
	close(s.out_fd);
	u_env_free(&e);
}
END_TEST

/* The stdout of the first generation is gone (the terminal it was started
 * from, a pipe): the new one's startup line must not kill it (SIGPIPE). */
START_TEST(test_upgrade_stdout_closed)
{
	struct u_env e;
	u_env_init(&e);
	const char *extra[] = {"--workers", "2", NULL};
	struct h_server s;
	u_start(&e, &s, 0, extra, NULL, 0);
	close(s.out_fd);
	pid_t next = u_upgrade(&e, s.pid);
	u_assert_exit0(s.pid, "the old generation");
	u_assert_serves(s.port);
	u_stop(&e, next);
	u_env_free(&e);
}
END_TEST

/* Under --chroot the binary and the paths of the arguments are outside
 * the jail: refused, with a line, nothing changed. */
START_TEST(test_upgrade_chroot_refused)
{
	if (geteuid() != 0)
		return; /* --chroot needs root */
	struct u_env e;
	u_env_init(&e);
	char asan[512];
	const char *env[] = {h_env_no_leaks(asan, sizeof asan), NULL};
	const char *extra[] = {"--chroot", NULL};
	struct h_server s;
	u_start(&e, &s, 0, extra, env, 0);
	ck_assert_int_eq(kill(s.pid, SIGUSR2), 0);
	u_expect_log(&e, "upgrade refused: not possible inside --chroot");
	u_assert_serves(s.port);
	ck_assert_int_eq(u_pidfile(&e), s.pid);
	ck_assert_int_eq(h_server_stop(&s, U_TIMEOUT_MS), 0);
	u_env_free(&e);
}
END_TEST

/* After --user the new generation starts as that user: it needs a binary
 * it may execute and files it may open, and nothing to bind. */
START_TEST(test_upgrade_user_nobody)
{
	if (geteuid() != 0)
		return; /* --user needs root */
	struct u_env e;
	u_env_init(&e);
	u_copy_bin(&e);
	ck_assert_int_eq(chmod(e.dir, 0755), 0);
	/* Started where nobody may enter too: the new generation starts in
	 * the old one's working directory (the checkout may be 0700). */
	e.cwd = e.dir;
	const char *extra[] = {"--user", "nobody", NULL};
	struct h_server s;
	u_start(&e, &s, 1, extra, NULL, 0);
	pid_t next = u_upgrade(&e, s.pid);
	u_assert_exit0(s.pid, "the old generation");
	u_assert_serves(s.port);
	char path[64], *status;
	snprintf(path, sizeof path, "/proc/%ld/status", (long)next);
	status = h_read_file(path, NULL);
	ck_assert(status != NULL);
	ck_assert_msg(strstr(status, "\nUid:\t0\t") == NULL, "the new generation runs as root");
	free(status);
	ck_assert_int_eq(kill(next, SIGTERM), 0);
	u_assert_exit0(next, "the new generation after SIGTERM");
	u_env_free(&e);
}
END_TEST

/* Started in a directory the --user cannot enter (a private checkout):
 * the new generation says so, the old one logs it and serves on. */
START_TEST(test_upgrade_user_private_cwd)
{
	if (geteuid() != 0)
		return; /* --user needs root */
	struct u_env e;
	u_env_init(&e);
	u_copy_bin(&e);
	ck_assert_int_eq(chmod(e.dir, 0755), 0);
	char *private = h_mkdtemp(); /* 0700, root's */
	e.cwd = private;
	const char *extra[] = {"--user", "nobody", NULL};
	struct h_server s;
	u_start(&e, &s, 1, extra, NULL, 0);
	ck_assert_int_eq(kill(s.pid, SIGUSR2), 0);
	u_expect_log(&e, "cannot enter the directory it was started in (uid 65534): Permission "
	                 "denied; still serving");
	ck_assert(h_alive(s.pid));
	ck_assert_int_eq(u_pidfile(&e), s.pid);
	u_assert_serves(s.port);
	ck_assert_int_eq(kill(s.pid, SIGTERM), 0);
	u_assert_exit0(s.pid, "the server after SIGTERM");
	h_rmtree(private);
	free(private);
	u_env_free(&e);
}
END_TEST

Suite *
upgrade_suite(void)
{
	Suite *s = suite_create("upgrade");
	TCase *tc = tcase_create("upgrade");
	tcase_add_unchecked_fixture(tc, u_setup, u_teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_upgrade_same_binary);
	tcase_add_test(tc, test_upgrade_failed_exit2);
	tcase_add_test(tc, test_upgrade_failed_startup_error);
	tcase_add_test(tc, test_upgrade_second_ignored);
	tcase_add_test(tc, test_upgrade_workers);
	tcase_add_test(tc, test_upgrade_daemon);
	tcase_add_test(tc, test_upgrade_socket_activation);
	tcase_add_test(tc, test_upgrade_notify_socket);
	tcase_add_test(tc, test_upgrade_in_flight);
	tcase_add_test(tc, test_upgrade_lameduck);
	tcase_add_test(tc, test_upgrade_during_lameduck_ignored);
	tcase_add_test(tc, test_upgrade_stdout_closed);
	tcase_add_test(tc, test_upgrade_chroot_refused);
	tcase_add_test(tc, test_upgrade_user_nobody);
	tcase_add_test(tc, test_upgrade_user_private_cwd);
	suite_add_tcase(s, tc);
	return s;
}
