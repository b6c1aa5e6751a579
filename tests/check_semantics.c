/* check_semantics.c - the HTTP semantics of issue 3 against the real binary
 * (SHS_BIN) over raw sockets, one named test per rule: validators and
 * conditional requests, ranges, OPTIONS and the framing rules, listings,
 * precompressed sidecars, --header / --cors / --cache-control, redirect
 * safety and --header validation.
 *
 * Each TCase builds its own document root under /tmp and starts the server
 * on --port 0 from an unchecked fixture, so its forked tests share one server
 * (pid and port are inherited); the teardown stops it with SIGTERM and
 * insists on exit status 0, which also catches sanitizer reports under
 * `make asan`. Requests mostly go through fetch(): one connection with
 * `Connection: close`, and the server must close right after the response,
 * so a body on HEAD/204/304 or a wrong Content-Length cannot hide. */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "harness.h"
#include "suites.h"

/* ---- the server under test -------------------------------------------- */

struct server {
	pid_t pid;
	int port;
	char base[64];  /* mkdtemp: root/ plus the server's stdout and stderr */
	char root[128]; /* the document root, base/root */
};

static struct server srv = {.pid = -1};

static void
msleep(long ms)
{
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

static int
rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	if (remove(path) != 0)
		fprintf(stderr, "check_semantics: remove %s: %s\n", path, strerror(errno));
	return 0;
}

static void
remove_tree(const char *dir)
{
	if (dir[0] != '\0')
		(void)nftw(dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

/* Prints what the server wrote on stderr, to explain a failure. */
static void
dump_server_stderr(void)
{
	char p[160];
	snprintf(p, sizeof p, "%s/stderr", srv.base);
	FILE *f = fopen(p, "r");
	if (!f)
		return;
	char line[1024];
	while (fgets(line, sizeof line, f))
		fprintf(stderr, "  server stderr: %s", line);
	fclose(f);
}

static void
make_base(void)
{
	snprintf(srv.base, sizeof srv.base, "/tmp/shs-semantics-XXXXXX");
	ck_assert_msg(mkdtemp(srv.base) != NULL, "mkdtemp: %s", strerror(errno));
	snprintf(srv.root, sizeof srv.root, "%s/root", srv.base);
	ck_assert_msg(mkdir(srv.root, 0755) == 0, "mkdir %s: %s", srv.root, strerror(errno));
}

static void
in_root(const char *rel, char *out, size_t cap)
{
	int n = snprintf(out, cap, "%s/%s", srv.root, rel);
	ck_assert(n > 0 && (size_t)n < cap);
}

static void
put_file(const char *rel, const void *data, size_t len)
{
	char p[1024];
	in_root(rel, p, sizeof p);
	int fd = open(p, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	ck_assert_msg(fd >= 0, "open %s: %s", p, strerror(errno));
	ck_assert_msg(write(fd, data, len) == (ssize_t)len, "write %s: %s", p, strerror(errno));
	close(fd);
}

static void
put_text(const char *rel, const char *s)
{
	put_file(rel, s, strlen(s));
}

static void
make_dir(const char *rel)
{
	char p[1024];
	in_root(rel, p, sizeof p);
	ck_assert_msg(mkdir(p, 0755) == 0, "mkdir %s: %s", p, strerror(errno));
}

static void
set_mtime(const char *rel, time_t sec, long nsec)
{
	char p[1024];
	in_root(rel, p, sizeof p);
	struct timespec ts[2] = {{sec, nsec}, {sec, nsec}};
	ck_assert_msg(utimensat(AT_FDCWD, p, ts, 0) == 0, "utimensat %s: %s", p, strerror(errno));
}

/* The ETag the spec prescribes: "\"<ino hex>-<size hex>-<mtime ns hex>\"". */
static void
expected_etag(const char *rel, char *out, size_t cap)
{
	char p[1024];
	in_root(rel, p, sizeof p);
	struct stat st;
	ck_assert_msg(stat(p, &st) == 0, "stat %s: %s", p, strerror(errno));
	uint64_t ns = (uint64_t)st.st_mtim.tv_sec * 1000000000u + (uint64_t)st.st_mtim.tv_nsec;
	snprintf(out, cap, "\"%llx-%llx-%llx\"", (unsigned long long)st.st_ino,
	         (unsigned long long)st.st_size, (unsigned long long)ns);
}

static void
imf_date(time_t t, char *out, size_t cap)
{
	struct tm tm;
	ck_assert(gmtime_r(&t, &tm) != NULL);
	ck_assert(strftime(out, cap, "%a, %d %b %Y %H:%M:%S GMT", &tm) > 0);
}

/* Starts SHS_BIN on the root with --port 0 and the extra flags
 * (NULL-terminated), and reads the port from its `listening on` line. */
static void
server_start(const char *const *flags)
{
	const char *bin = getenv("SHS_BIN");
	if (!bin || !*bin)
		bin = "./simple-http-server";
	char out[160], err[160];
	snprintf(out, sizeof out, "%s/stdout", srv.base);
	snprintf(err, sizeof err, "%s/stderr", srv.base);
	const char *argv[32];
	size_t n = 0;
	argv[n++] = bin;
	argv[n++] = "--top-dir";
	argv[n++] = srv.root;
	argv[n++] = "--port";
	argv[n++] = "0";
	for (; flags && *flags; flags++) {
		ck_assert(n < sizeof argv / sizeof argv[0] - 1);
		argv[n++] = *flags;
	}
	argv[n] = NULL;

	fflush(NULL);
	pid_t pid = fork();
	ck_assert_msg(pid >= 0, "fork: %s", strerror(errno));
	if (pid == 0) {
		int in = open("/dev/null", O_RDONLY);
		int o = open(out, O_WRONLY | O_CREAT | O_TRUNC, 0644);
		int e = open(err, O_WRONLY | O_CREAT | O_TRUNC, 0644);
		if (in < 0 || o < 0 || e < 0 || dup2(in, 0) < 0 || dup2(o, 1) < 0 || dup2(e, 2) < 0)
			_exit(127);
		execv(bin, (char *const *)argv);
		_exit(127);
	}
	srv.pid = pid;
	srv.port = 0;
	static const char prefix[] = "listening on http://127.0.0.1:";
	for (int i = 0; i < 1000 && srv.port == 0; i++) {
		char buf[512] = "";
		int fd = open(out, O_RDONLY | O_CLOEXEC);
		if (fd >= 0) {
			ssize_t r = read(fd, buf, sizeof buf - 1);
			buf[r > 0 ? r : 0] = '\0';
			close(fd);
		}
		const char *p = strstr(buf, prefix);
		if (p && strchr(p, '\n')) {
			srv.port = atoi(p + sizeof prefix - 1);
			break;
		}
		int status;
		if (waitpid(pid, &status, WNOHANG) == pid) {
			srv.pid = -1;
			dump_server_stderr();
			remove_tree(srv.base);
			ck_abort_msg("%s exited during startup (wait status %d)", bin, status);
		}
		msleep(10);
	}
	if (srv.port <= 0 || srv.port > 65535) {
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
		srv.pid = -1;
		dump_server_stderr();
		remove_tree(srv.base);
		ck_abort_msg("%s printed no `listening on` line within 10 s", bin);
	}
}

/* Unchecked teardown: SIGTERM, wait (at most 10 s), demand exit status 0
 * (under `make asan` a sanitizer report makes it non-zero). */
static void
server_stop(void)
{
	char why[128] = "";
	if (srv.pid > 0) {
		kill(srv.pid, SIGTERM);
		int status = 0;
		pid_t w = 0;
		for (int i = 0; i < 1000 && w == 0; i++) {
			w = waitpid(srv.pid, &status, WNOHANG);
			if (w == 0)
				msleep(10);
		}
		if (w == 0) {
			kill(srv.pid, SIGKILL);
			waitpid(srv.pid, NULL, 0);
			snprintf(why, sizeof why, "did not exit within 10 s of SIGTERM");
		} else if (w < 0) {
			snprintf(why, sizeof why, "could not be waited for: %s", strerror(errno));
		} else if (WIFSIGNALED(status)) {
			snprintf(why, sizeof why, "was killed by signal %d", WTERMSIG(status));
		} else if (WEXITSTATUS(status) != 0) {
			snprintf(why, sizeof why, "exited with status %d", WEXITSTATUS(status));
		}
	}
	srv.pid = -1;
	if (why[0] != '\0') {
		fprintf(stderr, "check_semantics: FATAL: the server of this TCase %s:\n", why);
		dump_server_stderr();
		h_teardown_failed("check_semantics"); /* Check ignores unchecked teardowns */
	}
	remove_tree(srv.base);
	srv.base[0] = '\0';
}

/* ---- a raw HTTP client ------------------------------------------------- */

struct client {
	int fd;
	size_t len; /* bytes read but not yet consumed */
	char buf[32768];
};

#define MAX_FIELDS 64

struct response {
	int status;
	const char *status_line;
	size_t nfields;
	const char *name[MAX_FIELDS];
	const char *value[MAX_FIELDS];
	char *body; /* malloc'd, NUL-terminated; resp_free */
	size_t body_len;
	char head[16384];
};

static void
resp_free(struct response *r)
{
	free(r->body);
	r->body = NULL;
}

static void
client_open(struct client *cl)
{
	cl->len = 0;
	cl->fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	ck_assert_msg(cl->fd >= 0, "socket: %s", strerror(errno));
	struct timeval tv = {.tv_sec = 5};
	ck_assert(setsockopt(cl->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv) == 0);
	ck_assert(setsockopt(cl->fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv) == 0);
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)srv.port)};
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ck_assert_msg(connect(cl->fd, (struct sockaddr *)&a, sizeof a) == 0, "connect :%d: %s",
	              srv.port, strerror(errno));
}

static void
client_send(struct client *cl, const char *p, size_t n)
{
	while (n > 0) {
		ssize_t w = send(cl->fd, p, n, MSG_NOSIGNAL);
		ck_assert_msg(w > 0, "send: %s", strerror(errno));
		p += w;
		n -= (size_t)w;
	}
}

/* read() that fails the test on a timeout or an error; 0 is EOF. */
static size_t
sock_read(int fd, char *p, size_t n)
{
	for (;;) {
		ssize_t r = read(fd, p, n);
		if (r >= 0)
			return (size_t)r;
		if (errno != EINTR)
			ck_abort_msg("read: %s%s", strerror(errno),
			             errno == EAGAIN ? " (no answer within 5 s)" : "");
	}
}

static size_t
client_fill(struct client *cl)
{
	ck_assert_msg(cl->len < sizeof cl->buf, "response head larger than %zu bytes",
	              sizeof cl->buf);
	size_t n = sock_read(cl->fd, cl->buf + cl->len, sizeof cl->buf - cl->len);
	cl->len += n;
	return n;
}

static void
parse_head(struct response *r)
{
	char *line = r->head;
	char *eol = strstr(line, "\r\n");
	*eol = '\0';
	ck_assert_msg(strncmp(line, "HTTP/1.1 ", 9) == 0 && isdigit((unsigned char)line[9]) &&
	                  isdigit((unsigned char)line[10]) && isdigit((unsigned char)line[11]) &&
	                  line[12] == ' ',
	              "bad status line '%s'", line);
	r->status_line = line;
	r->status = atoi(line + 9);
	r->nfields = 0;
	for (line = eol + 2; (eol = strstr(line, "\r\n")) != line; line = eol + 2) {
		*eol = '\0';
		ck_assert_msg(strchr(line, '\n') == NULL && strchr(line, '\r') == NULL,
		              "bare CR or LF inside the response head line '%s'", line);
		char *colon = strchr(line, ':');
		ck_assert_msg(colon && colon > line &&
		                  strcspn(line, " \t") >= (size_t)(colon - line),
		              "malformed response header line '%s'", line);
		ck_assert_msg(r->nfields < MAX_FIELDS, "too many response header fields");
		*colon = '\0';
		char *v = colon + 1;
		while (*v == ' ' || *v == '\t')
			v++;
		char *e = v + strlen(v);
		while (e > v && (e[-1] == ' ' || e[-1] == '\t'))
			*--e = '\0';
		r->name[r->nfields] = line;
		r->value[r->nfields++] = v;
	}
}

static const char *
header(const struct response *r, const char *name)
{
	for (size_t i = 0; i < r->nfields; i++)
		if (strcasecmp(r->name[i], name) == 0)
			return r->value[i];
	return NULL;
}

static int
header_count(const struct response *r, const char *name)
{
	int n = 0;
	for (size_t i = 0; i < r->nfields; i++)
		n += strcasecmp(r->name[i], name) == 0;
	return n;
}

/* Reads one response framed as RFC 9112 6.3 says: no body for HEAD, 1xx,
 * 204 and 304, else Content-Length bytes, else up to EOF. */
static void
read_response(struct client *cl, int head_only, struct response *r)
{
	char *end;
	while ((end = memmem(cl->buf, cl->len, "\r\n\r\n", 4)) == NULL)
		ck_assert_msg(client_fill(cl) > 0,
		              "connection closed before a complete response head (got %zu bytes: "
		              "'%.*s')",
		              cl->len, (int)(cl->len > 300 ? 300 : cl->len), cl->buf);
	size_t hlen = (size_t)(end - cl->buf) + 4;
	ck_assert_msg(hlen < sizeof r->head, "response head too large");
	memcpy(r->head, cl->buf, hlen);
	r->head[hlen] = '\0';
	memmove(cl->buf, cl->buf + hlen, cl->len - hlen);
	cl->len -= hlen;
	parse_head(r);

	const char *clen = header(r, "Content-Length");
	int to_eof = 0;
	unsigned long long want = 0;
	if (head_only || r->status / 100 == 1 || r->status == 204 || r->status == 304) {
		want = 0;
	} else if (clen) {
		char *e;
		errno = 0;
		want = strtoull(clen, &e, 10);
		ck_assert_msg(isdigit((unsigned char)clen[0]) && *e == '\0' && errno == 0,
		              "bad Content-Length '%s'", clen);
		ck_assert_msg(want < 64u << 20, "Content-Length %llu too large for a test", want);
	} else {
		to_eof = 1;
	}
	size_t cap = to_eof ? 4096 : (size_t)want;
	r->body = malloc(cap + 1);
	ck_assert(r->body != NULL);
	r->body_len = 0;
	size_t take = cl->len;
	if (!to_eof && take > want)
		take = (size_t)want;
	if (take > cap) {
		cap = take;
		r->body = realloc(r->body, cap + 1);
		ck_assert(r->body != NULL);
	}
	memcpy(r->body, cl->buf, take);
	memmove(cl->buf, cl->buf + take, cl->len - take);
	cl->len -= take;
	r->body_len = take;
	for (;;) {
		if (!to_eof && r->body_len == want)
			break;
		if (to_eof && r->body_len == cap) {
			cap *= 2;
			r->body = realloc(r->body, cap + 1);
			ck_assert(r->body != NULL);
		}
		size_t n = sock_read(cl->fd, r->body + r->body_len, cap - r->body_len);
		if (n == 0) {
			ck_assert_msg(to_eof, "connection closed after %zu of %llu body bytes",
			              r->body_len, want);
			break;
		}
		r->body_len += n;
	}
	r->body[r->body_len] = '\0';
}

/* Reads until the server closes: how many bytes came after the response. */
static size_t
read_to_eof(struct client *cl)
{
	size_t extra = cl->len;
	char buf[4096];
	size_t n;
	while ((n = sock_read(cl->fd, buf, sizeof buf)) > 0)
		extra += n;
	return extra;
}

/* One request on a fresh connection. until_close: the server must then
 * close the connection with nothing after the response. */
static void
exchange(const char *raw, size_t len, int until_close, struct response *r)
{
	struct client cl;
	client_open(&cl);
	client_send(&cl, raw, len);
	read_response(&cl, strncmp(raw, "HEAD ", 5) == 0, r);
	if (until_close) {
		size_t extra = read_to_eof(&cl);
		ck_assert_msg(extra == 0, "%zu stray bytes after the %d response to '%.40s'", extra,
		              r->status, raw);
	}
	close(cl.fd);
}

static void
raw_request(const char *raw, struct response *r)
{
	exchange(raw, strlen(raw), 0, r);
}

/* METHOD TARGET with Host, Connection: close and the given header lines
 * (each ending in CRLF); checks the server closes right after it. */
static void
fetch(const char *method, const char *target, const char *headers, struct response *r)
{
	char req[8192];
	int n =
	    snprintf(req, sizeof req, "%s %s HTTP/1.1\r\nHost: test\r\nConnection: close\r\n%s\r\n",
	             method, target, headers ? headers : "");
	ck_assert(n > 0 && (size_t)n < sizeof req);
	exchange(req, (size_t)n, 1, r);
}

#define assert_status(r, want)                                                                     \
	ck_assert_msg((r)->status == (want), "status %d, want %d ('%s')", (r)->status, (want),     \
	              (r)->status_line)

#define assert_header(r, n, want)                                                                  \
	do {                                                                                       \
		const char *v_ = header((r), (n));                                                 \
		ck_assert_msg(v_ != NULL, "no %s header on the %d response", (n), (r)->status);    \
		ck_assert_msg(strcmp(v_, (want)) == 0, "%s: '%s', want '%s' (status %d)", (n), v_, \
		              (want), (r)->status);                                                \
	} while (0)

#define assert_no_header(r, n)                                                                     \
	ck_assert_msg(header((r), (n)) == NULL, "unexpected '%s: %s' on the %d response", (n),     \
	              header((r), (n)), (r)->status)

#define assert_body(r, data, n)                                                                    \
	ck_assert_msg((r)->body_len == (size_t)(n) && memcmp((r)->body, (data), (n)) == 0,         \
	              "body (%zu bytes) '%.*s', want (%zu bytes) '%.*s'", (r)->body_len,           \
	              (int)((r)->body_len > 200 ? 200 : (r)->body_len), (r)->body, (size_t)(n),    \
	              (int)((n) > 200 ? 200 : (n)), (data))

#define assert_text_body(r, s) assert_body((r), (s), strlen(s))

/* ---- validators and conditional requests ------------------------------- */

#define COND_BODY "conditional body\n"
#define T0 ((time_t)784111777) /* Sun, 06 Nov 1994 08:49:37 GMT */
#define T0_DATE "Sun, 06 Nov 1994 08:49:37 GMT"
#define T0_EARLIER "Sun, 06 Nov 1994 08:49:36 GMT"
#define T0_LATER "Sun, 06 Nov 1994 08:49:38 GMT"
#define T0_RFC850 "Sunday, 06-Nov-94 08:49:37 GMT"
#define T0_ASCTIME "Sun Nov  6 08:49:37 1994"
#define CACHE_CONTROL "max-age=60"

static void
setup_validators(void)
{
	make_base();
	put_text("cond.txt", COND_BODY);
	/* Half a second past the Last-Modified second: dates compare by seconds. */
	set_mtime("cond.txt", T0, 500000000);
	static const char *const flags[] = {"--cache-control", CACHE_CONTROL, NULL};
	server_start(flags);
}

/* GET or HEAD /cond.txt with header lines from fmt, whose one %s (if any)
 * is the file's current ETag. */
static void
cond_fetch(const char *method, const char *fmt, struct response *r, char *etag, size_t cap)
{
	expected_etag("cond.txt", etag, cap);
	char h[1024];
	snprintf(h, sizeof h, fmt, etag);
	fetch(method, "/cond.txt", h, r);
}

/* 304: validators, Date, Cache-Control; no Content-Length, no body. */
static void
check_304(const struct response *r, const char *etag, const char *what)
{
	ck_assert_msg(r->status == 304, "%s: status %d, want 304", what, r->status);
	const char *v = header(r, "ETag");
	ck_assert_msg(v && strcmp(v, etag) == 0, "%s: 304 ETag '%s', want '%s'", what, v, etag);
	v = header(r, "Last-Modified");
	ck_assert_msg(v && strcmp(v, T0_DATE) == 0, "%s: 304 Last-Modified '%s'", what, v);
	ck_assert_msg(header(r, "Date") != NULL, "%s: 304 without Date", what);
	v = header(r, "Cache-Control");
	ck_assert_msg(v && strcmp(v, CACHE_CONTROL) == 0, "%s: 304 Cache-Control '%s'", what, v);
	ck_assert_msg(header(r, "Content-Length") == NULL, "%s: 304 with Content-Length %s", what,
	              header(r, "Content-Length"));
	ck_assert_msg(r->body_len == 0, "%s: 304 with a body", what);
}

static void
check_full_200(const struct response *r, const char *what)
{
	ck_assert_msg(r->status == 200, "%s: status %d, want 200", what, r->status);
	ck_assert_msg(r->body_len == strlen(COND_BODY) && strcmp(r->body, COND_BODY) == 0,
	              "%s: body '%s'", what, r->body);
}

START_TEST(etag_strong_quoted_from_inode_size_mtime_ns)
{
	struct response r;
	fetch("GET", "/cond.txt", NULL, &r);
	assert_status(&r, 200);
	const char *etag = header(&r, "ETag");
	ck_assert_msg(etag != NULL, "no ETag on a file");
	size_t n = strlen(etag);
	ck_assert_msg(n >= 3 && etag[0] == '"' && etag[n - 1] == '"',
	              "ETag %s is not a quoted strong tag", etag);
	char want[96];
	expected_etag("cond.txt", want, sizeof want);
	ck_assert_str_eq(etag, want);
	ck_assert_int_eq(header_count(&r, "ETag"), 1);
	assert_text_body(&r, COND_BODY);
	resp_free(&r);
}
END_TEST

START_TEST(etag_changes_on_same_size_rewrite_within_a_second)
{
	struct response r;
	put_text("rewrite.txt", "aaaa");
	set_mtime("rewrite.txt", T0 + 3600, 100);
	fetch("GET", "/rewrite.txt", NULL, &r);
	assert_status(&r, 200);
	assert_text_body(&r, "aaaa");
	char etag1[96], lm1[64];
	ck_assert(header(&r, "ETag") && header(&r, "Last-Modified"));
	snprintf(etag1, sizeof etag1, "%s", header(&r, "ETag"));
	snprintf(lm1, sizeof lm1, "%s", header(&r, "Last-Modified"));
	resp_free(&r);

	/* Same inode (O_TRUNC), same size, same second: only the nanoseconds
	 * differ. A server may keep serving what it has cached for a bounded
	 * moment, so ask again for up to 3 s; a tag that ignores the
	 * nanoseconds never changes. */
	put_text("rewrite.txt", "bbbb");
	set_mtime("rewrite.txt", T0 + 3600, 200);
	for (int i = 0; i < 30; i++) {
		fetch("GET", "/rewrite.txt", NULL, &r);
		assert_status(&r, 200);
		if (header(&r, "ETag") && strcmp(header(&r, "ETag"), etag1) != 0)
			break;
		resp_free(&r);
		msleep(100);
	}
	ck_assert_msg(r.body != NULL, "same-size rewrite in the same second kept ETag %s for 3 s",
	              etag1);
	assert_text_body(&r, "bbbb");
	assert_header(&r, "Last-Modified", lm1);
	char want[96];
	expected_etag("rewrite.txt", want, sizeof want);
	assert_header(&r, "ETag", want);
	resp_free(&r);
}
END_TEST

START_TEST(last_modified_is_imf_fixdate_of_mtime)
{
	struct response r;
	char want[64];
	imf_date(T0, want, sizeof want);
	ck_assert_str_eq(want, T0_DATE);
	fetch("GET", "/cond.txt", NULL, &r);
	assert_status(&r, 200);
	assert_header(&r, "Last-Modified", T0_DATE);
	resp_free(&r);
	fetch("HEAD", "/cond.txt", NULL, &r);
	assert_status(&r, 200);
	assert_header(&r, "Last-Modified", T0_DATE);
	resp_free(&r);
}
END_TEST

START_TEST(if_none_match_exact_304)
{
	struct response r;
	char etag[96];
	cond_fetch("GET", "If-None-Match: %s\r\n", &r, etag, sizeof etag);
	check_304(&r, etag, "If-None-Match: exact tag");
	resp_free(&r);
}
END_TEST

START_TEST(if_none_match_weak_comparison_304)
{
	struct response r;
	char etag[96];
	cond_fetch("GET", "If-None-Match: W/%s\r\n", &r, etag, sizeof etag);
	check_304(&r, etag, "If-None-Match: W/tag");
	resp_free(&r);
}
END_TEST

START_TEST(if_none_match_list_304)
{
	struct response r;
	char etag[96];
	cond_fetch("GET", "If-None-Match: \"nope\", W/\"other\", %s\r\n", &r, etag, sizeof etag);
	check_304(&r, etag, "If-None-Match: list");
	resp_free(&r);
}
END_TEST

START_TEST(if_none_match_star_304)
{
	struct response r;
	char etag[96];
	cond_fetch("GET", "If-None-Match: *\r\n", &r, etag, sizeof etag);
	check_304(&r, etag, "If-None-Match: *");
	resp_free(&r);
}
END_TEST

START_TEST(if_none_match_other_200)
{
	struct response r;
	char etag[96];
	cond_fetch("GET", "If-None-Match: \"nope\", W/\"other\"\r\n", &r, etag, sizeof etag);
	check_full_200(&r, "If-None-Match without our tag");
	resp_free(&r);
}
END_TEST

/* A failed If-None-Match decides: If-Modified-Since is not even looked at. */
START_TEST(if_none_match_takes_precedence_over_if_modified_since)
{
	struct response r;
	char etag[96], future[64], h[256];
	imf_date(time(NULL) + 86400, future, sizeof future);
	const char *dates[] = {future, "Sat, 01 Jan 2000 00:00:00 GMT"};
	for (size_t i = 0; i < 2; i++) {
		snprintf(h, sizeof h, "If-None-Match: \"nope\"\r\nIf-Modified-Since: %s\r\n",
		         dates[i]);
		cond_fetch("GET", h, &r, etag, sizeof etag);
		check_full_200(&r, dates[i]);
		resp_free(&r);
	}
}
END_TEST

START_TEST(if_none_match_head_304)
{
	struct response r;
	char etag[96];
	cond_fetch("HEAD", "If-None-Match: %s\r\n", &r, etag, sizeof etag);
	check_304(&r, etag, "HEAD with If-None-Match");
	resp_free(&r);
}
END_TEST

START_TEST(if_modified_since_equal_304)
{
	struct response r;
	char etag[96];
	cond_fetch("GET", "If-Modified-Since: " T0_DATE "\r\n", &r, etag, sizeof etag);
	check_304(&r, etag, "If-Modified-Since equal to Last-Modified");
	resp_free(&r);
}
END_TEST

START_TEST(if_modified_since_one_second_earlier_200)
{
	struct response r;
	char etag[96];
	cond_fetch("GET", "If-Modified-Since: " T0_EARLIER "\r\n", &r, etag, sizeof etag);
	check_full_200(&r, "If-Modified-Since a second before the mtime");
	resp_free(&r);
}
END_TEST

START_TEST(if_modified_since_rfc850_304)
{
	struct response r;
	char etag[96];
	cond_fetch("GET", "If-Modified-Since: " T0_RFC850 "\r\n", &r, etag, sizeof etag);
	check_304(&r, etag, "If-Modified-Since in RFC 850 form");
	resp_free(&r);
}
END_TEST

START_TEST(if_modified_since_asctime_304)
{
	struct response r;
	char etag[96];
	cond_fetch("GET", "If-Modified-Since: " T0_ASCTIME "\r\n", &r, etag, sizeof etag);
	check_304(&r, etag, "If-Modified-Since in asctime form");
	resp_free(&r);
}
END_TEST

static const char *const bad_dates[] = {
    "garbage",
    "Sun, 06 Nov 1994 08:49:37 UTC",
    "1994-11-06T08:49:37Z",
    "Sun, 06 Nov 1994 25:49:37 GMT",
    "",
};

/* Compared as a date, never as a string; an unparseable one is ignored. */
START_TEST(if_modified_since_garbage_ignored_200)
{
	struct response r;
	char etag[96], h[256];
	snprintf(h, sizeof h, "If-Modified-Since: %s\r\n", bad_dates[_i]);
	cond_fetch("GET", h, &r, etag, sizeof etag);
	check_full_200(&r, bad_dates[_i]);
	resp_free(&r);
}
END_TEST

START_TEST(if_match_other_412)
{
	struct response r;
	char etag[96];
	cond_fetch("GET", "If-Match: \"nope\"\r\n", &r, etag, sizeof etag);
	assert_status(&r, 412);
	resp_free(&r);
}
END_TEST

/* If-Match uses the strong comparison: a weak tag never matches. */
START_TEST(if_match_weak_tag_412)
{
	struct response r;
	char etag[96];
	cond_fetch("GET", "If-Match: W/%s\r\n", &r, etag, sizeof etag);
	assert_status(&r, 412);
	resp_free(&r);
}
END_TEST

START_TEST(if_match_current_200)
{
	static const char *const fmts[] = {
	    "If-Match: %s\r\n",
	    "If-Match: \"nope\", %s\r\n",
	    "If-Match: *\r\n",
	};
	struct response r;
	char etag[96];
	for (size_t i = 0; i < sizeof fmts / sizeof fmts[0]; i++) {
		cond_fetch("GET", fmts[i], &r, etag, sizeof etag);
		check_full_200(&r, fmts[i]);
		resp_free(&r);
	}
}
END_TEST

START_TEST(if_unmodified_since_earlier_412)
{
	struct response r;
	char etag[96];
	cond_fetch("GET", "If-Unmodified-Since: " T0_EARLIER "\r\n", &r, etag, sizeof etag);
	assert_status(&r, 412);
	resp_free(&r);
}
END_TEST

START_TEST(if_unmodified_since_equal_200)
{
	struct response r;
	char etag[96];
	cond_fetch("GET", "If-Unmodified-Since: " T0_DATE "\r\n", &r, etag, sizeof etag);
	check_full_200(&r, "If-Unmodified-Since equal to Last-Modified");
	resp_free(&r);
}
END_TEST

START_TEST(if_unmodified_since_garbage_ignored_200)
{
	struct response r;
	char etag[96], h[256];
	snprintf(h, sizeof h, "If-Unmodified-Since: %s\r\n", bad_dates[_i]);
	cond_fetch("GET", h, &r, etag, sizeof etag);
	check_full_200(&r, bad_dates[_i]);
	resp_free(&r);
}
END_TEST

/* ---- ranges ------------------------------------------------------------ */

#define ALPHA "abcdefghijklmnopqrstuvwxyz" /* alpha.txt, 26 bytes */
#define ALPHA_TYPE "text/plain; charset=utf-8"
#define BIG_SIZE 5368709120ULL    /* big.bin: 5 GiB, sparse */
#define MARK_OFF 4294967396ULL    /* 4 GiB + 100 */
#define MARKER "MARKER-4GiB+100!" /* 16 bytes */

static void
setup_ranges(void)
{
	make_base();
	put_text("alpha.txt", ALPHA);
	set_mtime("alpha.txt", T0, 250000000);
	put_text("empty.txt", "");
	char hundred[101];
	for (int i = 0; i < 100; i++)
		hundred[i] = (char)('0' + i % 10);
	put_file("hundred.txt", hundred, 100);

	char p[1024];
	in_root("big.bin", p, sizeof p);
	int fd = open(p, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	ck_assert_msg(fd >= 0, "open %s: %s", p, strerror(errno));
	ck_assert_msg(ftruncate(fd, (off_t)BIG_SIZE) == 0, "ftruncate 5 GiB: %s", strerror(errno));
	ck_assert(pwrite(fd, MARKER, 16, (off_t)MARK_OFF) == 16);
	close(fd);
	server_start(NULL);
}

static void
range_fetch(const char *target, const char *range, const char *more, struct response *r)
{
	char h[1024];
	snprintf(h, sizeof h, "Range: %s\r\n%s", range, more ? more : "");
	fetch("GET", target, h, r);
}

/* A single-part 206 of alpha.txt: exact bytes and headers. */
static void
check_206(const struct response *r, unsigned first, unsigned last, const char *what)
{
	ck_assert_msg(r->status == 206, "%s: status %d, want 206", what, r->status);
	char cr[64], clen[32];
	snprintf(cr, sizeof cr, "bytes %u-%u/26", first, last);
	snprintf(clen, sizeof clen, "%u", last - first + 1);
	const char *v = header(r, "Content-Range");
	ck_assert_msg(v && strcmp(v, cr) == 0, "%s: Content-Range '%s', want '%s'", what, v, cr);
	v = header(r, "Content-Length");
	ck_assert_msg(v && strcmp(v, clen) == 0, "%s: Content-Length '%s', want %s", what, v, clen);
	v = header(r, "Content-Type");
	ck_assert_msg(v && strcmp(v, ALPHA_TYPE) == 0, "%s: Content-Type '%s'", what, v);
	ck_assert_msg(r->body_len == last - first + 1 &&
	                  memcmp(r->body, ALPHA + first, last - first + 1) == 0,
	              "%s: body '%s', want '%.*s'", what, r->body, (int)(last - first + 1),
	              ALPHA + first);
	ck_assert_msg(header(r, "ETag") && header(r, "Last-Modified"), "%s: 206 without validators",
	              what);
}

static void
check_alpha_200(const struct response *r, const char *what)
{
	ck_assert_msg(r->status == 200, "%s: status %d, want 200", what, r->status);
	ck_assert_msg(header(r, "Content-Range") == NULL, "%s: 200 with Content-Range %s", what,
	              header(r, "Content-Range"));
	const char *v = header(r, "Content-Length");
	ck_assert_msg(v && strcmp(v, "26") == 0, "%s: Content-Length '%s'", what, v);
	ck_assert_msg(r->body_len == 26 && memcmp(r->body, ALPHA, 26) == 0, "%s: body '%s'", what,
	              r->body);
}

START_TEST(range_accept_ranges_bytes)
{
	struct response r;
	fetch("GET", "/alpha.txt", NULL, &r);
	check_alpha_200(&r, "plain GET");
	assert_header(&r, "Accept-Ranges", "bytes");
	resp_free(&r);
}
END_TEST

START_TEST(range_first_bytes_206)
{
	struct response r;
	range_fetch("/alpha.txt", "bytes=0-4", NULL, &r);
	check_206(&r, 0, 4, "bytes=0-4");
	assert_text_body(&r, "abcde");
	resp_free(&r);
}
END_TEST

START_TEST(range_open_ended_206)
{
	struct response r;
	range_fetch("/alpha.txt", "bytes=5-", NULL, &r);
	check_206(&r, 5, 25, "bytes=5-");
	resp_free(&r);
}
END_TEST

START_TEST(range_suffix_206)
{
	struct response r;
	range_fetch("/alpha.txt", "bytes=-3", NULL, &r);
	check_206(&r, 23, 25, "bytes=-3");
	assert_text_body(&r, "xyz");
	resp_free(&r);
}
END_TEST

START_TEST(range_end_past_eof_clamped)
{
	struct response r;
	range_fetch("/alpha.txt", "bytes=20-1000", NULL, &r);
	check_206(&r, 20, 25, "bytes=20-1000");
	resp_free(&r);
	range_fetch("/alpha.txt", "bytes=-100", NULL, &r);
	check_206(&r, 0, 25, "bytes=-100 (suffix longer than the file)");
	resp_free(&r);
}
END_TEST

static const char *const unsatisfiable[] = {"bytes=26-", "bytes=26-30", "bytes=1000-2000",
                                            "bytes=-0"};

START_TEST(range_unsatisfiable_416)
{
	struct response r;
	range_fetch("/alpha.txt", unsatisfiable[_i], NULL, &r);
	ck_assert_msg(r.status == 416, "%s: status %d, want 416", unsatisfiable[_i], r.status);
	assert_header(&r, "Content-Range", "bytes */26");
	ck_assert_msg(strstr(r.body, ALPHA) == NULL, "416 carries the file's bytes");
	resp_free(&r);
}
END_TEST

static const char *const malformed_ranges[] = {"bytes=5-2", "bytes=abc", "items=0-1",
                                               "bytes=", "bytes=1-2-3"};

START_TEST(range_malformed_or_unknown_unit_ignored_200)
{
	struct response r;
	range_fetch("/alpha.txt", malformed_ranges[_i], NULL, &r);
	check_alpha_200(&r, malformed_ranges[_i]);
	resp_free(&r);
}
END_TEST

START_TEST(range_on_head_ignored_200)
{
	struct response r;
	fetch("HEAD", "/alpha.txt", "Range: bytes=0-4\r\n", &r);
	assert_status(&r, 200);
	assert_header(&r, "Content-Length", "26");
	assert_no_header(&r, "Content-Range");
	ck_assert_uint_eq(r.body_len, 0);
	resp_free(&r);
}
END_TEST

static const char *const empty_ranges[] = {"bytes=0-0", "bytes=0-", "bytes=-5", "bytes=0-10"};

START_TEST(range_zero_length_file_200_empty)
{
	struct response r;
	range_fetch("/empty.txt", empty_ranges[_i], NULL, &r);
	ck_assert_msg(r.status == 200, "%s on an empty file: status %d, want 200", empty_ranges[_i],
	              r.status);
	assert_header(&r, "Content-Length", "0");
	assert_no_header(&r, "Content-Range");
	ck_assert_uint_eq(r.body_len, 0);
	resp_free(&r);
}
END_TEST

/* The boundary from "multipart/byteranges; boundary=B". */
static void
boundary_of(const struct response *r, char *out, size_t cap)
{
	const char *ct = header(r, "Content-Type");
	ck_assert_msg(ct != NULL, "multipart 206 without Content-Type");
	ck_assert_msg(strncasecmp(ct, "multipart/byteranges", 20) == 0,
	              "Content-Type '%s', want multipart/byteranges", ct);
	const char *b = strstr(ct, "boundary=");
	ck_assert_msg(b != NULL, "no boundary in '%s'", ct);
	b += 9;
	size_t n = strcspn(b, "; \t");
	if (*b == '"') {
		b++;
		n = strcspn(b, "\"");
	}
	ck_assert(n > 0 && n < cap);
	memcpy(out, b, n);
	out[n] = '\0';
	ck_assert_msg(n == 20 && strncmp(out, "shs-", 4) == 0 &&
	                  strspn(out + 4, "0123456789abcdefABCDEF") == 16,
	              "boundary '%s' is not shs-<16 hex>", out);
}

/* The multipart body the spec prescribes for parts of data (size bytes). */
static size_t
multipart_body(char *dst, size_t cap, const char *boundary, const char *type, const char *data,
               unsigned size, const unsigned (*parts)[2], size_t n)
{
	size_t w = 0;
	for (size_t i = 0; i < n; i++) {
		int k = snprintf(
		    dst + w, cap - w,
		    "\r\n--%s\r\nContent-Type: %s\r\nContent-Range: bytes %u-%u/%u\r\n\r\n",
		    boundary, type, parts[i][0], parts[i][1], size);
		ck_assert(k > 0 && (size_t)k < cap - w);
		w += (size_t)k;
		size_t len = parts[i][1] - parts[i][0] + 1;
		ck_assert(len < cap - w);
		memcpy(dst + w, data + parts[i][0], len);
		w += len;
	}
	int k = snprintf(dst + w, cap - w, "\r\n--%s--\r\n", boundary);
	ck_assert(k > 0 && (size_t)k < cap - w);
	return w + (size_t)k;
}

static void
check_multipart(const struct response *r, const char *data, unsigned size,
                const unsigned (*parts)[2], size_t n)
{
	assert_status(r, 206);
	assert_no_header(r, "Content-Range");
	char boundary[128], want[8192], clen[32];
	boundary_of(r, boundary, sizeof boundary);
	size_t len = multipart_body(want, sizeof want, boundary, ALPHA_TYPE, data, size, parts, n);
	snprintf(clen, sizeof clen, "%zu", len);
	assert_header(r, "Content-Length", clen);
	assert_body(r, want, len);
}

START_TEST(range_two_ranges_multipart_byteranges)
{
	static const unsigned parts[][2] = {{0, 2}, {10, 12}};
	struct response r;
	range_fetch("/alpha.txt", "bytes=0-2,10-12", NULL, &r);
	check_multipart(&r, ALPHA, 26, parts, 2);
	resp_free(&r);
}
END_TEST

START_TEST(range_multipart_parts_sorted)
{
	static const unsigned parts[][2] = {{0, 1}, {20, 25}};
	struct response r;
	range_fetch("/alpha.txt", "bytes=-6,0-1", NULL, &r);
	check_multipart(&r, ALPHA, 26, parts, 2);
	resp_free(&r);
}
END_TEST

static const struct {
	const char *range;
	unsigned first, last;
} merged_ranges[] = {
    {"bytes=0-5,3-8", 0, 8},
    {"bytes=3-8,0-5", 0, 8},
    {"bytes=0-2,3-8", 0, 8}, /* adjacent */
    {"bytes=2-4,0-10,5-6", 0, 10},
};

START_TEST(range_overlapping_merged_into_one_206)
{
	struct response r;
	range_fetch("/alpha.txt", merged_ranges[_i].range, NULL, &r);
	check_206(&r, merged_ranges[_i].first, merged_ranges[_i].last, merged_ranges[_i].range);
	resp_free(&r);
}
END_TEST

/* "bytes=0-0,2-2,...": n disjoint one-byte ranges of hundred.txt. */
static void
many_ranges(char *dst, size_t cap, unsigned n)
{
	size_t w = (size_t)snprintf(dst, cap, "bytes=");
	for (unsigned i = 0; i < n; i++)
		w += (size_t)snprintf(dst + w, cap - w, "%s%u-%u", i ? "," : "", 2 * i, 2 * i);
	ck_assert(w < cap);
}

START_TEST(range_more_than_16_ranges_200)
{
	char range[512];
	many_ranges(range, sizeof range, 17);
	struct response r;
	range_fetch("/hundred.txt", range, NULL, &r);
	assert_status(&r, 200);
	assert_header(&r, "Content-Length", "100");
	assert_no_header(&r, "Content-Range");
	ck_assert_uint_eq(r.body_len, 100);
	resp_free(&r);
}
END_TEST

START_TEST(range_16_ranges_still_multipart)
{
	char range[512];
	many_ranges(range, sizeof range, 16);
	unsigned parts[16][2];
	for (unsigned i = 0; i < 16; i++)
		parts[i][0] = parts[i][1] = 2 * i;
	char data[101];
	for (int i = 0; i < 100; i++)
		data[i] = (char)('0' + i % 10);
	struct response r;
	range_fetch("/hundred.txt", range, NULL, &r);
	check_multipart(&r, data, 100, (const unsigned(*)[2])parts, 16);
	resp_free(&r);
}
END_TEST

START_TEST(if_range_current_etag_206)
{
	char etag[96], h[256];
	expected_etag("alpha.txt", etag, sizeof etag);
	snprintf(h, sizeof h, "If-Range: %s\r\n", etag);
	struct response r;
	range_fetch("/alpha.txt", "bytes=0-4", h, &r);
	check_206(&r, 0, 4, "If-Range with the current ETag");
	resp_free(&r);
}
END_TEST

START_TEST(if_range_old_etag_200_full)
{
	char etag[96], h[256];
	expected_etag("alpha.txt", etag, sizeof etag);
	struct response r;
	range_fetch("/alpha.txt", "bytes=0-4", "If-Range: \"1-2-3\"\r\n", &r);
	check_alpha_200(&r, "If-Range with an old ETag");
	resp_free(&r);
	/* If-Range needs the strong comparison: a weak tag never matches. */
	snprintf(h, sizeof h, "If-Range: W/%s\r\n", etag);
	range_fetch("/alpha.txt", "bytes=0-4", h, &r);
	check_alpha_200(&r, "If-Range with W/ of the current ETag");
	resp_free(&r);
}
END_TEST

START_TEST(if_range_exact_last_modified_206)
{
	struct response r;
	range_fetch("/alpha.txt", "bytes=0-4", "If-Range: " T0_DATE "\r\n", &r);
	check_206(&r, 0, 4, "If-Range with the Last-Modified date");
	resp_free(&r);
}
END_TEST

START_TEST(if_range_other_date_200_full)
{
	struct response r;
	range_fetch("/alpha.txt", "bytes=0-4", "If-Range: " T0_LATER "\r\n", &r);
	check_alpha_200(&r, "If-Range a second after Last-Modified");
	resp_free(&r);
	range_fetch("/alpha.txt", "bytes=0-4", "If-Range: " T0_EARLIER "\r\n", &r);
	check_alpha_200(&r, "If-Range a second before Last-Modified");
	resp_free(&r);
}
END_TEST

START_TEST(range_beyond_4gib)
{
	struct response r;
	range_fetch("/big.bin", "bytes=4294967396-4294967411", NULL, &r);
	assert_status(&r, 206);
	assert_header(&r, "Content-Range", "bytes 4294967396-4294967411/5368709120");
	assert_header(&r, "Content-Length", "16");
	assert_body(&r, MARKER, 16);
	resp_free(&r);

	static const char zeros[16];
	range_fetch("/big.bin", "bytes=-16", NULL, &r);
	assert_status(&r, 206);
	assert_header(&r, "Content-Range", "bytes 5368709104-5368709119/5368709120");
	assert_body(&r, zeros, 16);
	resp_free(&r);
}
END_TEST

START_TEST(head_5gib_content_length)
{
	struct response r;
	fetch("HEAD", "/big.bin", NULL, &r);
	assert_status(&r, 200);
	assert_header(&r, "Content-Length", "5368709120");
	ck_assert_uint_eq(r.body_len, 0);
	resp_free(&r);
}
END_TEST

/* ---- methods, versions, framing, redirects ----------------------------- */

#define INDEX_BODY "<h1>home</h1>\n"
#define FILE_BODY "file body\n"
#define CRLF_DIR "d\r\nX-Inj: 1"

static void
setup_methods(void)
{
	make_base();
	put_text("index.html", INDEX_BODY);
	put_text("file.txt", FILE_BODY);
	make_dir("noindex");
	put_text("noindex/a.txt", "a\n");
	make_dir("evil.example");
	make_dir("evil.example/dir");
	make_dir("\\evil");
	make_dir(CRLF_DIR);
	server_start(NULL);
}

static void
check_options_204(const struct response *r)
{
	assert_status(r, 204);
	assert_header(r, "Allow", "GET, HEAD, OPTIONS");
	assert_no_header(r, "Content-Length");
	ck_assert_uint_eq(r->body_len, 0);
}

START_TEST(options_path_204_allow)
{
	struct response r;
	fetch("OPTIONS", "/", NULL, &r);
	check_options_204(&r);
	resp_free(&r);
	fetch("OPTIONS", "/file.txt", NULL, &r);
	check_options_204(&r);
	resp_free(&r);
}
END_TEST

START_TEST(options_star_204_allow)
{
	struct response r;
	fetch("OPTIONS", "*", NULL, &r);
	check_options_204(&r);
	resp_free(&r);
}
END_TEST

START_TEST(post_405_allow)
{
	struct response r;
	fetch("POST", "/file.txt", "Content-Length: 0\r\n", &r);
	assert_status(&r, 405);
	assert_header(&r, "Allow", "GET, HEAD, OPTIONS");
	resp_free(&r);
	fetch("DELETE", "/file.txt", NULL, &r);
	assert_status(&r, 405);
	assert_header(&r, "Allow", "GET, HEAD, OPTIONS");
	resp_free(&r);
}
END_TEST

START_TEST(unknown_method_501)
{
	struct response r;
	fetch("FOO", "/file.txt", NULL, &r);
	assert_status(&r, 501);
	resp_free(&r);
}
END_TEST

START_TEST(http11_without_host_400)
{
	struct response r;
	raw_request("GET /file.txt HTTP/1.1\r\nConnection: close\r\n\r\n", &r);
	assert_status(&r, 400);
	resp_free(&r);
}
END_TEST

/* The contrast: HTTP/1.0 has no Host requirement. */
START_TEST(http10_without_host_200)
{
	struct response r;
	raw_request("GET /file.txt HTTP/1.0\r\n\r\n", &r);
	assert_status(&r, 200);
	assert_text_body(&r, FILE_BODY);
	resp_free(&r);
}
END_TEST

START_TEST(two_host_headers_400)
{
	struct response r;
	raw_request("GET /file.txt HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", &r);
	assert_status(&r, 400);
	resp_free(&r);
}
END_TEST

START_TEST(absolute_form_target_200)
{
	struct response r;
	raw_request("GET http://anything/file.txt HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n",
	            &r);
	assert_status(&r, 200);
	assert_text_body(&r, FILE_BODY);
	resp_free(&r);
}
END_TEST

START_TEST(bare_lf_request_200)
{
	struct response r;
	raw_request("GET / HTTP/1.1\nHost: a\n\n", &r);
	assert_status(&r, 200);
	assert_text_body(&r, INDEX_BODY);
	resp_free(&r);
}
END_TEST

START_TEST(obs_fold_400)
{
	struct response r;
	raw_request("GET /file.txt HTTP/1.1\r\nHost: a\r\nX-Foo: a\r\n b\r\n\r\n", &r);
	assert_status(&r, 400);
	resp_free(&r);
}
END_TEST

START_TEST(nul_in_header_value_400)
{
	static const char req[] = "GET /file.txt HTTP/1.1\r\nHost: a\r\nX-Foo: a\0b\r\n\r\n";
	struct response r;
	exchange(req, sizeof req - 1, 0, &r);
	assert_status(&r, 400);
	resp_free(&r);
}
END_TEST

START_TEST(lone_cr_in_header_value_400)
{
	struct response r;
	raw_request("GET /file.txt HTTP/1.1\r\nHost: a\r\nX-Foo: a\rb\r\n\r\n", &r);
	assert_status(&r, 400);
	resp_free(&r);
}
END_TEST

START_TEST(space_before_colon_400)
{
	struct response r;
	raw_request("GET /file.txt HTTP/1.1\r\nHost: a\r\nX-Foo : bar\r\n\r\n", &r);
	assert_status(&r, 400);
	resp_free(&r);
}
END_TEST

/* The body is never sent: the final answer must come at once, without a
 * 100 Continue, and the server must then close rather than wait for it. */
START_TEST(expect_100_continue_final_answer_then_close)
{
	static const char req[] = "GET /file.txt HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\n"
	                          "Content-Length: 10\r\n\r\n";
	struct client cl;
	struct response r;
	client_open(&cl);
	client_send(&cl, req, sizeof req - 1);
	read_response(&cl, 0, &r);
	assert_status(&r, 200);
	assert_text_body(&r, FILE_BODY);
	assert_header(&r, "Connection", "close");
	size_t extra = read_to_eof(&cl);
	ck_assert_msg(extra == 0, "%zu bytes after the response", extra);
	close(cl.fd);
	resp_free(&r);
}
END_TEST

START_TEST(listing_off_by_default_404)
{
	struct response r;
	fetch("GET", "/noindex/", NULL, &r);
	assert_status(&r, 404);
	resp_free(&r);
}
END_TEST

static const char *const evil_targets[] = {
    "//evil.example/dir",  "///evil.example/dir",        "/%2Fevil.example/dir",
    "/./evil.example/dir", "http://a//evil.example/dir",
};

/* A Location starting with "//" is a link to another site. */
START_TEST(redirect_never_protocol_relative)
{
	struct response r;
	fetch("GET", evil_targets[_i], NULL, &r);
	ck_assert_msg(r.status == 301, "%s: status %d, want 301", evil_targets[_i], r.status);
	const char *loc = header(&r, "Location");
	ck_assert_msg(loc != NULL, "301 without Location");
	ck_assert_msg(strncmp(loc, "//", 2) != 0, "%s: Location %s leaves the site",
	              evil_targets[_i], loc);
	assert_header(&r, "Location", "/evil.example/dir/");
	resp_free(&r);
}
END_TEST

/* Browsers read "/\evil" as "//evil": a backslash stays encoded. */
START_TEST(redirect_backslash_stays_encoded)
{
	struct response r;
	fetch("GET", "/%5Cevil", NULL, &r);
	assert_status(&r, 301);
	assert_header(&r, "Location", "/%5Cevil/");
	resp_free(&r);
}
END_TEST

START_TEST(redirect_location_has_no_cr_lf)
{
	struct response r;
	fetch("GET", "/d%0D%0AX-Inj:%201", NULL, &r);
	assert_status(&r, 301);
	assert_header(&r, "Location", "/d%0D%0AX-Inj:%201/");
	assert_no_header(&r, "X-Inj");
	resp_free(&r);
}
END_TEST

/* ---- --header and --cache-control -------------------------------------- */

static void
setup_headers(void)
{
	make_base();
	put_text("h.txt", ALPHA);
	make_dir("d");
	static const char *const flags[] = {"--header", "X-Extra: yes", "--cache-control",
	                                    CACHE_CONTROL, NULL};
	server_start(flags);
}

START_TEST(extra_header_on_every_response)
{
	static const struct {
		const char *method, *target, *headers;
		int status;
	} cases[] = {
	    {"GET", "/h.txt", NULL, 200},
	    {"GET", "/missing.txt", NULL, 404},
	    {"GET", "/h.txt", "Range: bytes=0-1\r\n", 206},
	    {"GET", "/h.txt", "If-None-Match: *\r\n", 304},
	    {"GET", "/d", NULL, 301},
	    {"POST", "/h.txt", "Content-Length: 0\r\n", 405},
	    {"OPTIONS", "*", NULL, 204},
	};
	struct response r;
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		fetch(cases[i].method, cases[i].target, cases[i].headers, &r);
		assert_status(&r, cases[i].status);
		assert_header(&r, "X-Extra", "yes");
		ck_assert_int_eq(header_count(&r, "X-Extra"), 1);
		resp_free(&r);
	}
	raw_request("GET /h.txt HTTP/1.1\r\n\r\n", &r);
	assert_status(&r, 400);
	assert_header(&r, "X-Extra", "yes");
	resp_free(&r);
}
END_TEST

START_TEST(cache_control_on_200_206_304)
{
	static const struct {
		const char *headers;
		int status;
	} cases[] = {
	    {NULL, 200},
	    {"Range: bytes=0-1\r\n", 206},
	    {"If-None-Match: *\r\n", 304},
	};
	struct response r;
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		fetch("GET", "/h.txt", cases[i].headers, &r);
		assert_status(&r, cases[i].status);
		assert_header(&r, "Cache-Control", CACHE_CONTROL);
		ck_assert_int_eq(header_count(&r, "Cache-Control"), 1);
		resp_free(&r);
	}
}
END_TEST

/* ---- --cors ------------------------------------------------------------ */

static void
setup_cors(void)
{
	make_base();
	put_text("c.txt", ALPHA);
	make_dir("d");
	static const char *const flags[] = {"--cors", NULL};
	server_start(flags);
}

START_TEST(cors_allow_origin_on_every_response)
{
	static const struct {
		const char *method, *target, *headers;
		int status;
	} cases[] = {
	    {"GET", "/c.txt", "Origin: http://o.example\r\n", 200},
	    {"HEAD", "/c.txt", NULL, 200},
	    {"GET", "/missing.txt", NULL, 404},
	    {"GET", "/c.txt", "Range: bytes=0-1\r\n", 206},
	    {"GET", "/c.txt", "If-None-Match: *\r\n", 304},
	    {"GET", "/c.txt", "Range: bytes=100-\r\n", 416},
	    {"GET", "/d", NULL, 301},
	    {"POST", "/c.txt", "Content-Length: 0\r\n", 405},
	    {"OPTIONS", "/c.txt", NULL, 204},
	};
	struct response r;
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		fetch(cases[i].method, cases[i].target, cases[i].headers, &r);
		assert_status(&r, cases[i].status);
		assert_header(&r, "Access-Control-Allow-Origin", "*");
		ck_assert_int_eq(header_count(&r, "Access-Control-Allow-Origin"), 1);
		resp_free(&r);
	}
	raw_request("GET /c.txt HTTP/1.1\r\n\r\n", &r);
	assert_status(&r, 400);
	assert_header(&r, "Access-Control-Allow-Origin", "*");
	resp_free(&r);
}
END_TEST

START_TEST(cors_preflight_204)
{
	struct response r;
	fetch("OPTIONS", "/c.txt",
	      "Origin: http://o.example\r\nAccess-Control-Request-Method: GET\r\n"
	      "Access-Control-Request-Headers: X-Foo\r\n",
	      &r);
	check_options_204(&r);
	assert_header(&r, "Access-Control-Allow-Origin", "*");
	const char *m = header(&r, "Access-Control-Allow-Methods");
	ck_assert_msg(m && strstr(m, "GET"), "Access-Control-Allow-Methods '%s'", m);
	assert_header(&r, "Access-Control-Allow-Headers", "X-Foo");
	assert_header(&r, "Access-Control-Max-Age", "86400");
	resp_free(&r);
}
END_TEST

/* Without Access-Control-Request-Method it is a plain OPTIONS. */
START_TEST(cors_plain_options_is_not_a_preflight)
{
	struct response r;
	fetch("OPTIONS", "/c.txt", "Origin: http://o.example\r\n", &r);
	check_options_204(&r);
	assert_no_header(&r, "Access-Control-Allow-Methods");
	assert_no_header(&r, "Access-Control-Max-Age");
	resp_free(&r);
}
END_TEST

/* ---- listings ---------------------------------------------------------- */

/* Files of /list/ in byte order, with their HTML text, href and JSON name
 * (json_alt: the same name with \u escapes, which JSON also allows). */
static const struct {
	const char *name, *text, *href, *json, *json_alt;
} listed[] = {
    {"100%.txt", "100%.txt", "./100%25.txt", "\"100%.txt\"", NULL},
    {"<b>x&y\".txt", "&lt;b&gt;x&amp;y&quot;.txt", "./%3Cb%3Ex&amp;y%22.txt", "\"<b>x&y\\\".txt\"",
     "\"\\u003cb\\u003ex\\u0026y\\\".txt\""},
    {"a#b.txt", "a#b.txt", "./a%23b.txt", "\"a#b.txt\"", NULL},
    {"caf\xc3\xa9.txt", "caf\xc3\xa9.txt", "./caf%C3%A9.txt", "\"caf\xc3\xa9.txt\"",
     "\"caf\\u00e9.txt\""},
    {"q?.txt", "q?.txt", "./q%3F.txt", "\"q?.txt\"", NULL},
};
#define NLISTED (sizeof listed / sizeof listed[0])

static void
listed_content(const char *name, char *out, size_t cap)
{
	snprintf(out, cap, "file:%s\n", name);
}

static void
setup_listing(void)
{
	make_base();
	make_dir("list");
	for (size_t i = 0; i < NLISTED; i++) {
		char rel[256], body[256];
		snprintf(rel, sizeof rel, "list/%s", listed[i].name);
		listed_content(listed[i].name, body, sizeof body);
		put_text(rel, body);
	}
	make_dir("list/sub");
	put_text("list/sub/inner.txt", "inner\n");
	put_text("list/.hidden", "secret\n");
	put_text("top.txt", "top\n");
	static const char *const flags[] = {"--listing", NULL};
	server_start(flags);
}

static void
fetch_listing(const char *target, const char *headers, struct response *r)
{
	fetch("GET", target, headers, r);
	assert_status(r, 200);
}

START_TEST(listing_html_page)
{
	struct response r;
	fetch_listing("/list/", NULL, &r);
	assert_header(&r, "Content-Type", "text/html; charset=utf-8");
	assert_header(&r, "Cache-Control", "no-cache");
	assert_header(&r, "Vary", "Accept");
	ck_assert_msg(strstr(r.body, "<html") != NULL, "not an HTML page: %.200s", r.body);
	resp_free(&r);
}
END_TEST

START_TEST(listing_names_html_escaped)
{
	struct response r;
	fetch_listing("/list/", NULL, &r);
	for (size_t i = 0; i < NLISTED; i++) {
		char want[256];
		snprintf(want, sizeof want, ">%s<", listed[i].text);
		ck_assert_msg(strstr(r.body, want) != NULL, "listing lacks the text %s", want);
	}
	ck_assert_msg(strstr(r.body, "<b>x") == NULL, "raw <b> in the listing");
	ck_assert_msg(strstr(r.body, ">sub/<") || strstr(r.body, ">sub<"), "no sub directory");
	resp_free(&r);
}
END_TEST

START_TEST(listing_hrefs_percent_encoded)
{
	struct response r;
	fetch_listing("/list/", NULL, &r);
	for (size_t i = 0; i < NLISTED; i++) {
		char want[256];
		snprintf(want, sizeof want, "href=\"%s\"", listed[i].href);
		ck_assert_msg(strstr(r.body, want) != NULL, "listing lacks %s", want);
	}
	ck_assert_msg(strstr(r.body, "href=\"./sub/\"") != NULL, "listing lacks href=\"./sub/\"");
	resp_free(&r);
}
END_TEST

START_TEST(listing_directories_first_then_byte_order)
{
	struct response r;
	fetch_listing("/list/", NULL, &r);
	const char *prev = strstr(r.body, "href=\"./sub/\"");
	ck_assert_msg(prev != NULL, "no sub/ link");
	for (size_t i = 0; i < NLISTED; i++) {
		char want[256];
		snprintf(want, sizeof want, "href=\"%s\"", listed[i].href);
		const char *at = strstr(r.body, want);
		ck_assert_msg(at != NULL, "listing lacks %s", want);
		ck_assert_msg(at > prev, "%s is listed before the entry that precedes it", want);
		prev = at;
	}
	resp_free(&r);
}
END_TEST

START_TEST(listing_hides_dotfiles)
{
	struct response r;
	fetch_listing("/list/", NULL, &r);
	ck_assert_msg(strstr(r.body, ".hidden") == NULL, "the dotfile is listed");
	resp_free(&r);
	fetch_listing("/list/", "Accept: application/json\r\n", &r);
	ck_assert_msg(strstr(r.body, ".hidden") == NULL, "the dotfile is in the JSON listing");
	resp_free(&r);
}
END_TEST

START_TEST(listing_parent_link_except_at_root)
{
	struct response r;
	fetch_listing("/list/", NULL, &r);
	ck_assert_msg(strstr(r.body, "href=\"../\"") != NULL, "no ../ link in /list/");
	resp_free(&r);
	fetch_listing("/", NULL, &r);
	ck_assert_msg(strstr(r.body, "href=\"../\"") == NULL, "../ link at the root");
	ck_assert_msg(strstr(r.body, "href=\"./list/\"") && strstr(r.body, "href=\"./top.txt\""),
	              "root listing lacks its entries");
	resp_free(&r);
}
END_TEST

static void
html_unescape(char *s)
{
	static const struct {
		const char *ent;
		char ch;
	} ents[] = {{"&amp;", '&'}, {"&lt;", '<'}, {"&gt;", '>'}, {"&quot;", '"'}, {"&#39;", '\''}};
	char *w = s;
	for (const char *p = s; *p;) {
		size_t i = 0;
		for (; i < sizeof ents / sizeof ents[0]; i++)
			if (strncmp(p, ents[i].ent, strlen(ents[i].ent)) == 0)
				break;
		if (i < sizeof ents / sizeof ents[0]) {
			*w++ = ents[i].ch;
			p += strlen(ents[i].ent);
		} else {
			*w++ = *p++;
		}
	}
	*w = '\0';
}

static void
pct_decode(const char *s, char *out, size_t cap)
{
	size_t w = 0;
	for (; *s && w + 1 < cap; s++) {
		unsigned v;
		if (s[0] == '%' && sscanf(s + 1, "%2x", &v) == 1) {
			out[w++] = (char)v;
			s += 2;
		} else {
			out[w++] = *s;
		}
	}
	out[w] = '\0';
}

/* Every link on the page, followed as a browser would, opens its entry. */
START_TEST(listing_every_link_opens_its_file)
{
	struct response page;
	fetch_listing("/list/", NULL, &page);
	size_t entries = 0;
	for (const char *p = page.body; (p = strstr(p, "href=\"")) != NULL;) {
		p += 6;
		const char *q = strchr(p, '"');
		ck_assert(q != NULL && (size_t)(q - p) < 512);
		char href[512], target[600];
		memcpy(href, p, (size_t)(q - p));
		href[q - p] = '\0';
		p = q + 1;
		html_unescape(href);
		struct response r;
		if (strcmp(href, "../") == 0) {
			fetch("GET", "/list/../", NULL, &r);
			ck_assert_msg(r.status == 200, "../ gave %d", r.status);
			resp_free(&r);
			continue;
		}
		ck_assert_msg(strncmp(href, "./", 2) == 0, "unexpected link '%s'", href);
		snprintf(target, sizeof target, "/list/%s", href + 2);
		fetch("GET", target, NULL, &r);
		ck_assert_msg(r.status == 200, "link %s (GET %s) gave %d", href, target, r.status);
		size_t n = strlen(href);
		if (href[n - 1] == '/') {
			assert_header(&r, "Content-Type", "text/html; charset=utf-8");
		} else {
			char name[512], want[600];
			pct_decode(href + 2, name, sizeof name);
			listed_content(name, want, sizeof want);
			ck_assert_msg(strcmp(r.body, want) == 0, "GET %s: body '%s', want '%s'",
			              target, r.body, want);
		}
		resp_free(&r);
		entries++;
	}
	ck_assert_uint_eq(entries, NLISTED + 1);
	resp_free(&page);
}
END_TEST

/* Is there a member "key": value (whitespace allowed around the colon)? */
static const char *
json_member(const char *body, const char *key, const char *value)
{
	char k[128];
	snprintf(k, sizeof k, "\"%s\"", key);
	for (const char *p = body; (p = strstr(p, k)) != NULL;) {
		p += strlen(k);
		const char *v = p + strspn(p, " \t\r\n");
		if (*v != ':')
			continue;
		v++;
		v += strspn(v, " \t\r\n");
		if (strncmp(v, value, strlen(value)) == 0)
			return v;
	}
	return NULL;
}

START_TEST(listing_json)
{
	struct response r;
	fetch_listing("/list/", "Accept: application/json\r\n", &r);
	const char *ct = header(&r, "Content-Type");
	ck_assert_msg(ct && strncmp(ct, "application/json", 16) == 0, "Content-Type '%s'", ct);
	const char *b = r.body + strspn(r.body, " \t\r\n");
	size_t n = strlen(b);
	while (n > 0 && strchr(" \t\r\n", b[n - 1]))
		n--;
	ck_assert_msg(n >= 2 && b[0] == '[' && b[n - 1] == ']', "not a JSON array: %.200s", b);
	for (size_t i = 0; i < NLISTED; i++)
		ck_assert_msg(
		    json_member(b, "name", listed[i].json) ||
		        (listed[i].json_alt && json_member(b, "name", listed[i].json_alt)),
		    "JSON listing lacks \"name\": %s", listed[i].json);
	const char *sub = json_member(b, "name", "\"sub\"");
	ck_assert_msg(sub != NULL, "JSON listing lacks sub");
	const char *end = strchr(sub, '}');
	const char *type = json_member(sub, "type", "\"directory\"");
	ck_assert_msg(type && end && type < end, "sub is not \"type\": \"directory\"");
	const char *file = json_member(b, "name", "\"a#b.txt\"");
	end = file ? strchr(file, '}') : NULL;
	type = file ? json_member(file, "type", "\"file\"") : NULL;
	ck_assert_msg(type && end && type < end, "a#b.txt is not \"type\": \"file\"");
	resp_free(&r);
}
END_TEST

/* ---- precompressed sidecars -------------------------------------------- */

#define X_PLAIN "plain text of x, not compressed\n"
#define X_GZ "\x1f\x8b pretend gzip of x.txt"
#define Y_PLAIN "plain text of y\n"
#define Y_GZ "\x1f\x8b pretend gzip of y.txt"
#define Y_BR "pretend brotli of y.txt"
#define S_PLAIN "plain text of s\n"
#define S_GZ "\x1f\x8b stale gzip of s.txt"

static void
put_sidecars(void)
{
	put_text("x.txt", X_PLAIN);
	set_mtime("x.txt", T0, 0);
	put_text("x.txt.gz", X_GZ);
	set_mtime("x.txt.gz", T0 + 10, 0);
	put_text("y.txt", Y_PLAIN);
	set_mtime("y.txt", T0, 0);
	put_text("y.txt.gz", Y_GZ);
	set_mtime("y.txt.gz", T0, 0); /* as new as y.txt: fresh */
	put_text("y.txt.br", Y_BR);
	set_mtime("y.txt.br", T0, 0);
	put_text("s.txt", S_PLAIN);
	set_mtime("s.txt", T0, 0);
	put_text("s.txt.gz", S_GZ);
	set_mtime("s.txt.gz", T0 - 10, 0);
	put_text("n.txt", S_PLAIN);
	set_mtime("n.txt", T0, 500);
	put_text("n.txt.gz", S_GZ);
	set_mtime("n.txt.gz", T0, 400); /* older by 100 ns: stale too */
}

static void
setup_precompressed(void)
{
	make_base();
	put_sidecars();
	server_start(NULL);
}

static void
setup_no_precompressed(void)
{
	make_base();
	put_sidecars();
	static const char *const flags[] = {"--no-precompressed", NULL};
	server_start(flags);
}

static void
check_identity(const struct response *r, const char *body, const char *what)
{
	ck_assert_msg(r->status == 200, "%s: status %d", what, r->status);
	ck_assert_msg(header(r, "Content-Encoding") == NULL, "%s: Content-Encoding %s", what,
	              header(r, "Content-Encoding"));
	ck_assert_msg(strcmp(r->body, body) == 0, "%s: body '%s'", what, r->body);
	const char *v = header(r, "Content-Type");
	ck_assert_msg(v && strcmp(v, "text/plain; charset=utf-8") == 0, "%s: Content-Type '%s'",
	              what, v);
}

START_TEST(precompressed_gzip_served)
{
	struct response r;
	char etag_x[96], etag_gz[96], clen[32];
	expected_etag("x.txt", etag_x, sizeof etag_x);
	expected_etag("x.txt.gz", etag_gz, sizeof etag_gz);
	fetch("GET", "/x.txt", "Accept-Encoding: gzip\r\n", &r);
	assert_status(&r, 200);
	assert_header(&r, "Content-Encoding", "gzip");
	assert_header(&r, "Content-Type", "text/plain; charset=utf-8");
	snprintf(clen, sizeof clen, "%zu", strlen(X_GZ));
	assert_header(&r, "Content-Length", clen);
	assert_text_body(&r, X_GZ);
	assert_header(&r, "Vary", "Accept-Encoding");
	const char *etag = header(&r, "ETag");
	ck_assert_msg(etag && strcmp(etag, etag_x) != 0, "gzip variant has x.txt's ETag %s",
	              etag_x);
	assert_header(&r, "ETag", etag_gz);
	resp_free(&r);
}
END_TEST

static const char *const refused_gzip[] = {"gzip;q=0", "gzip; q=0.000", "gzip;q=0, identity"};

START_TEST(precompressed_q0_means_no)
{
	struct response r;
	char h[128];
	snprintf(h, sizeof h, "Accept-Encoding: %s\r\n", refused_gzip[_i]);
	fetch("GET", "/x.txt", h, &r);
	check_identity(&r, X_PLAIN, refused_gzip[_i]);
	assert_header(&r, "Vary", "Accept-Encoding");
	resp_free(&r);
}
END_TEST

START_TEST(precompressed_identity_without_accept_encoding_still_varies)
{
	struct response r;
	char etag[96];
	expected_etag("x.txt", etag, sizeof etag);
	fetch("GET", "/x.txt", NULL, &r);
	check_identity(&r, X_PLAIN, "no Accept-Encoding");
	assert_header(&r, "Vary", "Accept-Encoding");
	assert_header(&r, "ETag", etag);
	resp_free(&r);
}
END_TEST

START_TEST(precompressed_br_preferred_on_equal_q)
{
	struct response r;
	fetch("GET", "/y.txt", "Accept-Encoding: gzip, br\r\n", &r);
	assert_status(&r, 200);
	assert_header(&r, "Content-Encoding", "br");
	assert_text_body(&r, Y_BR);
	resp_free(&r);
	/* A higher q-value wins over the tie order. */
	fetch("GET", "/y.txt", "Accept-Encoding: br;q=0.5, gzip\r\n", &r);
	assert_status(&r, 200);
	assert_header(&r, "Content-Encoding", "gzip");
	assert_text_body(&r, Y_GZ);
	resp_free(&r);
}
END_TEST

START_TEST(precompressed_stale_never_served)
{
	struct response r;
	fetch("GET", "/s.txt", "Accept-Encoding: gzip\r\n", &r);
	check_identity(&r, S_PLAIN, "sidecar 10 s older");
	resp_free(&r);
	fetch("GET", "/n.txt", "Accept-Encoding: gzip\r\n", &r);
	check_identity(&r, S_PLAIN, "sidecar 100 ns older");
	resp_free(&r);
}
END_TEST

START_TEST(no_precompressed_never_served_no_vary)
{
	struct response r;
	fetch("GET", "/x.txt", "Accept-Encoding: gzip, br\r\n", &r);
	check_identity(&r, X_PLAIN, "--no-precompressed");
	assert_no_header(&r, "Vary");
	resp_free(&r);
}
END_TEST

/* ---- command line ------------------------------------------------------- */

static const char *const bad_header_flags[] = {
    "NoColonHere", "X: a\rb", "Content-Length: 1",          "X: a\nb",
    "Bad Name: v", ": v",     "Transfer-Encoding: chunked",
};

static size_t
read_small_file(const char *path, char *buf, size_t cap)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ck_assert_msg(fd >= 0, "open %s: %s", path, strerror(errno));
	ssize_t n = read(fd, buf, cap - 1);
	close(fd);
	ck_assert(n >= 0);
	buf[n] = '\0';
	return (size_t)n;
}

START_TEST(cli_invalid_header_exit_2)
{
	char dir[] = "/tmp/shs-semantics-cli-XXXXXX", out[128], err[128];
	ck_assert(mkdtemp(dir) != NULL);
	snprintf(out, sizeof out, "%s/stdout", dir);
	snprintf(err, sizeof err, "%s/stderr", dir);
	const char *bin = getenv("SHS_BIN");
	if (!bin || !*bin)
		bin = "./simple-http-server";
	fflush(NULL);
	pid_t pid = fork();
	ck_assert(pid >= 0);
	if (pid == 0) {
		int o = open(out, O_WRONLY | O_CREAT | O_TRUNC, 0644);
		int e = open(err, O_WRONLY | O_CREAT | O_TRUNC, 0644);
		if (o < 0 || e < 0 || dup2(o, 1) < 0 || dup2(e, 2) < 0)
			_exit(127);
		execl(bin, bin, "--top-dir", dir, "--port", "0", "--header", bad_header_flags[_i],
		      (char *)NULL);
		_exit(127);
	}
	int status = 0;
	pid_t w = 0;
	for (int i = 0; i < 500 && w == 0; i++) {
		w = waitpid(pid, &status, WNOHANG);
		if (w == 0)
			msleep(10);
	}
	if (w == 0) {
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
	}
	char obuf[1024], ebuf[1024];
	size_t on = read_small_file(out, obuf, sizeof obuf);
	size_t en = read_small_file(err, ebuf, sizeof ebuf);
	remove_tree(dir);
	ck_assert_msg(w == pid, "--header '%s' was accepted: the server kept running",
	              bad_header_flags[_i]);
	ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 2,
	              "--header '%s': wait status %d, want exit 2", bad_header_flags[_i], status);
	ck_assert_msg(on == 0, "stdout not empty: %s", obuf);
	/* One line: a newline only at the end, and no CR that would make the
	 * terminal show the message as two overwritten lines. */
	char *nl = strchr(ebuf, '\n');
	ck_assert_msg(en > 1 && nl == ebuf + en - 1 && strchr(ebuf, '\r') == NULL,
	              "stderr is not one line: '%s'", ebuf);
}
END_TEST

/* ---- the suite --------------------------------------------------------- */

static TCase *
server_tcase(Suite *s, const char *name, void (*setup)(void))
{
	TCase *tc = tcase_create(name);
	tcase_add_unchecked_fixture(tc, setup, server_stop);
	tcase_set_timeout(tc, 30);
	suite_add_tcase(s, tc);
	return tc;
}

#define COUNT(a) ((int)(sizeof(a) / sizeof((a)[0])))

Suite *
semantics_suite(void)
{
	Suite *s = suite_create("semantics");

	TCase *tc = server_tcase(s, "validators", setup_validators);
	tcase_add_test(tc, etag_strong_quoted_from_inode_size_mtime_ns);
	tcase_add_test(tc, etag_changes_on_same_size_rewrite_within_a_second);
	tcase_add_test(tc, last_modified_is_imf_fixdate_of_mtime);
	tcase_add_test(tc, if_none_match_exact_304);
	tcase_add_test(tc, if_none_match_weak_comparison_304);
	tcase_add_test(tc, if_none_match_list_304);
	tcase_add_test(tc, if_none_match_star_304);
	tcase_add_test(tc, if_none_match_other_200);
	tcase_add_test(tc, if_none_match_takes_precedence_over_if_modified_since);
	tcase_add_test(tc, if_none_match_head_304);
	tcase_add_test(tc, if_modified_since_equal_304);
	tcase_add_test(tc, if_modified_since_one_second_earlier_200);
	tcase_add_test(tc, if_modified_since_rfc850_304);
	tcase_add_test(tc, if_modified_since_asctime_304);
	tcase_add_loop_test(tc, if_modified_since_garbage_ignored_200, 0, COUNT(bad_dates));
	tcase_add_test(tc, if_match_other_412);
	tcase_add_test(tc, if_match_weak_tag_412);
	tcase_add_test(tc, if_match_current_200);
	tcase_add_test(tc, if_unmodified_since_earlier_412);
	tcase_add_test(tc, if_unmodified_since_equal_200);
	tcase_add_loop_test(tc, if_unmodified_since_garbage_ignored_200, 0, COUNT(bad_dates));

	tc = server_tcase(s, "ranges", setup_ranges);
	tcase_add_test(tc, range_accept_ranges_bytes);
	tcase_add_test(tc, range_first_bytes_206);
	tcase_add_test(tc, range_open_ended_206);
	tcase_add_test(tc, range_suffix_206);
	tcase_add_test(tc, range_end_past_eof_clamped);
	tcase_add_loop_test(tc, range_unsatisfiable_416, 0, COUNT(unsatisfiable));
	tcase_add_loop_test(tc, range_malformed_or_unknown_unit_ignored_200, 0,
	                    COUNT(malformed_ranges));
	tcase_add_test(tc, range_on_head_ignored_200);
	tcase_add_loop_test(tc, range_zero_length_file_200_empty, 0, COUNT(empty_ranges));
	tcase_add_test(tc, range_two_ranges_multipart_byteranges);
	tcase_add_test(tc, range_multipart_parts_sorted);
	tcase_add_loop_test(tc, range_overlapping_merged_into_one_206, 0, COUNT(merged_ranges));
	tcase_add_test(tc, range_more_than_16_ranges_200);
	tcase_add_test(tc, range_16_ranges_still_multipart);
	tcase_add_test(tc, if_range_current_etag_206);
	tcase_add_test(tc, if_range_old_etag_200_full);
	tcase_add_test(tc, if_range_exact_last_modified_206);
	tcase_add_test(tc, if_range_other_date_200_full);
	tcase_add_test(tc, range_beyond_4gib);
	tcase_add_test(tc, head_5gib_content_length);

	tc = server_tcase(s, "methods", setup_methods);
	tcase_add_test(tc, options_path_204_allow);
	tcase_add_test(tc, options_star_204_allow);
	tcase_add_test(tc, post_405_allow);
	tcase_add_test(tc, unknown_method_501);
	tcase_add_test(tc, http11_without_host_400);
	tcase_add_test(tc, http10_without_host_200);
	tcase_add_test(tc, two_host_headers_400);
	tcase_add_test(tc, absolute_form_target_200);
	tcase_add_test(tc, bare_lf_request_200);
	tcase_add_test(tc, obs_fold_400);
	tcase_add_test(tc, nul_in_header_value_400);
	tcase_add_test(tc, lone_cr_in_header_value_400);
	tcase_add_test(tc, space_before_colon_400);
	tcase_add_test(tc, expect_100_continue_final_answer_then_close);
	tcase_add_test(tc, listing_off_by_default_404);
	tcase_add_loop_test(tc, redirect_never_protocol_relative, 0, COUNT(evil_targets));
	tcase_add_test(tc, redirect_backslash_stays_encoded);
	tcase_add_test(tc, redirect_location_has_no_cr_lf);

	tc = server_tcase(s, "headers", setup_headers);
	tcase_add_test(tc, extra_header_on_every_response);
	tcase_add_test(tc, cache_control_on_200_206_304);

	tc = server_tcase(s, "cors", setup_cors);
	tcase_add_test(tc, cors_allow_origin_on_every_response);
	tcase_add_test(tc, cors_preflight_204);
	tcase_add_test(tc, cors_plain_options_is_not_a_preflight);

	tc = server_tcase(s, "listing", setup_listing);
	tcase_add_test(tc, listing_html_page);
	tcase_add_test(tc, listing_names_html_escaped);
	tcase_add_test(tc, listing_hrefs_percent_encoded);
	tcase_add_test(tc, listing_directories_first_then_byte_order);
	tcase_add_test(tc, listing_hides_dotfiles);
	tcase_add_test(tc, listing_parent_link_except_at_root);
	tcase_add_test(tc, listing_every_link_opens_its_file);
	tcase_add_test(tc, listing_json);

	tc = server_tcase(s, "precompressed", setup_precompressed);
	tcase_add_test(tc, precompressed_gzip_served);
	tcase_add_loop_test(tc, precompressed_q0_means_no, 0, COUNT(refused_gzip));
	tcase_add_test(tc, precompressed_identity_without_accept_encoding_still_varies);
	tcase_add_test(tc, precompressed_br_preferred_on_equal_q);
	tcase_add_test(tc, precompressed_stale_never_served);

	tc = server_tcase(s, "no_precompressed", setup_no_precompressed);
	tcase_add_test(tc, no_precompressed_never_served_no_vary);

	tc = tcase_create("cli");
	tcase_set_timeout(tc, 30);
	tcase_add_loop_test(tc, cli_invalid_header_exit_2, 0, COUNT(bad_header_flags));
	suite_add_tcase(s, tc);

	return s;
}
