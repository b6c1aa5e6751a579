/* options_value.h - the syntax of option values, shared by the command line
 * (options.c) and anything else that reads the same kinds of values from a
 * file. Pure: no I/O, no allocation. */
#ifndef SHS_OPTIONS_VALUE_H
#define SHS_OPTIONS_VALUE_H

#include <stddef.h>

/* A whole decimal number in [min, max], or -1. */
long optval_number(const char *s, long min, long max);

/* A positive number of seconds (fractions allowed, 0.001 to a day), or -1. */
double optval_seconds(const char *s);

/* "127.0.0.1:8080", "[::]:8080", ":8080" (all addresses) or "8080" into
 * host (cap bytes; "::" for all addresses) and *port. 0, or -1. */
int optval_listen(const char *arg, char *host, size_t cap, int *port);

/* A field-value: visible characters, SP and HTAB; no CR, LF, NUL or other
 * control character, which would let a value split a response. 1 or 0. */
int optval_field_value(const char *v, size_t n);

/* Why a configured header may not set a header the server writes itself
 * (so no response carries two copies of it): a message naming the flag to
 * use instead, or NULL when name[0..n) is free to set. Case-insensitive. */
const char *optval_owned_header(const char *name, size_t n);

/* A URL path for --health: "/" then visible characters, no query or
 * fragment. 1 or 0. */
int optval_path(const char *p);

#endif
