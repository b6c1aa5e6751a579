/* listing.h - directory listings (--listing) as HTML, or JSON for clients
 * that prefer application/json. Names are HTML-escaped in text and
 * percent-encoded in links, so any file name is shown safely and every link
 * opens its file. The page is written to a memfd and sent like a file. */
#ifndef SHS_LISTING_H
#define SHS_LISTING_H

#include <stddef.h>

#include "http.h"
#include "reply.h"
#include "site.h"

/* Most entries listed; a larger directory says the list was cut. */
#define LISTING_MAX 10000

/* Answers with the listing of dir (a normalised path ending in '/', or ""
 * for the root), or 404 if it is not a directory. */
void listing_respond(const struct site *s, const struct http_request *req, struct reply *r,
                     const char *dir, size_t len);

#endif
