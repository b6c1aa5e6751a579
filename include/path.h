/* path.h - from request-target to an open file beneath the document root.
 *
 * path_normalize() is pure: it splits off the query, percent-decodes once,
 * removes dot segments and applies the dotfile policy, producing a relative
 * path ("" for the root, "a/b.html", "dir/" with its trailing slash kept).
 * path_open() opens such a path beneath the root directory fd with openat2
 * RESOLVE_BENEATH (or an O_NOFOLLOW walk on kernels without openat2), so no
 * symlink or race can leave the root. */
#ifndef SHS_PATH_H
#define SHS_PATH_H

#include <stddef.h>
#include <sys/stat.h>

#include "path_trace.h"

/* Not an errno: path_open_ex's "a symlink leads to a dotfile" (404). */
#define PATH_EHIDDEN 4095

enum path_status {
	PATH_OK,
	PATH_BAD,       /* malformed escape, %00, not an origin/absolute form: 400 */
	PATH_FORBIDDEN, /* ".." climbs above the root: 403 */
	PATH_HIDDEN,    /* a dotfile or dot-directory while they are off: 404 */
	PATH_TOO_LONG,  /* longer than the output buffer: 414 */
};

struct path_result {
	size_t len;         /* length of the normalised path written to out */
	int trailing_slash; /* the request path ended in '/' (or was "/") */
	const char *query;  /* "?..." within the target (not decoded), or NULL */
	size_t query_len;   /* including the '?' */
};

/* Normalises target[0..len) (origin-form "/p?q", or absolute-form
 * "http://host/p?q") into out (NUL-terminated, no leading slash). The
 * decoded path, before dot segments are removed, must fit in cap (with its
 * NUL but without the leading slash), else PATH_TOO_LONG.
 * With allow_dotfiles == 0, any segment that starts with '.' is PATH_HIDDEN,
 * except a first segment ".well-known". */
enum path_status path_normalize(const char *target, size_t len, int allow_dotfiles, char *out,
                                size_t cap, struct path_result *res);

/* Percent-encodes a normalised path for a Location header: unreserved
 * characters and "/!$&'()*+,;=:@" are kept, everything else is %XX. Returns
 * the length written (out is NUL-terminated), or -1 if it does not fit. */
long path_encode(const char *path, size_t len, char *out, size_t cap);

/* Opens rel (a normalised path; "" means the root itself) beneath rootfd,
 * read-only, non-blocking, close-on-exec, and fstat()s it. Returns the fd, or
 * -errno: -ENOENT/-ENOTDIR (404), -EXDEV/-ELOOP/-EACCES/-EPERM/-ENXIO/-ENODEV (403),
 * -ENAMETOOLONG (414), anything else (500/503). */
int path_open(int rootfd, const char *rel, struct stat *st);

/* path_open with the server's rules, used for every request:
 *   follow == 0: symlinks must resolve beneath rootfd (path_open);
 *   follow == 1 (--follow-symlinks): they may lead anywhere the user can
 *     read, never through a magic link (/proc/self/root and the like);
 *   dotfiles == 0: a path that goes through a symlink is traced
 *     (path_trace) and refused with -PATH_EHIDDEN when its target, inside
 *     the top dir, has a segment starting with '.' (".well-known" first
 *     excepted), as the request for that target would be.
 * A path without symlinks costs one openat2, as path_open. Without openat2
 * it is path_open_walk: every symlink is refused, whatever follow says. */
int path_open_ex(int rootfd, const char *rel, int follow, int dotfiles, struct stat *st);

/* The dotfile rule on where rel, a path through a symlink, really leads
 * (st: the file opened for it): 0, -PATH_EHIDDEN when that is a dotfile
 * inside the top dir, or -ELOOP when the links changed between the open and
 * this look (refused rather than guessed). Costs a path_trace. */
int path_check_target(int rootfd, const char *rel, const struct stat *st);

/* If abs, an absolute path without symlinks (path_trace's final), lies in
 * the top dir: the offset of its part below it (at its NUL for the top dir
 * itself); else -1. */
long path_within(int rootfd, const char *abs);

/* The fallback walk used when openat2 is missing; exported for the tests.
 * It refuses every symlink (-ELOOP) instead of resolving it. */
int path_open_walk(int rootfd, const char *rel, struct stat *st);

/* The HTTP status for a path_open() error (a negative errno). */
int path_errno_status(int neg_errno);

/* The HTTP status of a target that did not normalise (400, 403, 404 for a
 * dotfile, 414); 0 for PATH_OK. */
int path_status_code(enum path_status ps);

#endif
