/* http_coding.h - q-value lists such as Accept-Encoding and Accept
 * (RFC 9110 12.4.2): how much a client wants one coding or type. Pure. */
#ifndef SHS_HTTP_CODING_H
#define SHS_HTTP_CODING_H

#include "http.h"

/* How much a client wants a content coding, from its Accept-Encoding value:
 * the q-value in thousandths (0 = not acceptable). A coding that is not
 * listed takes the q of "*" if present, else 0. q values are parsed per
 * RFC 9110 12.4.2; a malformed one counts as 0. */
int http_coding_q(struct http_slice accept_encoding, const char *coding);

#endif
