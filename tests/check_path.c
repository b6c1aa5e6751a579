/* check_path.c - request-target normalisation, Location encoding, and
 * opening beneath the root directory.
 *
 * The open tests build a small tree under /tmp once per test case (an
 * unchecked fixture, so its teardown runs even when a test fails) with
 * symlinks that stay inside, leave through "..", point at /etc/passwd, loop,
 * and a FIFO. Tests run as root, so no case relies on file permissions. */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "guard.h"
#include "path.h"
#include "suites.h"

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))
#define LIT(s) s, sizeof(s) - 1

/* ---- path_normalize -------------------------------------------------------- */

static const struct norm_case {
	const char *target;
	size_t len;
	int dotfiles;
	size_t cap; /* 0: 256 */
	enum path_status status;
	const char *out; /* with PATH_OK */
	int trailing_slash;
	const char *query; /* expected "?..." or NULL */
} norm_cases[] = {
    {LIT("/"), 0, 0, PATH_OK, "", 1, NULL},
    {LIT("/index.html"), 0, 0, PATH_OK, "index.html", 0, NULL},
    {LIT("/dir/"), 0, 0, PATH_OK, "dir/", 1, NULL},
    {LIT("/a/b/"), 0, 0, PATH_OK, "a/b/", 1, NULL},
    {LIT("/a//b"), 0, 0, PATH_OK, "a/b", 0, NULL},
    {LIT("//a"), 0, 0, PATH_OK, "a", 0, NULL},
    {LIT("/a///b//"), 0, 0, PATH_OK, "a/b/", 1, NULL},
    {LIT("/a/./b/../c"), 0, 0, PATH_OK, "a/c", 0, NULL},
    {LIT("/./a"), 0, 0, PATH_OK, "a", 0, NULL},
    {LIT("/a/../index.html"), 0, 0, PATH_OK, "index.html", 0, NULL},
    {LIT("/a/b/../../c"), 0, 0, PATH_OK, "c", 0, NULL},
    {LIT("/a/%2e%2e/b"), 0, 0, PATH_OK, "b", 0, NULL},
    {LIT("/%2e/x"), 0, 0, PATH_OK, "x", 0, NULL},
    {LIT("/a..b"), 0, 0, PATH_OK, "a..b", 0, NULL},
    {LIT("/a/b.."), 0, 0, PATH_OK, "a/b..", 0, NULL},
    /* percent-decoding, once */
    {LIT("/%41"), 0, 0, PATH_OK, "A", 0, NULL},
    {LIT("/a%20b"), 0, 0, PATH_OK, "a b", 0, NULL},
    {LIT("/%2541"), 0, 0, PATH_OK, "%41", 0, NULL},
    {LIT("/a+b"), 0, 0, PATH_OK, "a+b", 0, NULL},
    {LIT("/%2B"), 0, 0, PATH_OK, "+", 0, NULL},
    {LIT("/caf%C3%A9"), 0, 0, PATH_OK, "caf\303\251", 0, NULL},
    {LIT("/caf%c3%a9"), 0, 0, PATH_OK, "caf\303\251", 0, NULL},
    {LIT("/%3F"), 0, 0, PATH_OK, "?", 0, NULL},
    {LIT("/%23"), 0, 0, PATH_OK, "#", 0, NULL},
    /* query and fragment */
    {LIT("/a?q=1"), 0, 0, PATH_OK, "a", 0, "?q=1"},
    {LIT("/a?"), 0, 0, PATH_OK, "a", 0, "?"},
    {LIT("/?x=%zz"), 0, 0, PATH_OK, "", 1, "?x=%zz"},
    {LIT("/dir/?x=1"), 0, 0, PATH_OK, "dir/", 1, "?x=1"},
    {LIT("/a?b/../../c"), 0, 0, PATH_OK, "a", 0, "?b/../../c"},
    {LIT("/a#frag"), 0, 0, PATH_OK, "a", 0, NULL},
    {LIT("/a#frag?x"), 0, 0, PATH_OK, "a", 0, NULL},
    {LIT("/a#/../../x"), 0, 0, PATH_OK, "a", 0, NULL},
    /* absolute-form */
    {LIT("http://example.com/a?b"), 0, 0, PATH_OK, "a", 0, "?b"},
    {LIT("http://example.com/"), 0, 0, PATH_OK, "", 1, NULL},
    {LIT("http://example.com:8080/dir/"), 0, 0, PATH_OK, "dir/", 1, NULL},
    /* climbing above the root */
    {LIT("/../x"), 0, 0, PATH_FORBIDDEN, NULL, 0, NULL},
    {LIT("/.."), 0, 0, PATH_FORBIDDEN, NULL, 0, NULL},
    {LIT("/../"), 0, 0, PATH_FORBIDDEN, NULL, 0, NULL},
    {LIT("/a/../../x"), 0, 0, PATH_FORBIDDEN, NULL, 0, NULL},
    {LIT("/a/../.."), 0, 0, PATH_FORBIDDEN, NULL, 0, NULL},
    {LIT("/a/b/../../../x"), 0, 0, PATH_FORBIDDEN, NULL, 0, NULL},
    {LIT("/%2e%2e/x"), 0, 0, PATH_FORBIDDEN, NULL, 0, NULL},
    {LIT("/%2E%2E/x"), 0, 0, PATH_FORBIDDEN, NULL, 0, NULL},
    {LIT("/.%2e/x"), 0, 0, PATH_FORBIDDEN, NULL, 0, NULL},
    {LIT("/%2e./x"), 0, 0, PATH_FORBIDDEN, NULL, 0, NULL},
    {LIT("/a/%2e%2e/%2e%2e"), 0, 0, PATH_FORBIDDEN, NULL, 0, NULL},
    {LIT("http://example.com/../x"), 0, 0, PATH_FORBIDDEN, NULL, 0, NULL},
    {LIT("/../x"), 1, 0, PATH_FORBIDDEN, NULL, 0, NULL},
    /* malformed */
    {LIT("/a%00b"), 0, 0, PATH_BAD, NULL, 0, NULL},
    {LIT("/%00"), 0, 0, PATH_BAD, NULL, 0, NULL},
    {LIT("/%zz"), 0, 0, PATH_BAD, NULL, 0, NULL},
    {LIT("/%g1"), 0, 0, PATH_BAD, NULL, 0, NULL},
    {LIT("/%4g"), 0, 0, PATH_BAD, NULL, 0, NULL},
    {LIT("/%4"), 0, 0, PATH_BAD, NULL, 0, NULL},
    {LIT("/a%"), 0, 0, PATH_BAD, NULL, 0, NULL},
    {LIT("/%"), 0, 0, PATH_BAD, NULL, 0, NULL},
    {LIT("/%4?x"), 0, 0, PATH_BAD, NULL, 0, NULL},
    {LIT("*"), 0, 0, PATH_BAD, NULL, 0, NULL},
    {LIT("abc"), 0, 0, PATH_BAD, NULL, 0, NULL},
    {LIT(""), 0, 0, PATH_BAD, NULL, 0, NULL},
    {LIT("?x"), 0, 0, PATH_BAD, NULL, 0, NULL},
    /* dotfiles */
    {LIT("/.env"), 0, 0, PATH_HIDDEN, NULL, 0, NULL},
    {LIT("/.git/config"), 0, 0, PATH_HIDDEN, NULL, 0, NULL},
    {LIT("/a/.hidden/b"), 0, 0, PATH_HIDDEN, NULL, 0, NULL},
    {LIT("/a/.b"), 0, 0, PATH_HIDDEN, NULL, 0, NULL},
    {LIT("/.git/"), 0, 0, PATH_HIDDEN, NULL, 0, NULL},
    {LIT("/%2eenv"), 0, 0, PATH_HIDDEN, NULL, 0, NULL},
    {LIT("/..."), 0, 0, PATH_HIDDEN, NULL, 0, NULL},
    {LIT("/a/../.env"), 0, 0, PATH_HIDDEN, NULL, 0, NULL},
    {LIT("/a/.well-known/x"), 0, 0, PATH_HIDDEN, NULL, 0, NULL},
    {LIT("/.well-known/.x"), 0, 0, PATH_HIDDEN, NULL, 0, NULL},
    {LIT("/.well-knownx/y"), 0, 0, PATH_HIDDEN, NULL, 0, NULL},
    {LIT("/.well-known/x"), 0, 0, PATH_OK, ".well-known/x", 0, NULL},
    {LIT("/.well-known/"), 0, 0, PATH_OK, ".well-known/", 1, NULL},
    {LIT("/.env"), 1, 0, PATH_OK, ".env", 0, NULL},
    {LIT("/.git/config"), 1, 0, PATH_OK, ".git/config", 0, NULL},
    {LIT("/a/.hidden/b"), 1, 0, PATH_OK, "a/.hidden/b", 0, NULL},
    /* the output cap (NUL included) */
    {LIT("/abcdefg"), 0, 8, PATH_OK, "abcdefg", 0, NULL},
    {LIT("/abcdefgh"), 0, 8, PATH_TOO_LONG, NULL, 0, NULL},
    {LIT("/a/b/c/d/e"), 0, 8, PATH_TOO_LONG, NULL, 0, NULL},
    {LIT("/%41%41%41%41%41%41%41"), 0, 8, PATH_OK, "AAAAAAA", 0, NULL},
    {LIT("/abc/def/"), 0, 8, PATH_TOO_LONG, NULL, 0, NULL},
    {LIT("/abc/de/"), 0, 8, PATH_OK, "abc/de/", 1, NULL},
    {LIT("/x?aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"), 0, 8, PATH_OK, "x", 0,
     "?aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"},
};

static const char *const status_names[] = {
    [PATH_OK] = "OK",         [PATH_BAD] = "BAD",           [PATH_FORBIDDEN] = "FORBIDDEN",
    [PATH_HIDDEN] = "HIDDEN", [PATH_TOO_LONG] = "TOO_LONG",
};

static const char *
status_name(enum path_status s)
{
	if ((unsigned)s < NELEM(status_names) && status_names[s] != NULL)
		return status_names[s];
	return "?";
}

START_TEST(test_normalize)
{
	const struct norm_case *c = &norm_cases[_i];
	size_t cap = c->cap ? c->cap : 256;
	struct guard gin, gout;
	guard_init(&gin, c->len);
	guard_init(&gout, cap);
	const char *target = guard_place(&gin, c->target, c->len);
	/* out ends at a guard page: writing past cap crashes the test */
	char *out = guard_slot(&gout, cap);
	memset(out, 'Z', cap);
	struct path_result res;
	memset(&res, 0, sizeof(res));
	enum path_status st = path_normalize(target, c->len, c->dotfiles, out, cap, &res);
	ck_assert_msg(st == c->status, "\"%s\" (dotfiles %d): %s, want %s", c->target, c->dotfiles,
	              status_name(st), status_name(c->status));
	if (st == PATH_OK) {
		ck_assert_msg(memchr(out, '\0', cap) != NULL, "\"%s\": out not NUL-terminated",
		              c->target);
		ck_assert_msg(strcmp(out, c->out) == 0, "\"%s\": out \"%s\", want \"%s\"",
		              c->target, out, c->out);
		ck_assert_msg(res.len == strlen(c->out), "\"%s\": len %zu, want %zu", c->target,
		              res.len, strlen(c->out));
		ck_assert_msg(res.trailing_slash == c->trailing_slash,
		              "\"%s\": trailing_slash %d, want %d", c->target, res.trailing_slash,
		              c->trailing_slash);
		if (c->query == NULL) {
			ck_assert_msg(res.query == NULL, "\"%s\": query \"%.*s\", want none",
			              c->target, (int)res.query_len, res.query);
		} else {
			ck_assert_msg(res.query != NULL, "\"%s\": no query, want \"%s\"", c->target,
			              c->query);
			ck_assert_msg(res.query_len == strlen(c->query) &&
			                  memcmp(res.query, c->query, res.query_len) == 0,
			              "\"%s\": query \"%.*s\", want \"%s\"", c->target,
			              (int)res.query_len, res.query, c->query);
			/* it points into the target, undecoded */
			ck_assert_ptr_eq(res.query, target + (c->len - strlen(c->query)));
		}
	}
	guard_free(&gin);
	guard_free(&gout);
}
END_TEST

START_TEST(test_normalize_encoded_slash)
{
	/* "%2f" decodes to '/': whatever the module does with it, the result
	 * must never be a path that climbs out ("../x"). */
	static const char *const targets[] = {"/..%2fx", "/..%2Fx", "/%2e%2e%2fx",
	                                      "/a%2f..%2f..%2fx"};
	for (size_t i = 0; i < NELEM(targets); i++) {
		char out[256];
		struct path_result res;
		enum path_status st =
		    path_normalize(targets[i], strlen(targets[i]), 0, out, sizeof(out), &res);
		ck_assert_msg(st == PATH_FORBIDDEN || st == PATH_BAD, "\"%s\": %s, want FORBIDDEN",
		              targets[i], status_name(st));
	}
}
END_TEST

START_TEST(test_normalize_length_arg)
{
	/* Only target[0..len) counts: "/a" out of "/a/../../x". */
	static const char t[] = "/a/../../x";
	char out[64];
	struct path_result res;
	ck_assert_int_eq(path_normalize(t, 2, 0, out, sizeof(out), &res), PATH_OK);
	ck_assert_str_eq(out, "a");
	ck_assert_uint_eq(res.len, 1);
}
END_TEST

/* ---- path_encode ------------------------------------------------------------ */

static const struct enc_case {
	const char *in;
	size_t len;
	size_t cap;
	long ret;
	const char *out;
} enc_cases[] = {
    {LIT("a b"), 64, 5, "a%20b"},
    {LIT("dir/file.html"), 64, 13, "dir/file.html"},
    {LIT("AZaz09-._~"), 64, 10, "AZaz09-._~"},
    {LIT("!$&'()*+,;=:@"), 64, 13, "!$&'()*+,;=:@"},
    {LIT("?"), 64, 3, "%3F"},
    {LIT("#"), 64, 3, "%23"},
    {LIT("%"), 64, 3, "%25"},
    {LIT("\"<>\\^`{|}[]"), 64, 33, "%22%3C%3E%5C%5E%60%7B%7C%7D%5B%5D"},
    {LIT("caf\303\251"), 64, 9, "caf%C3%A9"},
    {LIT("\001\t\177"), 64, 9, "%01%09%7F"},
    {LIT("dir/a b/"), 64, 10, "dir/a%20b/"},
    {LIT(""), 64, 0, ""},
    /* fits exactly (NUL included) or not at all */
    {LIT("a b"), 6, 5, "a%20b"},
    {LIT("a b"), 5, -1, NULL},
    {LIT("a b"), 3, -1, NULL},
    {LIT("abc"), 4, 3, "abc"},
    {LIT("abc"), 3, -1, NULL},
    {LIT("%"), 4, 3, "%25"},
    {LIT("%"), 3, -1, NULL},
    {LIT(""), 1, 0, ""},
    {LIT(""), 0, -1, NULL},
    /* the length argument, not the NUL */
    {"a b c", 3, 64, 5, "a%20b"},
};

START_TEST(test_encode)
{
	const struct enc_case *c = &enc_cases[_i];
	struct guard g;
	guard_init(&g, c->cap);
	char *out = guard_slot(&g, c->cap);
	long r = path_encode(c->in, c->len, out, c->cap);
	ck_assert_msg(r == c->ret, "encode \"%.*s\" cap %zu: %ld, want %ld", (int)c->len, c->in,
	              c->cap, r, c->ret);
	if (c->out != NULL)
		ck_assert_str_eq(out, c->out);
	guard_free(&g);
}
END_TEST

/* ---- path_open / path_open_walk on a real tree ----------------------------- */

static char base_dir[] = "/tmp/shs-check-path-XXXXXX";
static char root_dir[sizeof(base_dir) + 8];
static int root_fd = -1;

static void
put_file(const char *dir, const char *name, const char *text)
{
	char p[PATH_MAX];
	snprintf(p, sizeof(p), "%s/%s", dir, name);
	int fd = open(p, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	ck_assert_msg(fd >= 0, "create %s: %s", p, strerror(errno));
	size_t n = strlen(text);
	ck_assert_int_eq(write(fd, text, n), (ssize_t)n);
	ck_assert_int_eq(close(fd), 0);
}

static void
put_dir(const char *name)
{
	char p[PATH_MAX];
	snprintf(p, sizeof(p), "%s/%s", root_dir, name);
	ck_assert_msg(mkdir(p, 0755) == 0, "mkdir %s: %s", p, strerror(errno));
}

static void
put_link(const char *target, const char *name)
{
	char p[PATH_MAX];
	snprintf(p, sizeof(p), "%s/%s", root_dir, name);
	ck_assert_msg(symlink(target, p) == 0, "symlink %s: %s", p, strerror(errno));
}

static void
tree_setup(void)
{
	ck_assert_ptr_nonnull(mkdtemp(base_dir));
	snprintf(root_dir, sizeof(root_dir), "%s/root", base_dir);
	ck_assert_int_eq(mkdir(root_dir, 0755), 0);
	put_file(base_dir, "outside.txt", "secret\n");
	put_file(root_dir, "file.txt", "hello\n");
	put_dir("dir");
	put_dir("dir/sub");
	put_file(root_dir, "dir/index.html", "<p>index</p>\n");
	put_file(root_dir, "dir/sub/deep.txt", "deep\n");
	put_link("file.txt", "link_in");
	put_link("../file.txt", "dir/link_up");
	put_link("sub", "dir/link_dir");
	put_link("/etc/passwd", "link_abs");
	put_link("/", "link_slash");
	put_link("../outside.txt", "link_out");
	put_link("../../outside.txt", "dir/link_out2");
	put_link("..", "link_dotdot");
	put_link("loop", "loop");
	put_file(root_dir, ".env", "dot\n");
	put_link(".env", "envlink");
	put_link("/proc/self/root", "magic");
	put_dir(".well-known");
	put_file(root_dir, ".well-known/x", "wk\n");
	put_link(".well-known/x", "wk");
	char p[PATH_MAX];
	snprintf(p, sizeof(p), "%s/fifo", root_dir);
	ck_assert_int_eq(mkfifo(p, 0644), 0);
	root_fd = open(root_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	ck_assert_int_ge(root_fd, 0);
}

static int
rm_entry(const char *p, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb;
	(void)flag;
	(void)ftw;
	return remove(p);
}

static void
tree_teardown(void)
{
	if (root_fd >= 0)
		(void)close(root_fd);
	root_fd = -1;
	if (strchr(base_dir, 'X') == NULL) /* mkdtemp filled it in */
		(void)nftw(base_dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

enum want {
	W_REG,  /* a regular file of `size` bytes */
	W_DIR,  /* a directory */
	W_FIFO, /* a FIFO, opened without blocking */
	W_ERR,  /* exactly -err */
	W_DENY, /* any negative errno that maps to 403 */
};

static const struct open_case {
	const char *rel;
	enum want open_want; /* path_open (openat2) */
	int open_err;
	enum want walk_want; /* path_open_walk */
	int walk_err;
	off_t size;
} open_cases[] = {
    {"file.txt", W_REG, 0, W_REG, 0, 6},
    {"dir/index.html", W_REG, 0, W_REG, 0, 13},
    {"dir/sub/deep.txt", W_REG, 0, W_REG, 0, 5},
    {"", W_DIR, 0, W_DIR, 0, 0},
    {"dir", W_DIR, 0, W_DIR, 0, 0},
    {"dir/", W_DIR, 0, W_DIR, 0, 0},
    {"dir/sub/", W_DIR, 0, W_DIR, 0, 0},
    {"missing", W_ERR, ENOENT, W_ERR, ENOENT, 0},
    {"dir/missing", W_ERR, ENOENT, W_ERR, ENOENT, 0},
    {"missing/x", W_ERR, ENOENT, W_ERR, ENOENT, 0},
    {"file.txt/x", W_ERR, ENOTDIR, W_ERR, ENOTDIR, 0},
    {"file.txt/", W_ERR, ENOTDIR, W_ERR, ENOTDIR, 0},
    {"dir/index.html/x", W_ERR, ENOTDIR, W_ERR, ENOTDIR, 0},
    /* symlinks inside the root: openat2 follows them, the walk refuses */
    {"link_in", W_REG, 0, W_ERR, ELOOP, 6},
    {"dir/link_up", W_REG, 0, W_ERR, ELOOP, 6},
    {"dir/link_dir/deep.txt", W_REG, 0, W_ERR, ELOOP, 5},
    /* symlinks that leave the root or never end: 403 either way */
    {"link_abs", W_DENY, 0, W_ERR, ELOOP, 0},
    {"link_slash", W_DENY, 0, W_ERR, ELOOP, 0},
    {"link_out", W_DENY, 0, W_ERR, ELOOP, 0},
    {"dir/link_out2", W_DENY, 0, W_ERR, ELOOP, 0},
    {"link_dotdot", W_DENY, 0, W_ERR, ELOOP, 0},
    {"link_dotdot/outside.txt", W_DENY, 0, W_ERR, ELOOP, 0},
    {"loop", W_DENY, 0, W_ERR, ELOOP, 0},
    /* not a regular file, but it opens (the caller answers 403) */
    {"fifo", W_FIFO, 0, W_FIFO, 0, 0},
};

typedef int (*open_fn)(int, const char *, struct stat *);

static void
check_open(const char *fname, open_fn fn, const struct open_case *c, enum want want, int err)
{
	struct stat st;
	memset(&st, 0, sizeof(st));
	/* a FIFO that blocked in open() would hang forever without CK_FORK */
	alarm(3);
	int fd = fn(root_fd, c->rel, &st);
	alarm(0);
	switch (want) {
	case W_ERR:
		ck_assert_msg(fd == -err, "%s(\"%s\") = %d (%s), want -%d (%s)", fname, c->rel, fd,
		              fd < 0 ? strerror(-fd) : "fd", err, strerror(err));
		return;
	case W_DENY:
		ck_assert_msg(fd < 0, "%s(\"%s\") = %d, want a negative errno", fname, c->rel, fd);
		ck_assert_msg(path_errno_status(fd) == 403, "%s(\"%s\") = %d (%s): status %d",
		              fname, c->rel, fd, strerror(-fd), path_errno_status(fd));
		return;
	case W_REG:
	case W_DIR:
	case W_FIFO:
		break;
	}
	ck_assert_msg(fd >= 0, "%s(\"%s\") = %d (%s), want an fd", fname, c->rel, fd,
	              fd < 0 ? strerror(-fd) : "");

	/* st is what fstat says about the fd, and it is the right file */
	struct stat fst, ref;
	ck_assert_int_eq(fstat(fd, &fst), 0);
	ck_assert_int_eq(fstatat(root_fd, c->rel, &ref, AT_EMPTY_PATH), 0);
	ck_assert_msg(st.st_ino == fst.st_ino && st.st_dev == fst.st_dev,
	              "%s(\"%s\"): st does not describe the fd", fname, c->rel);
	ck_assert_msg(fst.st_ino == ref.st_ino && fst.st_dev == ref.st_dev,
	              "%s(\"%s\"): opened the wrong file", fname, c->rel);
	if (want == W_REG) {
		ck_assert_msg(S_ISREG(st.st_mode), "%s(\"%s\"): not regular", fname, c->rel);
		ck_assert_int_eq(st.st_size, c->size);
	} else if (want == W_DIR) {
		ck_assert_msg(S_ISDIR(st.st_mode), "%s(\"%s\"): not a dir", fname, c->rel);
	} else {
		ck_assert_msg(S_ISFIFO(st.st_mode), "%s(\"%s\"): not a FIFO", fname, c->rel);
	}

	/* read-only, non-blocking, close-on-exec */
	int fl = fcntl(fd, F_GETFL);
	ck_assert_int_ge(fl, 0);
	ck_assert_msg((fl & O_ACCMODE) == O_RDONLY, "%s(\"%s\"): not O_RDONLY", fname, c->rel);
	ck_assert_msg((fl & O_NONBLOCK) != 0, "%s(\"%s\"): not O_NONBLOCK", fname, c->rel);
	int fdf = fcntl(fd, F_GETFD);
	ck_assert_msg(fdf >= 0 && (fdf & FD_CLOEXEC), "%s(\"%s\"): not FD_CLOEXEC", fname, c->rel);
	ck_assert_int_eq(close(fd), 0);
}

/* The lowest free fd: if a call leaks one, this changes. */
static int
next_fd(void)
{
	int fd = dup(0);
	ck_assert_int_ge(fd, 0);
	(void)close(fd);
	return fd;
}

START_TEST(test_open)
{
	const struct open_case *c = &open_cases[_i];
	int before = next_fd();
	check_open("path_open", path_open, c, c->open_want, c->open_err);
	ck_assert_msg(next_fd() == before, "path_open(\"%s\") leaked an fd", c->rel);
}
END_TEST

START_TEST(test_open_walk)
{
	const struct open_case *c = &open_cases[_i];
	int before = next_fd();
	check_open("path_open_walk", path_open_walk, c, c->walk_want, c->walk_err);
	ck_assert_msg(next_fd() == before, "path_open_walk(\"%s\") leaked an fd", c->rel);
}
END_TEST

START_TEST(test_open_content)
{
	struct stat st;
	char buf[16];
	int fd = path_open(root_fd, "dir/link_up", &st);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(read(fd, buf, sizeof(buf)), 6);
	ck_assert_mem_eq(buf, "hello\n", 6);
	(void)close(fd);
	fd = path_open_walk(root_fd, "dir/sub/deep.txt", &st);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(read(fd, buf, sizeof(buf)), 5);
	ck_assert_mem_eq(buf, "deep\n", 5);
	(void)close(fd);
}
END_TEST

START_TEST(test_open_name_too_long)
{
	char rel[NAME_MAX + 64];
	struct stat st;
	memset(rel, 'a', sizeof(rel) - 1);
	rel[sizeof(rel) - 1] = '\0';
	int fd = path_open(root_fd, rel, &st);
	ck_assert_int_eq(fd, -ENAMETOOLONG);
	ck_assert_int_eq(path_errno_status(fd), 414);
	fd = path_open_walk(root_fd, rel, &st);
	ck_assert_int_eq(fd, -ENAMETOOLONG);
}
END_TEST

/* ---- path_errno_status ------------------------------------------------------- */

/* ---- path_open_ex: --follow-symlinks and the dotfile rule on targets ---- */

static const struct ex_case {
	const char *rel;
	int follow, dotfiles;
	enum want want;
	int err;
} ex_cases[] = {
    {"file.txt", 0, 0, W_REG, 0},
    {"link_in", 0, 0, W_REG, 0},
    {"dir/link_dir/deep.txt", 0, 0, W_REG, 0},
    {"envlink", 0, 0, W_ERR, PATH_EHIDDEN},
    {"envlink", 1, 0, W_ERR, PATH_EHIDDEN},
    {"envlink", 0, 1, W_REG, 0},
    {"wk", 0, 0, W_REG, 0}, /* .well-known first is no dotfile */
    {"link_out", 0, 0, W_DENY, 0},
    {"link_out", 1, 0, W_REG, 0},
    {"dir/link_out2", 1, 0, W_REG, 0},
    {"link_abs", 0, 0, W_DENY, 0},
    {"link_abs", 1, 0, W_REG, 0},
    {"link_slash/etc/passwd", 1, 1, W_REG, 0},
    {"link_dotdot/outside.txt", 1, 0, W_REG, 0},
    {"link_dotdot/outside.txt", 0, 0, W_DENY, 0},
    /* out through "..", back in by name: still the top dir's dotfile */
    {"link_dotdot/root/.env", 1, 0, W_ERR, PATH_EHIDDEN},
    {"magic/etc/passwd", 0, 0, W_DENY, 0},
    {"magic/etc/passwd", 1, 0, W_DENY, 0},
    {"magic/etc/passwd", 1, 1, W_DENY, 0},
    {"loop", 1, 0, W_DENY, 0},
    {"fifo", 1, 0, W_FIFO, 0},
    {"missing", 1, 0, W_ERR, ENOENT},
};

START_TEST(test_open_ex)
{
	const struct ex_case *c = &ex_cases[_i];
	struct stat st;
	int fd = path_open_ex(root_fd, c->rel, c->follow, c->dotfiles, &st);
	const char *ctx = c->rel;
	switch (c->want) {
	case W_REG:
		ck_assert_msg(fd >= 0 && S_ISREG(st.st_mode), "%s (follow %d dotfiles %d): %d", ctx,
		              c->follow, c->dotfiles, fd);
		break;
	case W_FIFO:
		ck_assert_msg(fd >= 0 && S_ISFIFO(st.st_mode), "%s: %d", ctx, fd);
		break;
	case W_DIR:
		ck_assert_msg(fd >= 0 && S_ISDIR(st.st_mode), "%s: %d", ctx, fd);
		break;
	case W_ERR:
		ck_assert_msg(fd == -c->err, "%s (follow %d dotfiles %d): %d, want -%d", ctx,
		              c->follow, c->dotfiles, fd, c->err);
		break;
	case W_DENY:
		ck_assert_msg(fd < 0 && path_errno_status(fd) == 403,
		              "%s (follow %d dotfiles %d): %d, want a 403", ctx, c->follow,
		              c->dotfiles, fd);
		break;
	}
	if (fd >= 0)
		close(fd);
}
END_TEST

/* ---- path_trace: which link, and where it points ------------------------- */

static const struct trace_case {
	const char *rel;
	int err, leaves, magic;
	const char *link, *target;
	const char *final; /* NULL: not checked; "@BASE/..." absolute under base_dir */
} trace_cases[] = {
    {"file.txt", 0, 0, 0, "", "", "file.txt"},
    {"", 0, 0, 0, "", "", ""},
    {"link_in", 0, 0, 0, "link_in", "file.txt", "file.txt"},
    {"dir/link_dir/deep.txt", 0, 0, 0, "dir/link_dir", "sub", "dir/sub/deep.txt"},
    {"dir/link_up", 0, 0, 0, "dir/link_up", "../file.txt", "file.txt"},
    {"link_out", 0, 1, 0, "link_out", "../outside.txt", "@BASE/outside.txt"},
    {"dir/link_out2", 0, 1, 0, "dir/link_out2", "../../outside.txt", "@BASE/outside.txt"},
    {"link_abs", 0, 1, 0, "link_abs", "/etc/passwd", NULL},
    {"magic/etc", 0, 1, 1, "magic", "/proc/self/root", "/etc"},
    {"envlink", 0, 0, 0, "envlink", ".env", ".env"},
    {"loop", -ELOOP, 0, 0, "loop", "loop", NULL},
    {"missing/x", -ENOENT, 0, 0, "", "", "missing"},
    {"file.txt/x", -ENOTDIR, 0, 0, "", "", "file.txt"},
};

START_TEST(test_trace)
{
	const struct trace_case *c = &trace_cases[_i];
	static struct path_trace t;
	int err = path_trace(root_fd, c->rel, &t);
	ck_assert_msg(err == c->err && t.err == err, "%s: err %d, want %d", c->rel, err, c->err);
	ck_assert_msg(t.leaves == c->leaves, "%s: leaves %d", c->rel, t.leaves);
	ck_assert_msg(t.magic == c->magic, "%s: magic %d", c->rel, t.magic);
	ck_assert_str_eq(t.link, c->link);
	ck_assert_str_eq(t.target, c->target);
	if (c->final && strncmp(c->final, "@BASE", 5) == 0) {
		char want[PATH_MAX];
		snprintf(want, sizeof want, "%s%s", base_dir, c->final + 5);
		ck_assert_str_eq(t.final, want);
	} else if (c->final) {
		ck_assert_str_eq(t.final, c->final);
	}
}
END_TEST

static const struct errno_case {
	int err;
	int status;
} errno_cases[] = {
    {ENOENT, 404}, {ENOTDIR, 404},      {EXDEV, 403},  {ELOOP, 403},  {EACCES, 403},
    {EPERM, 403},  {ENAMETOOLONG, 414}, {EMFILE, 503}, {ENFILE, 503}, {EIO, 500},
    {EINVAL, 500}, {ENOMEM, 500},       {EBADF, 500},  {EISDIR, 500},
};

START_TEST(test_errno_status)
{
	const struct errno_case *c = &errno_cases[_i];
	int s = path_errno_status(-c->err);
	ck_assert_msg(s == c->status, "-%s: %d, want %d", strerror(c->err), s, c->status);
}
END_TEST

/* Found by fuzz_path: a raw NUL in the target must not reach the path. */
START_TEST(test_normalize_raw_nul)
{
	static const char t[] = "/\0\xff\x94own/,x";
	char out[64];
	struct path_result pr;
	ck_assert_int_eq(path_normalize(t, sizeof t - 1, 1, out, sizeof out, &pr), PATH_BAD);
}
END_TEST

Suite *
path_suite(void)
{
	Suite *s = suite_create("path");

	TCase *tc = tcase_create("normalize");
	tcase_add_loop_test(tc, test_normalize, 0, NELEM(norm_cases));
	tcase_add_test(tc, test_normalize_encoded_slash);
	tcase_add_test(tc, test_normalize_length_arg);
	tcase_add_test(tc, test_normalize_raw_nul);
	suite_add_tcase(s, tc);

	tc = tcase_create("encode");
	tcase_add_loop_test(tc, test_encode, 0, NELEM(enc_cases));
	suite_add_tcase(s, tc);

	tc = tcase_create("open");
	tcase_add_unchecked_fixture(tc, tree_setup, tree_teardown);
	tcase_add_loop_test(tc, test_open, 0, NELEM(open_cases));
	tcase_add_loop_test(tc, test_open_walk, 0, NELEM(open_cases));
	tcase_add_test(tc, test_open_content);
	tcase_add_test(tc, test_open_name_too_long);
	tcase_add_loop_test(tc, test_open_ex, 0, NELEM(ex_cases));
	tcase_add_loop_test(tc, test_trace, 0, NELEM(trace_cases));
	suite_add_tcase(s, tc);

	tc = tcase_create("errno");
	tcase_add_loop_test(tc, test_errno_status, 0, NELEM(errno_cases));
	suite_add_tcase(s, tc);

	return s;
}
