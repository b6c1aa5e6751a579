/* options.h - the command line: getopt_long parsing and every check that
 * needs no system call. Pure: no I/O, no allocation, no exit, so main.c
 * keeps every message on the terminal and every exit status, and the tests
 * can run it from tables. Checks that ask the system (--no-root as root, the
 * top dir, binding) stay in main.c. */
#ifndef SHS_OPTIONS_H
#define SHS_OPTIONS_H

#include <stddef.h>
#include <stdio.h>

#include "config.h"
#include "settings.h"

/* One --listen ADDR:PORT; host is "::" for ":PORT" and a bare "PORT". */
struct options_listen {
	char host[64];
	int port;
};

/* Everything the command line sets. Strings point into argv; cfg.extra_headers
 * points into headers, so the struct must not be copied after parsing. */
struct options {
	struct server_config cfg;
	const char *access_log; /* "-" is stdout; NULL after --no-access-log */
	int combined;           /* --log-format combined (1) or common (0) */
	int daemonize;          /* --daemon */
	int no_root;            /* --no-root */
	int chroot_top;         /* --chroot without =DIR: the top dir */
	const char *pidfile;    /* these four are NULL unless given */
	const char *user;
	const char *group;
	const char *chroot_dir;
	struct options_listen listens[SHS_MAX_LISTENERS];
	unsigned nlistens;                   /* 0: --host and --port decide */
	char headers[SHS_EXTRA_HEADERS_MAX]; /* --header lines, "Name: value\r\n" each */
	size_t headers_len;
	unsigned workers; /* --workers, 1 to SHS_MAX_WORKERS */
	int verbose;      /* -v */
	int open_browser; /* --open */
	int check;        /* --check: validate everything, report, exit */
	const char *dir_arg; /* the positional DIR (also in cfg.top_dir), or NULL */
	int port_given;      /* -p/--port: a busy port fails (else the next is tried) */
};

enum options_result {
	OPTIONS_RUN,     /* start the server with *o */
	OPTIONS_HELP,    /* -h/--help came first: print options_usage() */
	OPTIONS_VERSION, /* -V/--version came first */
	OPTIONS_ERROR,   /* err holds one line, without the program name */
};

/* Fills *o with the defaults, then applies argv[1..argc) in order; the first
 * --help, --version or error ends the parse. err (errcap bytes, truncated if
 * need be) is written only with OPTIONS_ERROR; it may hold the user's control
 * characters, so escape them before printing. Restarts getopt (optind = 0)
 * and sets opterr = 0, so it can run again in the same process; GNU getopt
 * permutes argv. */
enum options_result options_parse(int argc, char **argv, struct options *o, char *err,
                                  size_t errcap);

/* The --help text. */
void options_usage(FILE *out);

#endif
