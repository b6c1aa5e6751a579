/* http_chunked.h - skipping a chunked request body (RFC 9112 7.1).
 *
 * We serve static files, so a request body is never used, only read past so
 * the next request on the connection can be parsed. Pure: bytes in, how many
 * belonged to the body out, with the state kept in a small struct between
 * reads. */
#ifndef SHS_HTTP_CHUNKED_H
#define SHS_HTTP_CHUNKED_H

#include <stddef.h>
#include <stdint.h>

enum http_chunk_state {
	HTTP_CHUNK_SIZE = 0, /* must be 0 so a zeroed struct is the start */
	HTTP_CHUNK_EXT,
	HTTP_CHUNK_SIZE_LF,
	HTTP_CHUNK_DATA,
	HTTP_CHUNK_DATA_CR,
	HTTP_CHUNK_DATA_LF,
	HTTP_CHUNK_TRAILER_START,
	HTTP_CHUNK_TRAILER,
	HTTP_CHUNK_END_LF,
	HTTP_CHUNK_DONE,
};

struct http_chunked {
	enum http_chunk_state state;
	uint64_t left;     /* data bytes left in the current chunk */
	unsigned digits;   /* hex digits seen in the current size */
	unsigned line_len; /* length of the current extension/trailer line */
	uint64_t consumed; /* body bytes (framing included) consumed so far */
};

enum http_chunk_result {
	HTTP_CHUNK_MORE, /* consumed all of buf; the body goes on */
	HTTP_CHUNK_END,  /* the body ended; *used bytes belonged to it */
	HTTP_CHUNK_BAD,  /* malformed: 400 and close */
};

/* Consumes body bytes from buf[0..len), setting *used. */
enum http_chunk_result http_chunked_skip(struct http_chunked *c, const char *buf, size_t len,
                                         size_t *used);

#endif
