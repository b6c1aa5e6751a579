/* options_value.c - the syntax of option values: numbers, seconds,
 * listen addresses, header fields and URL paths. Pure, like options.c; the
 * _headers rules reuse the header checks. See options_value.h. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "options_value.h"

/* A whole decimal number in [min, max], or -1. */
long
optval_number(const char *s, long min, long max)
{
	if (*s < '0' || *s > '9')
		return -1;
	errno = 0;
	char *end;
	long v = strtol(s, &end, 10);
	if (errno != 0 || *end != '\0' || v < min || v > max)
		return -1;
	return v;
}

/* A positive number of seconds (fractions allowed, at most a day), or -1. */
double
optval_seconds(const char *s)
{
	char *end;
	errno = 0;
	double v = strtod(s, &end);
	if (errno != 0 || end == s || *end != '\0' || !(v >= 0.001 && v <= 86400))
		return -1;
	return v;
}

/* "127.0.0.1:8080", "[::]:8080", ":8080" (all addresses) or "8080". */
int
optval_listen(const char *arg, char *host, size_t cap, int *port)
{
	const char *p;
	size_t n;
	if (arg[0] == '[') {
		const char *close = strchr(arg, ']');
		if (!close || close[1] != ':')
			return -1;
		n = (size_t)(close - arg - 1);
		memcpy(host, arg + 1, n < cap ? n : 0);
		p = close + 2;
	} else {
		const char *colon = strrchr(arg, ':');
		if (colon && strchr(arg, ':') != colon)
			return -1; /* a bare IPv6 address needs brackets */
		n = colon ? (size_t)(colon - arg) : 0;
		memcpy(host, arg, n < cap ? n : 0);
		p = colon ? colon + 1 : arg;
	}
	if (n >= cap)
		return -1;
	host[n] = '\0';
	if (n == 0)
		strcpy(host, "::");
	long v = optval_number(p, 0, 65535);
	if (v < 0)
		return -1;
	*port = (int)v;
	return 0;
}

/* field-value: visible characters, SP and HTAB; no CR, LF or other CTLs,
 * which would let a flag split a response. */
int
optval_field_value(const char *v, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)v[i];
		if ((ch < 0x20 && ch != '\t') || ch == 0x7f)
			return 0;
	}
	return 1;
}

/* Headers the server writes itself, with what to use instead. */
static const struct owned_header {
	const char *name, *why;
} owned_headers[] = {
    {"Content-Length", "the server frames every message"},
    {"Transfer-Encoding", "the server frames every message"},
    {"Content-Range", "the server frames every message"},
    {"Trailer", "the server frames every message"},
    {"Connection", "the server manages connections"},
    {"Keep-Alive", "the server manages connections"},
    {"Upgrade", "the server manages connections"},
    {"Date", "the server sets it on every response"},
    {"Server", "the server sets it on every response"},
    {"Cache-Control",
     "use --cache-control (files) or --error-cache-control (errors and redirects)"},
    {"Content-Type", "the server sets it from the file name"},
    {"Content-Encoding", "the server sets it for x.br, x.zst and x.gz"},
    {"Vary", "the server sets it where a response varies"},
    {"ETag", "the server sets it from the file"},
    {"Last-Modified", "the server sets it from the file"},
    {"Accept-Ranges", "the server sets it on files"},
    {"Location", "the server sets it on redirects"},
    {"Allow", "the server sets it on 405 and OPTIONS answers"},
    {"Retry-After", "the server sets it on 503 answers"},
};

const char *
optval_owned_header(const char *name, size_t n)
{
	for (size_t i = 0; i < sizeof owned_headers / sizeof owned_headers[0]; i++)
		if (strlen(owned_headers[i].name) == n &&
		    strncasecmp(owned_headers[i].name, name, n) == 0)
			return owned_headers[i].why;
	return NULL;
}

/* --health PATH: "/" and then visible characters a request-target may
 * carry, without a query or a fragment. */
int
optval_path(const char *p)
{
	if (p[0] != '/')
		return 0;
	for (; *p; p++)
		if ((unsigned char)*p <= 0x20 || (unsigned char)*p >= 0x7f || *p == '?' ||
		    *p == '#')
			return 0;
	return 1;
}
