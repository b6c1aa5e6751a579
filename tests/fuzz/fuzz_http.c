/* libFuzzer harness: the request parser and the chunked-body skipper.
 * Invariants: slices stay inside the input, head_len never passes it, an
 * OK prefix stays OK with more bytes, and the skipper never over-consumes. */
#include <assert.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "http.h"
#include "http_coding.h"
#include "http_chunked.h"

static void
check_slice(struct http_slice s, const char *buf, size_t len)
{
	if (s.len == 0)
		return;
	assert(s.p >= buf && s.p + s.len <= buf + len);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* A copy of exactly size bytes, so ASan catches any over-read. */
	char *buf = malloc(size ? size : 1);
	memcpy(buf, data, size);
	static struct http_request req;
	enum http_parse r = http_parse_request(buf, size, &req);
	if (r == HTTP_PARSE_OK) {
		assert(req.head_len > 0 && req.head_len <= size);
		check_slice(req.method_name, buf, size);
		check_slice(req.target, buf, size);
		assert(req.nheaders <= SHS_MAX_HEADERS);
		for (size_t i = 0; i < req.nheaders; i++) {
			check_slice(req.headers[i].name, buf, size);
			check_slice(req.headers[i].value, buf, size);
		}
		/* The recorded field of each kind is the first header of it. */
		for (int f = 0; f < HTTP_FIELD_COUNT; f++) {
			const struct http_header *h = http_field(&req, (enum http_field)f);
			size_t first = req.nheaders;
			for (size_t i = 0; i < req.nheaders && first == req.nheaders; i++)
				if (http_field_of(req.headers[i].name) == (enum http_field)f)
					first = i;
			assert(first == req.nheaders ? h == NULL : h == &req.headers[first]);
		}
		/* The same head with any extra bytes after it parses the same. */
		size_t head = req.head_len;
		static struct http_request again;
		assert(http_parse_request(buf, head, &again) == HTTP_PARSE_OK);
		assert(again.head_len == head);
	} else if (r == HTTP_PARSE_ERROR) {
		int s = req.error_status;
		assert(s == 400 || s == 431 || s == 501 || s == 505);
	}
	/* The method, when known, lies in the input, OK or not. */
	check_slice(req.method_name, buf, size);
	assert(req.method_name.len > 0 || req.method == HTTP_METHOD_UNKNOWN);
	if (size > 0) {
		int st = http_overflow_status(buf, size);
		assert(st == 414 || st == 431);
	}

	struct http_chunked c = {0};
	size_t used = 0, off = 0;
	while (off < size) {
		size_t step = (size - off) > 7 ? 7 : size - off;
		enum http_chunk_result cr = http_chunked_skip(&c, buf + off, step, &used);
		assert(used <= step);
		off += used;
		if (cr != HTTP_CHUNK_MORE)
			break;
	}
	struct http_slice s = {buf, size};
	int q = http_coding_q(s, "gzip");
	assert(q >= 0 && q <= 1000);
	free(buf);
	return 0;
}
