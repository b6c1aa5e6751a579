/* precomp.h - --precompressed: which sidecar (x.br, x.zst, x.gz; see
 * sidecar.h) answers a request for x. With x present, a fresh sidecar the
 * client accepts replaces it (a stale one is explained and skipped). With x
 * absent, a sidecar alone is served to clients that accept its coding, as
 * nginx's gzip_static does; the others get a 404 with Vary, so caches keep
 * the two answers apart. */
#ifndef SHS_PRECOMP_H
#define SHS_PRECOMP_H

#include <stddef.h>
#include <sys/stat.h>

#include "http.h"
#include "reply.h"
#include "site.h"

/* x (path[0..len), open at *fd, *st) has a fresh sidecar: fi->vary is set,
 * and when the client accepts one, *fd and *st become the best one and
 * fi->encoding its coding. path has room for the extension. */
void precomp_choose(const struct site *s, const struct http_request *req, char *path, size_t len,
                    int *fd, struct stat *st, struct reply_file *fi);

/* x (path[0..len)) does not exist: the fd of the best sidecar the client
 * accepts (st, fi->encoding and fi->vary set), else -ENOENT, with fi->vary
 * set when some sidecar exists (the 404 then carries Vary). */
int precomp_only(const struct site *s, const struct http_request *req, char *path, size_t len,
                 struct stat *st, struct reply_file *fi);

#endif
