/* preflight.c - --check: probes that leave nothing behind, and the report. See preflight.h. */
#include "preflight.h"

#include "daemon.h"
#include "net.h"
#include "options.h"
#include "rules.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <stdlib.h>
#include <pwd.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* The directory part of path ("." for a bare name, "/" for "/x"). */
static void
dir_of(const char *path, char *dst, size_t cap)
{
	const char *slash = strrchr(path, '/');
	if (!slash)
		snprintf(dst, cap, ".");
	else if (slash == path)
		snprintf(dst, cap, "/");
	else
		snprintf(dst, cap, "%.*s", (int)(slash - path), path);
}

/* Whether a new file could be made in path's directory: the errno a real
 * open(O_CREAT) would most likely meet, or 0. Root passes access(). */
static int
dir_takes_file(const char *path)
{
	char dir[PATH_MAX];
	struct stat sb;
	dir_of(path, dir, sizeof dir);
	if (stat(dir, &sb) != 0)
		return errno;
	if (!S_ISDIR(sb.st_mode))
		return ENOTDIR;
	return access(dir, W_OK | X_OK) == 0 ? 0 : errno;
}

static int
probe_pidfile(const char *path, char *err, size_t cap)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
	if (fd < 0) {
		int e = errno == ENOENT ? dir_takes_file(path) : errno;
		if (e == 0)
			return 0;
		snprintf(err, cap, "pidfile %s: %s", path, strerror(e));
		return -1;
	}
	/* F_GETLK asks without taking: a lock held by a live server shows,
	 * a stale file left by a crash does not (as in pidfile_acquire). */
	struct flock fl = {.l_type = F_WRLCK, .l_whence = SEEK_SET};
	struct stat sb;
	int r = fstat(fd, &sb) == 0 && S_ISDIR(sb.st_mode) ? (errno = EISDIR, -1)
	                                                   : fcntl(fd, F_GETLK, &fl);
	int e = errno;
	/* An OFD lock (it moves to a new generation with the fd): the holder
	 * is what the file says, as pidfile_acquire reports it. */
	pid_t holder = r == 0 && fl.l_type != F_UNLCK ? pidfile_holder(fd) : 0;
	close(fd);
	if (r != 0) {
		snprintf(err, cap, "pidfile %s: %s", path, strerror(e));
		return -1;
	}
	if (fl.l_type != F_UNLCK) {
		snprintf(err, cap, "already running: pidfile %s is held by process %ld", path,
		         (long)holder);
		return -1;
	}
	return 0;
}

static int
probe_log(const char *what, const char *path, int *created, char *err, size_t cap)
{
	*created = 0;
	if (strcmp(path, "-") == 0)
		return 0;
	/* O_NONBLOCK: a FIFO without a reader must not hang the check. */
	int fd = open(path, O_WRONLY | O_APPEND | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	int e = fd < 0 ? errno : 0;
	if (fd >= 0)
		close(fd);
	if (e == ENXIO)
		e = 0; /* a FIFO: a reader may come at start */
	if (e == ENOENT && (e = dir_takes_file(path)) == 0)
		*created = 1;
	if (e == 0)
		return 0;
	snprintf(err, cap, "%s '%s': %s", what, path, strerror(e));
	return -1;
}

static int
probe_identity(const char *user, const char *group, const char *jail, char *err, size_t cap)
{
	uid_t uid = geteuid();
	gid_t gid = getegid();
	if (user) {
		const struct passwd *pw = getpwnam(user);
		if (!pw) {
			snprintf(err, cap, "no such user '%s'", user);
			return -1;
		}
		uid = pw->pw_uid;
		gid = pw->pw_gid;
	}
	if (group) {
		const struct group *gr = getgrnam(group);
		if (!gr) {
			snprintf(err, cap, "no such group '%s'", group);
			return -1;
		}
		gid = gr->gr_gid;
	}
	/* privileges_drop's order: the names, the chroot, the switch. */
	if (jail && geteuid() != 0) {
		snprintf(err, cap, "chroot '%s': %s", jail, strerror(EPERM));
		return -1;
	}
	if ((user || group) && geteuid() != 0 && (uid != geteuid() || gid != getegid())) {
		snprintf(err, cap, "only root can switch to another user or group");
		return -1;
	}
	return 0;
}

/* Depth-first with a depth bound, so a deep tree cannot use up our fds. */
static void
count_in(int dirfd, int dotfiles, long limit, long *n, int depth)
{
	DIR *d = fdopendir(dirfd);
	if (!d) {
		close(dirfd);
		return;
	}
	const struct dirent *e;
	while (*n < limit && (e = readdir(d)) != NULL) {
		if (e->d_name[0] == '.' && (!dotfiles || e->d_name[1] == '\0' ||
		                            (e->d_name[1] == '.' && e->d_name[2] == '\0')))
			continue;
		unsigned char type = e->d_type;
		struct stat sb;
		if (type == DT_UNKNOWN && fstatat(dirfd, e->d_name, &sb, AT_SYMLINK_NOFOLLOW) == 0)
			type = S_ISDIR(sb.st_mode) ? DT_DIR : S_ISREG(sb.st_mode) ? DT_REG : DT_LNK;
		if (type == DT_REG || type == DT_LNK) {
			(*n)++;
		} else if (type == DT_DIR && depth < 32) {
			int sub = openat(dirfd, e->d_name,
			                 O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
			if (sub >= 0)
				count_in(sub, dotfiles, limit, n, depth + 1);
		}
	}
	closedir(d);
}

static long
count_files(int dirfd, int dotfiles, long limit)
{
	long n = 0;
	int fd = openat(dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd >= 0)
		count_in(fd, dotfiles, limit, &n, 0);
	return n;
}

/* What the report line shows. */
struct report {
	const char *top_dir; /* absolute */
	long files;
	const struct preflight_listeners *l;
	const int *chosen; /* chosen[k]: listener k is on port 0 */
	unsigned workers;
	const char *user, *group, *chroot_dir;
	const char *access_log; /* NULL: off */
	int access_created;
	const char *error_log; /* NULL: stderr */
	int error_created;
	const char *pidfile;
};

/* 1234567 as "1,234,567". */
static void
print_count(FILE *out, long n)
{
	if (n >= 1000) {
		print_count(out, n / 1000);
		fprintf(out, ",%03ld", n % 1000);
	} else {
		fprintf(out, "%ld", n);
	}
}

static void
print_listeners(FILE *out, const struct report *r)
{
	fputs(", listening on ", out);
	for (unsigned k = 0; k < r->l->nl; k++) {
		char addr[64];
		if (net_local_addr(r->l->fds[k], addr, sizeof addr) != 0)
			snprintf(addr, sizeof addr, "?");
		if (k > 0)
			fputs(" and ", out);
		if (r->chosen[k]) {
			/* The port bound now is not the one a start gets. */
			char *colon = strrchr(addr, ':');
			if (colon)
				*colon = '\0';
			fprintf(out, "%s:0 (any free port)", addr);
		} else {
			fputs(addr, out);
		}
		if (k < r->l->na)
			fputs(" (from systemd)", out);
	}
	if (r->l->moved)
		fprintf(out, " (%s)", r->l->moved);
}

static void
print_log(FILE *out, const char *what, const char *path, int created, const char *std)
{
	if (!path)
		fprintf(out, ", %s %s", what, std);
	else if (strcmp(path, "-") == 0)
		fprintf(out, ", %s stdout", what);
	else
		fprintf(out, ", %s %s%s", what, path, created ? " (will be created)" : "");
}

static void
print_report(FILE *out, const struct report *r)
{
	fprintf(out, "top dir %s (", r->top_dir);
	print_count(out, r->files);
	fprintf(out, "%s file%s)", r->files >= PREFLIGHT_MAX_FILES ? "+" : "",
	        r->files == 1 ? "" : "s");
	print_listeners(out, r);
	if (r->workers > 1)
		fprintf(out, ", %u workers", r->workers);
	if (r->user) {
		fprintf(out, ", user %s", r->user);
	} else {
		const struct passwd *pw = getpwuid(geteuid());
		if (pw)
			fprintf(out, ", user %s", pw->pw_name);
		else
			fprintf(out, ", user %ld", (long)geteuid());
	}
	if (r->group)
		fprintf(out, ", group %s", r->group);
	if (r->chroot_dir)
		fprintf(out, ", chroot %s", r->chroot_dir);
	print_log(out, "access log", r->access_log, r->access_created, "off");
	print_log(out, "error log", r->error_log, r->error_created, "stderr");
	if (r->pidfile)
		fprintf(out, ", pidfile %s", r->pidfile);
	fputc('\n', out);
}

/* --check's listing of a skipped rule line: the error log's words. */
static void
print_skipped(void *ctx, const char *file, unsigned line, const char *reason)
{
	fprintf(ctx, "%s:%u: %s\n", file, line, reason);
}

/* The rules a start would load (--rules, or --dev when the files are
 * there): each skipped line, then the summaries, as the error log says
 * them at startup. A skipped line never stops a start, so it does not
 * fail the check either. */
static void
print_rules(FILE *out, int rootfd, int say_none)
{
	struct rules rs;
	rules_init(&rs);
	if (rules_load(&rs, rootfd, print_skipped, out) < 0) {
		fprintf(out, "_redirects/_headers: %s; serving without rules\n", strerror(ENOMEM));
		return;
	}
	char line[256];
	for (int i = 0; i < 2; i++) {
		if (!rs.present[i])
			continue;
		rules_summary(&rs, (enum rules_file)i, line, sizeof line);
		fprintf(out, "%s\n", line);
	}
	if (say_none && !rs.present[0] && !rs.present[1])
		fputs("rules: no _redirects or _headers in the top dir\n", out);
	rules_free(&rs);
}

int
preflight_config(FILE *out, const struct options *o, int rootfd,
                 const struct preflight_listeners *l, char *err, size_t cap)
{
	int acreated = 0, ecreated = 0;
	const char *alog = o->access_log;
	if (alog && o->daemonize && strcmp(alog, "-") == 0)
		alog = NULL; /* as main.c decides: stdout is /dev/null once detached */
	if ((o->pidfile && probe_pidfile(o->pidfile, err, cap) < 0) ||
	    (alog && probe_log("access log", alog, &acreated, err, cap) < 0) ||
	    (o->cfg.error_log &&
	     probe_log("error log", o->cfg.error_log, &ecreated, err, cap) < 0) ||
	    probe_identity(o->user, o->group, o->chroot_top ? o->cfg.top_dir : o->chroot_dir, err,
	                   cap) < 0)
		return -1;
	char top[PATH_MAX];
	if (!realpath(o->cfg.top_dir, top))
		snprintf(top, sizeof top, "%s", o->cfg.top_dir);
	int chosen[SHS_MAX_LISTENERS];
	for (unsigned k = 0; k < l->nl && k < SHS_MAX_LISTENERS; k++)
		chosen[k] = k >= l->na && o->listens[k - l->na].port == 0;
	struct report r = {
	    .top_dir = top,
	    .files = count_files(rootfd, o->cfg.dotfiles, PREFLIGHT_MAX_FILES),
	    .l = l,
	    .chosen = chosen,
	    .workers = o->workers,
	    .user = o->user,
	    .group = o->group,
	    .chroot_dir = o->chroot_top ? top : o->chroot_dir,
	    .access_log = alog,
	    .access_created = acreated,
	    .error_log = o->cfg.error_log,
	    .error_created = ecreated,
	    .pidfile = o->pidfile,
	};
	print_report(out, &r);
	if (o->cfg.rules || o->cfg.dev)
		print_rules(out, rootfd, o->cfg.rules);
	return 0;
}

int
preflight_chroot(const char *chroot_dir, const char *top_dir, char *err, size_t cap)
{
	char jail[PATH_MAX], top[PATH_MAX];
	if (!realpath(chroot_dir, jail)) {
		snprintf(err, cap, "--chroot '%s': %s", chroot_dir, strerror(errno));
		return -1;
	}
	if (!realpath(top_dir, top)) {
		snprintf(err, cap, "top dir '%s': %s", top_dir, strerror(errno));
		return -1;
	}
	size_t n = strlen(jail);
	if (strcmp(jail, "/") != 0 &&
	    !(strncmp(top, jail, n) == 0 && (top[n] == '\0' || top[n] == '/'))) {
		snprintf(err, cap, "--chroot '%s' does not contain the top dir '%s'", chroot_dir,
		         top_dir);
		return -1;
	}
	return 0;
}
