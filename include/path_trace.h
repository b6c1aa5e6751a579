/* path_trace.h - where a path beneath the top dir really leads, resolved by
 * hand (fstatat and readlinkat, one component at a time), for the rare
 * moments the kernel's answer is not enough: explaining a refusal (which
 * component is the symlink, and where it points) and applying the dotfile
 * rule to the target of a link. Never on the fast path: a request that
 * opens cleanly without symlinks never comes here. */
#ifndef SHS_PATH_TRACE_H
#define SHS_PATH_TRACE_H

#include <sys/stat.h>

#define PATH_TRACE_MAX 4096

/* Symlinks followed at most, as the kernel's MAXSYMLINKS. */
#define PATH_TRACE_LINKS 40

struct path_trace {
	/* The symlink (relative to the top dir) whose target takes the path
	 * out of the top dir when leaves is set; else the last one followed
	 * inside it; "" when none was. target is what readlink says of it. */
	char link[PATH_TRACE_MAX];
	char target[PATH_TRACE_MAX];
	/* Where the path leads: relative to the top dir ("" is the top dir),
	 * or absolute once it has left. With err set, the component the walk
	 * stopped at. */
	char final[PATH_TRACE_MAX];
	int leaves;     /* resolution left the top dir (an absolute link, or ".." above it) */
	int magic;      /* a symlink under /proc was met: a magic link, never followed */
	int links;      /* symlinks followed */
	int err;        /* 0, or -errno where the walk stopped */
	struct stat st; /* of final (not followed: final is no symlink), when err is 0 */
};

/* Resolves rel (a normalised path, "" for the top dir) beneath rootfd the
 * way the kernel would, without opening anything. Returns t->err. */
int path_trace(int rootfd, const char *rel, struct path_trace *t);

#endif
