/* check_live.c - unit tests of the pure parts of --live and --dev: where the
 * reload script goes, and the edit distance behind 404 suggestions. */
#include <string.h>

#include "live.h"
#include "suggest.h"
#include "suites.h"

static const struct {
	const char *html;
	const char *before; /* the text the script must precede, "" = at the end */
} inject_cases[] = {
    {"<html><head></head><body><p>x</p></body></html>", "</body></html>"},
    {"<html><HEAD></HEAD><BODY>x</BODY></HTML>", "</BODY></HTML>"},
    {"<head><title>t</title></head><p>no body end", "</head><p>no body end"},
    {"<p>fragment", ""},
    {"", ""},
    /* the last </body> wins: one inside a comment or script comes earlier */
    {"<body><!-- </body> --><p>x</p></body>\n", "</body>\n"},
};

START_TEST(inject_position)
{
	const char *h = inject_cases[_i].html;
	size_t len = strlen(h);
	size_t at = live_inject_at(h, len);
	ck_assert_uint_le(at, len);
	ck_assert_str_eq(h + at, inject_cases[_i].before);
}
END_TEST

START_TEST(script_shape)
{
	ck_assert_uint_eq(live_script_len, strlen(live_script));
	ck_assert_ptr_nonnull(strstr(live_script, "new EventSource('/" LIVE_EVENTS_PATH "')"));
	ck_assert_ptr_nonnull(strstr(live_script, "'reload'"));
	ck_assert_ptr_nonnull(strstr(live_script, "'css'"));
	ck_assert(strncmp(live_script, "<script>", 8) == 0);
}
END_TEST

static const struct {
	const char *a, *b;
	unsigned max, want;
} dist_cases[] = {
    {"about.html", "about.html", 2, 0},
    {"about.html", "ABOUT.HTML", 2, 0}, /* case-insensitive */
    {"abuot.html", "about.html", 2, 2}, /* a swap is two edits */
    {"about.htm", "about.html", 2, 1},
    {"index", "indexes", 2, 2},
    {"index", "indexing", 2, 3}, /* over max: max + 1 */
    {"a", "xyz", 1, 2},
    {"", "ab", 2, 2},
};

START_TEST(distance)
{
	const char *a = dist_cases[_i].a, *b = dist_cases[_i].b;
	ck_assert_uint_eq(suggest_distance(a, strlen(a), b, strlen(b), dist_cases[_i].max),
	                  dist_cases[_i].want);
}
END_TEST

Suite *
live_suite(void)
{
	Suite *s = suite_create("live");
	TCase *tc = tcase_create("pure");
	tcase_add_loop_test(tc, inject_position, 0, sizeof inject_cases / sizeof inject_cases[0]);
	tcase_add_test(tc, script_shape);
	tcase_add_loop_test(tc, distance, 0, sizeof dist_cases / sizeof dist_cases[0]);
	suite_add_tcase(s, tc);
	return s;
}
