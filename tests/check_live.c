/* check_live.c - unit tests of --live and --dev: where the reload script
 * goes, the edit distance behind 404 suggestions, and the inotify watch
 * table (driven in-process on a real directory tree: inotify queues its
 * events during the rename itself, so reading them right after needs no
 * waiting). */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "harness.h"
#include "live.h"
#include "log.h"
#include "server.h"
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

/* ---- the watch table ---- */

static struct {
	char *base;
	char root[PATH_MAX];
	struct server_config cfg;
	struct server srv;
} wx;

static void
watch_setup(void)
{
	log_set_level(LOG_LEVEL_ERROR);
	wx.base = h_mkdtemp();
	snprintf(wx.root, sizeof wx.root, "%s/root", wx.base);
	h_mkdir(wx.base, "root/d/sub/deeper");
	h_mkdir(wx.base, "root/other");
	h_write_str(wx.root, "d/sub/x.txt", "x\n");
	memset(&wx.srv, 0, sizeof wx.srv);
	memset(&wx.cfg, 0, sizeof wx.cfg);
	wx.cfg.live = 1;
	wx.srv.cfg = &wx.cfg;
	wx.srv.live.fd = -1;
	wx.srv.rootfd = open(wx.root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	ck_assert_msg(wx.srv.rootfd >= 0, "open %s: %s", wx.root, strerror(errno));
	ck_assert_int_eq(live_init(&wx.srv), 0);
}

static void
watch_teardown(void)
{
	live_free(&wx.srv);
	if (wx.srv.rootfd >= 0)
		close(wx.srv.rootfd);
	h_rmtree(wx.base);
	free(wx.base);
	wx.base = NULL;
}

/* Watches the kernel holds on the --live inotify fd: one "inotify wd:" line
 * each in /proc/self/fdinfo. */
static int
kernel_watches(void)
{
	char path[64];
	snprintf(path, sizeof path, "/proc/self/fdinfo/%d", wx.srv.live.fd);
	char *info = h_read_file(path, NULL);
	ck_assert_msg(info != NULL, "%s: %s", path, strerror(errno));
	int n = 0;
	for (const char *p = info; (p = strstr(p, "inotify wd:")) != NULL; p++)
		n++;
	free(info);
	return n;
}

static void
move(const char *from, const char *to)
{
	char a[PATH_MAX + 64], b[PATH_MAX + 64];
	snprintf(a, sizeof a, "%s/%s", wx.base, from);
	snprintf(b, sizeof b, "%s/%s", wx.base, to);
	ck_assert_msg(rename(a, b) == 0, "rename %s %s: %s", a, b, strerror(errno));
}

/* Every entry names a directory that exists, each once; the table and the
 * kernel agree on how many there are. */
static void
expect_watches(size_t want, const char *what)
{
	size_t n = live_watch_count(&wx.srv);
	ck_assert_msg(n == want, "%s: %zu watches in the table, expected %zu", what, n, want);
	int k = kernel_watches();
	ck_assert_msg(k == (int)want, "%s: the kernel holds %d watches, expected %zu", what, k,
	              want);
	for (size_t i = 0; i < n; i++) {
		const struct live_watch *w = &wx.srv.live.watches[i];
		char path[PATH_MAX + 64];
		struct stat st;
		snprintf(path, sizeof path, "%s/%s", wx.root, w->dir);
		ck_assert_msg(stat(path, &st) == 0 && S_ISDIR(st.st_mode),
		              "%s: watch %d names '%s', which is no directory", what, w->wd,
		              w->dir);
		ck_assert_msg(strlen(w->dir) == w->dir_len, "%s: '%s' has length %zu", what, w->dir,
		              w->dir_len);
		for (size_t j = 0; j < i; j++)
			ck_assert_msg(wx.srv.live.watches[j].wd != w->wd &&
			                  strcmp(wx.srv.live.watches[j].dir, w->dir) != 0,
			              "%s: watch %d ('%s') is in the table twice", what, w->wd,
			              w->dir);
	}
}

/* Issue 11 item 1: renaming a directory back and forth neither grows the
 * table nor leaves a pointer into it dangling (ASan: heap-use-after-free
 * in apply_event before the fix). Events read after each rename, and after
 * many renames at once. */
START_TEST(test_watch_rename_round_trips)
{
	expect_watches(5, "at the start"); /* "", d, d/sub, d/sub/deeper, other */
	for (int i = 0; i < 300; i++) {
		move("root/d", "root/e");
		live_apply_events(&wx.srv);
		move("root/e", "root/d");
		live_apply_events(&wx.srv);
	}
	expect_watches(5, "after 300 round trips");
	for (int i = 0; i < 100; i++) {
		move("root/d", "root/e");
		move("root/e", "root/d");
	}
	live_apply_events(&wx.srv);
	expect_watches(5, "after 100 round trips read at once");
	move("root/d", "root/other/d");
	live_apply_events(&wx.srv);
	expect_watches(5, "after moving d into other/");
	move("root/other/d", "root/d");
	live_apply_events(&wx.srv);
	expect_watches(5, "after moving it back");
}
END_TEST

/* A directory moved out of the tree is no longer watched; moved back in,
 * it is watched again. A deleted one goes too. */
START_TEST(test_watch_moved_away)
{
	move("root/d", "away");
	live_apply_events(&wx.srv);
	expect_watches(2, "d moved out of the tree");
	move("away", "root/d");
	live_apply_events(&wx.srv);
	expect_watches(5, "d moved back");
	char path[PATH_MAX + 64];
	snprintf(path, sizeof path, "%s/other", wx.root);
	ck_assert(rmdir(path) == 0);
	live_apply_events(&wx.srv);
	expect_watches(4, "other removed");
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

	tc = tcase_create("watches");
	tcase_add_checked_fixture(tc, watch_setup, watch_teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_watch_rename_round_trips);
	tcase_add_test(tc, test_watch_moved_away);
	suite_add_tcase(s, tc);
	return s;
}
