/* byteranges.c - 206 responses: one range inline, several as
 * multipart/byteranges sent one part header at a time. See byteranges.h. */
#include "byteranges.h"

#include <stdio.h>
#include <string.h>

#include "reply.h"

/* "\r\n--B\r\nContent-Type: T\r\nContent-Range: bytes a-b/size\r\n\r\n" */
static void
part_header(struct resp_buf *b, const struct site *s, const struct reply *rp, const struct range *r)
{
	resp_adds(b, "\r\n--");
	resp_adds(b, s->boundary);
	resp_adds(b, "\r\nContent-Type: ");
	resp_adds(b, rp->part_type);
	resp_adds(b, "\r\nContent-Range: bytes ");
	resp_addu(b, r->first);
	resp_add(b, "-", 1);
	resp_addu(b, r->last);
	resp_add(b, "/", 1);
	resp_addu(b, (uint64_t)rp->file_size);
	resp_adds(b, "\r\n\r\n");
}

static void
part_trailer(struct resp_buf *b, const struct site *s)
{
	resp_adds(b, "\r\n--");
	resp_adds(b, s->boundary);
	resp_adds(b, "--\r\n");
}

int
byteranges_next_part(const struct site *s, struct reply *rp)
{
	if (rp->nranges == 0 || rp->range_idx >= rp->nranges)
		return 0;
	rp->range_idx++;
	struct resp_buf b;
	resp_init(&b, rp->buf, rp->cap);
	if (rp->range_idx < rp->nranges) {
		const struct range *r = &rp->ranges[rp->range_idx];
		part_header(&b, s, rp, r);
		rp->off = (off_t)r->first;
		rp->end = (off_t)r->last + 1;
	} else {
		part_trailer(&b, s);
		rp->off = rp->end = 0;
	}
	rp->len = b.len;
	return 1;
}

/* 206 for the ranges in rp->ranges: one part inline, several as
 * multipart/byteranges whose exact length is known up front. */
void
byteranges_respond(const struct site *s, struct reply *rp, int fd, const struct stat *st,
                   const struct reply_file *fi, const char *type)
{
	struct resp_buf b;
	reply_begin(s, rp, &b, 206);
	const struct range *r0 = &rp->ranges[0];
	if (rp->nranges == 1) {
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
		for (unsigned i = 0; i < rp->nranges; i++) {
			resp_init(&sb, scratch, sizeof scratch);
			part_header(&sb, s, rp, &rp->ranges[i]);
			total += sb.len + rp->ranges[i].last - rp->ranges[i].first + 1;
		}
		resp_init(&sb, scratch, sizeof scratch);
		part_trailer(&sb, s);
		total += sb.len;
		resp_adds(&b, "Content-Type: multipart/byteranges; boundary=");
		resp_adds(&b, s->boundary);
		resp_adds(&b, "\r\nContent-Length: ");
		resp_addu(&b, total);
		resp_add(&b, "\r\n", 2);
	}
	if (fi->encoding)
		resp_header(&b, "Content-Encoding", fi->encoding);
	reply_validators(rp, &b, fi);
	reply_end_headers(s, rp, &b);
	size_t head = b.len;
	if (rp->nranges > 1 && !rp->head_only)
		part_header(&b, s, rp, r0);
	if (b.overflow) {
		reply_overflow(rp, fd, 206);
		return;
	}
	if (rp->nranges == 1 || rp->head_only)
		rp->nranges = 0; /* nothing more to interleave */
	reply_plan(rp, 206, b.len, fd, (off_t)r0->first, (off_t)r0->last + 1);
	rp->head_len = head;
}
