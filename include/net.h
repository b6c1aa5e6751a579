/* net.h - listening sockets and address formatting. */
#ifndef SHS_NET_H
#define SHS_NET_H

#include <stddef.h>
#include <sys/socket.h>

/* Opens a non-blocking, close-on-exec listening TCP socket on host:port
 * (a numeric IPv4/IPv6 address or a name; port 0 picks a free port). "::"
 * is dual-stack. Returns the fd, or -errno (-EADDRINUSE, -EADDRNOTAVAIL,
 * -EINVAL for an unresolvable host, ...). */
int net_listen(const char *host, int port, int backlog);

/* n listening sockets on the same address and port with SO_REUSEPORT, one
 * per worker process (port 0: the port the first one got). Returns 0 with
 * fds[0..n) set, or -errno with none left open. */
int net_listen_group(const char *host, int port, int backlog, int *fds, unsigned n);

/* "127.0.0.1:8080" or "[::1]:8080" into dst. Returns 0, or -1 if it does not fit. */
int net_format_addr(const struct sockaddr *sa, char *dst, size_t cap);

/* The bound address of a socket, formatted as above. */
int net_local_addr(int fd, char *dst, size_t cap);

#endif
