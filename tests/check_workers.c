/* check_workers.c - --workers N over real sockets: the master, its
 * SO_REUSEPORT workers, restarts with backoff, signals passed on, the
 * pidfile, a busy port, and whole access-log lines from several workers on
 * one pipe.
 *
 * The serving TCases start one server each in an *unchecked* fixture (in
 * the runner; its teardown sends SIGTERM and reports a bad exit through
 * h_teardown_failed). Tests that must watch the master exit start their
 * own server, a child of the test process, and wait for it themselves.
 * The master's children are read from /proc/PID/task/PID/children: they
 * are exactly its workers. Every wait here has a deadline.
 *
 * The stdout tests also hold the access log to what a pipe reader needs:
 * lines that did not fit in a full pipe follow once it drains, with no new
 * request to wake a worker, and a worker that exits leaves the pipe (one
 * open file description shared by all workers) non-blocking. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "harness.h"
#include "suites.h"

#define INDEX_BODY "<p>served by a worker</p>\n"
#define MAX_KIDS 16

/* ---- small helpers ---- */

/* The harness clock, signed for the differences taken below. */
#define now_ms() ((long long)h_now_ms())

static void
sleep_ms(long ms)
{
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

/* The pids in /proc/M/task/M/children (the master is single-threaded, so
 * its main thread's children are all of them). Returns how many, or -1 if
 * the file cannot be read (the master is gone). */
static int
children(pid_t master, pid_t *kids, int cap)
{
	char path[96], buf[1024];
	snprintf(path, sizeof path, "/proc/%d/task/%d/children", (int)master, (int)master);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	ssize_t n = read(fd, buf, sizeof buf - 1);
	close(fd);
	if (n < 0)
		return -1;
	buf[n] = '\0';
	int count = 0;
	char *p = buf, *end;
	for (;;) {
		long v = strtol(p, &end, 10);
		if (end == p)
			break;
		if (count < cap)
			kids[count] = (pid_t)v;
		count++;
		p = end;
	}
	return count;
}

/* The state letter of /proc/PID/stat and its ppid; 0 if there is no such
 * process (reaped). */
static char
proc_state(pid_t pid, pid_t *ppid)
{
	char path[64], buf[1024];
	snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	ssize_t n = read(fd, buf, sizeof buf - 1);
	close(fd);
	if (n <= 0)
		return 0;
	buf[n] = '\0';
	char *paren = strrchr(buf, ')');
	char state = 0;
	int pp = 0;
	if (!paren || sscanf(paren + 1, " %c %d", &state, &pp) != 2)
		return 0;
	if (ppid)
		*ppid = (pid_t)pp;
	return state;
}

static long long proc_age_ms(pid_t pid);

/* h_poll: has *(pid_t *)arg lived 1.2 s? */
static int
older_than_1200ms(void *arg)
{
	return proc_age_ms(*(pid_t *)arg) >= 1200;
}

/* How long ago pid started (field 22 of /proc/PID/stat, in clock ticks
 * since boot), in ms, or -1. */
static long long
proc_age_ms(pid_t pid)
{
	char path[64], buf[1024];
	snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	ssize_t n = read(fd, buf, sizeof buf - 1);
	close(fd);
	if (n <= 0)
		return -1;
	buf[n] = '\0';
	char *p = strrchr(buf, ')');
	/* Fields 3 to 21 come before the start time. */
	for (int field = 3; p && field <= 22; field++)
		p = strchr(p + 1, ' ');
	unsigned long long ticks;
	if (!p || sscanf(p, " %llu", &ticks) != 1)
		return -1;
	struct timespec ts;
	clock_gettime(CLOCK_BOOTTIME, &ts);
	long long boot_ms = (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
	return boot_ms - (long long)(ticks * 1000 / (unsigned long long)sysconf(_SC_CLK_TCK));
}

/* Reaped by its parent: no /proc entry (not even a zombie's). */
static int
reaped(pid_t pid)
{
	return proc_state(pid, NULL) == 0;
}

/* CPU time in ns (first field of /proc/PID/schedstat), or -1. */
static long long
cpu_ns(pid_t pid)
{
	char path[64], buf[128];
	snprintf(path, sizeof path, "/proc/%d/schedstat", (int)pid);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	ssize_t n = read(fd, buf, sizeof buf - 1);
	close(fd);
	if (n <= 0)
		return -1;
	buf[n] = '\0';
	return strtoll(buf, NULL, 10);
}

static int
has_pid(const pid_t *v, int n, pid_t pid)
{
	for (int i = 0; i < n; i++)
		if (v[i] == pid)
			return 1;
	return 0;
}

/* Exactly two workers, both alive children of the master. */
static void
expect_two_workers(pid_t master, pid_t w[2])
{
	pid_t kids[MAX_KIDS];
	int n = children(master, kids, MAX_KIDS);
	ck_assert_msg(n == 2, "master %d has %d children, expected 2 workers", (int)master, n);
	ck_assert_msg(kids[0] != kids[1], "the same worker pid twice: %d", (int)kids[0]);
	for (int i = 0; i < 2; i++) {
		pid_t pp = 0;
		char st = proc_state(kids[i], &pp);
		ck_assert_msg(h_alive(kids[i]), "worker %d is not running (state %c)", (int)kids[i],
		              st ? st : '-');
		ck_assert_msg(pp == master, "worker %d has PPid %d, expected the master %d",
		              (int)kids[i], (int)pp, (int)master);
		w[i] = kids[i];
	}
}

/* Polls until the master has exactly two children, none of them in
 * avoid[0..navoid), and every pid in avoid is reaped. Adds each child pid
 * seen to seen[] (a set). Returns the time it got there, or -1. */
static long long
wait_two_new(pid_t master, const pid_t *avoid, int navoid, pid_t w[2], pid_t *seen, int *nseen,
             int seen_cap, long long deadline)
{
	for (;;) {
		pid_t kids[MAX_KIDS];
		int n = children(master, kids, MAX_KIDS);
		for (int i = 0; i < n && i < MAX_KIDS; i++)
			if (!has_pid(seen, *nseen, kids[i]) && *nseen < seen_cap)
				seen[(*nseen)++] = kids[i];
		int ok = n == 2;
		for (int i = 0; ok && i < 2; i++)
			ok = !has_pid(avoid, navoid, kids[i]);
		for (int i = 0; ok && i < navoid; i++)
			ok = reaped(avoid[i]);
		if (ok) {
			w[0] = kids[0];
			w[1] = kids[1];
			return now_ms();
		}
		if (now_ms() >= deadline)
			return -1;
		sleep_ms(5);
	}
}

/* A fresh connection, one GET with Connection: close: 200 and the body. */
static void
get_index(int port, const char *target)
{
	struct h_conn c;
	struct h_resp r;
	char req[256];
	snprintf(req, sizeof req,
	         "GET %s HTTP/1.1\r\nHost: test\r\nUser-Agent: check-workers\r\n"
	         "Connection: close\r\n\r\n",
	         target);
	h_conn_open(&c, port);
	h_conn_send(&c, req);
	int rc = h_read_response(&c, &r, 0);
	H_ASSERT_RC(rc, &r);
	H_ASSERT_STATUS(&r, "HTTP/1.1 200 OK");
	H_ASSERT_BODY(&r, INDEX_BODY, strlen(INDEX_BODY));
	h_resp_free(&r);
	H_ASSERT_CLOSED(&c);
	h_conn_close(&c);
}

static int
count_lines(const char *s)
{
	int n = 0;
	for (; *s; s++)
		n += *s == '\n';
	return n;
}

/* The file holds needle within timeout_ms (scaled): the harness polls. */
#define wait_file_has(path, needle, ms) (h_wait_file_contains((path), (needle), (ms)) >= 0)

/* How many of pid's fds point at path. */
static int
fds_on(pid_t pid, const char *path)
{
	int hits = 0;
	for (int fd = 0; fd < 1024; fd++) {
		char link[64], target[PATH_MAX];
		snprintf(link, sizeof link, "/proc/%d/fd/%d", (int)pid, fd);
		ssize_t t = readlink(link, target, sizeof target - 1);
		if (t <= 0)
			continue;
		target[t] = '\0';
		hits += strcmp(target, path) == 0;
	}
	return hits;
}

/* SIGTERM, then waits up to timeout_ms for the exit while reading (and
 * dropping) whatever the server writes to stdout: a worker flushing its
 * access log at exit must not block on a full pipe nobody reads. Returns
 * 0 with *status, or -1 if it had to be killed. Closes out_fd. */
static int
stop_draining(struct h_server *s, int timeout_ms, int *status)
{
	int rc = -1;
	*status = -1;
	if (s->pid > 0) {
		(void)kill(s->pid, SIGTERM);
		if (s->out_fd >= 0)
			(void)fcntl(s->out_fd, F_SETFL, O_NONBLOCK);
		long long end = now_ms() + h_ms(timeout_ms);
		for (;;) {
			char buf[65536];
			while (s->out_fd >= 0 && read(s->out_fd, buf, sizeof buf) > 0)
				;
			if (h_wait_exit(s->pid, 20, status) == 0) {
				rc = 0;
				break;
			}
			if (now_ms() >= end) {
				kill(s->pid, SIGKILL);
				(void)h_wait_exit(s->pid, 5000, status);
				break;
			}
		}
		s->pid = -1;
	}
	h_server_stop(s, 0); /* closes out_fd */
	return rc;
}

/* ---- the fixture: one server per TCase, in the runner ---- */

static struct {
	char *base;            /* /tmp/shs-test-XXXXXX */
	char root[PATH_MAX];   /* base/root: the top dir */
	char log[PATH_MAX];    /* base/server.log: stderr of the fixture server */
	char access[PATH_MAX]; /* base/access.log */
	struct h_server srv;
	long long started_ms; /* when the listening line came */
} fx = {.srv = {.pid = -1, .out_fd = -1}};

static void
make_base(void)
{
	fx.base = h_mkdtemp();
	snprintf(fx.root, sizeof fx.root, "%s/root", fx.base);
	snprintf(fx.log, sizeof fx.log, "%s/server.log", fx.base);
	snprintf(fx.access, sizeof fx.access, "%s/access.log", fx.base);
	h_mkdir(fx.base, "root");
	h_write_str(fx.root, "index.html", INDEX_BODY);
}

static void
fixture_start(const char *const *extra)
{
	make_base();
	char err[512];
	if (h_server_start(&fx.srv, fx.root, fx.log, extra, err, sizeof err) != 0)
		ck_abort_msg("starting the server: %s", err);
	fx.started_ms = now_ms();
}

static void
fixture_stop(void)
{
	if (fx.srv.pid > 0) {
		int status;
		if (stop_draining(&fx.srv, 15000, &status) != 0)
			status = -1;
		if (status == -1 || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
			char what[64], tail[4096];
			h_tail_file(fx.log, tail, sizeof tail);
			fprintf(stderr,
			        "\n!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!\n"
			        "check_workers: FAILURE: after SIGTERM the --workers master "
			        "gave %s, expected exit status 0\n--- server log (tail) ---\n%s\n"
			        "!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!\n",
			        h_describe_status(status, what, sizeof what), tail);
			h_teardown_failed("check_workers");
		}
	}
	h_rmtree(fx.base);
	free(fx.base);
	fx.base = NULL;
}

static void
setup_serve(void)
{
	const char *const extra[] = {"--workers",      "2", "--no-access-log",
	                             "--idle-timeout", "2", NULL};
	fixture_start(extra);
}

static void
setup_reopen(void)
{
	/* fx.access is only known once the base dir exists. */
	make_base();
	char err[512];
	const char *const extra[] = {
	    "--workers", "2", "--access-log", fx.access, "--log-format", "common", "--idle-timeout",
	    "2",         NULL};
	if (h_server_start(&fx.srv, fx.root, fx.log, extra, err, sizeof err) != 0)
		ck_abort_msg("starting the server: %s", err);
	fx.started_ms = now_ms();
}

static void
setup_pipe_log(void)
{
	const char *const extra[] = {"--workers", "2", "--access-log", "-", "--idle-timeout",
	                             "5",         NULL};
	fixture_start(extra);
}

/* A base dir for tests that start their own servers. */
static void
setup_own(void)
{
	make_base();
}

static void
teardown_own(void)
{
	h_rmtree(fx.base);
	free(fx.base);
	fx.base = NULL;
}

/* Checked setup: a fixture server that died earlier is named as such. */
static void
require_server(void)
{
	if (h_alive(fx.srv.pid))
		return;
	char tail[2048];
	h_tail_file(fx.log, tail, sizeof tail);
	ck_abort_msg("the --workers master (pid %d) is not running; log tail: %s", (int)fx.srv.pid,
	             tail);
}

/* A server of the test's own (its child), with stderr in base/NAME.log. */
static void
start_own(struct h_server *s, const char *name, const char *const *extra, char *log)
{
	char err[512];
	snprintf(log, PATH_MAX, "%s/%s.log", fx.base, name);
	ck_assert_msg(h_server_start(s, fx.root, log, extra, err, sizeof err) == 0, "%s", err);
}

/* SIGTERM to our own server: 0 and its wait status, or -1 if it was
 * still running 12 s later (the master SIGKILLs workers after 10 s). */
static int
stop_own(struct h_server *s, int *status)
{
	ck_assert(h_alive(s->pid));
	return stop_draining(s, 12000, status);
}

/* ---- 1. two workers share the load ---- */

START_TEST(test_two_workers_serve)
{
	pid_t master = fx.srv.pid, w[2];
	expect_two_workers(master, w);
	long long before[2];
	for (int i = 0; i < 2; i++) {
		before[i] = cpu_ns(w[i]);
		ck_assert_msg(before[i] >= 0, "cannot read /proc/%d/schedstat", (int)w[i]);
	}
	for (int i = 0; i < 400; i++)
		get_index(fx.srv.port, "/index.html");
	for (int i = 0; i < 2; i++) {
		long long after = cpu_ns(w[i]);
		ck_assert_msg(after > before[i],
		              "worker %d did no work for 400 connections (CPU %lld -> %lld ns): "
		              "the kernel did not spread them",
		              (int)w[i], before[i], after);
	}
	pid_t again[2];
	expect_two_workers(master, again);
	ck_assert_msg(has_pid(w, 2, again[0]) && has_pid(w, 2, again[1]),
	              "workers changed while serving: %d %d -> %d %d", (int)w[0], (int)w[1],
	              (int)again[0], (int)again[1]);
}
END_TEST

/* ---- 2. a killed worker is replaced, with backoff for quick deaths ---- */

/* The log has "error: worker N (pid P) killed by signal 9; restarting in
 * MS ms" with N 0 or 1. */
static void
expect_restart_line(const char *log, pid_t pid, unsigned ms)
{
	char a[160], b[160];
	snprintf(a, sizeof a, "error: worker 0 (pid %d) killed by signal 9; restarting in %u ms\n",
	         (int)pid, ms);
	snprintf(b, sizeof b, "error: worker 1 (pid %d) killed by signal 9; restarting in %u ms\n",
	         (int)pid, ms);
	long long end = now_ms() + h_ms(2000);
	for (;;) {
		char *s = h_read_file(log, NULL);
		int found = s && (strstr(s, a) || strstr(s, b));
		free(s);
		if (found)
			return;
		if (now_ms() >= end)
			break;
		sleep_ms(10);
	}
	char tail[4096];
	h_tail_file(log, tail, sizeof tail);
	ck_abort_msg("no line '%.*s' (or worker 1) in the log; tail:\n%s", (int)strlen(a) - 1, a,
	             tail);
}

START_TEST(test_worker_restart)
{
	pid_t master = fx.srv.pid, w[2];
	expect_two_workers(master, w);
	/* Workers that ran for a second are replaced at once: wait until
	 * both have (their age in /proc, polled). */
	ck_assert(h_poll(older_than_1200ms, &w[0], h_ms(5000)) >= 0);
	ck_assert(h_poll(older_than_1200ms, &w[1], h_ms(5000)) >= 0);

	pid_t victim = w[0], other = w[1];
	pid_t seen[MAX_KIDS] = {w[0], w[1]};
	int nseen = 2;
	long long killed = now_ms();
	ck_assert(kill(victim, SIGKILL) == 0);
	/* Clients the kernel sends to the dead worker's socket wait in its
	 * backlog for the replacement. */
	for (int i = 0; i < 100; i++)
		get_index(fx.srv.port, "/index.html");

	pid_t now_w[2];
	long long back =
	    wait_two_new(master, &victim, 1, now_w, seen, &nseen, MAX_KIDS, killed + h_ms(3000));
	char st = proc_state(victim, NULL);
	ck_assert_msg(back >= 0,
	              "3 s after SIGKILL to worker %d: not back to 2 workers other than it "
	              "(victim state %c)",
	              (int)victim, st ? st : '-');
	ck_assert_msg(has_pid(now_w, 2, other), "the other worker %d was replaced too: now %d %d",
	              (int)other, (int)now_w[0], (int)now_w[1]);
	pid_t r1 = now_w[0] == other ? now_w[1] : now_w[0];
	pid_t pp = 0;
	(void)proc_state(r1, &pp);
	ck_assert_msg(pp == master, "replacement %d has PPid %d, expected %d", (int)r1, (int)pp,
	              (int)master);
	expect_restart_line(fx.log, victim, 0);

	/* On a loaded machine the 100 requests above can take long enough
	 * that r1 is no longer young. Such a worker is restarted at once, as
	 * the victim was (checked again), and its replacement is taken, until
	 * one is young enough (under 500 ms: the master has 500 ms more to
	 * notice the death) that its death surely counts as quick. */
	pid_t avoid[8] = {victim};
	int navoid = 1, extra = 0;
	long long detour = now_ms();
	for (long long r1_age; (r1_age = proc_age_ms(r1)) >= 500; extra++) {
		ck_assert_msg(extra < 3, "worker %d is %lld ms old after 3 replacements", (int)r1,
		              r1_age);
		/* Killed well past the 1 s, as above: poll its age. */
		ck_assert_msg(h_poll(older_than_1200ms, &r1, h_ms(5000)) >= 0,
		              "worker %d: no start time in /proc", (int)r1);
		long long kx = now_ms();
		ck_assert(kill(r1, SIGKILL) == 0);
		avoid[navoid++] = r1;
		back = wait_two_new(master, avoid, navoid, now_w, seen, &nseen, MAX_KIDS,
		                    kx + h_ms(3000));
		ck_assert_msg(back >= 0, "no replacement within 3 s of killing %d", (int)r1);
		expect_restart_line(fx.log, r1, 0);
		r1 = now_w[0] == other ? now_w[1] : now_w[0];
	}
	ck_assert_msg(proc_age_ms(r1) >= 0, "worker %d: no start time in /proc", (int)r1);
	detour = now_ms() - detour;

	/* It dies young: 0.5 s before the next one. */
	long long k1 = now_ms();
	ck_assert(kill(r1, SIGKILL) == 0);
	avoid[navoid++] = r1;
	back = wait_two_new(master, avoid, navoid, now_w, seen, &nseen, MAX_KIDS, k1 + h_ms(3000));
	ck_assert_msg(back >= 0, "no replacement within 3 s of killing %d", (int)r1);
	ck_assert_msg(back - k1 >= 450, "replacement for %d after %lld ms, expected a 500 ms delay",
	              (int)r1, back - k1);
	pid_t r2 = now_w[0] == other ? now_w[1] : now_w[0];
	expect_restart_line(fx.log, r1, 500);

	/* And again: 1 s. */
	long long k2 = now_ms();
	ck_assert(kill(r2, SIGKILL) == 0);
	avoid[navoid++] = r2;
	back = wait_two_new(master, avoid, navoid, now_w, seen, &nseen, MAX_KIDS, k2 + h_ms(3000));
	ck_assert_msg(back >= 0, "no replacement within 3 s of killing %d", (int)r2);
	ck_assert_msg(back - k2 >= 950,
	              "replacement for %d after %lld ms, expected a 1000 ms delay", (int)r2,
	              back - k2);
	expect_restart_line(fx.log, r2, 1000);
	ck_assert_msg(back - killed - detour <= h_ms(5000),
	              "back to 2 workers only %lld ms after the first kill (%lld ms of them "
	              "replacing workers no longer young)",
	              back - killed, detour);

	/* No fork storm: one fork per death, nothing more while we watch. */
	long long quiet_end = now_ms() + h_ms(300);
	pid_t last[2];
	while (now_ms() < quiet_end) {
		(void)wait_two_new(master, avoid, 0, last, seen, &nseen, MAX_KIDS, 0);
		sleep_ms(10);
	}
	ck_assert_msg(nseen == 5 + extra, "%d distinct worker pids seen for %d kills, expected %d",
	              nseen, 3 + extra, 5 + extra);
	ck_assert_msg(h_alive(master), "the master died");
	expect_two_workers(master, last);
	ck_assert_msg(has_pid(last, 2, other), "worker %d is gone", (int)other);
	for (int i = 0; i < 20; i++)
		get_index(fx.srv.port, "/index.html");
}
END_TEST

/* ---- 3. SIGTERM to the master ---- */

/* 0: no clients; 1: an idle keep-alive connection; 2: after a worker was
 * SIGKILLed and replaced (the replacements stop cleanly: still 0). */
START_TEST(test_sigterm_master)
{
	struct h_server s;
	char log[PATH_MAX], name[32];
	snprintf(name, sizeof name, "sigterm%d", _i);
	const char *const extra[] = {"--workers",      "2",  "--no-access-log",
	                             "--idle-timeout", "30", NULL};
	start_own(&s, name, extra, log);
	pid_t w[2];
	expect_two_workers(s.pid, w);
	struct h_conn c = {.fd = -1};
	if (_i == 1) {
		struct h_resp r;
		h_conn_open(&c, s.port);
		h_conn_send(&c, "GET /index.html HTTP/1.1\r\nHost: test\r\n\r\n");
		int rc = h_read_response(&c, &r, 0);
		H_ASSERT_RC(rc, &r);
		H_ASSERT_STATUS(&r, "HTTP/1.1 200 OK");
		H_ASSERT_BODY(&r, INDEX_BODY, strlen(INDEX_BODY));
		h_resp_free(&r);
	}
	if (_i == 2) {
		pid_t seen[MAX_KIDS] = {w[0], w[1]};
		int nseen = 2;
		ck_assert(kill(w[0], SIGKILL) == 0);
		pid_t now_w[2];
		ck_assert_msg(wait_two_new(s.pid, &w[0], 1, now_w, seen, &nseen, MAX_KIDS,
		                           now_ms() + h_ms(3000)) >= 0,
		              "worker %d not replaced within 3 s", (int)w[0]);
		get_index(s.port, "/index.html");
		w[0] = now_w[0];
		w[1] = now_w[1];
	}
	long long t0 = now_ms();
	ck_assert(kill(s.pid, SIGTERM) == 0);
	if (_i == 1) {
		H_ASSERT_CLOSED(&c);
		long long took = now_ms() - t0;
		ck_assert_msg(took < h_ms(3000),
		              "the idle connection was closed %lld ms after SIGTERM", took);
		h_conn_close(&c);
	}
	int status;
	int rc = h_wait_exit(s.pid, 10000, &status);
	if (rc != 0) {
		kill(s.pid, SIGKILL);
		(void)h_wait_exit(s.pid, 5000, &status);
	}
	pid_t master = s.pid;
	s.pid = -1;
	h_server_stop(&s, 0);
	char what[64], tail[4096];
	h_tail_file(log, tail, sizeof tail);
	ck_assert_msg(rc == 0, "master %d still running 10 s after SIGTERM; log:\n%s", (int)master,
	              tail);
	ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0,
	              "master after SIGTERM: %s, expected exit status 0; log:\n%s",
	              h_describe_status(status, what, sizeof what), tail);
	for (int i = 0; i < 2; i++)
		ck_assert_msg(proc_state(w[i], NULL) == 0,
		              "worker %d still exists (state %c) after the master exited",
		              (int)w[i], proc_state(w[i], NULL));
	int late = h_connect(s.port, 0);
	int e = errno;
	h_close(late);
	ck_assert_msg(late < 0 && e == ECONNREFUSED,
	              "port %d after the master exited: connect gave %d (%s), expected refused",
	              s.port, late, strerror(e));
}
END_TEST

/* ---- 4. SIGKILL to the master ---- */

START_TEST(test_sigkill_master)
{
	struct h_server s;
	char log[PATH_MAX];
	const char *const extra[] = {"--workers", "2", "--no-access-log", NULL};
	start_own(&s, "sigkill", extra, log);
	pid_t w[2];
	expect_two_workers(s.pid, w);
	get_index(s.port, "/index.html");
	ck_assert(kill(s.pid, SIGKILL) == 0);
	int status;
	ck_assert_msg(h_wait_exit(s.pid, 5000, &status) == 0, "SIGKILLed master not reaped");
	ck_assert(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
	s.pid = -1;
	h_server_stop(&s, 0);
	/* PR_SET_PDEATHSIG tells them. Orphans go to the nearest subreaper:
	 * if that is us, reap them here. */
	long long end = now_ms() + h_ms(3000);
	int gone = 0;
	while (!gone && now_ms() < end) {
		gone = 1;
		for (int i = 0; i < 2; i++) {
			(void)waitpid(w[i], NULL, WNOHANG);
			gone &= !h_alive(w[i]);
		}
		if (!gone)
			sleep_ms(10);
	}
	for (int i = 0; i < 2; i++) {
		char st = proc_state(w[i], NULL);
		ck_assert_msg(!h_alive(w[i]),
		              "worker %d still running (state %c) 3 s after the master was killed",
		              (int)w[i], st ? st : '-');
	}
	int late = h_connect(s.port, 0);
	int e = errno;
	h_close(late);
	ck_assert_msg(late < 0 && e == ECONNREFUSED,
	              "port %d after the workers exited: connect gave %d (%s), expected refused",
	              s.port, late, strerror(e));
}
END_TEST

/* ---- 5. SIGHUP: every worker reopens its access log ---- */

START_TEST(test_sighup_reopen)
{
	pid_t master = fx.srv.pid, w[2];
	expect_two_workers(master, w);
	char rotated[PATH_MAX + 8];
	snprintf(rotated, sizeof rotated, "%s.1", fx.access);

	get_index(fx.srv.port, "/index.html?before");
	const char *old_line = "\"GET /index.html?before HTTP/1.1\" 200 26\n";
	ck_assert_msg(wait_file_has(fx.access, old_line, 3000),
	              "no access log line for the request");
	ck_assert(rename(fx.access, rotated) == 0);
	ck_assert(kill(master, SIGHUP) == 0);

	/* Each worker holds the new file and none the old one. */
	long long end = now_ms() + h_ms(3000);
	int ok = 0;
	while (!ok && now_ms() < end) {
		ok = 1;
		for (int i = 0; i < 2; i++)
			ok &= fds_on(w[i], fx.access) == 1 && fds_on(w[i], rotated) == 0;
		if (!ok)
			sleep_ms(10);
	}
	for (int i = 0; i < 2; i++)
		ck_assert_msg(ok, "worker %d after SIGHUP: %d fd(s) on %s, %d on %s", (int)w[i],
		              fds_on(w[i], fx.access), fx.access, fds_on(w[i], rotated), rotated);

	long long cpu[2];
	for (int i = 0; i < 2; i++)
		cpu[i] = cpu_ns(w[i]);
	for (int i = 0; i < 50; i++) {
		char target[64];
		snprintf(target, sizeof target, "/index.html?after=%d", i);
		get_index(fx.srv.port, target);
	}
	for (int i = 0; i < 2; i++)
		ck_assert_msg(cpu_ns(w[i]) > cpu[i], "worker %d served none of 50 connections",
		              (int)w[i]);

	/* Lines are flushed once per loop turn: wait for all 50. */
	end = now_ms() + h_ms(3000);
	char *now = NULL;
	for (;;) {
		free(now);
		now = h_read_file(fx.access, NULL);
		if ((now && count_lines(now) >= 50) || now_ms() >= end)
			break;
		sleep_ms(10);
	}
	ck_assert_msg(now != NULL, "%s was not re-created", fx.access);
	char *old = h_read_file(rotated, NULL);
	ck_assert(old != NULL);
	ck_assert_msg(count_lines(old) == 1 && strstr(old, old_line),
	              "%s should hold exactly the request before SIGHUP:\n%s", rotated, old);
	ck_assert_msg(count_lines(now) == 50, "%s holds %d lines, expected 50:\n%.2000s", fx.access,
	              count_lines(now), now);
	for (int i = 0; i < 50; i++) {
		char want[96];
		snprintf(want, sizeof want, "\"GET /index.html?after=%d HTTP/1.1\" 200 26\n", i);
		char *first = strstr(now, want);
		ck_assert_msg(first != NULL, "no line for request %d in %s", i, fx.access);
		ck_assert_msg(strstr(first + 1, want) == NULL, "request %d logged twice", i);
		ck_assert_msg(strstr(old, want) == NULL, "request %d in the rotated file", i);
	}
	ck_assert_msg(strstr(now, "before") == NULL, "the old request is in the new file too");
	free(now);
	free(old);
}
END_TEST

/* ---- 6. the pidfile belongs to the master ---- */

static void
expect_pidfile(const char *path, pid_t master)
{
	char want[32];
	snprintf(want, sizeof want, "%d\n", (int)master);
	char *got = h_read_file(path, NULL);
	ck_assert_msg(got != NULL, "pidfile %s: %s", path, strerror(errno));
	ck_assert_msg(strcmp(got, want) == 0, "pidfile holds '%s', expected '%d\\n'", got,
	              (int)master);
	free(got);
}

START_TEST(test_pidfile_master)
{
	struct h_server s;
	char log[PATH_MAX], pidfile[PATH_MAX];
	snprintf(pidfile, sizeof pidfile, "%s/shs.pid", fx.base);
	const char *const extra[] = {"--workers", "2",     "--no-access-log",
	                             "--pidfile", pidfile, NULL};
	start_own(&s, "pidfile", extra, log);
	pid_t w[2];
	expect_two_workers(s.pid, w);
	expect_pidfile(pidfile, s.pid);

	pid_t seen[MAX_KIDS] = {w[0], w[1]};
	int nseen = 2;
	pid_t now_w[2];
	ck_assert(kill(w[0], SIGKILL) == 0);
	ck_assert_msg(wait_two_new(s.pid, &w[0], 1, now_w, seen, &nseen, MAX_KIDS,
	                           now_ms() + h_ms(3000)) >= 0,
	              "worker %d not replaced within 3 s", (int)w[0]);
	get_index(s.port, "/index.html"); /* the replacement got through its start */
	expect_pidfile(pidfile, s.pid);

	/* A worker that stops cleanly (its own exit path) leaves it too. */
	ck_assert(kill(w[1], SIGTERM) == 0);
	pid_t avoid[2] = {w[0], w[1]};
	ck_assert_msg(wait_two_new(s.pid, avoid, 2, now_w, seen, &nseen, MAX_KIDS,
	                           now_ms() + h_ms(3000)) >= 0,
	              "worker %d not replaced within 3 s of its SIGTERM", (int)w[1]);
	get_index(s.port, "/index.html");
	expect_pidfile(pidfile, s.pid);

	int status;
	pid_t master = s.pid;
	ck_assert_msg(stop_own(&s, &status) == 0, "master %d still running 12 s after SIGTERM",
	              (int)master);
	struct stat st;
	ck_assert_msg(stat(pidfile, &st) != 0 && errno == ENOENT,
	              "pidfile %s still there after the master exited", pidfile);
}
END_TEST

/* ---- 7. a port somebody holds ---- */

/* 0: a plain listener; 1: one with SO_REUSEPORT, which a --workers group
 * must not join. */
/* Runs SHS_BIN args with RLIMIT_NOFILE = nofile and only fds 0-2 open; its
 * stdout and stderr are collected into out/err. Returns the wait status, or
 * -1 if it was still running after timeout_ms (then it is killed). */
static int
run_with_nofile(const char *const *args, unsigned nofile, char *out, size_t outcap, char *err,
                size_t errcap, int timeout_ms)
{
	const char *argv[16] = {h_bin()};
	size_t argc = 1;
	for (size_t i = 0; args[i] && argc < 15; i++)
		argv[argc++] = args[i];
	argv[argc] = NULL;
	int po[2], pe[2];
	ck_assert(pipe2(po, O_CLOEXEC) == 0 && pipe2(pe, O_CLOEXEC) == 0);
	pid_t pid = fork();
	ck_assert(pid >= 0);
	if (pid == 0) {
		int in = open("/dev/null", O_RDONLY);
		if (in < 0 || dup2(in, 0) < 0 || dup2(po[1], 1) < 0 || dup2(pe[1], 2) < 0)
			_exit(127);
		(void)close_range(3, ~0U, 0);
		struct rlimit rl = {nofile, nofile};
		if (setrlimit(RLIMIT_NOFILE, &rl) != 0)
			_exit(127);
		/* Under ASan, LeakSanitizer needs fds of its own at exit and
		 * turns a clean exit 2 into 1 when there are none. */
		const char *asan = getenv("ASAN_OPTIONS");
		char opts[512];
		snprintf(opts, sizeof opts, "%s%sdetect_leaks=0", asan ? asan : "",
		         asan && *asan ? ":" : "");
		if (setenv("ASAN_OPTIONS", opts, 1) != 0)
			_exit(127);
		execv(argv[0], (char *const *)argv);
		_exit(127);
	}
	close(po[1]);
	close(pe[1]);
	size_t no = 0, ne = 0;
	int status = -1;
	long long deadline = now_ms() + h_ms(timeout_ms);
	struct pollfd pf[2] = {{.fd = po[0], .events = POLLIN}, {.fd = pe[0], .events = POLLIN}};
	while (now_ms() < deadline && (pf[0].fd >= 0 || pf[1].fd >= 0)) {
		if (poll(pf, 2, 50) <= 0)
			continue;
		for (int k = 0; k < 2; k++) {
			if (pf[k].fd < 0 || !pf[k].revents)
				continue;
			char *dst = k ? err : out;
			size_t *len = k ? &ne : &no, cap = k ? errcap : outcap;
			ssize_t n = read(pf[k].fd, dst + *len, cap - 1 - *len);
			if (n > 0)
				*len += (size_t)n;
			else
				pf[k].fd = -1; /* EOF, or the buffer is full */
		}
	}
	out[no] = err[ne] = '\0';
	close(po[0]);
	close(pe[0]);
	if (h_wait_exit(pid, pf[0].fd < 0 && pf[1].fd < 0 ? 2000 : 0, &status) != 0) {
		kill(pid, SIGKILL);
		(void)h_wait_exit(pid, 2000, &status);
		return -1;
	}
	return status;
}

/* Whatever the open-file limit, a start either serves or fails cleanly:
 * exit status 2 within seconds, every stderr line a whole
 * "simple-http-server: ..." line (workers failing together must not mix
 * their bytes), and no process left behind. Too low a limit fails in the
 * master or in the workers depending on the count; both are covered. */
START_TEST(test_start_failure_clean)
{
	unsigned nofile = 8 + (unsigned)_i;
	const char *const args[] = {"--top-dir", fx.root, "--port",          "0",
	                            "--workers", "2",     "--no-access-log", NULL};
	char out[4096], err[4096];
	int status = run_with_nofile(args, nofile, out, sizeof out, err, sizeof err, 2000);
	if (status == -1) {
		/* Still running after 2 s: it must be serving. */
		ck_assert_msg(h_parse_listening(out, "127.0.0.1") > 0,
		              "nofile %u: neither serving nor exited after 2 s; stdout '%s' stderr "
		              "'%s'",
		              nofile, out, err);
		return;
	}
	char what[64];
	ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 2,
	              "nofile %u: %s, expected exit status 2; stderr: %s", nofile,
	              h_describe_status(status, what, sizeof what), err);
	ck_assert_msg(err[0] != '\0', "nofile %u: exit 2 with nothing on stderr", nofile);
	for (char *line = err; *line;) {
		char *nl = strchr(line, '\n');
		ck_assert_msg(nl != NULL, "nofile %u: stderr does not end in a newline: '%s'",
		              nofile, err);
		*nl = '\0';
		int ok = strncmp(line, "simple-http-server: ", 20) == 0 ||
		         strstr(line, " simple-http-server[") != NULL; /* a timestamped log line */
		ck_assert_msg(ok && strchr(line + 1, '\r') == NULL,
		              "nofile %u: a broken stderr line: '%s'", nofile, line);
		line = nl + 1;
	}
}
END_TEST

START_TEST(test_port_in_use)
{
	int l = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	ck_assert(l >= 0);
	int one = 1;
	if (_i == 1)
		ck_assert(setsockopt(l, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one) == 0);
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t al = sizeof a;
	ck_assert(bind(l, (struct sockaddr *)&a, sizeof a) == 0);
	ck_assert(listen(l, 16) == 0);
	ck_assert(getsockname(l, (struct sockaddr *)&a, &al) == 0);
	int port = ntohs(a.sin_port);
	char port_s[16];
	snprintf(port_s, sizeof port_s, "%d", port);

	const char *const args[] = {"--top-dir", fx.root, "--workers", "2", "--port", port_s, NULL};
	struct h_run r;
	ck_assert_msg(h_run_cli(args, &r, 10000) == 0, "still running after 10 s; stderr: %s",
	              r.err);
	char what[64], want[128];
	snprintf(want, sizeof want, "simple-http-server: port %d is in use on 127.0.0.1 (choose another with -p PORT, or -p 0 for any free port)\n",
	         port);
	ck_assert_msg(WIFEXITED(r.status) && WEXITSTATUS(r.status) == 2,
	              "--workers 2 on a busy port: %s, expected exit status 2; stderr: %s",
	              h_describe_status(r.status, what, sizeof what), r.err);
	ck_assert_msg(strcmp(r.err, want) == 0, "stderr: expected '%s', got '%s'", want, r.err);
	ck_assert_msg(r.out_len == 0, "stdout: '%s'", r.out);

	/* The port is still ours alone: a client lands on our socket. */
	int c = h_connect(port, 0);
	ck_assert_msg(c >= 0, "connect to our own port %d: %s", port, strerror(errno));
	struct pollfd p = {.fd = l, .events = POLLIN};
	ck_assert_msg(poll(&p, 1, h_ms(2000)) == 1, "our listener got no connection");
	int a2 = accept(l, NULL, NULL);
	ck_assert(a2 >= 0);
	close(a2);
	h_close(c);
	close(l);
}
END_TEST

/* ---- 8. access-log lines from two workers on one pipe ---- */

#define PL_CONNS 40
#define PL_REQS 30
#define PL_PAD 1000
#define PL_UA "check-workers"
/* Requests allowed ahead of the log lines read: see pl_drive. */
#define PL_BEHIND 90

struct pl_conn {
	int fd;
	char *req; /* all PL_REQS requests */
	size_t req_len, sent;
	char *in; /* everything received */
	size_t in_len, in_cap;
	int eof;
};

/* "GET /pl-CC-RR-xxx...x HTTP/1.1": the request line of request r on c. */
static int
pl_request_line(char *dst, size_t cap, int c, int r)
{
	/* Segments of 200 bytes: one longer than NAME_MAX would be a 414. */
	char pad[PL_PAD + 1];
	memset(pad, 'x', PL_PAD);
	for (int i = 200; i < PL_PAD; i += 200)
		pad[i] = '/';
	pad[PL_PAD] = '\0';
	return snprintf(dst, cap, "GET /pl-%02d-%02d-%s HTTP/1.1", c, r, pad);
}

/* Splits a connection's bytes into PL_REQS responses: each a 404 with a
 * Content-Length body. Stores the body sizes. */
static void
pl_check_responses(const struct pl_conn *pc, int c, long *sizes)
{
	size_t off = 0;
	for (int r = 0; r < PL_REQS; r++) {
		const char *p = pc->in + off;
		size_t left = pc->in_len - off;
		const char *status = "HTTP/1.1 404 Not Found\r\n";
		ck_assert_msg(left >= strlen(status) && memcmp(p, status, strlen(status)) == 0,
		              "connection %d response %d: does not start with a 404 status line", c,
		              r);
		const char *eoh = memmem(p, left, "\r\n\r\n", 4);
		ck_assert_msg(eoh != NULL, "connection %d response %d: no end of head", c, r);
		const char *cl = memmem(p, (size_t)(eoh - p), "\r\nContent-Length: ", 18);
		ck_assert_msg(cl != NULL, "connection %d response %d: no Content-Length", c, r);
		long n = strtol(cl + 18, NULL, 10);
		size_t total = (size_t)(eoh + 4 - p) + (size_t)n;
		ck_assert_msg(n > 0 && total <= left, "connection %d response %d: short body", c,
		              r);
		sizes[r] = n;
		off += total;
	}
	ck_assert_msg(off == pc->in_len, "connection %d: %zu bytes after %d responses", c,
	              pc->in_len - off, PL_REQS);
}

/* One access-log line, without its '\n': the exact Combined format for
 * one of our requests, each request once. */
static void
pl_check_line(const char *line, size_t len, unsigned char seen[PL_CONNS][PL_REQS],
              long sizes[PL_CONNS][PL_REQS])
{
	const char *pre = "127.0.0.1 - - [";
	size_t pl = strlen(pre);
	ck_assert_msg(len > pl + 29 && memcmp(line, pre, pl) == 0, "bad log line: '%.*s'",
	              (int)(len > 300 ? 300 : len), line);
	/* [dd/Mon/yyyy:HH:MM:SS +0000] " */
	const char *d = line + pl;
	int ok = d[2] == '/' && d[6] == '/' && d[11] == ':' && d[14] == ':' && d[17] == ':' &&
	         memcmp(d + 20, " +0000] \"", 9) == 0;
	ck_assert_msg(ok, "bad date in log line: '%.60s'", line);
	const char *req = d + 29;
	int c = -1, r = -1;
	ck_assert_msg(sscanf(req, "GET /pl-%2d-%2d-", &c, &r) == 2 && c >= 0 && c < PL_CONNS &&
	                  r >= 0 && r < PL_REQS,
	              "log line for an unknown request: '%.80s'", line);
	char want[PL_PAD + 256];
	int n = pl_request_line(want, sizeof want, c, r);
	long size = sizes[c][r];
	if (size < 0) { /* take the logged size, digits only */
		const char *sp = strstr(req, "\" 404 ");
		char *e = NULL;
		size = sp ? strtol(sp + 6, &e, 10) : -1;
		ck_assert_msg(sp && e > sp + 6 && size > 0, "no size in log line '%.*s'", (int)len,
		              line);
	}
	n += snprintf(want + n, sizeof want - (size_t)n, "\" 404 %ld \"-\" \"%s\"", size, PL_UA);
	size_t rest = len - (size_t)(req - line);
	ck_assert_msg(rest == (size_t)n && memcmp(req, want, rest) == 0,
	              "log line for request %d/%d: expected '...%s', got '%.*s'", c, r,
	              want + PL_PAD, (int)rest, req);
	ck_assert_msg(!seen[c][r], "request %d/%d logged twice", c, r);
	seen[c][r] = 1;
}

/* Sends, receives and reads the log in one loop. */
static int
pl_drive(struct pl_conn *pc, int out, char *logbuf, size_t log_cap, size_t *log_len,
         int *max_queued)
{
	int started = 0, done = 0, want = PL_CONNS * PL_REQS, lines = 0;
	long long end = now_ms() + h_ms(20000), progress = now_ms();
	while ((done < PL_CONNS || lines < want) && now_ms() < end &&
	       now_ms() - progress < h_ms(2000)) {
		/* At most PL_BEHIND requests not yet in the log we read: more than
		 * the pipe holds, so it fills, but less than the pipe and one
		 * worker's buffer, so no line may be dropped. */
		while (started < PL_CONNS && (started + 1) * PL_REQS - lines <= PL_BEHIND) {
			struct pl_conn *q = &pc[started++];
			q->fd = h_connect(fx.srv.port, 0);
			ck_assert_msg(q->fd >= 0, "connect: %s", strerror(errno));
			ck_assert(fcntl(q->fd, F_SETFL, O_NONBLOCK) == 0);
		}
		struct pollfd p[PL_CONNS + 1];
		p[0] = (struct pollfd){.fd = out, .events = POLLIN};
		for (int c = 0; c < PL_CONNS; c++) {
			short ev = pc[c].sent < pc[c].req_len ? POLLOUT : 0;
			ev |= pc[c].eof ? 0 : POLLIN;
			p[c + 1] = (struct pollfd){.fd = c < started ? pc[c].fd : -1, .events = ev};
		}
		(void)poll(p, PL_CONNS + 1, 50);
		int queued = 0;
		if (ioctl(out, FIONREAD, &queued) == 0 && queued > *max_queued)
			*max_queued = queued;
		/* Slowly-ish: two pieces of 1500 bytes a turn, which split lines. */
		for (int k = 0; k < 2 && *log_len + 1500 < log_cap; k++) {
			ssize_t n = read(out, logbuf + *log_len, 1500);
			if (n <= 0)
				break;
			for (ssize_t j = 0; j < n; j++)
				lines += logbuf[*log_len + (size_t)j] == '\n';
			*log_len += (size_t)n;
			progress = now_ms();
		}
		for (int c = 0; c < started; c++) {
			struct pl_conn *q = &pc[c];
			if (q->sent < q->req_len) {
				ssize_t n = send(q->fd, q->req + q->sent, q->req_len - q->sent,
				                 MSG_NOSIGNAL | MSG_DONTWAIT);
				if (n > 0)
					q->sent += (size_t)n;
				else
					ck_assert_msg(n < 0 && (errno == EAGAIN || errno == EINTR),
					              "send on connection %d: %s", c,
					              strerror(errno));
			}
			while (!q->eof) {
				if (q->in_cap - q->in_len < 4096) {
					q->in_cap = q->in_cap ? q->in_cap * 2 : 16384;
					q->in = realloc(q->in, q->in_cap);
					ck_assert(q->in != NULL);
				}
				ssize_t n = recv(q->fd, q->in + q->in_len, q->in_cap - q->in_len,
				                 MSG_DONTWAIT);
				if (n > 0) {
					q->in_len += (size_t)n;
					progress = now_ms();
					continue;
				}
				if (n < 0 && (errno == EAGAIN || errno == EINTR))
					break;
				ck_assert_msg(n == 0, "recv on connection %d: %s", c,
				              strerror(errno));
				q->eof = 1;
				done++;
			}
		}
	}
	return lines;
}

START_TEST(test_access_log_pipe)
{
	pid_t master = fx.srv.pid, w[2];
	expect_two_workers(master, w);
	static struct pl_conn pc[PL_CONNS];
	static long sizes[PL_CONNS][PL_REQS];
	static unsigned char seen[PL_CONNS][PL_REQS];
	for (int c = 0; c < PL_CONNS; c++) {
		pc[c] = (struct pl_conn){.fd = -1};
		pc[c].req = malloc(PL_REQS * (PL_PAD + 128));
		ck_assert(pc[c].req != NULL);
		for (int r = 0; r < PL_REQS; r++) {
			char line[PL_PAD + 64];
			pl_request_line(line, sizeof line, c, r);
			pc[c].req_len +=
			    (size_t)sprintf(pc[c].req + pc[c].req_len,
			                    "%s\r\nHost: test\r\nUser-Agent: %s\r\n%s\r\n", line,
			                    PL_UA, r == PL_REQS - 1 ? "Connection: close\r\n" : "");
		}
	}
	int out = fx.srv.out_fd;
	ck_assert(fcntl(out, F_SETFL, O_NONBLOCK) == 0);
	size_t log_cap = (size_t)PL_CONNS * PL_REQS * (PL_PAD + 200), log_len = 0;
	char *logbuf = malloc(log_cap);
	ck_assert(logbuf != NULL);
	long long cpu[2] = {cpu_ns(w[0]), cpu_ns(w[1])};
	int max_queued = 0;
	int lines = pl_drive(pc, out, logbuf, log_cap, &log_len, &max_queued);
	char tail[2048];
	h_tail_file(fx.log, tail, sizeof tail);

	/* Whole lines first: what came must be exactly our lines, once each. */
	memset(seen, 0, sizeof seen);
	for (int c = 0; c < PL_CONNS; c++)
		for (int r = 0; r < PL_REQS; r++)
			sizes[c][r] = -1; /* unknown until its connection finished */
	size_t whole = log_len;
	while (whole > 0 && logbuf[whole - 1] != '\n')
		whole--;
	for (int c = 0; c < PL_CONNS; c++)
		if (pc[c].eof)
			pl_check_responses(&pc[c], c, sizes[c]);
	for (size_t off = 0; off < whole;) {
		const char *nl = memchr(logbuf + off, '\n', whole - off);
		pl_check_line(logbuf + off, (size_t)(nl - (logbuf + off)), seen, sizes);
		off = (size_t)(nl - logbuf) + 1;
	}
	ck_assert_msg(whole == log_len, "the log on stdout ends mid-line: '%.100s'",
	              logbuf + whole);
	free(logbuf);

	int done = 0;
	for (int c = 0; c < PL_CONNS; c++) {
		done += pc[c].eof;
		h_close(pc[c].fd);
		free(pc[c].req);
		free(pc[c].in);
		pc[c].req = pc[c].in = NULL;
	}
	ck_assert_msg(done == PL_CONNS,
	              "%d of %d connections finished; %d log lines read (the test waits for "
	              "them before sending more; pipe held up to %d bytes); server log: %s",
	              done, PL_CONNS, lines, max_queued, tail);
	for (int i = 0; i < 2; i++)
		ck_assert_msg(cpu_ns(w[i]) > cpu[i], "worker %d served none of the connections",
		              (int)w[i]);
	ck_assert_msg(strstr(tail, "dropped") == NULL, "the server dropped lines: %s", tail);
	ck_assert_msg(lines == PL_CONNS * PL_REQS,
	              "%d access-log lines on stdout for %d requests, none reported dropped, "
	              "2 s after the last (the pipe held up to %d bytes); server log: %s",
	              lines, PL_CONNS * PL_REQS, max_queued, tail);
}
END_TEST

/* ---- 10, 11. a stdout reader that stalls ---- */

/* A fresh connection with one request for a missing ~1 KB path (so its
 * access-log line is long). 1 if a 404 came within timeout_ms. */
static int
get_404(int port, int i, int timeout_ms)
{
	char line[PL_PAD + 64], req[PL_PAD + 128];
	pl_request_line(line, sizeof line, PL_CONNS + i / PL_REQS, i % PL_REQS);
	snprintf(req, sizeof req, "%s\r\nHost: test\r\nConnection: close\r\n\r\n", line);
	int fd = h_connect(port, 0);
	ck_assert_msg(fd >= 0, "connect: %s", strerror(errno));
	ck_assert(h_send_all(fd, req, strlen(req)) == 0);
	struct pollfd p = {.fd = fd, .events = POLLIN};
	char buf[32] = "";
	ssize_t n = poll(&p, 1, h_ms(timeout_ms)) == 1 ? recv(fd, buf, sizeof buf - 1, 0) : -1;
	h_close(fd);
	return n >= 13 && memcmp(buf, "HTTP/1.1 404 ", 13) == 0;
}

/* Reads stdout for up to timeout_ms or until want lines came. */
static int
read_log_lines(int out, int want, int timeout_ms)
{
	ck_assert(fcntl(out, F_SETFL, O_NONBLOCK) == 0);
	long long end = now_ms() + h_ms(timeout_ms);
	int lines = 0;
	while (lines < want && now_ms() < end) {
		char buf[4096];
		ssize_t n = read(out, buf, sizeof buf);
		if (n <= 0) {
			sleep_ms(10);
			continue;
		}
		for (ssize_t j = 0; j < n; j++)
			lines += buf[j] == '\n';
	}
	return lines;
}

/* The pipe fills while nobody reads; the lines that did not fit wait in
 * the workers' buffers and must follow once the reader catches up, without
 * another request to wake the workers. */
START_TEST(test_log_flushed_after_stall)
{
	struct h_server s;
	char log[PATH_MAX];
	const char *const extra[] = {"--workers", "2", "--access-log", "-", NULL};
	start_own(&s, "stall", extra, log);
	pid_t w[2];
	expect_two_workers(s.pid, w);
	enum { N = 130 }; /* ~83 KB of ~640-byte lines: more than the pipe, less than two buffers */
	for (int i = 0; i < N; i++)
		ck_assert_msg(get_404(s.port, i, 3000), "request %d not answered", i);
	/* The stall is real once the pipe is full: the workers' writes (whole
	 * lines, at most PIPE_BUF bytes, each in its own pipe page when it
	 * cannot join the last one) get EAGAIN and the pipe stops filling.
	 * Wait for that (the queued bytes hold still for 50 ms) rather than
	 * for a fixed time; all N lines are more than the pipe can hold. */
	int queued = -1, still = 0;
	for (long long end = now_ms() + h_ms(5000); still < 5 && now_ms() < end; sleep_ms(10)) {
		int q = 0;
		ck_assert(ioctl(s.out_fd, FIONREAD, &q) == 0);
		still = q > 0 && q == queued ? still + 1 : 0;
		queued = q;
	}
	ck_assert_msg(still == 5, "the access-log pipe kept changing for 5 s (%d bytes)", queued);
	int lines = read_log_lines(s.out_fd, N, 3000);
	char tail[2048];
	h_tail_file(log, tail, sizeof tail);
	ck_assert_msg(lines == N,
	              "%d of %d access-log lines reached stdout within 3 s after the reader "
	              "caught up (the rest stay buffered until the next request); log: %s",
	              lines, N, tail);
	int status;
	ck_assert_msg(stop_own(&s, &status) == 0, "still running 12 s after SIGTERM");
	char what[64];
	ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0, "after SIGTERM: %s",
	              h_describe_status(status, what, sizeof what));
}
END_TEST

/* "fd 6: O_NONBLOCK" for each fd of pid (>= 3) on the same pipe as its
 * stdout. Returns how many lack O_NONBLOCK. */
static int
blocking_log_fds(pid_t pid, char *desc, size_t cap)
{
	char link[64], out[PATH_MAX];
	snprintf(link, sizeof link, "/proc/%d/fd/1", (int)pid);
	ssize_t t = readlink(link, out, sizeof out - 1);
	out[t > 0 ? t : 0] = '\0';
	int blocking = 0;
	size_t used = strlen(desc);
	for (int fd = 3; fd < 256; fd++) {
		char target[PATH_MAX], info[64];
		snprintf(link, sizeof link, "/proc/%d/fd/%d", (int)pid, fd);
		t = readlink(link, target, sizeof target - 1);
		if (t <= 0)
			continue;
		target[t] = '\0';
		if (strcmp(target, out) != 0)
			continue;
		snprintf(info, sizeof info, "/proc/%d/fdinfo/%d", (int)pid, fd);
		char *fi = h_read_file(info, NULL);
		const char *f = fi ? strstr(fi, "flags:") : NULL;
		long flags = f ? strtol(f + 6, NULL, 8) : 0;
		free(fi);
		int nb = (flags & O_NONBLOCK) != 0;
		blocking += !nb;
		int n = snprintf(desc + used, cap - used, "worker %d fd %d: %s; ", (int)pid, fd,
		                 nb ? "O_NONBLOCK" : "blocking");
		if (n > 0 && (size_t)n < cap - used)
			used += (size_t)n;
	}
	return blocking;
}

/* A worker that stops (here on its own SIGTERM) flushes its log at exit;
 * the pipe's open file description is shared by every worker, so the
 * others must stay non-blocking: a stalled reader drops lines but never
 * stops the server. */
START_TEST(test_worker_exit_keeps_log_nonblocking)
{
	struct h_server s;
	char log[PATH_MAX];
	const char *const extra[] = {"--workers", "2", "--access-log", "-", NULL};
	start_own(&s, "nonblock", extra, log);
	pid_t w[2], now_w[2], seen[MAX_KIDS];
	expect_two_workers(s.pid, w);
	seen[0] = w[0];
	seen[1] = w[1];
	int nseen = 2;
	ck_assert(kill(w[0], SIGTERM) == 0);
	ck_assert_msg(wait_two_new(s.pid, &w[0], 1, now_w, seen, &nseen, MAX_KIDS,
	                           now_ms() + h_ms(3000)) >= 0,
	              "worker %d not replaced within 3 s of its SIGTERM", (int)w[0]);
	get_index(s.port, "/index.html"); /* the replacement is up */
	char desc[1024] = "";
	int blocking = blocking_log_fds(now_w[0], desc, sizeof desc) +
	               blocking_log_fds(now_w[1], desc, sizeof desc);
	int answered = 0;
	while (answered < 150 && get_404(s.port, answered, 2000))
		answered++;
	ck_assert_msg(answered == 150,
	              "with stdout not read, request %d got no answer within 2 s after a worker "
	              "had exited (%s)",
	              answered, desc);
	ck_assert_msg(blocking == 0, "access-log fds after a worker exited: %s", desc);
	int status;
	ck_assert_msg(stop_own(&s, &status) == 0, "still running 12 s after SIGTERM");
}
END_TEST

/* ---- 9. --workers 1 is the plain server ---- */

START_TEST(test_one_worker_no_children)
{
	struct h_server s;
	char log[PATH_MAX];
	const char *const extra[] = {"--workers", "1", "--no-access-log", NULL};
	start_own(&s, "one", extra, log);
	pid_t kids[MAX_KIDS];
	ck_assert_msg(children(s.pid, kids, MAX_KIDS) == 0, "--workers 1 has child processes");
	for (int i = 0; i < 20; i++)
		get_index(s.port, "/index.html");
	int n = children(s.pid, kids, MAX_KIDS);
	ck_assert_msg(n == 0, "--workers 1 has %d child process(es) after serving (first %d)", n,
	              n > 0 ? (int)kids[0] : 0);
	int status;
	ck_assert_msg(stop_own(&s, &status) == 0, "still running 12 s after SIGTERM");
	char what[64];
	ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0, "after SIGTERM: %s",
	              h_describe_status(status, what, sizeof what));
}
END_TEST

/* ---- the suite ---- */

static TCase *
server_tcase(const char *name, void (*setup)(void))
{
	TCase *tc = tcase_create(name);
	tcase_add_unchecked_fixture(tc, setup, fixture_stop);
	tcase_add_checked_fixture(tc, require_server, h_close_all);
	tcase_set_timeout(tc, 30);
	return tc;
}

Suite *
workers_suite(void)
{
	Suite *s = suite_create("workers");

	TCase *tc = server_tcase("serve", setup_serve);
	tcase_add_test(tc, test_two_workers_serve);
	suite_add_tcase(s, tc);

	tc = server_tcase("restart", setup_serve);
	tcase_add_test(tc, test_worker_restart);
	suite_add_tcase(s, tc);

	tc = server_tcase("reopen", setup_reopen);
	tcase_add_test(tc, test_sighup_reopen);
	suite_add_tcase(s, tc);

	tc = server_tcase("pipe_log", setup_pipe_log);
	tcase_add_test(tc, test_access_log_pipe);
	suite_add_tcase(s, tc);

	tc = tcase_create("lifecycle");
	tcase_add_unchecked_fixture(tc, setup_own, teardown_own);
	tcase_add_checked_fixture(tc, NULL, h_close_all);
	tcase_set_timeout(tc, 30);
	tcase_add_loop_test(tc, test_sigterm_master, 0, 3);
	tcase_add_test(tc, test_sigkill_master);
	tcase_add_test(tc, test_pidfile_master);
	tcase_add_loop_test(tc, test_port_in_use, 0, 2);
	tcase_add_loop_test(tc, test_start_failure_clean, 0, 6);
	tcase_add_test(tc, test_one_worker_no_children);
	tcase_add_test(tc, test_log_flushed_after_stall);
	tcase_add_test(tc, test_worker_exit_keeps_log_nonblocking);
	suite_add_tcase(s, tc);
	return s;
}
