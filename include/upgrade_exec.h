/* upgrade_exec.h - private to upgrade.c: what an upgrade execs and the
 * child's side of the hand-over (the fd layout from 3 on, the environment
 * that names it, the exec). Owns the path, the argv copy and the startup
 * directory; knows nothing of upgrade.c's state. */
#ifndef SHS_UPGRADE_EXEC_H
#define SHS_UPGRADE_EXEC_H

#include "config.h"

/* Every listening socket a generation can hold (and hand over). */
#define UPGRADE_MAX_FDS (SHS_MAX_WORKERS * SHS_MAX_LISTENERS)

/* At startup: argv[0] made absolute (see upgrade_init), a copy of argv,
 * the startup directory and the identity of "/". 0 or -ENOMEM. */
int upgrade_exec_init(int argc, char **argv);

/* What would be executed; "" if argv[0] could not be resolved. */
const char *upgrade_exec_path(void);

/* Whether an exec can work now: 0, or -errno with the reason logged
 * (inside a chroot since startup; the binary not executable). */
int upgrade_exec_check(void);

/* In the forked child: fds[0..n) to 3.., then status and (if >= 0) pidfd
 * (fds has room for n + 2), the environment that says so (LISTEN_FDS,
 * LISTEN_PID, LISTEN_FDNAMES = names, SHS_UPGRADE*), and exec. On failure
 * an "E" line on status and _exit(127). Never returns. */
void upgrade_exec_child(int *fds, unsigned n, const char *names, int status, int pidfd)
    __attribute__((noreturn));

#endif
