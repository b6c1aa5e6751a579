/* check_conformance.c - request handling against RFC 9110/9112 over real
 * sockets: HEAD on error answers, Connection options, Host syntax, request
 * bodies (chunked limits, bad chunks, transfer codings) and the --cors
 * preflight echo. The pure parser side of these is in check_http.c.
 *
 * Each TCase starts one server in an unchecked fixture (see check_server.c
 * for why); the forked tests share it. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>

#include "harness.h"
#include "suites.h"

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))
#define SERVER_HEADER "simple-http-server/0.1.0"
#define HTML "text/html; charset=utf-8"
#define FILE_TXT "hello, file\n"

/* The limit the README gives for discarded request bodies. */
#define BODY_MAX (64 * 1024)

static struct {
	char *base;
	char root[PATH_MAX];
	char log[PATH_MAX]; /* the server's stderr: the error log */
	struct h_server srv;
} fx = {.srv = {.pid = -1, .out_fd = -1}};

static void
fixture_start(const char *const *extra)
{
	fx.base = h_mkdtemp();
	snprintf(fx.root, sizeof fx.root, "%s/root", fx.base);
	snprintf(fx.log, sizeof fx.log, "%s/server.log", fx.base);
	h_mkdir(fx.base, "root");
	h_write_str(fx.root, "file.txt", FILE_TXT);
	char err[512];
	if (h_server_start(&fx.srv, fx.root, fx.log, extra, err, sizeof err) != 0)
		ck_abort_msg("starting the server: %s", err);
}

static void
setup_plain(void)
{
	fixture_start(NULL);
}

static void
setup_cors(void)
{
	static const char *const flags[] = {"--cors", NULL};
	fixture_start(flags);
}

static void
fixture_stop(void)
{
	if (fx.srv.pid > 0) {
		int status = h_server_stop(&fx.srv, 10000);
		if (status == -1 || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
			char what[64];
			fprintf(stderr, "\ncheck_conformance: server gave %s after SIGTERM\n",
			        h_describe_status(status, what, sizeof what));
			h_teardown_failed("conformance");
		}
	}
	if (fx.base) {
		h_rmtree(fx.base);
		free(fx.base);
		fx.base = NULL;
	}
}

/* Sends req on a new connection and reads one response (head only if
 * no_body). */
static void
request(struct h_conn *c, struct h_resp *r, const char *req, size_t len, int no_body)
{
	h_conn_open(c, fx.srv.port);
	/* The server may close before it has read everything it refuses. */
	(void)h_send_all(c->fd, req, len ? len : strlen(req));
	int rc = h_read_response(c, r, no_body);
	H_ASSERT_RC(rc, r);
}

static void
expect_file(struct h_resp *r)
{
	H_ASSERT_STATUS(r, "HTTP/1.1 200 OK");
	H_ASSERT_BODY(r, FILE_TXT, sizeof FILE_TXT - 1);
}

/* ---- RFC 9110 9.3.2: HEAD never gets a body, errors included ---------- */

static char long_target[9300];
static char big_header[9300];
static char many_headers[4096];

static const char *
make_long(char *buf, size_t cap, const char *start, char fill, size_t n, const char *end)
{
	size_t k = (size_t)snprintf(buf, cap, "%s", start);
	ck_assert(k + n + strlen(end) < cap);
	memset(buf + k, fill, n);
	snprintf(buf + k + n, cap - k - n, "%s", end);
	return buf;
}

static const struct head_error {
	const char *name;
	const char *rest; /* after "METHOD "; NULL: built by the test (long heads) */
	const char *status_line;
} head_errors[] = {
    {"two Hosts", "/file.txt HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", "HTTP/1.1 400 Bad Request"},
    {"bad Host", "/file.txt HTTP/1.1\r\nHost: a b\r\n\r\n", "HTTP/1.1 400 Bad Request"},
    {"missing Host", "/file.txt HTTP/1.1\r\n\r\n", "HTTP/1.1 400 Bad Request"},
    {"bad target byte", "/a\x01 HTTP/1.1\r\nHost: a\r\n\r\n", "HTTP/1.1 400 Bad Request"},
    {"bad version", "/file.txt HTTP/1.1x\r\nHost: a\r\n\r\n", "HTTP/1.1 400 Bad Request"},
    {"obs-fold", "/file.txt HTTP/1.1\r\nHost: a\r\nX: b\r\n c\r\n\r\n", "HTTP/1.1 400 Bad Request"},
    {"bad Content-Length", "/file.txt HTTP/1.1\r\nHost: a\r\nContent-Length: x\r\n\r\n",
     "HTTP/1.1 400 Bad Request"},
    {"TE not chunked", "/file.txt HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip\r\n\r\n",
     "HTTP/1.1 400 Bad Request"},
    {"bad chunk", "/file.txt HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n\r\n",
     "HTTP/1.1 400 Bad Request"},
    {"HTTP/2.0", "/file.txt HTTP/2.0\r\nHost: a\r\n\r\n",
     "HTTP/1.1 505 HTTP Version Not Supported"},
    {"gzip, chunked",
     "/file.txt HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n",
     "HTTP/1.1 501 Not Implemented"},
    {"long target", NULL, "HTTP/1.1 414 URI Too Long"},
    {"big header", NULL, "HTTP/1.1 431 Request Header Fields Too Large"},
    {"101 fields", NULL, "HTTP/1.1 431 Request Header Fields Too Large"},
};

static size_t
build_head_error(char *dst, size_t cap, const struct head_error *e, const char *method)
{
	const char *rest = e->rest;
	if (!rest && strcmp(e->name, "long target") == 0)
		rest = make_long(long_target, sizeof long_target, "/", 'a', 9000,
		                 " HTTP/1.1\r\nHost: a\r\n\r\n");
	if (!rest && strcmp(e->name, "big header") == 0)
		rest = make_long(big_header, sizeof big_header,
		                 "/file.txt HTTP/1.1\r\nHost: a\r\nX: ", 'b', 9000, "\r\n\r\n");
	if (!rest) {
		size_t n = (size_t)snprintf(many_headers, sizeof many_headers,
		                            "/file.txt HTTP/1.1\r\nHost: a\r\n");
		for (int i = 0; i < 100; i++)
			n += (size_t)snprintf(many_headers + n, sizeof many_headers - n,
			                      "X-H%d: v\r\n", i);
		snprintf(many_headers + n, sizeof many_headers - n, "\r\n");
		rest = many_headers;
	}
	int n = snprintf(dst, cap, "%s %s", method, rest);
	ck_assert(n > 0 && (size_t)n < cap);
	return (size_t)n;
}

START_TEST(head_error_has_no_body)
{
	const struct head_error *e = &head_errors[_i];
	static char req[10000];
	struct h_conn c;
	struct h_resp r;

	/* GET: the would-be body and its length */
	size_t n = build_head_error(req, sizeof req, e, "GET");
	request(&c, &r, req, n, 0);
	H_ASSERT_STATUS(&r, e->status_line);
	char get_cl[32];
	snprintf(get_cl, sizeof get_cl, "%zu", r.body_len);
	ck_assert_msg(r.body_len > 0, "%s: GET error without a body", e->name);
	h_resp_free(&r);
	h_conn_close(&c);

	/* HEAD: the same head, exactly these fields, no body, then close */
	n = build_head_error(req, sizeof req, e, "HEAD");
	request(&c, &r, req, n, 1);
	H_ASSERT_STATUS(&r, e->status_line);
	static const char *const names[] = {"Server", "Date", "Content-Type", "Content-Length",
	                                    "Connection"};
	ck_assert_msg(r.nhdr == NELEM(names), "%s: %zu header fields", e->name, r.nhdr);
	for (size_t i = 0; i < NELEM(names); i++)
		ck_assert_msg(strcmp(r.hdr[i].name, names[i]) == 0, "%s: field %zu is %s, want %s",
		              e->name, i, r.hdr[i].name, names[i]);
	H_ASSERT_HEADER(&r, "Server", SERVER_HEADER);
	long long t;
	ck_assert_msg(h_imf_date(h_header(&r, "Date"), &t), "Date '%s'", h_header(&r, "Date"));
	H_ASSERT_HEADER(&r, "Content-Type", HTML);
	H_ASSERT_HEADER(&r, "Content-Length", get_cl);
	H_ASSERT_HEADER(&r, "Connection", "close");
	h_resp_free(&r);
	H_ASSERT_CLOSED(&c); /* and not one body byte before the close */
	h_conn_close(&c);
}
END_TEST

/* ---- RFC 9112 9.6: close wins over keep-alive --------------------------- */

static const char *const close_wins[] = {
    "GET /file.txt HTTP/1.0\r\nConnection: keep-alive, close\r\n\r\n",
    "GET /file.txt HTTP/1.0\r\nConnection: close, keep-alive\r\n\r\n",
    "GET /file.txt HTTP/1.0\r\nConnection: keep-alive\r\nConnection: close\r\n\r\n",
    "GET /file.txt HTTP/1.0\r\nConnection: close\r\nConnection: keep-alive\r\n\r\n",
    "GET /file.txt HTTP/1.0\r\nConnection: Keep-Alive,Close\r\n\r\n",
    "GET /file.txt HTTP/1.1\r\nHost: a\r\nConnection: keep-alive, close\r\n\r\n",
    "GET /file.txt HTTP/1.1\r\nHost: a\r\nConnection: keep-alive\r\nConnection: close\r\n\r\n",
};

START_TEST(connection_close_wins)
{
	struct h_conn c;
	struct h_resp r;
	request(&c, &r, close_wins[_i], 0, 0);
	expect_file(&r);
	H_ASSERT_HEADER(&r, "Connection", "close");
	h_resp_free(&r);
	H_ASSERT_CLOSED(&c);
	h_conn_close(&c);
}
END_TEST

/* ---- RFC 9112 3.2: Host = uri-host [ ":" port ] -------------------------- */

static const struct {
	const char *host;
	int ok;
} hosts[] = {
    {"a b", 0},          {"a/b", 0},          {"a@b", 0},  {"local\thost", 0}, {"::1", 0},
    {"localhost:-1", 0}, {"host:99999", 0},   {"[::1", 0}, {"localhost", 1},   {"host:", 1},
    {"[::1]:8080", 1},   {"127.0.0.1:80", 1}, {"", 1}, /* empty Host: served as before */
};

START_TEST(host_syntax)
{
	char req[256];
	snprintf(req, sizeof req, "GET /file.txt HTTP/1.1\r\nHost: %s\r\n\r\n", hosts[_i].host);
	struct h_conn c;
	struct h_resp r;
	request(&c, &r, req, 0, 0);
	if (hosts[_i].ok) {
		expect_file(&r);
		H_ASSERT_NO_HEADER(&r, "Connection");
	} else {
		ck_assert_msg(strcmp(r.status_line, "HTTP/1.1 400 Bad Request") == 0,
		              "Host '%s': %s", hosts[_i].host, r.status_line);
		H_ASSERT_HEADER(&r, "Connection", "close");
		h_resp_free(&r);
		H_ASSERT_CLOSED(&c);
		h_conn_close(&c);
		return;
	}
	h_resp_free(&r);
	h_conn_close(&c);
}
END_TEST

/* ---- request bodies: chunked limit, bad chunks, codings ---------------- */

#define CHUNKED_GET "GET /file.txt HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n"

/* GET with a chunked body of exactly `raw` bytes (one chunk, framing
 * included), then a pipelined GET. raw >= 16. Returns the length. */
static size_t
chunked_then_get(char *dst, size_t cap, size_t raw)
{
	size_t n = (size_t)snprintf(dst, cap, CHUNKED_GET);
	/* "XXXX\r\n" + data + "\r\n" + "0\r\n\r\n" */
	size_t data = raw - 13;
	ck_assert(data >= 0x1000 && data <= 0xffff);
	n += (size_t)snprintf(dst + n, cap - n, "%zx\r\n", data);
	ck_assert(n + data + 7 < cap);
	memset(dst + n, 'x', data);
	n += data;
	n += (size_t)snprintf(dst + n, cap - n,
	                      "\r\n0\r\n\r\nGET /file.txt HTTP/1.1\r\nHost: a\r\n\r\n");
	return n;
}

/* A body of exactly the limit is skipped and the connection kept. */
START_TEST(chunked_body_at_limit_kept)
{
	static char req[BODY_MAX + 512];
	size_t n = chunked_then_get(req, sizeof req, BODY_MAX);
	struct h_conn c;
	struct h_resp r;
	h_conn_open(&c, fx.srv.port);
	h_conn_send_buf(&c, req, n);
	int rc = h_read_response(&c, &r, 0);
	H_ASSERT_RC(rc, &r);
	expect_file(&r);
	H_ASSERT_NO_HEADER(&r, "Connection");
	h_resp_free(&r);
	rc = h_read_response(&c, &r, 0);
	H_ASSERT_RC(rc, &r);
	expect_file(&r);
	h_resp_free(&r);
	h_conn_close(&c);
}
END_TEST

/* One byte more: answered, then closed; the pipelined request is not. */
START_TEST(chunked_body_over_limit_closes)
{
	static char req[BODY_MAX + 512];
	size_t n = chunked_then_get(req, sizeof req, BODY_MAX + 1);
	struct h_conn c;
	struct h_resp r;
	h_conn_open(&c, fx.srv.port);
	(void)h_send_all(c.fd, req, n);
	int rc = h_read_response(&c, &r, 0);
	H_ASSERT_RC(rc, &r);
	expect_file(&r);
	h_resp_free(&r);
	H_ASSERT_CLOSED(&c);
	h_conn_close(&c);
}
END_TEST

/* A client streaming an endless chunk: the server answers, reads at most the
 * limit plus the lingering cap, and closes. We stop sending long before the
 * server would be done otherwise, and never wait on it to read more. */
START_TEST(chunked_body_endless_stream_closed)
{
	struct h_conn c;
	struct h_resp r;
	h_conn_open(&c, fx.srv.port);
	int sndbuf = 16 * 1024;
	ck_assert(setsockopt(c.fd, SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof sndbuf) == 0);
	h_conn_send(&c, CHUNKED_GET "40000000\r\n"); /* one 1 GiB chunk */
	int rc = h_read_response(&c, &r, 0);
	H_ASSERT_RC(rc, &r);
	expect_file(&r);
	h_resp_free(&r);

	static char data[16 * 1024];
	memset(data, 'z', sizeof data);
	size_t sent = 0;
	const size_t cap = (size_t)64 * 1024 * 1024;
	while (sent < cap && h_send_all(c.fd, data, sizeof data) == 0)
		sent += sizeof data;
	ck_assert_msg(sent < cap, "the server took %zu bytes of an endless body", sent);
	/* What it read is bounded by the limit, the linger cap and socket
	 * buffers (a few MiB on loopback at most). */
	ck_assert_msg(sent < (size_t)16 * 1024 * 1024, "%zu bytes went in before the close", sent);
	h_conn_close(&c);
}
END_TEST

/* A malformed chunk already in the server's hands: 400 before any 200. */
static const char *const bad_chunks[] = {
    CHUNKED_GET "zz\r\nhello\r\n0\r\n\r\n",
    CHUNKED_GET "5\r\nhelloX\r\n0\r\n\r\n",
    CHUNKED_GET "-1\r\n\r\n",
    CHUNKED_GET "5\rXhello\r\n0\r\n\r\n",
    CHUNKED_GET "3\r\nabc\r\n0\r\n\rX",
};

START_TEST(chunked_bad_chunk_400)
{
	struct h_conn c;
	struct h_resp r;
	request(&c, &r, bad_chunks[_i], 0, 0);
	H_ASSERT_STATUS(&r, "HTTP/1.1 400 Bad Request");
	H_ASSERT_HEADER(&r, "Connection", "close");
	h_resp_free(&r);
	H_ASSERT_CLOSED(&c);
	h_conn_close(&c);
}
END_TEST

/* A malformed chunk that arrives after the answer can only close. */
START_TEST(chunked_bad_chunk_later_closes)
{
	struct h_conn c;
	struct h_resp r;
	request(&c, &r, CHUNKED_GET "5\r\nhel", 0, 0);
	expect_file(&r);
	h_resp_free(&r);
	(void)h_send_all(c.fd, "loX\r\n0\r\n\r\nGET /file.txt HTTP/1.1\r\nHost: a\r\n\r\n", 44);
	H_ASSERT_CLOSED(&c);
	h_conn_close(&c);
}
END_TEST

static const struct {
	const char *te;
	const char *status_line;
} codings[] = {
    {"gzip, chunked", "HTTP/1.1 501 Not Implemented"},
    {"deflate,chunked", "HTTP/1.1 501 Not Implemented"},
    {"chunked, gzip", "HTTP/1.1 400 Bad Request"},
    {"gzip", "HTTP/1.1 400 Bad Request"},
    {"chunked, chunked", "HTTP/1.1 400 Bad Request"},
};

START_TEST(transfer_codings)
{
	char req[256];
	snprintf(req, sizeof req,
	         "GET /file.txt HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: %s\r\n\r\n0\r\n\r\n",
	         codings[_i].te);
	struct h_conn c;
	struct h_resp r;
	request(&c, &r, req, 0, 0);
	ck_assert_msg(strcmp(r.status_line, codings[_i].status_line) == 0, "%s: %s", codings[_i].te,
	              r.status_line);
	H_ASSERT_HEADER(&r, "Connection", "close");
	h_resp_free(&r);
	H_ASSERT_CLOSED(&c);
	h_conn_close(&c);
}
END_TEST

/* ---- --cors: only validated tokens are echoed --------------------------- */

static void
preflight(struct h_resp *r, const char *fields)
{
	char req[8192];
	int n = snprintf(
	    req, sizeof req,
	    "OPTIONS /file.txt HTTP/1.1\r\nHost: a\r\nOrigin: http://o.example\r\n%s\r\n", fields);
	ck_assert(n > 0 && (size_t)n < sizeof req);
	struct h_conn c;
	request(&c, r, req, 0, 1); /* a 204 has no body, a 400's is not read */
	h_conn_close(&c);
}

static const struct {
	const char *fields;
	const char *allow_headers; /* NULL: none */
	int preflight;             /* Access-Control-Allow-Methods expected */
} cors_cases[] = {
    {"Access-Control-Request-Method: PUT\r\nAccess-Control-Request-Headers: X-Foo\r\n", "X-Foo", 1},
    {"Access-Control-Request-Method: PUT\r\n"
     "Access-Control-Request-Headers:  x-foo ,content-type,,\tX-Bar \r\n",
     "x-foo, content-type, X-Bar", 1},
    {"Access-Control-Request-Method: PUT\r\nAccess-Control-Request-Headers: X-Foo, <b>\r\n", NULL,
     1},
    {"Access-Control-Request-Method: PUT\r\nAccess-Control-Request-Headers: X-Foo Bar\r\n", NULL,
     1},
    {"Access-Control-Request-Method: PUT\r\nAccess-Control-Request-Headers: X-\xc3\xa9\r\n", NULL,
     1},
    {"Access-Control-Request-Method: PUT\r\nAccess-Control-Request-Headers: a:b\r\n", NULL, 1},
    {"Access-Control-Request-Method: PUT\r\nAccess-Control-Request-Headers: \"X\"\r\n", NULL, 1},
    {"Access-Control-Request-Method: PUT\r\nAccess-Control-Request-Headers: ,\r\n", NULL, 1},
    /* a method that is not a token: not a preflight we answer */
    {"Access-Control-Request-Method: P UT\r\nAccess-Control-Request-Headers: X-Foo\r\n", NULL, 0},
    {"Access-Control-Request-Method: \r\nAccess-Control-Request-Headers: X-Foo\r\n", NULL, 0},
    {"Access-Control-Request-Method: G\xc3\xa9T\r\n", NULL, 0},
};

START_TEST(cors_echo_tokens_only)
{
	struct h_resp r;
	preflight(&r, cors_cases[_i].fields);
	H_ASSERT_STATUS(&r, "HTTP/1.1 204 No Content");
	H_ASSERT_HEADER(&r, "Allow", "GET, HEAD, OPTIONS");
	if (cors_cases[_i].preflight) {
		H_ASSERT_HEADER(&r, "Access-Control-Allow-Methods", "GET, HEAD, OPTIONS");
		H_ASSERT_HEADER(&r, "Access-Control-Max-Age", "86400");
	} else {
		H_ASSERT_NO_HEADER(&r, "Access-Control-Allow-Methods");
	}
	if (cors_cases[_i].allow_headers)
		H_ASSERT_HEADER(&r, "Access-Control-Allow-Headers", cors_cases[_i].allow_headers);
	else
		H_ASSERT_NO_HEADER(&r, "Access-Control-Allow-Headers");
	/* no byte outside printable ASCII in any response field */
	for (size_t i = 0; i < r.nhdr; i++)
		for (const char *p = r.hdr[i].value; *p; p++)
			ck_assert_msg(*p >= 0x20 && *p < 0x7f, "byte 0x%02x in %s",
			              (unsigned char)*p, r.hdr[i].name);
	h_resp_free(&r);
}
END_TEST

/* A CTL in the value is refused by the parser: 400, nothing echoed. */
START_TEST(cors_ctl_not_echoed)
{
	struct h_resp r;
	preflight(&r, "Access-Control-Request-Method: PUT\r\n"
	              "Access-Control-Request-Headers: X-A\x01Set-Cookie: x=1\r\n");
	H_ASSERT_STATUS(&r, "HTTP/1.1 400 Bad Request");
	H_ASSERT_NO_HEADER(&r, "Access-Control-Allow-Headers");
	H_ASSERT_NO_HEADER(&r, "Set-Cookie");
	h_resp_free(&r);
}
END_TEST

/* Too long to echo (the 500 and an error line per request before): 204
 * without the list, and nothing in the error log. */
START_TEST(cors_oversized_list_dropped)
{
	static char fields[7000];
	size_t n = (size_t)snprintf(fields, sizeof fields,
	                            "Access-Control-Request-Method: PUT\r\n"
	                            "Access-Control-Request-Headers: ");
	for (int i = 0; n + 20 < sizeof fields - 16; i++)
		n += (size_t)snprintf(fields + n, sizeof fields - n, "%sx-header-%d", i ? ", " : "",
		                      i);
	snprintf(fields + n, sizeof fields - n, "\r\n");
	for (int round = 0; round < 3; round++) {
		struct h_resp r;
		preflight(&r, fields);
		H_ASSERT_STATUS(&r, "HTTP/1.1 204 No Content");
		H_ASSERT_HEADER(&r, "Access-Control-Allow-Methods", "GET, HEAD, OPTIONS");
		H_ASSERT_NO_HEADER(&r, "Access-Control-Allow-Headers");
		h_resp_free(&r);
	}
	/* The answers are in, so any log line about them is written. */
	char *log = h_read_file(fx.log, NULL);
	ck_assert_msg(log != NULL, "reading %s: %s", fx.log, strerror(errno));
	ck_assert_msg(strstr(log, "error") == NULL, "error log: %s", log);
	free(log);
}
END_TEST

static TCase *
server_tcase(Suite *s, const char *name, void (*setup)(void))
{
	TCase *tc = tcase_create(name);
	tcase_add_unchecked_fixture(tc, setup, fixture_stop);
	tcase_set_timeout(tc, 60);
	suite_add_tcase(s, tc);
	return tc;
}

Suite *
conformance_suite(void)
{
	Suite *s = suite_create("conformance");

	TCase *tc = server_tcase(s, "head-errors", setup_plain);
	tcase_add_loop_test(tc, head_error_has_no_body, 0, NELEM(head_errors));

	tc = server_tcase(s, "connection", setup_plain);
	tcase_add_loop_test(tc, connection_close_wins, 0, NELEM(close_wins));
	tcase_add_loop_test(tc, host_syntax, 0, NELEM(hosts));

	tc = server_tcase(s, "bodies", setup_plain);
	tcase_add_test(tc, chunked_body_at_limit_kept);
	tcase_add_test(tc, chunked_body_over_limit_closes);
	tcase_add_test(tc, chunked_body_endless_stream_closed);
	tcase_add_loop_test(tc, chunked_bad_chunk_400, 0, NELEM(bad_chunks));
	tcase_add_test(tc, chunked_bad_chunk_later_closes);
	tcase_add_loop_test(tc, transfer_codings, 0, NELEM(codings));

	tc = server_tcase(s, "cors", setup_cors);
	tcase_add_loop_test(tc, cors_echo_tokens_only, 0, NELEM(cors_cases));
	tcase_add_test(tc, cors_ctl_not_echoed);
	tcase_add_test(tc, cors_oversized_list_dropped);

	return s;
}
