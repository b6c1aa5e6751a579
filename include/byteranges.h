/* byteranges.h - 206 Partial Content for the ranges in c->ranges. */
#ifndef SHS_BYTERANGES_H
#define SHS_BYTERANGES_H

#include <sys/stat.h>

#include "reply.h"

/* Plans a 206 for the c->nranges ranges of the file open at fd: one part
 * inline with Content-Range, several as multipart/byteranges whose exact
 * length is known up front. Takes ownership of fd. */
void byteranges_respond(const struct site *s, struct reply *r, int fd, const struct stat *st,
                        const struct reply_file *fi, const char *type);

/* multipart/byteranges: after one part's bytes are sent, formats the next
 * part's header (or the closing boundary) into c->out and points the file
 * range at its bytes. Returns 0 when there is nothing more to send. */
int byteranges_next_part(const struct site *s, struct reply *r);

#endif
