/* libFuzzer harness: path normalisation and Location encoding.
 * Invariants: an OK result is NUL-terminated at len, has no leading '/',
 * no empty, "." or ".." segment, no NUL, and re-normalises to itself. */
#include <assert.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "path.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *buf = malloc(size ? size : 1);
	memcpy(buf, data, size);
	char out[512];
	struct path_result pr;
	enum path_status st = path_normalize(buf, size, size & 1, out, sizeof out, &pr);
	if (st == PATH_OK) {
		assert(pr.len < sizeof out && out[pr.len] == '\0');
		assert(strlen(out) == pr.len);
		assert(pr.len == 0 || out[0] != '/');
		assert(strstr(out, "//") == NULL);
		/* Every segment is a real name. */
		const char *p = out;
		while (*p) {
			const char *e = strchr(p, '/');
			size_t n = e ? (size_t)(e - p) : strlen(p);
			assert(n > 0);
			assert(!(n == 1 && p[0] == '.'));
			assert(!(n == 2 && p[0] == '.' && p[1] == '.'));
			p += n + (e ? 1 : 0);
		}
		if (pr.query)
			assert(pr.query >= buf && pr.query + pr.query_len <= buf + size);
		/* Encoding and normalising again gives the same path. */
		char enc[1600], again[512];
		enc[0] = '/';
		long n = path_encode(out, pr.len, enc + 1, sizeof enc - 1);
		assert(n >= 0);
		struct path_result pr2;
		assert(path_normalize(enc, (size_t)n + 1, 1, again, sizeof again, &pr2) == PATH_OK);
		assert(strcmp(again, out) == 0);
	}
	free(buf);
	return 0;
}
