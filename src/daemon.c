/* daemon.c - detaching, pidfile, privileges, systemd. See daemon.h. */
#include "daemon.h"

#include "log.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

int
daemon_detach(struct daemon_handoff *h, int *exit_status)
{
	h->report_fd = h->null_fd = -1;
	/* Now, not in daemon_ready: by then we may be in a chroot without
	 * /dev, and standard streams left on the caller's pipes would keep
	 * $(simple-http-server --daemon ...) waiting forever. */
	int null = open("/dev/null", O_RDWR | O_CLOEXEC);
	if (null < 0)
		return -errno;
	int p[2];
	if (pipe2(p, O_CLOEXEC) != 0) {
		int e = errno;
		close(null);
		return -e;
	}
	pid_t pid = fork();
	if (pid < 0) {
		int e = errno;
		close(p[0]);
		close(p[1]);
		close(null);
		return -e;
	}
	if (pid > 0) {
		/* The original process: wait for the daemon's word. EOF with
		 * nothing said means it failed (and said why on stderr). */
		close(p[1]);
		close(null);
		char c = 0;
		ssize_t n;
		do
			n = read(p[0], &c, 1);
		while (n < 0 && errno == EINTR);
		close(p[0]);
		(void)waitpid(pid, NULL, 0); /* the intermediate child exits at once */
		*exit_status = (n == 1 && c == 'R') ? 0 : 2;
		return 1;
	}
	close(p[0]);
	if (setsid() < 0)
		_exit(2);
	/* The second fork: the daemon is not a session leader, so opening a
	 * terminal can never make it its controlling terminal. */
	pid = fork();
	if (pid < 0)
		_exit(2);
	if (pid > 0)
		_exit(0);
	umask(022);
	h->report_fd = p[1];
	h->null_fd = null;
	return 0;
}

int
daemon_ready(struct daemon_handoff *h, int keep_stderr)
{
	if (chdir("/") != 0) {
		/* Nothing relative is used after startup; not fatal. */
	}
	int r = 0;
	/* No /dev/null: a new generation after an upgrade (upgrade.h), which
	 * never detached and inherited the daemon's streams as they are. */
	if (h->null_fd >= 0 &&
	    (dup2(h->null_fd, STDIN_FILENO) < 0 || dup2(h->null_fd, STDOUT_FILENO) < 0 ||
	     (!keep_stderr && dup2(h->null_fd, STDERR_FILENO) < 0)))
		r = -errno;
	if (h->null_fd > STDERR_FILENO)
		close(h->null_fd);
	h->null_fd = -1;
	if (r == 0 && h->report_fd >= 0) {
		ssize_t n = write(h->report_fd, "R", 1);
		(void)n;
	}
	if (h->report_fd >= 0)
		close(h->report_fd);
	h->report_fd = -1;
	return r;
}

pid_t
pidfile_holder(int fd)
{
	char buf[32];
	ssize_t n = pread(fd, buf, sizeof buf - 1, 0);
	buf[n > 0 ? n : 0] = '\0';
	return (pid_t)atol(buf);
}

int
pidfile_acquire(struct pidfile *pf, const char *path, pid_t *holder)
{
	pf->fd = pf->dirfd = -1;
	const char *slash = strrchr(path, '/');
	const char *base = slash ? slash + 1 : path;
	if (strlen(base) >= sizeof pf->name || *base == '\0')
		return -ENAMETOOLONG;
	strcpy(pf->name, base);
	if (slash) {
		char dir[4096];
		size_t n = (size_t)(slash - path);
		if (n >= sizeof dir)
			return -ENAMETOOLONG;
		memcpy(dir, path, n ? n : 1);
		dir[n ? n : 1] = '\0';
		pf->dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	} else {
		pf->dirfd = open(".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	}
	if (pf->dirfd < 0)
		return -errno;
	int fd = openat(pf->dirfd, pf->name, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0644);
	if (fd < 0) {
		int e = errno;
		close(pf->dirfd);
		pf->dirfd = -1;
		return -e;
	}
	/* The lock, not the file's existence, says whether the owner lives:
	 * a pidfile left by a crash does not block a restart. An open file
	 * description lock, so that it travels with the fd to the new
	 * generation of an upgrade and is held as long as either has it. */
	struct flock fl = {.l_type = F_WRLCK, .l_whence = SEEK_SET};
	if (fcntl(fd, F_OFD_SETLK, &fl) != 0) {
		int e = errno;
		*holder = pidfile_holder(fd);
		close(fd);
		close(pf->dirfd);
		pf->dirfd = -1;
		return (e == EAGAIN || e == EACCES) ? -EEXIST : -e;
	}
	pf->fd = fd;
	int r = pidfile_write_pid(pf);
	if (r < 0) {
		close(fd);
		close(pf->dirfd);
		pf->fd = pf->dirfd = -1;
	}
	return r;
}

int
pidfile_write_pid(struct pidfile *pf)
{
	char buf[32];
	int n = snprintf(buf, sizeof buf, "%ld\n", (long)getpid());
	if (ftruncate(pf->fd, 0) != 0 || pwrite(pf->fd, buf, (size_t)n, 0) != n)
		return errno ? -errno : -EIO;
	return 0;
}

int
pidfile_adopt(struct pidfile *pf, const char *path, int fd)
{
	pf->fd = pf->dirfd = -1;
	const char *base;
	int dirfd = log_dir_open(path, &base);
	if (dirfd < 0 || strlen(base) >= sizeof pf->name) {
		if (dirfd >= 0)
			close(dirfd);
		close(fd);
		return dirfd < 0 ? dirfd : -ENAMETOOLONG;
	}
	strcpy(pf->name, base);
	pf->dirfd = dirfd;
	pf->fd = fd;
	return 0;
}

void
pidfile_release(struct pidfile *pf)
{
	if (pf->fd < 0)
		return;
	if (unlinkat(pf->dirfd, pf->name, 0) != 0)
		(void)!ftruncate(pf->fd, 0);
	close(pf->fd);
	close(pf->dirfd);
	pf->fd = pf->dirfd = -1;
}

void
pidfile_forget(struct pidfile *pf)
{
	if (pf->fd >= 0)
		close(pf->fd);
	if (pf->dirfd >= 0)
		close(pf->dirfd);
	pf->fd = pf->dirfd = -1;
}

int
privileges_drop(const char *user, const char *group, const char *chroot_dir, char *err, size_t cap)
{
	uid_t uid = 0;
	gid_t gid = 0;
	/* Look the names up before chroot: /etc is outside it. */
	if (user) {
		struct passwd *pw = getpwnam(user);
		if (!pw) {
			snprintf(err, cap, "no such user '%s'", user);
			return -ENOENT;
		}
		uid = pw->pw_uid;
		gid = pw->pw_gid;
	}
	if (group) {
		struct group *gr = getgrnam(group);
		if (!gr) {
			snprintf(err, cap, "no such group '%s'", group);
			return -ENOENT;
		}
		gid = gr->gr_gid;
	}
	if (chroot_dir) {
		if (chroot(chroot_dir) != 0 || chdir("/") != 0) {
			int e = errno;
			snprintf(err, cap, "chroot '%s': %s", chroot_dir, strerror(e));
			return -e;
		}
	}
	if (!user && !group)
		return 0;
	if (!user)
		uid = geteuid();
	if (geteuid() != 0) {
		if (uid == geteuid() && gid == getegid())
			return 0;
		snprintf(err, cap, "only root can switch to another user or group");
		return -EPERM;
	}
	/* Supplementary groups first, then the group, then the user: once
	 * the uid changes we may no longer change the others. */
	if (setgroups(1, &gid) != 0 || setgid(gid) != 0 || setuid(uid) != 0) {
		int e = errno;
		snprintf(err, cap, "dropping privileges: %s", strerror(e));
		return -e;
	}
	if (uid != 0 && (setuid(0) == 0 || seteuid(0) == 0)) {
		snprintf(err, cap, "root privileges could be regained after the drop");
		return -EPERM;
	}
	return 0;
}

int
socket_activation_fds(int *fds, unsigned max)
{
	const char *pid = getenv("LISTEN_PID");
	const char *n = getenv("LISTEN_FDS");
	if (!pid || !n || atol(pid) != (long)getpid())
		return 0;
	long count = atol(n);
	unsetenv("LISTEN_PID");
	unsetenv("LISTEN_FDS");
	unsetenv("LISTEN_FDNAMES");
	if (count <= 0)
		return 0;
	if ((unsigned long)count > max)
		return -EMFILE;
	for (long i = 0; i < count; i++) {
		int fd = 3 + (int)i;
		struct stat st;
		if (fstat(fd, &st) != 0 || !S_ISSOCK(st.st_mode))
			return -ENOTSOCK;
		int fl = fcntl(fd, F_GETFL);
		if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) != 0 ||
		    fcntl(fd, F_SETFD, FD_CLOEXEC) != 0)
			return -errno;
		int one = 1; /* as net_listen does; fails harmlessly on non-TCP sockets */
		(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
		fds[i] = fd;
	}
	return (int)count;
}

static int notify_mainpid; /* see notify_systemd_mainpid */

void
notify_systemd_mainpid(int on)
{
	notify_mainpid = on;
}

void
notify_systemd(const char *state)
{
	char msg[256];
	if (notify_mainpid && strncmp(state, "READY=1", 7) == 0 &&
	    (size_t)snprintf(msg, sizeof msg, "MAINPID=%ld\n%s", (long)getpid(), state) <
	        sizeof msg)
		state = msg;
	const char *path = getenv("NOTIFY_SOCKET");
	if (!path || (path[0] != '/' && path[0] != '@'))
		return;
	struct sockaddr_un sun = {.sun_family = AF_UNIX};
	size_t len = strlen(path);
	if (len >= sizeof sun.sun_path)
		return;
	memcpy(sun.sun_path, path, len);
	if (sun.sun_path[0] == '@')
		sun.sun_path[0] = '\0'; /* abstract namespace */
	int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return;
	ssize_t r = sendto(fd, state, strlen(state), MSG_NOSIGNAL, (struct sockaddr *)&sun,
	                   (socklen_t)(offsetof(struct sockaddr_un, sun_path) + len));
	(void)r;
	close(fd);
}
