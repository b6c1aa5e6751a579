/* options.c - the command line: defaults, getopt_long, and the checks that
 * need no system call. Nothing here prints or exits: main.c owns the
 * terminal and the exit status, so every message is returned in err. */
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "options.h"
#include "options_value.h"

/* Formats the message into err and returns OPTIONS_ERROR, so a failed check
 * is one line: return fail(err, errcap, ...). */
static enum options_result __attribute__((format(printf, 3, 4)))
fail(char *err, size_t errcap, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(err, errcap, fmt, ap);
	va_end(ap);
	return OPTIONS_ERROR;
}

/* Validates "Name: value" and appends "Name: value\r\n" to o->headers. */
static enum options_result
add_header(struct options *o, const char *arg, char *err, size_t errcap)
{
	const char *colon = strchr(arg, ':');
	size_t n = colon ? (size_t)(colon - arg) : 0;
	if (n == 0)
		return fail(err, errcap, "invalid --header '%s' (expected 'Name: value')", arg);
	for (size_t i = 0; i < n; i++)
		if (!strchr("!#$%&'*+-.^_`|~", arg[i]) &&
		    !((arg[i] >= 'a' && arg[i] <= 'z') || (arg[i] >= 'A' && arg[i] <= 'Z') ||
		      (arg[i] >= '0' && arg[i] <= '9')))
			return fail(err, errcap, "invalid header name in --header '%s'", arg);
	const char *why = optval_owned_header(arg, n);
	if (why)
		return fail(err, errcap, "--header cannot set %.*s: %s", (int)n, arg, why);
	const char *v = colon + 1;
	while (*v == ' ' || *v == '\t')
		v++;
	size_t vn = strlen(v);
	while (vn > 0 && (v[vn - 1] == ' ' || v[vn - 1] == '\t'))
		vn--;
	if (!optval_field_value(v, vn))
		return fail(err, errcap, "invalid characters in --header '%s'", arg);
	size_t room = sizeof o->headers - o->headers_len;
	int w =
	    snprintf(o->headers + o->headers_len, room, "%.*s: %.*s\r\n", (int)n, arg, (int)vn, v);
	if (w < 0 || (size_t)w >= room) {
		/* The block handed to the server holds only whole lines. */
		o->headers[o->headers_len] = '\0';
		return fail(err, errcap, "too many --header bytes (at most %d)",
		            SHS_EXTRA_HEADERS_MAX - 1);
	}
	o->headers_len += (size_t)w;
	o->cfg.extra_headers = o->headers;
	return OPTIONS_RUN;
}

/* --listen: at most SHS_MAX_LISTENERS, each a host and a port. */
static enum options_result
add_listen(struct options *o, const char *arg, char *err, size_t errcap)
{
	if (o->nlistens == SHS_MAX_LISTENERS)
		return fail(err, errcap, "too many --listen (at most %d)", SHS_MAX_LISTENERS);
	struct options_listen *l = &o->listens[o->nlistens];
	if (optval_listen(arg, l->host, sizeof l->host, &l->port) != 0)
		return fail(err, errcap,
		            "invalid --listen '%s' (expected ADDR:PORT, [IPV6]:PORT or :PORT)",
		            arg);
	o->nlistens++;
	return OPTIONS_RUN;
}

enum {
	OPT_TOP_DIR = 256, /* above every short option */
	OPT_PORT,
	OPT_HOST,
	OPT_DOTFILES,
	OPT_MAX_CONNS,
	OPT_MAX_BUFFERS,
	OPT_WORKERS,
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
	OPT_FOLLOW_SYMLINKS,
	OPT_RULES,
	OPT_OPEN,
	OPT_CHECK,
	OPT_ERROR_CACHE_CONTROL,
	OPT_HEALTH,
	OPT_LAMEDUCK,
	OPT_DRAIN_TIMEOUT,
};

static const struct option longopts[] = {
    {"top-dir", required_argument, NULL, OPT_TOP_DIR},
    {"port", required_argument, NULL, OPT_PORT},
    {"host", required_argument, NULL, OPT_HOST},
    {"dotfiles", no_argument, NULL, OPT_DOTFILES},
    {"max-connections", required_argument, NULL, OPT_MAX_CONNS},
    {"max-buffers", required_argument, NULL, OPT_MAX_BUFFERS},
    {"workers", required_argument, NULL, OPT_WORKERS},
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
    {"follow-symlinks", no_argument, NULL, OPT_FOLLOW_SYMLINKS},
    {"rules", no_argument, NULL, OPT_RULES},
    {"open", no_argument, NULL, OPT_OPEN},
    {"check", no_argument, NULL, OPT_CHECK},
    {"error-cache-control", required_argument, NULL, OPT_ERROR_CACHE_CONTROL},
    {"health", required_argument, NULL, OPT_HEALTH},
    {"lameduck", required_argument, NULL, OPT_LAMEDUCK},
    {"drain-timeout", required_argument, NULL, OPT_DRAIN_TIMEOUT},
    {"verbose", no_argument, NULL, 'v'},
    {"quiet", no_argument, NULL, 'q'},
    {"help", no_argument, NULL, 'h'},
    {"version", no_argument, NULL, 'V'},
    {NULL, 0, NULL, 0},
};

static void
set_defaults(struct options *o)
{
	*o = (struct options){
	    .cfg =
	        {
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
	            .drain_timeout_ms = SHS_DRAIN_TIMEOUT_MS,
	        },
	    .access_log = "-",
	    .combined = 1,
	    .workers = 1,
	};
}

/* The options without a value; 0 if opt is not one of them. */
static int
set_flag(struct options *o, int opt)
{
	struct server_config *c = &o->cfg;
	switch (opt) {
	case OPT_DOTFILES:
		c->dotfiles = 1;
		break;
	case OPT_LISTING:
		c->listing = 1;
		break;
	case OPT_NO_PRECOMPRESSED:
		c->precompressed = 0;
		break;
	case OPT_CORS:
		c->cors = 1;
		break;
	case OPT_NO_ACCESS_LOG:
		o->access_log = NULL;
		break;
	case OPT_DAEMON:
		o->daemonize = 1;
		break;
	case OPT_NO_ROOT:
		o->no_root = 1;
		break;
	case OPT_LIVE:
		c->live = c->dev = 1;
		break;
	case OPT_DEV:
		c->dev = 1;
		break;
	case OPT_SPA:
		c->spa = 1;
		break;
	case OPT_CLEAN_URLS:
		c->clean_urls = 1;
		break;
	case OPT_FOLLOW_SYMLINKS:
		c->follow_symlinks = 1;
		break;
	case OPT_RULES:
		c->rules = 1;
		break;
	case OPT_OPEN:
		o->open_browser = 1;
		break;
	case OPT_CHECK:
		o->check = 1;
		break;
	case 'v':
		o->verbose = 1;
		break;
	case 'q':
		c->quiet = 1;
		break;
	default:
		return 0;
	}
	return 1;
}

/* The timeouts share one syntax: seconds, kept in milliseconds. */
static enum options_result
set_timeout(struct options *o, int opt, const char *arg, char *err, size_t errcap)
{
	double secs = optval_seconds(arg);
	if (secs <= 0)
		return fail(err, errcap, "invalid timeout '%s' (expected seconds, e.g. 10 or 0.5)",
		            arg);
	/* Rounded: 4.35 * 1000 is 4349.99... in binary floating point. */
	unsigned ms = (unsigned)(secs * 1000 + 0.5);
	if (opt == OPT_LAMEDUCK)
		o->cfg.lameduck_ms = ms;
	else if (opt == OPT_DRAIN_TIMEOUT)
		o->cfg.drain_timeout_ms = ms;
	else
		o->cfg.timeout_ms[opt == OPT_HEADER_TIMEOUT ? TIMER_HEADER
		                  : opt == OPT_IDLE_TIMEOUT ? TIMER_IDLE
		                                            : TIMER_TRANSFER] = ms;
	return OPTIONS_RUN;
}

/* The options with a value (arg is NULL for a bare --chroot). */
/* The options that count something, from 1 up. */
static enum options_result
set_count(struct options *o, int opt, const char *arg, char *err, size_t errcap)
{
	static const struct {
		int opt;
		const char *name;
		long max;
	} counts[] = {
	    {OPT_MAX_CONNS, "--max-connections", 1000000},
	    {OPT_MAX_BUFFERS, "--max-buffers", 1000000},
	    {OPT_WORKERS, "--workers", SHS_MAX_WORKERS},
	};
	size_t i = 0;
	while (counts[i].opt != opt)
		i++;
	long v = optval_number(arg, 1, counts[i].max);
	if (v < 0)
		return fail(err, errcap, "invalid %s '%s' (expected 1 to %ld)", counts[i].name, arg,
		            counts[i].max);
	if (opt == OPT_MAX_CONNS)
		o->cfg.max_conns = (unsigned)v;
	else if (opt == OPT_MAX_BUFFERS)
		o->cfg.max_buffers = (unsigned)v;
	else
		o->workers = (unsigned)v;
	return OPTIONS_RUN;
}

static enum options_result
set_value(struct options *o, int opt, const char *arg, char *err, size_t errcap)
{
	struct server_config *c = &o->cfg;
	long v;
	switch (opt) {
	case OPT_TOP_DIR:
		if (!*arg)
			return fail(err, errcap, "--top-dir needs a directory, not ''");
		c->top_dir = arg;
		break;
	case OPT_PORT:
		if ((v = optval_number(arg, 0, 65535)) < 0)
			return fail(err, errcap, "invalid port '%s' (expected 0 to 65535)", arg);
		c->port = (int)v;
		o->port_given = 1;
		break;
	case OPT_HOST:
		c->host = arg;
		break;
	case OPT_MAX_CONNS:
	case OPT_MAX_BUFFERS:
	case OPT_WORKERS:
		return set_count(o, opt, arg, err, errcap);
	case OPT_CACHE_SIZE:
		if ((v = optval_number(arg, 0, 65536)) < 0)
			return fail(err, errcap,
			            "invalid --cache-size '%s' (expected MiB, 0 to 65536)", arg);
		c->cache_bytes = (size_t)v << 20;
		break;
	case OPT_HEADER:
		return add_header(o, arg, err, errcap);
	case OPT_CACHE_CONTROL:
		if (!optval_field_value(arg, strlen(arg)) || !*arg)
			return fail(err, errcap, "invalid --cache-control value '%s'", arg);
		c->cache_control = arg;
		break;
	case OPT_HEADER_TIMEOUT:
	case OPT_IDLE_TIMEOUT:
	case OPT_SEND_TIMEOUT:
	case OPT_LAMEDUCK:
	case OPT_DRAIN_TIMEOUT:
		return set_timeout(o, opt, arg, err, errcap);
	case OPT_ERROR_CACHE_CONTROL:
		if (!optval_field_value(arg, strlen(arg)) || !*arg)
			return fail(err, errcap, "invalid --error-cache-control value '%s'", arg);
		c->error_cache_control = arg;
		break;
	case OPT_HEALTH:
		if (!optval_path(arg))
			return fail(err, errcap,
			            "invalid --health '%s' (expected a path such as /healthz)", arg);
		c->health_path = arg;
		break;
	case OPT_ACCESS_LOG:
		o->access_log = arg;
		break;
	case OPT_LOG_FORMAT:
		if (strcmp(arg, "combined") == 0)
			o->combined = 1;
		else if (strcmp(arg, "common") == 0)
			o->combined = 0;
		else
			return fail(err, errcap,
			            "invalid --log-format '%s' (expected common or combined)", arg);
		break;
	case OPT_ERROR_LOG:
		c->error_log = arg;
		break;
	case OPT_PIDFILE:
		o->pidfile = arg;
		break;
	case OPT_USER:
		o->user = arg;
		break;
	case OPT_GROUP:
		o->group = arg;
		break;
	case OPT_CHROOT:
		/* Only --chroot=DIR has a value: a separate word stays an argument. */
		if (arg)
			o->chroot_dir = arg;
		else
			o->chroot_top = 1;
		break;
	case OPT_LISTEN:
		return add_listen(o, arg, err, errcap);
	}
	return OPTIONS_RUN;
}

/* The one optional DIR after the options (getopt has moved every other
 * word before it). It means --top-dir DIR, so giving both is an error. */
static enum options_result
positional_dir(struct options *o, int argc, char **argv, char *err, size_t errcap)
{
	if (optind == argc)
		return OPTIONS_RUN;
	if (argc - optind > 1)
		return fail(err, errcap,
		            "unexpected argument '%s' after the directory '%s' (see --help)",
		            argv[optind + 1], argv[optind]);
	o->dir_arg = argv[optind];
	if (o->cfg.top_dir)
		return fail(err, errcap,
		            "two directories given: --top-dir '%s' and '%s' (give one; see --help)",
		            o->cfg.top_dir, o->dir_arg);
	if (!*o->dir_arg)
		return fail(err, errcap, "the directory argument is empty");
	o->cfg.top_dir = o->dir_arg;
	return OPTIONS_RUN;
}

enum options_result
options_parse(int argc, char **argv, struct options *o, char *err, size_t errcap)
{
	set_defaults(o);
	/* 0, not 1: glibc then also drops what an earlier call left half read,
	 * such as the "q" of "-hq" after --help stopped it. */
	optind = 0;
	opterr = 0; /* our own one-line messages, and no printing here */
	for (;;) {
		int opt = getopt_long(argc, argv, ":vqhVp:d:b:", longopts, NULL);
		if (opt == -1)
			break;
		switch (opt) {
		case 'h':
			return OPTIONS_HELP;
		case 'V':
			return OPTIONS_VERSION;
		case ':':
			return fail(err, errcap, "option '%s' needs a value (see --help)",
			            argv[optind - 1]);
		case '?':
			/* In a group ("-xv") optind has not moved past it yet:
			 * name the letter, not a neighbouring argument. */
			if (optopt > 0 && optopt < 256)
				return fail(err, errcap, "unknown option '-%c' (see --help)",
				            optopt);
			return fail(err, errcap, "unknown option '%s' (see --help)",
			            argv[optind - 1]);
		case 'p':
			opt = OPT_PORT;
			goto value;
		case 'd':
			opt = OPT_TOP_DIR;
			goto value;
		case 'b':
			opt = OPT_HOST;
			goto value;
		default:
		value:
			if (!set_flag(o, opt) &&
			    set_value(o, opt, optarg, err, errcap) != OPTIONS_RUN)
				return OPTIONS_ERROR;
		}
	}
	return positional_dir(o, argc, argv, err, errcap);
}
