/* http_chunked.c - the chunked body skipper. See http_chunked.h. */
#include "http_chunked.h"

static int
hex_value(unsigned char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c |= 0x20; /* 'A'-'F' to 'a'-'f'; no other byte lands in that range */
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/* Longest chunk-size line extension or trailer section we read through. */
#define CHUNK_LINE_MAX 4096

enum http_chunk_result
http_chunked_skip(struct http_chunked *c, const char *buf, size_t len, size_t *used)
{
	size_t i = 0;
	while (i < len && c->state != HTTP_CHUNK_DONE) {
		unsigned char ch = (unsigned char)buf[i];
		switch (c->state) {
		case HTTP_CHUNK_SIZE: {
			int h = hex_value(ch);
			if (h >= 0) {
				if (c->left > (UINT64_MAX >> 4))
					goto bad;
				c->digits++;
				c->left = c->left * 16 + (uint64_t)h;
				i++;
				break;
			}
			if (c->digits == 0)
				goto bad;
			if (ch == ';' || ch == ' ' || ch == '\t') {
				c->state = HTTP_CHUNK_EXT;
				c->line_len = 0;
			} else if (ch == '\r') {
				c->state = HTTP_CHUNK_SIZE_LF;
				i++;
			} else if (ch == '\n') {
				c->state = HTTP_CHUNK_SIZE_LF;
			} else {
				goto bad;
			}
			break;
		}
		case HTTP_CHUNK_EXT:
			if (ch == '\r' || ch == '\n') {
				c->state = HTTP_CHUNK_SIZE_LF;
				i += ch == '\r';
			} else if (ch == 0 || ++c->line_len > CHUNK_LINE_MAX) {
				goto bad;
			} else {
				i++;
			}
			break;
		case HTTP_CHUNK_SIZE_LF:
			if (ch != '\n')
				goto bad;
			i++;
			c->digits = 0;
			c->line_len = 0;
			c->state = c->left ? HTTP_CHUNK_DATA : HTTP_CHUNK_TRAILER_START;
			break;
		case HTTP_CHUNK_DATA: {
			size_t n = len - i;
			if (n > c->left)
				n = (size_t)c->left;
			c->left -= n;
			i += n;
			if (c->left == 0)
				c->state = HTTP_CHUNK_DATA_CR;
			break;
		}
		case HTTP_CHUNK_DATA_CR:
			if (ch == '\r')
				c->state = HTTP_CHUNK_DATA_LF;
			else if (ch == '\n')
				c->state = HTTP_CHUNK_SIZE;
			else
				goto bad;
			i++;
			break;
		case HTTP_CHUNK_DATA_LF:
			if (ch != '\n')
				goto bad;
			c->state = HTTP_CHUNK_SIZE;
			i++;
			break;
		case HTTP_CHUNK_TRAILER_START:
			if (ch == '\r') {
				c->state = HTTP_CHUNK_END_LF;
			} else if (ch == '\n') {
				c->state = HTTP_CHUNK_DONE;
			} else {
				c->state = HTTP_CHUNK_TRAILER;
				break; /* this byte starts a trailer line */
			}
			i++;
			break;
		case HTTP_CHUNK_TRAILER:
			/* line_len counts the whole trailer section, not one line. */
			if (ch == 0 || ++c->line_len > CHUNK_LINE_MAX)
				goto bad;
			if (ch == '\n')
				c->state = HTTP_CHUNK_TRAILER_START;
			i++;
			break;
		case HTTP_CHUNK_END_LF:
			if (ch != '\n')
				goto bad;
			c->state = HTTP_CHUNK_DONE;
			i++;
			break;
		case HTTP_CHUNK_DONE:
			break;
		}
	}
	*used = i;
	c->consumed += i;
	return c->state == HTTP_CHUNK_DONE ? HTTP_CHUNK_END : HTTP_CHUNK_MORE;
bad:
	*used = i;
	c->consumed += i;
	return HTTP_CHUNK_BAD;
}
