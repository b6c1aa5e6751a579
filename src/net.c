/* net.c - listening sockets and address formatting. See net.h. */
#include "net.h"

#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static int
listen_on(const struct addrinfo *ai, int backlog, int reuseport) /* backlog < 0: bind only */
{
	int fd =
	    socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, ai->ai_protocol);
	if (fd < 0)
		return -errno;
	int one = 1, zero = 0;
	/* SO_REUSEADDR: a restart must not wait out TIME_WAIT sockets. */
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) != 0)
		goto fail;
	/* --workers: one socket per worker on the same port; the kernel
	 * spreads new connections across them. */
	if (reuseport && setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one) != 0)
		goto fail;
	/* "::" means every address, IPv4 included, whatever the sysctl says. */
	if (ai->ai_family == AF_INET6 &&
	    setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof zero) != 0)
		goto fail;
	/* Accepted sockets inherit TCP_NODELAY on Linux: set once here rather
	 * than per connection. Responses to pipelined or keep-alive requests
	 * must not wait for the client's delayed ACK (Nagle). */
	if (setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one) != 0)
		goto fail;
	int defer = SHS_DEFER_ACCEPT_S; /* see config.h */
	if (setsockopt(fd, IPPROTO_TCP, TCP_DEFER_ACCEPT, &defer, sizeof defer) != 0)
		goto fail;
	if (bind(fd, ai->ai_addr, ai->ai_addrlen) != 0 ||
	    (backlog >= 0 && listen(fd, backlog) != 0))
		goto fail;
	return fd;
fail:;
	int e = errno;
	close(fd);
	return -e;
}

static int
listen_host(const char *host, int port, int backlog, int reuseport)
{
	char service[8];
	snprintf(service, sizeof service, "%d", port);
	struct addrinfo hints = {
	    .ai_family = AF_UNSPEC,
	    .ai_socktype = SOCK_STREAM,
	    .ai_flags = AI_PASSIVE | AI_NUMERICSERV,
	};
	struct addrinfo *res;
	if (getaddrinfo(host, service, &hints, &res) != 0)
		return -EINVAL;
	int fd = -EADDRNOTAVAIL;
	for (struct addrinfo *ai = res; ai; ai = ai->ai_next) {
		fd = listen_on(ai, backlog, reuseport);
		if (fd >= 0 || fd == -EADDRINUSE)
			break;
	}
	freeaddrinfo(res);
	return fd;
}

int
net_listen(const char *host, int port, int backlog)
{
	return listen_host(host, port, backlog, 0);
}

int
net_listen_group(const char *host, int port, int backlog, int *fds, unsigned n)
{
	/* SO_REUSEPORT would let us join another server's sockets on the
	 * port and split its clients with it. A plain bind first finds out
	 * whether anyone holds the port. */
	if (port != 0) {
		int probe = listen_host(host, port, -1, 0);
		if (probe < 0)
			return probe;
		close(probe);
	}
	for (unsigned i = 0; i < n; i++) {
		fds[i] = listen_host(host, port, backlog, 1);
		if (fds[i] < 0) {
			int e = fds[i];
			while (i > 0)
				close(fds[--i]);
			return e;
		}
		/* Port 0: the rest join the port the first one got. */
		if (i == 0 && port == 0) {
			struct sockaddr_storage ss;
			socklen_t sl = sizeof ss;
			if (getsockname(fds[0], (struct sockaddr *)&ss, &sl) != 0) {
				int e = -errno;
				close(fds[0]);
				return e;
			}
			port =
			    ntohs(ss.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&ss)->sin6_port
			                                   : ((struct sockaddr_in *)&ss)->sin_port);
		}
	}
	return 0;
}

int
net_format_addr(const struct sockaddr *sa, char *dst, size_t cap)
{
	char ip[INET6_ADDRSTRLEN];
	int n;
	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *in = (const struct sockaddr_in *)sa;
		inet_ntop(AF_INET, &in->sin_addr, ip, sizeof ip);
		n = snprintf(dst, cap, "%s:%u", ip, ntohs(in->sin_port));
	} else if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)sa;
		inet_ntop(AF_INET6, &in6->sin6_addr, ip, sizeof ip);
		n = snprintf(dst, cap, "[%s]:%u", ip, ntohs(in6->sin6_port));
	} else {
		n = snprintf(dst, cap, "?");
	}
	return (n < 0 || (size_t)n >= cap) ? -1 : 0;
}

int
net_local_addr(int fd, char *dst, size_t cap)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof ss;
	if (getsockname(fd, (struct sockaddr *)&ss, &len) != 0)
		return -1;
	return net_format_addr((struct sockaddr *)&ss, dst, cap);
}
