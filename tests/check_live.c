/* check_live.c - unit tests of --live and --dev: where the reload script
 * goes, the edit distance behind 404 suggestions, and the one inotify
 * watcher's table, for --live's tree and the cache (driven in-process on a real directory tree:
 * inotify queues its events during the rename itself, so reading them right after needs no
 * waiting). */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cache.h"
#include "harness.h"
#include "live.h"
#include "log.h"
#include "suggest.h"
#include "suites.h"
#include "watch.h"

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

/* ---- the watch table (watch.c: the one inotify watcher) ---- */

static struct {
	char *base;
	char root[PATH_MAX];
	int rootfd;
	struct watch w;
	unsigned tree_changes;
} wx;

static void
count_tree_change(void *ctx, const struct watch_change *ch)
{
	(void)ch;
	(*(unsigned *)ctx)++;
}

static void
watch_setup(void)
{
	log_set_level(LOG_LEVEL_ERROR);
	wx.base = h_mkdtemp();
	snprintf(wx.root, sizeof wx.root, "%s/root", wx.base);
	h_mkdir(wx.base, "root/d/sub/deeper");
	h_mkdir(wx.base, "root/other");
	h_write_str(wx.root, "d/sub/x.txt", "x\n");
	wx.rootfd = open(wx.root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	ck_assert_msg(wx.rootfd >= 0, "open %s: %s", wx.root, strerror(errno));
	ck_assert_int_eq(watch_init(&wx.w, wx.rootfd), 0);
	wx.tree_changes = 0;
}

/* The fixture of the --live tests: the whole tree watched. */
static void
tree_setup(void)
{
	watch_setup();
	ck_assert_int_eq(watch_tree(&wx.w, 0, count_tree_change, &wx.tree_changes), 0);
}

static void
watch_teardown(void)
{
	watch_free(&wx.w);
	if (wx.rootfd >= 0)
		close(wx.rootfd);
	h_rmtree(wx.base);
	free(wx.base);
	wx.base = NULL;
}

/* Watches the kernel holds on the inotify fd: one "inotify wd:" line each
 * in /proc/self/fdinfo. */
static int
kernel_watches(void)
{
	char path[64];
	snprintf(path, sizeof path, "/proc/self/fdinfo/%d", wx.w.fd);
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
	size_t n = watch_count(&wx.w);
	ck_assert_msg(n == want, "%s: %zu watches in the table, expected %zu", what, n, want);
	int k = kernel_watches();
	ck_assert_msg(k == (int)want, "%s: the kernel holds %d watches, expected %zu", what, k,
	              want);
	for (size_t i = 0; i < n; i++) {
		const struct watch_dir *w = &wx.w.dirs[i];
		char path[PATH_MAX + 64];
		struct stat st;
		snprintf(path, sizeof path, "%s/%s", wx.root, w->dir);
		ck_assert_msg(stat(path, &st) == 0 && S_ISDIR(st.st_mode),
		              "%s: watch %d names '%s', which is no directory", what, w->wd,
		              w->dir);
		ck_assert_msg(strlen(w->dir) == w->dir_len, "%s: '%s' has length %zu", what, w->dir,
		              w->dir_len);
		for (size_t j = 0; j < i; j++)
			ck_assert_msg(
			    wx.w.dirs[j].wd != w->wd && strcmp(wx.w.dirs[j].dir, w->dir) != 0,
			    "%s: watch %d ('%s') is in the table twice", what, w->wd, w->dir);
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
		watch_drain(&wx.w);
		move("root/e", "root/d");
		watch_drain(&wx.w);
	}
	expect_watches(5, "after 300 round trips");
	for (int i = 0; i < 100; i++) {
		move("root/d", "root/e");
		move("root/e", "root/d");
	}
	watch_drain(&wx.w);
	expect_watches(5, "after 100 round trips read at once");
	move("root/d", "root/other/d");
	watch_drain(&wx.w);
	expect_watches(5, "after moving d into other/");
	move("root/other/d", "root/d");
	watch_drain(&wx.w);
	expect_watches(5, "after moving it back");
	ck_assert_uint_gt(wx.tree_changes, 0);
}
END_TEST

/* A directory moved out of the tree is no longer watched; moved back in,
 * it is watched again. A deleted one goes too. */
START_TEST(test_watch_moved_away)
{
	move("root/d", "away");
	watch_drain(&wx.w);
	expect_watches(2, "d moved out of the tree");
	move("away", "root/d");
	watch_drain(&wx.w);
	expect_watches(5, "d moved back");
	char path[PATH_MAX + 64];
	snprintf(path, sizeof path, "%s/other", wx.root);
	ck_assert(rmdir(path) == 0);
	watch_drain(&wx.w);
	expect_watches(4, "other removed");
}
END_TEST

/* Puts d/sub/x.txt in the cache (which asks the watcher for d/sub/). */
static void
fill_x(struct cache *c)
{
	int fd = openat(wx.rootfd, "d/sub/x.txt", O_RDONLY | O_CLOEXEC);
	ck_assert_int_ge(fd, 0);
	struct stat st;
	ck_assert_int_eq(fstat(fd, &st), 0);
	char modified[RESP_DATE_LEN + 1] = "Thu, 01 Jan 1970 00:00:00 GMT";
	struct cache_entry *e =
	    cache_fill(c, "d/sub/x.txt", 11, fd, &st, "text/plain", "\"x\"", 3, modified, 1);
	close(fd);
	ck_assert_ptr_nonnull(e);
	cache_unref(e);
	e = cache_lookup(c, "d/sub/x.txt", 11, 1, wx.rootfd, 0);
	ck_assert_ptr_nonnull(e);
	cache_unref(e);
}

/* One watcher serves both: with the tree watched, the cache's directory is
 * the tree's entry (no second kernel watch); a write in it drops the
 * cached file at the next lookup and tells --live too. */
START_TEST(test_watch_cache_shares_tree)
{
	struct cache c;
	ck_assert_int_eq(cache_init(&c, 1 << 20, 1 << 16, &wx.w), 0);
	fill_x(&c);
	expect_watches(5, "a cached file under the tree");
	int both = 0;
	for (size_t i = 0; i < watch_count(&wx.w); i++)
		if (strcmp(wx.w.dirs[i].dir, "d/sub/") == 0)
			both = wx.w.dirs[i].subs == (WATCH_FILES | WATCH_TREE);
	ck_assert_msg(both, "d/sub/ is not watched for both subscribers");
	unsigned before = wx.tree_changes;
	h_write_str(wx.root, "d/sub/x.txt", "changed\n");
	ck_assert_ptr_null(cache_lookup(&c, "d/sub/x.txt", 11, 2, wx.rootfd, 0));
	ck_assert_uint_gt(wx.tree_changes, before);
	/* The tree survives the cache going. */
	cache_free(&c);
	move("root/d", "root/e");
	watch_drain(&wx.w);
	move("root/e", "root/d");
	watch_drain(&wx.w);
	expect_watches(5, "after the cache went");
}
END_TEST

/* Without --live only the cache's directories are watched, once each; a
 * cached directory renamed away is let go, so a new one of that name gets
 * its own watch and its files are never served stale. */
START_TEST(test_watch_cache_only)
{
	struct cache c;
	ck_assert_int_eq(cache_init(&c, 1 << 20, 1 << 16, &wx.w), 0);
	fill_x(&c);
	fill_x(&c);
	expect_watches(1, "one cached directory");
	ck_assert_str_eq(wx.w.dirs[0].dir, "d/sub/");
	move("root/d/sub", "root/d/old");
	watch_drain(&wx.w);
	expect_watches(0, "the cached directory renamed away");
	h_mkdir(wx.root, "d/sub");
	h_write_str(wx.root, "d/sub/x.txt", "new d\n");
	fill_x(&c);
	expect_watches(1, "a new directory of that name");
	h_write_str(wx.root, "d/sub/x.txt", "changed\n");
	ck_assert_ptr_null(cache_lookup(&c, "d/sub/x.txt", 11, 2, wx.rootfd, 0));
	cache_free(&c);
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
	tcase_add_checked_fixture(tc, tree_setup, watch_teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_watch_rename_round_trips);
	tcase_add_test(tc, test_watch_moved_away);
	tcase_add_test(tc, test_watch_cache_shares_tree);
	suite_add_tcase(s, tc);

	tc = tcase_create("cache watches");
	tcase_add_checked_fixture(tc, watch_setup, watch_teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_watch_cache_only);
	suite_add_tcase(s, tc);
	return s;
}
