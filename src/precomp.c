/* precomp.c - precompressed sidecars for a request. See precomp.h. */
#include "precomp.h"

#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "explain.h"
#include "http_coding.h"
#include "path.h"
#include "sidecar.h"

static int
newer_or_same(const struct timespec *a, const struct timespec *b)
{
	return a->tv_sec > b->tv_sec || (a->tv_sec == b->tv_sec && a->tv_nsec >= b->tv_nsec);
}

/* The best sidecar of path[0..len) the client accepts: its fd (and *best),
 * or -1. orig: x's stat, against which a sidecar must not be older, or
 * NULL when x is missing. Sets fi->vary when any usable sidecar exists. */
static int
pick(const struct site *s, const struct http_request *req, char *path, size_t len,
     const struct stat *orig, struct stat *best, struct reply_file *fi)
{
	const struct http_header *ae = http_field(req, HTTP_FIELD_ACCEPT_ENCODING);
	int best_q = 0, best_fd = -1;
	for (size_t i = 0; i < SIDECAR_COUNT; i++) {
		strcpy(path + len, sidecars[i].ext);
		struct stat sst;
		int sfd =
		    path_open_ex(s->rootfd, path, s->cfg->follow_symlinks, s->cfg->dotfiles, &sst);
		if (sfd < 0)
			continue;
		if (!S_ISREG(sst.st_mode)) {
			close(sfd);
			continue;
		}
		if (orig && !newer_or_same(&sst.st_mtim, &orig->st_mtim)) {
			explain_stale(s, path, len);
			close(sfd);
			continue;
		}
		fi->vary = 1;
		int q = ae ? http_coding_q(ae->value, sidecars[i].coding) : 0;
		if (q > best_q) {
			if (best_fd >= 0)
				close(best_fd);
			best_q = q;
			best_fd = sfd;
			*best = sst;
			fi->encoding = sidecars[i].coding;
		} else {
			close(sfd);
		}
	}
	path[len] = '\0';
	return best_fd;
}

void
precomp_choose(const struct site *s, const struct http_request *req, char *path, size_t len,
               int *fd, struct stat *st, struct reply_file *fi)
{
	struct stat best;
	int bfd = pick(s, req, path, len, st, &best, fi);
	if (bfd >= 0) {
		close(*fd);
		*fd = bfd;
		*st = best;
	}
}

int
precomp_only(const struct site *s, const struct http_request *req, char *path, size_t len,
             struct stat *st, struct reply_file *fi)
{
	int fd = pick(s, req, path, len, NULL, st, fi);
	return fd >= 0 ? fd : -ENOENT;
}
