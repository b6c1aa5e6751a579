/* http_fields.h - header field names and values, the half of the request-head
 * parser that gives fields their meaning (RFC 9110 5-7, RFC 9112 3.2 and 6).
 *
 * http.c reads the request line and the field lines into slices; this module
 * says which known field each name is (http_field_of), splits list values
 * (http_list_each), compares names and values (http_slice_eq), and applies
 * the fields the server acts on: Host, Connection, Content-Length,
 * Transfer-Encoding and Expect. Those public functions are declared in http.h
 * with the types, so callers include only http.h; this header holds what the
 * parser alone calls. Pure: no I/O, no allocation. */
#ifndef SHS_HTTP_FIELDS_H
#define SHS_HTTP_FIELDS_H

#include "http.h"

/* Fills req's field index (first[]), Host, Connection, Content-Length,
 * Transfer-Encoding and Expect results from req->headers[0..nheaders), and
 * checks the framing and Host rules of RFC 9112 3.2 and 6.1-6.3. Returns 0,
 * or the error status: 400 for a malformed or unsafe request (bad or
 * conflicting Content-Length, Transfer-Encoding with Content-Length or in
 * HTTP/1.0 or not ending in one chunked, a missing, repeated or invalid
 * Host), 501 for a Transfer-Encoding coding before chunked. A 400 wins over
 * a 501. */
int http_fields_apply(struct http_request *req);

#endif
