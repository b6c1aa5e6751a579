/* libFuzzer harness: the Range parser. The first 8 bytes are the file size.
 * Invariants: ranges are sorted, disjoint, non-adjacent, and inside the file. */
#include <assert.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "range.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint64_t fsize = 0;
	if (size >= 8) {
		memcpy(&fsize, data, 8);
		fsize %= (1ull << 40);
		data += 8;
		size -= 8;
	}
	char *buf = malloc(size ? size : 1);
	memcpy(buf, data, size);
	struct range r[RANGE_MAX];
	size_t n = 99;
	enum range_result res = range_parse(buf, size, fsize, r, &n);
	if (res == RANGE_OK) {
		assert(n >= 1 && n <= RANGE_MAX && fsize > 0);
		for (size_t i = 0; i < n; i++) {
			assert(r[i].first <= r[i].last && r[i].last < fsize);
			if (i > 0)
				assert(r[i].first > r[i - 1].last + 1);
		}
	} else {
		assert(fsize > 0 || res == RANGE_IGNORE);
	}
	free(buf);
	return 0;
}
