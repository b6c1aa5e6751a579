/* cond.h - validators and conditional requests (RFC 9110 8.8, 13): the ETag
 * we send, HTTP-date parsing, entity-tag list matching, and the order in
 * which If-Match, If-Unmodified-Since, If-None-Match and If-Modified-Since
 * are evaluated. Pure: no I/O, no allocation. */
#ifndef SHS_COND_H
#define SHS_COND_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "http.h"

/* Longest ETag cond_format_etag writes, quotes included. */
#define COND_ETAG_MAX 64

/* A strong ETag from size and mtime in nanoseconds: what a copy keeps
 * (cp -a, rsync -a, tar --format=posix), so instances serving copies of one
 * tree agree, unlike a tag with the inode (Apache dropped it for this). The
 * nanoseconds change on a same-size rewrite within one second. A sidecar
 * (coding "gzip", "br", "zstd") gets the coding in its tag, so a .gz with
 * the size and mtime of its original still has a tag of its own; NULL for
 * the identity coding. Costs O(1): no hashing.
 * Writes "\"size-mtimens\"" or "\"size-mtimens-coding\"" (hex) plus NUL;
 * returns its length or -1 if cap is too small. */
int cond_format_etag(uint64_t size, int64_t mtime_sec, long mtime_nsec, const char *coding,
                     char *dst, size_t cap);

/* Parses an HTTP-date in any of the three formats a recipient must accept
 * (IMF-fixdate, RFC 850, asctime). Returns 0 and sets *t, or -1. */
int cond_parse_date(const char *s, size_t len, time_t *t);

/* Does the If-Match / If-None-Match value `list` ("*" or a comma list of
 * entity-tags) match etag? weak != 0 uses the weak comparison (W/ ignored),
 * else the strong one (a weak tag never matches). A malformed list never
 * matches. */
int cond_etag_match(struct http_slice list, const char *etag, size_t etag_len, int weak);

enum cond_result {
	COND_PROCEED,      /* no condition stops the request */
	COND_NOT_MODIFIED, /* 304 */
	COND_FAILED,       /* 412 */
};

/* The preconditions of a request for a resource with this ETag and
 * Last-Modified, in the order RFC 9110 13.2.2 gives. */
enum cond_result cond_evaluate(const struct http_request *req, const char *etag, size_t etag_len,
                               time_t last_modified);

/* If-Range (RFC 9110 13.1.5): 1 if the ranges should be honoured (no
 * If-Range, a strong ETag match, or an exactly equal date), else 0. */
int cond_if_range(const struct http_request *req, const char *etag, size_t etag_len,
                  time_t last_modified);

#endif
