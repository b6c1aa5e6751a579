/* libFuzzer harness: HTTP-date parsing and entity-tag matching.
 * Invariant: a parsed date formats to an IMF-fixdate that parses back to
 * the same instant. */
#include <assert.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cond.h"
#include "response.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *buf = malloc(size ? size : 1);
	memcpy(buf, data, size);
	time_t t;
	if (cond_parse_date(buf, size, &t) == 0) {
		char s[RESP_DATE_LEN + 1];
		if (resp_format_date(t, s, sizeof s) == RESP_DATE_LEN) {
			time_t back;
			assert(cond_parse_date(s, RESP_DATE_LEN, &back) == 0 && back == t);
		}
	}
	struct http_slice list = {buf, size};
	(void)cond_etag_match(list, "\"1-2-3\"", 7, 0);
	(void)cond_etag_match(list, "\"1-2-3\"", 7, 1);
	free(buf);
	return 0;
}
