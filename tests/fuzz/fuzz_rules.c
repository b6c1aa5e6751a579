/* libFuzzer harness: the _redirects/_headers parser and matcher.
 * The input is split at its first NUL byte: before it, the text of a rule
 * file (_headers when it starts with 'H', which is skipped, else
 * _redirects); after it,
 * request paths, one per line ("path?query"). Invariants: parsing never
 * fails but for memory; every match's target fits or is refused (-1) and
 * holds no CR, LF or NUL; rendered header lines end in CRLF. */
#include <assert.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "rules.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
ignore(void *ctx, const char *file, unsigned line, const char *reason)
{
	(void)ctx;
	assert(file && line > 0 && reason && *reason);
}

/* As serve.c calls it: a decoded path (any byte but NUL) and the raw
 * query, which the request parser lets through only without CTLs, SP and
 * DEL. */
static void
try_path(const struct rules *rs, const char *in, size_t n)
{
	char p[4096];
	if (n > sizeof p)
		n = sizeof p;
	memcpy(p, in, n);
	const char *q = memchr(p, '?', n);
	for (size_t i = 0; i < n; i++)
		if (p[i] == '\0' ||
		    (q && p + i > q && ((unsigned char)p[i] <= 0x20 || p[i] == 0x7f)))
			p[i] = 'x';
	size_t plen = q ? (size_t)(q - p) : n, qlen = q ? n - plen : 0;
	struct rules_captures caps;
	const struct rules_redirect *r = rules_match(rs, p, plen, q, qlen, n & 1, &caps);
	if (r) {
		char dst[2048];
		long t = rules_target(rs, r, &caps, q, qlen, dst, sizeof dst);
		if (t >= 0) {
			assert((size_t)t < sizeof dst && dst[t] == '\0' &&
			       strlen(dst) == (size_t)t);
			assert(!strpbrk(dst, "\r\n"));
		}
	}
	char hdr[1024], cc[512], type[256];
	size_t lines = 0;
	long h = rules_render_headers(rs, p, plen, hdr, sizeof hdr, &lines, cc, sizeof cc, type,
	                              sizeof type);
	if (h >= 0) {
		assert(lines <= (size_t)h && (size_t)h <= sizeof hdr);
		assert(lines == 0 || (hdr[lines - 2] == '\r' && hdr[lines - 1] == '\n'));
		assert(!strpbrk(cc, "\r\n"));
		/* One media type, never a line of its own. */
		assert(!strpbrk(type, "\r\n") && (type[0] == '\0' || strchr(type, '/')));
		for (size_t i = 0; i < lines;
		     i = (size_t)((char *)memchr(hdr + i, '\n', lines - i) - hdr) + 1)
			assert(strncasecmp(hdr + i, "Content-Type:", 13) != 0);
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *nul = memchr(data, 0, size);
	size_t tlen = nul ? (size_t)(nul - data) : size;
	enum rules_file which = tlen && data[0] == 'H' ? RULES_HEADERS : RULES_REDIRECTS;
	size_t skip = which == RULES_HEADERS;
	char *text = malloc(tlen + 1);
	memcpy(text, data + skip, tlen - skip);
	struct rules rs;
	rules_init(&rs);
	if (rules_parse(&rs, which, text, tlen - skip, ignore, NULL) == 0) {
		char sum[256];
		rules_summary(&rs, which, sum, sizeof sum);
		assert(strlen(sum) < sizeof sum);
		const char *p = nul ? (const char *)nul + 1 : "";
		const char *end = (const char *)data + size;
		if (!nul)
			end = p;
		while (p < end) {
			const char *nl = memchr(p, '\n', (size_t)(end - p));
			size_t n = nl ? (size_t)(nl - p) : (size_t)(end - p);
			try_path(&rs, p, n);
			p += n + 1;
		}
		try_path(&rs, "a/b/c", 5);
		try_path(&rs, "", 0);
	}
	rules_free(&rs);
	free(text);
	return 0;
}
