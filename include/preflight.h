/* preflight.h - --check: the startup steps that would open, create or lock
 * something, done as probes that leave nothing behind (no pidfile, no log
 * file, no lock), each failing with the same one-line text a real start
 * prints; and the one-line report of what would be served and how. main.c
 * runs the steps that only open and close (top dir, chroot containment,
 * binding the listeners) exactly as a start does. */
#ifndef SHS_PREFLIGHT_H
#define SHS_PREFLIGHT_H

#include <stddef.h>
#include <stdio.h>

/* Stop counting files here and say "100,000+". */
#define PREFLIGHT_MAX_FILES 100000L

struct options;

/* The listeners main.c bound, as a start would (one worker's row). */
struct preflight_listeners {
	const int *fds;
	unsigned nl;
	unsigned na;       /* the first na came from systemd (LISTEN_FDS) */
	const char *moved; /* "8080 is in use" when the default port moved, or NULL */
};

/* After main.c opened the top dir (rootfd) and bound the listeners: the
 * pidfile (held? never created), the access and error logs (opened for
 * append when they exist, never created or truncated; else their directory
 * must take a new file), --user/--group (exist, and we may switch), in a
 * start's order. Then one line on out: "top dir /srv/www (1,234 files),
 * listening on [::]:8080, user www-data, chroot /srv/www, access log
 * /var/log/x.log, error log stderr". When a start would load _redirects
 * and _headers (--rules, or --dev with the files there), more lines follow:
 * each skipped rule line ("_redirects:9: reason") and the summaries, as
 * the error log says them; a skipped line does not fail the check (it does
 * not stop a start). Returns 0, or -1 with err set to the first problem,
 * worded as a start words it. */
int preflight_config(FILE *out, const struct options *o, int rootfd,
                     const struct preflight_listeners *l, char *err, size_t cap);

/* --chroot=DIR must contain the top dir: its fd stays open across the
 * chroot, and a top dir outside the jail would be a way out of it. Both
 * are resolved (the top dir may be relative, either may be a symlink).
 * 0, or -1 with err set. */
int preflight_chroot(const char *chroot_dir, const char *top_dir, char *err, size_t cap);

#endif
