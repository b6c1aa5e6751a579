/* urls.c - the startup lines, --dev's URLs and --open. See urls.h. */
#include "urls.h"

#include "net.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <ifaddrs.h>
#include <limits.h>
#include <net/if.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

int
urls_print_listener(FILE *out, int first, const char *label, int fd, const char *note)
{
	char addr[64];
	if (net_local_addr(fd, addr, sizeof addr) != 0)
		return -1;
	if (first) {
		fputs("serving ", out);
		/* A directory name may hold a newline: the line stays one line
		 * (tests and scripts read it). */
		for (const unsigned char *p = (const unsigned char *)label; *p; p++) {
			if (*p < 0x20 || *p == 0x7f)
				fprintf(out, "\\x%02X", *p);
			else
				fputc(*p, out);
		}
		fputs(" on", out);
	} else {
		fputs("also on", out);
	}
	fprintf(out, " http://%s/", addr);
	if (note)
		fprintf(out, " (%s)", note);
	fputc('\n', out);
	return 0;
}

/* What a listener is bound to: its port, whether the address is the
 * wildcard, and for "::" whether IPv4 reaches it too. */
struct bound {
	struct sockaddr_storage ss;
	int family;
	unsigned port;
	int wildcard;
	int dual; /* "::" without IPV6_V6ONLY */
};

static int
bound_of(int fd, struct bound *b)
{
	socklen_t sl = sizeof b->ss;
	if (getsockname(fd, (struct sockaddr *)&b->ss, &sl) != 0)
		return -1;
	b->family = b->ss.ss_family;
	b->dual = 0;
	if (b->family == AF_INET6) {
		const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)&b->ss;
		int v6only = 1;
		socklen_t ol = sizeof v6only;
		b->port = ntohs(in6->sin6_port);
		b->wildcard = IN6_IS_ADDR_UNSPECIFIED(&in6->sin6_addr);
		if (getsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &v6only, &ol) == 0)
			b->dual = !v6only;
	} else if (b->family == AF_INET) {
		const struct sockaddr_in *in = (const struct sockaddr_in *)&b->ss;
		b->port = ntohs(in->sin_port);
		b->wildcard = in->sin_addr.s_addr == htonl(INADDR_ANY);
	} else {
		return -1;
	}
	return 0;
}

/* The URL a browser on this machine uses: the address itself, or for a
 * wildcard its loopback ("localhost" when both families reach it). */
static int
loopback_url(const struct bound *b, char *dst, size_t cap)
{
	char addr[64];
	int n;
	if (!b->wildcard) {
		if (net_format_addr((const struct sockaddr *)&b->ss, addr, sizeof addr) != 0)
			return -1;
		n = snprintf(dst, cap, "http://%s/", addr);
	} else if (b->family == AF_INET) {
		n = snprintf(dst, cap, "http://127.0.0.1:%u/", b->port);
	} else {
		n = snprintf(dst, cap, "http://%s:%u/", b->dual ? "localhost" : "[::1]", b->port);
	}
	return (n < 0 || (size_t)n >= cap) ? -1 : 0;
}

/* Whether this interface address reaches a wildcard listener, and as what. */
static int
lan_addr(const struct bound *b, const struct ifaddrs *a, char *ip, size_t cap)
{
	if (!a->ifa_addr || !(a->ifa_flags & IFF_UP) || (a->ifa_flags & IFF_LOOPBACK))
		return 0;
	int fam = a->ifa_addr->sa_family;
	if (fam == AF_INET && (b->family == AF_INET || b->dual)) {
		const struct sockaddr_in *in = (const struct sockaddr_in *)a->ifa_addr;
		return inet_ntop(AF_INET, &in->sin_addr, ip, (socklen_t)cap) != NULL;
	}
	if (fam == AF_INET6 && b->family == AF_INET6) {
		const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)a->ifa_addr;
		/* Browsers take no zone id ("%eth0") in a URL. */
		if (IN6_IS_ADDR_LINKLOCAL(&in6->sin6_addr) || IN6_IS_ADDR_LOOPBACK(&in6->sin6_addr))
			return 0;
		if (cap < 3 || !inet_ntop(AF_INET6, &in6->sin6_addr, ip + 1, (socklen_t)cap - 2))
			return 0;
		size_t n = strlen(ip + 1);
		ip[0] = '[';
		ip[n + 1] = ']';
		ip[n + 2] = '\0';
		return 1;
	}
	return 0;
}

void
urls_print_dev(FILE *out, const int *fds, unsigned n)
{
	for (unsigned i = 0; i < n; i++) {
		struct bound b;
		char url[96];
		if (bound_of(fds[i], &b) != 0 || loopback_url(&b, url, sizeof url) != 0)
			continue;
		fprintf(out, "  open %s\n", url);
		if (!b.wildcard)
			continue;
		struct ifaddrs *ifs;
		if (getifaddrs(&ifs) != 0)
			continue;
		for (const struct ifaddrs *a = ifs; a; a = a->ifa_next) {
			char ip[INET6_ADDRSTRLEN + 2];
			if (lan_addr(&b, a, ip, sizeof ip))
				fprintf(out, "  on your network: http://%s:%u/\n", ip, b.port);
		}
		freeifaddrs(ifs);
	}
}

int
urls_first(const int *fds, unsigned n, char *dst, size_t cap)
{
	struct bound b;
	if (n == 0 || bound_of(fds[0], &b) != 0)
		return -1;
	return loopback_url(&b, dst, cap);
}

/* The first executable regular file named name in $PATH, into dst. */
static int
find_in_path(const char *name, char *dst, size_t cap)
{
	const char *path = getenv("PATH");
	if (!path || !*path)
		path = "/usr/local/bin:/usr/bin:/bin";
	while (*path) {
		size_t len = strcspn(path, ":");
		int n = snprintf(dst, cap, "%.*s/%s", (int)len, len ? path : ".", name);
		struct stat sb;
		if (n > 0 && (size_t)n < cap && stat(dst, &sb) == 0 && S_ISREG(sb.st_mode) &&
		    access(dst, X_OK) == 0)
			return 0;
		path += len + (path[len] == ':');
	}
	return -ENOENT;
}

/* The grandchild: a clean process for the opener, then exec. */
static void __attribute__((noreturn)) exec_opener(const char *prog, const char *url)
{
	sigset_t none;
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	signal(SIGPIPE, SIG_DFL);
	int null = open("/dev/null", O_RDWR);
	if (null < 0 || dup2(null, 0) < 0 || dup2(null, 1) < 0 || dup2(null, 2) < 0)
		_exit(127);
	/* Our fds are close-on-exec, but a lock or log fd must not
	 * outlive us in a browser by mistake. */
	close_range(3, ~0U, 0);
	char *const argv[] = {(char *)prog, (char *)url, NULL};
	execv(prog, argv);
	_exit(127);
}

int
urls_open_browser(const char *url)
{
	/* Only xdg-open on Linux: Debian's /bin/open is openvt. */
#ifdef __APPLE__
	const char *name = "open";
#else
	const char *name = "xdg-open";
#endif
	char prog[PATH_MAX];
	int r = find_in_path(name, prog, sizeof prog);
	if (r < 0)
		return r;
	fflush(NULL);
	pid_t pid = fork();
	if (pid < 0)
		return -errno;
	if (pid == 0) {
		/* The opener may run for as long as the browser does: orphan it
		 * at once, so the server (whose --workers master reaps its
		 * children through a signalfd) never sees it exit. */
		if (setsid() < 0 || fork() != 0)
			_exit(0);
		exec_opener(prog, url);
	}
	int status;
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return -errno;
	return 0;
}
