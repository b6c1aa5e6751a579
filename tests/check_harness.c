/* check_harness.c - the helpers declared in harness.h. No suite lives here;
 * the name only puts it in the Makefile's tests/check_*.c wildcard. */
#include "harness.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <grp.h>
#include <pwd.h>
#include <limits.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <strings.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* ---- document roots ---- */

static void
join(char *dst, size_t cap, const char *base, const char *rel)
{
	int n = snprintf(dst, cap, "%s/%s", base, rel);
	if (n < 0 || (size_t)n >= cap)
		ck_abort_msg("path too long: %s/%s", base, rel);
}

char *
h_mkdtemp(void)
{
	char tmpl[] = "/tmp/shs-test-XXXXXX";
	if (!mkdtemp(tmpl))
		ck_abort_msg("mkdtemp: %s", strerror(errno));
	char *p = strdup(tmpl);
	if (!p)
		ck_abort_msg("out of memory");
	return p;
}

/* mkdir -p of the directories above path. */
static void
make_parents(const char *path)
{
	char buf[PATH_MAX];
	snprintf(buf, sizeof buf, "%s", path);
	for (char *p = buf + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(buf, 0755) != 0 && errno != EEXIST)
			ck_abort_msg("mkdir %s: %s", buf, strerror(errno));
		*p = '/';
	}
}

static void
set_mtime(const char *path)
{
	const struct timespec ts[2] = {{H_MTIME, 0}, {H_MTIME, 0}};
	if (utimensat(AT_FDCWD, path, ts, AT_SYMLINK_NOFOLLOW) != 0)
		ck_abort_msg("utimensat %s: %s", path, strerror(errno));
}

void
h_write_file(const char *base, const char *rel, const void *data, size_t len)
{
	char path[PATH_MAX];
	join(path, sizeof path, base, rel);
	make_parents(path);
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		ck_abort_msg("open %s: %s", path, strerror(errno));
	const unsigned char *p = data;
	while (len > 0) {
		ssize_t w = write(fd, p, len);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			ck_abort_msg("write %s: %s", path, strerror(errno));
		p += w;
		len -= (size_t)w;
	}
	close(fd);
	set_mtime(path);
}

void
h_write_str(const char *base, const char *rel, const char *text)
{
	h_write_file(base, rel, text, strlen(text));
}

void
h_mkdir(const char *base, const char *rel)
{
	char path[PATH_MAX];
	join(path, sizeof path, base, rel);
	make_parents(path);
	if (mkdir(path, 0755) != 0 && errno != EEXIST)
		ck_abort_msg("mkdir %s: %s", path, strerror(errno));
}

void
h_symlink(const char *base, const char *rel, const char *target)
{
	char path[PATH_MAX];
	join(path, sizeof path, base, rel);
	make_parents(path);
	if (symlink(target, path) != 0)
		ck_abort_msg("symlink %s -> %s: %s", path, target, strerror(errno));
}

void
h_mkfifo(const char *base, const char *rel)
{
	char path[PATH_MAX];
	join(path, sizeof path, base, rel);
	make_parents(path);
	if (mkfifo(path, 0644) != 0)
		ck_abort_msg("mkfifo %s: %s", path, strerror(errno));
}

void
h_set_mtime(const char *base, const char *rel, long long sec, long nsec)
{
	char path[PATH_MAX];
	join(path, sizeof path, base, rel);
	const struct timespec ts[2] = {{(time_t)sec, nsec}, {(time_t)sec, nsec}};
	if (utimensat(AT_FDCWD, path, ts, AT_SYMLINK_NOFOLLOW) != 0)
		ck_abort_msg("utimensat %s: %s", path, strerror(errno));
}

static uint64_t
splitmix64(uint64_t x)
{
	x += 0x9e3779b97f4a7c15ULL;
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
	return x ^ (x >> 31);
}

void
h_write_pattern(const char *base, const char *rel, size_t size)
{
	char path[PATH_MAX];
	join(path, sizeof path, base, rel);
	make_parents(path);
	FILE *f = fopen(path, "we");
	if (!f)
		ck_abort_msg("fopen %s: %s", path, strerror(errno));
	enum { WORDS = 8192 };
	static uint64_t chunk[WORDS];
	uint64_t word = 0;
	for (size_t done = 0; done < size;) {
		for (size_t i = 0; i < WORDS; i++)
			chunk[i] = splitmix64(word++);
		size_t n = size - done < sizeof chunk ? size - done : sizeof chunk;
		if (fwrite(chunk, 1, n, f) != n)
			ck_abort_msg("write %s: %s", path, strerror(errno));
		done += n;
	}
	if (fclose(f) != 0)
		ck_abort_msg("close %s: %s", path, strerror(errno));
	set_mtime(path);
}

char *
h_read_file(const char *path, size_t *len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return NULL;
	size_t cap = 4096, n = 0;
	char *buf = malloc(cap);
	ck_assert(buf != NULL);
	for (;;) {
		if (n + 1 == cap) {
			cap *= 2;
			buf = realloc(buf, cap);
			ck_assert(buf != NULL);
		}
		ssize_t r = read(fd, buf + n, cap - 1 - n);
		if (r < 0 && errno == EINTR)
			continue;
		ck_assert_msg(r >= 0, "read %s: %s", path, strerror(errno));
		if (r == 0)
			break;
		n += (size_t)r;
	}
	close(fd);
	buf[n] = '\0';
	if (len)
		*len = n;
	return buf;
}

unsigned char *
h_slurp(const char *base, const char *rel, size_t *len)
{
	char path[PATH_MAX];
	join(path, sizeof path, base, rel);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	struct stat st;
	if (fd < 0 || fstat(fd, &st) != 0)
		ck_abort_msg("open %s: %s", path, strerror(errno));
	unsigned char *buf = malloc((size_t)st.st_size + 1);
	if (!buf)
		ck_abort_msg("out of memory");
	size_t got = 0;
	while (got < (size_t)st.st_size) {
		ssize_t r = read(fd, buf + got, (size_t)st.st_size - got);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			ck_abort_msg("read %s: %s", path, strerror(errno));
		got += (size_t)r;
	}
	close(fd);
	buf[got] = '\0';
	*len = got;
	return buf;
}

static int
rm_entry(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
	(void)st;
	(void)type;
	(void)ftw;
	if (remove(path) != 0)
		fprintf(stderr, "check_server: cannot remove %s: %s\n", path, strerror(errno));
	return 0;
}

void
h_rmtree(const char *path)
{
	if (path && path[0])
		(void)nftw(path, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

/* ---- time ---- */

uint64_t
h_now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

double
h_time_scale(void)
{
	static double scale;
	if (scale > 0)
		return scale;
	const char *v = getenv("SHS_TEST_TIME_SCALE");
	char *end = NULL;
	double x = v && *v ? strtod(v, &end) : 1;
	if (v && *v && (*end != '\0' || !(x > 0) || x > 1000)) {
		fprintf(stderr, "SHS_TEST_TIME_SCALE='%s' is not a number in (0, 1000]; using 1\n",
		        v);
		x = 1;
	}
	scale = x;
	return scale;
}

int
h_ms(int ms)
{
	double x = (double)ms * h_time_scale();
	if (x >= (double)INT_MAX)
		return INT_MAX;
	int r = (int)x;
	return r < x ? r + 1 : r;
}

void
h_scale_check_timeouts(void)
{
	char v[32];
	snprintf(v, sizeof v, "%g", h_time_scale());
	(void)setenv("CK_TIMEOUT_MULTIPLIER", v, 0);
}

void
h_sleep_ms(unsigned ms)
{
	struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

long
h_poll(int (*cond)(void *arg), void *arg, int timeout_ms)
{
	uint64_t t0 = h_now_ms(), end = t0 + (uint64_t)h_ms(timeout_ms);
	for (;;) {
		if (cond(arg))
			return (long)(h_now_ms() - t0);
		if (h_now_ms() >= end)
			return -1;
		h_sleep_ms(5);
	}
}

ssize_t
h_recv_notify(int fd, char *buf, size_t cap, pid_t *sender, int timeout_ms)
{
	uint64_t end = h_now_ms() + (uint64_t)timeout_ms;
	for (;;) {
		uint64_t now = h_now_ms();
		if (now >= end)
			return -1;
		struct pollfd pfd = {.fd = fd, .events = POLLIN};
		if (poll(&pfd, 1, (int)(end - now)) <= 0)
			continue;
		union {
			struct cmsghdr h;
			char b[CMSG_SPACE(sizeof(struct ucred))];
		} ctl;
		struct iovec iov = {.iov_base = buf, .iov_len = cap - 1};
		struct msghdr mh = {.msg_iov = &iov,
		                    .msg_iovlen = 1,
		                    .msg_control = &ctl,
		                    .msg_controllen = sizeof ctl};
		ssize_t n = recvmsg(fd, &mh, MSG_DONTWAIT);
		if (n < 0)
			continue;
		buf[n] = '\0';
		struct cmsghdr *c = CMSG_FIRSTHDR(&mh);
		*sender = -1;
		if (c && c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_CREDENTIALS) {
			struct ucred cred;
			memcpy(&cred, CMSG_DATA(c), sizeof cred);
			*sender = cred.pid;
		}
		return n;
	}
}

/* ---- processes ---- */

const char *
h_bin(void)
{
	const char *b = getenv("SHS_BIN");
	return b && b[0] ? b : NULL;
}

/* What spawn() sets up besides stdout and stderr. */
struct spawn_opts {
	const char *const *env;  /* "NAME=value" */
	unsigned long nofile;    /* > 0: RLIMIT_NOFILE */
	int listen_fd;           /* > 0: becomes fd 3, with LISTEN_FDS/LISTEN_PID */
	const struct passwd *pw; /* become this user before exec, or NULL */
	const char *cwd;         /* chdir there before exec, or NULL */
};

/* setenv of "NAME=value" (child side: no assertions). */
static int
put_env(const char *assignment)
{
	char name[256];
	const char *eq = strchr(assignment, '=');
	size_t n = eq ? (size_t)(eq - assignment) : 0;
	if (n == 0 || n >= sizeof name)
		return -1;
	memcpy(name, assignment, n);
	name[n] = '\0';
	return setenv(name, eq + 1, 1);
}

/* fork+exec with the given stdout/stderr; stdin is /dev/null. The child
 * dies with its parent (PR_SET_PDEATHSIG), so a failed test that forgot its
 * server, or a crashed runner, leaves nothing behind. Signals the runner
 * may have ignored (nohup) or blocked are reset: an ignored SIGHUP would
 * never reach the server's signalfd. */
static pid_t
spawn_ex(const char *const *argv, int out_fd, int err_fd, const struct spawn_opts *o)
{
	pid_t parent = getpid();
	fflush(NULL);
	pid_t pid = fork();
	if (pid != 0)
		return pid;
	if (prctl(PR_SET_PDEATHSIG, SIGKILL) != 0 || getppid() != parent)
		_exit(126);
	static const int sigs[] = {SIGHUP, SIGINT, SIGQUIT, SIGTERM, SIGUSR1, SIGUSR2, SIGPIPE};
	for (size_t i = 0; i < sizeof sigs / sizeof sigs[0]; i++)
		signal(sigs[i], SIG_DFL);
	sigset_t none;
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	int in = open("/dev/null", O_RDONLY);
	if (in < 0 || dup2(in, 0) < 0 || dup2(out_fd, 1) < 0 || dup2(err_fd, 2) < 0)
		_exit(126);
	unsigned first_closed = 3;
	if (o && o->listen_fd > 0) {
		if ((o->listen_fd == 3 ? fcntl(3, F_SETFD, 0) : dup2(o->listen_fd, 3)) < 0)
			_exit(126);
		char pidbuf[24];
		snprintf(pidbuf, sizeof pidbuf, "%ld", (long)getpid());
		if (setenv("LISTEN_FDS", "1", 1) != 0 || setenv("LISTEN_PID", pidbuf, 1) != 0)
			_exit(126);
		first_closed = 4;
	}
	for (size_t i = 0; o && o->env && o->env[i]; i++)
		if (put_env(o->env[i]) != 0)
			_exit(126);
	/* Only 0-2 (and a passed socket) for the server: Check's own files
	 * stay out of its fd count and its limit. */
	close_range(first_closed, ~0U, 0);
	if (o && o->nofile > 0) {
		struct rlimit rl = {o->nofile, o->nofile};
		if (setrlimit(RLIMIT_NOFILE, &rl) != 0)
			_exit(125);
	}
	if (o && o->pw) {
		gid_t gid = o->pw->pw_gid;
		if (setgroups(1, &gid) != 0 || setgid(gid) != 0 || setuid(o->pw->pw_uid) != 0)
			_exit(126);
		/* setuid cleared PDEATHSIG for an unprivileged child: set it again. */
		if (prctl(PR_SET_PDEATHSIG, SIGKILL) != 0)
			_exit(126);
	}
	if (o && o->cwd && chdir(o->cwd) != 0)
		_exit(126);
	execv(argv[0], (char *const *)argv);
	_exit(127);
}

static pid_t
spawn(const char *const *argv, int out_fd, int err_fd)
{
	return spawn_ex(argv, out_fd, err_fd, NULL);
}

int
h_wait_exit(pid_t pid, int timeout_ms, int *status)
{
	uint64_t end = h_now_ms() + (uint64_t)h_ms(timeout_ms);
	for (;;) {
		pid_t r = waitpid(pid, status, WNOHANG);
		if (r == pid)
			return 0;
		if (r < 0 && errno != EINTR)
			return -1;
		if (h_now_ms() >= end)
			return -1;
		usleep(5000);
	}
}

int
h_server_start(struct h_server *s, const char *root, const char *log_path, const char *const *extra,
               char *err, size_t errcap)
{
	struct h_start o = {.root = root, .args = extra, .log_path = log_path};
	return h_server_start_ex(s, &o, err, errcap);
}

int
h_parse_listening(const char *line, const char *host)
{
	/* "serving DIR on http://HOST:PORT/" or "also on http://HOST:PORT/",
	 * then maybe " (8080 is in use)". DIR has no control characters (the
	 * server escapes them), but may hold " on http://": the last one
	 * counts. */
	char url[128];
	snprintf(url, sizeof url, " on http://%s:", host);
	const char *p = NULL;
	if (strncmp(line, "also", 4) == 0 && strncmp(line + 4, url, strlen(url)) == 0) {
		p = line + 4;
	} else if (strncmp(line, "serving ", 8) == 0) {
		for (const char *q = line + 8; (q = strstr(q, url)) != NULL; q++)
			p = q;
		if (p == line + 7) /* an empty DIR */
			p = NULL;
	}
	if (!p)
		return -1;
	p += strlen(url);
	long port = 0;
	if (*p < '0' || *p > '9')
		return -1;
	while (*p >= '0' && *p <= '9' && port <= 65535)
		port = port * 10 + (*p++ - '0');
	if (port < 1 || port > 65535 || *p++ != '/')
		return -1;
	if (p[0] == ' ' && p[1] == '(') {
		p = strchr(p, ')');
		if (!p)
			return -1;
		p++;
	}
	return strcmp(p, "\n") == 0 ? (int)port : -1;
}

int
h_read_line(int fd, char *buf, size_t cap, int timeout_ms)
{
	uint64_t end = h_now_ms() + (uint64_t)h_ms(timeout_ms);
	size_t n = 0;
	while (n + 1 < cap) {
		uint64_t now = h_now_ms();
		if (now >= end)
			break;
		struct pollfd p = {.fd = fd, .events = POLLIN};
		int r = poll(&p, 1, (int)(end - now));
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		char c;
		ssize_t k = read(fd, &c, 1);
		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			break;
		buf[n++] = c;
		if (c == '\n') {
			buf[n] = '\0';
			return (int)n;
		}
	}
	buf[n] = '\0';
	return -1;
}

/* A copy of SHS_BIN that any user may run, for a server started as another
 * user: the checkout itself may be private to its owner (a clone under
 * `mktemp -d` is 0700). Made once per test process, removed at its exit. */
static char others_dir[32];

static void
remove_others_bin(void)
{
	if (others_dir[0])
		h_rmtree(others_dir);
}

static const char *
bin_for_others(void)
{
	static char path[64];
	if (path[0])
		return path;
	size_t len;
	char *img = h_bin() ? h_read_file(h_bin(), &len) : NULL;
	if (!img)
		return h_bin();
	char *dir = h_mkdtemp();
	snprintf(others_dir, sizeof others_dir, "%s", dir);
	h_write_file(dir, "simple-http-server", img, len);
	free(img);
	snprintf(path, sizeof path, "%s/simple-http-server", dir);
	free(dir);
	if (chmod(others_dir, 0755) != 0 || chmod(path, 0755) != 0)
		ck_abort_msg("chmod %s: %s", path, strerror(errno));
	atexit(remove_others_bin);
	return path;
}

int
h_server_start_ex(struct h_server *s, const struct h_start *o, char *err, size_t errcap)
{
	const char *bin = o->bin ? o->bin : o->user ? bin_for_others() : h_bin();
	s->pid = -1;
	s->port = -1;
	s->out_fd = -1;
	if (!bin) {
		snprintf(err, errcap, "SHS_BIN is not set (run through `make test`)");
		return -1;
	}
	const char *argv[48] = {bin};
	size_t argc = 1;
	if (o->root) {
		argv[argc++] = "--top-dir";
		argv[argc++] = o->root;
		argv[argc++] = "--port";
		argv[argc++] = "0";
	}
	for (size_t i = 0; o->args && o->args[i]; i++) {
		if (argc == sizeof argv / sizeof argv[0] - 1) {
			snprintf(err, errcap, "too many arguments");
			return -1;
		}
		argv[argc++] = o->args[i];
	}
	argv[argc] = NULL;

	const struct passwd *pw = NULL;
	if (o->user && !(pw = getpwnam(o->user))) {
		snprintf(err, errcap, "no user %s", o->user);
		return -1;
	}
	int pfd[2] = {o->line_fd, o->out_fd};
	if (o->out_fd <= 0 && pipe2(pfd, O_CLOEXEC) != 0) {
		snprintf(err, errcap, "pipe: %s", strerror(errno));
		return -1;
	}
	int logfd = open(o->log_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
	if (logfd < 0) {
		snprintf(err, errcap, "open %s: %s", o->log_path, strerror(errno));
		close(pfd[0]);
		close(pfd[1]);
		return -1;
	}
	struct spawn_opts so = {
	    .env = o->env,
	    .nofile = o->nofile,
	    .listen_fd = o->listen_fd,
	    .pw = pw,
	    /* Another user may not even enter ours (a private checkout). */
	    .cwd = o->cwd ? o->cwd : pw ? "/" : NULL};
	s->pid = spawn_ex(argv, pfd[1], logfd, &so);
	close(pfd[1]); /* the server holds it now */
	close(logfd);
	s->out_fd = pfd[0];
	if (s->pid < 0) {
		snprintf(err, errcap, "fork: %s", strerror(errno));
		close(pfd[0]);
		s->out_fd = -1;
		return -1;
	}
	if (o->no_wait)
		return 0;

	/* The startup line, read with a deadline (ASan starts slowly). */
	char line[256];
	const char *host = o->host ? o->host : "127.0.0.1";
	if (h_read_line(s->out_fd, line, sizeof line, 15000) < 0) {
		snprintf(err, errcap, "no startup line from %s within %d ms (got '%s'; log %s)",
		         bin, h_ms(15000), line, o->log_path);
		h_server_stop(s, 2000);
		return -1;
	}
	int port = h_parse_listening(line, host);
	if (port < 0) {
		snprintf(err, errcap,
		         "bad startup line: '%s' (want 'serving DIR on http://%s:PORT/')", line,
		         host);
		h_server_stop(s, 2000);
		return -1;
	}
	s->port = port;
	return 0;
}

int
h_server_stop(struct h_server *s, int timeout_ms)
{
	return h_server_stop_sig(s, SIGTERM, timeout_ms);
}

int
h_server_stop_sig(struct h_server *s, int sig, int timeout_ms)
{
	int status = -1;
	if (s->pid > 0) {
		kill(s->pid, sig);
		if (h_wait_exit(s->pid, timeout_ms, &status) != 0) {
			kill(s->pid, SIGKILL);
			(void)h_wait_exit(s->pid, 5000, &status);
			status = -1;
		}
		s->pid = -1;
	}
	if (s->out_fd >= 0)
		close(s->out_fd);
	s->out_fd = -1;
	return status;
}

int
h_alive(pid_t pid)
{
	char path[64], stat[512];
	snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (pid <= 0 || fd < 0)
		return 0;
	ssize_t n = read(fd, stat, sizeof stat - 1);
	close(fd);
	stat[n > 0 ? n : 0] = '\0';
	/* "pid (comm) S ...": the state follows the last ')'. */
	const char *paren = strrchr(stat, ')');
	return paren && paren[1] == ' ' && paren[2] != 'Z' && paren[2] != 'X' && paren[2] != '\0';
}

int
h_count_fds(pid_t pid)
{
	char path[64];
	snprintf(path, sizeof path, "/proc/%d/fd", (int)pid);
	DIR *d = opendir(path);
	if (!d)
		return -1;
	int n = 0;
	struct dirent *e;
	while ((e = readdir(d)) != NULL)
		if (e->d_name[0] != '.')
			n++;
	closedir(d);
	return n;
}

void
h_list_fds(pid_t pid, char *buf, size_t cap)
{
	char path[64];
	size_t used = 0;
	buf[0] = '\0';
	snprintf(path, sizeof path, "/proc/%d/fd", (int)pid);
	DIR *d = opendir(path);
	if (!d)
		return;
	struct dirent *e;
	while ((e = readdir(d)) != NULL && used + 1 < cap) {
		if (e->d_name[0] == '.')
			continue;
		char link[PATH_MAX + 80], target[PATH_MAX];
		snprintf(link, sizeof link, "%s/%s", path, e->d_name);
		ssize_t t = readlink(link, target, sizeof target - 1);
		target[t > 0 ? t : 0] = '\0';
		int w = snprintf(buf + used, cap - used, "%s->%s ", e->d_name, target);
		if (w < 0)
			break;
		used += (size_t)w;
	}
	closedir(d);
}

void
h_tail_file(const char *path, char *buf, size_t cap)
{
	buf[0] = '\0';
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return;
	off_t size = lseek(fd, 0, SEEK_END);
	off_t from = size > (off_t)(cap - 1) ? size - (off_t)(cap - 1) : 0;
	ssize_t r = pread(fd, buf, cap - 1, from);
	buf[r > 0 ? r : 0] = '\0';
	close(fd);
}

void
h_print_log_tail(const char *path)
{
	char tail[4096];
	h_tail_file(path, tail, sizeof tail);
	if (tail[0])
		fprintf(stderr, "--- server log (tail) ---\n%s\n", tail);
}

void
h_server_stop_clean(struct h_server *s, const char *log, int timeout_ms)
{
	int status = h_server_stop(s, timeout_ms);
	char what[64], tail[4096];
	h_tail_file(log, tail, sizeof tail);
	ck_assert_msg(status != -1 && WIFEXITED(status) && WEXITSTATUS(status) == 0,
	              "server stopped with %s; log:\n%s", h_describe_status(status, what, sizeof what),
	              tail);
}

/* Drains both pipes until they close, then waits for the exit. */
int
h_run_cli(const char *const *args, struct h_run *r, int timeout_ms)
{
	memset(r, 0, sizeof *r);
	r->status = -1;
	const char *argv[32] = {h_bin()};
	ck_assert_msg(argv[0] != NULL, "SHS_BIN is not set (run through `make test`)");
	size_t argc = 1;
	for (size_t i = 0; args[i] && argc < 31; i++)
		argv[argc++] = args[i];
	argv[argc] = NULL;
	int out[2], err[2];
	ck_assert(pipe2(out, O_CLOEXEC) == 0 && pipe2(err, O_CLOEXEC) == 0);
	pid_t pid = spawn(argv, out[1], err[1]);
	ck_assert_msg(pid > 0, "fork: %s", strerror(errno));
	close(out[1]);
	close(err[1]);
	struct pollfd p[2] = {{.fd = out[0], .events = POLLIN}, {.fd = err[0], .events = POLLIN}};
	char *dst[2] = {r->out, r->err};
	size_t *len[2] = {&r->out_len, &r->err_len};
	uint64_t end = h_now_ms() + (uint64_t)h_ms(timeout_ms);
	int open_pipes = 2, timed_out = 0;
	while (open_pipes > 0) {
		uint64_t now = h_now_ms();
		if (now >= end) {
			timed_out = 1;
			break;
		}
		int pr = poll(p, 2, (int)(end - now));
		if (pr < 0 && errno == EINTR)
			continue;
		for (int i = 0; i < 2; i++) {
			if (p[i].fd < 0 || !(p[i].revents & (POLLIN | POLLHUP | POLLERR)))
				continue;
			char scratch[512];
			size_t room = sizeof r->out - 1 - *len[i];
			ssize_t n = room > 0 ? read(p[i].fd, dst[i] + *len[i], room)
			                     : read(p[i].fd, scratch, sizeof scratch);
			if (n > 0 && room > 0)
				*len[i] += (size_t)n;
			if (n == 0 || (n < 0 && errno != EINTR)) {
				close(p[i].fd);
				p[i].fd = -1;
				open_pipes--;
			}
		}
	}
	for (int i = 0; i < 2; i++)
		if (p[i].fd >= 0)
			close(p[i].fd);
	r->out[r->out_len] = '\0';
	r->err[r->err_len] = '\0';
	uint64_t now = h_now_ms();
	int left = timed_out || now >= end ? 0 : (int)(end - now);
	if (timed_out || h_wait_exit(pid, left, &r->status) != 0) {
		kill(pid, SIGKILL);
		(void)h_wait_exit(pid, 5000, &r->status);
		return -1;
	}
	return 0;
}

/* ---- client sockets ---- */

/* Sockets h_connect opened and h_close has not closed yet. */
static int open_socks[1024];
static size_t n_open_socks;

static void
track(int fd)
{
	if (n_open_socks < sizeof open_socks / sizeof open_socks[0])
		open_socks[n_open_socks++] = fd;
}

void
h_close(int fd)
{
	if (fd < 0)
		return;
	for (size_t i = 0; i < n_open_socks; i++) {
		if (open_socks[i] == fd) {
			open_socks[i] = open_socks[--n_open_socks];
			break;
		}
	}
	close(fd);
}

void
h_close_all(void)
{
	while (n_open_socks > 0)
		close(open_socks[--n_open_socks]);
}

int
h_connect(int port, int rcvbuf)
{
	return h_connect_family(AF_INET, port, rcvbuf);
}

int
h_connect_family(int family, int port, int rcvbuf)
{
	int fd = socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	int ms = h_ms(H_RECV_TIMEOUT_MS);
	struct timeval tv = {ms / 1000, (ms % 1000) * 1000};
	int one = 1;
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
	if (rcvbuf > 0)
		setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof rcvbuf);
	struct sockaddr_storage ss;
	socklen_t len;
	memset(&ss, 0, sizeof ss);
	if (family == AF_INET6) {
		struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&ss;
		in6->sin6_family = AF_INET6;
		in6->sin6_port = htons((uint16_t)port);
		in6->sin6_addr = in6addr_loopback;
		len = sizeof *in6;
	} else {
		struct sockaddr_in *in = (struct sockaddr_in *)&ss;
		in->sin_family = AF_INET;
		in->sin_port = htons((uint16_t)port);
		in->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		len = sizeof *in;
	}
	for (;;) {
		if (connect(fd, (struct sockaddr *)&ss, len) == 0) {
			track(fd);
			return fd;
		}
		if (errno != EINTR)
			break;
	}
	int e = errno;
	close(fd);
	errno = e;
	return -1;
}

int
h_listen_socket(int *port)
{
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	ck_assert_msg(fd >= 0, "socket: %s", strerror(errno));
	struct sockaddr_in in = {.sin_family = AF_INET};
	in.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	socklen_t len = sizeof in;
	ck_assert_msg(bind(fd, (struct sockaddr *)&in, sizeof in) == 0, "bind: %s",
	              strerror(errno));
	ck_assert_msg(listen(fd, 16) == 0, "listen: %s", strerror(errno));
	ck_assert(getsockname(fd, (struct sockaddr *)&in, &len) == 0);
	*port = ntohs(in.sin_port);
	return fd;
}

int
h_connect_nb(int port)
{
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	struct sockaddr_in sa = {
	    .sin_family = AF_INET,
	    .sin_port = htons((uint16_t)port),
	    .sin_addr.s_addr = htonl(INADDR_LOOPBACK),
	};
	if (connect(fd, (struct sockaddr *)&sa, sizeof sa) != 0 && errno != EINPROGRESS) {
		int e = errno;
		close(fd);
		errno = e;
		return -1;
	}
	return fd;
}

void
h_reset_close(int fd)
{
	struct linger lg = {1, 0};
	(void)setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
	h_close(fd);
}

long
h_wait_closed(int fd, uint64_t since, uint64_t deadline, size_t *got)
{
	*got = 0;
	for (;;) {
		uint64_t t = h_now_ms();
		if (t >= deadline)
			return -1;
		struct pollfd p = {.fd = fd, .events = POLLIN};
		int pr = poll(&p, 1, (int)(deadline - t));
		if (pr < 0 && errno == EINTR)
			continue;
		if (pr <= 0)
			return -1;
		unsigned char buf[4096];
		ssize_t n = recv(fd, buf, sizeof buf, MSG_DONTWAIT);
		if (n > 0) {
			*got += (size_t)n;
			continue;
		}
		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			continue;
		if (*got)
			return -1;
		return (long)(h_now_ms() - since);
	}
}

int
h_send_all(int fd, const void *buf, size_t len)
{
	const char *p = buf;
	while (len > 0) {
		ssize_t w = send(fd, p, len, MSG_NOSIGNAL);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			return -errno;
		p += w;
		len -= (size_t)w;
	}
	return 0;
}

const char *
h_strerror(int rc)
{
	switch (rc) {
	case H_OK:
		return "ok";
	case H_EOF:
		return "connection closed";
	case H_TIMEOUT:
		return "timed out (server hung?)";
	case H_RESET:
		return "connection reset";
	case H_BAD:
		return "malformed response";
	default:
		return "?";
	}
}

void
h_conn_open(struct h_conn *c, int port)
{
	h_conn_open_ex(c, AF_INET, port, 0);
}

void
h_conn_open_ex(struct h_conn *c, int family, int port, int rcvbuf)
{
	c->off = c->len = 0;
	c->fd = h_connect_family(family, port, rcvbuf);
	ck_assert_msg(c->fd >= 0, "connect to %s port %d: %s",
	              family == AF_INET6 ? "::1" : "127.0.0.1", port, strerror(errno));
}

void
h_conn_attach(struct h_conn *c, int fd)
{
	c->fd = fd;
	c->off = c->len = 0;
}

void
h_conn_close(struct h_conn *c)
{
	h_close(c->fd);
	c->fd = -1;
}

void
h_conn_send_buf(struct h_conn *c, const void *buf, size_t len)
{
	int rc = h_send_all(c->fd, buf, len);
	ck_assert_msg(rc == 0, "send: %s", strerror(-rc));
}

void
h_conn_send(struct h_conn *c, const char *s)
{
	h_conn_send_buf(c, s, strlen(s));
}

/* One recv into dst: > 0, or H_EOF / H_TIMEOUT / H_RESET. */
static long
recv_once(int fd, void *dst, size_t cap)
{
	for (;;) {
		ssize_t r = recv(fd, dst, cap, 0);
		if (r > 0)
			return (long)r;
		if (r == 0)
			return H_EOF;
		if (errno == EINTR)
			continue;
		return errno == EAGAIN || errno == EWOULDBLOCK ? H_TIMEOUT : H_RESET;
	}
}

/* Appends one recv's worth to the buffer (compacting first). */
static int
fill(struct h_conn *c)
{
	if (c->off > 0) {
		memmove(c->buf, c->buf + c->off, c->len - c->off);
		c->len -= c->off;
		c->off = 0;
	}
	if (c->len == sizeof c->buf)
		return H_BAD;
	long r = recv_once(c->fd, c->buf + c->len, sizeof c->buf - c->len);
	if (r < 0)
		return (int)r;
	c->len += (size_t)r;
	return H_OK;
}

long
h_read_some(struct h_conn *c, void *dst, size_t cap)
{
	if (c->off < c->len) {
		size_t n = c->len - c->off < cap ? c->len - c->off : cap;
		memcpy(dst, c->buf + c->off, n);
		c->off += n;
		return (long)n;
	}
	long r = recv_once(c->fd, dst, cap);
	return r == H_EOF ? 0 : r;
}

int
h_read_exact(struct h_conn *c, void *dst, size_t n)
{
	unsigned char *p = dst;
	while (n > 0) {
		long r = h_read_some(c, p, n);
		if (r == 0)
			return H_EOF;
		if (r < 0)
			return (int)r;
		p += r;
		n -= (size_t)r;
	}
	return H_OK;
}

int
h_expect_close(struct h_conn *c, size_t *extra)
{
	*extra = c->len - c->off;
	c->off = c->len = 0;
	for (;;) {
		unsigned char scratch[4096];
		long r = recv_once(c->fd, scratch, sizeof scratch);
		if (r == H_EOF || r == H_RESET)
			return *extra ? H_BAD : H_OK;
		if (r == H_TIMEOUT)
			return H_TIMEOUT;
		*extra += (size_t)r;
	}
}

static char *
trim(char *s, char *end)
{
	while (s < end && (*s == ' ' || *s == '\t'))
		s++;
	while (end > s && (end[-1] == ' ' || end[-1] == '\t'))
		end--;
	*end = '\0';
	return s;
}

/* Splits a NUL-terminated copy of the head into status line and headers. */
static int
parse_head(struct h_resp *r, char *head)
{
	char *eol = strstr(head, "\r\n");
	size_t n = (size_t)(eol - head);
	if (n >= sizeof r->status_line) {
		snprintf(r->err, sizeof r->err, "status line too long");
		return H_BAD;
	}
	memcpy(r->status_line, head, n);
	r->status_line[n] = '\0';
	const char *s = r->status_line;
	if (strncmp(s, "HTTP/1.1 ", 9) != 0 || !isdigit((unsigned char)s[9]) ||
	    !isdigit((unsigned char)s[10]) || !isdigit((unsigned char)s[11]) || s[12] != ' ') {
		snprintf(r->err, sizeof r->err, "bad status line '%.100s'", s);
		return H_BAD;
	}
	r->status = atoi(s + 9);
	for (char *line = eol + 2; *line;) {
		eol = strstr(line, "\r\n");
		char *colon = memchr(line, ':', (size_t)(eol - line));
		if (!colon || colon == line || r->nhdr == H_MAX_HEADERS) {
			snprintf(r->err, sizeof r->err, "bad header line '%.*s'", (int)(eol - line),
			         line);
			return H_BAD;
		}
		if (memchr(line, '\r', (size_t)(eol - line)) ||
		    memchr(line, '\n', (size_t)(eol - line))) {
			snprintf(r->err, sizeof r->err, "bare CR or LF in the header line '%.*s'",
			         (int)(eol - line), line);
			return H_BAD;
		}
		*colon = '\0';
		for (char *p = line; p < colon; p++) {
			if (*p <= ' ' || *p >= 0x7f) {
				snprintf(r->err, sizeof r->err, "bad header name '%s'", line);
				return H_BAD;
			}
		}
		r->hdr[r->nhdr].name = line;
		r->hdr[r->nhdr].value = trim(colon + 1, eol);
		r->nhdr++;
		line = eol + 2;
	}
	return H_OK;
}

int
h_read_head(struct h_conn *c, struct h_resp *r)
{
	memset(r, 0, sizeof *r);
	for (;;) {
		unsigned char *start = c->buf + c->off;
		size_t avail = c->len - c->off;
		unsigned char *end = avail >= 4 ? memmem(start, avail, "\r\n\r\n", 4) : NULL;
		if (end) {
			size_t n = (size_t)(end - start) + 2; /* keep the last header's CRLF */
			r->head = malloc(n + 1);
			ck_assert(r->head != NULL);
			memcpy(r->head, start, n);
			r->head[n] = '\0';
			c->off += n + 2;
			if (memchr(r->head, '\0', n)) {
				snprintf(r->err, sizeof r->err, "NUL in response head");
				return H_BAD;
			}
			return parse_head(r, r->head);
		}
		int rc = fill(c);
		if (rc == H_EOF && avail > 0) {
			snprintf(r->err, sizeof r->err, "closed inside a response head: '%.*s'",
			         (int)avail, (const char *)start);
			return H_BAD;
		}
		if (rc == H_BAD)
			snprintf(r->err, sizeof r->err, "response head over %d bytes", H_CONN_BUF);
		if (rc != H_OK)
			return rc;
	}
}

static int read_body(struct h_conn *c, struct h_resp *r, int no_body);

int
h_read_response(struct h_conn *c, struct h_resp *r, int no_body)
{
	int rc = h_read_head(c, r);
	if (rc != H_OK)
		return rc;
	return read_body(c, r, no_body);
}

/* The body after a head: none if no_body, else exactly Content-Length. */
static int
read_body(struct h_conn *c, struct h_resp *r, int no_body)
{
	int rc;
	r->body = malloc(1);
	ck_assert(r->body != NULL);
	r->body[0] = '\0';
	if (no_body)
		return H_OK;
	const char *cl = h_header(r, "Content-Length");
	if (!cl || h_header_count(r, "Content-Length") != 1 || !*cl ||
	    strspn(cl, "0123456789") != strlen(cl) || strlen(cl) > 12) {
		snprintf(r->err, sizeof r->err, "%.100s: bad or missing Content-Length '%.100s'",
		         r->status_line, cl ? cl : "(none)");
		return H_BAD;
	}
	size_t n = (size_t)strtoull(cl, NULL, 10);
	if (n > 256u * 1024 * 1024) {
		snprintf(r->err, sizeof r->err, "body of %zu bytes is too big to buffer", n);
		return H_BAD;
	}
	free(r->body);
	r->body = malloc(n + 1);
	ck_assert(r->body != NULL);
	rc = h_read_exact(c, r->body, n);
	r->body[n] = '\0';
	r->body_len = n;
	if (rc != H_OK)
		snprintf(r->err, sizeof r->err, "%.100s: body of %zu bytes cut short",
		         r->status_line, n);
	return rc == H_EOF ? H_BAD : rc;
}

void
h_resp_free(struct h_resp *r)
{
	free(r->head);
	free(r->body);
	r->head = NULL;
	r->body = NULL;
}

const char *
h_header(const struct h_resp *r, const char *name)
{
	for (size_t i = 0; i < r->nhdr; i++)
		if (strcasecmp(r->hdr[i].name, name) == 0)
			return r->hdr[i].value;
	return NULL;
}

int
h_header_count(const struct h_resp *r, const char *name)
{
	int n = 0;
	for (size_t i = 0; i < r->nhdr; i++)
		n += strcasecmp(r->hdr[i].name, name) == 0;
	return n;
}

int
h_imf_date(const char *s, long long *t)
{
	static const char *const days[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
	static const char *const months[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
	                                     "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
	/* "Sun, 06 Nov 1994 08:49:37 GMT" */
	int d, y, hh, mm, ss;
	char wd[4], mon[4], tail[8];
	if (strlen(s) != 29 ||
	    sscanf(s, "%3c, %2d %3c %4d %2d:%2d:%2d %7s", wd, &d, mon, &y, &hh, &mm, &ss, tail) !=
	        8 ||
	    strcmp(tail, "GMT") != 0)
		return 0;
	wd[3] = mon[3] = '\0';
	int m = -1;
	for (int i = 0; i < 12; i++)
		if (strcmp(mon, months[i]) == 0)
			m = i;
	if (m < 0 || d < 1 || d > 31 || hh > 23 || mm > 59 || ss > 60)
		return 0;
	struct tm tm = {.tm_year = y - 1900,
	                .tm_mon = m,
	                .tm_mday = d,
	                .tm_hour = hh,
	                .tm_min = mm,
	                .tm_sec = ss};
	time_t when = timegm(&tm);
	struct tm back;
	if (!gmtime_r(&when, &back))
		return 0;
	/* Round trip: a wrong weekday, 31 Feb or a missing zero fails here. */
	char again[40];
	snprintf(again, sizeof again, "%s, %02d %s %04d %02d:%02d:%02d GMT", days[back.tm_wday],
	         back.tm_mday, months[back.tm_mon], back.tm_year + 1900, back.tm_hour, back.tm_min,
	         back.tm_sec);
	if (strcmp(again, s) != 0)
		return 0;
	*t = (long long)when;
	return 1;
}

int
h_settled_fds(pid_t pid, int want, int timeout_ms)
{
	int last = -2, same = 0;
	uint64_t end = h_now_ms() + (uint64_t)h_ms(timeout_ms);
	for (;;) {
		int n = h_count_fds(pid);
		if (want >= 0 && n == want)
			return n;
		same = n == last ? same + 1 : 0;
		if (want < 0 && same >= 4)
			return n;
		last = n;
		if (h_now_ms() > end)
			return last;
		h_sleep_ms(20);
	}
}

const char *
h_describe_status(int status, char *buf, size_t cap)
{
	if (status == -1)
		snprintf(buf, cap, "still running after 10 s, killed");
	else if (WIFEXITED(status))
		snprintf(buf, cap, "exit status %d", WEXITSTATUS(status));
	else if (WIFSIGNALED(status))
		snprintf(buf, cap, "killed by signal %d", WTERMSIG(status));
	else
		snprintf(buf, cap, "wait status %#x", status);
	return buf;
}

static pid_t teardown_runner;
static int teardown_count;
static const char *teardown_suite;

static void
report_teardown_failures(void)
{
	if (getpid() != teardown_runner || teardown_count == 0)
		return;
	fprintf(stderr, "%s: FAILED: %d server(s) did not exit 0 after SIGTERM (see above)\n",
	        teardown_suite, teardown_count);
	fflush(NULL);
	_exit(EXIT_FAILURE);
}

void
h_teardown_failed(const char *suite)
{
	if (teardown_count++ == 0) {
		teardown_runner = getpid();
		teardown_suite = suite;
		if (atexit(report_teardown_failures) != 0)
			abort();
	}
}

/* ---- more about processes and files ---- */

char
h_proc_state(pid_t pid)
{
	char path[64], buf[512];
	snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
	int fd = pid > 0 ? open(path, O_RDONLY | O_CLOEXEC) : -1;
	if (fd < 0)
		return 0;
	ssize_t n = read(fd, buf, sizeof buf - 1);
	close(fd);
	if (n <= 0)
		return 0;
	buf[n] = '\0';
	const char *p = strrchr(buf, ')');
	return p && p[1] == ' ' ? p[2] : 0;
}

int
h_has_open(pid_t pid, const char *path)
{
	char dir[64];
	snprintf(dir, sizeof dir, "/proc/%d/fd", (int)pid);
	DIR *d = opendir(dir);
	if (!d)
		return 0;
	int found = 0;
	struct dirent *e;
	while (!found && (e = readdir(d)) != NULL) {
		if (e->d_name[0] == '.')
			continue;
		char link[PATH_MAX + 80], target[PATH_MAX];
		snprintf(link, sizeof link, "%s/%s", dir, e->d_name);
		ssize_t t = readlink(link, target, sizeof target - 1);
		if (t <= 0)
			continue;
		target[t] = '\0';
		found = strcmp(target, path) == 0;
	}
	closedir(d);
	return found;
}

void
h_raise_nofile(unsigned long need)
{
	struct rlimit rl;
	ck_assert_msg(getrlimit(RLIMIT_NOFILE, &rl) == 0, "getrlimit: %s", strerror(errno));
	rl.rlim_cur = rl.rlim_max;
	ck_assert_msg(setrlimit(RLIMIT_NOFILE, &rl) == 0, "setrlimit: %s", strerror(errno));
	ck_assert_msg(rl.rlim_cur == RLIM_INFINITY || rl.rlim_cur >= need,
	              "this test needs %lu fds, the hard limit is %llu", need,
	              (unsigned long long)rl.rlim_cur);
}

size_t
h_count_lines(const char *s)
{
	size_t n = 0;
	for (; *s; s++)
		n += *s == '\n';
	return n;
}

struct file_want {
	const char *path;
	const char *needle; /* or NULL */
	size_t lines;
};

static int
file_has(void *arg)
{
	const struct file_want *w = arg;
	char *s = h_read_file(w->path, NULL);
	int ok = s && (w->needle ? strstr(s, w->needle) != NULL : h_count_lines(s) >= w->lines);
	free(s);
	return ok;
}

long
h_wait_file_contains(const char *path, const char *needle, int timeout_ms)
{
	struct file_want w = {path, needle, 0};
	return h_poll(file_has, &w, timeout_ms);
}

long
h_wait_file_lines(const char *path, size_t n, int timeout_ms)
{
	struct file_want w = {path, NULL, n};
	return h_poll(file_has, &w, timeout_ms);
}

static int
file_exists(void *arg)
{
	return access(arg, F_OK) == 0;
}

long
h_wait_exists(const char *path, int timeout_ms)
{
	return h_poll(file_exists, (void *)path, timeout_ms);
}

/* Appends what fd holds right now (non-blocking) to dst; 0 once it is at
 * EOF or broken, 1 while it may bring more. */
static int
drain_now(int fd, char *dst, size_t *len, size_t cap)
{
	for (;;) {
		char scratch[512];
		size_t room = cap - 1 - *len;
		ssize_t n =
		    room > 0 ? read(fd, dst + *len, room) : read(fd, scratch, sizeof scratch);
		if (n > 0) {
			if (room > 0)
				*len += (size_t)n;
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		return n < 0 && errno == EAGAIN;
	}
}

int
h_run_ex(const char *bin, const char *const *args, const char *const *env, struct h_run *r,
         int timeout_ms)
{
	memset(r, 0, sizeof *r);
	r->status = -1;
	const char *argv[48] = {bin ? bin : h_bin()};
	ck_assert_msg(argv[0] != NULL, "SHS_BIN is not set (run through `make test`)");
	size_t argc = 1;
	for (size_t i = 0; args[i] && argc < 47; i++)
		argv[argc++] = args[i];
	argv[argc] = NULL;
	int out[2], err[2];
	ck_assert(pipe2(out, O_CLOEXEC | O_NONBLOCK) == 0 &&
	          pipe2(err, O_CLOEXEC | O_NONBLOCK) == 0);
	struct spawn_opts so = {.env = env};
	uint64_t t0 = h_now_ms(), end = t0 + (uint64_t)h_ms(timeout_ms);
	pid_t pid = spawn_ex(argv, out[1], err[1], &so);
	ck_assert_msg(pid > 0, "fork: %s", strerror(errno));
	r->pid = pid;
	close(out[1]);
	close(err[1]);
	int exited = 0;
	/* Read while it runs (so a full pipe cannot block it), until it exits. */
	while (!exited) {
		pid_t w = waitpid(pid, &r->status, WNOHANG);
		if (w == pid) {
			exited = 1;
			r->ms = (long)(h_now_ms() - t0);
		}
		(void)drain_now(out[0], r->out, &r->out_len, sizeof r->out);
		(void)drain_now(err[0], r->err, &r->err_len, sizeof r->err);
		if (exited || h_now_ms() >= end)
			break;
		struct pollfd p[2] = {{.fd = out[0], .events = POLLIN},
		                      {.fd = err[0], .events = POLLIN}};
		(void)poll(p, 2, 5);
	}
	close(out[0]);
	close(err[0]);
	r->out[r->out_len] = '\0';
	r->err[r->err_len] = '\0';
	if (!exited) {
		kill(pid, SIGKILL);
		(void)h_wait_exit(pid, 5000, &r->status);
		return -1;
	}
	return 0;
}

/* ---- more about responses ---- */

int
h_parse_head(const void *buf, size_t len, struct h_resp *r, size_t *head_len)
{
	memset(r, 0, sizeof *r);
	const unsigned char *end = len >= 4 ? memmem(buf, len, "\r\n\r\n", 4) : NULL;
	if (!end) {
		snprintf(r->err, sizeof r->err, "no complete response head in %zu bytes: '%.200s'",
		         len, (const char *)buf);
		return H_BAD;
	}
	size_t n = (size_t)(end - (const unsigned char *)buf) + 2;
	r->head = malloc(n + 1);
	ck_assert(r->head != NULL);
	memcpy(r->head, buf, n);
	r->head[n] = '\0';
	*head_len = n + 2;
	if (memchr(r->head, '\0', n)) {
		snprintf(r->err, sizeof r->err, "NUL in response head");
		return H_BAD;
	}
	return parse_head(r, r->head);
}

long long
h_content_length(const struct h_resp *r)
{
	const char *cl = h_header(r, "Content-Length");
	if (!cl || h_header_count(r, "Content-Length") != 1 || !*cl ||
	    strspn(cl, "0123456789") != strlen(cl) || strlen(cl) > 18)
		return -1;
	return strtoll(cl, NULL, 10);
}

int
h_says_close(const struct h_resp *r)
{
	const char *v = h_header(r, "Connection");
	return v && strcasecmp(v, "close") == 0;
}

int
h_read_framed(struct h_conn *c, struct h_resp *r, int head_request)
{
	int rc = h_read_head(c, r);
	if (rc != H_OK)
		return rc;
	int st = r->status;
	int no_body = head_request || st / 100 == 1 || st == 204 || st == 304;
	if (no_body || h_header(r, "Content-Length"))
		return read_body(c, r, no_body);
	/* No Content-Length: the body runs to EOF. */
	size_t cap = 4096, n = 0;
	r->body = malloc(cap + 1);
	ck_assert(r->body != NULL);
	for (;;) {
		if (n == cap) {
			cap *= 2;
			r->body = realloc(r->body, cap + 1);
			ck_assert(r->body != NULL);
		}
		long k = h_read_some(c, r->body + n, cap - n);
		if (k == 0)
			break;
		if (k < 0) {
			r->body[n] = '\0';
			r->body_len = n;
			snprintf(r->err, sizeof r->err, "%.100s: body to EOF: %s", r->status_line,
			         h_strerror((int)k));
			return (int)k;
		}
		n += (size_t)k;
	}
	r->body[n] = '\0';
	r->body_len = n;
	return H_OK;
}

void
h_exchange(int port, const void *raw, size_t len, int until_close, struct h_resp *r)
{
	struct h_conn c;
	h_conn_open(&c, port);
	h_conn_send_buf(&c, raw, len);
	int rc = h_read_framed(&c, r, len >= 5 && memcmp(raw, "HEAD ", 5) == 0);
	ck_assert_msg(rc == H_OK, "response to '%.60s': %s %s", (const char *)raw, h_strerror(rc),
	              r->err);
	if (until_close) {
		size_t extra = 0;
		rc = h_expect_close(&c, &extra);
		ck_assert_msg(rc == H_OK,
		              "after the %d response to '%.40s': expected the close, got %s (%zu "
		              "stray bytes)",
		              r->status, (const char *)raw, h_strerror(rc), extra);
	}
	h_conn_close(&c);
}

void
h_fetch(int port, const char *method, const char *target, const char *headers, struct h_resp *r)
{
	char req[8192];
	int n =
	    snprintf(req, sizeof req, "%s %s HTTP/1.1\r\nHost: test\r\nConnection: close\r\n%s\r\n",
	             method, target, headers ? headers : "");
	ck_assert(n > 0 && (size_t)n < sizeof req);
	h_exchange(port, req, (size_t)n, 1, r);
}

/* ---- added for logs ---- */

int
h_server_start_opts(struct h_server *s, const char *root, const char *log_path,
                    const char *const *extra, const struct h_start_opts *o, char *err,
                    size_t errcap)
{
	struct h_start st = {
	    .root = root,
	    .args = extra,
	    .log_path = log_path,
	    .env = o->env,
	    .out_fd = o->out_fd,
	    .line_fd = o->line_fd,
	    .user = o->user,
	};
	return h_server_start_ex(s, &st, err, errcap);
}

const char *
h_env_no_leaks(char *buf, size_t cap)
{
	const char *prev = getenv("ASAN_OPTIONS");
	snprintf(buf, cap, "ASAN_OPTIONS=%s%sdetect_leaks=0", prev ? prev : "",
	         prev && *prev ? ":" : "");
	return buf;
}
