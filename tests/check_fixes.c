/* check_fixes.c - regression tests for the fixes of issue 11 that need the
 * real binary and belong to no other suite: the small-file cache under load,
 * listings and symlinks, startup checks (root warning, --chroot), the shed
 * warning and the build (CPPFLAGS reach the compiler).
 *
 * Each test starts its own server through the harness and stops it by PID;
 * a failing test's server dies with the test process (PR_SET_PDEATHSIG in
 * h_server_start). */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
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
	int status = h_server_stop(&f->srv, 10000);
	char what[64], tail[2048];
	h_tail_file(f->log, tail, sizeof tail);
	ck_assert_msg(status != -1 && WIFEXITED(status) && WEXITSTATUS(status) == 0,
	              "server stopped with %s; log:\n%s",
	              h_describe_status(status, what, sizeof what), tail);
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
START_TEST(test_cache_never_stale_under_load)
{
	struct fixes_server f;
	static const char *const args[] = {"--no-access-log", NULL};
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
	for (int i = 1; i <= STALE_ROUNDS; i++) {
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
	              STALE_ROUNDS, first_stale, first);
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

Suite *
fixes_suite(void)
{
	Suite *s = suite_create("fixes");
	TCase *tc = tcase_create("cache");
	tcase_set_timeout(tc, 120);
	tcase_add_checked_fixture(tc, NULL, h_close_all);
	tcase_add_test(tc, test_cache_never_stale_under_load);
	suite_add_tcase(s, tc);

	tc = tcase_create("listing");
	tcase_set_timeout(tc, 30);
	tcase_add_checked_fixture(tc, NULL, h_close_all);
	tcase_add_test(tc, test_listing_symlinks_stay_beneath_top);
	suite_add_tcase(s, tc);

	tc = tcase_create("build");
	tcase_set_timeout(tc, 300); /* a whole -O2 build on a loaded machine */
	tcase_add_test(tc, test_make_honours_cppflags);
	tcase_add_test(tc, test_man_page_lints_clean);
	tcase_add_test(tc, test_units_listen_on_loopback);
	suite_add_tcase(s, tc);
	return s;
}
