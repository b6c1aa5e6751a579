/* live.c - live reload. See live.h. */
#include "live.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/inotify.h>
#include <unistd.h>

#include "cache.h"
#include "fileio.h"

#include "log.h"
#include "reply.h"
#include "watch.h"

const char live_script[] =
    "<script>/* simple-http-server --live */(function(){"
    "var es=new EventSource('/" LIVE_EVENTS_PATH "');"
    "es.addEventListener('reload',function(){location.reload();});"
    "es.addEventListener('css',function(){"
    "document.querySelectorAll('link[rel~=\"stylesheet\"]').forEach(function(l){"
    "var u=new URL(l.href);u.searchParams.set('shs-reload',Date.now());l.href=u.href;});});"
    "})();</script>\n";
const size_t live_script_len = sizeof live_script - 1;

static void on_change(void *ctx, const struct watch_change *ch);

int
live_init(struct live_state *l, struct watch *w, int dotfiles, const uint64_t *clock)
{
	l->clock = clock;
	l->due_ms = UINT64_MAX;
	l->heartbeat_ms = *clock + LIVE_HEARTBEAT_MS;
	int r = watch_tree(w, dotfiles, on_change, l);
	if (r < 0)
		return r;
	l->on = 1; /* server_setup.c says how many directories, once for all workers */
	return 0;
}

static int
is_css(const char *name, size_t n)
{
	return n > 4 && strncasecmp(name + n - 4, ".css", 4) == 0;
}

static void drop_pages(struct live_state *l);

static void
note_change(struct live_state *l, const char *dir, size_t dlen, const char *name, size_t n, int css)
{
	if (!l->pending) {
		l->pending = 1;
		l->css_only = 1;
	}
	if (!css)
		l->css_only = 0;
	int w = snprintf(l->changed, sizeof l->changed, "/%.*s%.*s", (int)dlen, dir, (int)n, name);
	if (w < 0 || (size_t)w >= sizeof l->changed)
		strcpy(l->changed, "/");
	l->due_ms = *l->clock + LIVE_DEBOUNCE_MS;
	drop_pages(l);
}

/* The watcher's word: something changed in the tree (it follows new
 * directories itself). Editor droppings are no change to the site. */
static void
on_change(void *ctx, const struct watch_change *ch)
{
	struct live_state *l = ctx;
	if (ch->mask & IN_Q_OVERFLOW) {
		log_warn("--live: inotify queue overflowed; reloading everything");
		note_change(l, "", 0, "", 0, 0);
		return;
	}
	if (watch_ignorable(ch->name, ch->name_len) &&
	    !(ch->mask & (IN_DELETE_SELF | IN_MOVE_SELF)))
		return;
	note_change(l, ch->dir, ch->dir_len, ch->name, ch->name_len,
	            !(ch->mask & IN_ISDIR) && is_css(ch->name, ch->name_len));
}

/* A change event at most (the path in it is cut at 255 bytes); one that
 * does not fit is not sent. */
#define EVENT_MAX 400

/* Appends what snprintf wrote (n) if it fits; returns the new length. */
static size_t
append(size_t len, size_t cap, int n)
{
	return n > 0 && (size_t)n < cap - len ? len + (size_t)n : len;
}

size_t
live_tick(struct live_state *l, unsigned clients, char *msg, size_t cap, uint64_t *next_ms)
{
	size_t len = 0;
	*next_ms = UINT64_MAX;
	if (!l->on)
		return 0;
	uint64_t now = *l->clock;
	if (l->pending && now >= l->due_ms) {
		int n = snprintf(msg, cap < EVENT_MAX ? cap : EVENT_MAX, "event: %s\ndata: %s\n\n",
		                 l->css_only ? "css" : "reload", l->changed);
		log_info("--live: %s after a change to %s (%u client(s))",
		         l->css_only ? "swapping stylesheets" : "reloading", l->changed, clients);
		len = append(len, cap < EVENT_MAX ? cap : EVENT_MAX, n);
		l->pending = 0;
		l->due_ms = UINT64_MAX;
	}
	if (now >= l->heartbeat_ms) {
		len = append(len, cap, snprintf(msg + len, cap - len, ": heartbeat\n\n"));
		l->heartbeat_ms = now + LIVE_HEARTBEAT_MS;
	}
	*next_ms = l->due_ms < l->heartbeat_ms ? l->due_ms : l->heartbeat_ms;
	return len;
}

void
live_free(struct live_state *l)
{
	drop_pages(l);
	l->on = 0; /* the watches are the watcher's: watch_free */
}

static const char *
find_last_tag(const char *html, size_t len, const char *tag)
{
	size_t n = strlen(tag);
	for (size_t i = len; i >= n; i--)
		if (strncasecmp(html + i - n, tag, n) == 0)
			return html + i - n;
	return NULL;
}

size_t
live_inject_at(const char *html, size_t len)
{
	const char *p = find_last_tag(html, len, "</body>");
	if (!p)
		p = find_last_tag(html, len, "</head>");
	return p ? (size_t)(p - html) : len;
}

size_t
live_splice(char *html, size_t len, const char *snippet, size_t n)
{
	size_t at = live_inject_at(html, len);
	memmove(html + at + n, html + at, len - at);
	memcpy(html + at, snippet, n);
	return len + n;
}

/* ---- pages with the script, one shared copy per file version ---- */

static int
same_version(const struct live_page *p, const struct stat *st)
{
	return p->dev == st->st_dev && p->ino == st->st_ino && p->size == st->st_size &&
	       p->mtim.tv_sec == st->st_mtim.tv_sec && p->mtim.tv_nsec == st->st_mtim.tv_nsec &&
	       p->ctim.tv_sec == st->st_ctim.tv_sec && p->ctim.tv_nsec == st->st_ctim.tv_nsec;
}

static void
drop_page(struct live_page *p)
{
	if (p->entry)
		cache_unref(p->entry);
	p->entry = NULL;
}

/* Any change under the top dir: the table lets go of every page. Responses
 * still sending one keep it until they are done. */
static void
drop_pages(struct live_state *l)
{
	for (size_t i = 0; i < LIVE_PAGES_MAX; i++)
		drop_page(&l->pages[i]);
}

/* The free or least recently used slot. */
static struct live_page *
page_slot(struct live_state *l)
{
	struct live_page *best = &l->pages[0];
	for (size_t i = 0; i < LIVE_PAGES_MAX; i++) {
		struct live_page *p = &l->pages[i];
		if (!p->entry)
			return p;
		if (p->used < best->used)
			best = p;
	}
	return best;
}

/* Drops the least recently used pages until need more bytes fit the
 * budget, or none is left in the table. */
static int
make_room(struct live_state *l, size_t need)
{
	while (l->page_bytes + need > LIVE_PAGE_BYTES_MAX) {
		struct live_page *victim = NULL;
		for (size_t i = 0; i < LIVE_PAGES_MAX; i++)
			if (l->pages[i].entry && (!victim || l->pages[i].used < victim->used))
				victim = &l->pages[i];
		if (!victim)
			return 0;
		drop_page(victim);
	}
	return 1;
}

/* The file at fd with the script put in, read once for this version.
 * Returns a reference for the caller, or NULL (*status says why). */
static struct cache_entry *
page_for(struct live_state *l, int fd, const struct stat *st, const char *type, int *status)
{
	l->page_clock++;
	for (size_t i = 0; i < LIVE_PAGES_MAX; i++) {
		struct live_page *p = &l->pages[i];
		if (p->entry && same_version(p, st)) {
			p->used = l->page_clock;
			cache_ref(p->entry);
			return p->entry;
		}
	}
	size_t size = (size_t)st->st_size, need = size + live_script_len;
	if (!make_room(l, need)) {
		/* Clients that do not read hold every byte of the budget. */
		if (!l->warned_pages) {
			l->warned_pages = 1;
			log_warn("--live: %zu MiB of pages still being sent; answering 503 "
			         "until clients take them",
			         l->page_bytes >> 20);
		}
		*status = 503;
		return NULL;
	}
	*status = 500;
	char *body = malloc(need);
	if (!body || fileio_read_all(fd, body, size) != (ssize_t)size) {
		free(body); /* out of memory, or the file shrank: the next try sees it */
		return NULL;
	}
	live_splice(body, size, live_script, live_script_len);
	struct cache_entry *e = cache_private(body, need, type);
	if (!e)
		return NULL;
	e->account = &l->page_bytes;
	l->page_bytes += need;
	l->warned_pages = 0;
	struct live_page *p = page_slot(l);
	drop_page(p);
	*p = (struct live_page){e,           st->st_dev,  st->st_ino,   st->st_size,
	                        st->st_mtim, st->st_ctim, l->page_clock};
	cache_ref(e); /* the table's */
	return e;
}

/* --live: the page with the reload script put in, from one copy in memory
 * per version of the file, shared by all clients (a client that does not
 * read holds a reference, not a copy). The file on disk is never touched;
 * ranges are not offered on this variant. */
void
live_respond_page(const struct site *s, struct reply *r, int fd, const struct stat *st,
                  const struct reply_file *fi, const char *type)
{
	int status = 500;
	struct cache_entry *e = page_for(s->live, fd, st, type, &status);
	close(fd);
	if (!e) {
		if (status == 503)
			reply_status(s, r, 503, "Retry-After", "1");
		else
			reply_error(s, r, status);
		return;
	}
	struct resp_buf b;
	reply_head_with_body(s, r, &b, 200, type, (uint64_t)e->st.st_size);
	reply_validators(r, &b, fi);
	reply_end_headers(s, r, &b);
	if (b.overflow)
		reply_overflow(r, -1, 200);
	else
		reply_plan_mem(r, 200, b.len, e);
	cache_unref(e);
}

/* GET /__simple-http-server/events: a Server-Sent Events stream, held open
 * by the loop like any other connection and written on each change. */
unsigned
live_streams_max(const struct server_config *cfg)
{
	unsigned half = cfg->max_conns / 2;
	if (half == 0)
		half = 1;
	return half < LIVE_STREAMS_MAX ? half : LIVE_STREAMS_MAX;
}

void
live_respond_events(const struct site *s, struct reply *r)
{
	r->keep_alive = 0; /* the stream ends when the connection does */
	if (!r->head_only && *s->streams_open >= s->streams_max) {
		log_warn("--live: %u event streams open; answering 503 to another",
		         *s->streams_open);
		reply_status(s, r, 503, "Retry-After", "1");
		return;
	}
	struct resp_buf b;
	reply_begin(s, r, &b, 200);
	resp_header(&b, "Content-Type", "text/event-stream");
	r->no_cache = 1;
	reply_end_headers(s, r, &b);
	size_t head = b.len;
	if (!r->head_only)
		resp_adds(&b, "retry: 1000\n: simple-http-server live reload\n\n");
	reply_plan(r, 200, b.len, -1, 0, 0);
	r->head_len = head;
	r->sse = !r->head_only;
	if (r->sse)
		(*s->streams_open)++; /* the server gives it back when the connection goes */
}
