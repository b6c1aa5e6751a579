/* health.c - the --health responder. See health.h. */
#include "health.h"

#include <string.h>

int
health_matches(const char *health_path, const char *target, size_t len)
{
	if (!health_path)
		return 0;
	const char *q = memchr(target, '?', len);
	if (q)
		len = (size_t)(q - target);
	size_t n = strlen(health_path);
	return len == n && memcmp(target, health_path, n) == 0;
}

int
health_respond(const struct site *s, const struct http_request *req, struct reply *r)
{
	if (!health_matches(s->cfg->health_path, req->target.p, req->target.len))
		return 0;
	int status = 200;
	const char *body = HEALTH_OK_BODY;
	if (req->method != HTTP_METHOD_GET && req->method != HTTP_METHOD_HEAD) {
		/* Logged: a probe that is not a health check is worth seeing. */
		status = 405;
		body = "method not allowed\n";
	} else {
		/* A check every 100 ms from each balancer would drown the log. */
		r->no_log = 1;
		if (s->lameduck) {
			status = 503;
			body = HEALTH_DRAINING_BODY;
		}
	}
	size_t len = strlen(body);
	struct resp_buf b;
	reply_head_with_body(s, r, &b, status, "text/plain", len);
	if (status == 405)
		resp_header(&b, "Allow", HEALTH_ALLOW);
	r->no_store = 1; /* a cached "ok" would hide the lame duck */
	reply_end_headers(s, r, &b);
	size_t head = b.len;
	if (!r->head_only)
		resp_add(&b, body, len);
	if (b.overflow) {
		reply_overflow(r, -1, status);
		return 1;
	}
	reply_plan(r, status, b.len, -1, 0, 0);
	r->head_len = head;
	return 1;
}
