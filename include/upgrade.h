/* upgrade.h - on-line binary upgrade (SIGUSR2): the old generation forks
 * and execs the binary it was started from, with the same arguments, and
 * hands over every listening socket (LISTEN_FDS, LISTEN_PID, LISTEN_FDNAMES,
 * as systemd does), the locked pidfile and a status socket. The new
 * generation starts completely on the inherited sockets, then says "ready"
 * on the status socket; only then does the old one retire (stop accepting,
 * finish what is in flight within --drain-timeout, exit 0). A new generation
 * that fails to start writes its one error line on the status socket, or
 * exits, or stays silent past UPGRADE_READY_TIMEOUT_MS: the old one logs why
 * and goes on as if nothing happened.
 *
 * One upgrade per process at a time: the state is the module's own (like a
 * signal disposition), not a struct the callers carry. Nothing here calls
 * the loop or the workers master; they watch upgrade_fd() and call
 * upgrade_poll(). */
#ifndef SHS_UPGRADE_H
#define SHS_UPGRADE_H

#include <stddef.h>
#include <sys/types.h>

#include "daemon.h"

/* How long a new generation may take to say it is ready. */
#define UPGRADE_READY_TIMEOUT_MS 30000

/* ---- both generations, at startup ---- */

/* First thing in main: remembers the path to exec (argv[0] made absolute
 * against the current directory, or looked up in PATH; symlinks are not
 * resolved, so repointing a link upgrades too) and a copy of argv. In a new
 * generation (SHS_UPGRADE set) also takes the inherited sockets, the
 * pidfile and the status socket out of the environment. Returns 0 or
 * -errno (a broken hand-over: the caller exits). */
int upgrade_init(int argc, char **argv);

/* Whether this process is a new generation that has not reported ready. */
int upgrade_is_new_generation(void);

/* New generation: the inherited sockets that systemd passed to the first
 * generation, in their order (0 if none or not upgrading). */
int upgrade_activated_fds(int *fds, unsigned max);

/* New generation: the inherited sockets of our own listener k, one per
 * worker (nw), into group. Returns 1 if all were inherited (nothing to
 * bind), else 0. */
int upgrade_take_group(unsigned k, int *group, unsigned nw);

/* Records the listener table of main (lfds[w * nl + k]; the first na of
 * each row are systemd's, the same fd in every row) for a later upgrade. */
void upgrade_set_listeners(const int *lfds, unsigned na, unsigned nl, unsigned nw);

/* pidfile_acquire, except in a new generation: it adopts the pidfile the
 * old one passed, still locked (an OFD lock travels with the descriptor),
 * and writes its own pid there only in upgrade_ready(). Remembers pf, so a
 * retiring generation can leave the file to its successor. */
int upgrade_pidfile(struct pidfile *pf, const char *path, pid_t *holder);

/* New generation, once completely started (after the startup lines and
 * READY=1): our pid into the pidfile, then "ready" to the old generation. */
void upgrade_ready(void);

/* New generation: a startup error line (from die_usage) for the old
 * generation to log. Harmless at any other time. */
void upgrade_report_failure(const char *line, size_t len);

/* ---- the old generation ---- */

/* In a --workers worker: the upgrade is the master's; SIGUSR2 here means
 * "retire". Closes the status socket a worker of a new generation got. */
void upgrade_in_worker(void);
int upgrade_is_worker(void);

/* SIGUSR2: forks and execs the new generation. Returns the fd to watch for
 * POLLIN (then call upgrade_poll), or -EALREADY (an upgrade is in progress:
 * logged and ignored), or another -errno (refused or failed: logged). */
int upgrade_begin(void);

enum upgrade_result {
	UPGRADE_PENDING, /* nothing decided yet: keep watching */
	UPGRADE_READY,   /* the new generation runs: retire now */
	UPGRADE_FAILED,  /* it did not start (logged): go on serving */
};

/* Reads what the new generation said. On READY the old generation has
 * already handed over: the pidfile is its successor's and this process no
 * longer talks to systemd (no STOPPING=1 from a retiring generation). On
 * READY or FAILED the fd of upgrade_begin is closed: remove it from any
 * epoll set first. */
enum upgrade_result upgrade_poll(void);

/* The --workers master reaps with waitpid(-1): it hands the upgrade child's
 * status here. Returns 1 if pid was the new generation. */
int upgrade_child_exited(pid_t pid, int status);

#endif
