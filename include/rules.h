/* rules.h - _redirects and _headers: a site's own routing, as its host
 * (Netlify, Cloudflare Pages, IPFS gateways) would apply it.
 *
 * Three parts, one header:
 * - rules_parse.c (pure): file text -> a compiled rule set. Every line that
 *   cannot be honoured is skipped with its own reason, told to a callback;
 *   nothing is guessed. Its storage (arena, patterns, index) is
 *   rules_set.c (rules_set.h).
 * - rules_match.c (pure, no allocation): which redirect rule answers a
 *   normalised path and query (first match wins), which _headers blocks
 *   apply (all of them, in file order), and the substitution of :name and
 *   :splat into a rule's target.
 * - rules.c: loading both files from the top dir's fd (startup, --live
 *   reload, --check) and the responder hook serve.c calls before a path is
 *   served (a redirect, a 4xx page, a rewrite, the headers of the reply).
 *
 * Compiled once per load: exact paths in a hash, patterns chained by their
 * first literal segment (patterns starting with a placeholder or a splat in
 * one more chain), each chain in file order, so a request that matches no
 * rule looks at one hash slot and a few chains. */
#ifndef SHS_RULES_H
#define SHS_RULES_H

#include <stddef.h>
#include <stdint.h>

/* Limits, each with its reason. */
#define RULES_LINE_MAX 4096        /* a longer line is not a rule anyone wrote */
#define RULES_FILE_MAX (8u << 20)  /* a bigger file is not read (no rules) */
#define RULES_MAX 100000           /* rules per file; Netlify advises < 10,000 */
#define RULES_SEGS_MAX 32          /* segments in a pattern */
#define RULES_QUERY_MAX 8          /* query conditions in a rule */
#define RULES_BLOCK_HEADERS_MAX 64 /* header lines in one _headers block */
#define RULES_REPLY_HEADERS_MAX 64 /* headers merged for one response */
#define RULES_REPLY_BYTES 1024     /* their rendered size (SHS_EXTRA_HEADERS_MAX) */
#define RULES_TYPE_MAX 200         /* a Content-Type value: longer is no media type */
#define RULES_CAPTURES_MAX (RULES_SEGS_MAX + RULES_QUERY_MAX)

#define RULES_NONE UINT32_MAX /* end of a chain */

enum rules_seg_kind {
	RULES_SEG_LITERAL, /* text: the decoded segment */
	RULES_SEG_PARAM,   /* :name, any one non-empty segment */
	RULES_SEG_SPLAT,   /* *, the rest (maybe empty); last only */
};

/* A string in the set's arena: offsets, so the arena may grow. */
struct rules_str {
	uint32_t off, len;
};

struct rules_seg {
	unsigned char kind;
	struct rules_str text; /* the literal, or the placeholder's name */
};

/* A path pattern: its segments and its place in the index. */
struct rules_pat {
	uint32_t seg0; /* first of nseg in rules_set.segs */
	uint16_t nseg;
	uint8_t exact;        /* literal segments only: in the exact hash */
	struct rules_str key; /* exact: the whole path; else the first literal segment */
	uint32_t next;        /* the next entry of its chain (file order), or RULES_NONE */
};

/* A query condition of a redirect: name=value or name=:placeholder. */
struct rules_query {
	struct rules_str name, value;
	unsigned char param; /* value names a placeholder */
};

struct rules_redirect {
	unsigned line;
	int status;             /* 301, 302, 303, 307, 308, 200 or a 4xx */
	unsigned char force;    /* "!": applies even when a file exists */
	unsigned char absolute; /* to is an http(s):// URL */
	uint16_t nquery;
	uint32_t query0;     /* first of nquery in rules_set.queries */
	struct rules_str to; /* the target, percent-encoded, with :names */
	uint32_t to_fixed;   /* bytes of to never substituted (scheme://host) */
};

struct rules_header {
	struct rules_str name, value;
	unsigned char remove; /* "! Name" */
};

struct rules_block {
	unsigned line;
	uint32_t hdr0, nhdr; /* in rules_set.headers */
};

/* One index: pats[i] describes entry i (a redirect or a _headers block). */
struct rules_index {
	struct rules_pat *pats;
	size_t n;
	uint32_t *exact;   /* open addressing: first entry of a chain */
	uint32_t *buckets; /* the same, by first literal segment */
	size_t cap;        /* of pats */
	size_t mask;       /* both tables have mask + 1 slots */
	uint32_t wild;     /* patterns whose first segment is not literal */
};

/* Both files, compiled. Read-only once built; rules_free lets go. */
struct rules {
	char *arena;
	size_t arena_len, arena_cap;
	struct rules_seg *segs;
	size_t nsegs, segs_cap;
	struct rules_query *queries;
	size_t nqueries, queries_cap;
	struct rules_header *headers;
	size_t nheaders, headers_cap;
	struct rules_redirect *redirects;
	struct rules_block *blocks;
	size_t caps[2];                 /* of redirects and blocks */
	struct rules_index idx[2];      /* RULES_REDIRECTS, RULES_HEADERS */
	unsigned loaded[2], skipped[2]; /* rules (blocks) kept and lines skipped */
	unsigned first_skip_line[2];
	char first_skip[2][96]; /* the first reason, for the summary */
	int present[2];         /* the file was there */
};

enum rules_file { RULES_REDIRECTS, RULES_HEADERS };

extern const char *const rules_file_names[2]; /* "_redirects", "_headers" */

/* Told of each line skipped: file is "_redirects" or "_headers". */
typedef void (*rules_report_fn)(void *ctx, const char *file, unsigned line, const char *reason);

/* ---- rules_parse.c, rules_set.c (pure) ---- */

/* Parses text[0..len) as the given file into rs (which rules_init made or
 * which already holds the other file), then builds its index. Returns 0,
 * or -ENOMEM (rs is then freed). */
int rules_parse(struct rules *rs, enum rules_file which, const char *text, size_t len,
                rules_report_fn report, void *ctx);

void rules_init(struct rules *rs);
void rules_free(struct rules *rs);

/* "_redirects: 14 rules, 1 skipped (line 9: proxying ...)" into dst. */
void rules_summary(const struct rules *rs, enum rules_file which, char *dst, size_t cap);

/* ---- rules_match.c (pure, no allocation) ---- */

/* What a match captured: placeholder name -> value (a slice of the path,
 * decoded, or of the query, raw). splat is the rest of a * pattern. */
struct rules_captures {
	unsigned n;
	struct {
		const char *name;
		size_t name_len;
		const char *value;
		size_t value_len;
		unsigned char from_query; /* raw query bytes: decode before encoding */
	} c[RULES_CAPTURES_MAX];
	const char *splat;
	size_t splat_len;
	int has_splat;
};

/* The first redirect rule (file order) matching path[0..len) (normalised,
 * no leading slash, its one trailing slash removed) and query[0..qlen) ("?"
 * and what follows, or empty), or NULL. forced_only: rules with "!" only. */
const struct rules_redirect *rules_match(const struct rules *rs, const char *path, size_t len,
                                         const char *query, size_t qlen, int forced_only,
                                         struct rules_captures *caps);

/* The target of rule r with the captures substituted (percent-encoded),
 * plus query[0..qlen) when the rule passes the query on, into dst (NUL-
 * terminated). Returns the length, or -1 if it does not fit. */
long rules_target(const struct rules *rs, const struct rules_redirect *r,
                  const struct rules_captures *caps, const char *query, size_t qlen, char *dst,
                  size_t cap);

/* The headers the matching blocks set for path, merged (later blocks add to
 * a name with ", "; "! Name" drops what earlier blocks set), rendered as
 * "Name: value\r\n" lines into dst, except Cache-Control, whose value goes
 * to cc, and Content-Type, whose value (the last block's: a media type is
 * not a list) goes to type (both NUL-terminated; "" when none). *lines_len
 * of them are to be sent; after them come the names "! Name" removed, as
 * "Name:\r\n" lines, so the reply can drop a --header line of that name
 * too. Returns the length of both, or -1 if they do not fit. */
long rules_render_headers(const struct rules *rs, const char *path, size_t len, char *dst,
                          size_t cap, size_t *lines_len, char *cc, size_t cc_cap, char *type,
                          size_t type_cap);

/* ---- rules.c ---- */

struct site;
struct reply;
struct http_request;
struct path_result;

/* Loads _redirects and _headers from the directory rootfd into rs (which
 * it frees first). A missing or unreadable file means no rules of that
 * kind; each skipped line goes to report (the error log, or --check's
 * listing). Returns 0, or -ENOMEM. This is what --check calls. */
int rules_load(struct rules *rs, int rootfd, rules_report_fn report, void *ctx);


/* Loads and logs the summary lines (startup and --live reload); say_none:
 * also say so when neither file is there (--rules asked for them). On
 * -ENOMEM the set is empty and the error logged: serving goes on. */
int rules_load_logged(struct rules *rs, int rootfd, int say_none);

/* Is name[0..n) one of the two rule files (a change to reload for)? */
int rules_is_rule_file(const char *name, size_t n);

enum rules_outcome {
	RULES_PASS,     /* serve path as it is */
	RULES_ANSWERED, /* r is planned */
	RULES_REWRITTEN /* path and *pr now name the rewrite target */
};

/* serve.c's hook, before respond_path: the two files are 404; _headers
 * blocks matching the path set r's extra headers; a redirect rule may
 * answer (redirect, 4xx page) or rewrite path (cap bytes) in place. */
enum rules_outcome rules_apply(const struct site *s, const struct http_request *req,
                               struct reply *r, char *path, size_t cap, struct path_result *pr);

#endif
