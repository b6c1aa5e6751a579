/*
 * floor.c - the "floor server" of the benchmark (tests/bench/README.md).
 *
 * The least work an HTTP/1.1 server on epoll can do per keep-alive request:
 * one edge-triggered epoll loop, one read() per readable client, and one
 * write() that answers every request head found in that read with a canned
 * 200 response ("Hello world!\n"), whatever the path. It parses nothing but
 * the end of each head and whether the client wants the connection closed,
 * so it is not a real server: it is the yardstick for server CPU time and
 * syscalls per request on this machine.
 *
 * A read shorter than the buffer drained the socket, so no further read is
 * needed before the next edge; only a full buffer is read again. A short
 * write (the client stopped reading) closes the connection: the benchmark
 * clients never pipeline enough for that to happen.
 *
 * Usage: floor PORT   (0 picks a free port; the real one is printed)
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#define BODY "Hello world!\n"
#define HEAD "HTTP/1.1 200 OK\r\nServer: floor\r\nContent-Type: text/plain\r\n" \
	     "Content-Length: 13\r\n"
static const char resp_keep[] = HEAD "Connection: keep-alive\r\n\r\n" BODY;
static const char resp_close[] = HEAD "Connection: close\r\n\r\n" BODY;

enum { MAX_FDS = 65536, RBUF = 16384, MAX_PER_READ = RBUF / 4 + 1 };

/* Per fd: how many bytes of "\r\n\r\n" the previous read ended with. */
static unsigned char tail[MAX_FDS];
static char rbuf[RBUF];
static char wbuf[MAX_PER_READ * sizeof resp_keep];

/* HTTP/1.0 without keep-alive, or an explicit close: answer and close. */
static int
wants_close(const char *buf, size_t len)
{
	if (memmem(buf, len, "onnection: close", 16) || memmem(buf, len, "onnection: Close", 16))
		return 1;
	return memmem(buf, len, "HTTP/1.0", 8) && !memmem(buf, len, "eep-Alive", 9) &&
	       !memmem(buf, len, "eep-alive", 9);
}

/* Returns 0 to keep the connection, -1 to close it. */
static int
serve(int fd)
{
	static const char end[] = "\r\n\r\n";
	for (;;) {
		ssize_t n = read(fd, rbuf, sizeof rbuf);
		if (n < 0)
			return errno == EAGAIN ? 0 : -1;
		if (n == 0)
			return -1;
		size_t heads = 0, m = tail[fd];
		for (ssize_t i = 0; i < n; i++) {
			if (rbuf[i] == end[m])
				m++;
			else
				m = rbuf[i] == '\r';
			if (m == 4) {
				heads++;
				m = 0;
			}
		}
		tail[fd] = (unsigned char)m;
		if (heads > 0) {
			int close_it = wants_close(rbuf, (size_t)n);
			const char *r = close_it ? resp_close : resp_keep;
			size_t rlen = close_it ? sizeof resp_close - 1 : sizeof resp_keep - 1;
			for (size_t i = 0; i < heads; i++)
				memcpy(wbuf + i * rlen, r, rlen);
			if (write(fd, wbuf, heads * rlen) != (ssize_t)(heads * rlen) || close_it)
				return -1;
		}
		if ((size_t)n < sizeof rbuf)
			return 0;
	}
}

int
main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: %s PORT\n", argv[0]);
		return 2;
	}
	signal(SIGPIPE, SIG_IGN);
	int one = 1, lfd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)atoi(argv[1])),
				 .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t salen = sizeof sa;
	if (lfd < 0 || setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) < 0 ||
	    bind(lfd, (struct sockaddr *)&sa, sizeof sa) < 0 || listen(lfd, 4096) < 0 ||
	    getsockname(lfd, (struct sockaddr *)&sa, &salen) < 0) {
		perror("floor: listen");
		return 1;
	}
	int ep = epoll_create1(EPOLL_CLOEXEC);
	struct epoll_event ev = {.events = EPOLLIN | EPOLLET, .data.fd = lfd};
	if (ep < 0 || epoll_ctl(ep, EPOLL_CTL_ADD, lfd, &ev) < 0) {
		perror("floor: epoll");
		return 1;
	}
	printf("listening on http://127.0.0.1:%u/\n", ntohs(sa.sin_port));
	fflush(stdout);

	struct epoll_event evs[256];
	for (;;) {
		int n = epoll_wait(ep, evs, 256, -1);
		if (n < 0 && errno != EINTR) {
			perror("floor: epoll_wait");
			return 1;
		}
		for (int i = 0; i < n; i++) {
			int fd = evs[i].data.fd;
			if (fd != lfd) {
				/* A half-closed client gets its answers, then the close. */
				if (serve(fd) < 0 || (evs[i].events & (EPOLLERR | EPOLLHUP | EPOLLRDHUP)))
					close(fd); /* also leaves the epoll set */
				continue;
			}
			int c;
			while ((c = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC)) >= 0) {
				struct epoll_event cev = {.events = EPOLLIN | EPOLLRDHUP | EPOLLET,
							  .data.fd = c};
				if (c >= MAX_FDS || epoll_ctl(ep, EPOLL_CTL_ADD, c, &cev) < 0)
					close(c);
				else
					tail[c] = 0;
			}
		}
	}
}
