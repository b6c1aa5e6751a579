/* mime.c - extension to Content-Type, a small sorted-by-use table. */
#include "mime.h"

#include <string.h>
#include <strings.h>

#define TEXT "; charset=utf-8"

static const struct {
	const char *ext;
	const char *type;
} types[] = {
    {"html", "text/html" TEXT},
    {"htm", "text/html" TEXT},
    {"css", "text/css" TEXT},
    {"js", "text/javascript" TEXT},
    {"mjs", "text/javascript" TEXT},
    {"json", "application/json"},
    {"map", "application/json"},
    {"webmanifest", "application/manifest+json"},
    {"wasm", "application/wasm"},
    {"svg", "image/svg+xml"},
    {"png", "image/png"},
    {"jpg", "image/jpeg"},
    {"jpeg", "image/jpeg"},
    {"gif", "image/gif"},
    {"webp", "image/webp"},
    {"avif", "image/avif"},
    {"ico", "image/x-icon"},
    {"bmp", "image/bmp"},
    {"woff", "font/woff"},
    {"woff2", "font/woff2"},
    {"ttf", "font/ttf"},
    {"otf", "font/otf"},
    {"txt", "text/plain" TEXT},
    {"md", "text/markdown" TEXT},
    {"csv", "text/csv" TEXT},
    {"xml", "application/xml"},
    {"rss", "application/rss+xml"},
    {"atom", "application/atom+xml"},
    {"pdf", "application/pdf"},
    {"zip", "application/zip"},
    {"gz", "application/gzip"},
    {"tar", "application/x-tar"},
    {"mp4", "video/mp4"},
    {"webm", "video/webm"},
    {"ogv", "video/ogg"},
    {"mp3", "audio/mpeg"},
    {"ogg", "audio/ogg"},
    {"oga", "audio/ogg"},
    {"wav", "audio/wav"},
    {"flac", "audio/flac"},
    {"m4a", "audio/mp4"},
    {"vtt", "text/vtt" TEXT},
};

const char *
mime_type(const char *name, size_t len)
{
	size_t i = len;
	while (i > 0 && name[i - 1] != '.' && name[i - 1] != '/')
		i--;
	/* No dot in the last segment, a trailing dot, or a dotfile's only dot. */
	if (i == 0 || name[i - 1] != '.' || i == len || i == 1 || name[i - 2] == '/')
		return "application/octet-stream";
	size_t n = len - i;
	for (size_t k = 0; k < sizeof types / sizeof types[0]; k++)
		if (strlen(types[k].ext) == n && strncasecmp(types[k].ext, name + i, n) == 0)
			return types[k].type;
	return "application/octet-stream";
}
