/* sidecar.h - precompressed sidecars: x.br, x.zst and x.gz next to x, and
 * the content coding each one is. serve.c picks one for a request; the
 * cache drops, or does not trust, its copy of x when one of them exists or
 * changes. One table, so the three lists cannot drift apart. */
#ifndef SHS_SIDECAR_H
#define SHS_SIDECAR_H

/* Best first when q-values tie. */
static const struct sidecar {
	const char *coding; /* the Accept-Encoding token */
	const char *ext;    /* appended to the path */
} sidecars[] = {
    {"br", ".br"},
    {"zstd", ".zst"},
    {"gzip", ".gz"},
};

#define SIDECAR_COUNT (sizeof sidecars / sizeof sidecars[0])

/* The longest ext, without its NUL: the room a path buffer keeps for one. */
#define SIDECAR_EXT_MAX 4

#endif
