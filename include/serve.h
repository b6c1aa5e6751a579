/* serve.h - deciding the response to a parsed request: method and target
 * checks, path resolution beneath the root, the file to send, and every
 * error response (with TOP/NNN.html as its body when present). Fills the
 * connection's output buffer and file fields; does no socket I/O. */
#ifndef SHS_SERVE_H
#define SHS_SERVE_H

#include "conn.h"
#include "http.h"

/* c->keep_alive, c->http10 and c->head_only are already set. */
void serve_request(struct conn *c, const struct http_request *req);

/* An error response with the status's page, e.g. for a head that failed to parse. */
void serve_error(struct conn *c, int status);

/* 200 with the whole of an already open, generated file (listings), sent
 * with Cache-Control: no-cache and Vary: Accept. Takes ownership of fd. */
void serve_file_fd(struct conn *c, const struct http_request *req, int fd, const char *type);

#endif
