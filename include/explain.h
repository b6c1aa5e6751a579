/* explain.h - every refusal explains itself to the person who can fix it,
 * never to the client: one warning line in the error log saying why a
 * request was refused and which option or change would serve it (a
 * symlink leaving the top dir, a dotfile, a file the server user cannot
 * read, a special file, a directory without an index, a stale sidecar).
 * Lines are rate limited (once per line per EXPLAIN_AGAIN_MS, at most
 * EXPLAIN_PER_SEC a second) and escaped (request bytes are the client's).
 * With --dev the error page shows the same sentence; without it the client
 * gets the plain page it always got. */
#ifndef SHS_EXPLAIN_H
#define SHS_EXPLAIN_H

#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>

#include "http.h"
#include "path.h"
#include "reply.h"
#include "site.h"

/* The same line again is logged after this long, not before. */
#define EXPLAIN_AGAIN_MS (10 * 60 * 1000)
/* Explanations logged in one second at most; the rest are counted. */
#define EXPLAIN_PER_SEC 20
/* Recently logged lines remembered (direct-mapped by hash). */
#define EXPLAIN_SLOTS 256

/* src[0..n) for a log line: bytes outside printable ASCII and '\\' become
 * \xHH; cut with "..." to fit cap (NUL-terminated). Returns the length. */
size_t explain_escape(const char *src, size_t n, char *out, size_t cap);


/* A path that could not be opened (fd: path_open_ex's -errno): a listing
 * (--listing), a 404 (with a suggestion in --dev), 403 or 500, explained.
 * path has the request's normalised path in its first pr->len bytes (and
 * maybe "index.html" after them). */
void explain_unopened(const struct site *s, const struct http_request *req, struct reply *r,
                      char *path, const struct path_result *pr, int fd);

/* A dotfile request refused by path_normalize (PATH_HIDDEN): 404. */
void explain_hidden(const struct site *s, struct reply *r, const char *path);

/* An opened path that is neither a regular file nor a directory: 403. */
void explain_special(const struct site *s, struct reply *r, const char *path,
                     const struct stat *st);

/* A sidecar older than the file it compresses is not served: say so. */
void explain_stale(const struct site *s, const char *sidecar, size_t orig_len);

#endif
