/* check_mime.c - extension to Content-Type.
 *
 * Every name is passed by length three ways: followed by other characters
 * (a lookup that runs to the NUL would see a different extension), ending at
 * a PROT_NONE page with no NUL at all, and as a plain C string. */
#include <string.h>

#include "guard.h"
#include "mime.h"
#include "suites.h"

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

#define OCTET "application/octet-stream"

static const struct mime_case {
	const char *name;
	const char *type;
} mime_cases[] = {
    {"index.html", "text/html; charset=utf-8"},
    {"page.htm", "text/html; charset=utf-8"},
    {"style.css", "text/css; charset=utf-8"},
    {"app.js", "text/javascript; charset=utf-8"},
    {"mod.mjs", "text/javascript; charset=utf-8"},
    {"data.json", "application/json"},
    {"app.js.map", "application/json"},
    {"prog.wasm", "application/wasm"},
    {"logo.svg", "image/svg+xml"},
    {"a.png", "image/png"},
    {"a.jpg", "image/jpeg"},
    {"a.jpeg", "image/jpeg"},
    {"a.gif", "image/gif"},
    {"a.webp", "image/webp"},
    {"a.avif", "image/avif"},
    {"favicon.ico", "image/x-icon"},
    {"f.woff", "font/woff"},
    {"f.woff2", "font/woff2"},
    {"f.ttf", "font/ttf"},
    {"f.otf", "font/otf"},
    {"readme.txt", "text/plain; charset=utf-8"},
    {"README.md", "text/markdown; charset=utf-8"},
    {"feed.xml", "application/xml"},
    {"doc.pdf", "application/pdf"},
    {"movie.mp4", "video/mp4"},
    {"movie.webm", "video/webm"},
    {"song.mp3", "audio/mpeg"},
    {"song.ogg", "audio/ogg"},
    {"sound.wav", "audio/wav"},
    {"site.webmanifest", "application/manifest+json"},
    /* case-insensitive */
    {"INDEX.HTML", "text/html; charset=utf-8"},
    {"x.Html", "text/html; charset=utf-8"},
    {"PHOTO.JPG", "image/jpeg"},
    {"F.WOFF2", "font/woff2"},
    /* paths: only the file name's last extension counts */
    {"dir/sub/style.css", "text/css; charset=utf-8"},
    {"a.tar.gz", "application/gzip"},
    {"x.html.bak", OCTET},
    {"dir.d/file", OCTET},
    {"dir.html/file", OCTET},
    {"dir.html/", OCTET},
    /* no usable extension */
    {"Makefile", OCTET},
    {"file.", OCTET},
    {"index.html.", OCTET},
    {"", OCTET},
    {".", OCTET},
    /* near misses of known extensions */
    {"x.htmlx", OCTET},
    {"x.h", OCTET},
    {"x.ht", OCTET},
    {"x.woff3", OCTET},
    {"x.j", OCTET},
    {"x.jsx", OCTET},
    {"x.xhtml", OCTET},
    {"xhtml", OCTET},
    {"html", OCTET},
};

START_TEST(test_mime_cstring)
{
	const struct mime_case *c = &mime_cases[_i];
	const char *t = mime_type(c->name, strlen(c->name));
	ck_assert_ptr_nonnull(t);
	ck_assert_msg(strcmp(t, c->type) == 0, "\"%s\": \"%s\", want \"%s\"", c->name, t, c->type);
}
END_TEST

START_TEST(test_mime_followed)
{
	/* "name" + ".html" + "\0": a NUL-based lookup answers for .html */
	const struct mime_case *c = &mime_cases[_i];
	char buf[128];
	size_t n = strlen(c->name);
	memcpy(buf, c->name, n);
	memcpy(buf + n, "x.html", sizeof("x.html"));
	const char *t = mime_type(buf, n);
	ck_assert_ptr_nonnull(t);
	ck_assert_msg(strcmp(t, c->type) == 0, "\"%s\" (followed by x.html): \"%s\", want \"%s\"",
	              c->name, t, c->type);

	/* and followed by a different known extension's tail */
	memcpy(buf + n, "2", 2);
	t = mime_type(buf, n);
	ck_assert_msg(strcmp(t, c->type) == 0, "\"%s\" (followed by 2): \"%s\", want \"%s\"",
	              c->name, t, c->type);
}
END_TEST

START_TEST(test_mime_guarded)
{
	const struct mime_case *c = &mime_cases[_i];
	struct guard g;
	size_t n = strlen(c->name);
	guard_init(&g, n);
	const char *t = mime_type(guard_place(&g, c->name, n), n);
	ck_assert_ptr_nonnull(t);
	ck_assert_msg(strcmp(t, c->type) == 0, "\"%s\" (guarded): \"%s\", want \"%s\"", c->name, t,
	              c->type);
	guard_free(&g);
}
END_TEST

Suite *
mime_suite(void)
{
	Suite *s = suite_create("mime");
	TCase *tc = tcase_create("types");
	tcase_add_loop_test(tc, test_mime_cstring, 0, NELEM(mime_cases));
	tcase_add_loop_test(tc, test_mime_followed, 0, NELEM(mime_cases));
	tcase_add_loop_test(tc, test_mime_guarded, 0, NELEM(mime_cases));
	suite_add_tcase(s, tc);
	return s;
}
