/* check_pool.c - request buffers borrowed per request (issue 14): the pool
 * module alone, and the real binary with a small --max-buffers: an idle
 * keep-alive connection holds no buffer, a full pool sheds new requests with
 * a 503 and corrupts nothing, a head split over many reads keeps its buffer,
 * and pipelined requests straddle a buffer's return. */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "harness.h"
#include "pool.h"
#include "suites.h"

/* ---- the pool module ---- */

START_TEST(pool_reuses_and_refuses)
{
	struct pool p;
	pool_init(&p, 1000, 2);
	ck_assert_uint_eq(p.size % 4096, 0); /* whole pages */
	char *a = pool_get(&p), *b = pool_get(&p);
	ck_assert_ptr_nonnull(a);
	ck_assert_ptr_nonnull(b);
	ck_assert_ptr_ne(a, b);
	memset(a, 'a', 1000); /* the whole block is ours */
	memset(b, 'b', 1000);
	ck_assert_ptr_null(pool_get(&p)); /* max reached */
	ck_assert_uint_eq(pool_refused(&p), 1);
	ck_assert_uint_eq(pool_refused(&p), 0); /* counted once */
	pool_put(&p, a);
	ck_assert_ptr_eq(pool_get(&p), a); /* a returned block is reused */
	ck_assert_uint_eq(p.count, 2);
	pool_put(&p, a);
	pool_put(&p, b);
	pool_free(&p);
	ck_assert_uint_eq(p.count, 0);
	ck_assert_uint_eq(p.nfree, 0);
}
END_TEST

/* Blocks unused for a whole trim interval go back to the kernel, down to
 * POOL_SPARE; blocks used in the interval stay. */
START_TEST(pool_trims_what_load_did_not_need)
{
	enum { N = POOL_SPARE + 40 };
	struct pool p;
	pool_init(&p, 8192, N);
	void *blocks[N];
	for (int i = 0; i < N; i++)
		ck_assert_ptr_nonnull(blocks[i] = pool_get(&p));
	for (int i = 0; i < N; i++)
		pool_put(&p, blocks[i]);
	ck_assert_uint_eq(p.nfree, N);
	/* The interval that just ended saw the pool empty: nothing to drop. */
	uint64_t t = 100000;
	ck_assert_uint_ne(pool_trim(&p, t), UINT64_MAX);
	ck_assert_uint_eq(p.count, N);
	/* A second later, all N stayed free the whole time. */
	(void)pool_trim(&p, t + 999);
	ck_assert_uint_eq(p.count, N); /* not yet a second */
	ck_assert_uint_eq(pool_trim(&p, t + 1000), UINT64_MAX);
	ck_assert_uint_eq(p.count, POOL_SPARE);
	ck_assert_uint_eq(p.nfree, POOL_SPARE);
	/* Under load every free block is used again: none is dropped. */
	void *again[POOL_SPARE];
	for (int i = 0; i < POOL_SPARE; i++)
		again[i] = pool_get(&p);
	for (int i = 0; i < POOL_SPARE; i++)
		pool_put(&p, again[i]);
	ck_assert_uint_eq(p.count, POOL_SPARE);
	pool_free(&p);
}
END_TEST

/* ---- the server ---- */

struct pool_server {
	char *base;
	char root[PATH_MAX];
	char log[PATH_MAX];
	struct h_server srv;
};

#define BODY "hello, pool\n"

static void
start(struct pool_server *f, const char *const *extra)
{
	f->base = h_mkdtemp();
	snprintf(f->root, sizeof f->root, "%s/root", f->base);
	snprintf(f->log, sizeof f->log, "%s/server.log", f->base);
	h_mkdir(f->base, "root");
	h_write_str(f->base, "root/x.txt", BODY);
	char err[512];
	if (h_server_start(&f->srv, f->root, f->log, extra, err, sizeof err) != 0)
		ck_abort_msg("starting the server: %s", err);
}

static void
stop(struct pool_server *f)
{
	h_close_all();
	int st = h_server_stop(&f->srv, 10000);
	char buf[64];
	ck_assert_msg(st >= 0 && WIFEXITED(st) && WEXITSTATUS(st) == 0, "server stop: %s",
	              h_describe_status(st, buf, sizeof buf));
	h_rmtree(f->base);
	free(f->base);
}

static void
expect_ok(struct h_conn *c)
{
	struct h_resp r;
	H_ASSERT_RC(h_read_response(c, &r, 0), &r);
	H_ASSERT_STATUS(&r, "HTTP/1.1 200 OK");
	H_ASSERT_BODY(&r, BODY, strlen(BODY));
	h_resp_free(&r);
}

static const char get_x[] = "GET /x.txt HTTP/1.1\r\nHost: t\r\n\r\n";

/* One buffer: connections that take turns all get answers, because a
 * connection that goes idle after its answer gives its buffer back (with
 * and without an access log: the log line is written first). */
START_TEST(idle_connection_holds_no_buffer)
{
	const char *const with_log[] = {"--max-buffers", "1", NULL};
	const char *const no_log[] = {"--max-buffers", "1", "--no-access-log", NULL};
	struct pool_server f;
	start(&f, _i ? no_log : with_log);
	struct h_conn a, b, c;
	h_conn_open(&a, f.srv.port);
	h_conn_open(&b, f.srv.port);
	h_conn_open(&c, f.srv.port);
	for (int round = 0; round < 3; round++) {
		h_conn_send(&a, get_x);
		expect_ok(&a);
		h_conn_send(&b, get_x);
		expect_ok(&b);
		h_conn_send(&c, get_x);
		expect_ok(&c);
	}
	stop(&f);
}
END_TEST

/* Two buffers held by two half-sent heads: a third request is shed with a
 * 503 and the connection closed; the two heads, finished later, get their
 * own answers intact; then the buffers serve again. */
START_TEST(exhausted_pool_sheds_and_corrupts_nothing)
{
	const char *const extra[] = {"--max-buffers", "2", NULL};
	struct pool_server f;
	start(&f, extra);
	struct h_conn a, b, c, d;
	h_conn_open(&a, f.srv.port);
	h_conn_open(&b, f.srv.port);
	h_conn_send(&a, "GET /x.txt HTTP/1.1\r\nHo");
	h_conn_send(&b, "GET /x.t");
	/* Both partial heads hold a buffer once the server has read them:
	 * wait until a third request is refused (the server is single-threaded
	 * and reads in order, but the bytes may not have arrived yet). */
	int shed = 0;
	for (uint64_t end = h_now_ms() + (uint64_t)h_ms(5000); !shed && h_now_ms() < end;) {
		h_conn_open(&c, f.srv.port);
		h_conn_send(&c, get_x);
		struct h_resp r;
		H_ASSERT_RC(h_read_response(&c, &r, 0), &r);
		if (r.status == 503) {
			H_ASSERT_STATUS(&r, "HTTP/1.1 503 Service Unavailable");
			H_ASSERT_HEADER(&r, "Connection", "close");
			H_ASSERT_HEADER(&r, "Retry-After", "1");
			H_ASSERT_CLOSED(&c);
			shed = 1;
		} else {
			H_ASSERT_STATUS(&r, "HTTP/1.1 200 OK"); /* before both were read */
		}
		h_resp_free(&r);
		h_conn_close(&c);
	}
	ck_assert_msg(shed, "a third request was never refused with two buffers held");
	h_conn_send(&a, "st: t\r\n\r\n");
	h_conn_send(&b, "xt HTTP/1.1\r\nHost: t\r\n\r\n");
	expect_ok(&a);
	expect_ok(&b);
	/* Idle again: both buffers are back. */
	h_conn_open(&d, f.srv.port);
	h_conn_send(&d, get_x);
	expect_ok(&d);
	h_conn_send(&a, get_x);
	expect_ok(&a);
	char tail[4096];
	h_tail_file(f.log, tail, sizeof tail);
	ck_assert_msg(
	    h_wait_file_contains(f.log, "shed in the last second (no request buffers)", 5000) >= 0,
	    "no shed report in the error log: %s", tail);
	stop(&f);
}
END_TEST

/* A head split over many reads, on a connection whose earlier request gave
 * its buffer back: the buffer taken at the first byte stays until the head
 * is whole. Another connection meanwhile is refused (one buffer), which
 * shows the partial head holds it. */
START_TEST(split_head_across_hand_off)
{
	const char *const extra[] = {"--max-buffers", "1", NULL};
	struct pool_server f;
	start(&f, extra);
	struct h_conn a;
	h_conn_open(&a, f.srv.port);
	h_conn_send(&a, get_x);
	expect_ok(&a); /* buffer given back */
	const char *head = get_x;
	size_t n = strlen(head);
	for (size_t i = 0; i < n; i++) {
		h_conn_send_buf(&a, head + i, 1);
		if (i == n / 2) {
			/* Wait until the server holds the partial head's buffer:
			 * a new connection's request is then refused. */
			int refused = 0;
			for (uint64_t end = h_now_ms() + (uint64_t)h_ms(5000);
			     !refused && h_now_ms() < end;) {
				struct h_conn b;
				h_conn_open(&b, f.srv.port);
				h_conn_send(&b, get_x);
				struct h_resp r;
				H_ASSERT_RC(h_read_response(&b, &r, 0), &r);
				refused = r.status == 503;
				h_resp_free(&r);
				h_conn_close(&b);
			}
			ck_assert_msg(refused, "the partial head did not hold the buffer");
		}
	}
	expect_ok(&a);
	stop(&f);
}
END_TEST

/* Pipelined requests: bytes of the next request behind an answered one keep
 * the buffer (nothing is lost when it would otherwise go back), and the
 * rest of that request, sent later, completes it. */
START_TEST(pipeline_straddles_buffer_return)
{
	const char *const extra[] = {"--max-buffers", "1", NULL};
	struct pool_server f;
	start(&f, extra);
	struct h_conn a;
	h_conn_open(&a, f.srv.port);
	char two[256];
	snprintf(two, sizeof two, "%s%s%s", get_x, get_x, "GET /x.txt HTTP/1.1\r\nHo");
	h_conn_send(&a, two);
	expect_ok(&a);
	expect_ok(&a);
	h_conn_send(&a, "st: t\r\n\r\n");
	expect_ok(&a);
	/* All answered and idle: the one buffer serves another connection. */
	struct h_conn b;
	h_conn_open(&b, f.srv.port);
	h_conn_send(&b, get_x);
	expect_ok(&b);
	stop(&f);
}
END_TEST

Suite *
pool_suite(void)
{
	Suite *s = suite_create("pool");
	TCase *tc = tcase_create("module");
	tcase_add_test(tc, pool_reuses_and_refuses);
	tcase_add_test(tc, pool_trims_what_load_did_not_need);
	suite_add_tcase(s, tc);
	tc = tcase_create("server");
	tcase_set_timeout(tc, 60);
	tcase_add_loop_test(tc, idle_connection_holds_no_buffer, 0, 2);
	tcase_add_test(tc, exhausted_pool_sheds_and_corrupts_nothing);
	tcase_add_test(tc, split_head_across_hand_off);
	tcase_add_test(tc, pipeline_straddles_buffer_return);
	suite_add_tcase(s, tc);
	return s;
}
