/* rules_set.h - the storage of a compiled rule set, shared by the parser
 * (rules_parse.c) and nothing else: growing arrays, the string arena, path
 * patterns into segments, and the index. The set itself is in rules.h. */
#ifndef SHS_RULES_SET_H
#define SHS_RULES_SET_H

#include <stddef.h>

#include "rules.h"

/* A string the arena could not take (out of memory). */
#define OOM(s) ((s).len == UINT32_MAX)

/* One line being parsed: on failure, why (a constant or msg). */
struct rules_line {
	struct rules *rs;
	const char *why;
	char msg[96];
	int oom;
};

/* Sets l->why; returns -1. */
int rules_fail(struct rules_line *l, const char *why);
/* l->why from fmt with "%.*s" of a[0..n) (cut at 40 bytes); -1. */
int rules_failf(struct rules_line *l, const char *fmt, const char *a, size_t n);

/* The value of a hex digit, or -1. */
int rules_hexval(char c);

/* [A-Za-z0-9_]: the characters of a placeholder name. */
int rules_is_name_char(char c);

/* Grows the array *p (*cap elements of sz bytes) to hold n + 1. 0 or -1. */
int rules_grow(void *p, size_t *cap, size_t n, size_t sz);

/* Copies s[0..n) (and a NUL) into the arena; OOM() when out of memory. */
struct rules_str rules_keep(struct rules *rs, const char *s, size_t n);

/* A path pattern ("/a/:b" or "/a/" then "*") into segments: pat gets seg0
 * and nseg. 0, or -1 with l->why (or l->oom). */
int rules_pattern(struct rules_line *l, const char *p, size_t n, struct rules_pat *pat);

/* Keys pat and appends it as the next entry of the file's index (its
 * payload goes at the same position). 0, or -1 when out of memory. */
int rules_add_pat(struct rules *rs, enum rules_file which, struct rules_pat *pat);

/* Builds the index of a parsed file: its chains in file order. 0 or -1. */
int rules_build_index(struct rules *rs, enum rules_file which);

#endif
