/* check_origin.c - issue 17: an origin that caches and load balancers can
 * rely on. Over real sockets:
 *   - ETags from size and mtime (ns) only: two servers on two `cp -a`
 *     copies agree, so If-None-Match from one gets 304 from the other and
 *     If-Range gets 206; a same-size same-second rewrite changes the tag; a
 *     sidecar with the same size and mtime as its file has its own tag;
 *   - one Cache-Control per response: --cache-control on files (200, 206,
 *     304), --error-cache-control on redirects and errors (301, 403, 404,
 *     405, 416), --dev's no-cache otherwise, --live pages no-cache, the
 *     health path no-store, in every combination;
 *   - --health PATH: 200 "ok\n", HEAD, 405, Cache-Control: no-store, not in
 *     the access log, whatever the top dir holds;
 *   - --lameduck: after SIGTERM the health path says 503 while files are
 *     served, then the normal graceful stop; a second SIGTERM stops at once;
 *     the same with --workers 2.
 * Each test starts its own servers (children of the forked test process:
 * they get SIGKILL if it dies on a failed assertion) and stops them by PID,
 * asserting a clean exit. Every wait polls with a scaled deadline. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "harness.h"
#include "health.h"
#include "suites.h"

#define A_TXT "four"
#define CC_FILE "max-age=3600"
#define CC_ERR "max-age=60"

/* ---- helpers ---- */

static void
start(struct h_server *s, const char *root, const char *log, const char *const *extra)
{
	char err[512];
	ck_assert_msg(h_server_start(s, root, log, extra, err, sizeof err) == 0, "%s", err);
}

/* A site with a file, a directory, a FIFO (403 for any user) and a page. */
#define PATH_LEN 4200

/* root and log get PATH_LEN bytes: base/root and base/server.log. */
static char *
make_site(char *root, char *log)
{
	char *base = h_mkdtemp();
	snprintf(root, PATH_LEN, "%s/root", base);
	snprintf(log, PATH_LEN, "%s/server.log", base);
	h_mkdir(base, "root");
	h_write_str(root, "a.txt", A_TXT);
	h_write_str(root, "index.html", "<p>hi</p>\n");
	h_mkdir(root, "sub");
	h_write_str(root, "sub/b.css", "b{}\n");
	h_mkfifo(root, "fifo");
	return base;
}

/* The ETag the server must give a file of this size and mtime: size and
 * mtime in ns, in hex, and the coding of a sidecar. */
static void
expected_etag(const char *path, const char *coding, char *dst, size_t cap)
{
	struct stat st;
	ck_assert_msg(stat(path, &st) == 0, "stat %s: %s", path, strerror(errno));
	unsigned long long ns = (unsigned long long)st.st_mtim.tv_sec * 1000000000ull +
	                        (unsigned long long)st.st_mtim.tv_nsec;
	snprintf(dst, cap, "\"%llx-%llx%s%s\"", (unsigned long long)st.st_size, ns,
	         coding ? "-" : "", coding ? coding : "");
}

/* The ETag of GET target, copied into dst (asserts a 200 with one). */
static void
fetch_etag(int port, const char *target, const char *headers, char *dst, size_t cap)
{
	struct h_resp r;
	h_fetch(port, "GET", target, headers, &r);
	H_ASSERT_CODE(&r, 200);
	ck_assert_int_eq(h_header_count(&r, "ETag"), 1);
	snprintf(dst, cap, "%s", h_header(&r, "ETag"));
	h_resp_free(&r);
}

/* ---- portable ETags ---- */

/* Two `cp -a` copies of one tree (different inodes, same sizes and mtimes)
 * served by two servers: the same ETag for each file, from the cache and
 * from disk, and validators from one work on the other. */
START_TEST(etag_same_on_copies)
{
	char root[PATH_LEN], copy1[PATH_LEN], copy2[PATH_LEN], log[PATH_LEN];
	char *base = make_site(root, log);
	h_write_pattern(root, "big.bin", 300 * 1024); /* past the cache's limit */
	snprintf(copy1, sizeof copy1, "%s/copy1", base);
	snprintf(copy2, sizeof copy2, "%s/copy2", base);
	/* Different sub-second mtimes, kept by cp -a (it must keep the ns). */
	h_set_mtime(root, "a.txt", H_MTIME, 123456789);
	h_set_mtime(root, "big.bin", H_MTIME, 987654321);
	for (int i = 0; i < 2; i++) {
		struct h_run run;
		const char *args[] = {"-a", root, i ? copy2 : copy1, NULL};
		ck_assert_int_eq(h_run_ex("/bin/cp", args, NULL, &run, 10000), 0);
		ck_assert_msg(WIFEXITED(run.status) && WEXITSTATUS(run.status) == 0, "cp -a: %s",
		              run.err);
	}
	struct h_server s1 = {.pid = -1}, s2 = {.pid = -1};
	start(&s1, copy1, log, NULL);
	start(&s2, copy2, log, NULL);

	static const char *const files[] = {"/a.txt", "/big.bin", "/sub/b.css", "/"};
	for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
		char t1[128], t2[128], again[128], want[128], path[4300];
		snprintf(path, sizeof path, "%s%s%s", copy1, files[i],
		         files[i][1] ? "" : "index.html");
		expected_etag(path, NULL, want, sizeof want);
		fetch_etag(s1.port, files[i], NULL, t1, sizeof t1);
		fetch_etag(s2.port, files[i], NULL, t2, sizeof t2);
		ck_assert_msg(strcmp(t1, want) == 0, "%s: ETag %s, want %s", files[i], t1, want);
		ck_assert_msg(strcmp(t1, t2) == 0, "%s: copies give %s and %s", files[i], t1, t2);
		/* The second answer may come from the cache: the same tag. */
		fetch_etag(s2.port, files[i], NULL, again, sizeof again);
		ck_assert_str_eq(again, t1);

		/* A revalidation that reaches the other instance: 304. */
		char hdr[256];
		struct h_resp r;
		snprintf(hdr, sizeof hdr, "If-None-Match: %s\r\n", t1);
		h_fetch(s2.port, "GET", files[i], hdr, &r);
		H_ASSERT_CODE(&r, 304);
		H_ASSERT_HEADER(&r, "ETag", t1);
		ck_assert_uint_eq(r.body_len, 0);
		h_resp_free(&r);

		/* A resumed download on the other instance: 206, not 200. */
		snprintf(hdr, sizeof hdr, "If-Range: %s\r\nRange: bytes=1-\r\n", t1);
		h_fetch(s2.port, "GET", files[i], hdr, &r);
		H_ASSERT_CODE(&r, 206);
		size_t len;
		unsigned char *body =
		    h_slurp(copy2, files[i][1] ? files[i] + 1 : "index.html", &len);
		H_ASSERT_BODY(&r, body + 1, len - 1);
		free(body);
		h_resp_free(&r);
	}
	h_server_stop_clean(&s1, log, 20000);
	h_server_stop_clean(&s2, log, 20000);
	h_rmtree(base);
	free(base);
}
END_TEST

/* A rewrite with the same size within the same second (only the ns of the
 * mtime differ, the inode stays): another tag, and the old one no longer
 * gives a 304. */
START_TEST(etag_same_second_rewrite)
{
	char root[PATH_LEN], log[PATH_LEN];
	char *base = make_site(root, log);
	h_set_mtime(root, "a.txt", H_MTIME, 100);
	struct h_server s = {.pid = -1};
	start(&s, root, log, NULL);
	char t1[128], t2[128], want[128], path[PATH_LEN + 16];
	snprintf(path, sizeof path, "%s/a.txt", root);
	fetch_etag(s.port, "/a.txt", NULL, t1, sizeof t1);
	expected_etag(path, NULL, want, sizeof want);
	ck_assert_str_eq(t1, want);

	int fd = open(path, O_WRONLY); /* in place: the same inode */
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(pwrite(fd, "FOUR", 4, 0), 4);
	close(fd);
	h_set_mtime(root, "a.txt", H_MTIME, 200);
	expected_etag(path, NULL, want, sizeof want);
	ck_assert_str_ne(t1, want);
	/* The cache sees the change through inotify: poll for it. */
	uint64_t deadline = h_now_ms() + (uint64_t)h_ms(5000);
	do
		fetch_etag(s.port, "/a.txt", NULL, t2, sizeof t2);
	while (strcmp(t2, want) != 0 && h_now_ms() < deadline);
	ck_assert_msg(strcmp(t2, want) == 0, "after the rewrite: %s, want %s", t2, want);

	char hdr[256];
	struct h_resp r;
	snprintf(hdr, sizeof hdr, "If-None-Match: %s\r\n", t1);
	h_fetch(s.port, "GET", "/a.txt", hdr, &r);
	H_ASSERT_CODE(&r, 200);
	H_ASSERT_TEXT(&r, "FOUR");
	h_resp_free(&r);
	h_server_stop_clean(&s, log, 20000);
	h_rmtree(base);
	free(base);
}
END_TEST

/* A .gz with exactly the size and mtime of its file: two tags, each the
 * format says, and a 304 only for the representation asked for. */
START_TEST(etag_sidecar_distinct)
{
	char root[PATH_LEN], log[PATH_LEN], path[PATH_LEN + 16];
	char *base = make_site(root, log);
	h_write_str(root, "x.txt", "12345678");
	h_write_str(root, "x.txt.gz", "ABCDEFGH"); /* not gzip, but the same size */
	h_set_mtime(root, "x.txt", H_MTIME, 5);
	h_set_mtime(root, "x.txt.gz", H_MTIME, 5);
	struct h_server s = {.pid = -1};
	start(&s, root, log, NULL);
	char plain[128], gz[128], want[128];
	fetch_etag(s.port, "/x.txt", NULL, plain, sizeof plain);
	fetch_etag(s.port, "/x.txt", "Accept-Encoding: gzip\r\n", gz, sizeof gz);
	snprintf(path, sizeof path, "%s/x.txt", root);
	expected_etag(path, NULL, want, sizeof want);
	ck_assert_str_eq(plain, want);
	expected_etag(path, "gzip", want, sizeof want);
	ck_assert_str_eq(gz, want);
	ck_assert_str_ne(plain, gz);

	char hdr[256];
	struct h_resp r;
	snprintf(hdr, sizeof hdr, "If-None-Match: %s\r\n", plain);
	h_fetch(s.port, "GET", "/x.txt", hdr, &r);
	H_ASSERT_CODE(&r, 304);
	h_resp_free(&r);
	snprintf(hdr, sizeof hdr, "Accept-Encoding: gzip\r\nIf-None-Match: %s\r\n", plain);
	h_fetch(s.port, "GET", "/x.txt", hdr, &r);
	H_ASSERT_CODE(&r, 200);
	H_ASSERT_HEADER(&r, "Content-Encoding", "gzip");
	H_ASSERT_HEADER(&r, "ETag", gz);
	H_ASSERT_TEXT(&r, "ABCDEFGH");
	h_resp_free(&r);
	h_server_stop_clean(&s, log, 20000);
	h_rmtree(base);
	free(base);
}
END_TEST

/* ---- one Cache-Control per response ---- */

static const struct cc_config {
	const char *name;
	const char *args[8];
	const char *file; /* on 200, 206, 304 of a.txt; NULL: none */
	const char *err;  /* on 301, 403, 404, 405, 416 */
	const char *page; /* on 200 of index.html */
} cc_configs[] = {
    {"none", {NULL}, NULL, NULL, NULL},
    {"cache_control", {"--cache-control", CC_FILE, NULL}, CC_FILE, NULL, CC_FILE},
    {"error_cache_control", {"--error-cache-control", CC_ERR, NULL}, NULL, CC_ERR, NULL},
    {"both",
     {"--cache-control", CC_FILE, "--error-cache-control", CC_ERR, NULL},
     CC_FILE,
     CC_ERR,
     CC_FILE},
    {"dev", {"--dev", NULL}, "no-cache", "no-cache", "no-cache"},
    {"dev_error", {"--dev", "--error-cache-control", CC_ERR, NULL}, "no-cache", CC_ERR, "no-cache"},
    {"dev_both",
     {"--dev", "--cache-control", CC_FILE, "--error-cache-control", CC_ERR, NULL},
     CC_FILE,
     CC_ERR,
     CC_FILE},
    /* --live: a page with the script is always revalidated. */
    {"live_both",
     {"--live", "--cache-control", CC_FILE, "--error-cache-control", CC_ERR, NULL},
     CC_FILE,
     CC_ERR,
     "no-cache"},
};

enum cc_kind { CC_KIND_FILE, CC_KIND_ERR, CC_KIND_PAGE, CC_KIND_HEALTH };

static const struct cc_request {
	const char *method, *target, *headers; /* "@ETAG@" in headers: a.txt's tag */
	int status;
	enum cc_kind kind;
} cc_requests[] = {
    {"GET", "/a.txt", NULL, 200, CC_KIND_FILE},
    {"HEAD", "/a.txt", NULL, 200, CC_KIND_FILE},
    {"GET", "/a.txt", "Range: bytes=0-0\r\n", 206, CC_KIND_FILE},
    {"GET", "/a.txt", "If-None-Match: @ETAG@\r\n", 304, CC_KIND_FILE},
    {"GET", "/a.txt", "Range: bytes=100-\r\n", 416, CC_KIND_ERR},
    {"GET", "/a.txt", "If-Match: \"nope\"\r\n", 412, CC_KIND_ERR},
    {"GET", "/sub", NULL, 301, CC_KIND_ERR},
    {"GET", "/fifo", NULL, 403, CC_KIND_ERR},
    {"GET", "/missing.txt", NULL, 404, CC_KIND_ERR},
    {"POST", "/a.txt", NULL, 405, CC_KIND_ERR},
    {"GET", "/", NULL, 200, CC_KIND_PAGE},
    {"GET", "/healthz", NULL, 200, CC_KIND_HEALTH},
    {"POST", "/healthz", NULL, 405, CC_KIND_HEALTH},
};

START_TEST(cache_control_every_response)
{
	const struct cc_config *cf = &cc_configs[_i];
	char root[PATH_LEN], log[PATH_LEN];
	char *base = make_site(root, log);
	const char *args[16];
	size_t n = 0;
	args[n++] = "--health";
	args[n++] = "/healthz";
	for (size_t k = 0; cf->args[k]; k++)
		args[n++] = cf->args[k];
	args[n] = NULL;
	struct h_server s = {.pid = -1};
	start(&s, root, log, args);
	char etag[128];
	fetch_etag(s.port, "/a.txt", NULL, etag, sizeof etag);
	for (size_t i = 0; i < sizeof cc_requests / sizeof cc_requests[0]; i++) {
		const struct cc_request *rq = &cc_requests[i];
		char hdr[256] = "";
		if (rq->headers && strstr(rq->headers, "@ETAG@"))
			snprintf(hdr, sizeof hdr, "If-None-Match: %s\r\n", etag);
		else if (rq->headers)
			snprintf(hdr, sizeof hdr, "%s", rq->headers);
		struct h_resp r;
		h_fetch(s.port, rq->method, rq->target, hdr, &r);
		ck_assert_msg(r.status == rq->status, "%s: %s %s: %s, want %d", cf->name,
		              rq->method, rq->target, r.status_line, rq->status);
		const char *want = rq->kind == CC_KIND_FILE   ? cf->file
		                   : rq->kind == CC_KIND_ERR  ? cf->err
		                   : rq->kind == CC_KIND_PAGE ? cf->page
		                                              : "no-store";
		int count = h_header_count(&r, "Cache-Control");
		ck_assert_msg(count == (want ? 1 : 0), "%s: %s %s (%d): %d Cache-Control header(s)",
		              cf->name, rq->method, rq->target, r.status, count);
		if (want)
			ck_assert_msg(strcmp(h_header(&r, "Cache-Control"), want) == 0,
			              "%s: %s %s: Cache-Control '%s', want '%s'", cf->name,
			              rq->method, rq->target, h_header(&r, "Cache-Control"), want);
		h_resp_free(&r);
	}
	h_server_stop_clean(&s, log, 20000);
	h_rmtree(base);
	free(base);
}
END_TEST

/* ---- --health ---- */

START_TEST(health_answers)
{
	char *base = h_mkdtemp();
	char root[4096], log[4200], access[4200];
	snprintf(root, sizeof root, "%s/empty", base); /* nothing in the top dir */
	snprintf(log, sizeof log, "%s/server.log", base);
	snprintf(access, sizeof access, "%s/access.log", base);
	h_mkdir(base, "empty");
	const char *args[] = {"--health", "/healthz", "--access-log", access, NULL};
	struct h_server s = {.pid = -1};
	start(&s, root, log, args);

	struct h_resp r;
	for (int round = 0; round < 2; round++) {
		h_fetch(s.port, "GET", round ? "/healthz?from=lb" : "/healthz", NULL, &r);
		H_ASSERT_STATUS(&r, "HTTP/1.1 200 OK");
		H_ASSERT_HEADER(&r, "Content-Type", "text/plain");
		H_ASSERT_HEADER(&r, "Content-Length", "3");
		H_ASSERT_HEADER(&r, "Cache-Control", "no-store");
		H_ASSERT_TEXT(&r, HEALTH_OK_BODY);
		h_resp_free(&r);
		/* A file of that name changes nothing. */
		h_write_str(root, "healthz", "a file\n");
	}
	h_fetch(s.port, "HEAD", "/healthz", NULL, &r);
	H_ASSERT_STATUS(&r, "HTTP/1.1 200 OK");
	H_ASSERT_HEADER(&r, "Content-Length", "3");
	H_ASSERT_HEADER(&r, "Cache-Control", "no-store");
	ck_assert_uint_eq(r.body_len, 0);
	h_resp_free(&r);
	static const char *const others[] = {"POST", "PUT", "DELETE", "OPTIONS"};
	for (size_t i = 0; i < sizeof others / sizeof others[0]; i++) {
		h_fetch(s.port, others[i], "/healthz", NULL, &r);
		H_ASSERT_STATUS(&r, "HTTP/1.1 405 Method Not Allowed");
		H_ASSERT_HEADER(&r, "Allow", HEALTH_ALLOW);
		H_ASSERT_HEADER(&r, "Cache-Control", "no-store");
		h_resp_free(&r);
	}
	/* Only the exact path: the rest is the top dir's. */
	h_fetch(s.port, "GET", "/healthz/", NULL, &r);
	H_ASSERT_CODE(&r, 404);
	h_resp_free(&r);
	h_fetch(s.port, "GET", "/healthzz", NULL, &r);
	H_ASSERT_CODE(&r, 404);
	h_resp_free(&r);

	/* The access log has the 405s and 404s, never a health check. */
	h_fetch(s.port, "GET", "/last", NULL, &r);
	h_resp_free(&r);
	ck_assert_msg(h_wait_file_contains(access, "\"GET /last ", 5000) >= 0,
	              "no access-log line for /last");
	char *text = h_read_file(access, NULL);
	ck_assert_ptr_nonnull(text);
	ck_assert_msg(strstr(text, "\"GET /healthz HTTP") == NULL &&
	                  strstr(text, "\"HEAD /healthz") == NULL &&
	                  strstr(text, "/healthz?from") == NULL,
	              "health checks in the access log:\n%s", text);
	ck_assert_msg(strstr(text, "\"POST /healthz HTTP/1.1\" 405") != NULL, "no 405 line:\n%s",
	              text);
	ck_assert_uint_eq(h_count_lines(text), 7); /* 4 x 405, 2 x 404, /last */
	free(text);
	h_server_stop_clean(&s, log, 20000);
	h_rmtree(base);
	free(base);
}
END_TEST

/* health_matches: the exact path, a query string ignored, nothing else. */
static const struct {
	const char *health, *target;
	int match;
} health_paths[] = {
    {"/healthz", "/healthz", 1},
    {"/healthz", "/healthz?check=1", 1},
    {"/healthz", "/healthz?", 1},
    {"/healthz", "/healthz/", 0},
    {"/healthz", "/healthzz", 0},
    {"/healthz", "/health", 0},
    {"/healthz", "/Healthz", 0},
    {"/healthz", "/%68ealthz", 0}, /* not decoded: a balancer sends it as configured */
    {"/healthz", "http://h/healthz", 1}, /* absolute-form, as a proxy sends it */
    {"/healthz", "HTTPS://h:8080/healthz?x", 1},
    {"/healthz", "http://h/x/healthz", 0},
    {"/healthz", "http:///healthz", 0}, /* no authority */
    {"/healthz", "ftp://h/healthz", 0},
    {"/healthz", "healthz", 0},
    {"/", "http://h", 1},
    {"/", "http://h?x", 1},
    {"/", "/", 1},
    {"/", "/?x", 1},
    {"/", "/a", 0},
    {NULL, "/healthz", 0},
};

START_TEST(health_path_match)
{
	const char *t = health_paths[_i].target;
	ck_assert_int_eq(health_matches(health_paths[_i].health, t, strlen(t)),
	                 health_paths[_i].match);
}
END_TEST

/* ---- --lameduck ---- */

struct probe {
	int port;
	const char *target;
	int want, streak, got;
};

/* 1 once GET target has answered p->want p->streak times in a row (with
 * --workers each check may reach another worker). */
static int
answers(void *arg)
{
	struct probe *p = arg;
	for (int i = 0; i < p->streak; i++) {
		int fd = h_connect(p->port, 0);
		if (fd < 0)
			return 0;
		struct h_conn c;
		h_conn_attach(&c, fd);
		char req[256];
		snprintf(req, sizeof req, "GET %s HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n",
		         p->target);
		h_conn_send(&c, req);
		struct h_resp r;
		int rc = h_read_response(&c, &r, 0);
		p->got = rc == H_OK ? r.status : -1;
		h_resp_free(&r);
		h_conn_close(&c);
		if (p->got != p->want)
			return 0;
	}
	return 1;
}

static int
exited(void *arg)
{
	return !h_alive(*(pid_t *)arg);
}

/* SIGTERM: the health path turns 503 while files (on new connections and
 * on a kept-alive one) are still 200; the stop comes lameduck later, as the
 * normal graceful stop. */
static void
lameduck_run(int workers)
{
	char root[PATH_LEN], log[PATH_LEN];
	char *base = make_site(root, log);
	const char *args[] = {
	    "--health", "/healthz", "--lameduck", "2", workers ? "--workers" : NULL, "2", NULL};
	struct h_server s = {.pid = -1};
	start(&s, root, log, args);
	struct probe p = {s.port, "/healthz", 200, workers ? 6 : 1, 0};
	ck_assert_msg(h_poll(answers, &p, 5000) >= 0, "health: %d before SIGTERM", p.got);

	struct h_conn kept;
	h_conn_open(&kept, s.port);
	struct h_resp r;
	h_conn_send(&kept, "GET /a.txt HTTP/1.1\r\nHost: t\r\n\r\n");
	H_ASSERT_RC(h_read_response(&kept, &r, 0), &r);
	H_ASSERT_CODE(&r, 200);
	h_resp_free(&r);

	uint64_t sent = h_now_ms();
	ck_assert_int_eq(kill(s.pid, SIGTERM), 0);
	p.want = 503;
	ck_assert_msg(h_poll(answers, &p, 5000) >= 0, "health: %d after SIGTERM", p.got);
	ck_assert_msg(h_wait_file_contains(
	                  log, "lame duck: failing /healthz for 2 s, then stopping", 5000) >= 0,
	              "no lame-duck line in the log");
	/* Everything else is served as before. */
	struct probe f = {s.port, "/a.txt", 200, 3, 0};
	ck_assert_msg(answers(&f), "/a.txt: %d during lame duck", f.got);
	h_conn_send(&kept, "GET /sub/b.css HTTP/1.1\r\nHost: t\r\n\r\n");
	H_ASSERT_RC(h_read_response(&kept, &r, 0), &r);
	H_ASSERT_CODE(&r, 200);
	H_ASSERT_TEXT(&r, "b{}\n");
	h_resp_free(&r);
	h_fetch(s.port, "HEAD", "/healthz", NULL, &r);
	H_ASSERT_STATUS(&r, "HTTP/1.1 503 Service Unavailable");
	H_ASSERT_HEADER(&r, "Cache-Control", "no-store");
	H_ASSERT_HEADER(&r, "Content-Length", "9");
	h_resp_free(&r);
	struct probe d = {s.port, "/healthz", 503, 1, 0};
	ck_assert(answers(&d));

	/* Then the graceful stop: the kept-alive idle connection is closed,
	 * the process exits 0, not before the lame duck ended. */
	pid_t pid = s.pid;
	ck_assert_msg(h_poll(exited, &pid, 20000) >= 0, "still running after lame duck");
	uint64_t took = h_now_ms() - sent;
	ck_assert_msg(took >= 1900, "stopped %llu ms after SIGTERM, lame duck is 2 s",
	              (unsigned long long)took);
	H_ASSERT_CLOSED(&kept);
	h_conn_close(&kept);
	int status;
	ck_assert_int_eq(h_wait_exit(s.pid, 5000, &status), 0);
	s.pid = -1;
	ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0, "exit status %d", status);
	ck_assert_msg(h_wait_file_contains(log, "stopping: finishing", 0) >= 0, "no graceful stop");
	h_rmtree(base);
	free(base);
}

START_TEST(lameduck_single)
{
	lameduck_run(0);
}
END_TEST

START_TEST(lameduck_workers)
{
	lameduck_run(1);
}
END_TEST

/* A second SIGTERM during lame duck stops at once, as a second signal
 * during the graceful stop does. */
START_TEST(lameduck_second_signal)
{
	char root[PATH_LEN], log[PATH_LEN];
	char *base = make_site(root, log);
	const char *args[] = {"--health", "/healthz", "--lameduck", "600", NULL};
	struct h_server s = {.pid = -1};
	start(&s, root, log, args);
	ck_assert_int_eq(kill(s.pid, SIGTERM), 0);
	struct probe p = {s.port, "/healthz", 503, 1, 0};
	ck_assert_msg(h_poll(answers, &p, 5000) >= 0, "health: %d after SIGTERM", p.got);
	ck_assert_int_eq(kill(s.pid, SIGTERM), 0);
	int status;
	ck_assert_msg(h_wait_exit(s.pid, 10000, &status) == 0, "no stop on a second SIGTERM");
	s.pid = -1;
	ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0, "exit status %d", status);
	h_rmtree(base);
	free(base);
}
END_TEST

/* Without --lameduck, SIGTERM stops as before: no lame duck line. */
START_TEST(lameduck_off)
{
	char root[PATH_LEN], log[PATH_LEN];
	char *base = make_site(root, log);
	const char *args[] = {"--health", "/healthz", NULL};
	struct h_server s = {.pid = -1};
	start(&s, root, log, args);
	h_server_stop_clean(&s, log, 20000);
	char *text = h_read_file(log, NULL);
	ck_assert_ptr_nonnull(text);
	ck_assert_msg(strstr(text, "lame duck") == NULL, "%s", text);
	free(text);
	h_rmtree(base);
	free(base);
}
END_TEST

Suite *
origin_suite(void)
{
	Suite *s = suite_create("origin");
	TCase *tc = tcase_create("etag");
	tcase_add_test(tc, etag_same_on_copies);
	tcase_add_test(tc, etag_same_second_rewrite);
	tcase_add_test(tc, etag_sidecar_distinct);
	tcase_set_timeout(tc, 60);
	suite_add_tcase(s, tc);

	tc = tcase_create("cache_control");
	tcase_add_loop_test(tc, cache_control_every_response, 0,
	                    sizeof cc_configs / sizeof cc_configs[0]);
	tcase_set_timeout(tc, 60);
	suite_add_tcase(s, tc);

	tc = tcase_create("health");
	tcase_add_loop_test(tc, health_path_match, 0, sizeof health_paths / sizeof health_paths[0]);
	tcase_add_test(tc, health_answers);
	tcase_add_test(tc, lameduck_single);
	tcase_add_test(tc, lameduck_workers);
	tcase_add_test(tc, lameduck_second_signal);
	tcase_add_test(tc, lameduck_off);
	tcase_set_timeout(tc, 90);
	suite_add_tcase(s, tc);
	return s;
}
