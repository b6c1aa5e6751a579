/* check_robust.c - hostile clients, overload and faults (issue 4), against
 * the real binary (SHS_BIN) over real sockets.
 *
 * Each TCase starts one server in an *unchecked* fixture: it runs once in the
 * runner process, the forked tests inherit its pid and port, and the teardown
 * (SIGTERM, waitpid, exit status 0) runs even when tests fail. Check ignores a
 * failure in an unchecked teardown, so a server that does not exit 0 is
 * reported loudly on stderr and makes the runner exit non-zero
 * (h_teardown_failed). The servers get short timeouts as flags (1 s,
 * or 10 s where connections must stay open; both scaled), so the timeout tests take
 * seconds, not minutes. SHS_TEST_VERBOSE=1 prints the figures behind the
 * assertions (how many clients were shed, bytes received, delays).
 *
 * Every test ends by waiting (up to 2 s, scaled) for the server's open fds
 * (/proc/PID/fd) to come back to the count taken when the fixture started,
 * after one warm-up request: a leaked socket or file fails the test that
 * leaked it.
 *
 * The test process raises its own RLIMIT_NOFILE to the hard limit where it
 * opens hundreds of sockets. Big files are a splitmix64 pattern seeded per
 * file, so bytes from the wrong offset or the wrong file never compare equal,
 * and are checked as they stream in, without a copy in memory. Processes,
 * sockets and responses go through tests/harness.h; the servers' timeouts
 * and every limit here scale with SHS_TEST_TIME_SCALE. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "config.h"
#include "harness.h"
#include "suites.h"

/* The fd count must be back to its baseline within this (scaled). */
#define FD_SETTLE_MS 2000
/* The timeouts of the servers that test them (--header-timeout etc.: 1 s
 * times SHS_TEST_TIME_SCALE, see short_s), and how late the server may be:
 * timers are checked once per wake-up on a coarse clock, and ASan slows
 * everything. Early is not a matter of load, so it does not scale. */
#define SHORT_TIMEOUT_MS (short_s() * 1000)
#define LATE_MS h_ms(1500)
#define EARLY_MS 100

#define BIG_SIZE (64ull << 20)
#define MID_SIZE (1u << 20)
#define NSMALL 10

/* Seeds of the pattern files: each file its own, so no two agree. */
enum {
	SEED_BIG = 1,
	SEED_MID = 2,
	SEED_TRUNC = 3,
	SEED_OLD = 4,
	SEED_NEW = 5,
	SEED_DEL = 6,
	SEED_SMALL = 100, /* + i for f<i>.bin */
};

static const char index_body[] = "<!doctype html>\n<title>robust</title>\n<p>still serving</p>\n";

/* ---- patterns and files ---- */

/* Figures worth seeing (how many clients were shed, bytes received, ...) go
 * to stderr when SHS_TEST_VERBOSE is set. */
__attribute__((format(printf, 1, 2))) static void
note(const char *fmt, ...)
{
	if (!getenv("SHS_TEST_VERBOSE"))
		return;
	va_list ap;
	va_start(ap, fmt);
	fprintf(stderr, "check_robust: ");
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
}

static uint64_t
splitmix64(uint64_t x)
{
	x += 0x9e3779b97f4a7c15ULL;
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
	return x ^ (x >> 31);
}

/* Bytes [off, off+len) of the file with that seed: 8-byte words, each
 * splitmix64 of (seed, word index), little-endian. */
static void
pattern_fill(uint64_t seed, uint64_t off, unsigned char *dst, size_t len)
{
	while (len > 0) {
		uint64_t w = splitmix64((seed << 40) ^ (off >> 3));
		for (unsigned k = (unsigned)(off & 7); k < 8 && len > 0; k++, len--, off++)
			*dst++ = (unsigned char)(w >> (8 * k));
	}
}

/* Checks a body as it streams in. */
struct pcheck {
	uint64_t seed;
	uint64_t off;     /* bytes checked so far */
	int bad;          /* a byte differed */
	uint64_t bad_off; /* the first one */
	unsigned char exp[65536];
};

static void
pcheck_init(struct pcheck *pc, uint64_t seed)
{
	pc->seed = seed;
	pc->off = 0;
	pc->bad = 0;
	pc->bad_off = 0;
}

static void
pcheck_feed(struct pcheck *pc, const unsigned char *p, size_t n)
{
	while (n > 0) {
		size_t k = n < sizeof pc->exp ? n : sizeof pc->exp;
		pattern_fill(pc->seed, pc->off, pc->exp, k);
		if (!pc->bad && memcmp(p, pc->exp, k) != 0) {
			size_t i = 0;
			while (p[i] == pc->exp[i])
				i++;
			pc->bad = 1;
			pc->bad_off = pc->off + i;
		}
		pc->off += k;
		p += k;
		n -= k;
	}
}

static void
join(char *dst, size_t cap, const char *a, const char *b)
{
	int n = snprintf(dst, cap, "%s/%s", a, b);
	if (n < 0 || (size_t)n >= cap)
		ck_abort_msg("path too long: %s/%s", a, b);
}

/* The seeded pattern file dir/rel (tests/harness.h's h_write_pattern has
 * one pattern for all files; here each file has its own). */
static void
write_pattern(const char *dir, const char *rel, uint64_t seed, uint64_t size)
{
	static unsigned char chunk[1 << 20];
	char path[PATH_MAX];
	join(path, sizeof path, dir, rel);
	FILE *f = fopen(path, "we");
	if (!f)
		ck_abort_msg("fopen %s: %s", path, strerror(errno));
	for (uint64_t off = 0; off < size;) {
		size_t n = size - off < sizeof chunk ? (size_t)(size - off) : sizeof chunk;
		pattern_fill(seed, off, chunk, n);
		if (fwrite(chunk, 1, n, f) != n)
			ck_abort_msg("write %s: %s", path, strerror(errno));
		off += n;
	}
	if (fclose(f) != 0)
		ck_abort_msg("close %s: %s", path, strerror(errno));
}

/* f<i>.bin: a different size and content for each of the NSMALL files. */
static size_t
small_size(int i)
{
	return 1000 + 137 * (size_t)i;
}

/* ---- the fixture ---- */

enum { BIG_NONE, BIG_ONE, BIG_ALL };

enum timeouts { T_SHORT, T_LONG };

struct fixture_spec {
	enum timeouts timeouts; /* T_SHORT: short_s(); T_LONG: 10 s (scaled) */
	int max_connections;    /* > 0: --max-connections */
	unsigned long nofile;   /* the server's RLIMIT_NOFILE, 0 = inherited */
	int big_files;          /* BIG_ONE: big.bin; BIG_ALL: the fault files too */
};

static struct {
	char base[64];       /* /tmp/shs-robust-XXXXXX */
	char root[PATH_MAX]; /* base/root: the top dir */
	char log[PATH_MAX];  /* base/server.log: the server's stderr */
	struct h_server srv;
	int fds; /* the server's open fds after one request */
} fx = {.srv = {.pid = -1, .out_fd = -1}};

/* The short timeouts in whole seconds: 1, times SHS_TEST_TIME_SCALE, so a
 * slow run moves the server's clock and the test's together. */
static int
short_s(void)
{
	return (h_ms(1000) + 999) / 1000;
}

/* The servers' flags: --no-access-log and the three timeouts, then
 * --max-connections. NULL-ended in args. */
static void
server_flags(enum timeouts t, int max_connections, const char *args[12], char bufs[2][16])
{
	int secs = t == T_SHORT ? short_s() : (h_ms(10000) + 999) / 1000;
	snprintf(bufs[0], 16, "%d", secs);
	snprintf(bufs[1], 16, "%d", max_connections);
	size_t n = 0;
	args[n++] = "--no-access-log";
	args[n++] = "--header-timeout";
	args[n++] = bufs[0];
	args[n++] = "--idle-timeout";
	args[n++] = bufs[0];
	args[n++] = "--send-timeout";
	args[n++] = bufs[0];
	if (max_connections > 0) {
		args[n++] = "--max-connections";
		args[n++] = bufs[1];
	}
	args[n] = NULL;
}

static void
build_root(const struct fixture_spec *spec)
{
	h_write_file(fx.root, "index.html", index_body, sizeof index_body - 1);
	for (int i = 0; i < NSMALL; i++) {
		char rel[32];
		snprintf(rel, sizeof rel, "f%d.bin", i);
		write_pattern(fx.root, rel, SEED_SMALL + (uint64_t)i, small_size(i));
	}
	write_pattern(fx.root, "mid.bin", SEED_MID, MID_SIZE);
	if (spec->big_files >= BIG_ONE)
		write_pattern(fx.root, "big.bin", SEED_BIG, BIG_SIZE);
	if (spec->big_files < BIG_ALL)
		return;
	write_pattern(fx.root, "trunc.bin", SEED_TRUNC, BIG_SIZE);
	write_pattern(fx.root, "renamed.bin", SEED_OLD, BIG_SIZE);
}

static void make_root(const struct fixture_spec *spec);
static void warm_up(int port);

/* Starts a server on fx.root; 0, or -1 with err. */
static int
start_server(struct h_server *s, const struct fixture_spec *spec, char *err, size_t errcap)
{
	const char *args[12];
	char bufs[2][16];
	server_flags(spec->timeouts, spec->max_connections, args, bufs);
	struct h_start o = {
	    .root = fx.root, .args = args, .log_path = fx.log, .nofile = spec->nofile};
	return h_server_start_ex(s, &o, err, errcap);
}

static void
fixture_start(const struct fixture_spec *spec)
{
	make_root(spec);
	char err[512];
	if (start_server(&fx.srv, spec, err, sizeof err) != 0)
		ck_abort_msg("starting the server: %s", err);
	warm_up(fx.srv.port);
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
			        "check_robust: FAILURE: after SIGTERM the server (top dir %s) "
			        "gave %s, expected exit status 0\n--- server log (tail) ---\n%s\n"
			        "!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!\n",
			        fx.root, h_describe_status(status, what, sizeof what), tail);
			h_teardown_failed("check_robust");
		}
	}
	h_rmtree(fx.base);
	fx.base[0] = '\0';
}

/* Short timeouts, so the timeout tests take about a second each; long ones
 * where connections must stay open, so a timeout cannot pass for the
 * behaviour under test. */
static const struct fixture_spec spec_timeouts = {T_SHORT, 0, 0, BIG_ONE};
static const struct fixture_spec spec_floods = {T_SHORT, 0, 0, BIG_NONE};
static const struct fixture_spec spec_faults = {T_LONG, 0, 0, BIG_ALL};
static const struct fixture_spec spec_maxconn = {T_LONG, 10, 0, BIG_NONE};
/* 64 fds: listener, epoll, signalfd, spare and stdio leave room for about
 * 55 clients, fewer than the test opens. */
static const struct fixture_spec spec_emfile = {T_LONG, 0, 64, BIG_NONE};
/* The graceful-stop test starts its own server; the fixture only makes the
 * root. */
static const struct fixture_spec spec_root_only = {T_LONG, 0, 0, BIG_ONE};

static void
setup_timeouts(void)
{
	fixture_start(&spec_timeouts);
}

static void
setup_floods(void)
{
	fixture_start(&spec_floods);
}

static void
setup_faults(void)
{
	fixture_start(&spec_faults);
}

static void
setup_maxconn(void)
{
	fixture_start(&spec_maxconn);
}

static void
setup_emfile(void)
{
	fixture_start(&spec_emfile);
}

static void
make_root(const struct fixture_spec *spec)
{
	snprintf(fx.base, sizeof fx.base, "/tmp/shs-robust-XXXXXX");
	if (!mkdtemp(fx.base))
		ck_abort_msg("mkdtemp: %s", strerror(errno));
	join(fx.root, sizeof fx.root, fx.base, "root");
	join(fx.log, sizeof fx.log, fx.base, "server.log");
	h_mkdir(fx.base, "root");
	build_root(spec);
}

static void
setup_root_only(void)
{
	make_root(&spec_root_only);
}

/* The end of every test: the server is alive and its fds are back to the
 * baseline once our clients are gone. */
static void
expect_no_fd_leak(void)
{
	char state = h_proc_state(fx.srv.pid);
	ck_assert_msg(state != 0 && state != 'Z', "the server (pid %d) is gone (state '%c')",
	              (int)fx.srv.pid, state ? state : '-');
	int n = h_settled_fds(fx.srv.pid, fx.fds, FD_SETTLE_MS);
	if (n == fx.fds)
		return;
	char list[4096];
	h_list_fds(fx.srv.pid, list, sizeof list);
	ck_abort_msg("fd leak: the server has %d fds %d ms after the clients closed, %d at the "
	             "start: %s",
	             n, h_ms(FD_SETTLE_MS), fx.fds, list);
}

/* ---- client connections ---- */

static int
must_connect(int port, int rcvbuf)
{
	int fd = h_connect(port, rcvbuf);
	ck_assert_msg(fd >= 0, "connect to port %d: %s", port, strerror(errno));
	return fd;
}

static void
must_send(int fd, const char *s)
{
	int r = h_send_all(fd, s, strlen(s));
	ck_assert_msg(r == 0, "send: %s", strerror(-r));
}

#define ASSERT_RD(r, h)                                                                            \
	ck_assert_msg((r) == H_OK, "reading a response: %s %s", h_strerror(r), (h)->err)

/* A whole response with a body we know: status 200, exact length and bytes. */
static void
expect_body(struct h_conn *c, const char *what, const void *want, size_t len)
{
	struct h_resp h;
	int r = h_read_head(c, &h);
	ck_assert_msg(r == H_OK, "%s: reading the response: %s %s", what, h_strerror(r), h.err);
	ck_assert_msg(strcmp(h.status_line, "HTTP/1.1 200 OK") == 0, "%s: status line '%s'", what,
	              h.status_line);
	long long clen = h_content_length(&h);
	ck_assert_msg(clen == (long long)len, "%s: Content-Length %lld, expected %zu", what, clen,
	              len);
	h_resp_free(&h);
	static unsigned char got[MID_SIZE];
	ck_assert(len <= sizeof got);
	r = h_read_exact(c, got, len);
	ck_assert_msg(r == H_OK, "%s: reading %zu body bytes: %s", what, len, h_strerror(r));
	ck_assert_msg(memcmp(got, want, len) == 0, "%s: body differs", what);
}

static unsigned char *
pattern_alloc(uint64_t seed, size_t len)
{
	unsigned char *p = malloc(len ? len : 1);
	ck_assert(p != NULL);
	pattern_fill(seed, 0, p, len);
	return p;
}

/* GET of a file on a keep-alive connection, asserting the exact answer. */
static void
get_index(struct h_conn *c)
{
	h_conn_send(c, "GET /index.html HTTP/1.1\r\nHost: a\r\n\r\n");
	expect_body(c, "GET /index.html", index_body, sizeof index_body - 1);
}

static void
get_mid(struct h_conn *c, const unsigned char *mid)
{
	h_conn_send(c, "GET /mid.bin HTTP/1.1\r\nHost: a\r\n\r\n");
	expect_body(c, "GET /mid.bin", mid, MID_SIZE);
}

/* One fresh connection, one request with Connection: close, the exact
 * answer, then the server's close. */
static void
fresh_get(int port)
{
	struct h_conn *c = malloc(sizeof *c);
	ck_assert(c != NULL);
	h_conn_open(c, port);
	h_conn_send(c, "GET /index.html HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n");
	expect_body(c, "fresh GET /index.html", index_body, sizeof index_body - 1);
	unsigned char extra;
	long r = h_read_some(c, &extra, 1);
	ck_assert_msg(r == 0, "after Connection: close: expected EOF, got %s",
	              r > 0 ? "more bytes" : h_strerror((int)r));
	h_conn_close(c);
	free(c);
}

static void
warm_up(int port)
{
	fresh_get(port);
}

/* ---- slow clients and timeouts ---- */

#define SLOWLORIS 500

/* 500 connections each send part of a head and stop. A fresh client still
 * gets its whole answer within a second; after the header timeout the server
 * closes all 500 (EOF or reset, no bytes), and none before it. */
START_TEST(test_slowloris)
{
	h_raise_nofile(SLOWLORIS + 64);
	static int fds[SLOWLORIS];
	static uint64_t opened[SLOWLORIS];
	static const char partial[] = "GET / HTTP/1.1\r\nHost: a\r\n";
	for (int i = 0; i < SLOWLORIS; i++) {
		opened[i] = h_now_ms();
		fds[i] = must_connect(fx.srv.port, 0);
		must_send(fds[i], partial);
	}

	uint64_t t0 = h_now_ms();
	fresh_get(fx.srv.port);
	uint64_t took = h_now_ms() - t0;
	note("slowloris: fresh GET in %llu ms with %d half-sent heads", (unsigned long long)took,
	     SLOWLORIS);
	ck_assert_msg(took < (uint64_t)h_ms(1000),
	              "with %d slowloris clients a fresh GET took %llu ms", SLOWLORIS,
	              (unsigned long long)took);

	/* Now each of the 500 must be closed by the server. */
	int closed = 0, with_bytes = 0, open_still = 0;
	long earliest = LONG_MAX, latest = 0;
	struct pollfd *p = calloc(SLOWLORIS, sizeof *p);
	ck_assert(p != NULL);
	for (int i = 0; i < SLOWLORIS; i++)
		p[i] = (struct pollfd){.fd = fds[i], .events = POLLIN};
	uint64_t deadline = opened[SLOWLORIS - 1] + SHORT_TIMEOUT_MS + LATE_MS;
	while (closed + with_bytes < SLOWLORIS) {
		uint64_t t = h_now_ms();
		if (t >= deadline)
			break;
		int pr = poll(p, SLOWLORIS, (int)(deadline - t));
		if (pr < 0 && errno == EINTR)
			continue;
		ck_assert_msg(pr >= 0, "poll: %s", strerror(errno));
		for (int i = 0; i < SLOWLORIS; i++) {
			if (p[i].fd < 0 || !p[i].revents)
				continue;
			char buf[256];
			ssize_t n = recv(fds[i], buf, sizeof buf, MSG_DONTWAIT);
			if (n < 0 && errno == EAGAIN)
				continue;
			long ms = (long)(h_now_ms() - opened[i]);
			if (n > 0) {
				with_bytes++;
			} else {
				closed++;
				earliest = ms < earliest ? ms : earliest;
				latest = ms > latest ? ms : latest;
			}
			p[i].fd = -1;
		}
	}
	for (int i = 0; i < SLOWLORIS; i++) {
		if (p[i].fd >= 0)
			open_still++;
		h_close(fds[i]);
	}
	free(p);
	note("slowloris: %d closed after %ld..%ld ms, %d open, %d got bytes", closed, earliest,
	     latest, open_still, with_bytes);
	ck_assert_msg(with_bytes == 0, "%d slowloris clients got bytes instead of a close",
	              with_bytes);
	ck_assert_msg(open_still == 0,
	              "%d of %d slowloris clients still open %d ms after the header timeout",
	              open_still, SLOWLORIS, LATE_MS);
	ck_assert_msg(earliest >= SHORT_TIMEOUT_MS - EARLY_MS,
	              "a slowloris client was closed after %ld ms, before the %d ms header timeout",
	              earliest, SHORT_TIMEOUT_MS);
	ck_assert_msg(latest <= SHORT_TIMEOUT_MS + LATE_MS, "latest close after %ld ms", latest);
	expect_no_fd_leak();
}
END_TEST

/* A client that keeps sending one byte of its head every 200 ms is still cut
 * off by the header timeout: bytes do not refresh it. */
START_TEST(test_trickle)
{
	static const char head[] = "GET /index.html HTTP/1.1\r\nHost: a\r\nX-Trickle: ";
	int fd = must_connect(fx.srv.port, 0);
	uint64_t t0 = h_now_ms();
	size_t sent = 0;
	long closed_ms = -1;
	int got_bytes = 0;
	uint64_t last_send = t0;
	while (h_now_ms() < t0 + SHORT_TIMEOUT_MS + LATE_MS) {
		char b = sent < sizeof head - 1 ? head[sent] : 'a';
		ssize_t w = send(fd, &b, 1, MSG_NOSIGNAL);
		if (w != 1) {
			closed_ms = (long)(h_now_ms() - t0); /* EPIPE/ECONNRESET: closed */
			break;
		}
		sent++;
		last_send = h_now_ms();
		struct pollfd p = {.fd = fd, .events = POLLIN};
		if (poll(&p, 1, 200) > 0) {
			char buf[256];
			ssize_t n = recv(fd, buf, sizeof buf, MSG_DONTWAIT);
			if (n > 0)
				got_bytes = 1;
			closed_ms = (long)(h_now_ms() - t0);
			break;
		}
	}
	h_close(fd);
	note("trickle: closed after %ld ms, %zu bytes sent", closed_ms, sent);
	ck_assert_msg(!got_bytes, "the trickling client got bytes instead of a close");
	ck_assert_msg(closed_ms >= 0, "a client trickling a head was not cut off within %d ms",
	              SHORT_TIMEOUT_MS + LATE_MS);
	ck_assert_msg(closed_ms >= SHORT_TIMEOUT_MS - EARLY_MS,
	              "closed after %ld ms, before the header timeout", closed_ms);
	/* It kept sending: at least 4 bytes, the last within 250 ms. */
	ck_assert_msg(sent >= 4, "only %zu bytes sent before the close", sent);
	ck_assert_msg(t0 + (uint64_t)closed_ms - last_send <= (uint64_t)h_ms(250),
	              "the client had stopped sending %llu ms before the close",
	              (unsigned long long)(t0 + (uint64_t)closed_ms - last_send));
	expect_no_fd_leak();
}
END_TEST

/* Clients that connect and send nothing (a browser's preconnect, a port
 * probe). The kernel holds them for SHS_DEFER_ACCEPT_S (deferred accept)
 * before the server takes them, then the header timeout closes them with no
 * bytes. One that says nothing for longer than the deferral and then sends
 * a request still gets its answer on the same connection. */
START_TEST(test_silent_clients)
{
	uint64_t t0 = h_now_ms();
	int quiet = must_connect(fx.srv.port, 0);
	struct h_conn *late = malloc(sizeof *late);
	ck_assert(late != NULL);
	h_conn_attach(late, must_connect(fx.srv.port, 0));
	/* Silent until the server has taken both (after the deferral): its
	 * fd count shows them, no fixed pause needed. */
	int fds = h_settled_fds(fx.srv.pid, fx.fds + 2, SHS_DEFER_ACCEPT_S * 1000 + 5000);
	ck_assert_msg(fds == fx.fds + 2,
	              "the server never took the two silent connections: %d fds, %d before", fds,
	              fx.fds);
	get_index(late);
	get_index(late); /* and it is an ordinary keep-alive connection */
	h_conn_close(late);
	free(late);

	size_t got;
	long limit = SHS_DEFER_ACCEPT_S * 1000 + SHORT_TIMEOUT_MS + LATE_MS;
	long ms = h_wait_closed(quiet, t0, t0 + (uint64_t)limit, &got);
	h_close(quiet);
	note("silent client: closed after %ld ms", ms);
	ck_assert_msg(got == 0, "a client that sent nothing got %zu bytes", got);
	ck_assert_msg(ms >= 0, "a client that sent nothing was still open after %ld ms", limit);
	ck_assert_msg(ms >= SHORT_TIMEOUT_MS - EARLY_MS,
	              "a silent client was closed after %ld ms, before the header timeout", ms);
	expect_no_fd_leak();
}
END_TEST

/* The last response on a connection waits (MSG_MORE) for the FIN that
 * follows it. It must not wait longer: whether the server closes at once or
 * half-closes and drains what the client still sends (lingering close), the
 * whole answer and then EOF arrive promptly, long before the 2 s linger
 * limit or any timeout. */
static const struct last_case {
	const char *name;
	const char *req;
	int status;
} last_cases[] = {
    {"Connection: close", "GET /index.html HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n", 200},
    {"HTTP/1.0", "GET /index.html HTTP/1.0\r\n\r\n", 200},
    {"close with a pipelined request behind it (lingering close)",
     "GET /index.html HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n"
     "GET /index.html HTTP/1.1\r\nHost: a\r\n\r\n",
     200},
    {"HEAD, close", "HEAD /index.html HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n", 200},
    {"400 with bytes after it", "GET /index.html HTTP/1.1\r\nHost: a\r\nBad Header\r\n\r\nxyz",
     400},
};

START_TEST(test_last_response_prompt)
{
	const struct last_case *lc = &last_cases[_i];
	int fd = must_connect(fx.srv.port, 0);
	uint64_t t0 = h_now_ms();
	must_send(fd, lc->req);
	char buf[8192];
	size_t got = 0;
	long eof_ms = -1;
	while (h_now_ms() < t0 + (uint64_t)h_ms(1500) && got < sizeof buf) {
		struct pollfd p = {.fd = fd, .events = POLLIN};
		if (poll(&p, 1, 100) <= 0)
			continue;
		ssize_t n = recv(fd, buf + got, sizeof buf - got, MSG_DONTWAIT);
		if (n > 0) {
			got += (size_t)n;
		} else if (n == 0 || (errno != EAGAIN && errno != EINTR)) {
			eof_ms = (long)(h_now_ms() - t0);
			break;
		}
	}
	h_close(fd);
	char want[32];
	snprintf(want, sizeof want, "HTTP/1.1 %d ", lc->status);
	ck_assert_msg(got > strlen(want) && memcmp(buf, want, strlen(want)) == 0,
	              "%s: got %zu bytes, not a %d response", lc->name, got, lc->status);
	ck_assert_msg(eof_ms >= 0 && eof_ms < h_ms(500),
	              "%s: the close came after %ld ms (-1: not in %d ms)", lc->name, eof_ms,
	              h_ms(1500));
	/* The whole answer came: exactly Content-Length body bytes after the
	 * head (none for HEAD). */
	buf[got < sizeof buf ? got : sizeof buf - 1] = '\0';
	const char *end = strstr(buf, "\r\n\r\n");
	const char *cl = strcasestr(buf, "\r\nContent-Length: ");
	ck_assert_msg(end && cl && cl < end, "%s: no head or no Content-Length", lc->name);
	size_t body = got - (size_t)(end + 4 - buf);
	size_t want_body = strncmp(lc->req, "HEAD", 4) == 0 ? 0 : strtoul(cl + 18, NULL, 10);
	ck_assert_msg(body == want_body, "%s: %zu body bytes, want %zu", lc->name, body, want_body);
	if (lc->status == 200 && want_body)
		ck_assert(memcmp(end + 4, index_body, sizeof index_body - 1) == 0);
}
END_TEST

/* An idle keep-alive connection is closed after --idle-timeout; a request
 * within it keeps the connection (the clock restarts after each response). */
START_TEST(test_idle_keep_alive)
{
	struct h_conn *c = malloc(sizeof *c);
	ck_assert(c != NULL);
	h_conn_attach(c, must_connect(fx.srv.port, 0));
	get_index(c);
	uint64_t first = h_now_ms();
	/* Requests 50 ms apart for longer than one idle timeout: each finds
	 * the connection open, which it would not be if the clock ran from
	 * the first response. (The 50 ms only pace the requests; nothing
	 * waits for a result.) */
	int n = 1;
	while (h_now_ms() < first + (uint64_t)SHORT_TIMEOUT_MS + 200) {
		h_sleep_ms(50);
		get_index(c);
		n++;
	}
	uint64_t t0 = h_now_ms();
	size_t got;
	long ms = h_wait_closed(c->fd, t0, t0 + SHORT_TIMEOUT_MS + LATE_MS, &got);
	h_conn_close(c);
	free(c);
	ck_assert_msg(got == 0, "an idle connection got %zu unexpected bytes", got);
	ck_assert_msg(ms >= 0, "an idle keep-alive connection was still open after %d ms",
	              SHORT_TIMEOUT_MS + LATE_MS);
	ck_assert_msg(ms >= SHORT_TIMEOUT_MS - EARLY_MS,
	              "closed %ld ms after response %d (%llu ms after the first): the idle "
	              "timeout must count from the last response",
	              ms, n, (unsigned long long)(t0 + (uint64_t)ms - first));
	expect_no_fd_leak();
}
END_TEST

/* Reads a 64 MiB pattern body to its end or to the server's close.
 * Returns the reader result of the last read (H_OK: all len bytes came);
 * *got counts the body bytes, pc has checked them. pause_us after each read
 * makes a slow reader. */
/* When read_pattern_body last got bytes. */
static uint64_t last_data_ms;

static int
read_pattern_body(struct h_conn *c, struct pcheck *pc, uint64_t len, uint64_t *got,
                  unsigned pause_us)
{
	static unsigned char buf[65536];
	*got = 0;
	while (*got < len) {
		size_t want = len - *got < sizeof buf ? (size_t)(len - *got) : sizeof buf;
		long r = h_read_some(c, buf, want);
		if (r <= 0)
			return r == 0 ? H_EOF : (int)r;
		pcheck_feed(pc, buf, (size_t)r);
		*got += (uint64_t)r;
		last_data_ms = h_now_ms();
		if (pause_us)
			usleep(pause_us); /* a slow reader */
	}
	return H_OK;
}

/* A client asks for 64 MiB with a tiny receive buffer and never reads: the
 * server drops it once it makes no progress for --send-timeout, while a
 * second client keeps getting exact answers. What the stalled client then
 * reads is a correct prefix, shorter than promised. */
START_TEST(test_send_stall)
{
	char big[PATH_MAX];
	join(big, sizeof big, fx.root, "big.bin");
	unsigned char *mid = pattern_alloc(SEED_MID, MID_SIZE);
	struct h_conn *other = malloc(sizeof *other), *stall = malloc(sizeof *stall);
	ck_assert(other && stall);
	other->fd = -1;

	h_conn_attach(stall, must_connect(fx.srv.port, 4096));
	uint64_t t0 = h_now_ms();
	must_send(stall->fd, "GET /big.bin HTTP/1.1\r\nHost: a\r\n\r\n");
	int seen_open = 0, answers = 0;
	long dropped_ms = -1;
	while (h_now_ms() < t0 + SHORT_TIMEOUT_MS + 2 * LATE_MS) {
		int open_now = h_has_open(fx.srv.pid, big);
		if (open_now)
			seen_open = 1;
		if (seen_open && !open_now) {
			dropped_ms = (long)(h_now_ms() - t0);
			break;
		}
		/* A new connection each time: this test is about the stalled
		 * client, not about keep-alive. */
		h_conn_attach(other, must_connect(fx.srv.port, 0));
		get_index(other);
		get_mid(other, mid);
		h_conn_close(other);
		answers += 2;
		h_sleep_ms(30); /* pacing */
	}
	fresh_get(fx.srv.port); /* and still served after the drop */
	ck_assert_msg(seen_open, "the server never had big.bin open for the stalled client");
	ck_assert_msg(dropped_ms >= 0,
	              "a client that stopped reading was not dropped within %d ms (send timeout "
	              "%d ms)",
	              SHORT_TIMEOUT_MS + 2 * LATE_MS, SHORT_TIMEOUT_MS);
	ck_assert_msg(dropped_ms >= SHORT_TIMEOUT_MS - EARLY_MS,
	              "the stalled client was dropped after %ld ms, before the send timeout",
	              dropped_ms);
	note("send stall: dropped after %ld ms, %d answers meanwhile", dropped_ms, answers);
	ck_assert_msg(answers >= 10, "only %d answers to the other client meanwhile", answers);

	/* What is left in the pipe is a correct prefix, then the close. */
	struct h_resp h;
	int r = h_read_head(stall, &h);
	ASSERT_RD(r, &h);
	ck_assert_msg(strcmp(h.status_line, "HTTP/1.1 200 OK") == 0, "status line '%s'",
	              h.status_line);
	ck_assert_msg(h_content_length(&h) == (long long)BIG_SIZE, "Content-Length %lld",
	              h_content_length(&h));
	static struct pcheck pc;
	pcheck_init(&pc, SEED_BIG);
	uint64_t got;
	r = read_pattern_body(stall, &pc, BIG_SIZE, &got, 0);
	note("send stall: the dropped client read %llu of %llu bytes, then %s",
	     (unsigned long long)got, (unsigned long long)BIG_SIZE, h_strerror(r));
	ck_assert_msg(r == H_EOF || r == H_RESET,
	              "the dropped client read %llu bytes, then: %s (expected a close)",
	              (unsigned long long)got, h_strerror(r));
	ck_assert_msg(got < BIG_SIZE, "the dropped client got the whole body");
	ck_assert_msg(!pc.bad, "the dropped client got a wrong byte at offset %llu",
	              (unsigned long long)pc.bad_off);
	h_resp_free(&h);
	h_conn_close(stall);
	free(stall);
	free(other);
	free(mid);
	expect_no_fd_leak();
}
END_TEST

/* ---- floods and overload ---- */

/* Sends all of req (or as much as the server takes) while reading what it
 * answers, until the server closes or timeout_ms. Returns the answer
 * (NUL-terminated, caller frees); *closed says whether EOF or reset came. */
static char *
flood(int port, const char *req, size_t len, int timeout_ms, size_t *out_len, int *closed)
{
	int fd = must_connect(port, 0);
	ck_assert(fcntl(fd, F_SETFL, O_NONBLOCK) == 0);
	size_t cap = 65536, got = 0, sent = 0;
	char *out = malloc(cap + 1);
	ck_assert(out != NULL);
	*closed = 0;
	uint64_t end = h_now_ms() + (uint64_t)timeout_ms;
	int writing = 1;
	while (!*closed && h_now_ms() < end) {
		struct pollfd p = {.fd = fd, .events = POLLIN | (writing ? POLLOUT : 0)};
		int pr = poll(&p, 1, 50);
		if (pr < 0 && errno == EINTR)
			continue;
		ck_assert_msg(pr >= 0, "poll: %s", strerror(errno));
		if (writing && (p.revents & POLLOUT)) {
			ssize_t w = send(fd, req + sent, len - sent, MSG_NOSIGNAL);
			if (w > 0)
				sent += (size_t)w;
			else if (w < 0 && errno != EAGAIN && errno != EINTR)
				writing = 0; /* EPIPE/ECONNRESET: it stopped listening */
			if (sent == len)
				writing = 0;
		}
		if (p.revents & (POLLIN | POLLHUP | POLLERR)) {
			ssize_t n = recv(fd, out + got, cap - got, 0);
			if (n > 0)
				got += (size_t)n;
			else if (n == 0 || (errno != EAGAIN && errno != EINTR))
				*closed = 1;
			ck_assert_msg(got < cap, "more than %zu bytes of answer", cap);
		}
	}
	h_close(fd);
	out[got] = '\0';
	*out_len = got;
	return out;
}

/* The whole answer must be exactly one response with that status line,
 * Connection: close and a body of its Content-Length, then the close. */
static void
expect_error_and_close(const char *what, const char *ans, size_t len, int closed,
                       const char *status_line)
{
	struct h_resp h;
	size_t hl = 0;
	int r = h_parse_head(ans, len, &h, &hl);
	ck_assert_msg(r == H_OK, "%s: %s", what, h.err);
	ck_assert_msg(strcmp(h.status_line, status_line) == 0,
	              "%s: status line '%s', expected '%s'", what, h.status_line, status_line);
	ck_assert_msg(h_header_count(&h, "Connection") == 1 &&
	                  strcmp(h_header(&h, "Connection"), "close") == 0,
	              "%s: expected one 'Connection: close'", what);
	long long clen = h_content_length(&h);
	ck_assert_msg(clen >= 0, "%s: no Content-Length", what);
	ck_assert_msg((size_t)clen == len - hl,
	              "%s: Content-Length %lld, but %zu bytes followed the head", what, clen,
	              len - hl);
	ck_assert_msg(closed, "%s: the connection stayed open after the answer", what);
	h_resp_free(&h);
}

/* 10,000 header lines of 50 bytes: 431 and close. */
START_TEST(test_header_flood)
{
	static const char start[] = "GET /index.html HTTP/1.1\r\nHost: a\r\n";
	size_t len = sizeof start - 1 + 10000 * 50 + 2;
	char *req = malloc(len + 1);
	ck_assert(req != NULL);
	size_t off = sizeof start - 1;
	memcpy(req, start, off);
	for (int i = 0; i < 10000; i++) {
		/* "X-Flood-NNNNN: " (15) + 33 letters + CRLF = 50 */
		int n = snprintf(req + off, 51, "X-Flood-%05d: %033d\r\n", i, 0);
		ck_assert_int_eq(n, 50);
		off += 50;
	}
	memcpy(req + off, "\r\n", 2);
	size_t alen;
	int closed;
	char *ans = flood(fx.srv.port, req, len, h_ms(H_RECV_TIMEOUT_MS), &alen, &closed);
	expect_error_and_close("10000 header lines", ans, alen, closed,
	                       "HTTP/1.1 431 Request Header Fields Too Large");
	free(ans);
	free(req);
	fresh_get(fx.srv.port);
	expect_no_fd_leak();
}
END_TEST

/* A 20 KiB request line: 414 and close. */
START_TEST(test_long_request_line)
{
	size_t tlen = 20 * 1024;
	char *req = malloc(tlen + 64);
	ck_assert(req != NULL);
	memcpy(req, "GET /", 5);
	memset(req + 5, 'a', tlen);
	size_t len = 5 + tlen;
	len += (size_t)sprintf(req + len, " HTTP/1.1\r\nHost: a\r\n\r\n");
	size_t alen;
	int closed;
	char *ans = flood(fx.srv.port, req, len, h_ms(H_RECV_TIMEOUT_MS), &alen, &closed);
	expect_error_and_close("20 KiB request line", ans, alen, closed,
	                       "HTTP/1.1 414 URI Too Long");
	free(ans);
	free(req);
	fresh_get(fx.srv.port);
	expect_no_fd_leak();
}
END_TEST

#define CONCURRENT 1000

struct pclient {
	int fd;
	int state; /* 0 connecting, 1 sending, 2 reading, 3 done */
	size_t sent, got;
	char req[64];
	size_t req_len;
	unsigned char buf[4096];
};

/* 1000 clients at once, each on its own connection, each getting exactly
 * the bytes of its file (ten files of different sizes and contents). */
START_TEST(test_concurrent_clients)
{
	h_raise_nofile(CONCURRENT + 64);
	unsigned char *want[NSMALL];
	for (int i = 0; i < NSMALL; i++)
		want[i] = pattern_alloc(SEED_SMALL + (uint64_t)i, small_size(i));
	struct pclient *cl = calloc(CONCURRENT, sizeof *cl);
	struct pollfd *p = calloc(CONCURRENT, sizeof *p);
	ck_assert(cl && p);
	for (int i = 0; i < CONCURRENT; i++) {
		cl[i].fd = h_connect_nb(fx.srv.port);
		ck_assert_msg(cl[i].fd >= 0, "connect %d: %s", i, strerror(errno));
		cl[i].state = 0; /* POLLOUT, then SO_ERROR, says it connected */
		cl[i].req_len = (size_t)snprintf(
		    cl[i].req, sizeof cl[i].req,
		    "GET /f%d.bin HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n", i % NSMALL);
	}
	uint64_t t0 = h_now_ms(), deadline = t0 + (uint64_t)h_ms(20000);
	int done = 0;
	while (done < CONCURRENT && h_now_ms() < deadline) {
		for (int i = 0; i < CONCURRENT; i++) {
			p[i].fd = cl[i].state == 3 ? -1 : cl[i].fd;
			p[i].events = cl[i].state == 2 ? POLLIN : POLLOUT;
			p[i].revents = 0;
		}
		int pr = poll(p, CONCURRENT, 100);
		if (pr < 0 && errno == EINTR)
			continue;
		ck_assert_msg(pr >= 0, "poll: %s", strerror(errno));
		for (int i = 0; i < CONCURRENT; i++) {
			struct pclient *c = &cl[i];
			if (!p[i].revents)
				continue;
			if (c->state == 0) {
				int err = 0;
				socklen_t el = sizeof err;
				getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &el);
				ck_assert_msg(err == 0, "client %d: connect: %s", i, strerror(err));
				c->state = 1;
			}
			if (c->state == 1) {
				ssize_t w = send(c->fd, c->req + c->sent, c->req_len - c->sent,
				                 MSG_NOSIGNAL);
				if (w > 0)
					c->sent += (size_t)w;
				else
					ck_assert_msg(errno == EAGAIN, "client %d: send: %s", i,
					              strerror(errno));
				if (c->sent == c->req_len)
					c->state = 2;
				continue;
			}
			ssize_t n = recv(c->fd, c->buf + c->got, sizeof c->buf - c->got, 0);
			if (n > 0) {
				c->got += (size_t)n;
				ck_assert_msg(c->got < sizeof c->buf, "client %d: answer too long",
				              i);
			} else if (n == 0) {
				c->state = 3;
				done++;
			} else {
				ck_assert_msg(errno == EAGAIN,
				              "client %d: recv after %zu bytes: %s", i, c->got,
				              strerror(errno));
			}
		}
	}
	uint64_t took = h_now_ms() - t0;
	int ok = 0;
	for (int i = 0; i < CONCURRENT; i++) {
		struct pclient *c = &cl[i];
		ck_assert_msg(c->state == 3,
		              "client %d not done after %llu ms (state %d, %zu bytes)", i,
		              (unsigned long long)took, c->state, c->got);
		c->buf[c->got] = '\0';
		struct h_resp h;
		size_t hl = 0;
		int r = h_parse_head(c->buf, c->got, &h, &hl);
		ck_assert_msg(r == H_OK, "client %d: %s", i, h.err);
		ck_assert_msg(strcmp(h.status_line, "HTTP/1.1 200 OK") == 0, "client %d: '%.40s'",
		              i, h.status_line);
		size_t size = small_size(i % NSMALL);
		ck_assert_msg(h_content_length(&h) == (long long)size,
		              "client %d: Content-Length %s, expected %zu", i,
		              h_header(&h, "Content-Length"), size);
		h_resp_free(&h);
		ck_assert_msg(c->got - hl == size, "client %d: %zu body bytes, expected %zu", i,
		              c->got - hl, size);
		ck_assert_msg(memcmp(c->buf + hl, want[i % NSMALL], size) == 0,
		              "client %d: body differs", i);
		ok++;
		close(c->fd);
	}
	note("concurrent: %d clients served exactly in %llu ms", ok, (unsigned long long)took);
	ck_assert_int_eq(ok, CONCURRENT);
	free(cl);
	free(p);
	for (int i = 0; i < NSMALL; i++)
		free(want[i]);
	expect_no_fd_leak();
}
END_TEST

#define KEEP_ALIVE_CAP 1000
#define BATCH 50

/* 1000 requests on one connection (pipelined 50 at a time): the first 999
 * keep it open, the 1000th answer says Connection: close and the server
 * closes. */
START_TEST(test_keep_alive_cap)
{
	static const char one[] = "GET /index.html HTTP/1.1\r\nHost: a\r\n\r\n";
	char batch[BATCH * sizeof one];
	for (int i = 0; i < BATCH; i++)
		memcpy(batch + i * (sizeof one - 1), one, sizeof one - 1);
	struct h_conn *c = malloc(sizeof *c);
	ck_assert(c != NULL);
	h_conn_attach(c, must_connect(fx.srv.port, 0));
	unsigned char body[sizeof index_body];
	for (int n = 0; n < KEEP_ALIVE_CAP; n += BATCH) {
		int r = h_send_all(c->fd, batch, BATCH * (sizeof one - 1));
		ck_assert_msg(r == 0, "sending requests %d-%d: %s", n + 1, n + BATCH, strerror(-r));
		for (int i = n + 1; i <= n + BATCH; i++) {
			struct h_resp h;
			r = h_read_head(c, &h);
			ck_assert_msg(r == H_OK, "response %d: %s %s", i, h_strerror(r), h.err);
			ck_assert_msg(strcmp(h.status_line, "HTTP/1.1 200 OK") == 0,
			              "response %d: status line '%s'", i, h.status_line);
			ck_assert_msg(h_content_length(&h) == (long long)sizeof index_body - 1,
			              "response %d: Content-Length %lld", i, h_content_length(&h));
			r = h_read_exact(c, body, sizeof index_body - 1);
			ck_assert_msg(r == H_OK, "response %d body: %s", i, h_strerror(r));
			ck_assert_msg(memcmp(body, index_body, sizeof index_body - 1) == 0,
			              "response %d: body differs", i);
			if (i < KEEP_ALIVE_CAP)
				ck_assert_msg(!h_says_close(&h),
				              "response %d already says Connection: close", i);
			else
				ck_assert_msg(h_says_close(&h),
				              "response %d lacks Connection: close:\n%s", i,
				              h.head);
			h_resp_free(&h);
		}
	}
	unsigned char extra;
	long r = h_read_some(c, &extra, 1);
	ck_assert_msg(r == 0, "after response %d: expected the server to close, got %s",
	              KEEP_ALIVE_CAP, r > 0 ? "more bytes" : h_strerror((int)r));
	h_conn_close(c);
	free(c);
	expect_no_fd_leak();
}
END_TEST

/* ---- faults ---- */

/* Where the client gives up on a 64 MiB download, and how. */
static const struct {
	const char *name;
	int read_bytes; /* body bytes read first (-1: not even the head) */
	int reset;      /* SO_LINGER 0: RST instead of FIN */
} aborts[] = {
    {"close before the head", -1, 0},
    {"reset before the head", -1, 1},
    {"close after 1 MiB", 1 << 20, 0},
    {"reset after 1 MiB", 1 << 20, 1},
};

/* A client closes or resets mid-sendfile: the server closes its side and the
 * file, and the next client is served. */
START_TEST(test_client_abort)
{
	char big[PATH_MAX];
	join(big, sizeof big, fx.root, "big.bin");
	struct h_conn *c = malloc(sizeof *c);
	ck_assert(c != NULL);
	h_conn_attach(c, must_connect(fx.srv.port, 65536));
	must_send(c->fd, "GET /big.bin HTTP/1.1\r\nHost: a\r\n\r\n");
	if (aborts[_i].read_bytes >= 0) {
		struct h_resp h;
		int r = h_read_head(c, &h);
		ASSERT_RD(r, &h);
		ck_assert_msg(h_content_length(&h) == (long long)BIG_SIZE, "Content-Length %lld",
		              h_content_length(&h));
		static struct pcheck pc;
		pcheck_init(&pc, SEED_BIG);
		uint64_t got;
		r = read_pattern_body(c, &pc, (uint64_t)aborts[_i].read_bytes, &got, 0);
		ck_assert_msg(r == H_OK && !pc.bad, "%s: reading the first bytes: %s",
		              aborts[_i].name, h_strerror(r));
		h_resp_free(&h);
	} else {
		/* Leave once the server is sending: it has the file open. */
		uint64_t end = h_now_ms() + (uint64_t)h_ms(2000);
		while (!h_has_open(fx.srv.pid, big) && h_now_ms() < end)
			h_sleep_ms(2);
		ck_assert_msg(h_has_open(fx.srv.pid, big), "%s: the server never opened big.bin",
		              aborts[_i].name);
	}
	if (aborts[_i].reset)
		h_reset_close(c->fd);
	else
		h_conn_close(c);
	free(c);
	uint64_t t0 = h_now_ms();
	while (h_has_open(fx.srv.pid, big) && h_now_ms() < t0 + (uint64_t)h_ms(2000))
		h_sleep_ms(10);
	ck_assert_msg(!h_has_open(fx.srv.pid, big),
	              "%s: the server still has big.bin open %d ms after the client left",
	              aborts[_i].name, h_ms(2000));
	fresh_get(fx.srv.port);
	expect_no_fd_leak();
}
END_TEST

/* A file truncated to 1 MiB while its 64 MiB are being sent: the client never
 * gets more than promised, every byte it gets is the original content at its
 * offset (bytes past the new end were sent before the truncation), and the
 * connection closes before Content-Length is reached. */
START_TEST(test_truncated_while_sent)
{
	char path[PATH_MAX];
	join(path, sizeof path, fx.root, "trunc.bin");
	struct h_conn *c = malloc(sizeof *c);
	ck_assert(c != NULL);
	h_conn_attach(c, must_connect(fx.srv.port, 128 * 1024));
	must_send(c->fd, "GET /trunc.bin HTTP/1.1\r\nHost: a\r\n\r\n");
	struct h_resp h;
	int r = h_read_head(c, &h);
	ASSERT_RD(r, &h);
	ck_assert_msg(strcmp(h.status_line, "HTTP/1.1 200 OK") == 0, "status line '%s'",
	              h.status_line);
	ck_assert_msg(h_content_length(&h) == (long long)BIG_SIZE, "Content-Length %lld",
	              h_content_length(&h));
	h_resp_free(&h);
	static struct pcheck pc;
	pcheck_init(&pc, SEED_TRUNC);
	uint64_t first, rest;
	/* Slowly: 512 KiB in 64 KiB steps, 20 ms apart. */
	r = read_pattern_body(c, &pc, 512 * 1024, &first, 20000);
	ck_assert_msg(r == H_OK, "reading the first 512 KiB: %s", h_strerror(r));
	ck_assert_msg(truncate(path, 1 << 20) == 0, "truncate: %s", strerror(errno));
	r = read_pattern_body(c, &pc, BIG_SIZE - first, &rest, 1000);
	/* The close comes with the last bytes, not from a timeout later. */
	long quiet = (long)(h_now_ms() - last_data_ms);
	uint64_t got = first + rest;
	h_conn_close(c);
	free(c);
	note("truncate: %llu of %llu bytes, then %s", (unsigned long long)got,
	     (unsigned long long)BIG_SIZE, h_strerror(r));
	ck_assert_msg(got < BIG_SIZE, "the client got all %llu promised bytes of a truncated file",
	              (unsigned long long)BIG_SIZE);
	ck_assert_msg(!pc.bad, "byte %llu differs from the original content (got %llu bytes)",
	              (unsigned long long)pc.bad_off, (unsigned long long)got);
	ck_assert_msg(r == H_EOF,
	              "after %llu of %llu bytes the connection ended with '%s', expected EOF",
	              (unsigned long long)got, (unsigned long long)BIG_SIZE, h_strerror(r));
	ck_assert_msg(quiet < h_ms(1000),
	              "the close came %ld ms after the last byte: the server must close as soon "
	              "as the file ends early",
	              quiet);
	expect_no_fd_leak();
}
END_TEST

/* A file replaced by rename() while sent: the download goes on with the old
 * content, complete and consistent; the next request gets the new file. */
START_TEST(test_renamed_while_sent)
{
	char path[PATH_MAX], tmp[PATH_MAX];
	join(path, sizeof path, fx.root, "renamed.bin");
	join(tmp, sizeof tmp, fx.root, "renamed.tmp");
	struct h_conn *c = malloc(sizeof *c);
	ck_assert(c != NULL);
	h_conn_attach(c, must_connect(fx.srv.port, 128 * 1024));
	must_send(c->fd, "GET /renamed.bin HTTP/1.1\r\nHost: a\r\n\r\n");
	struct h_resp h;
	int r = h_read_head(c, &h);
	ASSERT_RD(r, &h);
	ck_assert_msg(h_content_length(&h) == (long long)BIG_SIZE, "Content-Length %lld",
	              h_content_length(&h));
	h_resp_free(&h);
	static struct pcheck pc;
	pcheck_init(&pc, SEED_OLD);
	uint64_t first, rest;
	r = read_pattern_body(c, &pc, 512 * 1024, &first, 20000);
	ck_assert_msg(r == H_OK, "reading the first 512 KiB: %s", h_strerror(r));
	write_pattern(fx.root, "renamed.tmp", SEED_NEW, BIG_SIZE);
	ck_assert_msg(rename(tmp, path) == 0, "rename: %s", strerror(errno));
	r = read_pattern_body(c, &pc, BIG_SIZE - first, &rest, 0);
	ck_assert_msg(r == H_OK, "after %llu bytes: %s", (unsigned long long)(first + rest),
	              h_strerror(r));
	ck_assert_msg(!pc.bad, "byte %llu is not the old file's", (unsigned long long)pc.bad_off);

	/* The same connection, the next request: the new file. */
	must_send(c->fd, "GET /renamed.bin HTTP/1.1\r\nHost: a\r\n\r\n");
	r = h_read_head(c, &h);
	ASSERT_RD(r, &h);
	ck_assert_msg(h_content_length(&h) == (long long)BIG_SIZE, "Content-Length %lld",
	              h_content_length(&h));
	h_resp_free(&h);
	pcheck_init(&pc, SEED_NEW);
	r = read_pattern_body(c, &pc, BIG_SIZE, &rest, 0);
	ck_assert_msg(r == H_OK, "new file after %llu bytes: %s", (unsigned long long)rest,
	              h_strerror(r));
	ck_assert_msg(!pc.bad, "byte %llu is not the new file's", (unsigned long long)pc.bad_off);
	h_conn_close(c);
	free(c);
	expect_no_fd_leak();
}
END_TEST

/* A small file (which the server may cache) and one too big to cache. */
static const struct {
	const char *rel;
	size_t size;
} deleted[] = {
    {"gone-small.bin", 1000},
    {"gone-big.bin", 1 << 20},
};

/* A file deleted between two requests on one keep-alive connection: 404 at
 * once, there and on a new connection. */
START_TEST(test_deleted_between_requests)
{
	char path[PATH_MAX], req[128];
	join(path, sizeof path, fx.root, deleted[_i].rel);
	write_pattern(fx.root, deleted[_i].rel, SEED_DEL, deleted[_i].size);
	unsigned char *want = pattern_alloc(SEED_DEL, deleted[_i].size);
	snprintf(req, sizeof req, "GET /%s HTTP/1.1\r\nHost: a\r\n\r\n", deleted[_i].rel);
	struct h_conn *c = malloc(sizeof *c);
	ck_assert(c != NULL);
	h_conn_attach(c, must_connect(fx.srv.port, 0));
	must_send(c->fd, req);
	expect_body(c, deleted[_i].rel, want, deleted[_i].size);
	ck_assert_msg(unlink(path) == 0, "unlink: %s", strerror(errno));
	for (int fresh = 0; fresh < 2; fresh++) {
		if (fresh) {
			h_conn_close(c);
			h_conn_attach(c, must_connect(fx.srv.port, 0));
		}
		must_send(c->fd, req);
		struct h_resp h;
		int r = h_read_head(c, &h);
		ASSERT_RD(r, &h);
		ck_assert_msg(strcmp(h.status_line, "HTTP/1.1 404 Not Found") == 0,
		              "%s deleted, %s connection: status line '%s'", deleted[_i].rel,
		              fresh ? "a new" : "the same", h.status_line);
		ck_assert_msg(h_content_length(&h) >= 0, "404 without Content-Length");
		unsigned char *body = malloc((size_t)h_content_length(&h) + 1);
		ck_assert(body != NULL);
		r = h_read_exact(c, body, (size_t)h_content_length(&h));
		ck_assert_msg(r == H_OK, "404 body: %s", h_strerror(r));
		free(body);
		h_resp_free(&h);
	}
	h_conn_close(c);
	free(c);
	free(want);
	expect_no_fd_leak();
}
END_TEST

/* ---- limits ---- */

#define MAXCONN 10

/* --max-connections 10: ten connections that made a request and stay open;
 * the eleventh gets a 503 and is closed; once the ten are gone, new clients
 * are served. */
START_TEST(test_max_connections)
{
	struct h_conn *held = calloc(MAXCONN, sizeof *held);
	ck_assert(held != NULL);
	for (int i = 0; i < MAXCONN; i++) {
		h_conn_attach(&held[i], must_connect(fx.srv.port, 0));
		get_index(&held[i]);
	}
	for (int k = 0; k < 2; k++) {
		/* Twice: the 503 must not cost a slot either. */
		struct h_conn *c = malloc(sizeof *c);
		ck_assert(c != NULL);
		h_conn_attach(c, must_connect(fx.srv.port, 0));
		struct h_resp h;
		int r = h_read_head(c, &h);
		ASSERT_RD(r, &h);
		ck_assert_msg(strncmp(h.status_line, "HTTP/1.1 503 ", 13) == 0,
		              "connection %d of %d: status line '%s'", MAXCONN + 1 + k, MAXCONN,
		              h.status_line);
		ck_assert_msg(h_says_close(&h), "the 503 lacks Connection: close");
		ck_assert_msg(h_content_length(&h) >= 0 && h_content_length(&h) < 4096,
		              "503 Content-Length %lld", h_content_length(&h));
		unsigned char body[4096];
		r = h_read_exact(c, body, (size_t)h_content_length(&h));
		ck_assert_msg(r == H_OK, "503 body: %s", h_strerror(r));
		long e = h_read_some(c, body, 1);
		ck_assert_msg(e == 0 || e == H_RESET, "after the 503: expected a close, got %s",
		              e > 0 ? "more bytes" : h_strerror((int)e));
		h_resp_free(&h);
		h_conn_close(c);
		free(c);
	}
	get_index(&held[0]); /* the ten are still served */
	get_index(&held[MAXCONN - 1]);
	for (int i = 0; i < MAXCONN; i++)
		h_conn_close(&held[i]);
	free(held);

	/* Freed slots take new clients at once: ten together, all served. */
	uint64_t t0 = h_now_ms();
	struct h_conn *again = calloc(MAXCONN, sizeof *again);
	ck_assert(again != NULL);
	for (int i = 0; i < MAXCONN; i++)
		h_conn_attach(&again[i], -1);
	for (int tries = 0;; tries++) {
		/* The server sees our closes a moment later: until then a
		 * 503 is right. Retry for up to a second. */
		int all = 1;
		for (int i = 0; i < MAXCONN; i++) {
			if (again[i].fd >= 0)
				continue;
			int fd = must_connect(fx.srv.port, 0);
			h_conn_attach(&again[i], fd);
			must_send(fd, "GET /index.html HTTP/1.1\r\nHost: a\r\n\r\n");
			struct h_resp h;
			int r = h_read_head(&again[i], &h);
			ASSERT_RD(r, &h);
			if (h.status == 503 && h_now_ms() < t0 + (uint64_t)h_ms(1000)) {
				h_resp_free(&h);
				h_close(fd);
				again[i].fd = -1;
				all = 0;
				continue;
			}
			ck_assert_msg(
			    strcmp(h.status_line, "HTTP/1.1 200 OK") == 0,
			    "after closing the ten, client %d: status line '%s' after %llu ms", i,
			    h.status_line, (unsigned long long)(h_now_ms() - t0));
			unsigned char body[sizeof index_body];
			r = h_read_exact(&again[i], body, sizeof index_body - 1);
			ck_assert_msg(r == H_OK &&
			                  memcmp(body, index_body, sizeof index_body - 1) == 0,
			              "client %d: body", i);
			h_resp_free(&h);
		}
		if (all)
			break;
		h_sleep_ms(20); /* poll interval */
	}
	for (int i = 0; i < MAXCONN; i++)
		h_conn_close(&again[i]);
	free(again);
	expect_no_fd_leak();
}
END_TEST

#define CHURN_CLIENTS 8
#define CHURN_MS 2000

/* Fewer clients than --max-connections, each reconnecting as soon as its
 * answer is in (what siege -b does): nobody may get a 503, however fast
 * connections come and go. */
START_TEST(test_connection_churn)
{
	static const char req[] =
	    "GET /index.html HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n";
	struct {
		int fd;
		size_t sent, got;
		char buf[1024];
	} cl[CHURN_CLIENTS];
	struct pollfd p[CHURN_CLIENTS];
	long ok = 0, busy = 0, other = 0;
	char sample[128] = "";
	for (int i = 0; i < CHURN_CLIENTS; i++)
		cl[i].fd = -1;
	uint64_t end = h_now_ms() + CHURN_MS;
	while (h_now_ms() < end) {
		for (int i = 0; i < CHURN_CLIENTS; i++) {
			if (cl[i].fd >= 0)
				continue;
			cl[i].fd = h_connect_nb(fx.srv.port);
			ck_assert_msg(cl[i].fd >= 0, "connect: %s", strerror(errno));
			cl[i].sent = cl[i].got = 0;
		}
		for (int i = 0; i < CHURN_CLIENTS; i++)
			p[i] = (struct pollfd){.fd = cl[i].fd,
			                       .events =
			                           cl[i].sent < sizeof req - 1 ? POLLOUT : POLLIN};
		int pr = poll(p, CHURN_CLIENTS, 100);
		if (pr < 0 && errno == EINTR)
			continue;
		ck_assert_msg(pr >= 0, "poll: %s", strerror(errno));
		for (int i = 0; i < CHURN_CLIENTS; i++) {
			if (!p[i].revents)
				continue;
			if (cl[i].sent < sizeof req - 1) {
				ssize_t w = send(cl[i].fd, req + cl[i].sent,
				                 sizeof req - 1 - cl[i].sent, MSG_NOSIGNAL);
				if (w > 0) {
					cl[i].sent += (size_t)w;
					continue;
				}
				if (w < 0 && errno == EAGAIN)
					continue;
				cl[i].sent = sizeof req - 1; /* reset early: read what came */
			}
			ssize_t n = recv(cl[i].fd, cl[i].buf + cl[i].got,
			                 sizeof cl[i].buf - 1 - cl[i].got, 0);
			if (n > 0) {
				cl[i].got += (size_t)n;
				if (cl[i].got < sizeof cl[i].buf - 1)
					continue;
			} else if (n < 0 && errno == EAGAIN) {
				continue;
			}
			/* EOF, reset or a full buffer: judge the answer. */
			cl[i].buf[cl[i].got] = '\0';
			const char *body = strstr(cl[i].buf, "\r\n\r\n");
			if (strncmp(cl[i].buf, "HTTP/1.1 200 OK\r\n", 17) == 0 && body &&
			    strcmp(body + 4, index_body) == 0) {
				ok++;
			} else {
				if (strncmp(cl[i].buf, "HTTP/1.1 503 ", 13) == 0)
					busy++;
				else
					other++;
				if (!sample[0])
					snprintf(sample, sizeof sample, "%.*s",
					         (int)strcspn(cl[i].buf, "\r"),
					         cl[i].got ? cl[i].buf : "(nothing, then a close)");
			}
			close(cl[i].fd);
			cl[i].fd = -1;
		}
	}
	for (int i = 0; i < CHURN_CLIENTS; i++)
		if (cl[i].fd >= 0)
			close(cl[i].fd);
	note("churn: %ld served, %ld 503, %ld other in %d ms with %d clients", ok, busy, other,
	     CHURN_MS, CHURN_CLIENTS);
	ck_assert_msg(ok > 0, "no client was served");
	ck_assert_msg(
	    busy == 0 && other == 0,
	    "%d clients reconnecting in a loop (--max-connections %d): %ld served, %ld got "
	    "503, %ld got something else (first: '%s')",
	    CHURN_CLIENTS, MAXCONN, ok, busy, other, sample);
	expect_no_fd_leak();
}
END_TEST

#define EMFILE_CLIENTS 100

/* The server runs with 64 fds. 100 clients each send a request: the server
 * stays up, answers each one or sheds it (503 or a close), leaves none
 * hanging, and once they are gone it serves again within a second, without
 * help. */
START_TEST(test_emfile)
{
	h_raise_nofile(EMFILE_CLIENTS + 64);
	struct h_conn *cl = calloc(EMFILE_CLIENTS, sizeof *cl);
	int *outcome = calloc(EMFILE_CLIENTS, sizeof *outcome); /* 0 pending, else status or 1 */
	ck_assert(cl && outcome);
	for (int i = 0; i < EMFILE_CLIENTS; i++) {
		/* connect succeeds through the backlog even when the server
		 * cannot accept. */
		h_conn_attach(&cl[i], must_connect(fx.srv.port, 0));
		static const char req[] = "GET /index.html HTTP/1.1\r\nHost: a\r\n\r\n";
		int r = h_send_all(cl[i].fd, req, sizeof req - 1);
		if (r != 0)
			outcome[i] = 1; /* already reset: shed */
	}
	/* Every client must hear something (an answer or the close) within
	 * h_ms(H_RECV_TIMEOUT_MS); wait for all of them at once. */
	struct pollfd *p = calloc(EMFILE_CLIENTS, sizeof *p);
	ck_assert(p != NULL);
	int waiting = 0;
	for (int i = 0; i < EMFILE_CLIENTS; i++) {
		p[i] = (struct pollfd){.fd = outcome[i] ? -1 : cl[i].fd, .events = POLLIN};
		waiting += !outcome[i];
	}
	uint64_t deadline = h_now_ms() + h_ms(H_RECV_TIMEOUT_MS);
	while (waiting > 0 && h_now_ms() < deadline) {
		int pr = poll(p, EMFILE_CLIENTS, (int)(deadline - h_now_ms()));
		if (pr < 0 && errno == EINTR)
			continue;
		ck_assert_msg(pr >= 0, "poll: %s", strerror(errno));
		for (int i = 0; i < EMFILE_CLIENTS; i++) {
			if (p[i].fd >= 0 && p[i].revents) {
				p[i].fd = -1;
				waiting--;
			}
		}
	}
	int served = 0, refused = 0, closed = 0, hung = 0;
	for (int i = 0; i < EMFILE_CLIENTS; i++) {
		if (outcome[i]) {
			closed++;
			continue;
		}
		if (p[i].fd >= 0) {
			hung++;
			continue;
		}
		struct h_resp h;
		int r = h_read_head(&cl[i], &h);
		if (r == H_EOF || r == H_RESET) {
			h_resp_free(&h);
			closed++;
			continue;
		}
		ck_assert_msg(r == H_OK, "client %d: %s %s", i, h_strerror(r), h.err);
		int status = h.status;
		char line[sizeof h.status_line];
		snprintf(line, sizeof line, "%s", h.status_line);
		h_resp_free(&h);
		if (status == 503) {
			refused++;
			continue;
		}
		ck_assert_msg(strcmp(line, "HTTP/1.1 200 OK") == 0, "client %d: status line '%s'",
		              i, line);
		unsigned char body[sizeof index_body];
		r = h_read_exact(&cl[i], body, sizeof index_body - 1);
		ck_assert_msg(r == H_OK && memcmp(body, index_body, sizeof index_body - 1) == 0,
		              "client %d: body of the 200", i);
		served++;
	}
	free(p);
	char state = h_proc_state(fx.srv.pid);
	ck_assert_msg(state != 0 && state != 'Z', "the server died under EMFILE");
	note("emfile: %d served, %d shed with 503, %d closed, %d hung", served, refused, closed,
	     hung);
	ck_assert_msg(hung == 0, "%d of %d clients got no answer and no close within %d ms", hung,
	              EMFILE_CLIENTS, h_ms(H_RECV_TIMEOUT_MS));
	ck_assert_msg(served > 0, "no client was served");
	ck_assert_msg(refused + closed >= EMFILE_CLIENTS - 64,
	              "%d served, %d shed with 503, %d closed: with 64 fds some must be shed",
	              served, refused, closed);
	for (int i = 0; i < EMFILE_CLIENTS; i++)
		h_conn_close(&cl[i]);
	free(cl);
	free(outcome);

	/* Accepting resumes by itself: a new client is served within 1 s of the
	 * others closing, with no event on the listener to prompt it. */
	uint64_t t0 = h_now_ms();
	fresh_get(fx.srv.port);
	uint64_t took = h_now_ms() - t0;
	note("emfile: served again %llu ms after the clients closed", (unsigned long long)took);
	ck_assert_msg(took < (uint64_t)h_ms(1000),
	              "after EMFILE, serving a new client took %llu ms", (unsigned long long)took);
	expect_no_fd_leak();
}
END_TEST

/* ---- graceful stop ---- */

/* SIGTERM while a 64 MiB download is in flight (read slowly at first): the
 * listener closes, the download completes byte for byte, and the server
 * exits 0. */
START_TEST(test_sigterm_mid_download)
{
	struct h_server s;
	char err[512];
	int r = start_server(&s, &spec_root_only, err, sizeof err);
	ck_assert_msg(r == 0, "starting the server: %s", err);
	struct h_conn *c = malloc(sizeof *c);
	ck_assert(c != NULL);
	h_conn_attach(c, must_connect(s.port, 256 * 1024));
	must_send(c->fd, "GET /big.bin HTTP/1.1\r\nHost: a\r\n\r\n");
	struct h_resp h;
	r = h_read_head(c, &h);
	ASSERT_RD(r, &h);
	ck_assert_msg(strcmp(h.status_line, "HTTP/1.1 200 OK") == 0, "status line '%s'",
	              h.status_line);
	ck_assert_msg(h_content_length(&h) == (long long)BIG_SIZE, "Content-Length %lld",
	              h_content_length(&h));
	h_resp_free(&h);
	static struct pcheck pc;
	pcheck_init(&pc, SEED_BIG);
	uint64_t first, rest;
	r = read_pattern_body(c, &pc, 1 << 20, &first, 20000); /* ~300 ms */
	ck_assert_msg(r == H_OK, "first MiB: %s", h_strerror(r));

	ck_assert(kill(s.pid, SIGTERM) == 0);
	/* The listener goes away at once... */
	int refused = 0;
	uint64_t end = h_now_ms() + (uint64_t)h_ms(1000);
	while (!refused && h_now_ms() < end) {
		h_sleep_ms(10); /* poll interval */
		int fd = h_connect(s.port, 0);
		if (fd < 0 && errno == ECONNREFUSED)
			refused = 1;
		else if (fd >= 0)
			h_close(fd);
	}
	/* ...while the download goes on to its last byte. */
	r = read_pattern_body(c, &pc, BIG_SIZE - first, &rest, 0);
	uint64_t got = first + rest;
	int status = -1, waited = h_wait_exit(s.pid, 10000, &status);
	if (waited != 0) {
		kill(s.pid, SIGKILL);
		(void)h_wait_exit(s.pid, 5000, &status);
	}
	close(s.out_fd);
	h_conn_close(c);
	free(c);
	ck_assert_msg(r == H_OK, "download after SIGTERM: %s after %llu of %llu bytes",
	              h_strerror(r), (unsigned long long)got, (unsigned long long)BIG_SIZE);
	ck_assert_msg(!pc.bad, "byte %llu differs", (unsigned long long)pc.bad_off);
	char what[64];
	ck_assert_msg(waited == 0 && WIFEXITED(status) && WEXITSTATUS(status) == 0,
	              "server after SIGTERM: %s, expected exit status 0",
	              waited == 0 ? h_describe_status(status, what, sizeof what)
	                          : "still running 10 s (scaled) after the download");
	ck_assert_msg(refused, "new connections were still accepted after SIGTERM");
}
END_TEST

/* ---- the suite ---- */

static TCase *
robust_tcase(const char *name, void (*setup)(void), int timeout)
{
	TCase *tc = tcase_create(name);
	tcase_add_unchecked_fixture(tc, setup, fixture_stop);
	tcase_set_timeout(tc, timeout);
	return tc;
}

#define NELEM(a) ((int)(sizeof(a) / sizeof((a)[0])))

Suite *
robust_suite(void)
{
	Suite *s = suite_create("robust");

	TCase *tc = robust_tcase("timeouts", setup_timeouts, 30);
	tcase_add_test(tc, test_slowloris);
	tcase_add_test(tc, test_trickle);
	tcase_add_test(tc, test_silent_clients);
	tcase_add_loop_test(tc, test_last_response_prompt, 0, NELEM(last_cases));
	tcase_add_test(tc, test_idle_keep_alive);
	tcase_add_test(tc, test_send_stall);
	suite_add_tcase(s, tc);

	tc = robust_tcase("floods", setup_floods, 30);
	tcase_add_test(tc, test_header_flood);
	tcase_add_test(tc, test_long_request_line);
	tcase_add_test(tc, test_concurrent_clients);
	tcase_add_test(tc, test_keep_alive_cap);
	suite_add_tcase(s, tc);

	tc = robust_tcase("faults", setup_faults, 30);
	tcase_add_loop_test(tc, test_client_abort, 0, NELEM(aborts));
	tcase_add_test(tc, test_truncated_while_sent);
	tcase_add_test(tc, test_renamed_while_sent);
	tcase_add_loop_test(tc, test_deleted_between_requests, 0, NELEM(deleted));
	suite_add_tcase(s, tc);

	tc = robust_tcase("max_connections", setup_maxconn, 30);
	tcase_add_test(tc, test_max_connections);
	tcase_add_test(tc, test_connection_churn);
	suite_add_tcase(s, tc);

	tc = robust_tcase("emfile", setup_emfile, 30);
	tcase_add_test(tc, test_emfile);
	suite_add_tcase(s, tc);

	tc = tcase_create("graceful_stop");
	tcase_add_unchecked_fixture(tc, setup_root_only, fixture_stop);
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_sigterm_mid_download);
	suite_add_tcase(s, tc);
	return s;
}
