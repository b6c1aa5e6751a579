/* check_harness.c - the helpers declared in harness.h. No suite lives here;
 * the name only puts it in the Makefile's tests/check_*.c wildcard. */
#include "harness.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
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

/* ---- processes ---- */

const char *
h_bin(void)
{
	const char *b = getenv("SHS_BIN");
	return b && b[0] ? b : NULL;
}

static uint64_t
now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* fork+exec with the given stdout/stderr; stdin is /dev/null. The child
 * dies with its parent (PR_SET_PDEATHSIG), so a failed test that forgot its
 * server, or a crashed runner, leaves nothing behind. */
static pid_t
spawn(const char *const *argv, int out_fd, int err_fd)
{
	pid_t parent = getpid();
	pid_t pid = fork();
	if (pid != 0)
		return pid;
	if (prctl(PR_SET_PDEATHSIG, SIGKILL) != 0 || getppid() != parent)
		_exit(126);
	sigset_t none;
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	signal(SIGPIPE, SIG_DFL);
	signal(SIGTERM, SIG_DFL);
	signal(SIGINT, SIG_DFL);
	int in = open("/dev/null", O_RDONLY);
	if (in < 0 || dup2(in, 0) < 0 || dup2(out_fd, 1) < 0 || dup2(err_fd, 2) < 0)
		_exit(126);
	/* Only 0-2 for the server: Check's own files stay out of its fd count. */
	close_range(3, ~0U, 0);
	execv(argv[0], (char *const *)argv);
	_exit(127);
}

int
h_wait_exit(pid_t pid, int timeout_ms, int *status)
{
	uint64_t end = now_ms() + (uint64_t)timeout_ms;
	for (;;) {
		pid_t r = waitpid(pid, status, WNOHANG);
		if (r == pid)
			return 0;
		if (r < 0 && errno != EINTR)
			return -1;
		if (now_ms() >= end)
			return -1;
		usleep(5000);
	}
}

int
h_server_start(struct h_server *s, const char *root, const char *log_path, const char *const *extra,
               char *err, size_t errcap)
{
	const char *bin = h_bin();
	s->pid = -1;
	s->port = -1;
	s->out_fd = -1;
	if (!bin) {
		snprintf(err, errcap, "SHS_BIN is not set (run through `make test`)");
		return -1;
	}
	const char *argv[32] = {bin, "--top-dir", root, "--port", "0"};
	size_t argc = 5;
	for (size_t i = 0; extra && extra[i] && argc < 31; i++)
		argv[argc++] = extra[i];
	argv[argc] = NULL;

	int pfd[2];
	if (pipe2(pfd, O_CLOEXEC) != 0) {
		snprintf(err, errcap, "pipe: %s", strerror(errno));
		return -1;
	}
	int logfd = open(log_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
	if (logfd < 0) {
		snprintf(err, errcap, "open %s: %s", log_path, strerror(errno));
		close(pfd[0]);
		close(pfd[1]);
		return -1;
	}
	s->pid = spawn(argv, pfd[1], logfd);
	close(pfd[1]);
	close(logfd);
	s->out_fd = pfd[0];
	if (s->pid < 0) {
		snprintf(err, errcap, "fork: %s", strerror(errno));
		close(pfd[0]);
		return -1;
	}

	/* The startup line, read with a deadline (ASan starts slowly). */
	char line[256];
	size_t n = 0;
	uint64_t end = now_ms() + 15000;
	while (n == 0 || line[n - 1] != '\n') {
		struct pollfd p = {.fd = s->out_fd, .events = POLLIN};
		uint64_t now = now_ms();
		int pr = now < end ? poll(&p, 1, (int)(end - now)) : 0;
		if (pr < 0 && errno == EINTR)
			continue;
		ssize_t r = pr > 0 ? read(s->out_fd, line + n, 1) : -1;
		if (r <= 0 || n + 1 >= sizeof line) {
			line[n] = '\0';
			snprintf(err, errcap, "no startup line from %s (got '%s'; log %s)", bin,
			         line, log_path);
			h_server_stop(s, 2000);
			return -1;
		}
		n++;
	}
	line[n] = '\0';
	int port = -1;
	char want[96];
	if (sscanf(line, "listening on http://127.0.0.1:%d/", &port) == 1)
		snprintf(want, sizeof want, "listening on http://127.0.0.1:%d/\n", port);
	if (port <= 0 || port > 65535 || strcmp(line, want) != 0) {
		snprintf(err, errcap, "bad startup line: '%s'", line);
		h_server_stop(s, 2000);
		return -1;
	}
	s->port = port;
	return 0;
}

int
h_server_stop(struct h_server *s, int timeout_ms)
{
	int status = -1;
	if (s->pid > 0) {
		kill(s->pid, SIGTERM);
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
	uint64_t end = now_ms() + (uint64_t)timeout_ms;
	int open_pipes = 2, timed_out = 0;
	while (open_pipes > 0) {
		uint64_t now = now_ms();
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
	uint64_t now = now_ms();
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
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	struct timeval tv = {H_RECV_TIMEOUT_MS / 1000, (H_RECV_TIMEOUT_MS % 1000) * 1000};
	int one = 1;
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
	if (rcvbuf > 0)
		setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof rcvbuf);
	struct sockaddr_in sa = {
	    .sin_family = AF_INET,
	    .sin_port = htons((uint16_t)port),
	    .sin_addr.s_addr = htonl(INADDR_LOOPBACK),
	};
	for (;;) {
		if (connect(fd, (struct sockaddr *)&sa, sizeof sa) == 0) {
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
	c->off = c->len = 0;
	c->fd = h_connect(port, 0);
	ck_assert_msg(c->fd >= 0, "connect to port %d: %s", port, strerror(errno));
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

int
h_read_response(struct h_conn *c, struct h_resp *r, int no_body)
{
	int rc = h_read_head(c, r);
	if (rc != H_OK)
		return rc;
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
	for (int waited = 0; waited <= timeout_ms; waited += 20) {
		int n = h_count_fds(pid);
		if (want >= 0 && n == want)
			return n;
		same = n == last ? same + 1 : 0;
		if (want < 0 && same >= 4)
			return n;
		last = n;
		usleep(20000);
	}
	return last;
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

/* ---- added for logs ---- */

#include <grp.h>
#include <pwd.h>

extern char **environ;

/* spawn() with a user to become and extra environment entries. */
static pid_t
spawn_opts(const char *const *argv, int out_fd, int err_fd, const struct h_start_opts *o)
{
	struct passwd *pw = o->user ? getpwnam(o->user) : NULL;
	if (o->user && !pw) {
		errno = ENOENT;
		return -1;
	}
	char *envp[256];
	size_t n = 0;
	for (char **e = environ; *e && n < 200; e++)
		envp[n++] = *e;
	for (size_t i = 0; o->env && o->env[i] && n < 255; i++)
		envp[n++] = (char *)o->env[i];
	envp[n] = NULL;
	pid_t parent = getpid();
	pid_t pid = fork();
	if (pid != 0)
		return pid;
	if (prctl(PR_SET_PDEATHSIG, SIGKILL) != 0 || getppid() != parent)
		_exit(126);
	sigset_t none;
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	signal(SIGPIPE, SIG_DFL);
	signal(SIGTERM, SIG_DFL);
	signal(SIGINT, SIG_DFL);
	int in = open("/dev/null", O_RDONLY);
	if (in < 0 || dup2(in, 0) < 0 || dup2(out_fd, 1) < 0 || dup2(err_fd, 2) < 0)
		_exit(126);
	close_range(3, ~0U, 0);
	if (pw &&
	    (setgroups(1, &pw->pw_gid) != 0 || setgid(pw->pw_gid) != 0 || setuid(pw->pw_uid) != 0))
		_exit(126);
	/* setuid cleared PDEATHSIG for an unprivileged child: set it again. */
	if (pw && prctl(PR_SET_PDEATHSIG, SIGKILL) != 0)
		_exit(126);
	execve(argv[0], (char *const *)argv, envp);
	_exit(127);
}

int
h_server_start_opts(struct h_server *s, const char *root, const char *log_path,
                    const char *const *extra, const struct h_start_opts *o, char *err,
                    size_t errcap)
{
	const char *bin = h_bin();
	s->pid = -1;
	s->port = -1;
	s->out_fd = -1;
	if (!bin) {
		snprintf(err, errcap, "SHS_BIN is not set (run through `make test`)");
		return -1;
	}
	const char *argv[40] = {bin, "--top-dir", root, "--port", "0"};
	size_t argc = 5;
	for (size_t i = 0; extra && extra[i] && argc < 39; i++)
		argv[argc++] = extra[i];
	argv[argc] = NULL;

	int child_out = o->out_fd, pfd[2] = {-1, -1};
	if (child_out < 0) {
		if (pipe2(pfd, O_CLOEXEC) != 0) {
			snprintf(err, errcap, "pipe: %s", strerror(errno));
			return -1;
		}
		child_out = pfd[1];
		s->out_fd = pfd[0];
	} else {
		s->out_fd = o->line_fd;
	}
	int logfd = open(log_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
	if (logfd < 0) {
		snprintf(err, errcap, "open %s: %s", log_path, strerror(errno));
		h_server_stop(s, 0);
		if (pfd[1] >= 0)
			close(pfd[1]);
		return -1;
	}
	s->pid = spawn_opts(argv, child_out, logfd, o);
	int spawn_errno = errno;
	close(logfd);
	if (pfd[1] >= 0)
		close(pfd[1]);
	else
		close(o->out_fd); /* the server holds it now */
	if (s->pid < 0) {
		snprintf(err, errcap, "fork: %s", strerror(spawn_errno));
		h_server_stop(s, 0);
		return -1;
	}

	char line[256];
	size_t n = 0;
	uint64_t end = now_ms() + 15000;
	while (n == 0 || line[n - 1] != '\n') {
		struct pollfd p = {.fd = s->out_fd, .events = POLLIN};
		uint64_t now = now_ms();
		int pr = now < end ? poll(&p, 1, (int)(end - now)) : 0;
		if (pr < 0 && errno == EINTR)
			continue;
		ssize_t r = pr > 0 ? read(s->out_fd, line + n, 1) : -1;
		if (r <= 0 || n + 1 >= sizeof line) {
			line[n] = '\0';
			snprintf(err, errcap, "no startup line from %s (got '%s'; log %s)", bin,
			         line, log_path);
			h_server_stop(s, 2000);
			return -1;
		}
		n++;
	}
	line[n] = '\0';
	int port = -1;
	char want[96];
	if (sscanf(line, "listening on http://127.0.0.1:%d/", &port) == 1)
		snprintf(want, sizeof want, "listening on http://127.0.0.1:%d/\n", port);
	if (port <= 0 || port > 65535 || strcmp(line, want) != 0) {
		snprintf(err, errcap, "bad startup line: '%s'", line);
		h_server_stop(s, 2000);
		return -1;
	}
	s->port = port;
	return 0;
}

const char *
h_env_no_leaks(char *buf, size_t cap)
{
	const char *prev = getenv("ASAN_OPTIONS");
	snprintf(buf, cap, "ASAN_OPTIONS=%s%sdetect_leaks=0", prev ? prev : "",
	         prev && *prev ? ":" : "");
	return buf;
}
