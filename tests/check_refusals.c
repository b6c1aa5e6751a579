/* check_refusals.c - issue 12, parts 2 to 4, against the real binary
 * (SHS_BIN): every refusal explains itself in the error log, once per line
 * (exact text asserted), and with --dev on the page; --follow-symlinks in
 * and out of the top dir, magic links refused either way, the dotfile rule
 * on a link's target, the default unchanged; a sidecar without its original
 * (x.gz alone) for the clients that accept it, 404 with Vary for the rest.
 *
 * Each TCase builds its root under /tmp and starts one server from an
 * unchecked fixture; the teardown stops it by PID and insists on exit
 * status 0 (sanitizer reports under `make asan`). The server writes a
 * refusal's line before it answers, so once the answer is read the line is
 * in the log; counts are read then, never after a sleep. Each TCase logs
 * fewer distinct lines than the per-second cap (EXPLAIN_PER_SEC), except
 * the one that tests the cap. */
#include <errno.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "explain.h"
#include "harness.h"
#include "suites.h"

static struct {
	char *base;     /* h_mkdtemp: root/, outside/ and server.log */
	char root[256]; /* base/root: the top dir */
	char out[256];  /* base/outside: next to the top dir, not in it */
	char log[256];  /* base/server.log: the server's stderr */
	int sock;       /* a unix socket bound in the root, or -1 */
	struct h_server h;
} srv = {.sock = -1, .h = {.pid = -1, .out_fd = -1}};

static void
make_base(void)
{
	srv.base = h_mkdtemp();
	snprintf(srv.root, sizeof srv.root, "%s/root", srv.base);
	snprintf(srv.out, sizeof srv.out, "%s/outside", srv.base);
	snprintf(srv.log, sizeof srv.log, "%s/server.log", srv.base);
	h_mkdir(srv.base, "root");
	h_mkdir(srv.base, "outside");
	h_write_str(srv.out, "jquery.js", "OUTSIDE jquery\n");
	h_mkdir(srv.out, ".hide");
	h_write_str(srv.out, ".hide/x.txt", "OUTSIDE hidden dir\n");
}

/* The files every TCase shares: see each test for what it asks of them. */
static void
make_tree(void)
{
	char abs[512];
	h_write_str(srv.root, "ok.txt", "plain\n");
	h_write_str(srv.root, ".env", "SECRET=1\n");
	h_mkdir(srv.root, ".git");
	h_write_str(srv.root, ".git/config", "[core]\n");
	h_mkdir(srv.root, "_static");
	snprintf(abs, sizeof abs, "%s/jquery.js", srv.out);
	h_symlink(srv.root, "_static/jquery.js", abs);
	h_symlink(srv.root, "rel.js", "../outside/jquery.js");
	h_symlink(srv.root, "envlink", ".env");
	h_symlink(srv.root, "405.html", ".env"); /* an error page that is a link to a dotfile */
	h_symlink(srv.root, "conf", ".git");
	snprintf(abs, sizeof abs, "%s/.env", srv.root);
	h_symlink(srv.root, "absenv", abs);
	h_symlink(srv.root, "alias.txt", "ok.txt");
	h_mkdir(srv.root, "sub");
	h_symlink(srv.root, "sub/up.txt", "../ok.txt");
	h_symlink(srv.root, "outdot", "../outside/.hide/x.txt");
	h_symlink(srv.root, "magic", "/proc/self/root");
	h_symlink(srv.root, "cwd", "/proc/self/cwd");
	h_symlink(srv.root, "loop1", "loop2");
	h_symlink(srv.root, "loop2", "loop1");
	h_mkfifo(srv.root, "fifo");
	h_mkdir(srv.root, "docs");
	h_write_str(srv.root, "docs/a.txt", "a\n");
	h_write_str(srv.root, "stale.txt", "fresh original\n");
	h_write_str(srv.root, "stale.txt.gz", "old gzip");
	h_set_mtime(srv.root, "stale.txt.gz", H_MTIME, 0);
	h_set_mtime(srv.root, "stale.txt", H_MTIME + 10, 0);

	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	int n = snprintf(sa.sun_path, sizeof sa.sun_path, "%s/sock", srv.root);
	ck_assert(n > 0 && (size_t)n < sizeof sa.sun_path);
	srv.sock = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	ck_assert(srv.sock >= 0);
	ck_assert(bind(srv.sock, (struct sockaddr *)&sa, sizeof sa) == 0);
}

static void
start(const char *const *flags)
{
	char err[512];
	if (h_server_start(&srv.h, srv.root, srv.log, flags, err, sizeof err) != 0) {
		h_print_log_tail(srv.log);
		h_rmtree(srv.base);
		ck_abort_msg("starting the server: %s", err);
	}
}

static void
setup_flags(const char *const *flags)
{
	make_base();
	make_tree();
	start(flags);
}

static void
setup_default(void)
{
	static const char *const f[] = {"--no-access-log", NULL};
	setup_flags(f);
}

static void
setup_dev(void)
{
	static const char *const f[] = {"--no-access-log", "--dev", NULL};
	setup_flags(f);
}

static void
setup_follow(void)
{
	static const char *const f[] = {"--no-access-log", "--follow-symlinks", "--listing", NULL};
	setup_flags(f);
}

static void
setup_no_precompressed(void)
{
	static const char *const f[] = {"--no-access-log", "--no-precompressed", NULL};
	setup_flags(f);
}

static void
teardown(void)
{
	if (srv.h.pid > 0) {
		int status = h_server_stop(&srv.h, 10000);
		if (status == -1 || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
			char what[64];
			fprintf(stderr, "check_refusals: FATAL: the server of this TCase: %s\n",
			        h_describe_status(status, what, sizeof what));
			h_print_log_tail(srv.log);
			h_teardown_failed("check_refusals");
		}
	}
	if (srv.sock >= 0)
		close(srv.sock);
	srv.sock = -1;
	h_rmtree(srv.base);
	free(srv.base);
	srv.base = NULL;
}

static void
fetch(const char *method, const char *target, const char *headers, struct h_resp *r)
{
	h_fetch(srv.h.port, method, target, headers, r);
}

/* How often "warning: <line>\n" is in the log. */
static int
log_count(const char *line)
{
	char needle[2048];
	snprintf(needle, sizeof needle, "warning: %s\n", line);
	size_t len;
	char *log = h_read_file(srv.log, &len);
	ck_assert_msg(log != NULL, "reading %s: %s", srv.log, strerror(errno));
	int n = 0;
	for (const char *p = log; (p = strstr(p, needle)) != NULL; p += strlen(needle))
		n++;
	free(log);
	return n;
}

/* The line is in the log exactly once. */
static void
assert_logged_once(const char *line)
{
	int n = log_count(line);
	if (n != 1)
		h_print_log_tail(srv.log);
	ck_assert_msg(n == 1, "log line '%s' appears %d times, want 1", line, n);
}

/* GET target answers status with the plain built-in page, and explains
 * itself in the log with exactly line. */
static void
assert_refused(const char *target, int status, const char *line)
{
	struct h_resp r;
	fetch("GET", target, NULL, &r);
	H_ASSERT_CODE(&r, status);
	ck_assert_msg(strstr(H_TEXT(&r), "shs-explain") == NULL, "explained to the client: %s",
	              H_TEXT(&r));
	ck_assert_msg(strstr(H_TEXT(&r), srv.base) == NULL, "a path shown to the client: %s",
	              H_TEXT(&r));
	h_resp_free(&r);
	assert_logged_once(line);
}

static void
assert_served(const char *target, const char *body)
{
	struct h_resp r;
	fetch("GET", target, NULL, &r);
	H_ASSERT_CODE(&r, 200);
	H_ASSERT_TEXT(&r, body);
	h_resp_free(&r);
}

/* ---- explanations (default flags) ---------------------------------------- */

START_TEST(test_symlink_out_absolute)
{
	char line[1024];
	snprintf(line, sizeof line,
	         "symlink _static/jquery.js -> %s/jquery.js leaves the top dir; see "
	         "--follow-symlinks",
	         srv.out);
	assert_refused("/_static/jquery.js", 403, line);
}
END_TEST

START_TEST(test_symlink_out_relative)
{
	assert_refused("/rel.js", 403,
	               "symlink rel.js -> ../outside/jquery.js leaves the top dir; see "
	               "--follow-symlinks");
}
END_TEST

START_TEST(test_dotfile)
{
	assert_refused("/.env", 404, ".env is a dotfile; see --dotfiles");
	assert_refused("/.git/config", 404, ".git/config is a dotfile; see --dotfiles");
}
END_TEST

/* Before issue 12 a link to a dotfile inside the top dir served it. */
START_TEST(test_dotfile_through_link)
{
	assert_refused("/envlink", 404,
	               "symlink envlink -> .env leads to the dotfile .env; see --dotfiles");
	assert_refused("/conf/config", 404,
	               "symlink conf -> .git leads to the dotfile .git/config; see --dotfiles");
	/* Nor does an error page that is such a link show it: TOP/405.html
	 * is opened as a request for it would be, so the built-in page. */
	struct h_resp r;
	fetch("POST", "/ok.txt", NULL, &r);
	H_ASSERT_CODE(&r, 405);
	ck_assert_msg(r.body_len > 0 && memmem(r.body, r.body_len, "SECRET", 6) == NULL,
	              "the 405 page shows the dotfile: %.*s", (int)r.body_len, r.body);
	h_resp_free(&r);
}
END_TEST

/* Links that stay inside the top dir, to files that are no dotfiles. */
START_TEST(test_symlink_inside_served)
{
	assert_served("/alias.txt", "plain\n");
	assert_served("/sub/up.txt", "plain\n");
}
END_TEST

START_TEST(test_fifo)
{
	assert_refused("/fifo", 403, "fifo is a fifo; only regular files are served");
}
END_TEST

START_TEST(test_socket)
{
	assert_refused("/sock", 403, "sock is a socket; only regular files are served");
}
END_TEST

START_TEST(test_dir_without_index)
{
	assert_refused("/docs/", 404, "directory docs/ has no index.html; see --listing");
}
END_TEST

START_TEST(test_stale_sidecar)
{
	struct h_resp r;
	fetch("GET", "/stale.txt", "Accept-Encoding: gzip\r\n", &r);
	H_ASSERT_CODE(&r, 200);
	H_ASSERT_TEXT(&r, "fresh original\n");
	H_ASSERT_NO_HEADER(&r, "Content-Encoding");
	h_resp_free(&r);
	assert_logged_once(
	    "sidecar stale.txt.gz is older than stale.txt; not served until recompressed");
}
END_TEST

START_TEST(test_magic_link_default)
{
	assert_refused("/magic/etc/hostname", 403,
	               "symlink magic -> /proc/self/root goes through a magic link in /proc; "
	               "refused even with --follow-symlinks");
}
END_TEST

START_TEST(test_loop)
{
	struct h_resp r;
	fetch("GET", "/loop1", NULL, &r);
	H_ASSERT_CODE(&r, 403);
	h_resp_free(&r);
	/* The walk names the link it was expanding when it gave up. */
	int a = log_count("symlink loop2 -> loop1 loops (more than 40 links)");
	int b = log_count("symlink loop1 -> loop2 loops (more than 40 links)");
	ck_assert_msg(a + b == 1, "loop lines: %d and %d", a, b);
}
END_TEST

/* 100 requests for one refused path: one line. */
START_TEST(test_rate_limit_per_path)
{
	h_write_str(srv.root, ".ratelimit", "x");
	for (int i = 0; i < 100; i++) {
		struct h_resp r;
		fetch("GET", "/.ratelimit", NULL, &r);
		H_ASSERT_CODE(&r, 404);
		h_resp_free(&r);
	}
	assert_logged_once(".ratelimit is a dotfile; see --dotfiles");
}
END_TEST

/* The request's bytes reach the log escaped: no ESC, no newline. */
START_TEST(test_escaped)
{
	struct h_resp r;
	fetch("GET", "/.%1b[31mred%0aforged", NULL, &r);
	H_ASSERT_CODE(&r, 404);
	h_resp_free(&r);
	assert_logged_once(".\\x1b[31mred\\x0aforged is a dotfile; see --dotfiles");
	size_t len;
	char *log = h_read_file(srv.log, &len);
	ck_assert(log != NULL);
	ck_assert_msg(memchr(log, 0x1b, len) == NULL, "a raw ESC in the log");
	ck_assert_msg(strstr(log, "\nforged") == NULL, "a forged log line");
	free(log);
}
END_TEST

/* ---- the per-second cap ---------------------------------------------------- */

START_TEST(test_rate_limit_global)
{
	char target[64];
	for (int i = 0; i < 3 * EXPLAIN_PER_SEC; i++) {
		struct h_resp r;
		snprintf(target, sizeof target, "/.scan%d", i);
		fetch("GET", target, NULL, &r);
		H_ASSERT_CODE(&r, 404);
		h_resp_free(&r);
	}
	size_t len;
	char *log = h_read_file(srv.log, &len);
	ck_assert(log != NULL);
	int n = 0;
	for (const char *p = log; (p = strstr(p, " is a dotfile; see --dotfiles\n")) != NULL; p++)
		n++;
	free(log);
	/* The requests may straddle a second: at most two windows' worth. */
	ck_assert_msg(n >= EXPLAIN_PER_SEC && n <= 2 * EXPLAIN_PER_SEC, "%d lines", n);
	/* A later refusal says how many went unexplained. */
	uint64_t deadline = h_now_ms() + (uint64_t)h_ms(10000);
	char note[128];
	snprintf(note, sizeof note, "more refusals not explained (at most %d lines a second)\n",
	         EXPLAIN_PER_SEC);
	int said = 0;
	for (int i = 0; !said && h_now_ms() < deadline; i++) {
		struct h_resp r;
		snprintf(target, sizeof target, "/.later%d", i);
		fetch("GET", target, NULL, &r);
		h_resp_free(&r);
		said = h_wait_file_contains(srv.log, note, 0) >= 0;
		if (!said)
			h_sleep_ms(50); /* polling for the next second's window */
	}
	ck_assert_msg(said, "no count of the unexplained refusals");
}
END_TEST

/* ---- --dev: the page says it too ----------------------------------------- */

START_TEST(test_dev_403_page)
{
	struct h_resp r;
	fetch("GET", "/_static/jquery.js", NULL, &r);
	H_ASSERT_CODE(&r, 403);
	char want[1024];
	snprintf(want, sizeof want,
	         "<p class=\"shs-explain\">symlink _static/jquery.js -&gt; %s/jquery.js leaves the "
	         "top dir; see --follow-symlinks</p>\n</body>",
	         srv.out);
	ck_assert_msg(strstr(H_TEXT(&r), want) != NULL, "page: %s", H_TEXT(&r));
	H_ASSERT_HEADER(&r, "Content-Type", "text/html; charset=utf-8");
	H_ASSERT_HEADER(&r, "Cache-Control", "no-cache");
	h_resp_free(&r);
}
END_TEST

START_TEST(test_dev_404_dotfile_page)
{
	struct h_resp r;
	fetch("GET", "/.env", NULL, &r);
	H_ASSERT_CODE(&r, 404);
	ck_assert_msg(strstr(H_TEXT(&r), "<p class=\"shs-explain\">.env is a dotfile; see "
	                                 "--dotfiles</p>") != NULL,
	              "page: %s", H_TEXT(&r));
	h_resp_free(&r);
	/* HTML in a name is escaped on the page. */
	fetch("GET", "/.%3Cb%3E%22x", NULL, &r);
	H_ASSERT_CODE(&r, 404);
	ck_assert_msg(strstr(H_TEXT(&r), "<p class=\"shs-explain\">.&lt;b&gt;&quot;x is a dotfile; "
	                                 "see --dotfiles</p>") != NULL,
	              "page: %s", H_TEXT(&r));
	ck_assert(strstr(H_TEXT(&r), "<b>") == NULL);
	h_resp_free(&r);
}
END_TEST

START_TEST(test_dev_403_with_custom_page)
{
	h_write_str(srv.root, "403.html", "<html><body><h1>No</h1></body></html>");
	struct h_resp r;
	fetch("GET", "/fifo", NULL, &r);
	H_ASSERT_CODE(&r, 403);
	H_ASSERT_TEXT(&r, "<html><body><h1>No</h1><p class=\"shs-explain\">fifo is a fifo; only "
	                  "regular files are served</p>\n</body></html>");
	h_resp_free(&r);
	char p[512];
	snprintf(p, sizeof p, "%s/403.html", srv.root);
	ck_assert(unlink(p) == 0);
}
END_TEST

/* ---- --follow-symlinks ------------------------------------------------------ */

START_TEST(test_follow_out_of_root)
{
	assert_served("/_static/jquery.js", "OUTSIDE jquery\n");
	assert_served("/rel.js", "OUTSIDE jquery\n");
	assert_served("/alias.txt", "plain\n");
	/* Outside the top dir the dotfile rule is not ours. */
	assert_served("/outdot", "OUTSIDE hidden dir\n");
}
END_TEST

START_TEST(test_follow_magic_refused)
{
	assert_refused("/magic/etc/hostname", 403,
	               "symlink magic -> /proc/self/root goes through a magic link in /proc; "
	               "refused even with --follow-symlinks");
	/* Whatever the cwd is, the link itself is never followed. */
	struct h_resp r;
	fetch("GET", "/cwd/", NULL, &r);
	H_ASSERT_CODE(&r, 403);
	h_resp_free(&r);
	assert_logged_once("symlink cwd -> /proc/self/cwd goes through a magic link in /proc; "
	                   "refused even with --follow-symlinks");
}
END_TEST

START_TEST(test_follow_dotfile_rules)
{
	assert_refused("/envlink", 404,
	               "symlink envlink -> .env leads to the dotfile .env; see --dotfiles");
	char line[1024];
	snprintf(line, sizeof line,
	         "symlink absenv -> %s/.env leads to the dotfile .env; see --dotfiles", srv.root);
	assert_refused("/absenv", 404, line);
	assert_refused("/.env", 404, ".env is a dotfile; see --dotfiles");
	assert_refused("/fifo", 403, "fifo is a fifo; only regular files are served");
}
END_TEST

/* --listing lists a link that leaves the top dir when it would be served. */
START_TEST(test_follow_listing)
{
	struct h_resp r;
	fetch("GET", "/_static/", NULL, &r);
	H_ASSERT_CODE(&r, 200);
	ck_assert_msg(strstr(H_TEXT(&r), "jquery.js") != NULL, "listing: %s", H_TEXT(&r));
	h_resp_free(&r);
	/* Listed as served: out of the top dir yes, to a dotfile or through
	 * /proc no. */
	fetch("GET", "/", NULL, &r);
	H_ASSERT_CODE(&r, 200);
	static const char *const listed[] = {"rel.js", "alias.txt", "outdot"};
	static const char *const unlisted[] = {"envlink", "absenv", "magic/", "cwd/", "conf/"};
	char a[128];
	for (size_t i = 0; i < sizeof listed / sizeof listed[0]; i++) {
		snprintf(a, sizeof a, "<a href=\"./%s\">", listed[i]);
		ck_assert_msg(strstr(H_TEXT(&r), a) != NULL, "%s not listed: %s", listed[i],
		              H_TEXT(&r));
	}
	for (size_t i = 0; i < sizeof unlisted / sizeof unlisted[0]; i++) {
		snprintf(a, sizeof a, "<a href=\"./%s\">", unlisted[i]);
		ck_assert_msg(strstr(H_TEXT(&r), a) == NULL, "%s listed: %s", unlisted[i],
		              H_TEXT(&r));
	}
	h_resp_free(&r);
}
END_TEST

/* ---- sidecar without its original ------------------------------------------ */

static void
make_sidecars(void)
{
	h_write_str(srv.root, "changelog.html.gz", "GZBYTES-changelog");
	h_write_str(srv.root, "app.js.br", "BRBYTES-app");
	h_write_str(srv.root, "app.js.gz", "GZBYTES-app");
	h_write_str(srv.root, "data.json.zst", "ZSTBYTES-data");
}

START_TEST(test_sidecar_only_gzip)
{
	make_sidecars();
	struct h_resp r;
	fetch("GET", "/changelog.html", "Accept-Encoding: gzip\r\n", &r);
	H_ASSERT_STATUS(&r, "HTTP/1.1 200 OK");
	H_ASSERT_HEADER(&r, "Content-Type", "text/html; charset=utf-8");
	H_ASSERT_HEADER(&r, "Content-Encoding", "gzip");
	H_ASSERT_HEADER(&r, "Vary", "Accept-Encoding");
	H_ASSERT_HEADER(&r, "Accept-Ranges", "bytes");
	ck_assert(h_header(&r, "ETag") != NULL);
	H_ASSERT_TEXT(&r, "GZBYTES-changelog");
	h_resp_free(&r);

	fetch("GET", "/changelog.html", NULL, &r);
	H_ASSERT_STATUS(&r, "HTTP/1.1 404 Not Found");
	H_ASSERT_HEADER(&r, "Vary", "Accept-Encoding");
	H_ASSERT_NO_HEADER(&r, "Content-Encoding");
	h_resp_free(&r);

	fetch("GET", "/changelog.html", "Accept-Encoding: br, gzip;q=0\r\n", &r);
	H_ASSERT_CODE(&r, 404);
	H_ASSERT_HEADER(&r, "Vary", "Accept-Encoding");
	h_resp_free(&r);
}
END_TEST

START_TEST(test_sidecar_only_br_zst)
{
	make_sidecars();
	struct h_resp r, g;
	fetch("GET", "/app.js", "Accept-Encoding: gzip, br\r\n", &r);
	H_ASSERT_CODE(&r, 200);
	H_ASSERT_HEADER(&r, "Content-Encoding", "br");
	H_ASSERT_HEADER(&r, "Content-Type", "text/javascript; charset=utf-8");
	H_ASSERT_TEXT(&r, "BRBYTES-app");
	fetch("GET", "/app.js", "Accept-Encoding: gzip\r\n", &g);
	H_ASSERT_CODE(&g, 200);
	H_ASSERT_HEADER(&g, "Content-Encoding", "gzip");
	H_ASSERT_TEXT(&g, "GZBYTES-app");
	ck_assert_msg(strcmp(h_header(&r, "ETag"), h_header(&g, "ETag")) != 0,
	              "one ETag for two variants");
	h_resp_free(&r);
	h_resp_free(&g);

	fetch("GET", "/data.json", "Accept-Encoding: zstd\r\n", &r);
	H_ASSERT_CODE(&r, 200);
	H_ASSERT_HEADER(&r, "Content-Encoding", "zstd");
	H_ASSERT_HEADER(&r, "Content-Type", "application/json");
	H_ASSERT_TEXT(&r, "ZSTBYTES-data");
	h_resp_free(&r);
	fetch("GET", "/data.json", "Accept-Encoding: gzip, br\r\n", &r);
	H_ASSERT_CODE(&r, 404);
	H_ASSERT_HEADER(&r, "Vary", "Accept-Encoding");
	h_resp_free(&r);
}
END_TEST

START_TEST(test_sidecar_only_head_range_cond)
{
	make_sidecars();
	struct h_resp r;
	fetch("HEAD", "/changelog.html", "Accept-Encoding: gzip\r\n", &r);
	H_ASSERT_CODE(&r, 200);
	H_ASSERT_HEADER(&r, "Content-Length", "17");
	H_ASSERT_HEADER(&r, "Content-Encoding", "gzip");
	ck_assert_uint_eq(r.body_len, 0);
	char etag[128];
	snprintf(etag, sizeof etag, "%s", h_header(&r, "ETag"));
	h_resp_free(&r);

	fetch("HEAD", "/changelog.html", NULL, &r);
	H_ASSERT_CODE(&r, 404);
	H_ASSERT_HEADER(&r, "Vary", "Accept-Encoding");
	h_resp_free(&r);

	fetch("GET", "/changelog.html", "Accept-Encoding: gzip\r\nRange: bytes=0-6\r\n", &r);
	H_ASSERT_STATUS(&r, "HTTP/1.1 206 Partial Content");
	H_ASSERT_HEADER(&r, "Content-Range", "bytes 0-6/17");
	H_ASSERT_HEADER(&r, "Content-Encoding", "gzip");
	H_ASSERT_HEADER(&r, "Vary", "Accept-Encoding");
	H_ASSERT_TEXT(&r, "GZBYTES");
	h_resp_free(&r);

	char hdr[256];
	snprintf(hdr, sizeof hdr, "Accept-Encoding: gzip\r\nIf-None-Match: %s\r\n", etag);
	fetch("GET", "/changelog.html", hdr, &r);
	H_ASSERT_STATUS(&r, "HTTP/1.1 304 Not Modified");
	H_ASSERT_HEADER(&r, "ETag", etag);
	H_ASSERT_HEADER(&r, "Vary", "Accept-Encoding");
	h_resp_free(&r);
}
END_TEST

/* The small-file cache never answers x from x.gz's bytes, nor the reverse:
 * repeated requests keep each client's variant. */
START_TEST(test_sidecar_only_repeated)
{
	make_sidecars();
	for (int i = 0; i < 3; i++) {
		struct h_resp r;
		fetch("GET", "/changelog.html", "Accept-Encoding: gzip\r\n", &r);
		H_ASSERT_CODE(&r, 200);
		H_ASSERT_TEXT(&r, "GZBYTES-changelog");
		h_resp_free(&r);
		fetch("GET", "/changelog.html", "Accept-Encoding: identity\r\n", &r);
		H_ASSERT_CODE(&r, 404);
		h_resp_free(&r);
	}
}
END_TEST

/* --no-precompressed: a sidecar alone is just a missing file. */
START_TEST(test_sidecar_only_off)
{
	make_sidecars();
	struct h_resp r;
	fetch("GET", "/changelog.html", "Accept-Encoding: gzip\r\n", &r);
	H_ASSERT_CODE(&r, 404);
	H_ASSERT_NO_HEADER(&r, "Vary");
	h_resp_free(&r);
	/* Without --follow-symlinks, the default stays as strict as before. */
	fetch("GET", "/_static/jquery.js", NULL, &r);
	H_ASSERT_CODE(&r, 403);
	h_resp_free(&r);
}
END_TEST

/* ---- unreadable: needs root to run the server as nobody ----------------- */

static void
setup_nobody(void)
{
	make_base();
	srv.h.pid = -1;
	if (geteuid() != 0)
		return;
	ck_assert(chmod(srv.base, 0755) == 0);
	ck_assert(chmod(srv.root, 0755) == 0);
	h_write_str(srv.root, "secret.txt", "root only\n");
	char p[512];
	snprintf(p, sizeof p, "%s/secret.txt", srv.root);
	ck_assert(chmod(p, 0600) == 0);
	static const char *const f[] = {"--no-access-log", "--user", "nobody", NULL};
	start(f);
}

START_TEST(test_unreadable)
{
	if (geteuid() != 0) {
		printf("refusals suite: skipping the unreadable file: needs root\n");
		return;
	}
	struct passwd *pw = getpwnam("nobody");
	ck_assert(pw != NULL);
	char line[256];
	snprintf(line, sizeof line, "secret.txt is not readable by uid %u (owner uid 0, mode 0600)",
	         (unsigned)pw->pw_uid);
	assert_refused("/secret.txt", 403, line);
}
END_TEST

/* ---- the race: a link swapped in and out of the top dir ----------------- */

#define RACE_REQUESTS 10000

static void
setup_race(void)
{
	make_base();
	h_write_str(srv.root, "in.txt", "INSIDE");
	h_write_str(srv.root, ".hidden", "HIDDEN");
	h_symlink(srv.root, "swap", "in.txt");
	static const char *const f[] = {"--no-access-log", NULL};
	start(f);
}

/* Swaps root/swap between in.txt, a file outside and a dotfile (rename
 * over it: atomic) until killed. */
static void
swapper(void)
{
	char abs[512], tmp[512], dst[512];
	snprintf(abs, sizeof abs, "%s/jquery.js", srv.out);
	snprintf(tmp, sizeof tmp, "%s/swap.tmp", srv.root);
	snprintf(dst, sizeof dst, "%s/swap", srv.root);
	const char *targets[] = {"in.txt", abs, "../outside/jquery.js", ".hidden", "in.txt"};
	for (unsigned i = 0;; i++) {
		(void)unlink(tmp);
		if (symlink(targets[i % 5], tmp) == 0)
			(void)rename(tmp, dst);
	}
}

START_TEST(test_race_symlink_swap)
{
	pid_t pid = fork();
	ck_assert(pid >= 0);
	if (pid == 0) {
		alarm(120); /* bounded even if the test dies first */
		swapper();
		_exit(0);
	}
	int inside = 0, refused = 0, other = 0;
	struct h_conn c;
	h_conn_open(&c, srv.h.port);
	for (int i = 0; i < RACE_REQUESTS; i++) {
		h_conn_send(&c, "GET /swap HTTP/1.1\r\nHost: x\r\n\r\n");
		struct h_resp r;
		int rc = h_read_response(&c, &r, 0);
		if (rc != H_OK) {
			kill(pid, SIGKILL);
			waitpid(pid, NULL, 0);
		}
		H_ASSERT_RC(rc, &r);
		if (strstr(H_TEXT(&r), "OUTSIDE") || strstr(H_TEXT(&r), "HIDDEN")) {
			kill(pid, SIGKILL);
			waitpid(pid, NULL, 0);
			ck_abort_msg("request %d served %s", i, H_TEXT(&r));
		}
		if (r.status == 200 && strcmp(H_TEXT(&r), "INSIDE") == 0)
			inside++;
		else if (r.status == 403 || r.status == 404)
			refused++;
		else
			other++;
		int reopen = h_says_close(&r);
		h_resp_free(&r);
		if (reopen) {
			h_conn_close(&c);
			h_conn_open(&c, srv.h.port);
		}
	}
	h_conn_close(&c);
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	printf("refusals race: %d inside, %d refused, %d other of %d\n", inside, refused, other,
	       RACE_REQUESTS);
	ck_assert_int_eq(other, 0);
	ck_assert_msg(inside > 0 && refused > 0, "the swap never raced: %d inside, %d refused",
	              inside, refused);
}
END_TEST

/* ---- pure: the log escaping ------------------------------------------------ */

START_TEST(test_escape_table)
{
	static const struct {
		const char *in, *want;
		size_t cap;
	} t[] = {
	    {"plain/path.txt", "plain/path.txt", 64},
	    {"a\nb", "a\\x0ab", 64},
	    {"\x1b[31m", "\\x1b[31m", 64},
	    {"back\\slash", "back\\x5cslash", 64},
	    {"\x7f\xff", "\\x7f\\xff", 64},
	    {"abcdefghij", "abcd...", 8},
	};
	for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
		char out[64];
		size_t n = explain_escape(t[i].in, strlen(t[i].in), out, t[i].cap);
		ck_assert_str_eq(out, t[i].want);
		ck_assert_uint_eq(n, strlen(t[i].want));
	}
}
END_TEST

Suite *
refusals_suite(void)
{
	Suite *s = suite_create("refusals");
	TCase *tc = tcase_create("explain");
	tcase_add_unchecked_fixture(tc, setup_default, teardown);
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_symlink_out_absolute);
	tcase_add_test(tc, test_symlink_out_relative);
	tcase_add_test(tc, test_dotfile);
	tcase_add_test(tc, test_dotfile_through_link);
	tcase_add_test(tc, test_symlink_inside_served);
	tcase_add_test(tc, test_fifo);
	tcase_add_test(tc, test_socket);
	tcase_add_test(tc, test_dir_without_index);
	tcase_add_test(tc, test_stale_sidecar);
	tcase_add_test(tc, test_magic_link_default);
	tcase_add_test(tc, test_loop);
	tcase_add_test(tc, test_rate_limit_per_path);
	tcase_add_test(tc, test_escaped);
	suite_add_tcase(s, tc);

	tc = tcase_create("cap");
	tcase_add_unchecked_fixture(tc, setup_default, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_rate_limit_global);
	suite_add_tcase(s, tc);

	tc = tcase_create("dev");
	tcase_add_unchecked_fixture(tc, setup_dev, teardown);
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_dev_403_page);
	tcase_add_test(tc, test_dev_404_dotfile_page);
	tcase_add_test(tc, test_dev_403_with_custom_page);
	suite_add_tcase(s, tc);

	tc = tcase_create("follow");
	tcase_add_unchecked_fixture(tc, setup_follow, teardown);
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_follow_out_of_root);
	tcase_add_test(tc, test_follow_magic_refused);
	tcase_add_test(tc, test_follow_dotfile_rules);
	tcase_add_test(tc, test_follow_listing);
	suite_add_tcase(s, tc);

	tc = tcase_create("sidecar");
	tcase_add_unchecked_fixture(tc, setup_default, teardown);
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_sidecar_only_gzip);
	tcase_add_test(tc, test_sidecar_only_br_zst);
	tcase_add_test(tc, test_sidecar_only_head_range_cond);
	tcase_add_test(tc, test_sidecar_only_repeated);
	suite_add_tcase(s, tc);

	tc = tcase_create("sidecar_off");
	tcase_add_unchecked_fixture(tc, setup_no_precompressed, teardown);
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_sidecar_only_off);
	suite_add_tcase(s, tc);

	tc = tcase_create("unreadable");
	tcase_add_unchecked_fixture(tc, setup_nobody, teardown);
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_unreadable);
	suite_add_tcase(s, tc);

	tc = tcase_create("race");
	tcase_add_unchecked_fixture(tc, setup_race, teardown);
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_race_symlink_swap);
	suite_add_tcase(s, tc);

	tc = tcase_create("escape");
	tcase_add_test(tc, test_escape_table);
	suite_add_tcase(s, tc);
	return s;
}
