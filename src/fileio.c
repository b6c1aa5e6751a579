/* fileio.c - whole-file reads. See fileio.h. */
#include "fileio.h"

#include <errno.h>
#include <unistd.h>

ssize_t
fileio_read_all(int fd, char *buf, size_t len)
{
	size_t got = 0;
	while (got < len) {
		ssize_t n = pread(fd, buf + got, len - got, (off_t)got);
		if (n > 0)
			got += (size_t)n;
		else if (n == 0)
			break; /* end of file: the file is shorter than len */
		else if (errno == EINTR)
			continue;
		else if (got == 0)
			return -errno;
		else
			break;
	}
	return (ssize_t)got;
}
