/* main.c - the startup sequence (options.c parses the command line) and the
 * only place that exits. Startup failures print one line on stderr and exit
 * with status 2. */
#include <errno.h>
#include <stdarg.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"
#include "daemon.h"
#include "log.h"
#include "net.h"
#include "options.h"
#include "preflight.h"
#include "server.h"
#include "upgrade.h"
#include "urls.h"
#include "workers.h"

#define EXIT_USAGE 2
/* Ports tried after a busy default port (the last try is any free port). */
#define PORT_TRIES 10

/* One line on stderr and exit 2. Control characters from the user's own
 * arguments are shown as \xHH so the message stays one line. */
static void __attribute__((noreturn, format(printf, 1, 2))) die_usage(const char *fmt, ...)
{
	char msg[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	/* The whole line in one write: workers failing together (--workers)
	 * share stderr, and unbuffered stdio would interleave their bytes. */
	char line[sizeof SHS_NAME + 2 + 4 * sizeof msg + 1];
	size_t n = (size_t)snprintf(line, sizeof line, "%s: ", SHS_NAME);
	for (const unsigned char *p = (const unsigned char *)msg; *p; p++) {
		if (*p < 0x20 || *p == 0x7f)
			n += (size_t)snprintf(line + n, sizeof line - n, "\\x%02X", *p);
		else
			line[n++] = (char)*p;
	}
	line[n++] = '\n';
	upgrade_report_failure(line, n); /* a new generation: for the old one to log */
	fflush(stdout);
	ssize_t w = write(STDERR_FILENO, line, n);
	(void)w;
	exit(EXIT_USAGE);
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

static void
listen_error(const char *host, int port, int err)
{
	switch (err) {
	case EADDRINUSE:
		die_usage("port %d is in use on %s (choose another with -p PORT, or -p 0 for any "
		          "free port)",
		          port, host);
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

/* What the startup steps hand on to each other. One static instance: the
 * server keeps a pointer to opts.cfg, and the options' headers block, the
 * listener table and the server are a few KiB each. */
struct startup {
	struct options opts;
	struct daemon_handoff handoff;
	int rootfd;
	/* lfds[w * nl + k]: listener k of worker w (one row without --workers). */
	int lfds[SHS_MAX_WORKERS * SHS_MAX_LISTENERS];
	unsigned na; /* listeners passed by systemd, first in each row */
	unsigned nl; /* listeners per worker */
	unsigned nw; /* workers (1 without --workers) */
	struct pidfile pf;
	struct accesslog alog;
	struct server srv;
	struct workers ws;
	int worker;        /* this worker's index, or -1 in the master or the only process */
	const char *label; /* the top dir as the startup line shows it */
	char moved[32];    /* "8080 is in use" when the default port was taken */
};

/* Parses and checks the command line and sets the log level. Returns 1 when
 * main must exit with *exit_status now (--help, --version). */
static int
parse_args(int argc, char **argv, struct options *o, int *exit_status)
{
	char msg[1024]; /* die_usage's size, so a long message is cut as before */
	switch (options_parse(argc, argv, o, msg, sizeof msg)) {
	case OPTIONS_RUN:
		break;
	case OPTIONS_HELP:
		options_usage(stdout);
		*exit_status = 0;
		return 1;
	case OPTIONS_VERSION:
		printf(SHS_NAME " " SHS_VERSION "\n");
		*exit_status = 0;
		return 1;
	case OPTIONS_ERROR:
		die_usage("%s", msg);
	}
	struct server_config *cfg = &o->cfg;
	log_set_level(cfg->quiet ? LOG_LEVEL_ERROR : o->verbose ? LOG_LEVEL_DEBUG : LOG_LEVEL_INFO);

	if (o->no_root && geteuid() == 0 && !o->user)
		die_usage("refusing to run as root without --user (--no-root)");
	return 0;
}

/* --daemon. Detach first: the daemon itself must hold the pidfile lock, and
 * its startup errors still reach this terminal through the shared stderr
 * while the parent waits for the verdict. Returns 1 in the parent, which
 * exits with *exit_status. */
static int
detach(struct startup *st, int *exit_status)
{
	if (!st->opts.daemonize || upgrade_is_new_generation())
		return 0; /* an upgrade's new generation is in the background already */
	int r = daemon_detach(&st->handoff, exit_status);
	if (r < 0)
		die_usage("cannot detach: %s", strerror(-r));
	return r == 1;
}

/* No directory given: ./public when there is one (the sample site's
 * place), else the current directory, as http-server does; the startup
 * line says which. A directory given is shown as given. */
static void
default_top_dir(struct startup *st)
{
	struct server_config *cfg = &st->opts.cfg;
	st->label = cfg->top_dir;
	if (cfg->top_dir)
		return;
	struct stat sb;
	int public = stat("./public", &sb) == 0 && S_ISDIR(sb.st_mode);
	cfg->top_dir = public ? "./public" : ".";
	st->label = public ? "./public" : "./ (no ./public here)";
}

static void
open_top_dir(struct startup *st)
{
	struct options *o = &st->opts;
	default_top_dir(st);
	const char *top_dir = o->cfg.top_dir;
	st->rootfd = open(top_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (st->rootfd < 0)
		die_usage("top dir '%s': %s", top_dir,
		          errno == ENOTDIR ? "not a directory" : strerror(errno));
	char err[1024];
	if (o->chroot_dir && !o->chroot_top &&
	    preflight_chroot(o->chroot_dir, top_dir, err, sizeof err) < 0)
		die_usage("%s", err);
}

/* One listener: a socket, or one per worker. Returns 0 or -errno. */
static int
listen_group(const char *host, int port, unsigned nw, int *group)
{
	int r = nw == 1 ? (group[0] = net_listen(host, port, 4096))
	                : net_listen_group(host, port, 4096, group, nw);
	return r < 0 ? r : 0;
}

/* The default port (no -p, --port or --listen) is a guess, not a demand:
 * when it is taken, the next free one of the few after it (then any free
 * port) serves, as `serve` does, and the startup line says so. A port the
 * user chose still fails (listen_error). */
static int
listen_default(struct startup *st, int *group)
{
	struct options_listen *l = &st->opts.listens[0];
	int want = l->port, r = listen_group(l->host, want, st->opts.workers, group);
	for (int i = 1; r == -EADDRINUSE && i <= PORT_TRIES; i++) {
		int port = i < PORT_TRIES && want + i <= 65535 ? want + i : 0;
		if ((r = listen_group(l->host, port, st->opts.workers, group)) == 0) {
			l->port = port;
			snprintf(st->moved, sizeof st->moved, "%d is in use", want);
		}
	}
	return r;
}

/* Fills st->lfds: the sockets systemd passed, then our own --listen
 * addresses (or --host/--port when there are neither). */
static void
open_listeners(struct startup *st)
{
	struct options *o = &st->opts;
	struct server_config *cfg = &o->cfg;
	raise_fd_limit(cfg->max_conns);
	int act[SHS_MAX_LISTENERS];
	int na = socket_activation_fds(act, SHS_MAX_LISTENERS);
	if (na < 0)
		die_usage("sockets passed by systemd (LISTEN_FDS): %s", strerror(-na));
	if (na == 0)
		na = upgrade_activated_fds(act, SHS_MAX_LISTENERS);
	int guessed = na == 0 && o->nlistens == 0 && !o->port_given;
	if (na == 0 && o->nlistens == 0) {
		o->listens[0].port = cfg->port;
		snprintf(o->listens[0].host, sizeof o->listens[0].host, "%s", cfg->host);
		if (strlen(cfg->host) >= sizeof o->listens[0].host)
			die_usage("address '%s' is too long", cfg->host);
		o->nlistens = 1;
	}
	unsigned nw = o->workers, nl = (unsigned)na + o->nlistens;
	if (nl > SHS_MAX_LISTENERS)
		nl = SHS_MAX_LISTENERS;
	/* Sockets from systemd are shared by every worker; our own are one
	 * SO_REUSEPORT socket per worker, so the kernel spreads the load. */
	for (unsigned k = 0; k < nl; k++) {
		int group[SHS_MAX_WORKERS];
		if (k < (unsigned)na) {
			for (unsigned w = 0; w < nw; w++)
				group[w] = act[k];
		} else {
			const char *host = o->listens[k - na].host;
			int port = o->listens[k - na].port, r = 0;
			if (upgrade_take_group(k - na, group, nw))
				; /* inherited from the old generation: nothing to bind */
			else
				r = guessed ? listen_default(st, group)
				            : listen_group(host, port, nw, group);
			if (r < 0)
				listen_error(host, port, -r);
		}
		for (unsigned w = 0; w < nw; w++)
			st->lfds[w * nl + k] = group[w];
	}
	st->na = (unsigned)na;
	st->nl = nl;
	st->nw = nw;
	upgrade_set_listeners(st->lfds, st->na, nl, nw);
}

static void
acquire_pidfile(struct startup *st)
{
	const char *path = st->opts.pidfile;
	if (!path)
		return;
	pid_t holder = 0;
	int r = upgrade_pidfile(&st->pf, path, &holder);
	if (r == -EEXIST)
		die_usage("already running: pidfile %s is held by process %ld", path, (long)holder);
	if (r < 0)
		die_usage("pidfile %s: %s", path, strerror(-r));
}

/* Logs are opened before chroot, so their paths mean what they say; their
 * directories stay open so that SIGHUP can reopen them by name after the
 * chroot (see accesslog.c and log.c). Without --workers the server starts
 * in between: the error log takes over stderr only after it, so every
 * startup error still reaches the terminal (and a --daemon parent). */
static void
open_logs_and_server(struct startup *st)
{
	struct options *o = &st->opts;
	struct server_config *cfg = &o->cfg;
	int r;
	if (o->access_log && (o->daemonize && strcmp(o->access_log, "-") == 0))
		o->access_log = NULL; /* stdout is /dev/null once detached */
	if (o->access_log && (r = accesslog_open(&st->alog, o->access_log, o->combined)) < 0)
		die_usage("access log '%s': %s", o->access_log, strerror(-r));
	st->alog.shared = st->nw > 1;

	if (st->nw == 1 && (r = server_init(&st->srv, cfg, st->lfds, st->nl, st->rootfd)) < 0)
		die_usage("cannot start: %s", strerror(-r));

	if (cfg->error_log && (r = log_open(cfg->error_log)) < 0)
		die_usage("error log '%s': %s", cfg->error_log, strerror(-r));
	if (st->nw == 1)
		server_ready(&st->srv, 0);
}

static void
drop_privileges(struct options *o)
{
	if (o->chroot_top)
		o->chroot_dir = o->cfg.top_dir;
	if (o->user || o->group || o->chroot_dir) {
		char err[256];
		if (privileges_drop(o->user, o->group, o->chroot_dir, err, sizeof err) < 0)
			die_usage("%s", err);
	}
}

/* --workers: from here on the master only supervises; each worker goes on
 * with its own listeners in lfds[0..nl). Returns -1 when a worker failed to
 * start (it said why), else 0 with st->worker set. */
static int
start_workers(struct startup *st)
{
	st->worker = -1;
	if (st->nw > 1 && (st->worker = workers_start(&st->ws, st->nw, st->lfds, st->nl)) == -2) {
		pidfile_release(&st->pf);
		return -1;
	}
	return 0;
}

/* The startup lines, then the readiness report (--daemon parent, systemd).
 * Last, so a startup error stays the one line on stderr. */
static void
announce(struct startup *st)
{
	struct options *o = &st->opts;
	struct server_config *cfg = &o->cfg;
	if (geteuid() == 0 && !o->user)
		log_warn("running as root without --user; consider --user www-data%s",
		         o->chroot_dir ? " (root can leave a chroot)" : "");
	int first = 1;
	for (unsigned i = 0; i < st->nl; i++) {
		/* -q hides the startup line, except for a port the kernel
		 * chose (--port 0) or we did (the default was taken):
		 * nothing else would tell it. */
		int chosen = i >= st->na && (o->listens[i - st->na].port == 0 || st->moved[0]);
		if ((!cfg->quiet || chosen) &&
		    urls_print_listener(stdout, first, st->label, st->lfds[i],
		                        i == st->na && st->moved[0] ? st->moved : NULL) == 0)
			first = 0;
	}
	if (!cfg->quiet && cfg->dev)
		urls_print_dev(stdout, st->lfds, st->nl);
	/* Best effort: no browser (a server, ssh) is no reason to stop. */
	char url[96];
	if (o->open_browser && urls_first(st->lfds, st->nl, url, sizeof url) == 0)
		(void)urls_open_browser(url);
	fflush(stdout);
	int r;
	if (o->daemonize && (r = daemon_ready(&st->handoff, cfg->error_log != NULL)) < 0)
		die_usage("cannot detach: /dev/null: %s", strerror(-r));
	notify_systemd("READY=1");
}

/* --check: every startup step that can fail, in a start's order and with
 * its messages, but nothing that serves, detaches or stays behind (the
 * listeners are bound, then closed at exit); then one line of what a start
 * would do (check.c). A failure exits 2 in die_usage. */
static int
check_only(struct startup *st)
{
	char err[1024];
	open_top_dir(st);
	open_listeners(st);
	struct preflight_listeners l = {st->lfds, st->nl, st->na, st->moved[0] ? st->moved : NULL};
	if (preflight_config(stdout, &st->opts, st->rootfd, &l, err, sizeof err) < 0)
		die_usage("%s", err);
	return 0;
}

/* The --workers master: restarts workers until shutdown. Returns 1 when
 * every worker is gone and the master exits with *status; returns 0 in a
 * restarted worker (st->worker set), which goes on to run. */
static int
supervise(struct startup *st, int *status)
{
	struct server_config *cfg = &st->opts.cfg;
	log_info("%u workers running", st->nw);
	st->ws.lameduck_ms = cfg->lameduck_ms; /* the stop waits for the workers' lame duck */
	st->worker = workers_supervise(&st->ws, cfg->error_log, status);
	if (st->worker >= 0)
		return 0;
	notify_systemd("STOPPING=1");
	/* Every worker is gone: the master is the last holder of the access
	 * log and puts back what it changed on it. */
	st->alog.shared = 0;
	accesslog_close(&st->alog);
	close(st->rootfd);
	pidfile_release(&st->pf);
	log_info("stopped");
	return 1;
}

/* A worker (st->worker >= 0) starts its own server; then the loop runs
 * until shutdown. Returns the exit status. */
static int
run(struct startup *st)
{
	struct server_config *cfg = &st->opts.cfg;
	int r, worker = st->worker;
	if (worker >= 0) {
		pidfile_forget(&st->pf); /* the master's to remove */
		if (st->handoff.null_fd >= 0)
			close(st->handoff.null_fd); /* the master's to use */
		if ((r = server_init(&st->srv, cfg, st->lfds, st->nl, st->rootfd)) < 0)
			die_usage("worker %d: cannot start: %s", worker, strerror(-r));
		server_ready(&st->srv, worker > 0); /* worker 0 says what it loaded */
		workers_ready(&st->ws);
	}
	st->srv.access_log = st->alog;

	int status = server_run(&st->srv);
	if (worker < 0)
		notify_systemd("STOPPING=1");
	server_free(&st->srv);
	close(st->rootfd);
	pidfile_release(&st->pf);
	if (worker < 0)
		log_info("stopped");
	return status;
}

int
main(int argc, char **argv)
{
	static struct startup st = {
	    .handoff = {.report_fd = -1, .null_fd = -1},
	    .rootfd = -1,
	    .pf = {.fd = -1, .dirfd = -1},
	    .alog = {.fd = -1, .dirfd = -1, .restore_flags = -1},
	    .worker = -1,
	};
	int status = 0;
	if (upgrade_init(argc, argv) < 0)
		die_usage("upgrade: cannot take over from the old generation");
	if (parse_args(argc, argv, &st.opts, &status))
		return status;
	if (st.opts.check)
		return check_only(&st);
	if (detach(&st, &status))
		return status;
	open_top_dir(&st);
	open_listeners(&st);
	acquire_pidfile(&st);
	open_logs_and_server(&st);
	drop_privileges(&st.opts);
	if (start_workers(&st) < 0)
		return EXIT_USAGE; /* the worker said why */
	if (st.worker < 0) {
		announce(&st);
		upgrade_ready(); /* the old generation retires now */
	}
	if (st.nw > 1 && st.worker < 0 && supervise(&st, &status))
		return status;
	return run(&st);
}
