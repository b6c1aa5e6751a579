/* check_server.c - the integration suite: the real binary (SHS_BIN) over
 * real sockets, asserting exact bytes against /work/spec.md.
 *
 * Each server TCase builds its own document root under /tmp and starts one
 * server in an *unchecked* fixture, which runs once in the runner process:
 * the forked tests inherit its pid and port, and the teardown runs even when
 * tests fail. A teardown cannot fail a test, so a server that does not exit 0
 * on SIGTERM is reported loudly on stderr and makes the runner exit non-zero
 * (see h_teardown_failed). A checked setup names a server that died
 * in an earlier test, and one server per TCase keeps a crash from taking the
 * whole suite down. Each server TCase ends with a test that compares the
 * server's open fds with the count taken when the fixture started.
 *
 * Tests that must watch a server exit (SIGTERM mid-download, --dotfiles,
 * command-line errors) start their own instance and wait for it themselves. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <strings.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "harness.h"
#include "suites.h"

#define SERVER_HEADER "simple-http-server/0.1.0"
#define HTML "text/html; charset=utf-8"
#define BIG_SIZE ((size_t)64 * 1024 * 1024)

/* ---- the document roots ---- */

struct file {
	const char *rel;
	const char *data;
	size_t len;
	const char *type; /* expected Content-Type */
};

#define FILE_ENTRY(rel, lit, type)                                                                 \
	{                                                                                          \
		rel, lit, sizeof(lit) - 1, type                                                    \
	}

static const char png_bytes[] = "\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\1\0\0\0\1\x08\x06\0\0\0";
static const char custom_404[] =
    "<!doctype html>\n<title>custom 404</title>\n<p>This is the custom 404.html page.</p>\n";

static const struct file core_files[] = {
    FILE_ENTRY("index.html", "<!doctype html>\n<title>home</title>\n<p>home page</p>\n", HTML),
    FILE_ENTRY("style.css", "body { color: #123456; }\n", "text/css; charset=utf-8"),
    FILE_ENTRY("file.txt", "hello, file\nsecond line\n", "text/plain; charset=utf-8"),
    FILE_ENTRY("app.js", "console.log(\"app\");\n", "text/javascript; charset=utf-8"),
    {"img.png", png_bytes, sizeof png_bytes - 1, "image/png"},
    FILE_ENTRY("data.xyz", "\x01\x02\x03\xff unknown extension\n", "application/octet-stream"),
    FILE_ENTRY("a+b.txt", "a plus b\n", "text/plain; charset=utf-8"),
    FILE_ENTRY("sp ace.txt", "with a space\n", "text/plain; charset=utf-8"),
    FILE_ENTRY("sub/index.html", "<!doctype html>\n<p>sub index</p>\n", HTML),
    FILE_ENTRY("sub/page.txt", "a page in sub\n", "text/plain; charset=utf-8"),
    FILE_ENTRY("empty/note.txt", "a directory without index.html\n", "text/plain; charset=utf-8"),
    FILE_ENTRY("a/visible.txt", "visible\n", "text/plain; charset=utf-8"),
    FILE_ENTRY(".well-known/x.txt", "well known\n", "text/plain; charset=utf-8"),
    FILE_ENTRY("404.html", custom_404, HTML),
    /* never to be served */
    FILE_ENTRY(".env", "SECRET=dotenv\n", NULL),
    FILE_ENTRY(".git/config", "[core]\n\tsecret = git\n", NULL),
    FILE_ENTRY("a/.hidden/b", "hidden b\n", NULL),
    FILE_ENTRY(".well-known/.hidden", "hidden in well-known\n", NULL),
    FILE_ENTRY("sub/.well-known/x.txt", "not the first segment\n", NULL),
};

/* The smaller trees reuse these entries of core_files. */
static const char *const builtin_rels[] = {"index.html", "file.txt", "style.css"};

static const char outside_data[] = "outside secret: must never be served\n";

static const struct file *
find_file(const char *rel)
{
	for (size_t i = 0; i < sizeof core_files / sizeof core_files[0]; i++)
		if (strcmp(core_files[i].rel, rel) == 0)
			return &core_files[i];
	ck_abort_msg("test bug: no file %s", rel);
	return NULL;
}

/* A leftover socket file: bound, then closed, so nobody listens on it. */
static void
make_socket_file(const char *root, const char *rel)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	int n = snprintf(sa.sun_path, sizeof sa.sun_path, "%s/%s", root, rel);
	ck_assert(n > 0 && (size_t)n < sizeof sa.sun_path);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	ck_assert(fd >= 0);
	ck_assert_msg(bind(fd, (struct sockaddr *)&sa, sizeof sa) == 0, "bind %s: %s", sa.sun_path,
	              strerror(errno));
	close(fd);
}

/* base/root with everything the core tests need; base/outside-file sits next
 * to it so the escaping symlinks point at something real. */
static void
build_core(const char *base, const char *root)
{
	for (size_t i = 0; i < sizeof core_files / sizeof core_files[0]; i++)
		h_write_file(root, core_files[i].rel, core_files[i].data, core_files[i].len);
	h_write_str(base, "outside-file", outside_data);
	h_mkfifo(root, "fifo");
	make_socket_file(root, "sock");
	h_symlink(root, "passwd", "/etc/passwd");         /* absolute, outside */
	h_symlink(root, "escape.txt", "../outside-file"); /* relative, outside */
	h_symlink(root, "updir", "..");                   /* directory outside */
	h_symlink(root, "alias.txt", "file.txt");         /* relative, inside */
	h_symlink(root, "sub/up.txt", "../file.txt");     /* inside, through .. */
}

/* No NNN.html at all: every error uses the built-in page. */
static void
build_builtin(const char *base, const char *root)
{
	(void)base;
	for (size_t i = 0; i < sizeof builtin_rels / sizeof builtin_rels[0]; i++) {
		const struct file *f = find_file(builtin_rels[i]);
		h_write_file(root, f->rel, f->data, f->len);
	}
}

static void
build_big(const char *base, const char *root)
{
	build_builtin(base, root);
	h_write_pattern(root, "big.bin", BIG_SIZE);
}

/* ---- the fixture ---- */

static struct {
	char *base;          /* /tmp/shs-test-XXXXXX */
	char root[PATH_MAX]; /* base/root: the top dir */
	char log[PATH_MAX];  /* base/server.log: the server's stderr */
	struct h_server srv;
	int fds; /* the server's open fds after one request */
} fx = {.srv = {.pid = -1, .out_fd = -1}};

/* One full request with Connection: close, so the fd baseline includes
 * whatever the server opens lazily. */
static void
warm_up(void)
{
	struct h_conn c;
	struct h_resp r;
	h_conn_open(&c, fx.srv.port);
	h_conn_send(&c, "GET /file.txt HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n");
	int rc = h_read_response(&c, &r, 0);
	H_ASSERT_RC(rc, &r);
	H_ASSERT_STATUS(&r, "HTTP/1.1 200 OK");
	h_resp_free(&r);
	H_ASSERT_CLOSED(&c);
	h_conn_close(&c);
}

static void
fixture_start(void (*build)(const char *base, const char *root))
{
	fx.base = h_mkdtemp();
	snprintf(fx.root, sizeof fx.root, "%s/root", fx.base);
	snprintf(fx.log, sizeof fx.log, "%s/server.log", fx.base);
	h_mkdir(fx.base, "root");
	build(fx.base, fx.root);
	char err[512];
	if (h_server_start(&fx.srv, fx.root, fx.log, NULL, err, sizeof err) != 0)
		ck_abort_msg("starting the server: %s", err);
	warm_up();
	fx.fds = h_settled_fds(fx.srv.pid, -1, 2000);
	ck_assert_msg(fx.fds > 0, "cannot count the fds of pid %d", (int)fx.srv.pid);
}

static void
fixture_stop(void)
{
	if (fx.srv.pid > 0) {
		int status = h_server_stop(&fx.srv, 10000);
		if (status == -1 || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
			char what[64], tail[4096];
			h_tail_file(fx.log, tail, sizeof tail);
			fprintf(stderr,
			        "\n!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!\n"
			        "check_server: FAILURE: after SIGTERM the server (top dir %s) "
			        "gave %s, expected exit status 0\n--- server log (tail) ---\n%s\n"
			        "!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!\n",
			        fx.root, h_describe_status(status, what, sizeof what), tail);
			h_teardown_failed("check_server");
		}
	}
	h_rmtree(fx.base);
	free(fx.base);
	fx.base = NULL;
}

static void
setup_core(void)
{
	fixture_start(build_core);
}

static void
setup_builtin(void)
{
	fixture_start(build_builtin);
}

static void
setup_big(void)
{
	fixture_start(build_big);
}

/* ---- shared assertions ---- */

/* What every response carries: Server, a current Date, one Content-Length
 * that matches the body read (callers that read a body). */
static void
expect_common(const struct h_resp *r)
{
	H_ASSERT_HEADER(r, "Server", SERVER_HEADER);
	ck_assert_msg(h_header_count(r, "Date") == 1, "%s: %d Date headers", r->status_line,
	              h_header_count(r, "Date"));
	long long t;
	const char *date = h_header(r, "Date");
	ck_assert_msg(h_imf_date(date, &t), "%s: Date is not an IMF-fixdate: '%s'", r->status_line,
	              date);
	long long now = (long long)time(NULL);
	ck_assert_msg(t >= now - 30 && t <= now + 2, "%s: Date '%s' is not now", r->status_line,
	              date);
	ck_assert_msg(h_header_count(r, "Content-Length") == 1, "%s: %d Content-Length headers",
	              r->status_line, h_header_count(r, "Content-Length"));
	H_ASSERT_NO_HEADER(r, "Transfer-Encoding");
}

static void
expect_length(const struct h_resp *r, size_t n)
{
	char want[32];
	snprintf(want, sizeof want, "%zu", n);
	H_ASSERT_HEADER(r, "Content-Length", want);
}

/* 200 with exactly the file's bytes and headers. */
static void
expect_file(const struct h_resp *r, const char *rel)
{
	const struct file *f = find_file(rel);
	H_ASSERT_STATUS(r, "HTTP/1.1 200 OK");
	expect_common(r);
	H_ASSERT_HEADER(r, "Content-Type", f->type);
	expect_length(r, f->len);
	H_ASSERT_HEADER(r, "Last-Modified", H_MTIME_IMF);
	H_ASSERT_BODY(r, f->data, f->len);
}

/* The built-in page: HTML that says "NNN Reason". */
static void
expect_builtin_page(const struct h_resp *r, const char *line)
{
	H_ASSERT_STATUS(r, line);
	expect_common(r);
	const char *type = h_header(r, "Content-Type");
	ck_assert_msg(type && strncmp(type, "text/html", 9) == 0, "%s: Content-Type '%s'", line,
	              type);
	const char *what = line + strlen("HTTP/1.1 ");
	ck_assert_msg(strstr((const char *)r->body, what) != NULL,
	              "%s: built-in body does not say '%s': '%s'", line, what, r->body);
	ck_assert_msg(!strstr((const char *)r->body, "custom"), "%s: custom page used", line);
}

/* 404 with the custom TOP/404.html as the body. */
static void
expect_custom_404(const struct h_resp *r)
{
	H_ASSERT_STATUS(r, "HTTP/1.1 404 Not Found");
	expect_common(r);
	H_ASSERT_HEADER(r, "Content-Type", HTML);
	expect_length(r, sizeof custom_404 - 1);
	H_ASSERT_BODY(r, custom_404, sizeof custom_404 - 1);
}

/* A persistent HTTP/1.1 response: no Connection: close. */
static void
expect_kept_alive(const struct h_resp *r)
{
	const char *conn = h_header(r, "Connection");
	ck_assert_msg(!conn || strcasecmp(conn, "close") != 0, "%s: Connection: close",
	              r->status_line);
}

/* Sends req and reads one response, asserting that it parsed. */
static void
exchange(struct h_conn *c, struct h_resp *r, const char *req, int no_body)
{
	if (req)
		h_conn_send(c, req);
	int rc = h_read_response(c, r, no_body);
	const char *what = req ? req : "(pipelined)";
	ck_assert_msg(rc == H_OK, "response to '%.*s': %s %s", (int)strcspn(what, "\r\n"), what,
	              h_strerror(rc), r->err);
}

static void
get(struct h_conn *c, struct h_resp *r, const char *target)
{
	char req[1024];
	snprintf(req, sizeof req, "GET %s HTTP/1.1\r\nHost: test\r\n\r\n", target);
	exchange(c, r, req, 0);
}

/* One request on a fresh connection; returns the open connection. */
static void
get_fresh(struct h_conn *c, struct h_resp *r, const char *target)
{
	h_conn_open(c, fx.srv.port);
	get(c, r, target);
}

/* ---- core: files ---- */

START_TEST(test_get_file)
{
	struct h_conn c;
	struct h_resp r;
	get_fresh(&c, &r, "/file.txt");
	expect_file(&r, "file.txt");
	expect_kept_alive(&r);
	h_resp_free(&r);
	h_conn_close(&c);
}
END_TEST

static const struct {
	const char *target;
	const char *rel;
} file_targets[] = {
    {"/index.html", "index.html"},
    {"/", "index.html"},
    {"/style.css", "style.css"},
    {"/app.js", "app.js"},
    {"/img.png", "img.png"},
    {"/data.xyz", "data.xyz"},
    {"/sub/page.txt", "sub/page.txt"},
    {"/sub/index.html", "sub/index.html"},
    /* normalisation */
    {"/%61pp.js", "app.js"},
    {"/%73ub/%70age.txt", "sub/page.txt"},
    {"//file.txt", "file.txt"},
    {"/./file.txt", "file.txt"},
    {"/sub/../file.txt", "file.txt"},
    {"/a/../index.html", "index.html"},
    {"/sub/./page.txt", "sub/page.txt"},
    {"/file.txt?x=1&y=2", "file.txt"},
    {"/file.txt#frag", "file.txt"},
    {"/sub/?q", "sub/index.html"},
    {"http://test/file.txt", "file.txt"},
    {"http://test/sub/page.txt?z", "sub/page.txt"},
    {"/a+b.txt", "a+b.txt"},
    {"/a%2Bb.txt", "a+b.txt"},
    {"/sp%20ace.txt", "sp ace.txt"},
    {"/.well-known/x.txt", ".well-known/x.txt"},
};

START_TEST(test_get_targets)
{
	struct h_conn c;
	struct h_resp r;
	get_fresh(&c, &r, file_targets[_i].target);
	expect_file(&r, file_targets[_i].rel);
	h_resp_free(&r);
	h_conn_close(&c);
}
END_TEST

START_TEST(test_head_file)
{
	struct h_conn c;
	struct h_resp get_r, head_r, next;
	get_fresh(&c, &get_r, "/style.css");
	expect_file(&get_r, "style.css");
	exchange(&c, &head_r, "HEAD /style.css HTTP/1.1\r\nHost: test\r\n\r\n", 1);
	H_ASSERT_STATUS(&head_r, "HTTP/1.1 200 OK");
	expect_common(&head_r);
	/* Exactly GET's headers (Date aside, which may tick). */
	ck_assert_msg(head_r.nhdr == get_r.nhdr, "HEAD has %zu headers, GET %zu", head_r.nhdr,
	              get_r.nhdr);
	for (size_t i = 0; i < get_r.nhdr; i++) {
		const char *name = get_r.hdr[i].name;
		if (strcasecmp(name, "Date") == 0)
			continue;
		H_ASSERT_HEADER(&head_r, name, get_r.hdr[i].value);
	}
	/* No body: the next response starts right here. */
	get(&c, &next, "/file.txt");
	expect_file(&next, "file.txt");
	h_resp_free(&get_r);
	h_resp_free(&head_r);
	h_resp_free(&next);
	h_conn_close(&c);
}
END_TEST

START_TEST(test_dir_redirect)
{
	struct h_conn c;
	struct h_resp r;
	get_fresh(&c, &r, "/sub");
	H_ASSERT_STATUS(&r, "HTTP/1.1 301 Moved Permanently");
	expect_common(&r);
	H_ASSERT_HEADER(&r, "Location", "/sub/");
	expect_kept_alive(&r);
	h_resp_free(&r);
	get(&c, &r, "/sub?x=1");
	H_ASSERT_STATUS(&r, "HTTP/1.1 301 Moved Permanently");
	expect_common(&r);
	H_ASSERT_HEADER(&r, "Location", "/sub/?x=1");
	h_resp_free(&r);
	/* still the same connection */
	get(&c, &r, "/sub/");
	expect_file(&r, "sub/index.html");
	h_resp_free(&r);
	h_conn_close(&c);
}
END_TEST

START_TEST(test_dir_index)
{
	struct h_conn c;
	struct h_resp r;
	get_fresh(&c, &r, "/sub/");
	expect_file(&r, "sub/index.html");
	h_resp_free(&r);
	h_conn_close(&c);
}
END_TEST

START_TEST(test_dir_without_index)
{
	struct h_conn c;
	struct h_resp r;
	get_fresh(&c, &r, "/empty/");
	expect_custom_404(&r);
	h_resp_free(&r);
	h_conn_close(&c);
}
END_TEST

START_TEST(test_custom_404)
{
	struct h_conn c;
	struct h_resp r;
	get_fresh(&c, &r, "/missing.txt");
	expect_custom_404(&r);
	expect_kept_alive(&r);
	h_resp_free(&r);
	/* A 404 keeps the connection. */
	get(&c, &r, "/file.txt");
	expect_file(&r, "file.txt");
	h_resp_free(&r);
	h_conn_close(&c);
}
END_TEST

/* Dotfiles and paths through a file are 404 (with the custom page). */
static const char *const not_found_targets[] = {
    "/.env",
    "/.git/config",
    "/.git/",
    "/.git",
    "/a/.hidden/b",
    "/%2eenv",
    "/.well-known/../.env",
    "/.well-known/.hidden",
    "/sub/.well-known/x.txt",
    "/file.txt/x",
    "/file.txt/",
    "/missing/deeper/x",
};

START_TEST(test_not_found)
{
	struct h_conn c;
	struct h_resp r;
	get_fresh(&c, &r, not_found_targets[_i]);
	expect_custom_404(&r);
	h_resp_free(&r);
	h_conn_close(&c);
}
END_TEST

START_TEST(test_well_known)
{
	struct h_conn c;
	struct h_resp r;
	get_fresh(&c, &r, "/.well-known/x.txt");
	expect_file(&r, ".well-known/x.txt");
	h_resp_free(&r);
	h_conn_close(&c);
}
END_TEST

/* 400 from the request-target: bad escapes, NUL, and targets that are
 * neither origin-form nor absolute-form. The spec lists 400 among the
 * statuses that answer with Connection: close and leaves it out of the ones
 * that keep the connection (405/501/404/403/301), so these close too. */
static const char *const bad_targets[] = {
    "/%zz", "/%00", "/file%00.txt", "/file.txt%00",        "/%4", "/%", "/file.txt%",
    "/%g0", "*",    "file.txt",     "ftp://test/file.txt",
};

START_TEST(test_bad_target)
{
	struct h_conn c;
	struct h_resp r;
	get_fresh(&c, &r, bad_targets[_i]);
	expect_builtin_page(&r, "HTTP/1.1 400 Bad Request");
	H_ASSERT_HEADER(&r, "Connection", "close");
	h_resp_free(&r);
	H_ASSERT_CLOSED(&c);
	h_conn_close(&c);
}
END_TEST

/* Climbing out, symlinks that lead out, and files that are not regular. */
static const char *const forbidden_targets[] = {
    "/../outside-file",
    "/../x",
    "/..",
    "/%2e%2e/outside-file",
    "/%2E%2E/outside-file",
    "/.%2e/outside-file",
    "/a/../../outside-file",
    "/sub/../../outside-file",
    "/passwd",
    "/escape.txt",
    "/updir/outside-file",
    "/fifo",
    "/sock",
};

START_TEST(test_forbidden)
{
	struct h_conn c;
	struct h_resp r;
	get_fresh(&c, &r, forbidden_targets[_i]);
	expect_builtin_page(&r, "HTTP/1.1 403 Forbidden");
	ck_assert(!strstr((const char *)r.body, "outside secret"));
	ck_assert(!strstr((const char *)r.body, "root:"));
	h_resp_free(&r);
	h_conn_close(&c);
}
END_TEST

START_TEST(test_symlink_inside)
{
	struct h_conn c;
	struct h_resp r;
	get_fresh(&c, &r, "/alias.txt");
	expect_file(&r, "file.txt");
	h_resp_free(&r);
	get(&c, &r, "/sub/up.txt");
	expect_file(&r, "file.txt");
	h_resp_free(&r);
	h_conn_close(&c);
}
END_TEST

/* --dotfiles: its own server on the same tree. */
START_TEST(test_dotfiles_flag)
{
	struct h_server s;
	char err[512], log[PATH_MAX];
	snprintf(log, sizeof log, "%s/dotfiles.log", fx.base);
	const char *const extra[] = {"--dotfiles", NULL};
	ck_assert_msg(h_server_start(&s, fx.root, log, extra, err, sizeof err) == 0, "%s", err);
	struct h_conn c;
	struct h_resp r;
	h_conn_open(&c, s.port);
	get(&c, &r, "/.env");
	H_ASSERT_STATUS(&r, "HTTP/1.1 200 OK");
	H_ASSERT_BODY(&r, "SECRET=dotenv\n", 14);
	h_resp_free(&r);
	get(&c, &r, "/a/.hidden/b");
	H_ASSERT_STATUS(&r, "HTTP/1.1 200 OK");
	H_ASSERT_BODY(&r, "hidden b\n", 9);
	h_resp_free(&r);
	/* still no way out */
	get(&c, &r, "/escape.txt");
	H_ASSERT_STATUS(&r, "HTTP/1.1 403 Forbidden");
	h_resp_free(&r);
	h_conn_close(&c);
	int status = h_server_stop(&s, 10000);
	ck_assert_msg(status != -1 && WIFEXITED(status) && WEXITSTATUS(status) == 0,
	              "--dotfiles server after SIGTERM: wait status %#x", status);
}
END_TEST

/* ---- core: methods and versions ---- */

START_TEST(test_post_405_pipelined)
{
	/* The body looks like a request: it must be skipped, not parsed. */
	static const char body[] = "GET /evil HTTP/1.1\r\nHost: test\r\n\r\n";
	char req[512];
	snprintf(req, sizeof req,
	         "POST /file.txt HTTP/1.1\r\nHost: test\r\nContent-Length: %zu\r\n\r\n%s"
	         "GET /file.txt HTTP/1.1\r\nHost: test\r\n\r\n",
	         sizeof body - 1, body);
	struct h_conn c;
	struct h_resp r;
	h_conn_open(&c, fx.srv.port);
	exchange(&c, &r, req, 0);
	expect_builtin_page(&r, "HTTP/1.1 405 Method Not Allowed");
	H_ASSERT_HEADER(&r, "Allow", "GET, HEAD, OPTIONS");
	expect_kept_alive(&r);
	h_resp_free(&r);
	exchange(&c, &r, NULL, 0);
	expect_file(&r, "file.txt");
	h_resp_free(&r);
	/* Nothing stray in between: the next response is the next request's. */
	get(&c, &r, "/style.css");
	expect_file(&r, "style.css");
	h_resp_free(&r);
	h_conn_close(&c);
}
END_TEST

static const char *const not_allowed_methods[] = {
    "POST", "PUT", "DELETE", "CONNECT", "TRACE", "PATCH",
};

START_TEST(test_405_methods)
{
	char req[256];
	snprintf(req, sizeof req, "%s /file.txt HTTP/1.1\r\nHost: test\r\n\r\n",
	         not_allowed_methods[_i]);
	struct h_conn c;
	struct h_resp r;
	h_conn_open(&c, fx.srv.port);
	exchange(&c, &r, req, 0);
	expect_builtin_page(&r, "HTTP/1.1 405 Method Not Allowed");
	H_ASSERT_HEADER(&r, "Allow", "GET, HEAD, OPTIONS");
	h_resp_free(&r);
	get(&c, &r, "/file.txt");
	expect_file(&r, "file.txt");
	h_resp_free(&r);
	h_conn_close(&c);
}
END_TEST

static const char *const unknown_methods[] = {"FOO", "get", "Get", "M-SEARCH"};

START_TEST(test_501)
{
	char req[256];
	snprintf(req, sizeof req, "%s /file.txt HTTP/1.1\r\nHost: test\r\n\r\n",
	         unknown_methods[_i]);
	struct h_conn c;
	struct h_resp r;
	h_conn_open(&c, fx.srv.port);
	exchange(&c, &r, req, 0);
	expect_builtin_page(&r, "HTTP/1.1 501 Not Implemented");
	expect_kept_alive(&r);
	h_resp_free(&r);
	get(&c, &r, "/file.txt");
	expect_file(&r, "file.txt");
	h_resp_free(&r);
	h_conn_close(&c);
}
END_TEST

static const char *const unsupported_versions[] = {"HTTP/2.0", "HTTP/3.0", "HTTP/0.9"};

START_TEST(test_505)
{
	char req[256];
	snprintf(req, sizeof req, "GET /file.txt %s\r\nHost: test\r\n\r\n",
	         unsupported_versions[_i]);
	struct h_conn c;
	struct h_resp r;
	h_conn_open(&c, fx.srv.port);
	exchange(&c, &r, req, 0);
	expect_builtin_page(&r, "HTTP/1.1 505 HTTP Version Not Supported");
	H_ASSERT_HEADER(&r, "Connection", "close");
	h_resp_free(&r);
	H_ASSERT_CLOSED(&c);
	h_conn_close(&c);
}
END_TEST

/* Heads the server must refuse with 400 and close. */
static const struct {
	const char *name;
	const char *bytes;
	size_t len; /* 0: strlen */
} bad_heads[] = {
    {"TLS ClientHello",
     "\x16\x03\x01\x00\xa5\x01\x00\x00\xa1\x03\x03\x5e\x8c\x02\x41\xd1\x00\x17\x00\x00\x00\x00"
     "\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00",
     44},
    {"HTTP/0.9 style", "GET /\r\n", 0},
    {"HTTP/0.9 style, LF", "GET /file.txt\n", 0},
    {"missing Host", "GET /file.txt HTTP/1.1\r\n\r\n", 0},
    {"two Hosts", "GET /file.txt HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", 0},
    {"lowercase version", "GET /file.txt http/1.1\r\nHost: test\r\n\r\n", 0},
    {"version suffix", "GET /file.txt HTTP/1.1x\r\nHost: test\r\n\r\n", 0},
    {"version without dot", "GET /file.txt HTTP/11\r\nHost: test\r\n\r\n", 0},
    {"double space", "GET  /file.txt HTTP/1.1\r\nHost: test\r\n\r\n", 0},
    {"space before colon", "GET /file.txt HTTP/1.1\r\nHost : test\r\n\r\n", 0},
    {"obs-fold", "GET /file.txt HTTP/1.1\r\nHost: test\r\nX-A: a\r\n b\r\n\r\n", 0},
    {"CTL in value", "GET /file.txt HTTP/1.1\r\nHost: test\r\nX-A: a\x01z\r\n\r\n", 0},
    {"Content-Length not digits",
     "POST /file.txt HTTP/1.1\r\nHost: test\r\nContent-Length: abc\r\n\r\n", 0},
    {"Content-Length overflow",
     "POST /file.txt HTTP/1.1\r\nHost: test\r\nContent-Length: 99999999999999999999999\r\n\r\n", 0},
    {"two Content-Lengths",
     "POST /file.txt HTTP/1.1\r\nHost: test\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab",
     0},
    {"Transfer-Encoding and Content-Length",
     "GET /file.txt HTTP/1.1\r\nHost: test\r\nTransfer-Encoding: chunked\r\n"
     "Content-Length: 5\r\n\r\n0\r\n\r\n",
     0},
    {"Transfer-Encoding not chunked",
     "GET /file.txt HTTP/1.1\r\nHost: test\r\nTransfer-Encoding: gzip\r\n\r\n", 0},
    {"Transfer-Encoding in HTTP/1.0",
     "GET /file.txt HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 0},
};

START_TEST(test_bad_head)
{
	struct h_conn c;
	struct h_resp r;
	h_conn_open(&c, fx.srv.port);
	size_t len = bad_heads[_i].len ? bad_heads[_i].len : strlen(bad_heads[_i].bytes);
	h_conn_send_buf(&c, bad_heads[_i].bytes, len);
	int rc = h_read_response(&c, &r, 0);
	ck_assert_msg(rc == H_OK, "%s: %s %s", bad_heads[_i].name, h_strerror(rc), r.err);
	ck_assert_msg(strcmp(r.status_line, "HTTP/1.1 400 Bad Request") == 0, "%s: got '%s'",
	              bad_heads[_i].name, r.status_line);
	expect_builtin_page(&r, "HTTP/1.1 400 Bad Request");
	H_ASSERT_HEADER(&r, "Connection", "close");
	h_resp_free(&r);
	H_ASSERT_CLOSED(&c);
	h_conn_close(&c);
}
END_TEST

/* Sends a head that is refused part-way: the server may close before it has
 * read everything, so a failed send is not an error here. */
static void
expect_refused_head(const char *req, size_t len, const char *line)
{
	struct h_conn c;
	struct h_resp r;
	h_conn_open(&c, fx.srv.port);
	(void)h_send_all(c.fd, req, len);
	int rc = h_read_response(&c, &r, 0);
	ck_assert_msg(rc == H_OK, "%s: %s %s", line, h_strerror(rc), r.err);
	expect_builtin_page(&r, line);
	H_ASSERT_HEADER(&r, "Connection", "close");
	h_resp_free(&r);
	H_ASSERT_CLOSED(&c);
	h_conn_close(&c);
}

START_TEST(test_414_long_target)
{
	static char req[9200];
	size_t n = (size_t)snprintf(req, sizeof req, "GET /");
	memset(req + n, 'a', 9000);
	n += 9000;
	n += (size_t)snprintf(req + n, sizeof req - n, " HTTP/1.1\r\nHost: test\r\n\r\n");
	expect_refused_head(req, n, "HTTP/1.1 414 URI Too Long");
}
END_TEST

START_TEST(test_431_big_header)
{
	static char req[9200];
	size_t n =
	    (size_t)snprintf(req, sizeof req, "GET /file.txt HTTP/1.1\r\nHost: test\r\nX-Big: ");
	memset(req + n, 'b', 9000);
	n += 9000;
	n += (size_t)snprintf(req + n, sizeof req - n, "\r\n\r\n");
	expect_refused_head(req, n, "HTTP/1.1 431 Request Header Fields Too Large");
}
END_TEST

/* GET /file.txt with Host and nextra more fields. */
static size_t
many_headers(char *req, size_t cap, int nextra)
{
	size_t n = (size_t)snprintf(req, cap, "GET /file.txt HTTP/1.1\r\nHost: test\r\n");
	for (int i = 0; i < nextra; i++)
		n += (size_t)snprintf(req + n, cap - n, "X-H%d: v\r\n", i);
	n += (size_t)snprintf(req + n, cap - n, "\r\n");
	return n;
}

START_TEST(test_431_many_headers)
{
	char req[4096];
	size_t n = many_headers(req, sizeof req, 100); /* 101 fields */
	expect_refused_head(req, n, "HTTP/1.1 431 Request Header Fields Too Large");
}
END_TEST

START_TEST(test_100_headers_ok)
{
	char req[4096];
	many_headers(req, sizeof req, 99); /* exactly 100 fields */
	struct h_conn c;
	struct h_resp r;
	h_conn_open(&c, fx.srv.port);
	exchange(&c, &r, req, 0);
	expect_file(&r, "file.txt");
	h_resp_free(&r);
	h_conn_close(&c);
}
END_TEST

/* ---- core: bodies, persistence, pipelining ---- */

static const char *const chunked_gets[] = {
    /* the chunk data looks like a request */
    "GET /file.txt HTTP/1.1\r\nHost: test\r\nTransfer-Encoding: chunked\r\n\r\n"
    "11\r\nGET /x HTTP/1.1\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
    /* chunk extension, upper-case hex, trailer field */
    "GET /file.txt HTTP/1.1\r\nHost: test\r\nTransfer-Encoding: chunked\r\n\r\n"
    "A;ext=1\r\n0123456789\r\n0\r\nX-Trailer: t\r\n\r\n",
};

START_TEST(test_chunked_get_pipelined)
{
	char req[512];
	snprintf(req, sizeof req, "%sGET /style.css HTTP/1.1\r\nHost: test\r\n\r\n",
	         chunked_gets[_i]);
	struct h_conn c;
	struct h_resp r;
	h_conn_open(&c, fx.srv.port);
	exchange(&c, &r, req, 0);
	expect_file(&r, "file.txt");
	h_resp_free(&r);
	exchange(&c, &r, NULL, 0);
	expect_file(&r, "style.css");
	h_resp_free(&r);
	get(&c, &r, "/app.js");
	expect_file(&r, "app.js");
	h_resp_free(&r);
	h_conn_close(&c);
}
END_TEST

START_TEST(test_keep_alive_11)
{
	struct h_conn c;
	struct h_resp r;
	get_fresh(&c, &r, "/file.txt");
	expect_file(&r, "file.txt");
	expect_kept_alive(&r);
	h_resp_free(&r);
	get(&c, &r, "/index.html");
	expect_file(&r, "index.html");
	expect_kept_alive(&r);
	h_resp_free(&r);
	h_conn_close(&c);
}
END_TEST

START_TEST(test_http10_close)
{
	struct h_conn c;
	struct h_resp r;
	h_conn_open(&c, fx.srv.port);
	exchange(&c, &r, "GET /file.txt HTTP/1.0\r\n\r\n", 0);
	expect_file(&r, "file.txt");
	H_ASSERT_HEADER(&r, "Connection", "close");
	h_resp_free(&r);
	H_ASSERT_CLOSED(&c);
	h_conn_close(&c);
}
END_TEST

START_TEST(test_http10_keep_alive)
{
	struct h_conn c;
	struct h_resp r;
	h_conn_open(&c, fx.srv.port);
	exchange(&c, &r, "GET /file.txt HTTP/1.0\r\nConnection: keep-alive\r\n\r\n", 0);
	expect_file(&r, "file.txt");
	H_ASSERT_HEADER(&r, "Connection", "keep-alive");
	h_resp_free(&r);
	exchange(&c, &r, "GET /style.css HTTP/1.0\r\nHost: test\r\nConnection: Keep-Alive\r\n\r\n",
	         0);
	expect_file(&r, "style.css");
	H_ASSERT_HEADER(&r, "Connection", "keep-alive");
	h_resp_free(&r);
	/* without the header the third one ends it */
	exchange(&c, &r, "GET /app.js HTTP/1.0\r\n\r\n", 0);
	expect_file(&r, "app.js");
	H_ASSERT_HEADER(&r, "Connection", "close");
	h_resp_free(&r);
	H_ASSERT_CLOSED(&c);
	h_conn_close(&c);
}
END_TEST

START_TEST(test_http11_close)
{
	struct h_conn c;
	struct h_resp r;
	h_conn_open(&c, fx.srv.port);
	exchange(&c, &r, "GET /file.txt HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n", 0);
	expect_file(&r, "file.txt");
	H_ASSERT_HEADER(&r, "Connection", "close");
	h_resp_free(&r);
	H_ASSERT_CLOSED(&c);
	h_conn_close(&c);
}
END_TEST

START_TEST(test_pipeline_three)
{
	struct h_conn c;
	struct h_resp r;
	h_conn_open(&c, fx.srv.port);
	h_conn_send(&c, "GET /file.txt HTTP/1.1\r\nHost: test\r\n\r\n"
	                "GET /missing HTTP/1.1\r\nHost: test\r\n\r\n"
	                "GET /style.css HTTP/1.1\r\nHost: test\r\n\r\n");
	exchange(&c, &r, NULL, 0);
	expect_file(&r, "file.txt");
	h_resp_free(&r);
	exchange(&c, &r, NULL, 0);
	expect_custom_404(&r);
	h_resp_free(&r);
	exchange(&c, &r, NULL, 0);
	expect_file(&r, "style.css");
	h_resp_free(&r);
	h_conn_close(&c);
}
END_TEST

/* Pipelined with a HEAD in the middle and a bare-LF request at the end. */
START_TEST(test_pipeline_mixed)
{
	struct h_conn c;
	struct h_resp r;
	h_conn_open(&c, fx.srv.port);
	h_conn_send(&c, "HEAD /index.html HTTP/1.1\r\nHost: test\r\n\r\n"
	                "GET /app.js HTTP/1.1\r\nHost: test\r\n\r\n"
	                "GET /sub/page.txt HTTP/1.1\nHost: test\n\n");
	exchange(&c, &r, NULL, 1);
	H_ASSERT_STATUS(&r, "HTTP/1.1 200 OK");
	expect_length(&r, find_file("index.html")->len);
	h_resp_free(&r);
	exchange(&c, &r, NULL, 0);
	expect_file(&r, "app.js");
	h_resp_free(&r);
	exchange(&c, &r, NULL, 0);
	expect_file(&r, "sub/page.txt");
	h_resp_free(&r);
	h_conn_close(&c);
}
END_TEST

START_TEST(test_byte_at_a_time)
{
	static const char req[] = "GET /sub/page.txt HTTP/1.1\r\nHost: test\r\nX-Slow: yes\r\n\r\n";
	struct h_conn c;
	struct h_resp r;
	h_conn_open(&c, fx.srv.port);
	for (size_t i = 0; i < sizeof req - 1; i++) {
		h_conn_send_buf(&c, req + i, 1);
		usleep(1000);
	}
	exchange(&c, &r, NULL, 0);
	expect_file(&r, "sub/page.txt");
	h_resp_free(&r);
	h_conn_close(&c);
}
END_TEST

#define NCLIENTS 200

START_TEST(test_concurrent_clients)
{
	static const char *const rels[] = {"file.txt", "style.css", "index.html", "sub/page.txt",
	                                   "img.png"};
	enum { NRELS = sizeof rels / sizeof rels[0] };
	struct h_conn *cs = calloc(NCLIENTS, sizeof *cs);
	ck_assert(cs != NULL);
	for (int i = 0; i < NCLIENTS; i++)
		h_conn_open(&cs[i], fx.srv.port);
	/* Two rounds on the same 200 connections: all sent, then all read. */
	for (int round = 0; round < 2; round++) {
		for (int i = 0; i < NCLIENTS; i++) {
			char req[128];
			snprintf(req, sizeof req, "GET /%s HTTP/1.1\r\nHost: test\r\n\r\n",
			         rels[(i + round) % NRELS]);
			h_conn_send(&cs[i], req);
		}
		for (int i = 0; i < NCLIENTS; i++) {
			struct h_resp r;
			exchange(&cs[i], &r, NULL, 0);
			expect_file(&r, rels[(i + round) % NRELS]);
			h_resp_free(&r);
		}
	}
	for (int i = 0; i < NCLIENTS; i++)
		h_conn_close(&cs[i]);
	free(cs);
}
END_TEST

/* Last in every TCase: all clients are gone, so the server must be back to
 * the fds it had after its first request. */
START_TEST(test_no_fd_leak)
{
	int n = h_settled_fds(fx.srv.pid, fx.fds, 5000);
	char list[4096];
	h_list_fds(fx.srv.pid, list, sizeof list);
	ck_assert_msg(n == fx.fds, "server has %d fds open, %d after warm-up: %s", n, fx.fds, list);
}
END_TEST

/* ---- builtin: no custom pages ---- */

START_TEST(test_builtin_404)
{
	struct h_conn c;
	struct h_resp r;
	get_fresh(&c, &r, "/missing.txt");
	expect_builtin_page(&r, "HTTP/1.1 404 Not Found");
	expect_kept_alive(&r);
	h_resp_free(&r);
	/* HEAD of an error: same length, no body */
	exchange(&c, &r, "HEAD /missing.txt HTTP/1.1\r\nHost: test\r\n\r\n", 1);
	H_ASSERT_STATUS(&r, "HTTP/1.1 404 Not Found");
	h_resp_free(&r);
	get(&c, &r, "/file.txt");
	expect_file(&r, "file.txt");
	h_resp_free(&r);
	h_conn_close(&c);
}
END_TEST

START_TEST(test_builtin_403_400)
{
	struct h_conn c;
	struct h_resp r;
	get_fresh(&c, &r, "/../x");
	expect_builtin_page(&r, "HTTP/1.1 403 Forbidden");
	h_resp_free(&r);
	h_conn_close(&c);
	get_fresh(&c, &r, "/%zz");
	expect_builtin_page(&r, "HTTP/1.1 400 Bad Request");
	h_resp_free(&r);
	h_conn_close(&c);
}
END_TEST

/* ---- big: the 64 MiB file ---- */

struct big_map {
	const unsigned char *data;
	size_t size;
};

static struct big_map
map_big(void)
{
	char path[PATH_MAX + 16];
	snprintf(path, sizeof path, "%s/big.bin", fx.root);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ck_assert_msg(fd >= 0, "open %s: %s", path, strerror(errno));
	void *p = mmap(NULL, BIG_SIZE, PROT_READ, MAP_PRIVATE, fd, 0);
	close(fd);
	ck_assert(p != MAP_FAILED);
	return (struct big_map){p, BIG_SIZE};
}

static void
expect_big_head(const struct h_resp *r)
{
	H_ASSERT_STATUS(r, "HTTP/1.1 200 OK");
	expect_common(r);
	expect_length(r, BIG_SIZE);
	H_ASSERT_HEADER(r, "Content-Type", "application/octet-stream");
	H_ASSERT_HEADER(r, "Last-Modified", H_MTIME_IMF);
}

/* Reads body bytes [*off, until) in reads of at most piece bytes, pausing
 * pause_us after each, and compares them with the file. */
static void
read_big(struct h_conn *c, const struct big_map *m, size_t *off, size_t until, size_t piece,
         unsigned pause_us)
{
	static unsigned char buf[1 << 20];
	if (piece > sizeof buf)
		piece = sizeof buf;
	while (*off < until) {
		size_t want = until - *off < piece ? until - *off : piece;
		long n = h_read_some(c, buf, want);
		ck_assert_msg(n > 0, "big body cut at byte %zu of %zu: %s", *off, m->size,
		              n == 0 ? "EOF" : h_strerror((int)n));
		if (memcmp(buf, m->data + *off, (size_t)n) != 0) {
			size_t i = 0;
			while (buf[i] == m->data[*off + i])
				i++;
			ck_abort_msg("big body differs from the file at byte %zu", *off + i);
		}
		*off += (size_t)n;
		if (pause_us)
			usleep(pause_us);
	}
}

static double
elapsed_s(const struct timespec *t0)
{
	struct timespec t1;
	clock_gettime(CLOCK_MONOTONIC, &t1);
	return (double)(t1.tv_sec - t0->tv_sec) + (double)(t1.tv_nsec - t0->tv_nsec) / 1e9;
}

START_TEST(test_big_slow_reader)
{
	struct big_map m = map_big();
	struct timespec t0;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	struct h_conn c = {.fd = h_connect(fx.srv.port, 4096)};
	ck_assert_msg(c.fd >= 0, "connect: %s", strerror(errno));
	h_conn_send(&c, "GET /big.bin HTTP/1.1\r\nHost: test\r\n\r\n");
	struct h_resp r;
	int rc = h_read_head(&c, &r);
	H_ASSERT_RC(rc, &r);
	expect_big_head(&r);
	h_resp_free(&r);
	size_t off = 0;
	/* A tiny window and pauses: sendfile meets EAGAIN again and again and
	 * must resume at the right offset. */
	read_big(&c, &m, &off, 256 * 1024, 4096, 2000);
	read_big(&c, &m, &off, 4 * 1024 * 1024, 64 * 1024, 200);
	read_big(&c, &m, &off, m.size, 1 << 20, 0);
	/* The response ended exactly there: the connection goes on. */
	get(&c, &r, "/file.txt");
	expect_file(&r, "file.txt");
	h_resp_free(&r);
	h_conn_close(&c);
	munmap((void *)m.data, m.size);
	double s = elapsed_s(&t0);
	fprintf(stderr, "check_server: 64 MiB slow read took %.2f s\n", s);
	ck_assert_msg(s < 20.0, "64 MiB took %.1f s", s);
}
END_TEST

START_TEST(test_big_fast_reader)
{
	struct big_map m = map_big();
	struct h_conn c;
	struct h_resp r;
	h_conn_open(&c, fx.srv.port);
	h_conn_send(&c, "GET /big.bin HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n");
	int rc = h_read_head(&c, &r);
	H_ASSERT_RC(rc, &r);
	expect_big_head(&r);
	H_ASSERT_HEADER(&r, "Connection", "close");
	h_resp_free(&r);
	size_t off = 0;
	read_big(&c, &m, &off, m.size, 1 << 20, 0);
	H_ASSERT_CLOSED(&c);
	h_conn_close(&c);
	munmap((void *)m.data, m.size);
}
END_TEST

/* 0: close with unread data (the kernel sends RST); 1: SO_LINGER 0 (RST at
 * once); 2: shutdown(SHUT_WR) first, then close. */
START_TEST(test_big_client_abort)
{
	struct h_conn c;
	struct h_resp r;
	h_conn_open(&c, fx.srv.port);
	h_conn_send(&c, "GET /big.bin HTTP/1.1\r\nHost: test\r\n\r\n");
	int rc = h_read_head(&c, &r);
	H_ASSERT_RC(rc, &r);
	expect_big_head(&r);
	h_resp_free(&r);
	unsigned char buf[65536];
	ck_assert(h_read_exact(&c, buf, sizeof buf) == H_OK);
	if (_i == 1) {
		struct linger lg = {1, 0};
		setsockopt(c.fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
	} else if (_i == 2) {
		shutdown(c.fd, SHUT_WR);
		usleep(20000);
	}
	h_conn_close(&c);
	/* The server notices the abort and closes the file and the socket:
	 * back to the fixture's fd count (not a fixed wait). */
	int fds = h_settled_fds(fx.srv.pid, fx.fds, 10000);
	ck_assert_msg(fds == fx.fds, "after the client aborted, the server holds %d fds, not %d",
	              fds, fx.fds);
	/* The server carries on. */
	get_fresh(&c, &r, "/file.txt");
	expect_file(&r, "file.txt");
	h_resp_free(&r);
	h_conn_close(&c);
}
END_TEST

/* Whether a new connection gets served within 300 ms, scaled (it must not,
 * once the server is shutting down). */
static int
new_connection_served(int port)
{
	int fd = h_connect(port, 0);
	if (fd < 0)
		return 0;
	int ms = h_ms(300);
	struct timeval tv = {ms / 1000, (ms % 1000) * 1000};
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
	static const char req[] = "GET /file.txt HTTP/1.1\r\nHost: test\r\n\r\n";
	(void)h_send_all(fd, req, sizeof req - 1);
	char buf[32] = {0};
	ssize_t n = recv(fd, buf, sizeof buf - 1, 0);
	h_close(fd);
	return n > 0 && strncmp(buf, "HTTP/1.1 200", 12) == 0;
}

/* Its own server: this test waits for the exit itself. */
START_TEST(test_sigterm_during_download)
{
	struct big_map m = map_big();
	struct h_server s;
	char err[512], log[PATH_MAX];
	snprintf(log, sizeof log, "%s/sigterm.log", fx.base);
	ck_assert_msg(h_server_start(&s, fx.root, log, NULL, err, sizeof err) == 0, "%s", err);
	struct h_conn c;
	struct h_resp r;
	h_conn_open(&c, s.port);
	h_conn_send(&c, "GET /big.bin HTTP/1.1\r\nHost: test\r\n\r\n");
	int rc = h_read_head(&c, &r);
	H_ASSERT_RC(rc, &r);
	expect_big_head(&r);
	h_resp_free(&r);
	size_t off = 0;
	read_big(&c, &m, &off, 1 << 20, 1 << 16, 0);
	/* The server is now blocked on a full socket buffer. */
	ck_assert(kill(s.pid, SIGTERM) == 0);
	/* Stopping closes the listener: wait until connecting is refused
	 * rather than for a fixed time (the check below holds either way). */
	struct timespec t0;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	int probe;
	while ((probe = h_connect(s.port, 0)) >= 0 && elapsed_s(&t0) < h_ms(10000) / 1000.0) {
		h_close(probe);
		usleep(2000);
	}
	if (probe >= 0)
		h_close(probe);
	ck_assert_msg(!new_connection_served(s.port), "served a new connection after SIGTERM");
	read_big(&c, &m, &off, m.size, 1 << 20, 0);
	H_ASSERT_CLOSED(&c);
	h_conn_close(&c);
	int status;
	ck_assert_msg(h_wait_exit(s.pid, 10000, &status) == 0,
	              "server still running after SIGTERM");
	s.pid = -1;
	h_server_stop(&s, 0);
	ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0,
	              "server after SIGTERM: wait status %#x", status);
	int late = h_connect(s.port, 0);
	h_close(late);
	ck_assert_msg(late < 0, "port %d still accepts after exit", s.port);
	munmap((void *)m.data, m.size);
}
END_TEST

/* ---- the command line ---- */

static char *cli_base; /* with dir/ and file */

static void
setup_cli(void)
{
	cli_base = h_mkdtemp();
	h_mkdir(cli_base, "dir");
	h_write_str(cli_base, "file", "not a directory\n");
}

static void
teardown_cli(void)
{
	h_rmtree(cli_base);
	free(cli_base);
	cli_base = NULL;
}

/* -q hides the startup line, but not a port the kernel chose: --port 0
 * prints it (nothing else would tell it), a passed socket prints nothing. */
START_TEST(test_cli_quiet_port_0)
{
	char dir[PATH_MAX], log[PATH_MAX];
	snprintf(dir, sizeof dir, "%s/dir", cli_base);
	snprintf(log, sizeof log, "%s/quiet.log", cli_base);
	h_write_str(cli_base, "dir/x.txt", "x\n");
	const char *quiet[] = {"-q", "--no-access-log", NULL};
	struct h_server s;
	char err[512];
	/* h_server_start waits for exactly "serving DIR on http://127.0.0.1:PORT/". */
	ck_assert_msg(h_server_start(&s, dir, log, quiet, err, sizeof err) == 0, "%s", err);
	struct h_conn c;
	h_conn_open(&c, s.port);
	h_conn_send(&c, "GET /x.txt HTTP/1.1\r\nHost: t\r\n\r\n");
	struct h_resp r;
	H_ASSERT_RC(h_read_response(&c, &r, 0), &r);
	H_ASSERT_STATUS(&r, "HTTP/1.1 200 OK");
	h_resp_free(&r);
	h_conn_close(&c);
	char line[256];
	ck_assert_msg(h_read_line(s.out_fd, line, sizeof line, 200) < 0 && line[0] == '\0',
	              "a second line on stdout with -q: '%s'", line);
	int st = h_server_stop(&s, 15000);
	ck_assert_msg(st >= 0 && WIFEXITED(st) && WEXITSTATUS(st) == 0, "stop: %d", st);

	/* A socket from systemd: its port is known, so -q prints nothing. */
	int port, lfd = h_listen_socket(&port);
	const char *args[] = {"--top-dir", dir, "-q", "--no-access-log", NULL};
	struct h_start o = {.args = args, .log_path = log, .listen_fd = lfd, .no_wait = 1};
	ck_assert_msg(h_server_start_ex(&s, &o, err, sizeof err) == 0, "%s", err);
	close(lfd);
	h_conn_open(&c, port);
	h_conn_send(&c, "GET /x.txt HTTP/1.1\r\nHost: t\r\n\r\n");
	H_ASSERT_RC(h_read_response(&c, &r, 0), &r);
	H_ASSERT_STATUS(&r, "HTTP/1.1 200 OK");
	h_resp_free(&r);
	h_conn_close(&c);
	ck_assert_msg(h_read_line(s.out_fd, line, sizeof line, 200) < 0 && line[0] == '\0',
	              "-q with a passed socket printed '%s'", line);
	st = h_server_stop(&s, 15000);
	ck_assert_msg(st >= 0 && WIFEXITED(st) && WEXITSTATUS(st) == 0, "stop: %d", st);
}
END_TEST

/* "@DIR", "@FILE", "@MISSING" become paths under cli_base. */
static const char *const cli_usage_errors[][8] = {
    {"--bogus", NULL},
    {"-x", "--top-dir", "@DIR", NULL},
    {"--top-dir", "@MISSING", "--port", "0", NULL},
    {"--top-dir", "@FILE", "--port", "0", NULL},
    {"--top-dir", "@DIR", "--port", "70000", NULL},
    {"--top-dir", "@DIR", "--port", "abc", NULL},
    {"--top-dir", "@DIR", "--port", "-1", NULL},
    {"--top-dir", "@DIR", "--port", "", NULL},
    {"--top-dir", "@DIR", "--port", NULL},
    {"--top-dir", "@DIR", "--port", "0", "--host", "192.0.2.1", NULL},
};

static void
expand_args(const char *const *in, const char **out, char paths[][PATH_MAX])
{
	size_t i = 0, np = 0;
	for (; in[i]; i++) {
		out[i] = in[i];
		if (in[i][0] != '@')
			continue;
		const char *rel = strcmp(in[i], "@DIR") == 0    ? "dir"
		                  : strcmp(in[i], "@FILE") == 0 ? "file"
		                                                : "missing";
		snprintf(paths[np], PATH_MAX, "%s/%s", cli_base, rel);
		out[i] = paths[np++];
	}
	out[i] = NULL;
}

static void
expect_usage_error(const struct h_run *run, const char *what)
{
	ck_assert_msg(WIFEXITED(run->status) && WEXITSTATUS(run->status) == 2,
	              "%s: wait status %#x, expected exit 2 (stderr: %s)", what, run->status,
	              run->err);
	const char *nl = strchr(run->err, '\n');
	ck_assert_msg(run->err_len > 1 && nl == run->err + run->err_len - 1,
	              "%s: stderr is not exactly one line: '%s'", what, run->err);
	ck_assert_msg(run->out_len == 0, "%s: stdout: '%s'", what, run->out);
}

START_TEST(test_cli_usage_error)
{
	const char *args[16];
	char paths[4][PATH_MAX];
	expand_args(cli_usage_errors[_i], args, paths);
	char what[256] = "";
	for (size_t i = 0; args[i]; i++)
		snprintf(what + strlen(what), sizeof what - strlen(what), "%s ", args[i]);
	struct h_run run;
	ck_assert_msg(h_run_cli(args, &run, 10000) == 0, "%s: did not exit", what);
	expect_usage_error(&run, what);
}
END_TEST

START_TEST(test_cli_port_in_use)
{
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t len = sizeof sa;
	ck_assert(fd >= 0);
	ck_assert(bind(fd, (struct sockaddr *)&sa, sizeof sa) == 0);
	ck_assert(listen(fd, 1) == 0);
	ck_assert(getsockname(fd, (struct sockaddr *)&sa, &len) == 0);
	char port[16], dir[PATH_MAX];
	snprintf(port, sizeof port, "%d", ntohs(sa.sin_port));
	snprintf(dir, sizeof dir, "%s/dir", cli_base);
	const char *args[] = {"--top-dir", dir, "--port", port, NULL};
	struct h_run run;
	ck_assert_msg(h_run_cli(args, &run, 10000) == 0, "did not exit with port %s in use", port);
	expect_usage_error(&run, "port in use");
	close(fd);
}
END_TEST

static const char *const cli_info_flags[] = {"--help", "--version"};

START_TEST(test_cli_info)
{
	const char *args[] = {cli_info_flags[_i], NULL};
	struct h_run run;
	ck_assert_msg(h_run_cli(args, &run, 10000) == 0, "%s did not exit", args[0]);
	ck_assert_msg(WIFEXITED(run.status) && WEXITSTATUS(run.status) == 0,
	              "%s: wait status %#x (stderr: %s)", args[0], run.status, run.err);
	ck_assert_msg(run.out_len > 0, "%s printed nothing on stdout", args[0]);
	ck_assert_msg(run.err_len == 0, "%s wrote to stderr: %s", args[0], run.err);
	if (_i == 1)
		ck_assert_msg(strstr(run.out, "0.1.0") != NULL, "--version: '%s'", run.out);
	else
		ck_assert_msg(strstr(run.out, "--top-dir") != NULL, "--help: '%s'", run.out);
}
END_TEST

/* ---- the suite ---- */

#define NELEM(a) ((int)(sizeof(a) / sizeof((a)[0])))

/* Checked setup (runs in each test's process): a server that died in an
 * earlier test is named as such instead of as "connection refused". */
static void
require_server(void)
{
	if (h_alive(fx.srv.pid))
		return;
	char tail[2048];
	h_tail_file(fx.log, tail, sizeof tail);
	ck_abort_msg("the server (pid %d) died in an earlier test of this TCase; log tail: %s",
	             (int)fx.srv.pid, tail);
}

/* One server per TCase, so a crash only takes its own TCase down. */
static TCase *
server_tcase(const char *name, void (*setup)(void), int timeout)
{
	TCase *tc = tcase_create(name);
	tcase_add_unchecked_fixture(tc, setup, fixture_stop);
	tcase_add_checked_fixture(tc, require_server, h_close_all);
	tcase_set_timeout(tc, timeout);
	return tc;
}

Suite *
server_suite(void)
{
	Suite *s = suite_create("server");

	TCase *tc = server_tcase("files", setup_core, 30);
	tcase_add_test(tc, test_get_file);
	tcase_add_loop_test(tc, test_get_targets, 0, NELEM(file_targets));
	tcase_add_test(tc, test_head_file);
	tcase_add_test(tc, test_dir_index);
	tcase_add_test(tc, test_dir_redirect);
	tcase_add_test(tc, test_dir_without_index);
	tcase_add_test(tc, test_custom_404);
	tcase_add_test(tc, test_symlink_inside);
	tcase_add_test(tc, test_well_known);
	tcase_add_test(tc, test_no_fd_leak);
	suite_add_tcase(s, tc);

	tc = server_tcase("paths", setup_core, 30);
	tcase_add_loop_test(tc, test_not_found, 0, NELEM(not_found_targets));
	tcase_add_loop_test(tc, test_bad_target, 0, NELEM(bad_targets));
	tcase_add_loop_test(tc, test_forbidden, 0, NELEM(forbidden_targets));
	tcase_add_test(tc, test_dotfiles_flag);
	tcase_add_test(tc, test_no_fd_leak);
	suite_add_tcase(s, tc);

	tc = server_tcase("requests", setup_core, 30);
	tcase_add_test(tc, test_post_405_pipelined);
	tcase_add_loop_test(tc, test_405_methods, 0, NELEM(not_allowed_methods));
	tcase_add_loop_test(tc, test_501, 0, NELEM(unknown_methods));
	tcase_add_loop_test(tc, test_505, 0, NELEM(unsupported_versions));
	tcase_add_loop_test(tc, test_bad_head, 0, NELEM(bad_heads));
	tcase_add_test(tc, test_414_long_target);
	tcase_add_test(tc, test_431_big_header);
	tcase_add_test(tc, test_431_many_headers);
	tcase_add_test(tc, test_100_headers_ok);
	tcase_add_loop_test(tc, test_chunked_get_pipelined, 0, NELEM(chunked_gets));
	tcase_add_test(tc, test_no_fd_leak);
	suite_add_tcase(s, tc);

	tc = server_tcase("connections", setup_core, 30);
	tcase_add_test(tc, test_keep_alive_11);
	tcase_add_test(tc, test_http10_close);
	tcase_add_test(tc, test_http10_keep_alive);
	tcase_add_test(tc, test_http11_close);
	tcase_add_test(tc, test_pipeline_three);
	tcase_add_test(tc, test_pipeline_mixed);
	tcase_add_test(tc, test_byte_at_a_time);
	tcase_add_test(tc, test_concurrent_clients);
	tcase_add_test(tc, test_no_fd_leak);
	suite_add_tcase(s, tc);

	tc = server_tcase("builtin_pages", setup_builtin, 30);
	tcase_add_test(tc, test_builtin_404);
	tcase_add_test(tc, test_builtin_403_400);
	tcase_add_test(tc, test_no_fd_leak);
	suite_add_tcase(s, tc);

	tc = server_tcase("big_file", setup_big, 60);
	tcase_add_test(tc, test_big_slow_reader);
	tcase_add_test(tc, test_big_fast_reader);
	tcase_add_loop_test(tc, test_big_client_abort, 0, 3);
	tcase_add_test(tc, test_sigterm_during_download);
	tcase_add_test(tc, test_no_fd_leak);
	suite_add_tcase(s, tc);

	tc = tcase_create("cli");
	tcase_add_unchecked_fixture(tc, setup_cli, teardown_cli);
	tcase_set_timeout(tc, 30);
	tcase_add_loop_test(tc, test_cli_usage_error, 0, NELEM(cli_usage_errors));
	tcase_add_test(tc, test_cli_port_in_use);
	tcase_add_test(tc, test_cli_quiet_port_0);
	tcase_add_loop_test(tc, test_cli_info, 0, NELEM(cli_info_flags));
	suite_add_tcase(s, tc);
	return s;
}
