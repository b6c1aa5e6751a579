/* check_options.c - the command line (options.c), from tables.
 *
 * Every field of struct options is rendered as text, so one table of
 * defaults and one list of changes per case say exactly what a command line
 * must give: the fields a case names must change to its values, and every
 * other field must keep its default (a flag that also touches something
 * else fails). Error cases compare the whole message, since main.c prints
 * it as it is. */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "options.h"
#include "suites.h"

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))
#define MAX_ARGS 8

/* 63 and 64 characters: --listen's host holds 63 and a NUL. */
#define A16 "aaaaaaaaaaaaaaaa"
#define HOST63 A16 A16 A16 "aaaaaaaaaaaaaaa"
#define HOST64 A16 A16 A16 A16

enum kind {
	K_STR,
	K_INT,
	K_UNSIGNED,
	K_SIZE,
	K_EXTRA,   /* cfg.extra_headers: "(null)", or "headers" if it is o->headers */
	K_HEADERS, /* the --header block itself */
	K_LISTENS, /* "host port" for each --listen, joined by ", " */
};

/* One line per field of struct options; a new field needs one here and a
 * default below (nlistens and headers_len are checked within "listens" and
 * "headers"). */
static const struct field {
	const char *name;
	size_t off;
	enum kind kind;
} fields[] = {
#define F(name, member, kind)                                                                      \
	{                                                                                          \
		name, offsetof(struct options, member), kind                                       \
	}
    F("top_dir", cfg.top_dir, K_STR),
    F("host", cfg.host, K_STR),
    F("port", cfg.port, K_INT),
    F("dotfiles", cfg.dotfiles, K_INT),
    F("max_conns", cfg.max_conns, K_UNSIGNED),
    F("max_buffers", cfg.max_buffers, K_UNSIGNED),
    F("quiet", cfg.quiet, K_INT),
    F("listing", cfg.listing, K_INT),
    F("precompressed", cfg.precompressed, K_INT),
    F("cors", cfg.cors, K_INT),
    F("cache_control", cfg.cache_control, K_STR),
    F("extra_headers", cfg.extra_headers, K_EXTRA),
    F("header_timeout", cfg.timeout_ms[TIMER_HEADER], K_UNSIGNED),
    F("idle_timeout", cfg.timeout_ms[TIMER_IDLE], K_UNSIGNED),
    F("send_timeout", cfg.timeout_ms[TIMER_TRANSFER], K_UNSIGNED),
    F("linger_timeout", cfg.timeout_ms[TIMER_LINGER], K_UNSIGNED),
    F("cache_bytes", cfg.cache_bytes, K_SIZE),
    F("cache_max_file", cfg.cache_max_file, K_SIZE),
    F("error_log", cfg.error_log, K_STR),
    F("live", cfg.live, K_INT),
    F("dev", cfg.dev, K_INT),
    F("spa", cfg.spa, K_INT),
    F("clean_urls", cfg.clean_urls, K_INT),
    F("access_log", access_log, K_STR),
    F("combined", combined, K_INT),
    F("daemonize", daemonize, K_INT),
    F("no_root", no_root, K_INT),
    F("chroot_top", chroot_top, K_INT),
    F("pidfile", pidfile, K_STR),
    F("user", user, K_STR),
    F("group", group, K_STR),
    F("chroot_dir", chroot_dir, K_STR),
    F("listens", listens, K_LISTENS),
    F("headers", headers, K_HEADERS),
    F("workers", workers, K_UNSIGNED),
    F("verbose", verbose, K_INT),
    F("follow_symlinks", cfg.follow_symlinks, K_INT),
    F("rules", cfg.rules, K_INT),
    F("error_cache_control", cfg.error_cache_control, K_STR),
    F("health_path", cfg.health_path, K_STR),
    F("lameduck", cfg.lameduck_ms, K_UNSIGNED),
    F("drain_timeout", cfg.drain_timeout_ms, K_UNSIGNED),
    F("open_browser", open_browser, K_INT),
    F("check", check, K_INT),
    F("dir_arg", dir_arg, K_STR),
#undef F
};

struct want {
	const char *field, *value;
};

/* Literal on purpose: a changed default in config.h should be noticed here
 * (and in the man page), not followed silently. */
static const struct want defaults[] = {
    {"top_dir", "(null)"}, /* main.c picks ./public or . */
    {"host", "127.0.0.1"},
    {"port", "8080"},
    {"dotfiles", "0"},
    {"max_conns", "4096"},
    {"max_buffers", "0"},
    {"quiet", "0"},
    {"listing", "0"},
    {"precompressed", "1"},
    {"cors", "0"},
    {"cache_control", "(null)"},
    {"extra_headers", "(null)"},
    {"header_timeout", "10000"},
    {"idle_timeout", "15000"},
    {"send_timeout", "30000"},
    {"linger_timeout", "2000"},
    {"cache_bytes", "33554432"},
    {"cache_max_file", "262144"},
    {"error_log", "(null)"},
    {"live", "0"},
    {"dev", "0"},
    {"spa", "0"},
    {"clean_urls", "0"},
    {"access_log", "-"},
    {"combined", "1"},
    {"daemonize", "0"},
    {"no_root", "0"},
    {"chroot_top", "0"},
    {"pidfile", "(null)"},
    {"user", "(null)"},
    {"group", "(null)"},
    {"chroot_dir", "(null)"},
    {"listens", ""},
    {"headers", ""},
    {"workers", "1"},
    {"verbose", "0"},
    {"follow_symlinks", "0"},
    {"rules", "0"},
    {"error_cache_control", "(null)"},
    {"health_path", "(null)"},
    {"lameduck", "0"},
    {"drain_timeout", "60000"},
    {"open_browser", "0"},
    {"check", "0"},
    {"dir_arg", "(null)"},
};

static void
render(const struct options *o, const struct field *f, char *buf, size_t cap)
{
	const char *p = (const char *)o + f->off;
	switch (f->kind) {
	case K_STR: {
		const char *s = *(const char *const *)(const void *)p;
		snprintf(buf, cap, "%s", s ? s : "(null)");
		break;
	}
	case K_INT:
		snprintf(buf, cap, "%d", *(const int *)(const void *)p);
		break;
	case K_UNSIGNED:
		snprintf(buf, cap, "%u", *(const unsigned *)(const void *)p);
		break;
	case K_SIZE:
		snprintf(buf, cap, "%zu", *(const size_t *)(const void *)p);
		break;
	case K_EXTRA:
		snprintf(buf, cap, "%s",
		         !o->cfg.extra_headers                ? "(null)"
		         : o->cfg.extra_headers == o->headers ? "headers"
		                                              : "elsewhere");
		break;
	case K_HEADERS:
		ck_assert_uint_eq(strlen(o->headers), o->headers_len);
		snprintf(buf, cap, "%s", o->headers);
		break;
	case K_LISTENS: {
		size_t len = 0;
		buf[0] = '\0';
		ck_assert_uint_le(o->nlistens, SHS_MAX_LISTENERS);
		for (unsigned i = 0; i < o->nlistens && len < cap; i++)
			len += (size_t)snprintf(buf + len, cap - len, "%s%s %d", i ? ", " : "",
			                        o->listens[i].host, o->listens[i].port);
		break;
	}
	}
}

static const char *
find(const struct want *w, size_t n, const char *field)
{
	for (size_t i = 0; i < n && w[i].field; i++)
		if (strcmp(w[i].field, field) == 0)
			return w[i].value;
	return NULL;
}

/* Each named field must exist, so a typo in a table cannot pass unnoticed. */
static void
assert_fields_exist(const struct want *w, size_t n)
{
	for (size_t i = 0; i < n && w[i].field; i++) {
		int found = 0;
		for (size_t j = 0; j < NELEM(fields); j++)
			found |= strcmp(fields[j].name, w[i].field) == 0;
		ck_assert_msg(found, "no field '%s' in the test's table", w[i].field);
	}
}

/* Every field: the value in set[] if named there, else its default. */
static void
assert_options(const char *what, const struct options *o, const struct want *set, size_t nset)
{
	assert_fields_exist(set, nset);
	for (size_t i = 0; i < NELEM(fields); i++) {
		const char *want = find(set, nset, fields[i].name);
		if (!want)
			want = find(defaults, NELEM(defaults), fields[i].name);
		ck_assert_msg(want != NULL, "no default for '%s'", fields[i].name);
		char got[2048];
		render(o, &fields[i], got, sizeof got);
		ck_assert_msg(strcmp(got, want) == 0, "%s: %s is '%s', want '%s'", what,
		              fields[i].name, got, want);
	}
}

/* argv[0] and args up to a NULL. GNU getopt permutes the pointers of argv
 * but never writes to the strings, so literals can stand in. */
static enum options_result
parse(const char *const *args, struct options *o, char *err, size_t errcap, char *what,
      size_t whatcap)
{
	char *argv[MAX_ARGS + 2] = {"simple-http-server"};
	int argc = 1;
	size_t len = 0;
	snprintf(what, whatcap, "(no arguments)");
	for (; argc <= MAX_ARGS && args[argc - 1]; argc++) {
		argv[argc] = (char *)args[argc - 1];
		if (len < whatcap)
			len += (size_t)snprintf(what + len, whatcap - len, "%s'%s'", len ? " " : "",
			                        args[argc - 1]);
	}
	argv[argc] = NULL;
	return options_parse(argc, argv, o, err, errcap);
}

START_TEST(defaults_without_arguments)
{
	ck_assert_uint_eq(NELEM(defaults), NELEM(fields));
	assert_fields_exist(defaults, NELEM(defaults));
	struct options o;
	char err[256] = "untouched", what[512];
	const char *none[] = {NULL};
	ck_assert_int_eq(parse(none, &o, err, sizeof err, what, sizeof what), OPTIONS_RUN);
	ck_assert_str_eq(err, "untouched");
	assert_options(what, &o, NULL, 0);
}
END_TEST

static const struct run_case {
	const char *args[MAX_ARGS + 1];
	struct want set[4];
} run_cases[] = {
    {{"--top-dir", "/srv/www"}, {{"top_dir", "/srv/www"}}},
    {{"--top-dir=/srv"}, {{"top_dir", "/srv"}}},
    {{"--port", "0"}, {{"port", "0"}}},
    {{"--port", "65535"}, {{"port", "65535"}}},
    {{"--port=80"}, {{"port", "80"}}},
    {{"--port", "080"}, {{"port", "80"}}},
    {{"--host", "::"}, {{"host", "::"}}},
    {{"--port", "81", "--host", "0.0.0.0", "--port", "82"}, {{"port", "82"}, {"host", "0.0.0.0"}}},
    {{"--dotfiles"}, {{"dotfiles", "1"}}},
    {{"--listing"}, {{"listing", "1"}}},
    {{"--live"}, {{"live", "1"}, {"dev", "1"}}},
    {{"--dev"}, {{"dev", "1"}}},
    {{"--spa"}, {{"spa", "1"}}},
    {{"--clean-urls"}, {{"clean_urls", "1"}}},
    {{"--no-precompressed"}, {{"precompressed", "0"}}},
    {{"--cors"}, {{"cors", "1"}}},
    {{"--cache-control", "max-age=60, public"}, {{"cache_control", "max-age=60, public"}}},
    {{"--cache-control", "a\tb"}, {{"cache_control", "a\tb"}}},
    {{"--access-log", "/var/log/a.log"}, {{"access_log", "/var/log/a.log"}}},
    {{"--no-access-log"}, {{"access_log", "(null)"}}},
    {{"--no-access-log", "--access-log", "x"}, {{"access_log", "x"}}},
    {{"--log-format", "common"}, {{"combined", "0"}}},
    {{"--log-format", "common", "--log-format", "combined"}, {{"combined", "1"}}},
    {{"--error-log", "/tmp/e.log"}, {{"error_log", "/tmp/e.log"}}},
    {{"--daemon"}, {{"daemonize", "1"}}},
    {{"--pidfile", "/run/shs.pid"}, {{"pidfile", "/run/shs.pid"}}},
    {{"--user", "www"}, {{"user", "www"}}},
    {{"--group", "web"}, {{"group", "web"}}},
    {{"--no-root"}, {{"no_root", "1"}}},
    {{"--chroot"}, {{"chroot_top", "1"}}},
    {{"--chroot=/jail"}, {{"chroot_dir", "/jail"}}},
    {{"-v"}, {{"verbose", "1"}}},
    {{"--verbose"}, {{"verbose", "1"}}},
    {{"-q"}, {{"quiet", "1"}}},
    {{"--quiet"}, {{"quiet", "1"}}},
    {{"-vq"}, {{"verbose", "1"}, {"quiet", "1"}}},
    {{"--max-connections", "1"}, {{"max_conns", "1"}}},
    {{"--max-connections", "1000000"}, {{"max_conns", "1000000"}}},
    {{"--max-conn", "5"}, {{"max_conns", "5"}}}, /* a unique prefix */
    {{"--max-buffers", "1"}, {{"max_buffers", "1"}}},
    {{"--max-buffers", "1000000"}, {{"max_buffers", "1000000"}}},
    {{"--cache-size", "0"}, {{"cache_bytes", "0"}}},
    {{"--cache-size", "1"}, {{"cache_bytes", "1048576"}}},
    {{"--cache-size", "64"}, {{"cache_bytes", "67108864"}}},
    {{"--header-timeout", "0.5"}, {{"header_timeout", "500"}}},
    {{"--header-timeout", "0.001"}, {{"header_timeout", "1"}}},
    {{"--idle-timeout", "2"}, {{"idle_timeout", "2000"}}},
    {{"--idle-timeout", "1.5"}, {{"idle_timeout", "1500"}}},
    {{"--idle-timeout", "4.35"}, {{"idle_timeout", "4350"}}},
    {{"--send-timeout", "0.0016"}, {{"send_timeout", "2"}}},
    {{"--send-timeout", "86400"}, {{"send_timeout", "86400000"}}},
    {{"--listen", "1.2.3.4:80"}, {{"listens", "1.2.3.4 80"}}},
    {{"--listen", "[::1]:8080"}, {{"listens", "::1 8080"}}},
    {{"--listen", ":8080"}, {{"listens", ":: 8080"}}},
    {{"--listen", "8080"}, {{"listens", ":: 8080"}}},
    {{"--listen", "[::]:0"}, {{"listens", ":: 0"}}},
    {{"--listen", "localhost:65535"}, {{"listens", "localhost 65535"}}},
    {{"--listen", HOST63 ":1"}, {{"listens", HOST63 " 1"}}},
    {{"--listen", "1.2.3.4:80", "--listen=[::1]:8080"}, {{"listens", "1.2.3.4 80, ::1 8080"}}},
    {{"--header", "X-A: 1"}, {{"headers", "X-A: 1\r\n"}, {"extra_headers", "headers"}}},
    {{"--header", "X-A: 1", "--header", "X-B: \t two \t"},
     {{"headers", "X-A: 1\r\nX-B: two\r\n"}, {"extra_headers", "headers"}}},
    {{"--header", "X-Empty:"}, {{"headers", "X-Empty: \r\n"}, {"extra_headers", "headers"}}},
    {{"--header", "X-A:tight"}, {{"headers", "X-A: tight\r\n"}, {"extra_headers", "headers"}}},
    {{"--header", "X-Q: a: b"}, {{"headers", "X-Q: a: b\r\n"}, {"extra_headers", "headers"}}},
    {{"--header", "!#$%&'*+-.^_`|~0aZ: v"},
     {{"headers", "!#$%&'*+-.^_`|~0aZ: v\r\n"}, {"extra_headers", "headers"}}},
    {{"--header", "Dates: x"}, {{"headers", "Dates: x\r\n"}, {"extra_headers", "headers"}}},
    {{"--workers", "1"}, {{"workers", "1"}}},
    {{"--workers", "4"}, {{"workers", "4"}}},
    {{"--workers", "64"}, {{"workers", "64"}}},
    {{"--workers=8"}, {{"workers", "8"}}},
    {{"--"}, {{NULL, NULL}}},
    {{"./dist"}, {{"top_dir", "./dist"}, {"dir_arg", "./dist"}}},
    {{"-p", "3000", "site"}, {{"top_dir", "site"}, {"port", "3000"}, {"dir_arg", "site"}}},
    {{"site", "-p3000"}, {{"top_dir", "site"}, {"port", "3000"}, {"dir_arg", "site"}}},
    {{"--", "-odd"}, {{"top_dir", "-odd"}, {"dir_arg", "-odd"}}},
    {{"-d", "/srv/www"}, {{"top_dir", "/srv/www"}, {"dir_arg", "(null)"}}},
    {{"-b", "::1", "-p", "0"}, {{"host", "::1"}, {"port", "0"}}},
    {{"-qp", "0"}, {{"quiet", "1"}, {"port", "0"}}},
    {{"--follow-symlinks"}, {{"follow_symlinks", "1"}}},
    {{"--rules"}, {{"rules", "1"}}},
    {{"--open", "--dev"}, {{"open_browser", "1"}, {"dev", "1"}}},
    {{"--check"}, {{"check", "1"}}},
    {{"--error-cache-control", "max-age=10"}, {{"error_cache_control", "max-age=10"}}},
    {{"--health", "/healthz"}, {{"health_path", "/healthz"}}},
    {{"--lameduck", "3"}, {{"lameduck", "3000"}}},
    {{"--lameduck", "0.25"}, {{"lameduck", "250"}}},
    {{"--drain-timeout", "5"}, {{"drain_timeout", "5000"}}},
    {{"--header", "Access-Control-Allow-Origin: https://a.example"},
     {{"headers", "Access-Control-Allow-Origin: https://a.example\r\n"},
      {"extra_headers", "headers"}}},
};

START_TEST(run_table)
{
	const struct run_case *c = &run_cases[_i];
	struct options o;
	char err[256] = "untouched", what[512];
	enum options_result r = parse(c->args, &o, err, sizeof err, what, sizeof what);
	ck_assert_msg(r == OPTIONS_RUN, "%s: result %d, want OPTIONS_RUN (%s)", what, (int)r, err);
	ck_assert_msg(strcmp(err, "untouched") == 0, "%s: err written: '%s'", what, err);
	assert_options(what, &o, c->set, NELEM(c->set));
}
END_TEST

/* The message for a bad value, which it quotes. */
#define PORT_MSG(s) "invalid port '" s "' (expected 0 to 65535)"
#define TIMEOUT_MSG(s) "invalid timeout '" s "' (expected seconds, e.g. 10 or 0.5)"
#define LISTEN_MSG(s) "invalid --listen '" s "' (expected ADDR:PORT, [IPV6]:PORT or :PORT)"
#define WORKERS_MSG(s) "invalid --workers '" s "' (expected 1 to 64)"

static const struct error_case {
	const char *args[MAX_ARGS + 1];
	const char *msg;
} error_cases[] = {
    {{"--bogus"}, "unknown option '--bogus' (see --help)"},
    {{"-x"}, "unknown option '-x' (see --help)"},
    {{"-vx"}, "unknown option '-x' (see --help)"},
    {{"-xv"}, "unknown option '-x' (see --help)"},
    {{"--dotfiles", "-qZ"}, "unknown option '-Z' (see --help)"},
    {{"--dotfiles=yes"}, "unknown option '--dotfiles=yes' (see --help)"},
    {{"--cach", "1"}, "unknown option '--cach' (see --help)"}, /* ambiguous */
    {{"--port"}, "option '--port' needs a value (see --help)"},
    {{"--dotfiles", "--header"}, "option '--header' needs a value (see --help)"},
    {{"--workers"}, "option '--workers' needs a value (see --help)"},
    {{"--listen"}, "option '--listen' needs a value (see --help)"},
    {{"--port", "65536"}, PORT_MSG("65536")},
    {{"--port", "-1"}, PORT_MSG("-1")},
    {{"--port", ""}, PORT_MSG("")},
    {{"--port", "8o"}, PORT_MSG("8o")},
    {{"--port", " 80"}, PORT_MSG(" 80")},
    {{"--port", "+80"}, PORT_MSG("+80")},
    {{"--port", "80.0"}, PORT_MSG("80.0")},
    {{"--port", "99999999999999999999"}, PORT_MSG("99999999999999999999")},
    {{"--header-timeout", "0"}, TIMEOUT_MSG("0")},
    {{"--idle-timeout", "0.0001"}, TIMEOUT_MSG("0.0001")},
    {{"--send-timeout", "86401"}, TIMEOUT_MSG("86401")},
    {{"--idle-timeout", "abc"}, TIMEOUT_MSG("abc")},
    {{"--idle-timeout", "10s"}, TIMEOUT_MSG("10s")},
    {{"--idle-timeout", ""}, TIMEOUT_MSG("")},
    {{"--idle-timeout", "-1"}, TIMEOUT_MSG("-1")},
    {{"--idle-timeout", "nan"}, TIMEOUT_MSG("nan")},
    {{"--idle-timeout", "inf"}, TIMEOUT_MSG("inf")},
    {{"--max-connections", "0"}, "invalid --max-connections '0' (expected 1 to 1000000)"},
    {{"--max-buffers", "0"}, "invalid --max-buffers '0' (expected 1 to 1000000)"},
    {{"--max-buffers", "x"}, "invalid --max-buffers 'x' (expected 1 to 1000000)"},
    {{"--max-connections", "1000001"},
     "invalid --max-connections '1000001' (expected 1 to 1000000)"},
    {{"--cache-size", "65537"}, "invalid --cache-size '65537' (expected MiB, 0 to 65536)"},
    {{"--cache-size", "-1"}, "invalid --cache-size '-1' (expected MiB, 0 to 65536)"},
    {{"--cache-size", "1.5"}, "invalid --cache-size '1.5' (expected MiB, 0 to 65536)"},
    {{"--log-format", "json"}, "invalid --log-format 'json' (expected common or combined)"},
    {{"--log-format", ""}, "invalid --log-format '' (expected common or combined)"},
    {{"--log-format", "Common"}, "invalid --log-format 'Common' (expected common or combined)"},
    {{"--cache-control", ""}, "invalid --cache-control value ''"},
    {{"--cache-control", "a\nb"}, "invalid --cache-control value 'a\nb'"},
    {{"--cache-control", "a\rb"}, "invalid --cache-control value 'a\rb'"},
    {{"--cache-control", "a\x7f"}, "invalid --cache-control value 'a\x7f'"},
    {{"--listen", "1.2.3.4"}, LISTEN_MSG("1.2.3.4")},
    {{"--listen", "::1:80"}, LISTEN_MSG("::1:80")},
    {{"--listen", "[::1]80"}, LISTEN_MSG("[::1]80")},
    {{"--listen", "[::1"}, LISTEN_MSG("[::1")},
    {{"--listen", "[::1]:"}, LISTEN_MSG("[::1]:")},
    {{"--listen", "host:"}, LISTEN_MSG("host:")},
    {{"--listen", "host:65536"}, LISTEN_MSG("host:65536")},
    {{"--listen", ""}, LISTEN_MSG("")},
    {{"--listen", ":"}, LISTEN_MSG(":")},
    {{"--listen", HOST64 ":80"}, LISTEN_MSG(HOST64 ":80")},
    {{"--workers", "0"}, WORKERS_MSG("0")},
    {{"--workers", "65"}, WORKERS_MSG("65")},
    {{"--workers", "abc"}, WORKERS_MSG("abc")},
    {{"--workers", ""}, WORKERS_MSG("")},
    {{"--workers", "-1"}, WORKERS_MSG("-1")},
    {{"--workers", "2.5"}, WORKERS_MSG("2.5")},
    {{"public", "x"}, "unexpected argument 'x' after the directory 'public' (see --help)"},
    {{"public", "--port", "80", "x"},
     "unexpected argument 'x' after the directory 'public' (see --help)"},
    {{"--top-dir", "a", "b"}, "two directories given: --top-dir 'a' and 'b' (give one; see --help)"},
    {{"b", "-d", "a"}, "two directories given: --top-dir 'a' and 'b' (give one; see --help)"},
    {{"--chroot", "/jail", "x"}, "unexpected argument 'x' after the directory '/jail' (see --help)"},
    {{"--", "--port", "x"}, "unexpected argument 'x' after the directory '--port' (see --help)"},
    {{""}, "the directory argument is empty"},
    {{"--top-dir", ""}, "--top-dir needs a directory, not ''"},
    {{"-p"}, "option '-p' needs a value (see --help)"},
    {{"-p", "http"}, "invalid port 'http' (expected 0 to 65535)"},
    {{"-x"}, "unknown option '-x' (see --help)"},
    {{"--error-cache-control", ""}, "invalid --error-cache-control value ''"},
    {{"--error-cache-control", "a\nb"}, "invalid --error-cache-control value 'a\nb'"},
    {{"--health", "healthz"}, "invalid --health 'healthz' (expected a path such as /healthz)"},
    {{"--health", "/h?x=1"}, "invalid --health '/h?x=1' (expected a path such as /healthz)"},
    {{"--health", "/a b"}, "invalid --health '/a b' (expected a path such as /healthz)"},
    {{"--health", ""}, "invalid --health '' (expected a path such as /healthz)"},
    {{"--lameduck", "0"}, TIMEOUT_MSG("0")},
    {{"--drain-timeout", "x"}, TIMEOUT_MSG("x")},
    {{"--header", "NoColon"}, "invalid --header 'NoColon' (expected 'Name: value')"},
    {{"--header", ": v"}, "invalid --header ': v' (expected 'Name: value')"},
    {{"--header", ""}, "invalid --header '' (expected 'Name: value')"},
    {{"--header", "Bad Name: v"}, "invalid header name in --header 'Bad Name: v'"},
    {{"--header", "X\tY: v"}, "invalid header name in --header 'X\tY: v'"},
    {{"--header", "X(1): v"}, "invalid header name in --header 'X(1): v'"},
    {{"--header", "\xc3\x84: v"}, "invalid header name in --header '\xc3\x84: v'"},
    {{"--header", "Content-Length: 5"},
     "--header cannot set Content-Length: the server frames every message"},
    {{"--header", "transfer-encoding: chunked"},
     "--header cannot set transfer-encoding: the server frames every message"},
    {{"--header", "CONNECTION: close"}, "--header cannot set CONNECTION: the server manages connections"},
    {{"--header", "Keep-Alive: 5"}, "--header cannot set Keep-Alive: the server manages connections"},
    {{"--header", "Upgrade: h2c"}, "--header cannot set Upgrade: the server manages connections"},
    {{"--header", "Content-Range: x"}, "--header cannot set Content-Range: the server frames every message"},
    {{"--header", "Date: x"}, "--header cannot set Date: the server sets it on every response"},
    {{"--header", "Trailer: x"}, "--header cannot set Trailer: the server frames every message"},
    {{"--header", "cache-control: no-store"},
     "--header cannot set cache-control: use --cache-control (files) or --error-cache-control "
     "(errors and redirects)"},
    {{"--header", "Content-Type: text/plain"},
     "--header cannot set Content-Type: the server sets it from the file name"},
    {{"--header", "ETag: \"x\""}, "--header cannot set ETag: the server sets it from the file"},
    {{"--header", "Server: x"}, "--header cannot set Server: the server sets it on every response"},
    {{"--header", "Vary: Cookie"},
     "--header cannot set Vary: the server sets it where a response varies"},
    {{"--header", "X: a\rb"}, "invalid characters in --header 'X: a\rb'"},
    {{"--header", "X: a\nb"}, "invalid characters in --header 'X: a\nb'"},
    {{"--header", "X: \x01"}, "invalid characters in --header 'X: \x01'"},
    {{"--header", "X: a\x7f"}, "invalid characters in --header 'X: a\x7f'"},
    {{"--header", "X-A: 1", "--header", "X: a\nb"}, "invalid characters in --header 'X: a\nb'"},
    /* The first problem wins, even before --help. */
    {{"--port", "x", "--help"}, "invalid port 'x' (expected 0 to 65535)"},
};

START_TEST(error_table)
{
	const struct error_case *c = &error_cases[_i];
	struct options o;
	char err[256], what[512];
	enum options_result r = parse(c->args, &o, err, sizeof err, what, sizeof what);
	ck_assert_msg(r == OPTIONS_ERROR, "%s: result %d, want OPTIONS_ERROR", what, (int)r);
	ck_assert_msg(strcmp(err, c->msg) == 0, "%s: message '%s', want '%s'", what, err, c->msg);
}
END_TEST

static const struct stop_case {
	const char *args[MAX_ARGS + 1];
	enum options_result want;
} stop_cases[] = {
    {{"--help"}, OPTIONS_HELP},
    {{"-h"}, OPTIONS_HELP},
    {{"--hel"}, OPTIONS_HELP},
    {{"--version"}, OPTIONS_VERSION},
    {{"-V"}, OPTIONS_VERSION},
    {{"-hV"}, OPTIONS_HELP},
    {{"-Vh"}, OPTIONS_VERSION},
    {{"--help", "--port", "x"}, OPTIONS_HELP},
    {{"--version", "--bogus"}, OPTIONS_VERSION},
    {{"public", "--help"}, OPTIONS_HELP}, /* arguments are checked at the end */
    {{"--port", "80", "--help"}, OPTIONS_HELP},
};

START_TEST(stop_table)
{
	const struct stop_case *c = &stop_cases[_i];
	struct options o;
	char err[256] = "untouched", what[512];
	enum options_result r = parse(c->args, &o, err, sizeof err, what, sizeof what);
	ck_assert_msg(r == c->want, "%s: result %d, want %d", what, (int)r, (int)c->want);
	ck_assert_msg(strcmp(err, "untouched") == 0, "%s: err written: '%s'", what, err);
}
END_TEST

/* Exactly SHS_MAX_LISTENERS --listen are taken; one more is an error. */
START_TEST(listen_limit)
{
	struct options o;
	char err[256];
	static char ports[SHS_MAX_LISTENERS + 1][32];
	char *argv[SHS_MAX_LISTENERS + 3] = {"simple-http-server"};
	for (int i = 0; i <= SHS_MAX_LISTENERS; i++) {
		snprintf(ports[i], sizeof ports[i], "--listen=:%d", i + 1);
		argv[i + 1] = ports[i];
	}
	ck_assert_int_eq(options_parse(SHS_MAX_LISTENERS + 1, argv, &o, err, sizeof err),
	                 OPTIONS_RUN);
	ck_assert_uint_eq(o.nlistens, SHS_MAX_LISTENERS);
	ck_assert_str_eq(o.listens[SHS_MAX_LISTENERS - 1].host, "::");
	ck_assert_int_eq(o.listens[SHS_MAX_LISTENERS - 1].port, SHS_MAX_LISTENERS);
	ck_assert_int_eq(options_parse(SHS_MAX_LISTENERS + 2, argv, &o, err, sizeof err),
	                 OPTIONS_ERROR);
	ck_assert_str_eq(err, "too many --listen (at most 16)");
}
END_TEST

/* The header block holds SHS_EXTRA_HEADERS_MAX - 1 bytes and a NUL; one
 * line more than that is refused as a whole. */
START_TEST(header_limit)
{
	struct options o;
	static char fits[SHS_EXTRA_HEADERS_MAX], over[SHS_EXTRA_HEADERS_MAX + 1];
	char err[256];
	/* "X: " + value + "\r\n" is the value and 5 bytes. */
	size_t vlen = SHS_EXTRA_HEADERS_MAX - 1 - 5;
	snprintf(fits, sizeof fits, "X: %0*d", (int)vlen, 7);
	snprintf(over, sizeof over, "X: %0*d", (int)vlen + 1, 7);
	char *argv[] = {"simple-http-server", "--header", fits, NULL};
	ck_assert_int_eq(options_parse(3, argv, &o, err, sizeof err), OPTIONS_RUN);
	ck_assert_uint_eq(o.headers_len, SHS_EXTRA_HEADERS_MAX - 1);
	ck_assert_uint_eq(strlen(o.headers), SHS_EXTRA_HEADERS_MAX - 1);
	argv[2] = over;
	ck_assert_int_eq(options_parse(3, argv, &o, err, sizeof err), OPTIONS_ERROR);
	ck_assert_str_eq(err, "too many --header bytes (at most 1023)");
	/* Small lines add up to the same limit. */
	char *many[] = {"simple-http-server", "--header", "X-A: 1", "--header", fits, NULL};
	ck_assert_int_eq(options_parse(5, many, &o, err, sizeof err), OPTIONS_ERROR);
	ck_assert_str_eq(err, "too many --header bytes (at most 1023)");
	ck_assert_str_eq(o.headers, "X-A: 1\r\n");
}
END_TEST

/* Check forks for every test, so the tables never parse twice in one
 * process; main.c does not either, but a test runner or a reload might.
 * Nothing of an earlier parse may leak into the next: not in *o, not in
 * getopt's state. */
START_TEST(parse_again)
{
	struct options o;
	char err[256], what[512];
	const char *help_mid_cluster[] = {"-hq", NULL};
	const char *dotfiles[] = {"--dotfiles", NULL};
	const char *error_late[] = {"--port", "1", "-v", "--header", "X: 1", "--bogus", NULL};
	const char *none[] = {NULL};
	const struct want set[] = {{"dotfiles", "1"}};

	ck_assert_int_eq(parse(help_mid_cluster, &o, err, sizeof err, what, sizeof what),
	                 OPTIONS_HELP);
	/* getopt stopped inside "-hq"; its "q" must not be read now. */
	ck_assert_int_eq(parse(dotfiles, &o, err, sizeof err, what, sizeof what), OPTIONS_RUN);
	assert_options(what, &o, set, NELEM(set));
	ck_assert_int_eq(parse(error_late, &o, err, sizeof err, what, sizeof what), OPTIONS_ERROR);
	ck_assert_str_eq(err, "unknown option '--bogus' (see --help)");
	ck_assert_int_eq(parse(none, &o, err, sizeof err, what, sizeof what), OPTIONS_RUN);
	assert_options(what, &o, NULL, 0);
}
END_TEST

/* A short buffer gets the start of the message, always terminated. */
START_TEST(error_truncated)
{
	struct options o;
	char err[8];
	memset(err, 'Z', sizeof err);
	char *argv[] = {"simple-http-server", "--bogus", NULL};
	ck_assert_int_eq(options_parse(2, argv, &o, err, sizeof err), OPTIONS_ERROR);
	ck_assert_str_eq(err, "unknown");
	ck_assert_int_eq(options_parse(2, argv, &o, err, 1), OPTIONS_ERROR);
	ck_assert_str_eq(err, "");
}
END_TEST

/* Every table again in one process with stdout and stderr captured: the
 * results hold when parses follow each other, and nothing is printed, not
 * even getopt's own complaints, since main.c decides what the user sees. */
START_TEST(tables_in_one_process_silently)
{
	enum options_result got[NELEM(run_cases) + NELEM(error_cases) + NELEM(stop_cases)];
	size_t n = 0;
	struct options o;
	char err[256], what[512];
	ck_assert_int_eq(fflush(NULL), 0);
	FILE *capture = tmpfile();
	ck_assert_ptr_nonnull(capture);
	int saved_out = dup(STDOUT_FILENO), saved_err = dup(STDERR_FILENO);
	ck_assert_int_ge(saved_out, 0);
	ck_assert_int_ge(saved_err, 0);
	ck_assert_int_ge(dup2(fileno(capture), STDOUT_FILENO), 0);
	ck_assert_int_ge(dup2(fileno(capture), STDERR_FILENO), 0);
	for (size_t i = 0; i < NELEM(run_cases); i++)
		got[n++] = parse(run_cases[i].args, &o, err, sizeof err, what, sizeof what);
	for (size_t i = 0; i < NELEM(error_cases); i++)
		got[n++] = parse(error_cases[i].args, &o, err, sizeof err, what, sizeof what);
	for (size_t i = 0; i < NELEM(stop_cases); i++)
		got[n++] = parse(stop_cases[i].args, &o, err, sizeof err, what, sizeof what);
	(void)fflush(NULL);
	ck_assert_int_ge(dup2(saved_out, STDOUT_FILENO), 0);
	ck_assert_int_ge(dup2(saved_err, STDERR_FILENO), 0);
	close(saved_out);
	close(saved_err);
	ck_assert_int_eq(fseek(capture, 0, SEEK_END), 0);
	ck_assert_int_eq(ftell(capture), 0);
	fclose(capture);
	n = 0;
	for (size_t i = 0; i < NELEM(run_cases); i++)
		ck_assert_msg(got[n++] == OPTIONS_RUN, "run_cases[%zu]", i);
	for (size_t i = 0; i < NELEM(error_cases); i++)
		ck_assert_msg(got[n++] == OPTIONS_ERROR, "error_cases[%zu]", i);
	for (size_t i = 0; i < NELEM(stop_cases); i++)
		ck_assert_msg(got[n++] == stop_cases[i].want, "stop_cases[%zu]", i);
}
END_TEST

/* --help shows the short forms first and lists --workers after
 * --max-connections, in the same columns. */
START_TEST(usage_text)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);
	ck_assert_ptr_nonnull(f);
	options_usage(f);
	ck_assert_int_eq(fclose(f), 0);
	const char *head = "Usage: simple-http-server [OPTION]... [DIR]\n"
	                   "Serve the files of DIR over HTTP/1.1 (default: ./public if it exists, "
	                   "else .).\n"
	                   "\n"
	                   "  -p, --port N               TCP port, 0 picks a free one (default: 8080,\n"
	                   "                             or the next free one when 8080 is busy)\n"
	                   "  -d, --top-dir DIR          directory to serve, the same as DIR\n"
	                   "  -b, --host ADDR            address to listen on; :: and 0.0.0.0 mean all\n";
	ck_assert_msg(strncmp(text, head, strlen(head)) == 0, "%s", text);
	ck_assert_ptr_nonnull(strstr(
	    text,
	    "      --max-connections N    clients at once; more get a 503 (default: 4096)\n"
	    "      --max-buffers N        requests in flight (16 KiB of buffers each); more\n"
	    "                             get a 503 (default: --max-connections)\n"
	    "      --workers N            worker processes sharing the port (default: 1)\n"));
	for (const char *l = text; *l; l = strchr(l, '\n') + 1)
		ck_assert_msg(strchr(l, '\n') - l <= 80, "line over 80 columns: %.*s",
		              (int)(strchr(l, '\n') - l), l);
	ck_assert_ptr_null(strchr(text, '%')); /* every conversion was filled in */
	free(text);
}
END_TEST

Suite *
options_suite(void)
{
	Suite *s = suite_create("options");
	TCase *tc = tcase_create("parse");
	tcase_add_test(tc, defaults_without_arguments);
	tcase_add_loop_test(tc, run_table, 0, NELEM(run_cases));
	tcase_add_loop_test(tc, error_table, 0, NELEM(error_cases));
	tcase_add_loop_test(tc, stop_table, 0, NELEM(stop_cases));
	tcase_add_test(tc, listen_limit);
	tcase_add_test(tc, header_limit);
	tcase_add_test(tc, parse_again);
	tcase_add_test(tc, error_truncated);
	tcase_add_test(tc, tables_in_one_process_silently);
	tcase_add_test(tc, usage_text);
	suite_add_tcase(s, tc);
	return s;
}
