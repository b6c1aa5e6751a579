/* main.c - command line, startup checks, and the only place that exits.
 * Startup failures print one line on stderr and exit with status 2. */
#include <errno.h>
#include <stdarg.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <arpa/inet.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sys/resource.h>
#include <unistd.h>

#include "config.h"
#include "daemon.h"
#include "log.h"
#include "net.h"
#include "server.h"

#define EXIT_USAGE 2

static void
usage(FILE *out)
{
	fprintf(out,
	        "Usage: " SHS_NAME " [OPTION]...\n"
	        "Serve the files of a directory over HTTP/1.1.\n"
	        "\n"
	        "  --top-dir DIR          directory to serve (default: ./public)\n"
	        "  --port N               TCP port, 0 picks a free one (default: 8080)\n"
	        "  --host ADDR            address to listen on; :: and 0.0.0.0 mean all\n"
	        "                         (default: 127.0.0.1)\n"
	        "  --dotfiles             serve dotfiles and dot-directories (default: 404)\n"
	        "  --listing              list directories that have no index.html\n"
	        "  --live                 development: reload pages when files change (implies --dev)\n"
	        "  --dev                  development: 404 pages suggest the file you meant\n"
	        "  --spa                  unknown paths without an extension get /index.html\n"
	        "  --clean-urls           /about is served from about.html\n"
	        "  --no-precompressed     ignore x.br / x.zst / x.gz next to x\n"
	        "  --header 'NAME: VALUE' add a header to every response (repeatable)\n"
	        "  --cors                 Access-Control-Allow-Origin: * and preflight answers\n"
	        "  --cache-control VALUE  Cache-Control for files (200, 206, 304)\n"
	        "  --access-log FILE|-    access log, - for stdout (default: -)\n"
	        "  --no-access-log        no access log\n"
	        "  --log-format FORMAT    combined or common (default: combined)\n"
	        "  --error-log FILE       error log file instead of stderr\n"
	        "  --header-timeout SECS  time for a whole request head (default: %d)\n"
	        "  --idle-timeout SECS    keep-alive idle time (default: %d)\n"
	        "  --send-timeout SECS    time a client may stall a response (default: %d)\n"
	        "  --listen ADDR:PORT     listen here too/instead ([::]:8080, 0.0.0.0:80; repeatable)\n"
	        "  --daemon               detach from the terminal (startup errors still shown)\n"
	        "  --pidfile FILE         write the pid here; refuse to start if it is held\n"
	        "  --user NAME            switch to this user after binding\n"
	        "  --group NAME           switch to this group (default: the user's)\n"
	        "  --chroot[=DIR]         chroot into DIR (default: the top dir) before that\n"
	        "  --no-root              refuse to run as root without --user\n"
	        "  --cache-size MIB       memory for small files (<= %d KiB each), 0 = off\n"
	        "                         (default: %d); changes show within 1 s\n"
	        "  --max-connections N    simultaneous clients; more get a 503 (default: %d)\n"
	        "  -v, --verbose          log every request and debug details\n"
	        "  -q, --quiet            log errors only; no startup line\n"
	        "  -h, --help             show this help and exit\n"
	        "  -V, --version          show the version and exit\n"
	        "\n"
	        "SIGTERM or SIGINT stop it after in-flight responses finish (at most %d s).\n",
	        SHS_HEADER_TIMEOUT_MS / 1000, SHS_IDLE_TIMEOUT_MS / 1000,
	        SHS_SEND_TIMEOUT_MS / 1000, SHS_CACHE_MAX_FILE / 1024, SHS_CACHE_MIB,
	        SHS_DEFAULT_MAX_CONNS, SHS_SHUTDOWN_GRACE_MS / 1000);
}

/* One line on stderr and exit 2. Control characters from the user's own
 * arguments are shown as \xHH so the message stays one line. */
static void __attribute__((noreturn, format(printf, 1, 2))) die_usage(const char *fmt, ...)
{
	char msg[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	fputs(SHS_NAME ": ", stderr);
	for (const unsigned char *p = (const unsigned char *)msg; *p; p++) {
		if (*p < 0x20 || *p == 0x7f)
			fprintf(stderr, "\\x%02X", *p);
		else
			fputc(*p, stderr);
	}
	fputc('\n', stderr);
	exit(EXIT_USAGE);
}

/* A whole decimal number in [min, max], or -1. */
static long
parse_number(const char *s, long min, long max)
{
	if (*s < '0' || *s > '9')
		return -1;
	errno = 0;
	char *end;
	long v = strtol(s, &end, 10);
	if (errno != 0 || *end != '\0' || v < min || v > max)
		return -1;
	return v;
}

/* A positive number of seconds (fractions allowed, at most a day), or -1. */
static double
parse_seconds(const char *s)
{
	char *end;
	errno = 0;
	double v = strtod(s, &end);
	if (errno != 0 || end == s || *end != '\0' || !(v >= 0.001 && v <= 86400))
		return -1;
	return v;
}

/* "127.0.0.1:8080", "[::]:8080", ":8080" (all addresses) or "8080". */
static int
parse_listen(const char *arg, char *host, size_t cap, int *port)
{
	const char *p;
	size_t n;
	if (arg[0] == '[') {
		const char *close = strchr(arg, ']');
		if (!close || close[1] != ':')
			return -1;
		n = (size_t)(close - arg - 1);
		memcpy(host, arg + 1, n < cap ? n : 0);
		p = close + 2;
	} else {
		const char *colon = strrchr(arg, ':');
		if (colon && strchr(arg, ':') != colon)
			return -1; /* a bare IPv6 address needs brackets */
		n = colon ? (size_t)(colon - arg) : 0;
		memcpy(host, arg, n < cap ? n : 0);
		p = colon ? colon + 1 : arg;
	}
	if (n >= cap)
		return -1;
	host[n] = '\0';
	if (n == 0)
		strcpy(host, "::");
	long v = parse_number(p, 0, 65535);
	if (v < 0)
		return -1;
	*port = (int)v;
	return 0;
}

/* --dev/--live: the addresses to open in a browser, the LAN ones too when
 * bound to every address. */
static void
print_urls(const int *fds, int n)
{
	for (int i = 0; i < n; i++) {
		struct sockaddr_storage ss;
		socklen_t sl = sizeof ss;
		if (getsockname(fds[i], (struct sockaddr *)&ss, &sl) != 0)
			continue;
		unsigned port = ntohs(ss.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&ss)->sin6_port
		                                               : ((struct sockaddr_in *)&ss)->sin_port);
		int any = ss.ss_family == AF_INET6
		              ? IN6_IS_ADDR_UNSPECIFIED(&((struct sockaddr_in6 *)&ss)->sin6_addr)
		              : ((struct sockaddr_in *)&ss)->sin_addr.s_addr == htonl(INADDR_ANY);
		if (!any) {
			char addr[64];
			if (net_format_addr((struct sockaddr *)&ss, addr, sizeof addr) == 0)
				printf("  open http://%s/\n", addr);
			continue;
		}
		printf("  open http://localhost:%u/\n", port);
		struct ifaddrs *ifs;
		if (getifaddrs(&ifs) != 0)
			continue;
		for (struct ifaddrs *a = ifs; a; a = a->ifa_next) {
			if (!a->ifa_addr || a->ifa_addr->sa_family != AF_INET ||
			    (a->ifa_flags & IFF_LOOPBACK))
				continue;
			char ip[INET_ADDRSTRLEN];
			inet_ntop(AF_INET, &((struct sockaddr_in *)a->ifa_addr)->sin_addr, ip, sizeof ip);
			printf("  on your network: http://%s:%u/\n", ip, port);
		}
		freeifaddrs(ifs);
	}
}

/* Each connection needs a socket and an open file at most; ask for the hard
 * limit so the table size, not the default 1024, is what bounds us. */
static void
raise_fd_limit(unsigned max_conns)
{
	struct rlimit rl;
	if (getrlimit(RLIMIT_NOFILE, &rl) != 0)
		return;
	if (rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		if (setrlimit(RLIMIT_NOFILE, &rl) != 0)
			return;
	}
	if (rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur < (rlim_t)max_conns * 2 + 16)
		log_warn("open file limit %llu is low for %u connections; some clients may get 503",
		         (unsigned long long)rl.rlim_cur, max_conns);
}

/* field-value: visible characters, SP and HTAB; no CR, LF or other CTLs,
 * which would let a flag split a response. */
static int
valid_value(const char *v, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)v[i];
		if ((ch < 0x20 && ch != '\t') || ch == 0x7f)
			return 0;
	}
	return 1;
}

/* Headers the server owns because they frame the message. */
static int
reserved_header(const char *name, size_t n)
{
	static const char *const reserved[] = {
	    "content-length", "transfer-encoding", "connection", "keep-alive",
	    "upgrade",        "content-range",     "date",       "trailer",
	};
	for (size_t i = 0; i < sizeof reserved / sizeof reserved[0]; i++)
		if (strlen(reserved[i]) == n && strncasecmp(reserved[i], name, n) == 0)
			return 1;
	return 0;
}

/* Validates "Name: value" and appends "Name: value\r\n" to the block. */
static void
add_header(char *block, size_t *len, const char *arg)
{
	const char *colon = strchr(arg, ':');
	size_t n = colon ? (size_t)(colon - arg) : 0;
	if (n == 0)
		die_usage("invalid --header '%s' (expected 'Name: value')", arg);
	for (size_t i = 0; i < n; i++)
		if (!strchr("!#$%&'*+-.^_`|~", arg[i]) &&
		    !((arg[i] >= 'a' && arg[i] <= 'z') || (arg[i] >= 'A' && arg[i] <= 'Z') ||
		      (arg[i] >= '0' && arg[i] <= '9')))
			die_usage("invalid header name in --header '%s'", arg);
	if (reserved_header(arg, n))
		die_usage("--header cannot set %.*s: the server manages it", (int)n, arg);
	const char *v = colon + 1;
	while (*v == ' ' || *v == '\t')
		v++;
	size_t vn = strlen(v);
	while (vn > 0 && (v[vn - 1] == ' ' || v[vn - 1] == '\t'))
		vn--;
	if (!valid_value(v, vn))
		die_usage("invalid characters in --header '%s'", arg);
	int w = snprintf(block + *len, SHS_EXTRA_HEADERS_MAX - *len, "%.*s: %.*s\r\n", (int)n, arg,
	                 (int)vn, v);
	if (w < 0 || (size_t)w >= SHS_EXTRA_HEADERS_MAX - *len)
		die_usage("too many --header bytes (at most %d)", SHS_EXTRA_HEADERS_MAX - 1);
	*len += (size_t)w;
}

static void
listen_error(const char *host, int port, int err)
{
	switch (err) {
	case EADDRINUSE:
		die_usage("port %d is in use on %s", port, host);
	case EACCES:
		die_usage("permission denied to listen on port %d", port);
	case EINVAL:
		die_usage("cannot resolve address '%s'", host);
	case EADDRNOTAVAIL:
		die_usage("address %s is not available on this machine", host);
	default:
		die_usage("cannot listen on %s port %d: %s", host, port, strerror(err));
	}
}

int
main(int argc, char **argv)
{
	enum {
		OPT_TOP_DIR = 256,
		OPT_PORT,
		OPT_HOST,
		OPT_DOTFILES,
		OPT_MAX_CONNS,
		OPT_LISTING,
		OPT_NO_PRECOMPRESSED,
		OPT_HEADER,
		OPT_CORS,
		OPT_CACHE_CONTROL,
		OPT_HEADER_TIMEOUT,
		OPT_IDLE_TIMEOUT,
		OPT_SEND_TIMEOUT,
		OPT_ACCESS_LOG,
		OPT_NO_ACCESS_LOG,
		OPT_LOG_FORMAT,
		OPT_ERROR_LOG,
		OPT_DAEMON,
		OPT_PIDFILE,
		OPT_USER,
		OPT_GROUP,
		OPT_CHROOT,
		OPT_NO_ROOT,
		OPT_LISTEN,
		OPT_CACHE_SIZE,
		OPT_LIVE,
		OPT_DEV,
		OPT_SPA,
		OPT_CLEAN_URLS,
	};
	static const struct option options[] = {
	    {"top-dir", required_argument, NULL, OPT_TOP_DIR},
	    {"port", required_argument, NULL, OPT_PORT},
	    {"host", required_argument, NULL, OPT_HOST},
	    {"dotfiles", no_argument, NULL, OPT_DOTFILES},
	    {"max-connections", required_argument, NULL, OPT_MAX_CONNS},
	    {"listing", no_argument, NULL, OPT_LISTING},
	    {"no-precompressed", no_argument, NULL, OPT_NO_PRECOMPRESSED},
	    {"header", required_argument, NULL, OPT_HEADER},
	    {"cors", no_argument, NULL, OPT_CORS},
	    {"cache-control", required_argument, NULL, OPT_CACHE_CONTROL},
	    {"header-timeout", required_argument, NULL, OPT_HEADER_TIMEOUT},
	    {"idle-timeout", required_argument, NULL, OPT_IDLE_TIMEOUT},
	    {"send-timeout", required_argument, NULL, OPT_SEND_TIMEOUT},
	    {"access-log", required_argument, NULL, OPT_ACCESS_LOG},
	    {"no-access-log", no_argument, NULL, OPT_NO_ACCESS_LOG},
	    {"log-format", required_argument, NULL, OPT_LOG_FORMAT},
	    {"error-log", required_argument, NULL, OPT_ERROR_LOG},
	    {"daemon", no_argument, NULL, OPT_DAEMON},
	    {"pidfile", required_argument, NULL, OPT_PIDFILE},
	    {"user", required_argument, NULL, OPT_USER},
	    {"group", required_argument, NULL, OPT_GROUP},
	    {"chroot", optional_argument, NULL, OPT_CHROOT},
	    {"no-root", no_argument, NULL, OPT_NO_ROOT},
	    {"listen", required_argument, NULL, OPT_LISTEN},
	    {"cache-size", required_argument, NULL, OPT_CACHE_SIZE},
	    {"live", no_argument, NULL, OPT_LIVE},
	    {"dev", no_argument, NULL, OPT_DEV},
	    {"spa", no_argument, NULL, OPT_SPA},
	    {"clean-urls", no_argument, NULL, OPT_CLEAN_URLS},
	    {"verbose", no_argument, NULL, 'v'},
	    {"quiet", no_argument, NULL, 'q'},
	    {"help", no_argument, NULL, 'h'},
	    {"version", no_argument, NULL, 'V'},
	    {NULL, 0, NULL, 0},
	};
	struct server_config cfg = {
	    .top_dir = "./public",
	    .host = "127.0.0.1",
	    .port = 8080,
	    .max_conns = SHS_DEFAULT_MAX_CONNS,
	    .precompressed = 1,
	    .cache_bytes = (size_t)SHS_CACHE_MIB << 20,
	    .cache_max_file = SHS_CACHE_MAX_FILE,
	    .timeout_ms =
	        {
	            [TIMER_HEADER] = SHS_HEADER_TIMEOUT_MS,
	            [TIMER_IDLE] = SHS_IDLE_TIMEOUT_MS,
	            [TIMER_TRANSFER] = SHS_SEND_TIMEOUT_MS,
	            [TIMER_LINGER] = SHS_LINGER_TIMEOUT_MS,
	        },
	};
	const char *access_log = "-";
	int combined = 1;
	int daemonize = 0, no_root = 0, chroot_top = 0;
	const char *pidfile = NULL, *user = NULL, *group = NULL, *chroot_dir = NULL;
	struct listen_spec {
		char host[64];
		int port;
	} listens[SHS_MAX_LISTENERS];
	unsigned nlistens = 0;
	static char headers[SHS_EXTRA_HEADERS_MAX];
	size_t headers_len = 0;
	int verbose = 0;

	opterr = 0; /* our own one-line messages */
	for (;;) {
		int opt = getopt_long(argc, argv, ":vqhV", options, NULL);
		if (opt == -1)
			break;
		long v;
		switch (opt) {
		case OPT_TOP_DIR:
			cfg.top_dir = optarg;
			break;
		case OPT_PORT:
			if ((v = parse_number(optarg, 0, 65535)) < 0)
				die_usage("invalid port '%s' (expected 0 to 65535)", optarg);
			cfg.port = (int)v;
			break;
		case OPT_HOST:
			cfg.host = optarg;
			break;
		case OPT_DOTFILES:
			cfg.dotfiles = 1;
			break;
		case OPT_MAX_CONNS:
			if ((v = parse_number(optarg, 1, 1000000)) < 0)
				die_usage("invalid --max-connections '%s' (expected 1 to 1000000)",
				          optarg);
			cfg.max_conns = (unsigned)v;
			break;
		case OPT_LISTING:
			cfg.listing = 1;
			break;
		case OPT_NO_PRECOMPRESSED:
			cfg.precompressed = 0;
			break;
		case OPT_HEADER:
			add_header(headers, &headers_len, optarg);
			cfg.extra_headers = headers;
			break;
		case OPT_CORS:
			cfg.cors = 1;
			break;
		case OPT_CACHE_CONTROL:
			if (!valid_value(optarg, strlen(optarg)) || !*optarg)
				die_usage("invalid --cache-control value '%s'", optarg);
			cfg.cache_control = optarg;
			break;
		case OPT_HEADER_TIMEOUT:
		case OPT_IDLE_TIMEOUT:
		case OPT_SEND_TIMEOUT: {
			double secs = parse_seconds(optarg);
			if (secs <= 0)
				die_usage("invalid timeout '%s' (expected seconds, e.g. 10 or 0.5)",
				          optarg);
			enum timer_class k = opt == OPT_HEADER_TIMEOUT ? TIMER_HEADER
			                     : opt == OPT_IDLE_TIMEOUT ? TIMER_IDLE
			                                               : TIMER_TRANSFER;
			cfg.timeout_ms[k] = (unsigned)(secs * 1000);
			break;
		}
		case OPT_ACCESS_LOG:
			access_log = optarg;
			break;
		case OPT_NO_ACCESS_LOG:
			access_log = NULL;
			break;
		case OPT_LOG_FORMAT:
			if (strcmp(optarg, "combined") == 0)
				combined = 1;
			else if (strcmp(optarg, "common") == 0)
				combined = 0;
			else
				die_usage("invalid --log-format '%s' (expected common or combined)",
				          optarg);
			break;
		case OPT_ERROR_LOG:
			cfg.error_log = optarg;
			break;
		case OPT_DAEMON:
			daemonize = 1;
			break;
		case OPT_PIDFILE:
			pidfile = optarg;
			break;
		case OPT_USER:
			user = optarg;
			break;
		case OPT_GROUP:
			group = optarg;
			break;
		case OPT_CHROOT:
			if (optarg)
				chroot_dir = optarg;
			else
				chroot_top = 1;
			break;
		case OPT_LIVE:
			cfg.live = cfg.dev = 1;
			break;
		case OPT_DEV:
			cfg.dev = 1;
			break;
		case OPT_SPA:
			cfg.spa = 1;
			break;
		case OPT_CLEAN_URLS:
			cfg.clean_urls = 1;
			break;
		case OPT_CACHE_SIZE:
			if ((v = parse_number(optarg, 0, 65536)) < 0)
				die_usage("invalid --cache-size '%s' (expected MiB, 0 to 65536)", optarg);
			cfg.cache_bytes = (size_t)v << 20;
			break;
		case OPT_NO_ROOT:
			no_root = 1;
			break;
		case OPT_LISTEN:
			if (nlistens == SHS_MAX_LISTENERS)
				die_usage("too many --listen (at most %d)", SHS_MAX_LISTENERS);
			if (parse_listen(optarg, listens[nlistens].host, sizeof listens[0].host,
			                 &listens[nlistens].port) != 0)
				die_usage("invalid --listen '%s' (expected ADDR:PORT, [IPV6]:PORT or "
				          ":PORT)",
				          optarg);
			nlistens++;
			break;
		case 'v':
			verbose = 1;
			break;
		case 'q':
			cfg.quiet = 1;
			break;
		case 'h':
			usage(stdout);
			return 0;
		case 'V':
			printf(SHS_NAME " " SHS_VERSION "\n");
			return 0;
		case ':':
			die_usage("option '%s' needs a value (see --help)", argv[optind - 1]);
		default:
			die_usage("unknown option '%s' (see --help)", argv[optind - 1]);
		}
	}
	if (optind < argc)
		die_usage("unexpected argument '%s' (see --help)", argv[optind]);
	log_set_level(cfg.quiet ? LOG_LEVEL_ERROR : verbose ? LOG_LEVEL_DEBUG : LOG_LEVEL_INFO);

	if (no_root && geteuid() == 0 && !user)
		die_usage("refusing to run as root without --user (--no-root)");

	/* Detach first: the daemon itself must hold the pidfile lock, and its
	 * startup errors still reach this terminal through the shared stderr
	 * while the parent waits for the verdict. */
	int report_fd = -1;
	if (daemonize) {
		int exit_status;
		int r = daemon_detach(&report_fd, &exit_status);
		if (r < 0)
			die_usage("cannot detach: %s", strerror(-r));
		if (r == 1)
			return exit_status;
	}

	int rootfd = open(cfg.top_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (rootfd < 0)
		die_usage("top dir '%s': %s", cfg.top_dir,
		          errno == ENOTDIR ? "not a directory" : strerror(errno));

	raise_fd_limit(cfg.max_conns);
	int lfds[SHS_MAX_LISTENERS];
	int nl = socket_activation_fds(lfds, SHS_MAX_LISTENERS);
	if (nl < 0)
		die_usage("sockets passed by systemd (LISTEN_FDS): %s", strerror(-nl));
	if (nl == 0 && nlistens == 0) {
		listens[0].port = cfg.port;
		snprintf(listens[0].host, sizeof listens[0].host, "%s", cfg.host);
		if (strlen(cfg.host) >= sizeof listens[0].host)
			die_usage("address '%s' is too long", cfg.host);
		nlistens = 1;
	}
	for (unsigned i = 0; nl >= 0 && i < nlistens && (unsigned)nl < SHS_MAX_LISTENERS; i++) {
		int fd = net_listen(listens[i].host, listens[i].port, 4096);
		if (fd < 0)
			listen_error(listens[i].host, listens[i].port, -fd);
		lfds[nl++] = fd;
	}

	struct pidfile pf = {.fd = -1, .dirfd = -1};
	if (pidfile) {
		pid_t holder = 0;
		int r = pidfile_acquire(&pf, pidfile, &holder);
		if (r == -EEXIST)
			die_usage("already running: pidfile %s is held by process %ld", pidfile,
			          (long)holder);
		if (r < 0)
			die_usage("pidfile %s: %s", pidfile, strerror(-r));
	}

	static struct server srv;
	int r = server_init(&srv, &cfg, lfds, (unsigned)nl, rootfd);
	if (r < 0)
		die_usage("cannot start: %s", strerror(-r));
	/* Logs are opened before chroot, so their paths mean what they say. */
	if (access_log && (daemonize && strcmp(access_log, "-") == 0))
		access_log = NULL; /* stdout is /dev/null once detached */
	if (access_log && (r = accesslog_open(&srv.access_log, access_log, combined)) < 0)
		die_usage("access log '%s': %s", access_log, strerror(-r));

	/* The error log takes over stderr only now, so every startup error
	 * above still reaches the terminal (and a --daemon parent). */
	if (cfg.error_log && (r = log_reopen(cfg.error_log)) < 0)
		die_usage("error log '%s': %s", cfg.error_log, strerror(-r));

	if (chroot_top)
		chroot_dir = cfg.top_dir;
	if (user || group || chroot_dir) {
		char err[256];
		if (privileges_drop(user, group, chroot_dir, err, sizeof err) < 0)
			die_usage("%s", err);
		if (chroot_dir && !user)
			log_warn("chroot without --user: root can leave a chroot");
	}

	if (!cfg.quiet) {
		for (int i = 0; i < nl; i++) {
			char addr[64];
			if (net_local_addr(lfds[i], addr, sizeof addr) == 0)
				printf("listening on http://%s/\n", addr);
		}
		if (cfg.dev)
			print_urls(lfds, nl);
		fflush(stdout);
	}
	if (daemonize)
		daemon_ready(report_fd, cfg.error_log != NULL);
	notify_systemd("READY=1");

	int status = server_run(&srv);
	notify_systemd("STOPPING=1");
	server_free(&srv);
	close(rootfd);
	pidfile_release(&pf);
	log_info("stopped");
	return status;
}
