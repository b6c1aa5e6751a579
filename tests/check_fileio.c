/* check_fileio.c - fileio_read_all: whole, short and failed reads. The
 * file is a memfd, so no directory is needed. */
#include <errno.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "fileio.h"
#include "suites.h"

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

static const char text[] = "0123456789abcdefghij"; /* 20 bytes */

static const struct read_case {
	size_t len;   /* asked for */
	ssize_t want; /* returned */
} read_cases[] = {
    {0, 0},   /* nothing asked, nothing read */
    {1, 1},   /* a prefix */
    {19, 19}, /* all but the last byte */
    {20, 20}, /* exactly the file */
    {21, 20}, /* more than the file: stops at its end */
    {64, 20},
};

START_TEST(test_read_all)
{
	const struct read_case *c = &read_cases[_i];
	int fd = memfd_create("fileio", MFD_CLOEXEC);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, text, 20), 20);
	/* the fd's own offset must not matter, nor move */
	ck_assert_int_eq(lseek(fd, 7, SEEK_SET), 7);
	char buf[64];
	memset(buf, '#', sizeof buf);
	ssize_t n = fileio_read_all(fd, buf, c->len);
	ck_assert_int_eq(n, c->want);
	ck_assert_mem_eq(buf, text, (size_t)c->want);
	if ((size_t)c->want < sizeof buf)
		ck_assert_int_eq(buf[c->want], '#'); /* nothing past what was read */
	ck_assert_int_eq(lseek(fd, 0, SEEK_CUR), 7);
	close(fd);
}
END_TEST

/* A failed first read is -errno: a pipe cannot pread, -1 is no fd. */
START_TEST(test_read_errors)
{
	char buf[8];
	int p[2];
	ck_assert_int_eq(pipe(p), 0);
	ck_assert_int_eq(fileio_read_all(p[0], buf, sizeof buf), -ESPIPE);
	close(p[0]);
	close(p[1]);
	ck_assert_int_eq(fileio_read_all(-1, buf, sizeof buf), -EBADF);
}
END_TEST

Suite *
fileio_suite(void)
{
	Suite *s = suite_create("fileio");
	TCase *tc = tcase_create("read_all");
	tcase_add_loop_test(tc, test_read_all, 0, NELEM(read_cases));
	tcase_add_test(tc, test_read_errors);
	suite_add_tcase(s, tc);
	return s;
}
