/* health.c - the --health responder. See health.h. */
#include "health.h"

#include <string.h>
#include <strings.h>

/* An absolute-form target ("http://host:port/healthz", RFC 9112 3.2.2,
 * what a proxy sends) names its path after the authority; an empty path is
 * "/". Sets *target and *len to that path, or returns 0 for a target that
 * is neither that nor origin-form. */
static int
origin_path(const char **target, size_t *len)
{
	const char *t = *target;
	size_t n = *len, i;
	if (n >= 1 && t[0] == '/')
		return 1;
	if (n >= 7 && strncasecmp(t, "http://", 7) == 0)
		i = 7;
	else if (n >= 8 && strncasecmp(t, "https://", 8) == 0)
		i = 8;
	else
		return 0;
	size_t host = i;
	while (i < n && t[i] != '/' && t[i] != '?')
		i++;
	if (i == host)
		return 0; /* no authority: the parser's 400 */
	*target = i < n && t[i] == '/' ? t + i : "/";
	*len = i < n && t[i] == '/' ? n - i : 1;
	return 1;
}

int
health_matches(const char *health_path, const char *target, size_t len)
{
	if (!health_path || !origin_path(&target, &len))
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
