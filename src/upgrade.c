/* upgrade.c - on-line binary upgrade. See upgrade.h; what is executed and
 * the child's side (fd layout, environment, exec) are upgrade_exec.c.
 *
 * The hand-over, from the old generation's side:
 *   SIGUSR2 -> upgrade_begin: socketpair (status), fork; the child puts
 *   every listener at fd 3.. (LISTEN_FDS, LISTEN_PID = its own pid,
 *   LISTEN_FDNAMES), the status socket and the pidfile after them, and
 *   execs the path of argv[0] with a copy of the original argv.
 *   The new generation starts on those sockets, writes its pid into the
 *   pidfile (whose OFD lock it shares), sends MAINPID= and READY=1 to
 *   systemd, then "R" on the status socket.
 *   upgrade_poll sees "R": the old one forgets the pidfile and
 *   NOTIFY_SOCKET, and its caller retires. "E<line>", EOF, or the timer:
 *   the new one failed; it is reaped, one line is logged, nothing changed.
 * Listening sockets are never closed while a queue needs them: the old one
 * closes its copies only after the new one holds every one of them. */
#include "upgrade.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "config.h"
#include "log.h"
#include "upgrade_exec.h"

#define NAME_ACTIVATED "activated"

enum upgrade_state {
	UP_IDLE,     /* nothing going on */
	UP_PENDING,  /* a new generation is starting */
	UP_RETIRING, /* it is ready: this generation is on its way out */
};

static struct {
	/* New generation, until upgrade_ready. */
	int new_gen;
	int status_fd;
	int pid_fd;
	int act[SHS_MAX_LISTENERS]; /* inherited "activated" sockets */
	unsigned nact;
	int own[SHS_MAX_LISTENERS][SHS_MAX_WORKERS]; /* "listen-K-W", -1: none */

	/* Both: the listener table and pidfile of main. */
	const int *lfds;
	unsigned na, nl, nw;
	struct pidfile *pf;
	int worker;

	/* Old generation. */
	enum upgrade_state state;
	pid_t child;
	int child_status; /* from upgrade_child_exited, when child_reaped */
	int child_reaped;
	int sock;  /* our end of the status socket */
	int timer; /* UPGRADE_READY_TIMEOUT_MS */
	int epfd;  /* both of the above: the one fd callers watch */
	char msg[512];
	size_t msg_len;
} up = {.status_fd = -1, .pid_fd = -1, .sock = -1, .timer = -1, .epfd = -1};

static int
env_fd(const char *name)
{
	const char *v = getenv(name);
	int fd = v ? atoi(v) : -1;
	unsetenv(name);
	if (fd < 3 || fcntl(fd, F_SETFD, FD_CLOEXEC) != 0)
		return -1;
	return fd;
}

/* The sockets the old generation passed, sorted by their names. */
static int
take_inherited(void)
{
	char names[1024] = "";
	const char *v = getenv("LISTEN_FDNAMES");
	if (v)
		snprintf(names, sizeof names, "%s", v);
	int fds[UPGRADE_MAX_FDS];
	int n = socket_activation_fds(fds, UPGRADE_MAX_FDS);
	if (n < 0)
		return n;
	char *save = NULL, *name = strtok_r(names, ":", &save);
	for (int i = 0; i < n; i++, name = strtok_r(NULL, ":", &save)) {
		unsigned k, w;
		if (name && strcmp(name, NAME_ACTIVATED) == 0 && up.nact < SHS_MAX_LISTENERS)
			up.act[up.nact++] = fds[i];
		else if (name && sscanf(name, "listen-%u-%u", &k, &w) == 2 &&
		         k < SHS_MAX_LISTENERS && w < SHS_MAX_WORKERS && up.own[k][w] < 0)
			up.own[k][w] = fds[i];
		else
			close(fds[i]); /* not ours to use */
	}
	return 0;
}

int
upgrade_init(int argc, char **argv)
{
	int r = upgrade_exec_init(argc, argv);
	if (r < 0)
		return r;
	for (unsigned k = 0; k < SHS_MAX_LISTENERS; k++)
		for (unsigned w = 0; w < SHS_MAX_WORKERS; w++)
			up.own[k][w] = -1;
	const char *old = getenv("SHS_UPGRADE");
	if (!old)
		return 0;
	unsetenv("SHS_UPGRADE");
	up.new_gen = 1;
	up.status_fd = env_fd("SHS_UPGRADE_FD");
	up.pid_fd = env_fd("SHS_UPGRADE_PIDFD");
	/* systemd follows us only if told who the main process is now. */
	notify_systemd_mainpid(1);
	return take_inherited();
}

int
upgrade_is_new_generation(void)
{
	return up.new_gen;
}

int
upgrade_activated_fds(int *fds, unsigned max)
{
	unsigned n = up.nact < max ? up.nact : max;
	memcpy(fds, up.act, n * sizeof *fds);
	up.nact = 0;
	return (int)n;
}

int
upgrade_take_group(unsigned k, int *group, unsigned nw)
{
	if (k >= SHS_MAX_LISTENERS)
		return 0;
	for (unsigned w = 0; w < nw; w++)
		if (up.own[k][w] < 0)
			return 0;
	for (unsigned w = 0; w < nw; w++) {
		group[w] = up.own[k][w];
		up.own[k][w] = -1;
	}
	return 1;
}

void
upgrade_set_listeners(const int *lfds, unsigned na, unsigned nl, unsigned nw)
{
	up.lfds = lfds;
	up.na = na;
	up.nl = nl;
	up.nw = nw;
	/* Inherited sockets this configuration does not use (there should be
	 * none: same arguments, same listeners). */
	for (unsigned k = 0; k < SHS_MAX_LISTENERS; k++)
		for (unsigned w = 0; w < SHS_MAX_WORKERS; w++)
			if (up.own[k][w] >= 0) {
				close(up.own[k][w]);
				up.own[k][w] = -1;
			}
}

int
upgrade_pidfile(struct pidfile *pf, const char *path, pid_t *holder)
{
	up.pf = pf;
	if (up.new_gen && up.pid_fd >= 0) {
		int fd = up.pid_fd;
		up.pid_fd = -1;
		return pidfile_adopt(pf, path, fd);
	}
	return pidfile_acquire(pf, path, holder);
}

void
upgrade_ready(void)
{
	if (!up.new_gen)
		return;
	up.new_gen = 0;
	notify_systemd_mainpid(0);
	if (up.pf && up.pf->fd >= 0) {
		int r = pidfile_write_pid(up.pf);
		if (r < 0)
			log_warn("pidfile: %s", strerror(-r));
	}
	if (up.status_fd >= 0) {
		(void)!send(up.status_fd, "R", 1, MSG_NOSIGNAL);
		close(up.status_fd);
		up.status_fd = -1;
	}
}

void
upgrade_report_failure(const char *line, size_t len)
{
	if (up.status_fd < 0)
		return;
	char buf[600];
	size_t n = len < sizeof buf - 1 ? len : sizeof buf - 1;
	buf[0] = 'E';
	memcpy(buf + 1, line, n);
	(void)!send(up.status_fd, buf, n + 1, MSG_NOSIGNAL);
}

static void
close_watch(void)
{
	int *fds[] = {&up.sock, &up.timer, &up.epfd};
	for (size_t i = 0; i < sizeof fds / sizeof fds[0]; i++) {
		if (*fds[i] >= 0)
			close(*fds[i]);
		*fds[i] = -1;
	}
}

void
upgrade_in_worker(void)
{
	up.worker = 1;
	if (up.status_fd >= 0)
		close(up.status_fd);
	up.status_fd = -1;
	close_watch();
}

int
upgrade_is_worker(void)
{
	return up.worker;
}

/* Every listener once (systemd's are the same fd in each row), with its
 * LISTEN_FDNAMES name. */
static unsigned
collect_listeners(int *fds, char *names, size_t cap)
{
	unsigned n = 0;
	size_t len = 0;
	names[0] = '\0';
	for (unsigned w = 0; w < up.nw; w++) {
		for (unsigned k = 0; k < up.nl; k++) {
			if (k < up.na && w > 0)
				continue;
			char name[32];
			if (k < up.na)
				snprintf(name, sizeof name, NAME_ACTIVATED);
			else
				snprintf(name, sizeof name, "listen-%u-%u", k - up.na, w);
			int m = snprintf(names + len, cap - len, "%s%s", n ? ":" : "", name);
			if (m < 0 || (size_t)m >= cap - len)
				return n; /* cannot happen with the limits of config.h */
			len += (size_t)m;
			fds[n++] = up.lfds[w * up.nl + k];
		}
	}
	return n;
}

/* Refuses what cannot work, with the reason logged. */
static int
refuse(void)
{
	if (up.state != UP_IDLE) {
		log_warn("SIGUSR2: %s (pid %ld); ignored",
		         up.state == UP_PENDING ? "an upgrade is in progress"
		                                : "already handed over to the new generation",
		         (long)up.child);
		return -EALREADY;
	}
	if (!up.lfds || !upgrade_exec_path()[0]) {
		log_error("upgrade refused: cannot tell which binary this is");
		return -ENOENT;
	}
	return upgrade_exec_check();
}

/* Our end of the status socket and the timer, in one epoll fd. */
static int
watch_child(int sock)
{
	up.sock = sock;
	up.timer = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	up.epfd = epoll_create1(EPOLL_CLOEXEC);
	if (up.timer < 0 || up.epfd < 0)
		return -errno;
	struct itimerspec its = {.it_value = {.tv_sec = UPGRADE_READY_TIMEOUT_MS / 1000}};
	struct epoll_event ev = {.events = EPOLLIN};
	if (timerfd_settime(up.timer, 0, &its, NULL) != 0 ||
	    epoll_ctl(up.epfd, EPOLL_CTL_ADD, up.sock, &ev) != 0 ||
	    epoll_ctl(up.epfd, EPOLL_CTL_ADD, up.timer, &ev) != 0)
		return -errno;
	return up.epfd;
}

int
upgrade_begin(void)
{
	int r = refuse();
	if (r < 0)
		return r;
	int fds[UPGRADE_MAX_FDS + 2];
	char names[UPGRADE_MAX_FDS * 16];
	unsigned n = collect_listeners(fds, names, sizeof names);
	int sv[2];
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0) {
		log_error("upgrade: socketpair: %s", strerror(errno));
		return -errno;
	}
	int pidfd = up.pf ? up.pf->fd : -1;
	log_info("upgrade: starting %s with %u listening socket(s)", upgrade_exec_path(), n);
	pid_t pid = fork();
	if (pid == 0) {
		close(sv[0]);
		upgrade_exec_child(fds, n, names, sv[1], pidfd);
	}
	int e = errno;
	close(sv[1]);
	if (pid < 0) {
		close(sv[0]);
		log_error("upgrade: fork: %s", strerror(e));
		return -e;
	}
	fcntl(sv[0], F_SETFL, O_NONBLOCK);
	up.child = pid;
	up.child_reaped = 0;
	up.msg_len = 0;
	up.state = UP_PENDING;
	r = watch_child(sv[0]);
	if (r < 0) {
		/* Cannot watch it: better no upgrade than one we cannot follow. */
		log_error("upgrade: %s; stopping the new generation", strerror(-r));
		kill(pid, SIGKILL);
		(void)waitpid(pid, NULL, 0);
		close_watch();
		up.state = UP_IDLE;
	}
	return r;
}

int
upgrade_child_exited(pid_t pid, int status)
{
	if (up.state != UP_PENDING || pid != up.child)
		return 0;
	up.child_status = status;
	up.child_reaped = 1;
	return 1;
}

/* The failed child's end, reaped within a moment (it has closed the status
 * socket, so it is exiting); one that lingers is killed. */
static void
reap_child(int kill_it)
{
	if (kill_it)
		kill(up.child, SIGKILL);
	for (int i = 0; i < 2000 && !up.child_reaped; i++) {
		pid_t p = waitpid(up.child, &up.child_status, WNOHANG);
		if (p == up.child || (p < 0 && errno != EINTR)) {
			up.child_reaped = p == up.child;
			break;
		}
		struct timespec ms = {0, 1000000};
		nanosleep(&ms, NULL);
	}
	if (!up.child_reaped) {
		kill(up.child, SIGKILL);
		up.child_reaped = waitpid(up.child, &up.child_status, 0) == up.child;
	}
}

static void
log_failure(int timed_out)
{
	char how[64] = "stopped";
	int s = up.child_status;
	if (timed_out)
		snprintf(how, sizeof how, "was not ready within %d s",
		         UPGRADE_READY_TIMEOUT_MS / 1000);
	else if (up.child_reaped && WIFEXITED(s))
		snprintf(how, sizeof how, "exited with status %d", WEXITSTATUS(s));
	else if (up.child_reaped && WIFSIGNALED(s))
		snprintf(how, sizeof how, "was killed by signal %d", WTERMSIG(s));
	/* Its own line, without the 'E' and the newline. */
	const char *said = up.msg_len > 1 && up.msg[0] == 'E' ? up.msg + 1 : "";
	size_t len = up.msg_len > 1 ? up.msg_len - 1 : 0;
	while (len > 0 && (said[len - 1] == '\n' || said[len - 1] == '\r'))
		len--;
	log_error("upgrade failed: new generation (pid %ld) %s%s%.*s; still serving",
	          (long)up.child, how, len ? ": " : "", (int)len, said);
}

enum upgrade_result
upgrade_poll(void)
{
	if (up.state != UP_PENDING)
		return UPGRADE_PENDING;
	uint64_t expired = 0;
	int timed_out = read(up.timer, &expired, sizeof expired) == (ssize_t)sizeof expired;
	int eof = 0;
	for (;;) {
		char *dst = up.msg + up.msg_len;
		size_t room = sizeof up.msg - 1 - up.msg_len;
		char junk[64];
		ssize_t got = read(up.sock, room ? dst : junk, room ? room : sizeof junk);
		if (got > 0) {
			if (room)
				up.msg_len += (size_t)got;
			continue;
		}
		eof = got == 0 || (errno != EAGAIN && errno != EINTR);
		break;
	}
	up.msg[up.msg_len] = '\0';
	if (up.msg_len > 0 && up.msg[0] == 'R') {
		close_watch();
		up.state = UP_RETIRING;
		/* The pidfile is the new generation's now (it shares the lock
		 * and wrote its pid); systemd follows it (MAINPID=), so this
		 * one says nothing more to systemd, STOPPING=1 least of all. */
		if (up.pf)
			pidfile_forget(up.pf);
		unsetenv("NOTIFY_SOCKET");
		log_info("upgrade: new generation (pid %ld) is ready; retiring", (long)up.child);
		return UPGRADE_READY;
	}
	int said = up.msg_len > 0 && memchr(up.msg, '\n', up.msg_len);
	if (!eof && !timed_out && !said)
		return UPGRADE_PENDING;
	reap_child(timed_out);
	log_failure(timed_out);
	close_watch();
	up.state = UP_IDLE;
	return UPGRADE_FAILED;
}
