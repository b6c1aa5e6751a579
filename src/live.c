/* live.c - live reload. See live.h. */
#include "live.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/inotify.h>
#include <unistd.h>

#include "cache.h"

#include "server.h"
#include "log.h"
#include "path.h"
#include "reply.h"

const char live_script[] =
    "<script>/* simple-http-server --live */(function(){"
    "var es=new EventSource('/" LIVE_EVENTS_PATH "');"
    "es.addEventListener('reload',function(){location.reload();});"
    "es.addEventListener('css',function(){"
    "document.querySelectorAll('link[rel~=\"stylesheet\"]').forEach(function(l){"
    "var u=new URL(l.href);u.searchParams.set('shs-reload',Date.now());l.href=u.href;});});"
    "})();</script>\n";
const size_t live_script_len = sizeof live_script - 1;

#define LIVE_MASK                                                                                  \
	(IN_CLOSE_WRITE | IN_MODIFY | IN_CREATE | IN_DELETE | IN_MOVED_FROM | IN_MOVED_TO |        \
	 IN_ATTRIB | IN_DELETE_SELF | IN_MOVE_SELF | IN_ONLYDIR)

static void on_inotify(void *self, uint32_t events);

/* The table entry for wd, or -1. */
static long
find_watch(const struct live_state *l, int wd)
{
	for (size_t i = 0; i < l->nwatches; i++)
		if (l->watches[i].wd == wd)
			return (long)i;
	return -1;
}

/* Records dir under wd. inotify gives one wd per inode, so a directory that
 * comes back (moved away and back, or renamed within the tree) gets the wd
 * it had: its entry is renamed, never duplicated. */
static int
record_watch(struct live_state *l, int wd, const char *dir, size_t len)
{
	char *copy = malloc(len + 1);
	if (!copy)
		return -ENOMEM;
	memcpy(copy, dir, len + 1);
	long i = find_watch(l, wd);
	if (i >= 0) {
		free(l->watches[i].dir);
		l->watches[i].dir = copy;
		l->watches[i].dir_len = len;
		return 0;
	}
	if (l->nwatches == l->cap) {
		size_t cap = l->cap ? 2 * l->cap : 64;
		struct live_watch *w = realloc(l->watches, cap * sizeof *w);
		if (!w) {
			free(copy);
			return -ENOMEM;
		}
		l->watches = w;
		l->cap = cap;
	}
	l->watches[l->nwatches++] = (struct live_watch){wd, len, copy};
	return 0;
}

/* Drops entry i; the table is unordered. */
static void
drop_watch(struct live_state *l, size_t i)
{
	free(l->watches[i].dir);
	l->watches[i] = l->watches[--l->nwatches];
}

/* A directory moved away: its watches and those of everything below it go
 * (a MOVED_TO elsewhere in the tree adds them again). Without this, a
 * directory moved out of the tree would stay watched for good. */
static void
forget_tree(struct live_state *l, const char *dir, size_t len)
{
	for (size_t i = 0; i < l->nwatches;) {
		struct live_watch *w = &l->watches[i];
		if (w->dir_len >= len && memcmp(w->dir, dir, len) == 0) {
			/* IN_IGNORED follows for wd; by then it is unknown. */
			(void)inotify_rm_watch(l->fd, w->wd);
			drop_watch(l, i);
		} else {
			i++;
		}
	}
}

static int
add_watch(struct server *srv, const char *dir, size_t len)
{
	struct live_state *l = &srv->live;
	struct stat st;
	int fd = path_open(srv->rootfd, dir, &st);
	if (fd < 0)
		return fd;
	char proc[64];
	snprintf(proc, sizeof proc, "/proc/self/fd/%d", fd);
	int wd = inotify_add_watch(l->fd, proc, LIVE_MASK & ~(uint32_t)IN_ONLYDIR);
	int e = errno;
	if (wd < 0) {
		close(fd);
		if (e == ENOSPC && !l->warned_limit) {
			l->warned_limit = 1;
			log_warn("--live: out of inotify watches at '/%s'; raise "
			         "fs.inotify.max_user_watches to watch everything",
			         dir);
		}
		return -e;
	}
	int r = record_watch(l, wd, dir, len);
	if (r < 0) {
		(void)inotify_rm_watch(l->fd, wd);
		close(fd);
		return r;
	}

	/* Walk what is already inside: directories made before this watch
	 * existed would otherwise never be seen. */
	DIR *d = fdopendir(fd);
	if (!d) {
		close(fd);
		return 0;
	}
	struct dirent *de;
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.' && (!srv->cfg->dotfiles || de->d_name[1] == '\0' ||
		                             (de->d_name[1] == '.' && de->d_name[2] == '\0')))
			continue;
		if (de->d_type != DT_DIR)
			continue; /* DT_LNK: symlinked directories are not followed */
		char sub[4096];
		int n = snprintf(sub, sizeof sub, "%s%s/", dir, de->d_name);
		if (n > 0 && (size_t)n < sizeof sub)
			(void)add_watch(srv, sub, (size_t)n);
	}
	closedir(d);
	return 0;
}

size_t
live_watch_count(const struct server *srv)
{
	return srv->live.nwatches;
}

const char *
live_watch_dir(const struct server *srv, int wd)
{
	long i = find_watch(&srv->live, wd);
	return i < 0 ? NULL : srv->live.watches[i].dir;
}

int
live_init(struct server *srv)
{
	struct live_state *l = &srv->live;
	l->handler = (struct loop_handler){.on_event = on_inotify};
	l->srv = srv;
	l->fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	if (l->fd < 0)
		return -errno;
	l->due_ms = UINT64_MAX;
	l->heartbeat_ms = srv->now_ms + LIVE_HEARTBEAT_MS;
	int r = add_watch(srv, "", 0);
	if (r < 0)
		return r;
	log_info("--live: watching %zu directories", l->nwatches);
	return 0;
}

static int
is_css(const char *name, size_t n)
{
	return n > 4 && strncasecmp(name + n - 4, ".css", 4) == 0;
}

/* Editor droppings that are no change to the site. */
static int
ignorable(const char *name, size_t n)
{
	return n == 0 || name[0] == '.' || name[n - 1] == '~' ||
	       (n > 4 && strcmp(name + n - 4, ".swp") == 0) || name[0] == '#';
}

static void drop_pages(struct live_state *l);

static void
note_change(struct server *srv, const char *dir, size_t dlen, const char *name, size_t n, int css)
{
	struct live_state *l = &srv->live;
	if (!l->pending) {
		l->pending = 1;
		l->css_only = 1;
	}
	if (!css)
		l->css_only = 0;
	int w = snprintf(l->changed, sizeof l->changed, "/%.*s%.*s", (int)dlen, dir, (int)n, name);
	if (w < 0 || (size_t)w >= sizeof l->changed)
		strcpy(l->changed, "/");
	l->due_ms = srv->now_ms + LIVE_DEBOUNCE_MS;
	drop_pages(l);
}

static void
apply_event(struct server *srv, const struct inotify_event *ev)
{
	struct live_state *l = &srv->live;
	if (ev->mask & IN_Q_OVERFLOW) {
		log_warn("--live: inotify queue overflowed; reloading everything");
		note_change(srv, "", 0, "", 0, 0);
		/* Lost events may have been renames: watch the tree afresh. */
		forget_tree(l, "", 0);
		(void)add_watch(srv, "", 0);
		return;
	}
	long i = find_watch(l, ev->wd);
	if (i < 0)
		return; /* a watch we already dropped */
	if (ev->mask & IN_IGNORED) {
		drop_watch(l, (size_t)i);
		return;
	}
	size_t n = strnlen(ev->name, ev->len);
	if (ignorable(ev->name, n) && !(ev->mask & (IN_DELETE_SELF | IN_MOVE_SELF)))
		return;
	/* The path of the entry, copied: add_watch and forget_tree below
	 * change (and may move) the table an entry pointer would point into. */
	char sub[4096];
	int k = snprintf(sub, sizeof sub, "%s%.*s/", l->watches[i].dir, (int)n, ev->name);
	size_t dlen = l->watches[i].dir_len;
	if (k <= 0 || (size_t)k >= sizeof sub) {
		note_change(srv, l->watches[i].dir, dlen, ev->name, n, 0);
		return; /* too deep to watch below */
	}
	note_change(srv, sub, dlen, ev->name, n, !(ev->mask & IN_ISDIR) && is_css(ev->name, n));
	if (!(ev->mask & IN_ISDIR) || n == 0)
		return;
	if (ev->mask & IN_MOVED_FROM)
		forget_tree(l, sub, (size_t)k);
	if (ev->mask & (IN_CREATE | IN_MOVED_TO))
		(void)add_watch(srv, sub, (size_t)k);
}

void
live_apply_events(struct server *srv)
{
	char buf[8192] __attribute__((aligned(__alignof__(struct inotify_event))));
	for (;;) {
		ssize_t n = read(srv->live.fd, buf, sizeof buf);
		if (n <= 0) {
			if (n < 0 && errno == EINTR)
				continue;
			return;
		}
		for (char *p = buf; p < buf + n;) {
			const struct inotify_event *ev = (const struct inotify_event *)p;
			apply_event(srv, ev);
			p += sizeof *ev + ev->len;
		}
	}
}

static void
on_inotify(void *self, uint32_t events)
{
	struct live_state *l = self;
	(void)events;
	live_apply_events(l->srv);
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
live_tick(struct server *srv, char *msg, size_t cap, uint64_t *next_ms)
{
	struct live_state *l = &srv->live;
	size_t len = 0;
	*next_ms = UINT64_MAX;
	if (l->fd < 0)
		return 0;
	if (l->pending && srv->now_ms >= l->due_ms) {
		int n = snprintf(msg, cap < EVENT_MAX ? cap : EVENT_MAX, "event: %s\ndata: %s\n\n",
		                 l->css_only ? "css" : "reload", l->changed);
		log_info("--live: %s after a change to %s (%u client(s))",
		         l->css_only ? "swapping stylesheets" : "reloading", l->changed,
		         srv->streams.count);
		len = append(len, cap < EVENT_MAX ? cap : EVENT_MAX, n);
		l->pending = 0;
		l->due_ms = UINT64_MAX;
	}
	if (srv->now_ms >= l->heartbeat_ms) {
		len = append(len, cap, snprintf(msg + len, cap - len, ": heartbeat\n\n"));
		l->heartbeat_ms = srv->now_ms + LIVE_HEARTBEAT_MS;
	}
	*next_ms = l->due_ms < l->heartbeat_ms ? l->due_ms : l->heartbeat_ms;
	return len;
}

void
live_free(struct server *srv)
{
	struct live_state *l = &srv->live;
	for (size_t i = 0; i < l->nwatches; i++)
		free(l->watches[i].dir);
	free(l->watches);
	l->watches = NULL;
	drop_pages(l);
	l->nwatches = l->cap = 0;
	if (l->fd >= 0)
		close(l->fd);
	l->fd = -1;
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
	size_t got = 0;
	while (body && got < size) {
		ssize_t n = pread(fd, body + got, size - got, (off_t)got);
		if (n <= 0)
			break;
		got += (size_t)n;
	}
	if (!body || got != size) {
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
