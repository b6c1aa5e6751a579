/* suggest.h - for --dev 404 pages: the file the client probably meant. */
#ifndef SHS_SUGGEST_H
#define SHS_SUGGEST_H

#include <stddef.h>

/* Edit distance between a[0..an) and b[0..bn), case-insensitive, capped:
 * returns max + 1 when it is larger than max. Pure. */
unsigned suggest_distance(const char *a, size_t an, const char *b, size_t bn, unsigned max);

/* For a normalised path that was not found, the path (normalised, no
 * leading slash) of an existing regular file it most likely meant: the same
 * name with ".html", a case-only mismatch, or a name at most two edits away
 * in the same directory. Writes it to out and returns its length, or 0. */
size_t suggest_path(int rootfd, const char *path, size_t len, int dotfiles, char *out, size_t cap);

struct site;
struct reply;

/* --dev: a 404 for path that links to the file it most likely meant, put
 * into TOP/404.html (before </body>) or the built-in page. Returns 0 (and
 * plans nothing) when there is nothing to suggest. */
int suggest_respond(const struct site *s, struct reply *r, const char *path, size_t len);

/* --dev error pages: TOP/NNN.html (before </body>) or the built-in page
 * for status, with snippet (HTML) in it, sent with Cache-Control:
 * no-cache. Returns 1, or 0 (and plans nothing) if it cannot be built. */
int suggest_page(const struct site *s, struct reply *r, int status, const char *snippet, size_t n);

#endif
