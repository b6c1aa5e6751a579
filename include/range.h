/* range.h - the Range request header, bytes unit (RFC 9110 14). Pure. */
#ifndef SHS_RANGE_H
#define SHS_RANGE_H

#include <stddef.h>
#include <stdint.h>

/* Ranges honoured in one request; more is answered with the whole file
 * (a cheap defence against many-small-ranges amplification). */
#define RANGE_MAX 16

struct range {
	uint64_t first, last; /* inclusive, both < size */
};

enum range_result {
	RANGE_IGNORE,        /* no usable Range: send the whole file (200) */
	RANGE_OK,            /* *n ranges (sorted, overlaps merged): 206 */
	RANGE_UNSATISFIABLE, /* 416 with Content-Range: bytes * / size */
};

/* Parses value[0..len) ("bytes=0-99,-500") for a representation of `size`
 * bytes. Malformed values and other units are RANGE_IGNORE, as are ranges on
 * an empty file (a 206 must never carry an empty span) and more than
 * RANGE_MAX ranges. */
enum range_result range_parse(const char *value, size_t len, uint64_t size, struct range *out,
                              size_t *n);

#endif
