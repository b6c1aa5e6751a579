/* fileio.h - whole-file reads from an open fd, for the places that load a
 * file into memory (the cache, --dev 404 pages). pread from offset 0, so the
 * fd's own offset is left alone (cached fds are shared by responses). */
#ifndef SHS_FILEIO_H
#define SHS_FILEIO_H

#include <stddef.h>
#include <sys/types.h>

/* Reads up to len bytes of fd from offset 0 into buf, retrying EINTR and
 * short reads until len bytes, end of file or an error. Returns the bytes
 * read (fewer than len if the file is shorter or a later read failed), or
 * -errno if the first read failed. */
ssize_t fileio_read_all(int fd, char *buf, size_t len);

#endif
