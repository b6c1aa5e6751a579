/* upgrade_exec.c - what an on-line upgrade executes and how the child
 * lays out its descriptors and environment before it does. See
 * upgrade_exec.h; the hand-over itself is upgrade.c. */
#include "upgrade_exec.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log.h"

static struct {
	char path[PATH_MAX]; /* what to exec; "" if argv[0] could not be resolved */
	char **argv;         /* a copy: getopt_long permutes the original */
	int cwd;             /* the startup directory (--daemon moves to /) */
	dev_t root_dev;      /* "/" at startup: a chroot since then changes it */
	ino_t root_ino;
} ex = {.cwd = -1};

/* argv[0] as an absolute path: as given if absolute, against the current
 * directory if it has a slash, else the first executable in PATH. */
static void
resolve_self(const char *arg0)
{
	ex.path[0] = '\0';
	if (!arg0 || !*arg0)
		return;
	if (arg0[0] == '/') {
		snprintf(ex.path, sizeof ex.path, "%s", arg0);
		return;
	}
	char cwd[PATH_MAX];
	if (strchr(arg0, '/')) {
		if (getcwd(cwd, sizeof cwd) &&
		    (size_t)snprintf(ex.path, sizeof ex.path, "%s/%s", cwd, arg0) >= sizeof ex.path)
			ex.path[0] = '\0';
		return;
	}
	const char *p = getenv("PATH");
	while (p && *p) {
		const char *end = strchrnul(p, ':');
		int n = (int)(end - p);
		char cand[PATH_MAX];
		if ((size_t)snprintf(cand, sizeof cand, "%.*s/%s", n, p, arg0) < sizeof cand &&
		    n > 0 && access(cand, X_OK) == 0) {
			if (cand[0] == '/')
				snprintf(ex.path, sizeof ex.path, "%s", cand);
			else if (getcwd(cwd, sizeof cwd) &&
			         (size_t)snprintf(ex.path, sizeof ex.path, "%s/%s", cwd, cand) >=
			             sizeof ex.path)
				ex.path[0] = '\0';
			return;
		}
		p = *end ? end + 1 : end;
	}
}

int
upgrade_exec_init(int argc, char **argv)
{
	resolve_self(argc > 0 ? argv[0] : NULL);
	ex.argv = calloc((size_t)argc + 1, sizeof *ex.argv);
	if (!ex.argv)
		return -ENOMEM;
	for (int i = 0; i < argc; i++)
		if (!(ex.argv[i] = strdup(argv[i])))
			return -ENOMEM;
	/* Relative paths in the arguments (the top dir, logs, the pidfile, "."
	 * by default) must mean for the new generation what they meant for
	 * the first one, wherever this process has moved since. */
	ex.cwd = open(".", O_PATH | O_DIRECTORY | O_CLOEXEC);
	struct stat st;
	if (stat("/", &st) == 0) {
		ex.root_dev = st.st_dev;
		ex.root_ino = st.st_ino;
	}
	return 0;
}

const char *
upgrade_exec_path(void)
{
	return ex.path;
}

int
upgrade_exec_check(void)
{
	struct stat st;
	if (stat("/", &st) == 0 && (st.st_dev != ex.root_dev || st.st_ino != ex.root_ino)) {
		log_error("upgrade refused: not possible inside --chroot (the new binary would "
		          "start in the jail); restart the service instead");
		return -EPERM;
	}
	if (access(ex.path, X_OK) != 0) {
		log_error("upgrade refused: cannot execute %s: %s", ex.path, strerror(errno));
		return -errno;
	}
	return 0;
}

void
upgrade_exec_child(int *fds, unsigned n, const char *names, int status, int pidfd)
{
	sigset_t none;
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	/* SIGPIPE ignored across exec: the stdout the first generation printed
	 * its startup line to may be long closed, and the new one must not die
	 * printing its own there (the server ignores SIGPIPE anyway). */
	signal(SIGPIPE, SIG_IGN);
	fds[n] = status;
	fds[n + 1] = pidfd;
	unsigned total = n + 1 + (pidfd >= 0);
	/* Before the dup2s below, which may reuse its number. */
	if (ex.cwd < 0 || fchdir(ex.cwd) != 0) {
		char line[128];
		int len = snprintf(line, sizeof line,
		                   "Ecannot enter the directory it was started in (uid %ld): %s\n",
		                   (long)getuid(), strerror(ex.cwd < 0 ? EBADF : errno));
		(void)!send(status, line, (size_t)len, MSG_NOSIGNAL);
		_exit(127);
	}
	/* Out of the way first, so no dup2 below overwrites a source. */
	int tmp[UPGRADE_MAX_FDS + 2];
	for (unsigned i = 0; i < total; i++)
		if ((tmp[i] = fcntl(fds[i], F_DUPFD_CLOEXEC, (int)(3 + total))) < 0)
			goto fail;
	status = tmp[n]; /* where to report a failure from here on */
	for (unsigned i = 0; i < total; i++)
		if (dup2(tmp[i], (int)(3 + i)) < 0) /* the copy is not close-on-exec */
			goto fail;
	status = (int)(3 + n);
	char num[32];
	snprintf(num, sizeof num, "%u", n);
	setenv("LISTEN_FDS", num, 1);
	snprintf(num, sizeof num, "%ld", (long)getpid());
	setenv("LISTEN_PID", num, 1);
	setenv("LISTEN_FDNAMES", names, 1);
	snprintf(num, sizeof num, "%ld", (long)getppid());
	setenv("SHS_UPGRADE", num, 1);
	snprintf(num, sizeof num, "%d", status);
	setenv("SHS_UPGRADE_FD", num, 1);
	if (pidfd >= 0) {
		snprintf(num, sizeof num, "%u", 3 + n + 1);
		setenv("SHS_UPGRADE_PIDFD", num, 1);
	}
	execv(ex.path, ex.argv);
fail:;
	char line[PATH_MAX + 100];
	int len = snprintf(line, sizeof line, "Ecannot execute %s: %s\n", ex.path, strerror(errno));
	if (len > 0)
		(void)!send(status, line, (size_t)len < sizeof line ? (size_t)len : sizeof line - 1,
		            MSG_NOSIGNAL);
	_exit(127);
}
