/* check_fixes.c - regression tests for the fixes of issue 11 that need the
 * real binary and belong to no other suite: the small-file cache under load,
 * listings and symlinks, startup checks (root warning, --chroot), the shed
 * warning and the build (CPPFLAGS reach the compiler).
 *
 * Each test starts its own server through the harness and stops it by PID;
 * a failing test's server dies with the test process (PR_SET_PDEATHSIG in
 * h_server_start). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "harness.h"
#include "suites.h"

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

static uint64_t
now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

struct fixes_server {
	char *base;
	char root[PATH_MAX];
	char log[PATH_MAX];
	struct h_server srv;
};

static void
start(struct fixes_server *f, void (*build)(const char *root), const char *const *extra)
{
	f->base = h_mkdtemp();
	snprintf(f->root, sizeof f->root, "%s/root", f->base);
	snprintf(f->log, sizeof f->log, "%s/server.log", f->base);
	h_mkdir(f->base, "root");
	if (build)
		build(f->root);
	char err[512];
	if (h_server_start(&f->srv, f->root, f->log, extra, err, sizeof err) != 0)
		ck_abort_msg("starting the server: %s", err);
}

static void
stop(struct fixes_server *f)
{
	h_server_stop_clean(&f->srv, f->log, 10000);
	h_rmtree(f->base);
	free(f->base);
	f->base = NULL;
}

/* One GET with Connection: close; the response stays in r. */
static void
get(int port, const char *target, struct h_resp *r, const char *extra_headers)
{
	struct h_conn c;
	char req[512];
	snprintf(req, sizeof req, "GET %s HTTP/1.1\r\nHost: t\r\n%sConnection: close\r\n\r\n",
	         target, extra_headers ? extra_headers : "");
	h_conn_open(&c, port);
	h_conn_send(&c, req);
	int rc = h_read_response(&c, r, 0);
	H_ASSERT_RC(rc, r);
	h_conn_close(&c);
}

/* ---- item 3: no stale cached body under connection-per-request load ---- */

#define STALE_ROUNDS 6000
#define STALE_LOADERS 8

static void
build_stale(const char *root)
{
	h_write_str(root, "f.txt", "round 000000\n");
	h_write_str(root, "load.txt", "load\n");
}

/* A load client: connection-per-request GETs of load.txt until the test
 * closes its end of the pipe (or 60 s pass), then _exit. */
static void
load_client(int port, int stop_fd)
{
	static const char req[] = "GET /load.txt HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n";
	uint64_t deadline = now_ms() + 60000;
	while (now_ms() < deadline) {
		struct pollfd p = {.fd = stop_fd, .events = POLLIN};
		if (poll(&p, 1, 0) != 0)
			break;
		int fd = h_connect(port, 0);
		if (fd < 0)
			continue;
		if (h_send_all(fd, req, sizeof req - 1) == 0) {
			char buf[512];
			while (recv(fd, buf, sizeof buf, 0) > 0)
				;
		}
		h_close(fd);
	}
	_exit(0);
}

/* The repro: write a small file, then GET it on a new connection,
 * while other clients keep the accept loop busy. Before the fix the loop
 * drained inotify once per wake-up and kept accepting, so a request that
 * arrived after a later write got the old cached body (~5 per 3,000 rounds). */
static void
never_stale_under_load(const char *const *args, int rounds)
{
	struct fixes_server f;
	start(&f, build_stale, args);
	int pipefd[2];
	ck_assert(pipe2(pipefd, O_CLOEXEC) == 0);
	pid_t kids[STALE_LOADERS];
	for (int i = 0; i < STALE_LOADERS; i++) {
		kids[i] = fork();
		ck_assert(kids[i] >= 0);
		if (kids[i] == 0) {
			close(pipefd[1]);
			load_client(f.srv.port, pipefd[0]);
		}
	}
	close(pipefd[0]);

	int stale = 0, first_stale = -1;
	char first[512] = "";
	for (int i = 1; i <= rounds; i++) {
		char want[32];
		snprintf(want, sizeof want, "round %06d\n", i);
		h_write_str(f.root, "f.txt", want);
		struct h_resp r;
		get(f.srv.port, "/f.txt", &r, NULL);
		if (r.status != 200 || r.body_len != strlen(want) ||
		    memcmp(r.body, want, r.body_len)) {
			if (stale++ == 0) {
				first_stale = i;
				snprintf(first, sizeof first, "%s: %.*s", r.status_line,
				         (int)(r.body_len < 40 ? r.body_len : 40), r.body);
			}
		}
		h_resp_free(&r);
	}
	close(pipefd[1]);
	for (int i = 0; i < STALE_LOADERS; i++) {
		int status;
		ck_assert_msg(h_wait_exit(kids[i], 10000, &status) == 0, "load client %d hangs", i);
	}
	ck_assert_msg(stale == 0, "%d stale answers in %d rounds (first in round %d: %s)", stale,
	              rounds, first_stale, first);
	stop(&f);
}

START_TEST(test_cache_never_stale_under_load)
{
	static const char *const args[] = {"--no-access-log", NULL};
	never_stale_under_load(args, STALE_ROUNDS);
}
END_TEST

/* The same with --live: the cache hears file changes through the tree
 * watch of the one inotify watcher (watch.c). */
START_TEST(test_cache_never_stale_with_live)
{
	static const char *const args[] = {"--live", "--no-access-log", NULL};
	never_stale_under_load(args, STALE_ROUNDS / 2);
}
END_TEST

/* inotify fds the process holds: links to anon_inode:inotify in its fd
 * directory. */
static int
inotify_fds(pid_t pid)
{
	char dir[64];
	snprintf(dir, sizeof dir, "/proc/%d/fd", (int)pid);
	DIR *d = opendir(dir);
	ck_assert_msg(d != NULL, "%s: %s", dir, strerror(errno));
	int n = 0;
	struct dirent *de;
	while ((de = readdir(d)) != NULL) {
		char path[PATH_MAX], target[64];
		snprintf(path, sizeof path, "%s/%s", dir, de->d_name);
		ssize_t len = readlink(path, target, sizeof target - 1);
		if (len < 0)
			continue;
		target[len] = '\0';
		n += strcmp(target, "anon_inode:inotify") == 0;
	}
	closedir(d);
	return n;
}

/* One inotify watcher serves the cache and --live: with both on and a file
 * in the cache, the server holds one inotify fd (it held two before), and
 * a change is seen by both (the cached file is answered fresh and the event
 * stream announces it). */
START_TEST(test_live_and_cache_share_one_inotify_fd)
{
	struct fixes_server f;
	static const char *const args[] = {"--live", "--no-access-log", NULL};
	start(&f, build_stale, args);
	struct h_resp r;
	for (int i = 0; i < 2; i++) { /* a fill, then a hit */
		get(f.srv.port, "/f.txt", &r, NULL);
		H_ASSERT_STATUS(&r, "HTTP/1.1 200 OK");
		H_ASSERT_TEXT(&r, "round 000000\n");
		h_resp_free(&r);
	}
	ck_assert_int_eq(inotify_fds(f.srv.pid), 1);

	struct h_conn es;
	h_conn_open(&es, f.srv.port);
	h_conn_send(&es, "GET /__simple-http-server/events HTTP/1.1\r\nHost: t\r\n\r\n");
	int rc = h_read_head(&es, &r);
	H_ASSERT_RC(rc, &r);
	H_ASSERT_STATUS(&r, "HTTP/1.1 200 OK");
	h_resp_free(&r);
	h_write_str(f.root, "f.txt", "changed\n");
	get(f.srv.port, "/f.txt", &r, NULL);
	H_ASSERT_TEXT(&r, "changed\n");
	h_resp_free(&r);
	/* The stream's preamble, then the change event. */
	char got[1024];
	size_t len = 0;
	uint64_t deadline = now_ms() + (uint64_t)h_ms(10000);
	while (len < sizeof got - 1 && now_ms() < deadline) {
		got[len] = '\0';
		if (strstr(got, "data: /f.txt\n\n"))
			break;
		long n = h_read_some(&es, got + len, sizeof got - 1 - len);
		if (n <= 0)
			break;
		len += (size_t)n;
	}
	got[len] = '\0';
	ck_assert_msg(strstr(got, "event: reload\ndata: /f.txt\n\n"), "event stream: %s", got);
	h_conn_close(&es);
	ck_assert_int_eq(inotify_fds(f.srv.pid), 1);
	stop(&f);
}
END_TEST

/* ---- item 9: listings do not follow symlinks out of the top dir ---- */

/* 777 bytes, dated 2001: neither may show up in a listing. */
#define OUTSIDE_SIZE 777
#define OUTSIDE_MTIME 1000000000 /* Sun, 09 Sep 2001 01:46:40 GMT */

static void
build_links(const char *root)
{
	char base[PATH_MAX], outside[PATH_MAX + 16];
	snprintf(base, sizeof base, "%s/..", root);
	snprintf(outside, sizeof outside, "%s/outside.bin", base);
	char data[OUTSIDE_SIZE];
	memset(data, 'x', sizeof data);
	h_write_file(base, "outside.bin", data, sizeof data);
	struct timespec ts[2] = {{OUTSIDE_MTIME, 0}, {OUTSIDE_MTIME, 0}};
	ck_assert(utimensat(AT_FDCWD, outside, ts, 0) == 0);
	h_mkdir(base, "outdir");
	h_write_str(root, "inside.txt", "inside, 21 bytes....\n");
	h_mkdir(root, "sub");
	h_write_str(root, "sub/plain.txt", "plain\n");
	h_symlink(root, "in-link.txt", "inside.txt");         /* inside: listed */
	h_symlink(root, "sub/up-link.txt", "../inside.txt");  /* inside via ..: listed */
	h_symlink(root, "in-dir", "sub");                     /* inside dir: listed as dir */
	h_symlink(root, "out-abs", outside);                  /* absolute, outside */
	h_symlink(root, "out-rel", "../outside.bin");         /* relative, outside */
	h_symlink(root, "sub/out-deep", "../../outside.bin"); /* from a subdir */
	h_symlink(root, "out-dir", "../outdir");              /* directory outside */
	h_symlink(root, "shadow", "/etc/shadow");             /* the example */
	h_symlink(root, "root-up", "..");                     /* the parent itself */
}

static const char *const outside_names[] = {"out-abs", "out-rel", "out-deep",
                                            "out-dir", "shadow",  "root-up"};

static void
assert_no_outside(const struct h_resp *r, const char *what)
{
	const char *body = (const char *)r->body;
	for (size_t i = 0; i < NELEM(outside_names); i++)
		ck_assert_msg(strstr(body, outside_names[i]) == NULL, "%s lists %s:\n%s", what,
		              outside_names[i], body);
	ck_assert_msg(strstr(body, "777") == NULL, "%s shows the outside size:\n%s", what, body);
	ck_assert_msg(strstr(body, "2001") == NULL, "%s shows the outside date:\n%s", what, body);
}

START_TEST(test_listing_symlinks_stay_beneath_top)
{
	struct fixes_server f;
	static const char *const args[] = {"--listing", "--no-access-log", NULL};
	start(&f, build_links, args);
	struct h_resp r;

	get(f.srv.port, "/", &r, NULL);
	H_ASSERT_STATUS(&r, "HTTP/1.1 200 OK");
	H_ASSERT_HEADER(&r, "Content-Type", "text/html; charset=utf-8");
	assert_no_outside(&r, "HTML listing of /");
	const char *body = (const char *)r.body;
	ck_assert_msg(strstr(body, "<a href=\"./in-link.txt\">in-link.txt</a></td>"
	                           "<td class=\"s\">21 B</td><td class=\"m\">" H_MTIME_IMF) != NULL,
	              "inside link not listed with its target's size and date:\n%s", body);
	ck_assert_msg(strstr(body, "<a href=\"./in-dir/\">in-dir/</a>") != NULL,
	              "inside directory link not listed as a directory:\n%s", body);
	h_resp_free(&r);

	get(f.srv.port, "/", &r, "Accept: application/json\r\n");
	H_ASSERT_STATUS(&r, "HTTP/1.1 200 OK");
	H_ASSERT_HEADER(&r, "Content-Type", "application/json");
	assert_no_outside(&r, "JSON listing of /");
	body = (const char *)r.body;
	ck_assert_msg(strstr(body, "{\"name\": \"in-link.txt\", \"type\": \"file\", \"size\": 21, "
	                           "\"modified\": \"" H_MTIME_IMF "\"}") != NULL,
	              "inside link not in the JSON listing:\n%s", body);
	h_resp_free(&r);

	get(f.srv.port, "/sub/", &r, NULL);
	H_ASSERT_STATUS(&r, "HTTP/1.1 200 OK");
	assert_no_outside(&r, "HTML listing of /sub/");
	ck_assert_msg(strstr((const char *)r.body, "<a href=\"./up-link.txt\">up-link.txt</a></td>"
	                                           "<td class=\"s\">21 B</td>") != NULL,
	              "../inside.txt link not listed:\n%s", r.body);
	h_resp_free(&r);

	get(f.srv.port, "/sub/", &r, "Accept: application/json\r\n");
	H_ASSERT_STATUS(&r, "HTTP/1.1 200 OK");
	assert_no_outside(&r, "JSON listing of /sub/");
	ck_assert_msg(strstr((const char *)r.body,
	                     "\"up-link.txt\", \"type\": \"file\", \"size\": 21") != NULL,
	              "../inside.txt link not in the JSON listing:\n%s", r.body);
	h_resp_free(&r);

	/* The same rule as a request for the link itself. */
	get(f.srv.port, "/out-rel", &r, NULL);
	H_ASSERT_STATUS(&r, "HTTP/1.1 403 Forbidden");
	h_resp_free(&r);
	stop(&f);
}
END_TEST

/* ---- item 16: the Makefile passes CPPFLAGS to the compiler ---- */

/* SHS_SRC, else the working directory (make test runs the runner from the
 * source tree). */
static void
repo_root(char *dst, size_t cap)
{
	const char *src = getenv("SHS_SRC");
	if (src && *src)
		snprintf(dst, cap, "%s", src);
	else
		ck_assert(getcwd(dst, cap) != NULL);
	char mk[PATH_MAX + 16], main_c[PATH_MAX + 16];
	snprintf(mk, sizeof mk, "%s/Makefile", dst);
	snprintf(main_c, sizeof main_c, "%s/src/main.c", dst);
	ck_assert_msg(access(mk, F_OK) == 0 && access(main_c, F_OK) == 0,
	              "%s is not the source tree; set SHS_SRC", dst);
}

/* Debian builds with CPPFLAGS=-D_FORTIFY_SOURCE=2 (dpkg-buildflags): the
 * binary must then import the checked libc functions (__snprintf_chk ...).
 * The build goes to a temporary BUILD and BIN, so the tree's own objects
 * are left alone; it takes a few seconds. */
START_TEST(test_make_honours_cppflags)
{
	char root[PATH_MAX];
	repo_root(root, sizeof root);
	char *tmp = h_mkdtemp();
	char cmd[3 * PATH_MAX + 512];
	/* Not the outer make's jobserver or command-line overrides. */
	snprintf(cmd, sizeof cmd,
	         "env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL -u MAKEOVERRIDES make -s -C '%s' "
	         "BUILD='%s/b' BIN='%s/shs' CPPFLAGS=-D_FORTIFY_SOURCE=2 CFLAGS=-O2 '%s/shs' "
	         ">'%s/make.log' 2>&1",
	         root, tmp, tmp, tmp, tmp);
	int rc = system(cmd);
	char logpath[PATH_MAX + 16];
	snprintf(logpath, sizeof logpath, "%s/make.log", tmp);
	char *log = h_read_file(logpath, NULL);
	ck_assert_msg(rc != -1 && WIFEXITED(rc) && WEXITSTATUS(rc) == 0,
	              "make failed (wait status %#x): %s\n%.2000s", (unsigned)rc, cmd,
	              log ? log : "");
	free(log);

	snprintf(cmd, sizeof cmd, "nm -D '%s/shs'", tmp);
	FILE *p = popen(cmd, "r");
	ck_assert(p != NULL);
	char line[512];
	int chk = 0, lines = 0;
	while (fgets(line, sizeof line, p)) {
		lines++;
		const char *u = strstr(line, " U __");
		size_t n = strcspn(line, "@\n");
		if (u && n > 4 && memcmp(line + n - 4, "_chk", 4) == 0)
			chk++;
	}
	int st = pclose(p);
	ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 0 && lines > 0, "%s failed", cmd);
	ck_assert_msg(chk > 0, "built with CPPFLAGS=-D_FORTIFY_SOURCE=2, but nm -D shows no "
	                       "__*_chk import: CPPFLAGS did not reach the compiler");
	h_rmtree(tmp);
	free(tmp);
}
END_TEST

/* mandoc -Tlint has nothing to say about the man page (it warned about the
 * date "November 2026"). Skipped, loudly, where mandoc is not installed. */
START_TEST(test_man_page_lints_clean)
{
	if (system("command -v mandoc >/dev/null 2>&1") != 0) {
		fprintf(stderr, "test_man_page_lints_clean: mandoc not installed, skipped "
		                "(apt-get install mandoc)\n");
		return;
	}
	char root[PATH_MAX], cmd[PATH_MAX + 128];
	repo_root(root, sizeof root);
	snprintf(cmd, sizeof cmd, "mandoc -Tlint '%s/doc/simple-http-server.1' 2>&1", root);
	FILE *p = popen(cmd, "r");
	ck_assert(p != NULL);
	char out[4096];
	size_t n = fread(out, 1, sizeof out - 1, p);
	out[n] = '\0';
	int st = pclose(p);
	ck_assert_msg(n == 0 && WIFEXITED(st) && WEXITSTATUS(st) == 0, "mandoc -Tlint:\n%s", out);
}
END_TEST

/* A line of a unit file that starts with key (comments are other lines). */
static const char *
unit_line(const char *text, const char *key)
{
	size_t k = strlen(key);
	for (const char *l = text; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL)
		if (strncmp(l, key, k) == 0)
			return l + k;
	return NULL;
}

/* The shipped units listen where the command line does by default: on
 * loopback. Serving every interface is a deliberate drop-in. */
START_TEST(test_units_listen_on_loopback)
{
	char root[PATH_MAX], path[PATH_MAX + 64];
	repo_root(root, sizeof root);
	snprintf(path, sizeof path, "%s/doc/simple-http-server.service", root);
	char *svc = h_read_file(path, NULL);
	ck_assert_msg(svc != NULL, "%s: %s", path, strerror(errno));
	const char *exec = unit_line(svc, "ExecStart=");
	ck_assert_msg(exec != NULL, "no ExecStart= in the service");
	size_t n = strcspn(exec, "\n");
	ck_assert_msg(memmem(exec, n, " --listen 127.0.0.1:8080 ", 25) != NULL,
	              "the service should listen on 127.0.0.1:8080: %.*s", (int)n, exec);
	free(svc);

	snprintf(path, sizeof path, "%s/doc/simple-http-server.socket", root);
	char *sock = h_read_file(path, NULL);
	ck_assert_msg(sock != NULL, "%s: %s", path, strerror(errno));
	const char *listen = unit_line(sock, "ListenStream=");
	ck_assert_msg(listen && strncmp(listen, "127.0.0.1:8080\n", 15) == 0,
	              "the socket should be ListenStream=127.0.0.1:8080: %.40s",
	              listen ? listen : "(none)");
	ck_assert_msg(unit_line(listen, "ListenStream=") == NULL, "a second ListenStream=");
	free(sock);
}
END_TEST

/* ---- item 18: startup checks and the shed warning ---- */

#define ROOT_WARNING "warning: running as root without --user; consider --user www-data"

/* Lines of text containing needle. */
static int
count_lines_with(const char *text, const char *needle)
{
	int n = 0;
	for (const char *l = text; l && *l;) {
		const char *end = strchr(l, '\n');
		size_t len = end ? (size_t)(end - l) : strlen(l);
		if (memmem(l, len, needle, strlen(needle)))
			n++;
		l = end ? end + 1 : NULL;
	}
	return n;
}

static void
build_small(const char *root)
{
	h_write_str(root, "f.txt", "small\n");
}

/* Root without --user: one warning line on stderr (the error log), none on
 * stdout (the harness reads exactly the listening line there); with
 * --workers 2 still one, from the master. */
START_TEST(test_root_warning_once)
{
	if (geteuid() != 0) {
		fprintf(stderr, "test_root_warning_once: not root, skipped\n");
		return;
	}
	static const char *const one[] = {"--no-access-log", NULL};
	static const char *const two[] = {"--no-access-log", "--workers", "2", NULL};
	const char *const *extra[] = {one, two};
	for (int i = 0; i < 2; i++) {
		struct fixes_server f;
		start(&f, build_small, extra[i]);
		struct h_resp r;
		get(f.srv.port, "/f.txt", &r, NULL);
		H_ASSERT_STATUS(&r, "HTTP/1.1 200 OK");
		h_resp_free(&r);
		/* The line is written before the listening line: it is there. */
		char *log = h_read_file(f.log, NULL);
		ck_assert(log != NULL);
		int n = count_lines_with(log, ROOT_WARNING);
		ck_assert_msg(n == 1, "%s: the root warning appears %d times:\n%s",
		              i ? "--workers 2" : "one process", n, log);
		ck_assert_msg(count_lines_with(log, "warning:") == 1, "other warnings:\n%s", log);
		free(log);
		stop(&f);
	}

	/* Not with --user. */
	static const char *const user[] = {"--no-access-log", "--user", "nobody", NULL};
	struct fixes_server f;
	start(&f, build_small, user);
	char *log = h_read_file(f.log, NULL);
	ck_assert(log != NULL);
	ck_assert_msg(count_lines_with(log, "running as root") == 0, "with --user:\n%s", log);
	free(log);
	stop(&f);
}
END_TEST

/* --chroot=DIR that does not contain the top dir (given relative here) is
 * a startup error; one that does contain it starts, also with a relative
 * top dir; a directory whose name is only a prefix of it ("ro" for "root")
 * does not contain it. */
START_TEST(test_chroot_must_contain_top_dir)
{
	if (geteuid() != 0) {
		fprintf(stderr, "test_chroot_must_contain_top_dir: not root, skipped\n");
		return;
	}
	char *base = h_mkdtemp();
	h_mkdir(base, "root");
	h_mkdir(base, "other");
	h_mkdir(base, "ro");
	char root[PATH_MAX + 8];
	snprintf(root, sizeof root, "%s/root", base);
	build_small(root);
	ck_assert(chdir(base) == 0); /* this test's own process: relative paths */

	static const char *const bad[] = {"other", "ro"};
	for (size_t i = 0; i < NELEM(bad); i++) {
		char opt[PATH_MAX + 16];
		snprintf(opt, sizeof opt, "--chroot=%s/%s", base, bad[i]);
		const char *args[] = {"--top-dir",       "root", "--port", "0",
		                      "--no-access-log", opt,    NULL};
		struct h_run run;
		ck_assert_msg(h_run_cli(args, &run, 10000) == 0,
		              "%s with --top-dir root: still running after 10 s", opt);
		ck_assert_msg(WIFEXITED(run.status) && WEXITSTATUS(run.status) == 2,
		              "%s: wait status %#x, expected exit 2 (stderr: %s)", opt, run.status,
		              run.err);
		const char *nl = strchr(run.err, '\n');
		ck_assert_msg(run.err_len > 1 && nl == run.err + run.err_len - 1,
		              "%s: stderr is not exactly one line: '%s'", opt, run.err);
		ck_assert_msg(strstr(run.err, "does not contain the top dir") != NULL,
		              "%s: stderr: '%s'", opt, run.err);
		ck_assert_msg(run.out_len == 0, "%s: stdout: '%s'", opt, run.out);
	}

	/* The jail that holds it, named relative too: the server starts and
	 * serves (still as root: one warning, as above). */
	static const char *const good[] = {"--no-access-log", "--chroot=.", NULL};
	struct h_server srv;
	char err[512], logpath[PATH_MAX + 16];
	/* LeakSanitizer reads /proc at exit, which a chroot hides: under make
	 * asan it would turn a clean stop into exit 1 (this test's process
	 * only: Check forks each test). */
	char asan[512];
	const char *prev = getenv("ASAN_OPTIONS");
	snprintf(asan, sizeof asan, "%s%sdetect_leaks=0", prev ? prev : "",
	         prev && *prev ? ":" : "");
	setenv("ASAN_OPTIONS", asan, 1);
	snprintf(logpath, sizeof logpath, "%s/server.log", base);
	ck_assert_msg(h_server_start(&srv, "root", logpath, good, err, sizeof err) == 0,
	              "--chroot=. --top-dir root: %s", err);
	struct h_resp r;
	get(srv.port, "/f.txt", &r, NULL);
	H_ASSERT_STATUS(&r, "HTTP/1.1 200 OK");
	H_ASSERT_BODY(&r, "small\n", 6);
	h_resp_free(&r);
	int status = h_server_stop(&srv, 10000);
	ck_assert_msg(status != -1 && WIFEXITED(status) && WEXITSTATUS(status) == 0,
	              "server with --chroot=. did not stop cleanly");
	ck_assert(chdir("/") == 0);
	h_rmtree(base);
	free(base);
}
END_TEST

#define SHED_CLIENTS 60

/* Sum of the counts in "N connection(s) shed in the last second" lines. */
static long
shed_counted(const char *log, const char *reason, int *lines)
{
	long sum = 0;
	char needle[128];
	snprintf(needle, sizeof needle, " connection(s) shed in the last second (%s)", reason);
	*lines = 0;
	for (const char *p = log; (p = strstr(p, needle)); p++) {
		const char *q = p;
		while (q > log && q[-1] >= '0' && q[-1] <= '9')
			q--;
		sum += strtol(q, NULL, 10);
		(*lines)++;
	}
	return sum;
}

/* With the table full (--max-connections 1, held by a client in the middle
 * of its head), 60 clients are shed with a 503: the error log reports them
 * in one line a second with the count, not one line each (nor none). */
START_TEST(test_shed_warning_rate_limited)
{
	struct fixes_server f;
	static const char *const args[] = {"--no-access-log", "--max-connections", "1", NULL};
	start(&f, build_small, args);
	struct h_conn holder;
	h_conn_open(&holder, f.srv.port);
	h_conn_send(&holder, "GET /f.txt HTTP/1.1\r\n"); /* the head goes on later */
	/* It holds the one slot once the server has read its bytes: wait
	 * until a second client is refused. */
	uint64_t t0 = now_ms(), deadline = t0 + h_ms(10000);
	int shed = 0;
	for (int i = 0; i < SHED_CLIENTS || (shed == 0 && now_ms() < deadline); i++) {
		struct h_resp r;
		get(f.srv.port, "/f.txt", &r, NULL);
		if (r.status == 503)
			shed++;
		else
			H_ASSERT_STATUS(&r, "HTTP/1.1 200 OK"); /* before the holder was taken */
		h_resp_free(&r);
		if (i >= SHED_CLIENTS && shed == 0)
			ck_assert_msg(now_ms() < deadline, "no client was shed in 10 s");
	}
	uint64_t took = now_ms() - t0;
	ck_assert_msg(shed >= SHED_CLIENTS / 2, "only %d clients shed", shed);

	/* The last count comes at most a second after the first line. */
	int lines = 0;
	long counted = 0;
	char *log = NULL;
	deadline = now_ms() + h_ms(10000);
	while (now_ms() < deadline) {
		free(log);
		log = h_read_file(f.log, NULL);
		ck_assert(log != NULL);
		counted = shed_counted(log, "table full", &lines);
		if (counted >= shed)
			break;
		usleep(20000);
	}
	ck_assert_msg(counted == shed,
	              "%d clients shed, the log counts %ld in %d line(s):\n%.3000s", shed, counted,
	              lines, log);
	int bound = 2 + (int)(took / 1000);
	ck_assert_msg(lines <= bound && count_lines_with(log, "shed") == lines,
	              "%d shed clients in %llu ms gave %d count lines (at most %d expected), "
	              "%d lines mention shedding:\n%.3000s",
	              shed, (unsigned long long)took, lines, bound, count_lines_with(log, "shed"),
	              log);
	free(log);

	/* The holder is still served once its head is complete. */
	h_conn_send(&holder, "Host: t\r\nConnection: close\r\n\r\n");
	struct h_resp r;
	int rc = h_read_response(&holder, &r, 0);
	H_ASSERT_RC(rc, &r);
	H_ASSERT_STATUS(&r, "HTTP/1.1 200 OK");
	h_resp_free(&r);
	h_conn_close(&holder);
	stop(&f);
}
END_TEST

/* Out of file descriptors (the server's limit cut to 24 with prlimit while
 * 16 clients hold theirs): every further client is shed through the spare
 * descriptor, and the log again gets a count a second, not a line each. */
START_TEST(test_shed_warning_rate_limited_emfile)
{
	struct fixes_server f;
	static const char *const args[] = {"--no-access-log", NULL};
	start(&f, build_small, args);
	struct rlimit rl = {24, 24};
	ck_assert_msg(prlimit(f.srv.pid, RLIMIT_NOFILE, &rl, NULL) == 0, "prlimit: %s",
	              strerror(errno));
	struct h_conn holders[16];
	for (size_t i = 0; i < NELEM(holders); i++) {
		h_conn_open(&holders[i], f.srv.port);
		h_conn_send(&holders[i], "GET /f.txt HTTP/1.1\r\n");
	}
	uint64_t t0 = now_ms();
	int shed = 0;
	for (int i = 0; i < SHED_CLIENTS; i++) {
		struct h_resp r;
		get(f.srv.port, "/f.txt", &r, NULL);
		if (r.status == 503)
			shed++;
		h_resp_free(&r);
	}
	uint64_t took = now_ms() - t0;
	ck_assert_msg(shed >= SHED_CLIENTS / 2, "only %d of %d clients shed", shed, SHED_CLIENTS);

	int lines = 0;
	long counted = 0;
	char *log = NULL;
	uint64_t deadline = now_ms() + h_ms(10000);
	while (now_ms() < deadline) {
		free(log);
		log = h_read_file(f.log, NULL);
		ck_assert(log != NULL);
		counted = shed_counted(log, "out of file descriptors", &lines);
		if (counted >= shed)
			break;
		usleep(20000);
	}
	/* Holders shed early count too: at least the clients that saw a 503. */
	ck_assert_msg(counted >= shed, "%d clients got a 503, the log counts %ld:\n%.3000s", shed,
	              counted, log);
	int bound = 2 + (int)(took / 1000);
	int mention = count_lines_with(log, "shed");
	ck_assert_msg(lines <= bound && mention == lines,
	              "%d shed clients in %llu ms gave %d count lines (at most %d expected), "
	              "%d lines mention shedding:\n%.3000s",
	              shed, (unsigned long long)took, lines, bound, mention, log);
	free(log);
	for (size_t i = 0; i < NELEM(holders); i++)
		h_conn_close(&holders[i]);
	stop(&f);
}
END_TEST

Suite *
fixes_suite(void)
{
	Suite *s = suite_create("fixes");
	TCase *tc = tcase_create("cache");
	tcase_set_timeout(tc, 120);
	tcase_add_checked_fixture(tc, NULL, h_close_all);
	tcase_add_test(tc, test_cache_never_stale_under_load);
	tcase_add_test(tc, test_cache_never_stale_with_live);
	tcase_add_test(tc, test_live_and_cache_share_one_inotify_fd);
	suite_add_tcase(s, tc);

	tc = tcase_create("listing");
	tcase_set_timeout(tc, 30);
	tcase_add_checked_fixture(tc, NULL, h_close_all);
	tcase_add_test(tc, test_listing_symlinks_stay_beneath_top);
	suite_add_tcase(s, tc);

	tc = tcase_create("startup");
	tcase_set_timeout(tc, 60);
	tcase_add_checked_fixture(tc, NULL, h_close_all);
	tcase_add_test(tc, test_root_warning_once);
	tcase_add_test(tc, test_chroot_must_contain_top_dir);
	tcase_add_test(tc, test_shed_warning_rate_limited);
	tcase_add_test(tc, test_shed_warning_rate_limited_emfile);
	suite_add_tcase(s, tc);

	tc = tcase_create("build");
	tcase_set_timeout(tc, 300); /* a whole -O2 build on a loaded machine */
	tcase_add_test(tc, test_make_honours_cppflags);
	tcase_add_test(tc, test_man_page_lints_clean);
	tcase_add_test(tc, test_units_listen_on_loopback);
	suite_add_tcase(s, tc);
	return s;
}
