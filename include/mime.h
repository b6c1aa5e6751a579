/* mime.h - file name extension to Content-Type. */
#ifndef SHS_MIME_H
#define SHS_MIME_H

#include <stddef.h>

/* Content-Type for the file name (or path) name[0..len), chosen by its last
 * extension, case-insensitively. Text types carry "; charset=utf-8". Unknown
 * or missing extensions give "application/octet-stream". Never NULL. */
const char *mime_type(const char *name, size_t len);

#endif
