/* urls.h - what the startup lines say: the directory served, the URL of each
 * listener, with --dev every URL that reaches the server (loopback and, on a
 * wildcard address, each LAN address), and --open's browser launch. I/O on
 * stdout and fork/exec only; no exit. */
#ifndef SHS_URLS_H
#define SHS_URLS_H

#include <stddef.h>
#include <stdio.h>

/* The startup line of one listener: "serving LABEL on http://ADDR:PORT/"
 * for the first line printed, "also on http://ADDR:PORT/" for the others.
 * label is shown with control characters as \xHH (one line, always); note,
 * if not NULL, is appended as " (note)". Returns 0, or -1 if the socket has
 * no address. */
int urls_print_listener(FILE *out, int first, const char *label, int fd, const char *note);

/* --dev: for each listener, the URLs a browser can use, two-space indented:
 * "  open http://ADDR:PORT/" (a wildcard address: the loopback one), then
 * for a wildcard "  on your network: http://ADDR:PORT/" per interface
 * address (IPv6 in brackets; link-local fe80::/10 skipped, since browsers
 * take no zone id; IPv4 under "::" only when it is dual-stack). */
void urls_print_dev(FILE *out, const int *fds, unsigned n);

/* The URL --open shows: the first listener's, loopback for a wildcard.
 * Returns 0, or -1 (no address, or it does not fit in cap). */
int urls_first(const int *fds, unsigned n, char *dst, size_t cap);

/* --open: runs xdg-open (or open, on macOS) URL, found in $PATH, detached:
 * a double fork so the server has no child to reap, standard streams on
 * /dev/null, default signal mask and dispositions. Returns 0 once launched,
 * -ENOENT when there is no such program (the caller stays silent), or
 * -errno. Never waits for the browser. */
int urls_open_browser(const char *url);

#endif
