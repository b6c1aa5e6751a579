/* check_responders.c - the responders as functions of (site, request) ->
 * reply, driven from tables without a socket or a server: each row is a
 * request (parsed by http_parse_request), a site configuration and the reply
 * it must plan: status, header lines, Content-Length, Connection,
 * Cache-Control and the body source (none, built-in bytes after the head, a
 * cached entry, a file range, multipart ranges, an event stream). The body
 * is then assembled the way conn.c sends it (head bytes, cached body, file
 * range, next multipart part...) and compared with the expected bytes and
 * the Content-Length.
 *
 * Every row runs as written and, unless it says otherwise, also as HEAD
 * (same head bytes as the GET, no body at all) and with --dev (the
 * Cache-Control rule of reply.h). A second table calls reply_error() for
 * every status of response.c's table. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "byteranges.h"
#include "cache.h"
#include "harness.h"
#include "http.h"
#include "live.h"
#include "log.h"
#include "reply.h"
#include "response.h"
#include "serve.h"
#include "site.h"
#include "suites.h"

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

/* Row options: the site's configuration, and how the row is run. */
enum {
	O_DEV = 1 << 0,           /* --dev */
	O_LISTING = 1 << 1,       /* --listing */
	O_CORS = 1 << 2,          /* --cors (and its prefix line) */
	O_SPA = 1 << 3,           /* --spa */
	O_CLEAN = 1 << 4,         /* --clean-urls */
	O_PRECOMP = 1 << 5,       /* serve sidecars */
	O_LIVE = 1 << 6,          /* --live (implies --dev, as options.c does) */
	O_CC = 1 << 7,            /* --cache-control CC_VALUE */
	O_CACHE = 1 << 8,         /* the small-file cache on */
	O_ROOT2 = 1 << 9,         /* the second top dir (it has 404.html) */
	O_REPEAT = 1 << 10,       /* run twice, assert on the second (cache hit); same head */
	O_NOHEAD = 1 << 11,       /* no HEAD variant (HEAD answers differently) */
	O_NODEV = 1 << 12,        /* no --dev variant (dev answers differently) */
	O_STREAMS_FULL = 1 << 13, /* --live: streams_open == streams_max */
	O_PAGES_FULL = 1 << 14,   /* --live: the page budget is held by other responses */
	O_HDR = 1 << 15,          /* --header "X-T: 1" */
	O_NOCACHE = 1 << 16,      /* the responder sets no-cache (listing, stream, suggestion) */
	O_CLOSES = 1 << 17,       /* the responder closes the connection (event stream) */
	O_DOTFILES = 1 << 18,     /* --dotfiles */
};

#define CC_VALUE "max-age=60"

enum body {
	B_NONE,   /* nothing after the head */
	B_INLINE, /* built-in bytes after the head in buf */
	B_MEM,    /* a cached entry */
	B_FILE,   /* fd [off, end) */
	B_MULTI,  /* multipart/byteranges */
	B_SSE,    /* an event stream */
};

struct hx {
	const char *name;
	const char *value; /* NULL: must be absent; "*": present, any value */
};

struct row {
	const char *name;
	unsigned opts;
	const char *method;
	const char *target; /* "@LONG@": 5000 bytes of path; "@SEG300@": one 300-byte segment */
	const char *hdrs;   /* extra "Name: value\r\n" lines; "@ETAG@" is the target's ETag */
	int http10;
	int status;
	enum body body;
	const char *file;     /* expected body: this file of the row's root (whole, or [off,end)) */
	const char *text;     /* expected body, exactly */
	const char *contains; /* the body contains this */
	long long off, end;   /* B_FILE/B_MULTI: the file range planned first (end 0: [0, size)) */
	unsigned nranges;     /* B_MULTI */
	struct hx hx[10];
};

#define TXT "text/plain; charset=utf-8"
#define HTML "text/html; charset=utf-8"
#define ALLOW "GET, HEAD, OPTIONS"
#define A_TXT "hello a\n"
#define INDEX "<html><head></head><body>home</body></html>\n"
#define CUSTOM404 "<html><body>custom 404</body></html>\n"
#define BIG_SIZE 100000
#define MP_PART(range)                                                                             \
	"\r\n--BOUNDARY\r\nContent-Type: " TXT "\r\nContent-Range: bytes " range "/8\r\n\r\n"

/* clang-format off */
static const struct row rows[] = {
    /* ---- 200 files ---- */
    {"file", 0, "GET", "/a.txt", "", 0, 200, B_FILE, "a.txt", A_TXT, NULL, 0, 8, 0,
     {{"Content-Type", TXT}, {"Content-Length", "8"}, {"Accept-Ranges", "bytes"},
      {"Last-Modified", H_MTIME_IMF}, {"ETag", "*"}, {"Vary", NULL}, {"Content-Encoding", NULL},
      {"Allow", NULL}}},
    {"file_cache_control", O_CC, "GET", "/app.js", "", 0, 200, B_FILE, "app.js", NULL, NULL, 0, 0,
     0, {{"Content-Type", "text/javascript; charset=utf-8"}, {"Content-Length", "16"}}},
    {"file_http10", 0, "GET", "/a.txt", "", 1, 200, B_FILE, "a.txt", NULL, NULL, 0, 0, 0,
     {{"Content-Length", "8"}}},
    {"file_http10_keepalive", 0, "GET", "/a.txt", "Connection: keep-alive\r\n", 1, 200, B_FILE,
     "a.txt", NULL, NULL, 0, 0, 0, {{"Content-Length", "8"}}},
    {"file_conn_close", 0, "GET", "/a.txt", "Connection: close\r\n", 0, 200, B_FILE, "a.txt", NULL,
     NULL, 0, 0, 0, {{"Content-Length", "8"}}},
    {"file_extra_header", O_HDR, "GET", "/a.txt", "", 0, 200, B_FILE, "a.txt", NULL, NULL, 0, 0, 0,
     {{"X-T", "1"}}},
    {"file_query", 0, "GET", "/a.txt?v=1", "", 0, 200, B_FILE, "a.txt", NULL, NULL, 0, 0, 0,
     {{"Content-Length", "8"}}},
    {"index_root", 0, "GET", "/", "", 0, 200, B_FILE, "index.html", INDEX, NULL, 0, 0, 0,
     {{"Content-Type", HTML}, {"Content-Length", "44"}, {"Location", NULL}}},
    {"index_dir", 0, "GET", "/dir2/", "", 0, 200, B_FILE, "dir2/index.html", NULL, NULL, 0, 0, 0,
     {{"Content-Type", HTML}}},
    {"cors_get", O_CORS, "GET", "/a.txt", "Origin: http://x\r\n", 0, 200, B_FILE, "a.txt", NULL,
     NULL, 0, 0, 0, {{"Access-Control-Allow-Origin", "*"}}},
    {"if_range_mismatch_full", 0, "GET", "/a.txt", "Range: bytes=0-1\r\nIf-Range: \"old\"\r\n", 0,
     200, B_FILE, "a.txt", NULL, NULL, 0, 8, 0, {{"Content-Length", "8"}, {"Content-Range", NULL}}},
    {"range_bad_syntax_full", 0, "GET", "/a.txt", "Range: lines=0-1\r\n", 0, 200, B_FILE, "a.txt",
     NULL, NULL, 0, 8, 0, {{"Content-Range", NULL}}},

    /* ---- small-file cache ---- */
    {"cache_fill", O_CACHE, "GET", "/a.txt", "", 0, 200, B_MEM, "a.txt", A_TXT, NULL, 0, 0, 0,
     {{"Content-Type", TXT}, {"Content-Length", "8"}, {"ETag", "*"}, {"Accept-Ranges", "bytes"}}},
    {"cache_hit", O_CACHE | O_REPEAT, "GET", "/a.txt", "", 0, 200, B_MEM, "a.txt", A_TXT, NULL, 0,
     0, 0, {{"Content-Length", "8"}, {"Last-Modified", H_MTIME_IMF}}},
    {"cache_hit_cc", O_CACHE | O_REPEAT | O_CC, "GET", "/app.js", "", 0, 200, B_MEM, "app.js", NULL,
     NULL, 0, 0, 0, {{"Content-Length", "16"}}},
    {"cache_hit_304", O_CACHE | O_REPEAT, "GET", "/a.txt", "If-None-Match: @ETAG@\r\n", 0, 304,
     B_NONE, NULL, NULL, NULL, 0, 0, 0, {{"ETag", "*"}, {"Content-Length", NULL}}},
    /* a sidecar to negotiate: never cached */
    {"cache_sidecar_not_cached", O_CACHE | O_PRECOMP | O_REPEAT, "GET", "/x.css",
     "Accept-Encoding: gzip\r\n", 0, 200, B_FILE, "x.css.gz", NULL, NULL, 0, 0, 0,
     {{"Content-Encoding", "gzip"}, {"Vary", "Accept-Encoding"}}},

    /* ---- 301 ---- */
    {"dir_redirect", 0, "GET", "/dir2", "", 0, 301, B_INLINE, NULL, NULL,
     "<h1>301 Moved Permanently</h1>", 0, 0, 0, {{"Location", "/dir2/"}, {"Content-Type", HTML}}},
    {"dir_redirect_query", 0, "GET", "/dir2?x=1&y", "", 0, 301, B_INLINE, NULL, NULL, NULL, 0, 0, 0,
     {{"Location", "/dir2/?x=1&y"}}},
    {"dir_redirect_encoded", 0, "GET", "/sp%20ace", "", 0, 301, B_INLINE, NULL, NULL, NULL, 0, 0, 0,
     {{"Location", "/sp%20ace/"}}},
    {"dir_redirect_custom404_root", O_ROOT2, "GET", "/d", "", 0, 301, B_INLINE, NULL, NULL,
     "<h1>301 Moved Permanently</h1>", 0, 0, 0, {{"Location", "/d/"}}},

    /* ---- 304 / 412 ---- */
    {"not_modified_etag", 0, "GET", "/a.txt", "If-None-Match: @ETAG@\r\n", 0, 304, B_NONE, NULL,
     NULL, NULL, 0, 0, 0, {{"ETag", "*"}, {"Last-Modified", H_MTIME_IMF}, {"Content-Length", NULL},
     {"Content-Type", NULL}}},
    {"not_modified_date", 0, "GET", "/a.txt", "If-Modified-Since: " H_MTIME_IMF "\r\n", 0, 304,
     B_NONE, NULL, NULL, NULL, 0, 0, 0, {{"ETag", "*"}, {"Content-Length", NULL}}},
    {"not_modified_cc", O_CC, "GET", "/a.txt", "If-None-Match: @ETAG@\r\n", 0, 304, B_NONE, NULL,
     NULL, NULL, 0, 0, 0, {{"ETag", "*"}}},
    {"modified_since_older", 0, "GET", "/a.txt",
     "If-Modified-Since: Tue, 14 Nov 2023 22:13:19 GMT\r\n", 0, 200, B_FILE, "a.txt", NULL, NULL, 0,
     0, 0, {{"Content-Length", "8"}}},
    {"precondition_failed", 0, "GET", "/a.txt", "If-Match: \"nope\"\r\n", 0, 412, B_INLINE, NULL,
     NULL, "<h1>412 Precondition Failed</h1>", 0, 0, 0, {{"Content-Type", HTML}, {"ETag", NULL}}},
    {"if_match_ok", 0, "GET", "/a.txt", "If-Match: @ETAG@\r\n", 0, 200, B_FILE, "a.txt", NULL, NULL,
     0, 0, 0, {{"ETag", "*"}}},

    /* ---- 206 / 416 (Range is for GET: HEAD gets the 200, see the rows below) ---- */
    {"range_single", O_NOHEAD, "GET", "/big.bin", "Range: bytes=1000-1999\r\n", 0, 206, B_FILE,
     "big.bin", NULL, NULL, 1000, 2000, 0, {{"Content-Range", "bytes 1000-1999/100000"},
     {"Content-Length", "1000"}, {"Content-Type", "application/octet-stream"}, {"ETag", "*"},
     {"Last-Modified", H_MTIME_IMF}, {"Accept-Ranges", NULL}}},
    {"range_suffix", O_NOHEAD, "GET", "/big.bin", "Range: bytes=-100\r\n", 0, 206, B_FILE,
     "big.bin", NULL, NULL, BIG_SIZE - 100, BIG_SIZE, 0,
     {{"Content-Range", "bytes 99900-99999/100000"}, {"Content-Length", "100"}}},
    {"range_cc", O_NOHEAD | O_CC, "GET", "/big.bin", "Range: bytes=0-0\r\n", 0, 206, B_FILE,
     "big.bin", NULL, NULL, 0, 1, 0, {{"Content-Range", "bytes 0-0/100000"}}},
    {"range_head_is_200", O_NOHEAD, "HEAD", "/big.bin", "Range: bytes=1000-1999\r\n", 0, 200,
     B_NONE, NULL, NULL, NULL, 0, 0, 0, {{"Content-Length", "100000"}, {"Content-Range", NULL},
     {"Accept-Ranges", "bytes"}}},
    {"range_multipart", O_NOHEAD, "GET", "/a.txt", "Range: bytes=0-1,4-5\r\n", 0, 206, B_MULTI,
     NULL, MP_PART("0-1") "he" MP_PART("4-5") "o \r\n--BOUNDARY--\r\n", NULL, 0, 2, 2,
     {{"Content-Type", "multipart/byteranges; boundary=BOUNDARY"}, {"Content-Range", NULL},
     {"ETag", "*"}}},
    {"range_unsatisfiable", O_NOHEAD, "GET", "/a.txt", "Range: bytes=100-200\r\n", 0, 416, B_INLINE,
     NULL, NULL, "<h1>416 Range Not Satisfiable</h1>", 0, 0, 0, {{"Content-Range", "bytes */8"},
     {"Content-Type", HTML}}},
    {"range_unsatisfiable_head_is_200", O_NOHEAD, "HEAD", "/a.txt", "Range: bytes=100-200\r\n", 0,
     200, B_NONE, NULL, NULL, NULL, 0, 0, 0, {{"Content-Length", "8"}, {"Content-Range", NULL}}},

    /* ---- 400 / 403 / 404 ---- */
    {"bad_nul_escape", 0, "GET", "/a%00b", "", 0, 400, B_INLINE, NULL, NULL,
     "<h1>400 Bad Request</h1>", 0, 0, 0, {{"Content-Type", HTML}}},
    {"bad_escape", 0, "GET", "/a%zz", "", 0, 400, B_INLINE, NULL, NULL, NULL, 0, 0, 0, {{0}}},
    {"bad_short_escape", 0, "GET", "/a%2", "", 0, 400, B_INLINE, NULL, NULL, NULL, 0, 0, 0, {{0}}},
    {"dotdot_above_root", 0, "GET", "/../etc/passwd", "", 0, 403, B_INLINE, NULL, NULL,
     "<h1>403 Forbidden</h1>", 0, 0, 0, {{0}}},
    {"dotdot_encoded", 0, "GET", "/%2e%2e/x", "", 0, 403, B_INLINE, NULL, NULL, NULL, 0, 0, 0,
     {{0}}},
    {"fifo", O_NODEV, "GET", "/fifo", "", 0, 403, B_INLINE, NULL, NULL, NULL, 0, 0, 0, {{0}}},
    {"symlink_out_relative", O_NODEV, "GET", "/out.txt", "", 0, 403, B_INLINE, NULL, NULL, NULL, 0, 0, 0,
     {{0}}},
    {"symlink_out_absolute", O_NODEV, "GET", "/abs.txt", "", 0, 403, B_INLINE, NULL, NULL, NULL, 0, 0, 0,
     {{0}}},
    {"missing", 0, "GET", "/missing-file.txt", "", 0, 404, B_INLINE, NULL, NULL,
     "<h1>404 Not Found</h1>", 0, 0, 0, {{"Content-Type", HTML}, {"Last-Modified", NULL}}},
    {"missing_under_file", 0, "GET", "/a.txt/x", "", 0, 404, B_INLINE, NULL, NULL, NULL, 0, 0, 0,
     {{0}}},
    {"dotfile", O_NODEV, "GET", "/.hidden", "", 0, 404, B_INLINE, NULL, NULL, NULL, 0, 0, 0, {{0}}},
    {"dotfile_allowed", O_DOTFILES, "GET", "/.hidden", "", 0, 200, B_FILE, ".hidden", NULL, NULL, 0,
     0, 0, {{"Content-Length", "7"}}},
    {"dir_without_index_no_listing", O_NODEV, "GET", "/dir/", "", 0, 404, B_INLINE, NULL, NULL, NULL, 0,
     0, 0, {{0}}},
    {"custom_404_page", O_ROOT2, "GET", "/missing-file.txt", "", 0, 404, B_FILE, "404.html",
     CUSTOM404, NULL, 0, 0, 0, {{"Content-Type", HTML}, {"Content-Length", "37"}}},
    {"custom_404_page_dotfile", O_ROOT2 | O_NODEV, "GET", "/.git/config", "", 0, 404, B_FILE, "404.html",
     CUSTOM404, NULL, 0, 0, 0, {{0}}},
    {"custom_404_not_for_403", O_ROOT2, "GET", "/../x", "", 0, 403, B_INLINE, NULL, NULL,
     "<h1>403 Forbidden</h1>", 0, 0, 0, {{0}}},

    /* ---- 414 ---- */
    {"uri_too_long", 0, "GET", "@LONG@", "", 0, 414, B_INLINE, NULL, NULL,
     "<h1>414 URI Too Long</h1>", 0, 0, 0, {{0}}},
    {"segment_too_long", 0, "GET", "@SEG300@", "", 0, 414, B_INLINE, NULL, NULL, NULL, 0, 0, 0,
     {{0}}},

    /* ---- methods ---- */
    {"post", O_NOHEAD, "POST", "/a.txt", "Content-Length: 0\r\n", 0, 405, B_INLINE, NULL, NULL,
     "<h1>405 Method Not Allowed</h1>", 0, 0, 0, {{"Allow", ALLOW}}},
    {"delete", O_NOHEAD, "DELETE", "/missing-file.txt", "", 0, 405, B_INLINE, NULL, NULL, NULL, 0,
     0, 0, {{"Allow", ALLOW}}},
    {"unknown_method", O_NOHEAD, "BREW", "/a.txt", "", 0, 501, B_INLINE, NULL, NULL,
     "<h1>501 Not Implemented</h1>", 0, 0, 0, {{"Allow", NULL}}},
    {"options_star", O_NOHEAD, "OPTIONS", "*", "", 0, 204, B_NONE, NULL, NULL, NULL, 0, 0, 0,
     {{"Allow", ALLOW}, {"Content-Length", NULL}, {"Content-Type", NULL},
     {"Access-Control-Allow-Methods", NULL}}},
    {"options_path", O_NOHEAD, "OPTIONS", "/a.txt", "", 0, 204, B_NONE, NULL, NULL, NULL, 0, 0, 0,
     {{"Allow", ALLOW}, {"Content-Length", NULL}}},
    {"options_bad_path", O_NOHEAD, "OPTIONS", "/a%zz", "", 0, 400, B_INLINE, NULL, NULL, NULL, 0, 0,
     0, {{"Allow", NULL}}},
    {"options_no_preflight_without_cors", O_NOHEAD, "OPTIONS", "/a.txt",
     "Origin: http://x\r\nAccess-Control-Request-Method: GET\r\n", 0, 204, B_NONE, NULL, NULL, NULL,
     0, 0, 0, {{"Access-Control-Allow-Methods", NULL}, {"Access-Control-Max-Age", NULL}}},
    {"cors_preflight", O_NOHEAD | O_CORS, "OPTIONS", "/a.txt",
     "Origin: http://x\r\nAccess-Control-Request-Method: PUT\r\n"
     "Access-Control-Request-Headers: X-A,  x-b\r\n",
     0, 204, B_NONE, NULL, NULL, NULL, 0, 0, 0,
     {{"Allow", ALLOW}, {"Access-Control-Allow-Origin", "*"},
      {"Access-Control-Allow-Methods", ALLOW}, {"Access-Control-Allow-Headers", "X-A, x-b"},
      {"Access-Control-Max-Age", "86400"}, {"Content-Length", NULL}}},
    {"cors_preflight_bad_header_list", O_NOHEAD | O_CORS, "OPTIONS", "*",
     "Access-Control-Request-Method: GET\r\nAccess-Control-Request-Headers: X-A, b@d\r\n", 0, 204,
     B_NONE, NULL, NULL, NULL, 0, 0, 0, {{"Access-Control-Allow-Methods", ALLOW},
     {"Access-Control-Allow-Headers", NULL}, {"Access-Control-Max-Age", "86400"}}},

    /* ---- listings ---- */
    {"listing_html", O_LISTING | O_NOCACHE, "GET", "/dir/", "", 0, 200, B_FILE, NULL, NULL,
     "one.txt", 0, 0, 0, {{"Content-Type", HTML}, {"Vary", "Accept"}, {"ETag", NULL},
     {"Last-Modified", NULL}}},
    {"listing_json", O_LISTING | O_NOCACHE, "GET", "/dir/", "Accept: application/json\r\n", 0, 200,
     B_FILE, NULL, NULL, "\"two.txt\"", 0, 0, 0, {{"Content-Type", "application/json"},
     {"Vary", "Accept"}}},
    {"listing_cc_is_no_cache", O_LISTING | O_NOCACHE | O_CC, "GET", "/dir/", "", 0, 200, B_FILE,
     NULL, NULL, "two.txt", 0, 0, 0, {{"Vary", "Accept"}}},
    {"listing_root_has_index", O_LISTING, "GET", "/", "", 0, 200, B_FILE, "index.html", NULL, NULL,
     0, 0, 0, {{"Vary", NULL}}},
    {"listing_missing_dir", O_LISTING, "GET", "/nodir/", "", 0, 404, B_INLINE, NULL, NULL, NULL, 0,
     0, 0, {{0}}},

    /* ---- sidecars ---- */
    {"sidecar_gzip", O_PRECOMP, "GET", "/x.css", "Accept-Encoding: gzip, br;q=0\r\n", 0, 200,
     B_FILE, "x.css.gz", "GZDATA", NULL, 0, 0, 0,
     {{"Content-Encoding", "gzip"}, {"Vary", "Accept-Encoding"},
      {"Content-Type", "text/css; charset=utf-8"}, {"Content-Length", "6"}}},
    {"sidecar_not_accepted", O_PRECOMP, "GET", "/x.css", "Accept-Encoding: br\r\n", 0, 200, B_FILE,
     "x.css", "body{}\n", NULL, 0, 0, 0, {{"Content-Encoding", NULL}, {"Vary", "Accept-Encoding"},
     {"Content-Length", "7"}}},
    {"sidecar_off", 0, "GET", "/x.css", "Accept-Encoding: gzip\r\n", 0, 200, B_FILE, "x.css", NULL,
     NULL, 0, 0, 0, {{"Content-Encoding", NULL}, {"Vary", NULL}}},
    {"sidecar_range", O_PRECOMP | O_NOHEAD, "GET", "/x.css",
     "Accept-Encoding: gzip\r\nRange: bytes=0-1\r\n", 0, 206, B_FILE, "x.css.gz", NULL, NULL, 0, 2,
     0, {{"Content-Encoding", "gzip"}, {"Vary", "Accept-Encoding"},
     {"Content-Range", "bytes 0-1/6"}}},

    /* ---- --spa, --clean-urls ---- */
    {"spa_route", O_SPA, "GET", "/some/route", "", 0, 200, B_FILE, "index.html", INDEX, NULL, 0, 0,
     0, {{"Content-Type", HTML}}},
    {"spa_not_for_extension", O_SPA, "GET", "/missing-file.js", "", 0, 404, B_INLINE, NULL, NULL,
     NULL, 0, 0, 0, {{0}}},
    {"spa_existing_file", O_SPA, "GET", "/a.txt", "", 0, 200, B_FILE, "a.txt", NULL, NULL, 0, 0, 0,
     {{0}}},
    {"clean_urls", O_CLEAN, "GET", "/about", "", 0, 200, B_FILE, "about.html", "<p>about</p>\n",
     NULL, 0, 0, 0, {{"Content-Type", HTML}}},
    {"clean_urls_missing", O_CLEAN, "GET", "/nothing-here", "", 0, 404, B_INLINE, NULL, NULL, NULL,
     0, 0, 0, {{0}}},
    {"clean_urls_then_spa", O_CLEAN | O_SPA, "GET", "/nothing-here", "", 0, 200, B_FILE,
     "index.html", NULL, NULL, 0, 0, 0, {{0}}},
    /* (--dev would suggest about.html: see dev_suggest_html) */
    {"clean_urls_off", O_NODEV, "GET", "/about", "", 0, 404, B_INLINE, NULL, NULL, NULL, 0, 0, 0,
     {{0}}},

    /* ---- --dev 404 suggestions ---- */
    {"dev_suggest_typo", O_DEV | O_NODEV | O_NOCACHE, "GET", "/a.tx", "", 0, 404, B_MEM, NULL, NULL,
     "<p class=\"shs-suggestion\">Did you mean <a href=\"/a.txt\">/a.txt</a>?</p>", 0, 0, 0,
     {{"Content-Type", HTML}}},
    {"dev_suggest_html", O_DEV | O_NODEV | O_NOCACHE, "GET", "/about", "", 0, 404, B_MEM, NULL,
     NULL, "<a href=\"/about.html\">/about.html</a>", 0, 0, 0, {{0}}},
    {"dev_suggest_case", O_DEV | O_NODEV | O_NOCACHE, "GET", "/APP.JS", "", 0, 404, B_MEM, NULL,
     NULL, "<a href=\"/app.js\">", 0, 0, 0, {{0}}},
    {"dev_suggest_in_custom_404", O_DEV | O_NODEV | O_NOCACHE | O_ROOT2, "GET", "/a.tx", "", 0, 404,
     B_MEM, NULL,
     "<html><body>custom 404<p class=\"shs-suggestion\">Did you mean <a "
     "href=\"/a.txt\">/a.txt</a>?</p>\n</body></html>\n",
     NULL, 0, 0, 0, {{"Content-Type", HTML}}},
    {"dev_suggest_cc", O_DEV | O_NODEV | O_NOCACHE | O_CC, "GET", "/a.tx", "", 0, 404, B_MEM, NULL,
     NULL, "Did you mean", 0, 0, 0, {{0}}},
    {"dev_no_suggestion", O_DEV | O_NODEV, "GET", "/missing-file.txt", "", 0, 404, B_INLINE, NULL,
     NULL, "<h1>404 Not Found</h1>", 0, 0, 0, {{0}}},
    {"dev_no_suggestion_custom", O_DEV | O_NODEV | O_ROOT2, "GET", "/missing-file.txt", "", 0, 404,
     B_FILE, "404.html", CUSTOM404, NULL, 0, 0, 0, {{0}}},

    /* ---- --live ---- */
    {"live_events", O_LIVE | O_NODEV | O_NOCACHE | O_CLOSES, "GET", "/" LIVE_EVENTS_PATH, "", 0,
     200, B_SSE, NULL, "retry: 1000\n: simple-http-server live reload\n\n", NULL, 0, 0, 0,
     {{"Content-Type", "text/event-stream"}, {"Content-Length", NULL}}},
    {"live_events_full", O_LIVE | O_NODEV | O_NOHEAD | O_STREAMS_FULL | O_CLOSES, "GET",
     "/" LIVE_EVENTS_PATH, "", 0, 503, B_INLINE, NULL, NULL, "<h1>503 Service Unavailable</h1>", 0,
     0, 0, {{"Retry-After", "1"}}},
    {"live_events_head_when_full",
     O_LIVE | O_NODEV | O_NOHEAD | O_STREAMS_FULL | O_NOCACHE | O_CLOSES, "HEAD",
     "/" LIVE_EVENTS_PATH, "", 0, 200, B_NONE, NULL, NULL, NULL, 0, 0, 0,
     {{"Content-Type", "text/event-stream"}}},
    {"live_events_path_without_live", 0, "GET", "/" LIVE_EVENTS_PATH, "", 0, 404, B_INLINE, NULL,
     NULL, NULL, 0, 0, 0, {{0}}},
    {"live_page", O_LIVE | O_NODEV | O_NOCACHE, "GET", "/index.html", "", 0, 200, B_MEM, NULL, NULL,
     "new EventSource('/" LIVE_EVENTS_PATH "')", 0, 0, 0, {{"Content-Type", HTML}, {"ETag", "*"},
     {"Accept-Ranges", NULL}}},
    {"live_page_cc", O_LIVE | O_NODEV | O_NOCACHE | O_CC, "GET", "/", "", 0, 200, B_MEM, NULL, NULL,
     "EventSource", 0, 0, 0, {{0}}},
    {"live_page_304", O_LIVE | O_NODEV | O_NOCACHE, "GET", "/index.html",
     "If-None-Match: @ETAG@\r\n", 0, 304, B_NONE, NULL, NULL, NULL, 0, 0, 0, {{"ETag", "*"},
     {"Content-Length", NULL}}},
    {"live_page_no_range", O_LIVE | O_NODEV | O_NOCACHE, "GET", "/index.html",
     "Range: bytes=0-1\r\n", 0, 200, B_MEM, NULL, NULL, "EventSource", 0, 0, 0,
     {{"Content-Range", NULL}}},
    {"live_page_budget_full", O_LIVE | O_NODEV | O_PAGES_FULL, "GET", "/index.html", "", 0, 503,
     B_INLINE, NULL, NULL, "<h1>503 Service Unavailable</h1>", 0, 0, 0, {{"Retry-After", "1"}}},
    {"live_not_html", O_LIVE | O_NODEV, "GET", "/a.txt", "", 0, 200, B_FILE, "a.txt", NULL, NULL, 0,
     0, 0, {{"Content-Length", "8"}}},
    {"live_spa_page", O_LIVE | O_NODEV | O_NOCACHE | O_SPA, "GET", "/route", "", 0, 200, B_MEM,
     NULL, NULL, "EventSource", 0, 0, 0, {{0}}},
};
/* clang-format on */

/* One test case: a row, run as written, as HEAD, and/or with --dev. */
enum { V_HEAD = 1, V_DEV = 2 };
static struct {
	unsigned row, variant;
} cases[NELEM(rows) * 4];
static unsigned ncases;

/* ---- the fixture: two top dirs and a site ---- */

static char *base;
static char top[PATH_MAX], top2[PATH_MAX];
static int rootfd = -1, rootfd2 = -1;
static struct server_config cfg;
static struct cache cache;
static struct live_state live;
static unsigned streams;
static struct site site;
static char prefix[512];
static unsigned long checks; /* assertions made (SHS_COUNT_CHECKS=1 CK_FORK=no prints them) */

#define CHECK(cond, ...)                                                                           \
	do {                                                                                       \
		checks++;                                                                          \
		ck_assert_msg((cond), __VA_ARGS__);                                                \
	} while (0)

static int fds_before;

static int
count_fds(void)
{
	int n = 0;
	DIR *d = opendir("/proc/self/fd");
	ck_assert_ptr_nonnull(d);
	while (readdir(d))
		n++;
	closedir(d);
	return n;
}

static void
setup(void)
{
	fds_before = count_fds();
	base = h_mkdtemp();
	snprintf(top, sizeof top, "%s/top", base);
	snprintf(top2, sizeof top2, "%s/top2", base);
	h_write_str(top, "index.html", INDEX);
	h_write_str(top, "a.txt", A_TXT);
	h_write_str(top, "app.js", "console.log(1);\n");
	h_write_str(top, "about.html", "<p>about</p>\n");
	h_write_pattern(top, "big.bin", BIG_SIZE);
	h_set_mtime(top, "big.bin", H_MTIME, 0);
	h_write_str(top, "dir/one.txt", "1\n");
	h_write_str(top, "dir/two.txt", "2\n");
	h_write_str(top, "dir/.secret", "s\n");
	h_write_str(top, "dir2/index.html", "<p>dir2</p>\n");
	h_mkdir(top, "sp ace");
	h_write_str(top, ".hidden", "secret\n");
	h_write_str(top, "x.css", "body{}\n");
	h_write_str(top, "x.css.gz", "GZDATA");
	h_mkfifo(top, "fifo");
	h_write_str(base, "outside.txt", "outside\n");
	h_symlink(top, "out.txt", "../outside.txt");
	h_symlink(top, "abs.txt", "/etc/hostname");
	h_write_str(top2, "404.html", CUSTOM404);
	h_write_str(top2, "a.txt", A_TXT);
	h_mkdir(top2, "d");

	rootfd = open(top, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	rootfd2 = open(top2, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	ck_assert_int_ge(rootfd, 0);
	ck_assert_int_ge(rootfd2, 0);
	memset(&live, 0, sizeof live); /* live.on = 0: no watcher, pages only */
	streams = 0;
	cache.max_bytes = 0; /* not yet initialised */
	log_set_level(LOG_LEVEL_ERROR);
}

static void
teardown(void)
{
	cache_free(&cache);
	memset(&cache, 0, sizeof cache);
	for (size_t i = 0; i < LIVE_PAGES_MAX; i++)
		if (live.pages[i].entry)
			cache_unref(live.pages[i].entry);
	memset(&live, 0, sizeof live);
	if (rootfd >= 0)
		close(rootfd);
	if (rootfd2 >= 0)
		close(rootfd2);
	rootfd = rootfd2 = -1;
	/* every reply_release closed its file; the cache its inotify fd */
	ck_assert_int_eq(count_fds(), fds_before);
	h_rmtree(base);
	free(base);
	base = NULL;
	if (getenv("SHS_COUNT_CHECKS"))
		fprintf(stderr, "responders: %lu checks so far\n", checks);
}

/* The site for a row's options; the cache is initialised once per test. */
static void
make_site(unsigned opts)
{
	memset(&cfg, 0, sizeof cfg);
	cfg.top_dir = opts & O_ROOT2 ? top2 : top;
	cfg.max_conns = 100;
	cfg.dev = (opts & (O_DEV | O_LIVE)) != 0;
	cfg.live = (opts & O_LIVE) != 0;
	cfg.listing = (opts & O_LISTING) != 0;
	cfg.cors = (opts & O_CORS) != 0;
	cfg.spa = (opts & O_SPA) != 0;
	cfg.clean_urls = (opts & O_CLEAN) != 0;
	cfg.precompressed = (opts & O_PRECOMP) != 0;
	cfg.dotfiles = (opts & O_DOTFILES) != 0;
	cfg.cache_control = opts & O_CC ? CC_VALUE : NULL;
	cfg.extra_headers = opts & O_HDR ? "X-T: 1\r\n" : NULL;
	cfg.cache_bytes = opts & O_CACHE ? 1 << 20 : 0;
	cfg.cache_max_file = 64 * 1024;
	int fd = opts & O_ROOT2 ? rootfd2 : rootfd;
	if (cache.max_bytes == 0 && cache.buckets == NULL)
		ck_assert_int_eq(cache_init(&cache, cfg.cache_bytes, cfg.cache_max_file, NULL), 0);

	/* A fixed prefix: what reply_format_prefix makes, with a fixed
	 * Server and Date (the prefix_matches_format test checks the shape). */
	snprintf(prefix, sizeof prefix, "Server: t\r\nDate: d\r\n%s%s",
	         cfg.cors ? "Access-Control-Allow-Origin: *\r\n" : "",
	         cfg.extra_headers ? cfg.extra_headers : "");
	site = (struct site){
	    .cfg = &cfg,
	    .rootfd = fd,
	    .cache = &cache,
	    .live = cfg.live ? &live : NULL,
	    .streams_open = &streams,
	    .streams_max = 2,
	    .now_ms = 1000,
	    .head_prefix = prefix,
	    .head_prefix_len = strlen(prefix),
	    .boundary = "BOUNDARY",
	};
	streams = opts & O_STREAMS_FULL ? 2 : 0;
	if (opts & O_PAGES_FULL)
		live.page_bytes = LIVE_PAGE_BYTES_MAX;
}

/* ---- reading a planned reply ---- */

/* The value of the only `name` header in the head, or NULL; *count says how
 * many there are. */
static const char *
find_header(const char *head, size_t len, const char *name, size_t *vlen, unsigned *count)
{
	const char *found = NULL;
	*count = 0;
	const char *p = memchr(head, '\n', len);
	size_t nl = strlen(name);
	while (p && (size_t)(p + 1 - head) < len) {
		const char *line = p + 1;
		const char *end = memchr(line, '\n', len - (size_t)(line - head));
		if (!end)
			break;
		if ((size_t)(end - line) > nl && strncasecmp(line, name, nl) == 0 &&
		    line[nl] == ':') {
			const char *v = line + nl + 1;
			while (*v == ' ')
				v++;
			if (!found) {
				found = v;
				*vlen = (size_t)(end - v) - (end[-1] == '\r');
			}
			(*count)++;
		}
		p = end;
	}
	return found;
}

static void
expect_header(const struct reply *r, const char *name, const char *want, const char *ctx)
{
	size_t vlen = 0;
	unsigned count;
	const char *v = find_header(r->buf, r->head_len, name, &vlen, &count);
	if (!want) {
		CHECK(count == 0, "%s: %s: header present (\"%.*s\"), want none", ctx, name,
		      (int)vlen, v ? v : "");
		return;
	}
	CHECK(count == 1, "%s: %s: %u headers, want 1\n%.*s", ctx, name, count, (int)r->head_len,
	      r->buf);
	if (strcmp(want, "*") != 0)
		CHECK(vlen == strlen(want) && memcmp(v, want, vlen) == 0,
		      "%s: %s: \"%.*s\", want \"%s\"", ctx, name, (int)vlen, v, want);
}

/* The body as conn.c sends it: bytes after the head, the cached body, the
 * file range, then each next multipart part. Returns a malloc'd buffer. */
static char *
assemble_body(const struct site *s, struct reply *r, size_t *len)
{
	size_t cap = 4096, n = 0;
	char *out = malloc(cap);
	ck_assert_ptr_nonnull(out);
#define APPEND(p, k)                                                                               \
	do {                                                                                       \
		size_t k_ = (k);                                                                   \
		while (n + k_ + 1 > cap)                                                           \
			out = realloc(out, cap *= 2);                                              \
		ck_assert_ptr_nonnull(out);                                                        \
		memcpy(out + n, (p), k_);                                                          \
		n += k_;                                                                           \
	} while (0)
	APPEND(r->buf + r->head_len, r->len - r->head_len);
	if (r->mem_len)
		APPEND(r->mem, r->mem_len);
	for (;;) {
		if (r->fd >= 0 && r->end > r->off) {
			size_t k = (size_t)(r->end - r->off);
			char *tmp = malloc(k);
			ck_assert_ptr_nonnull(tmp);
			ssize_t got = pread(r->fd, tmp, k, r->off);
			CHECK(got == (ssize_t)k, "pread [%lld, %lld): %zd", (long long)r->off,
			      (long long)r->end, got);
			APPEND(tmp, k);
			free(tmp);
		}
		if (!byteranges_next_part(s, r))
			break;
		APPEND(r->buf, r->len);
	}
#undef APPEND
	out[n] = '\0';
	*len = n;
	return out;
}

/* Builds the request of a row; "@ETAG@" in hdrs becomes etag. */
static size_t
build_request(char *dst, size_t cap, const struct row *w, const char *method, const char *etag)
{
	char target[6000];
	if (strcmp(w->target, "@LONG@") == 0) {
		target[0] = '/';
		memset(target + 1, 'a', 5000);
		target[5001] = '\0';
	} else if (strcmp(w->target, "@SEG300@") == 0) {
		memcpy(target, "/dir/", 5);
		memset(target + 5, 'b', 300);
		target[305] = '\0';
	} else {
		snprintf(target, sizeof target, "%s", w->target);
	}
	char hdrs[1024];
	const char *at = strstr(w->hdrs, "@ETAG@");
	if (at)
		snprintf(hdrs, sizeof hdrs, "%.*s%s%s", (int)(at - w->hdrs), w->hdrs, etag, at + 6);
	else
		snprintf(hdrs, sizeof hdrs, "%s", w->hdrs);
	int n = snprintf(dst, cap, "%s %s HTTP/1.%d\r\nHost: t\r\n%s\r\n", method, target,
	                 w->http10 ? 0 : 1, hdrs);
	ck_assert(n > 0 && (size_t)n < cap);
	return (size_t)n;
}

/* Parses req and plans the reply with the flags conn.c's start_response
 * gives it. */
static void
run(const char *req, size_t len, struct reply *r, char *buf, size_t cap, int *keep_alive)
{
	static struct http_request hr;
	ck_assert_int_eq(http_parse_request(req, len, &hr), HTTP_PARSE_OK);
	*keep_alive = !hr.conn_close && (hr.version_minor >= 1 || hr.conn_keep_alive);
	reply_init(r, buf, cap, *keep_alive, hr.version_minor == 0, hr.method == HTTP_METHOD_HEAD);
	serve_request(&site, &hr, r);
}

/* The ETag of a 200 for the row's target (a prior GET). */
static void
fetch_etag(const struct row *w, char *etag, size_t cap)
{
	char req[8192], buf[SHS_OUT_MAX];
	struct reply r;
	int ka;
	struct row plain = *w;
	plain.hdrs = "";
	size_t n = build_request(req, sizeof req, &plain, "GET", "");
	run(req, n, &r, buf, sizeof buf, &ka);
	ck_assert_int_eq(r.status, 200);
	size_t vlen;
	unsigned count;
	const char *v = find_header(r.buf, r.head_len, "ETag", &vlen, &count);
	ck_assert_ptr_nonnull(v);
	ck_assert_uint_lt(vlen, cap);
	memcpy(etag, v, vlen);
	etag[vlen] = '\0';
	reply_release(&r);
}

static int
close_after(int status)
{
	/* the malformed-request statuses (response.h): independent of the table */
	return status == 400 || status == 414 || status == 431 || status == 505;
}

static const char *
expected_cache_control(unsigned opts, int status)
{
	if (opts & O_NOCACHE)
		return "no-cache";
	if ((status == 200 || status == 206 || status == 304) && (opts & O_CC))
		return CC_VALUE;
	if (opts & (O_DEV | O_LIVE))
		return "no-cache";
	return NULL;
}

static void
check_source(const struct reply *r, enum body kind, const char *ctx)
{
	switch (kind) {
	case B_NONE:
		CHECK(r->len == r->head_len && r->fd == -1 && r->mem_len == 0 && r->entry == NULL &&
		          r->nranges == 0 && !r->sse,
		      "%s: want no body: len %zu head %zu fd %d mem %zu ranges %u sse %d", ctx,
		      r->len, r->head_len, r->fd, r->mem_len, r->nranges, r->sse);
		break;
	case B_INLINE:
		CHECK(r->len > r->head_len && r->fd == -1 && r->mem_len == 0 && r->nranges == 0 &&
		          !r->sse,
		      "%s: want a built-in body: len %zu head %zu fd %d mem %zu", ctx, r->len,
		      r->head_len, r->fd, r->mem_len);
		break;
	case B_MEM:
		CHECK(r->len == r->head_len && r->fd == -1 && r->mem_len > 0 && r->entry != NULL &&
		          r->mem != NULL && r->nranges == 0 && !r->sse,
		      "%s: want a cached body: len %zu head %zu fd %d mem %zu", ctx, r->len,
		      r->head_len, r->fd, r->mem_len);
		break;
	case B_FILE:
		CHECK(r->len == r->head_len && r->fd >= 0 && r->mem_len == 0 && r->nranges == 0 &&
		          !r->sse && r->end > r->off,
		      "%s: want a file body: len %zu head %zu fd %d mem %zu [%lld, %lld)", ctx,
		      r->len, r->head_len, r->fd, r->mem_len, (long long)r->off, (long long)r->end);
		break;
	case B_MULTI:
		CHECK(r->len > r->head_len && r->fd >= 0 && r->mem_len == 0 && r->nranges > 1 &&
		          r->range_idx == 0 && !r->sse,
		      "%s: want multipart: len %zu head %zu fd %d ranges %u", ctx, r->len,
		      r->head_len, r->fd, r->nranges);
		break;
	case B_SSE:
		CHECK(r->sse && r->len > r->head_len && r->fd == -1 && r->mem_len == 0,
		      "%s: want an event stream: sse %d len %zu head %zu", ctx, r->sse, r->len,
		      r->head_len);
		break;
	}
}

START_TEST(respond)
{
	const struct row *w = &rows[cases[_i].row];
	unsigned variant = cases[_i].variant;
	unsigned opts = w->opts | (variant & V_DEV ? O_DEV : 0);
	int head = (variant & V_HEAD) || strcmp(w->method, "HEAD") == 0;
	char ctx[160];
	snprintf(ctx, sizeof ctx, "%s%s%s", w->name, variant & V_HEAD ? " (HEAD)" : "",
	         variant & V_DEV ? " (--dev)" : "");
	make_site(opts);

	char etag[COND_ETAG_MAX + 1] = "";
	if (strstr(w->hdrs, "@ETAG@"))
		fetch_etag(w, etag, sizeof etag);

	static char req[8192];
	static char buf[SHS_OUT_MAX], gbuf[SHS_OUT_MAX];
	struct reply r;
	int ka;
	size_t n;

	/* The GET's head, to compare the HEAD's with. */
	size_t ghead_len = 0;
	if (variant & V_HEAD) {
		n = build_request(req, sizeof req, w, w->method, etag);
		run(req, n, &r, gbuf, sizeof gbuf, &ka);
		ghead_len = r.head_len;
		reply_release(&r);
		if (opts & O_LIVE)
			streams = opts & O_STREAMS_FULL ? 2 : 0;
	}
	n = build_request(req, sizeof req, w, variant & V_HEAD ? "HEAD" : w->method, etag);
	run(req, n, &r, buf, sizeof buf, &ka);
	if (opts & O_REPEAT) {
		static char first[SHS_OUT_MAX];
		size_t flen = r.head_len;
		memcpy(first, r.buf, flen);
		reply_release(&r);
		run(req, n, &r, buf, sizeof buf, &ka);
		CHECK(r.head_len == flen && memcmp(first, r.buf, flen) == 0,
		      "%s: the repeated request's head differs:\n%.*s\nthen\n%.*s", ctx, (int)flen,
		      first, (int)r.head_len, r.buf);
	}

	/* status line, the prefix right after it, the blank line */
	CHECK(r.status == w->status, "%s: status %d, want %d\n%.*s", ctx, r.status, w->status,
	      (int)r.head_len, r.buf);
	char line[128];
	int ll = snprintf(line, sizeof line, "HTTP/1.1 %d %s\r\n%s", w->status,
	                  resp_reason(w->status), prefix);
	CHECK(r.head_len >= (size_t)ll && memcmp(r.buf, line, (size_t)ll) == 0,
	      "%s: head does not start with\n%s\n%.*s", ctx, line, (int)r.head_len, r.buf);
	CHECK(r.head_len >= 4 && memcmp(r.buf + r.head_len - 4, "\r\n\r\n", 4) == 0 &&
	          memmem(r.buf, r.head_len, "\r\n\r\n", 4) == r.buf + r.head_len - 4,
	      "%s: head_len %zu is not the end of the head", ctx, r.head_len);
	CHECK(r.len <= r.cap, "%s: len %zu > cap", ctx, r.len);

	/* the listed headers */
	for (size_t i = 0; i < NELEM(w->hx) && w->hx[i].name; i++)
		expect_header(&r, w->hx[i].name, w->hx[i].value, ctx);

	/* Connection, keep_alive */
	int ka_after = ka && !close_after(w->status) && !(opts & O_CLOSES);
	CHECK(r.keep_alive == ka_after, "%s: keep_alive %d, want %d", ctx, r.keep_alive, ka_after);
	expect_header(&r, "Connection", !ka_after ? "close" : w->http10 ? "keep-alive" : NULL, ctx);

	/* Cache-Control: the one rule */
	expect_header(&r, "Cache-Control", expected_cache_control(opts, w->status), ctx);

	/* the body source */
	check_source(&r, head ? B_NONE : w->body, ctx);
	if (w->body == B_FILE && !head) {
		long long end = w->end;
		if (end == 0) {
			struct stat st;
			ck_assert_int_eq(fstat(r.fd, &st), 0);
			end = st.st_size;
		}
		CHECK(r.off == w->off && r.end == end,
		      "%s: file range [%lld, %lld), want [%lld, %lld)", ctx, (long long)r.off,
		      (long long)r.end, w->off, end);
	}
	if (w->body == B_MULTI && !head)
		CHECK(r.nranges == w->nranges && r.off == w->off && r.end == w->end,
		      "%s: %u ranges from [%lld, %lld)", ctx, r.nranges, (long long)r.off,
		      (long long)r.end);
	if (head) {
		CHECK(ghead_len == 0 ||
		          (r.head_len == ghead_len && memcmp(gbuf, r.buf, ghead_len) == 0),
		      "%s: HEAD's head differs from GET's:\n%.*s\nGET:\n%.*s", ctx, (int)r.head_len,
		      r.buf, (int)ghead_len, gbuf);
		CHECK(!r.sse, "%s: HEAD opened an event stream", ctx);
		CHECK(streams == (opts & O_STREAMS_FULL ? 2u : 0u), "%s: streams %u", ctx, streams);
	}
	if (w->body == B_SSE && !head)
		CHECK(streams == 1, "%s: streams_open %u, want 1", ctx, streams);

	/* the body bytes and Content-Length */
	size_t blen;
	char *body = assemble_body(&site, &r, &blen);
	size_t vlen;
	unsigned count;
	const char *cl = find_header(r.buf, r.head_len, "Content-Length", &vlen, &count);
	if (head) {
		CHECK(blen == 0, "%s: HEAD sends %zu body bytes", ctx, blen);
	} else if (w->body == B_NONE || w->body == B_SSE) {
		CHECK(count == 0, "%s: Content-Length on a %d without a body", ctx, w->status);
		if (w->body == B_NONE)
			CHECK(blen == 0, "%s: %zu body bytes", ctx, blen);
	} else {
		char want[32];
		snprintf(want, sizeof want, "%zu", blen);
		CHECK(count == 1 && vlen == strlen(want) && memcmp(cl, want, vlen) == 0,
		      "%s: Content-Length \"%.*s\" for %zu body bytes", ctx, (int)vlen,
		      cl ? cl : "", blen);
	}
	if (!head && w->file) {
		size_t flen;
		unsigned char *f = h_slurp(opts & O_ROOT2 ? top2 : top, w->file, &flen);
		size_t from = (size_t)w->off, to = w->end ? (size_t)w->end : flen;
		CHECK(blen == to - from && memcmp(body, f + from, blen) == 0,
		      "%s: body is not %s [%zu, %zu) (%zu bytes)", ctx, w->file, from, to, blen);
		free(f);
	}
	if (!head && w->text)
		CHECK(blen == strlen(w->text) && memcmp(body, w->text, blen) == 0,
		      "%s: body\n%.*s\nwant\n%s", ctx, (int)blen, body, w->text);
	if (!head && w->contains)
		CHECK(memmem(body, blen, w->contains, strlen(w->contains)) != NULL,
		      "%s: body does not contain %s:\n%.*s", ctx, w->contains, (int)blen, body);
	free(body);
	reply_release(&r);
	CHECK(r.fd == -1 && r.entry == NULL && r.mem_len == 0, "%s: reply_release left something",
	      ctx);
}
END_TEST

/* ---- reply_error over response.c's status table ---- */

/* Statuses that never carry content (RFC 9110 6.4.1, 15.3.5, 15.4.5). */
static int
no_content(int code)
{
	return code < 200 || code == 204 || code == 304;
}

START_TEST(error_table)
{
	unsigned idx = (unsigned)_i / 4;
	int head = _i & 1, dev = (_i & 2) != 0;
	int code = resp_statuses[idx].code;
	char ctx[64];
	snprintf(ctx, sizeof ctx, "reply_error(%d)%s%s", code, head ? " HEAD" : "",
	         dev ? " --dev" : "");
	make_site(dev ? O_DEV : 0);

	char buf[SHS_OUT_MAX];
	struct reply r, g;
	char gbuf[SHS_OUT_MAX];
	reply_init(&g, gbuf, sizeof gbuf, 1, 0, 0);
	reply_error(&site, &g, code);
	reply_init(&r, buf, sizeof buf, 1, 0, head);
	reply_error(&site, &r, code);

	CHECK(r.status == code, "%s: status %d", ctx, r.status);
	char line[160];
	int ll = snprintf(line, sizeof line, "HTTP/1.1 %d %s\r\n%s", code,
	                  resp_statuses[idx].reason, prefix);
	CHECK(memcmp(r.buf, line, (size_t)ll) == 0, "%s: head starts\n%.*s", ctx, (int)r.head_len,
	      r.buf);
	CHECK(close_after(code) == resp_statuses[idx].close_after,
	      "%s: the table's close_after is %d", ctx, resp_statuses[idx].close_after);
	CHECK(r.keep_alive == !close_after(code), "%s: keep_alive %d", ctx, r.keep_alive);
	expect_header(&r, "Connection", close_after(code) ? "close" : NULL, ctx);
	expect_header(&r, "Cache-Control", dev ? "no-cache" : NULL, ctx);
	expect_header(&r, "Allow", code == 405 ? ALLOW : NULL, ctx);
	expect_header(&r, "Content-Type", no_content(code) ? NULL : HTML, ctx);
	CHECK(r.fd == -1 && r.mem_len == 0 && !r.sse && r.nranges == 0, "%s: a body source", ctx);
	CHECK(r.head_len == g.head_len && memcmp(r.buf, g.buf, r.head_len) == 0,
	      "%s: HEAD's head differs from GET's", ctx);

	if (head)
		CHECK(r.len == r.head_len, "%s: HEAD sends %zu body bytes", ctx,
		      r.len - r.head_len);
	else
		CHECK(r.len == g.len && memcmp(r.buf, g.buf, r.len) == 0, "%s: two GETs differ",
		      ctx);
	if (no_content(code)) {
		/* see error_table_no_content */
		reply_release(&g);
		reply_release(&r);
		return;
	}

	/* the built-in body after the head, as long as Content-Length says */
	char want[512];
	struct resp_buf bb;
	resp_init(&bb, want, sizeof want);
	resp_builtin_body(&bb, code);
	ck_assert(!bb.overflow);
	size_t vlen;
	unsigned count;
	const char *cl = find_header(g.buf, g.head_len, "Content-Length", &vlen, &count);
	char n[32];
	snprintf(n, sizeof n, "%zu", g.len - g.head_len);
	CHECK(count == 1 && vlen == strlen(n) && memcmp(cl, n, vlen) == 0,
	      "%s: Content-Length %.*s for a %zu-byte body", ctx, (int)vlen, cl ? cl : "",
	      g.len - g.head_len);
	CHECK(g.len - g.head_len == bb.len && memcmp(g.buf + g.head_len, want, bb.len) == 0,
	      "%s: GET body is not the built-in page", ctx);
	reply_release(&g);
	reply_release(&r);
}
END_TEST

/* The statuses that never carry content get no body and no Content-Length
 * from reply_error either (RFC 9110 8.6). */
START_TEST(error_table_no_content)
{
	static const int codes[] = {100, 204, 304};
	make_site(0);
	char buf[SHS_OUT_MAX];
	struct reply r;
	reply_init(&r, buf, sizeof buf, 1, 0, 0);
	reply_error(&site, &r, codes[_i]);
	CHECK(no_content(codes[_i]), "table");
	CHECK(r.len == r.head_len, "reply_error(%d) writes %zu body bytes", codes[_i],
	      r.len - r.head_len);
	size_t vlen;
	unsigned count;
	find_header(r.buf, r.head_len, "Content-Length", &vlen, &count);
	CHECK(count == 0, "reply_error(%d) sends Content-Length", codes[_i]);
	reply_release(&r);
}
END_TEST

/* The fixed prefix of make_site is what reply_format_prefix writes. */
START_TEST(prefix_matches_format)
{
	make_site(O_CORS | O_HDR);
	char got[512];
	size_t n = reply_format_prefix(&cfg, "d", got, sizeof got);
	const char *want = "Server: " SHS_NAME "/" SHS_VERSION
	                   "\r\nDate: d\r\nAccess-Control-Allow-Origin: *\r\nX-T: 1\r\n";
	CHECK(n == strlen(want) && memcmp(got, want, n) == 0, "prefix %.*s", (int)n, got);
	CHECK(strcmp(prefix + strlen("Server: t\r\nDate: d\r\n"),
	             want + strlen("Server: " SHS_NAME "/" SHS_VERSION "\r\nDate: d\r\n")) == 0,
	      "make_site's prefix %s", prefix);
}
END_TEST

/* --live event streams: each GET takes one of streams_max; past it 503. */
START_TEST(events_count)
{
	make_site(O_LIVE);
	char buf[SHS_OUT_MAX];
	struct reply r;
	for (unsigned i = 0; i < 3; i++) {
		reply_init(&r, buf, sizeof buf, 1, 0, 0);
		live_respond_events(&site, &r);
		CHECK(r.status == (i < 2 ? 200 : 503), "stream %u: %d", i, r.status);
		CHECK(r.sse == (i < 2), "stream %u: sse %d", i, r.sse);
		CHECK(!r.keep_alive, "stream %u keeps the connection", i);
		reply_release(&r);
	}
	CHECK(streams == 2, "streams_open %u", streams);
}
END_TEST

Suite *
responders_suite(void)
{
	Suite *s = suite_create("responders");
	ncases = 0;
	for (unsigned i = 0; i < NELEM(rows); i++) {
		unsigned o = rows[i].opts;
		int is_head = strcmp(rows[i].method, "HEAD") == 0;
		for (unsigned v = 0; v < 4; v++) {
			if ((v & V_HEAD) && (o & O_NOHEAD || is_head))
				continue;
			if ((v & V_DEV) && (o & (O_NODEV | O_DEV | O_LIVE)))
				continue;
			cases[ncases].row = i;
			cases[ncases].variant = v;
			ncases++;
		}
	}
	TCase *tc = tcase_create("rows");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_loop_test(tc, respond, 0, (int)ncases);
	tcase_add_loop_test(tc, error_table, 0, RESP_STATUS_COUNT * 4);
	tcase_add_test(tc, prefix_matches_format);
	tcase_add_test(tc, events_count);
	tcase_add_loop_test(tc, error_table_no_content, 0, 3);
	suite_add_tcase(s, tc);
	return s;
}
