/* check_cli.c - the command line as people type it, against the real binary:
 * no argument (./public, or the current directory), a positional DIR, the
 * short -p/-d/-b, usage errors, a busy default port, --dev's URL lines,
 * --open with a fake browser and with none, -q --port 0, and --check's
 * report and each of its refusals (exit 2, the same line a real start
 * prints, nothing left behind). Exact text throughout.
 *
 * Each test gets a fresh directory (base) from an unchecked fixture, and
 * runs the server with that directory as its working directory
 * (h_start.cwd). Servers are children of the test process (the harness
 * gives them PDEATHSIG) and are stopped by pid at the end of each test. */
#include <errno.h>
#include <ifaddrs.h>
#include <arpa/inet.h>
#include <net/if.h>
#include <netinet/in.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "harness.h"
#include "suites.h"

#define NAME "simple-http-server"
#define BUSY_SUFFIX "(choose another with -p PORT, or -p 0 for any free port)"

static char *base; /* this test's directory, made by the fixture */

static void
setup(void)
{
	base = h_mkdtemp();
}

static void
teardown(void)
{
	if (base)
		h_rmtree(base);
	free(base);
	base = NULL;
}

static void
path_in(const char *rel, char *dst, size_t cap)
{
	snprintf(dst, cap, "%s/%s", base, rel);
}

/* base/rel, NUL-terminated (the caller frees it). */
static char *
slurp(const char *rel)
{
	char path[4096];
	path_in(rel, path, sizeof path);
	char *s = h_read_file(path, NULL);
	ck_assert_msg(s != NULL, "%s: %s", path, strerror(errno));
	return s;
}

/* ---- running the binary ---- */

struct cli {
	int status;
	char out[8192];
	char err[8192];
};

/* Runs SHS_BIN args in cwd (NULL: base) until it exits (20 s), with env
 * entries added and listen_fd (> 0) passed as systemd does; stdout and
 * stderr into r. */
static void
run_cli_fd(const char *cwd, const char *const *args, const char *const *env, int listen_fd,
           struct cli *r)
{
	char log[4096];
	path_in("cli.err", log, sizeof log);
	unlink(log);
	struct h_server s;
	struct h_start o = {
	    .args = args, .log_path = log, .env = env, .no_wait = 1, .cwd = cwd ? cwd : base};
	o.listen_fd = listen_fd;
	char err[512];
	ck_assert_msg(h_server_start_ex(&s, &o, err, sizeof err) == 0, "%s", err);
	size_t n = 0;
	for (;;) {
		struct pollfd p = {.fd = s.out_fd, .events = POLLIN};
		int k = poll(&p, 1, h_ms(20000));
		ck_assert_msg(k > 0, "no exit within 20 s; stdout so far '%.*s'", (int)n, r->out);
		ssize_t got = read(s.out_fd, r->out + n, sizeof r->out - 1 - n);
		if (got <= 0)
			break;
		n += (size_t)got;
	}
	r->out[n] = '\0';
	ck_assert_msg(h_wait_exit(s.pid, 20000, &r->status) == 0, "no exit within 20 s");
	close(s.out_fd);
	char *e = h_read_file(log, NULL);
	snprintf(r->err, sizeof r->err, "%s", e ? e : "");
	free(e);
	unlink(log);
}

static void
run_cli(const char *cwd, const char *const *args, const char *const *env, struct cli *r)
{
	run_cli_fd(cwd, args, env, -1, r);
}

/* A start that serves: the server, and its first startup line in line. */
static void
start_in(struct h_server *s, const char *cwd, const char *const *args, const char *const *env,
         char *line, size_t cap)
{
	char log[4096];
	path_in("server.err", log, sizeof log);
	struct h_start o = {
	    .args = args, .log_path = log, .env = env, .no_wait = 1, .cwd = cwd ? cwd : base};
	char err[512];
	ck_assert_msg(h_server_start_ex(s, &o, err, sizeof err) == 0, "%s", err);
	if (h_read_line(s->out_fd, line, cap, 15000) < 0) {
		char *e = h_read_file(log, NULL);
		h_server_stop(s, 2000);
		ck_abort_msg("no startup line (got '%s'); stderr: %s", line, e ? e : "");
	}
}

/* start_in, and the first line must be exactly "serving LABEL on
 * http://HOST:PORT/\n" (LABEL as printed: control characters as \xHH).
 * Returns PORT. */
static int
start_serving(struct h_server *s, const char *const *args, const char *const *env,
              const char *label, const char *host)
{
	char line[512], want[640];
	start_in(s, NULL, args, env, line, sizeof line);
	int port = h_parse_listening(line, host);
	snprintf(want, sizeof want, "serving %s on http://%s:%d/\n", label, host, port);
	ck_assert_msg(port > 0 && strcmp(line, want) == 0, "startup line '%s', want '%s'", line,
	              want);
	return port;
}

static void
stop(struct h_server *s)
{
	char what[64];
	int st = h_server_stop(s, 5000);
	ck_assert_msg(st >= 0 && WIFEXITED(st) && WEXITSTATUS(st) == 0, "server stop: %s",
	              h_describe_status(st, what, sizeof what));
}

/* GET path answers 200 with exactly body (NULL: 404, it is served by us). */
static void
assert_get(int port, const char *path, const char *body)
{
	struct h_conn c;
	char req[256];
	h_conn_open(&c, port);
	snprintf(req, sizeof req, "GET %s HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n", path);
	h_conn_send(&c, req);
	struct h_resp r;
	H_ASSERT_RC(h_read_response(&c, &r, 0), &r);
	H_ASSERT_STATUS(&r, body ? "HTTP/1.1 200 OK" : "HTTP/1.1 404 Not Found");
	if (body)
		H_ASSERT_TEXT(&r, body);
	h_resp_free(&r);
	h_conn_close(&c);
}

/* Nothing more on the server's stdout (it has answered a request, so its
 * startup output was all flushed before). */
static void
assert_no_more_output(int fd)
{
	struct pollfd p = {.fd = fd, .events = POLLIN};
	char extra[256] = "";
	if (poll(&p, 1, 0) > 0) {
		ssize_t n = read(fd, extra, sizeof extra - 1);
		extra[n > 0 ? n : 0] = '\0';
	}
	ck_assert_msg(extra[0] == '\0', "unexpected output after the startup lines: '%s'", extra);
}

/* The port of "PREFIX<port>/\n", or of "PREFIX<port>/ (8080 is in use)\n"
 * when the default port was taken (tests elsewhere may hold it). */
static int
port_after(const char *line, const char *prefix)
{
	size_t n = strlen(prefix);
	ck_assert_msg(strncmp(line, prefix, n) == 0, "startup line '%s', want '%sPORT/'", line,
	              prefix);
	char *end;
	long port = strtol(line + n, &end, 10);
	ck_assert_msg(port > 0 && port < 65536 &&
	                  (strcmp(end, "/\n") == 0 || strcmp(end, "/ (8080 is in use)\n") == 0),
	              "startup line '%s'", line);
	return (int)port;
}

/* ---- the forms of the command line ---- */

/* No argument: ./public when there is one (case 0), else the current
 * directory (case 1); the line says which. */
START_TEST(test_no_argument)
{
	int public = _i == 0;
	if (public)
		h_write_str(base, "public/a.txt", "from public\n");
	h_write_str(base, "a.txt", "from the current directory\n");
	const char *args[] = {"--no-access-log", NULL};
	struct h_server s;
	char line[512];
	start_in(&s, NULL, args, NULL, line, sizeof line);
	int port = port_after(line, public ? "serving ./public on http://127.0.0.1:"
	                                   : "serving ./ (no ./public here) on http://127.0.0.1:");
	assert_get(port, "/a.txt", public ? "from public\n" : "from the current directory\n");
	stop(&s);
}
END_TEST

/* DIR, -d DIR and -b with -p 0, in any order: the same server. */
START_TEST(test_dir_forms)
{
	h_write_str(base, "site/a.txt", "site\n");
	const char *forms[][7] = {
	    {"site", "-p", "0", "--no-access-log", NULL},
	    {"-p", "0", "site", "--no-access-log", NULL},
	    {"-d", "site", "-p", "0", "--no-access-log", NULL},
	    {"-b", "127.0.0.1", "-p", "0", "site", "--no-access-log", NULL},
	    {"--top-dir", "site", "--port", "0", "--no-access-log", NULL},
	};
	const char *const *args = forms[_i];
	struct h_server s;
	int port = start_serving(&s, args, NULL, "site", "127.0.0.1");
	assert_get(port, "/a.txt", "site\n");
	stop(&s);
}
END_TEST

/* A control character in the directory name cannot split the line. */
START_TEST(test_dir_name_escaped)
{
	h_write_str(base, "a\nb/a.txt", "odd\n");
	const char *args[] = {"a\nb", "-p", "0", "--no-access-log", NULL};
	struct h_server s;
	int port = start_serving(&s, args, NULL, "a\\x0Ab", "127.0.0.1");
	assert_get(port, "/a.txt", "odd\n");
	stop(&s);
}
END_TEST

/* Usage errors: exit 2, one line on stderr, nothing on stdout. */
START_TEST(test_usage_errors)
{
	h_mkdir(base, "x");
	h_mkdir(base, "y");
	static const struct {
		const char *args[5];
		const char *err;
	} cases[] = {
	    {{"--top-dir", "x", "y", NULL},
	     NAME ": two directories given: --top-dir 'x' and 'y' (give one; see --help)\n"},
	    {{"x", "y", NULL},
	     NAME ": unexpected argument 'y' after the directory 'x' (see --help)\n"},
	    {{"--bogus", NULL}, NAME ": unknown option '--bogus' (see --help)\n"},
	    {{"-p", NULL}, NAME ": option '-p' needs a value (see --help)\n"},
	    {{"missing", "-p", "0", NULL}, NAME ": top dir 'missing': No such file or directory\n"},
	};
	struct cli r;
	run_cli(NULL, cases[_i].args, NULL, &r);
	ck_assert_msg(WIFEXITED(r.status) && WEXITSTATUS(r.status) == 2, "case %d: status %d", _i,
	              r.status);
	ck_assert_msg(strcmp(r.err, cases[_i].err) == 0, "case %d: stderr '%s', want '%s'", _i,
	              r.err, cases[_i].err);
	ck_assert_msg(r.out[0] == '\0', "case %d: stdout '%s'", _i, r.out);
}
END_TEST

/* The default port taken: the next free one serves, and the line says so;
 * a port the user chose fails with a hint. */
START_TEST(test_default_port_busy)
{
	h_write_str(base, "public/a.txt", "a\n");
	/* Hold 8080 if it is free; if something else holds it, it is busy
	 * anyway. */
	int hold = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(8080)};
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	int one = 1;
	/* SO_REUSEADDR: TIME_WAIT from an earlier test on 8080 is no holder. */
	ck_assert(hold >= 0 && setsockopt(hold, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) == 0);
	if (bind(hold, (struct sockaddr *)&a, sizeof a) == 0)
		ck_assert(listen(hold, 1) == 0);
	else
		ck_assert_msg(errno == EADDRINUSE, "bind 8080: %s", strerror(errno));

	const char *args[] = {"--no-access-log", NULL};
	struct h_server s;
	char line[512];
	start_in(&s, NULL, args, NULL, line, sizeof line);
	int port = port_after(line, "serving ./public on http://127.0.0.1:");
	ck_assert_msg(port != 8080 && strstr(line, "/ (8080 is in use)\n"), "startup line '%s'",
	              line);
	assert_get(port, "/a.txt", "a\n");
	stop(&s);

	const char *chosen[] = {"-p", "8080", NULL};
	struct cli r;
	run_cli(NULL, chosen, NULL, &r);
	ck_assert_msg(WIFEXITED(r.status) && WEXITSTATUS(r.status) == 2, "status %d", r.status);
	ck_assert_str_eq(r.err, NAME ": port 8080 is in use on 127.0.0.1 " BUSY_SUFFIX "\n");
	close(hold);
}
END_TEST

/* -q hides the startup line, except for a port the kernel chose. */
START_TEST(test_quiet_port_zero)
{
	h_mkdir(base, "site");
	const char *args[] = {"-q", "-p", "0", "site", "--no-access-log", NULL};
	struct h_server s;
	int port = start_serving(&s, args, NULL, "site", "127.0.0.1");
	assert_get(port, "/", NULL);
	assert_no_more_output(s.out_fd);
	stop(&s);
}
END_TEST

/* Two listeners: "serving DIR on" first, "also on" next. */
START_TEST(test_two_listeners)
{
	h_mkdir(base, "site");
	const char *args[] = {"site",        "--listen",        "127.0.0.1:0", "--listen",
	                      "127.0.0.1:0", "--no-access-log", NULL};
	struct h_server s;
	char second[512], want[128];
	int p1 = start_serving(&s, args, NULL, "site", "127.0.0.1");
	ck_assert_msg(h_read_line(s.out_fd, second, sizeof second, 5000) > 0, "second line '%s'",
	              second);
	int p2 = h_parse_listening(second, "127.0.0.1");
	snprintf(want, sizeof want, "also on http://127.0.0.1:%d/\n", p2);
	ck_assert_str_eq(second, want);
	ck_assert_int_ne(p1, p2);
	stop(&s);
}
END_TEST

/* ---- --dev ---- */

START_TEST(test_dev_loopback)
{
	h_write_str(base, "site/a.txt", "a\n");
	const char *args[] = {"--dev", "-p", "0", "site", "--no-access-log", NULL};
	struct h_server s;
	char open_line[512];
	int port = start_serving(&s, args, NULL, "site", "127.0.0.1");
	ck_assert_msg(h_read_line(s.out_fd, open_line, sizeof open_line, 5000) > 0, "got '%s'",
	              open_line);
	char want[128];
	snprintf(want, sizeof want, "  open http://127.0.0.1:%d/\n", port);
	ck_assert_str_eq(open_line, want);
	assert_get(port, "/a.txt", "a\n");
	assert_no_more_output(s.out_fd);
	stop(&s);
}
END_TEST

/* The LAN lines the server should print for a wildcard of this family
 * (AF_INET: 0.0.0.0; AF_INET6: "::", dual-stack), in getifaddrs order. */
static void
lan_lines(int family, int port, char *dst, size_t cap)
{
	struct ifaddrs *ifs;
	size_t n = 0;
	dst[0] = '\0';
	ck_assert(getifaddrs(&ifs) == 0);
	for (struct ifaddrs *a = ifs; a; a = a->ifa_next) {
		if (!a->ifa_addr || !(a->ifa_flags & IFF_UP) || (a->ifa_flags & IFF_LOOPBACK))
			continue;
		char ip[INET6_ADDRSTRLEN];
		if (a->ifa_addr->sa_family == AF_INET) {
			inet_ntop(AF_INET, &((struct sockaddr_in *)a->ifa_addr)->sin_addr, ip,
			          sizeof ip);
			n += (size_t)snprintf(dst + n, cap - n,
			                      "  on your network: http://%s:%d/\n", ip, port);
		} else if (a->ifa_addr->sa_family == AF_INET6 && family == AF_INET6) {
			const struct in6_addr *in6 =
			    &((struct sockaddr_in6 *)a->ifa_addr)->sin6_addr;
			if (IN6_IS_ADDR_LINKLOCAL(in6) || IN6_IS_ADDR_LOOPBACK(in6))
				continue;
			inet_ntop(AF_INET6, in6, ip, sizeof ip);
			n += (size_t)snprintf(dst + n, cap - n,
			                      "  on your network: http://[%s]:%d/\n", ip, port);
		}
	}
	freeifaddrs(ifs);
}

/* A wildcard: the loopback URL, then every LAN address (IPv6 for "::"). */
START_TEST(test_dev_wildcard)
{
	int v6 = _i == 1;
	h_write_str(base, "site/a.txt", "a\n");
	const char *args[] = {"--dev", "-b",   v6 ? "::" : "0.0.0.0", "-p",
	                      "0",     "site", "--no-access-log",     NULL};
	struct h_server s;
	char rest[4096], want[4096];
	int port = start_serving(&s, args, NULL, "site", v6 ? "[::]" : "0.0.0.0");
	assert_get(port, "/a.txt", "a\n"); /* now every line is out */
	size_t n = 0;
	for (;;) {
		struct pollfd p = {.fd = s.out_fd, .events = POLLIN};
		if (poll(&p, 1, 0) <= 0)
			break;
		ssize_t k = read(s.out_fd, rest + n, sizeof rest - 1 - n);
		if (k <= 0)
			break;
		n += (size_t)k;
	}
	rest[n] = '\0';
	size_t w = (size_t)snprintf(want, sizeof want, "  open http://%s:%d/\n",
	                            v6 ? "localhost" : "127.0.0.1", port);
	lan_lines(v6 ? AF_INET6 : AF_INET, port, want + w, sizeof want - w);
	ck_assert_str_eq(rest, want);
	stop(&s);
}
END_TEST

/* ---- --open ---- */

static int
file_exists(void *path)
{
	struct stat sb;
	return stat(path, &sb) == 0;
}

/* A fake xdg-open in PATH gets the first URL; the server has no child
 * left to reap and serves on. */
START_TEST(test_open_fake_browser)
{
	h_write_str(base, "site/a.txt", "a\n");
	char opened[1024], bin[1024], script[4096], env_path[2048];
	path_in("opened", opened, sizeof opened);
	path_in("bin", bin, sizeof bin);
	snprintf(script, sizeof script,
	         "#!/bin/sh\necho \"$1\" >\"%s.tmp\" && mv \"%s.tmp\" \"%s\"\n", opened, opened,
	         opened);
	h_write_str(base, "bin/xdg-open", script);
	char xdg[4096];
	path_in("bin/xdg-open", xdg, sizeof xdg);
	ck_assert(chmod(xdg, 0755) == 0);
	snprintf(env_path, sizeof env_path, "PATH=%s:/usr/bin:/bin", bin);
	const char *env[] = {env_path, NULL};
	const char *args[] = {"--open", "-p", "0", "site", "--no-access-log", NULL};
	struct h_server s;
	int port = start_serving(&s, args, env, "site", "127.0.0.1");
	ck_assert_msg(h_poll(file_exists, opened, 10000) >= 0, "the fake browser never ran");
	char *got = h_read_file(opened, NULL), want[128];
	snprintf(want, sizeof want, "http://127.0.0.1:%d/\n", port);
	ck_assert_str_eq(got, want);
	free(got);
	assert_get(port, "/a.txt", "a\n");
	/* The launcher was reaped at once, the opener orphaned. */
	char kids[128];
	snprintf(kids, sizeof kids, "/proc/%d/task/%d/children", (int)s.pid, (int)s.pid);
	char *k = h_read_file(kids, NULL);
	ck_assert_msg(k && k[0] == '\0', "server children: '%s'", k ? k : "?");
	free(k);
	stop(&s);
}
END_TEST

/* No browser in PATH: silently skipped, the server runs. */
START_TEST(test_open_no_browser)
{
	h_write_str(base, "site/a.txt", "a\n");
	h_mkdir(base, "empty");
	char env_path[4200];
	snprintf(env_path, sizeof env_path, "PATH=%s/empty", base);
	const char *env[] = {env_path, NULL};
	const char *args[] = {"--open", "-p", "0", "site", "--no-access-log", NULL};
	struct h_server s;
	int port = start_serving(&s, args, env, "site", "127.0.0.1");
	assert_get(port, "/a.txt", "a\n");
	assert_no_more_output(s.out_fd);
	stop(&s);
	char log[4096];
	path_in("server.err", log, sizeof log);
	char *e = h_read_file(log, NULL);
	ck_assert_msg(e && !strstr(e, "open") && !strstr(e, "browser"), "stderr: '%s'", e);
	free(e);
}
END_TEST

/* ---- --check ---- */

/* The directory's entries, sorted, as one string. */
static void
listing(char *dst, size_t cap)
{
	char cmd[4200];
	snprintf(cmd, sizeof cmd, "ls -A '%s' | grep -v '^cli.err$' | sort", base);
	FILE *p = popen(cmd, "r");
	ck_assert(p != NULL);
	size_t n = fread(dst, 1, cap - 1, p);
	dst[n] = '\0';
	pclose(p);
}

static const char *
me(void)
{
	const struct passwd *pw = getpwuid(geteuid());
	ck_assert(pw != NULL);
	return pw->pw_name;
}

/* What would run, on one line; exit 0; nothing created. */
START_TEST(test_check_ok)
{
	h_write_str(base, "site/a.txt", "a");
	h_write_str(base, "site/d/b.txt", "b");
	h_write_str(base, "site/d/e/c.txt", "c");
	h_write_str(base, "site/.hidden", "h");
	char before[4096], after[4096], want[8192];
	listing(before, sizeof before);
	const char *args[][12] = {
	    {"--check", "-p", "0", "site", "--access-log", "logs.txt", "--pidfile", "x.pid", NULL},
	    {"--check", "-p", "0", "site", "--workers", "2", "--no-access-log", "--dotfiles", NULL},
	};
	struct cli r;
	run_cli(NULL, args[_i], NULL, &r);
	ck_assert_msg(WIFEXITED(r.status) && WEXITSTATUS(r.status) == 0, "status %d; stderr '%s'",
	              r.status, r.err);
	char *real = realpath(base, NULL);
	if (_i == 0)
		snprintf(
		    want, sizeof want,
		    "top dir %s/site (3 files), listening on 127.0.0.1:0 (any free port), user "
		    "%s, access log logs.txt (will be created), error log stderr, pidfile "
		    "x.pid\n",
		    real, me());
	else
		snprintf(want, sizeof want,
		         "top dir %s/site (4 files), listening on 127.0.0.1:0 (any free port), 2 "
		         "workers, user %s, access log off, error log stderr\n",
		         real, me());
	free(real);
	ck_assert_str_eq(r.out, want);
	ck_assert_msg(!strstr(r.err, "error") && !strstr(r.err, "listening"), "stderr '%s'", r.err);
	listing(after, sizeof after);
	ck_assert_str_eq(after, before);
}
END_TEST

/* An existing log is opened for append, not truncated, and named plainly. */
START_TEST(test_check_existing_log)
{
	h_write_str(base, "site/a.txt", "a");
	h_write_str(base, "old.log", "kept\n");
	const char *args[] = {"--check", "-p",          "0",       "site", "--access-log",
	                      "old.log", "--error-log", "old.log", NULL};
	struct cli r;
	run_cli(NULL, args, NULL, &r);
	ck_assert_msg(WIFEXITED(r.status) && WEXITSTATUS(r.status) == 0, "stderr '%s'", r.err);
	ck_assert_msg(strstr(r.out, ", access log old.log, error log old.log\n"), "stdout '%s'",
	              r.out);
	char *log = slurp("old.log");
	ck_assert_str_eq(log, "kept\n");
	free(log);
}
END_TEST

/* Under systemd (LISTEN_FDS): the passed socket is what it reports. */
START_TEST(test_check_systemd)
{
	h_write_str(base, "site/a.txt", "a");
	int port = 0, fd = h_listen_socket(&port);
	const char *args[] = {"--check", "site", "--no-access-log", NULL};
	struct cli r;
	run_cli_fd(NULL, args, NULL, fd, &r);
	close(fd);
	ck_assert_msg(WIFEXITED(r.status) && WEXITSTATUS(r.status) == 0, "stderr '%s'", r.err);
	char *real = realpath(base, NULL), want[4096];
	snprintf(want, sizeof want,
	         "top dir %s/site (1 file), listening on 127.0.0.1:%d (from systemd), user %s, "
	         "access log off, error log stderr\n",
	         real, port, me());
	free(real);
	ck_assert_str_eq(r.out, want);
}
END_TEST

/* The rules a start would load follow the first line: each skipped line as
 * the error log words it, then the summaries; a skipped line is no failure
 * (exit 0). --dev loads them only when they are there; --rules says when
 * they are not; without either, nothing about them. */
START_TEST(test_check_rules)
{
	h_write_str(base, "site/a.txt", "a");
	h_write_str(base, "bare/a.txt", "a");
	h_write_str(base, "site/_redirects",
	            "/old /new.html\n/proxy https://example.com/ 200\n/a /b 302\n");
	h_write_str(base, "site/_headers", "/*\n  X-Frame-Options: DENY\n");
	const char *args[][8] = {
	    {"--check", "-p", "0", "site", "--no-access-log", "--rules", NULL},
	    {"--check", "-p", "0", "site", "--no-access-log", "--dev", NULL},
	    {"--check", "-p", "0", "bare", "--no-access-log", "--rules", NULL},
	    {"--check", "-p", "0", "bare", "--no-access-log", "--dev", NULL},
	    {"--check", "-p", "0", "site", "--no-access-log", NULL},
	};
	const char *rules_lines =
	    "_redirects:2: proxying to another origin is not supported\n"
	    "_redirects: 2 rules, 1 skipped (line 2: proxying to another origin is not "
	    "supported)\n"
	    "_headers: 1 block\n";
	const char *want_rules[] = {rules_lines, rules_lines,
	                            "rules: no _redirects or _headers in the top dir\n", "", ""};
	struct cli r;
	run_cli(NULL, args[_i], NULL, &r);
	ck_assert_msg(WIFEXITED(r.status) && WEXITSTATUS(r.status) == 0, "status %d; stderr '%s'",
	              r.status, r.err);
	char *real = realpath(base, NULL), want[4096];
	snprintf(want, sizeof want,
	         "top dir %s/%s (%d file%s), listening on 127.0.0.1:0 (any free port), user %s, "
	         "access log off, error log stderr\n%s",
	         real, args[_i][3], _i == 2 || _i == 3 ? 1 : 3, _i == 2 || _i == 3 ? "" : "s", me(),
	         want_rules[_i]);
	free(real);
	ck_assert_str_eq(r.out, want);
	ck_assert_str_eq(r.err, "");
}
END_TEST

/* Each refusal: exit 2, exactly the line a real start prints, nothing on
 * stdout, nothing left behind. */
START_TEST(test_check_failures)
{
	h_write_str(base, "site/a.txt", "a");
	int busy_port = 0;
	int busy = h_listen_socket(&busy_port);
	char port_s[16];
	snprintf(port_s, sizeof port_s, "%d", busy_port);
	/* A pidfile held by a running server. */
	struct h_server held;
	const char *hold_args[] = {"site",      "-p",       "0", "--no-access-log",
	                           "--pidfile", "held.pid", NULL};
	char line[512];
	start_in(&held, NULL, hold_args, NULL, line, sizeof line);
	char pid_s[32];
	snprintf(pid_s, sizeof pid_s, "%d", (int)held.pid);

	const char *cases[][8] = {
	    {"--check", "missing", "-p", "0", NULL},
	    {"--check", "site", "-p", port_s, NULL},
	    {"--check", "site", "-p", "0", "--user", "no-such-user-shs", NULL},
	    {"--check", "site", "-p", "0", "--pidfile", "held.pid", NULL},
	    {"--check", "site", "-p", "0", "--access-log", "nodir/x.log", NULL},
	    {"--check", "site", "-p", "0", "--error-log", "nodir/x.log", NULL},
	    {"--check", "site", "-p", "0", "--pidfile", "site", NULL},
	};
	char want[7][512];
	snprintf(want[0], sizeof want[0], NAME ": top dir 'missing': No such file or directory\n");
	snprintf(want[1], sizeof want[1], NAME ": port %d is in use on 127.0.0.1 " BUSY_SUFFIX "\n",
	         busy_port);
	snprintf(want[2], sizeof want[2], NAME ": no such user 'no-such-user-shs'\n");
	snprintf(want[3], sizeof want[3],
	         NAME ": already running: pidfile held.pid is held by process %s\n", pid_s);
	snprintf(want[4], sizeof want[4],
	         NAME ": access log 'nodir/x.log': No such file or directory\n");
	snprintf(want[5], sizeof want[5],
	         NAME ": error log 'nodir/x.log': No such file or directory\n");
	snprintf(want[6], sizeof want[6], NAME ": pidfile site: Is a directory\n");
	for (int i = 0; i < 7; i++) {
		char before[4096], after[4096];
		listing(before, sizeof before);
		char *pid_before = slurp("held.pid");
		struct cli r;
		run_cli(NULL, cases[i], NULL, &r);
		ck_assert_msg(WIFEXITED(r.status) && WEXITSTATUS(r.status) == 2,
		              "case %d: status %d, stderr '%s'", i, r.status, r.err);
		ck_assert_msg(strcmp(r.err, want[i]) == 0, "case %d: stderr '%s', want '%s'", i,
		              r.err, want[i]);
		ck_assert_msg(r.out[0] == '\0', "case %d: stdout '%s'", i, r.out);
		listing(after, sizeof after);
		ck_assert_msg(strcmp(before, after) == 0, "case %d: left behind: '%s' -> '%s'", i,
		              before, after);
		char *pid_after = slurp("held.pid");
		ck_assert_str_eq(pid_after, pid_before);
		free(pid_before);
		free(pid_after);

		/* A real start says the same (the pidfile case: the held one). */
		struct cli real;
		run_cli(NULL, cases[i] + 1, NULL, &real);
		ck_assert_msg(WIFEXITED(real.status) && WEXITSTATUS(real.status) == 2,
		              "case %d without --check: status %d", i, real.status);
		ck_assert_msg(strstr(real.err, want[i]) != NULL,
		              "case %d without --check: stderr '%s', want '%s'", i, real.err,
		              want[i]);
	}
	stop(&held);
	close(busy);
}
END_TEST

Suite *
cli_suite(void)
{
	Suite *s = suite_create("cli");
	TCase *tc = tcase_create("forms");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_loop_test(tc, test_no_argument, 0, 2);
	tcase_add_loop_test(tc, test_dir_forms, 0, 5);
	tcase_add_test(tc, test_dir_name_escaped);
	tcase_add_loop_test(tc, test_usage_errors, 0, 5);
	tcase_add_test(tc, test_default_port_busy);
	tcase_add_test(tc, test_quiet_port_zero);
	tcase_add_test(tc, test_two_listeners);
	suite_add_tcase(s, tc);

	tc = tcase_create("dev");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_dev_loopback);
	tcase_add_loop_test(tc, test_dev_wildcard, 0, 2);
	tcase_add_test(tc, test_open_fake_browser);
	tcase_add_test(tc, test_open_no_browser);
	suite_add_tcase(s, tc);

	tc = tcase_create("check");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 120);
	tcase_add_loop_test(tc, test_check_ok, 0, 2);
	tcase_add_test(tc, test_check_existing_log);
	tcase_add_test(tc, test_check_systemd);
	tcase_add_loop_test(tc, test_check_rules, 0, 5);
	tcase_add_test(tc, test_check_failures);
	suite_add_tcase(s, tc);
	return s;
}
