/* byteranges.c - 206 responses: one range inline, several as
 * multipart/byteranges sent one part header at a time. See byteranges.h. */
#include "byteranges.h"

#include <stdio.h>
#include <string.h>

#include "reply.h"

/* "\r\n--B\r\nContent-Type: T\r\nContent-Range: bytes a-b/size\r\n\r\n" */
static void
part_header(struct resp_buf *b, const struct conn *c, const struct range *r)
{
	resp_adds(b, "\r\n--");
	resp_adds(b, c->srv->boundary);
	resp_adds(b, "\r\nContent-Type: ");
	resp_adds(b, c->part_type);
	resp_adds(b, "\r\nContent-Range: bytes ");
	resp_addu(b, r->first);
	resp_add(b, "-", 1);
	resp_addu(b, r->last);
	resp_add(b, "/", 1);
	resp_addu(b, (uint64_t)c->file_size);
	resp_adds(b, "\r\n\r\n");
}

static void
part_trailer(struct resp_buf *b, const struct conn *c)
{
	resp_adds(b, "\r\n--");
	resp_adds(b, c->srv->boundary);
	resp_adds(b, "--\r\n");
}

int
byteranges_next_part(struct conn *c)
{
	if (c->nranges == 0 || c->range_idx >= c->nranges)
		return 0;
	c->range_idx++;
	struct resp_buf b;
	resp_init(&b, c->out, sizeof c->out);
	if (c->range_idx < c->nranges) {
		const struct range *r = &c->ranges[c->range_idx];
		part_header(&b, c, r);
		c->file_off = (off_t)r->first;
		c->file_end = (off_t)r->last + 1;
	} else {
		part_trailer(&b, c);
		c->file_off = c->file_end = 0;
	}
	c->out_off = 0;
	c->out_len = b.len;
	return 1;
}

/* 206 for the ranges in c->ranges: one part inline, several as
 * multipart/byteranges whose exact length is known up front. */
void
byteranges_respond(struct conn *c, int fd, const struct stat *st, const struct reply_file *fi,
                   const char *type)
{
	struct resp_buf b;
	resp_init(&b, c->out, sizeof c->out);
	reply_common_headers(c, &b, 206);
	const struct range *r0 = &c->ranges[0];
	if (c->nranges == 1) {
		resp_header(&b, "Content-Type", type);
		resp_adds(&b, "Content-Length: ");
		resp_addu(&b, r0->last - r0->first + 1);
		resp_adds(&b, "\r\nContent-Range: bytes ");
		resp_addu(&b, r0->first);
		resp_add(&b, "-", 1);
		resp_addu(&b, r0->last);
		resp_add(&b, "/", 1);
		resp_addu(&b, (uint64_t)st->st_size);
		resp_add(&b, "\r\n", 2);
	} else {
		uint64_t total = 0;
		char scratch[512];
		struct resp_buf sb;
		for (unsigned i = 0; i < c->nranges; i++) {
			resp_init(&sb, scratch, sizeof scratch);
			part_header(&sb, c, &c->ranges[i]);
			total += sb.len + c->ranges[i].last - c->ranges[i].first + 1;
		}
		resp_init(&sb, scratch, sizeof scratch);
		part_trailer(&sb, c);
		total += sb.len;
		resp_adds(&b, "Content-Type: multipart/byteranges; boundary=");
		resp_adds(&b, c->srv->boundary);
		resp_adds(&b, "\r\nContent-Length: ");
		resp_addu(&b, total);
		resp_add(&b, "\r\n", 2);
	}
	if (fi->encoding)
		resp_header(&b, "Content-Encoding", fi->encoding);
	reply_validators(c, &b, fi);
	reply_end_headers(c, &b);
	size_t head = b.len;
	if (c->nranges > 1 && !c->head_only)
		part_header(&b, c, r0);
	if (b.overflow) {
		reply_overflow(c, fd, 206);
		return;
	}
	if (c->nranges == 1 || c->head_only)
		c->nranges = 0; /* nothing more to interleave */
	reply_plan(c, 206, b.len, fd, (off_t)r0->first, (off_t)r0->last + 1);
	c->head_bytes = head;
}
