/* workers.h - --workers N: a master process that forks N single-threaded
 * workers, each running the same epoll loop on its own listening sockets
 * (SO_REUSEPORT, so the kernel spreads connections across them), restarts
 * a worker that dies, reaps every child, and passes signals on.
 *
 * The master holds every worker's sockets, so a crashed worker's clients
 * wait in its backlog for the replacement instead of being refused. The
 * master never accepts, parses or serves anything. */
#ifndef SHS_WORKERS_H
#define SHS_WORKERS_H

#include <stdint.h>
#include <sys/types.h>

#include "config.h"

struct workers {
	unsigned n;           /* workers */
	unsigned nl;          /* listening sockets per worker */
	int *fds;             /* fds[w * nl + k]: listener k of worker w */
	int ready_rd;         /* a byte per worker that got through server_init */
	int ready_wr;         /* the workers' end */
	int sig_fd;           /* the master's signalfd */
	int stopping;         /* a stop signal came: do not restart */
	int upgrade_fd;       /* a new generation is starting: upgrade_fd() to poll, or -1 */
	uint64_t kill_ms;     /* when stopping: SIGKILL whoever is left at this time */
	unsigned lameduck_ms; /* --lameduck: a stop signal gives the workers this
	                       * much more before the SIGKILL (set after start) */
	struct worker {
		pid_t pid;           /* 0: not running */
		uint64_t start_ms;   /* when it was forked */
		uint64_t due_ms;     /* not running: restart at this time */
		unsigned backoff_ms; /* delay before the next quick restart */
	} w[SHS_MAX_WORKERS];
};

/* Forks n workers over the listeners fds[w * nl + k] (the same fd in every
 * row for sockets passed by systemd) and waits until each has reported
 * ready. Returns in each worker its index, with fds[0..nl) its own
 * listeners and every other listener closed; in the master -1 once all are
 * ready, or -2 if one failed to start (it said why on stderr; the others
 * are stopped and reaped). The master blocks the signals it supervises. */
int workers_start(struct workers *ws, unsigned n, int *fds, unsigned nl);

/* In a worker, after server_init: tells the master it is up. */
void workers_ready(struct workers *ws);

/* The master's loop: restarts workers that die (at once if they ran for a
 * second, else after a growing delay), forwards SIGTERM/SIGINT/SIGQUIT
 * (stop) and SIGHUP/SIGUSR1 (reopen logs; error_log is the master's own to
 * reopen, or NULL). Returns -1 in the master once all workers exited after
 * a stop, with *exit_status 0 if every one stopped cleanly, else 1; a
 * restart returns in the new worker its index, as workers_start does. */
int workers_supervise(struct workers *ws, const char *error_log, int *exit_status);

#endif
