/* daemon.h - what running as a service takes: leaving the terminal with the
 * startup result reported back, the pidfile, chroot and privilege drop,
 * systemd readiness (NOTIFY_SOCKET) and socket activation (LISTEN_FDS), all
 * with plain libc. Functions return 0 (or a count) or -errno. */
#ifndef SHS_DAEMON_H
#define SHS_DAEMON_H

#include <stddef.h>
#include <sys/types.h>

/* What the daemon carries from daemon_detach to daemon_ready. */
struct daemon_handoff {
	int report_fd; /* pipe to the waiting parent */
	int null_fd;   /* /dev/null, opened before any chroot (which may have no /dev) */
};

/* Double fork and setsid. Returns 0 in the daemon, with *h set for
 * daemon_ready(). The original process waits until the daemon is ready or
 * gives up, and gets 1 with *exit_status to exit with (0 ready, 2 the
 * daemon failed to start: it printed why on the still-shared stderr).
 * -errno if /dev/null cannot be opened or the fork fails. */
int daemon_detach(struct daemon_handoff *h, int *exit_status);

/* Moves to "/", points stdin/stdout (and stderr unless keep_stderr) at the
 * /dev/null of daemon_detach, then tells the waiting parent the start
 * succeeded: only then does a caller reading our stdout see EOF. Returns 0,
 * or -errno (the parent is not told; it sees a failed start). */
int daemon_ready(struct daemon_handoff *h, int keep_stderr);

struct pidfile {
	int fd; /* holds the lock while we run; -1 when none */
	int dirfd;
	char name[256];
};

/* Creates and locks path and writes our pid. A live holder of the lock
 * gives -EEXIST with *holder set to its pid. */
int pidfile_acquire(struct pidfile *pf, const char *path, pid_t *holder);

/* The pid written in the pidfile open at fd (whose OFD lock says only that
 * someone holds it: its l_pid is -1), or 0 when it holds none. */
pid_t pidfile_holder(int fd);

/* Writes our pid into the pidfile we hold (truncating it first). 0 or -errno. */
int pidfile_write_pid(struct pidfile *pf);

/* Takes over fd, a pidfile at path opened and locked by the previous
 * generation of an upgrade (the lock belongs to the open file, so it is
 * ours too), without writing to it. Closes fd on failure. 0 or -errno. */
int pidfile_adopt(struct pidfile *pf, const char *path, int fd);

/* Removes the pidfile by name in its directory, opened before any chroot.
 * After a privilege drop that only works if the user may write to that
 * directory (say /run/simple-http-server/ owned by it); otherwise the file
 * is emptied, which every reader (our lock check, the logrotate script)
 * takes as "not running". Drops the lock. */
void pidfile_release(struct pidfile *pf);

/* In a child process (--workers): closes our copies of the pidfile's fds
 * without touching the file, which stays the parent's. */
void pidfile_forget(struct pidfile *pf);

/* chroot into chroot_dir (if not NULL), then switch to user and group
 * (group defaults to the user's primary group), then check that root
 * cannot be regained. err receives a one-line reason on failure. */
int privileges_drop(const char *user, const char *group, const char *chroot_dir, char *err,
                    size_t cap);

/* Sockets passed by systemd (LISTEN_PID == our pid, LISTEN_FDS = n, from fd
 * 3). Makes them non-blocking and close-on-exec and clears the variables.
 * Returns how many (0 if none were passed), or -errno. */
int socket_activation_fds(int *fds, unsigned max);

/* Sends a state string ("READY=1") to NOTIFY_SOCKET, if set. */
void notify_systemd(const char *state);

/* on: READY=1 goes out as "MAINPID=<our pid>\nREADY=1", so that systemd
 * follows the new generation of an upgrade (the unit needs
 * NotifyAccess=all: we are not its main process yet when we say it). */
void notify_systemd_mainpid(int on);

#endif
