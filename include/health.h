/* health.h - --health PATH: the answer a load balancer's health check gets.
 * It does not depend on the top directory (an empty one, or a file of that
 * name, changes nothing), is never cached (Cache-Control: no-store) and is
 * not written to the access log (a check every 100 ms would drown it).
 * During lame duck (site.h: s->lameduck) it turns into 503, so the
 * balancer takes the instance out while everything else is still served. */
#ifndef SHS_HEALTH_H
#define SHS_HEALTH_H

#include "http.h"
#include "reply.h"
#include "site.h"

/* The bodies, for the tests and the README. */
#define HEALTH_OK_BODY "ok\n"
#define HEALTH_DRAINING_BODY "draining\n"
/* What the health path allows (405 says so). */
#define HEALTH_ALLOW "GET, HEAD"

/* Is the request's target the --health path (origin-form, or the path of
 * an absolute-form target; a query string ignored; not decoded)? Pure. */
int health_matches(const char *health_path, const char *target, size_t len);

/* If the request is for the --health path: fills r (200 "ok\n", 503
 * "draining\n" in lame duck, 405 for other methods) and returns 1; else 0
 * and r is untouched. */
int health_respond(const struct site *s, const struct http_request *req, struct reply *r);

#endif
