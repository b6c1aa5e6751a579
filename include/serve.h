/* serve.h - deciding the response to a parsed request: method and target
 * checks, path resolution beneath the root, the file to send, and every
 * error response (with TOP/NNN.html as its body when present). A function
 * of (site, request) that fills a struct reply; no socket I/O, no struct
 * conn. */
#ifndef SHS_SERVE_H
#define SHS_SERVE_H

#include "http.h"
#include "reply.h"
#include "site.h"

/* r comes from reply_init with the request's keep_alive, http10 and
 * head_only. */
void serve_request(const struct site *s, const struct http_request *req, struct reply *r);

#endif
