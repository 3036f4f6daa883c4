/* dbwl.c - the whitelist kept in the store: reading, replacing, editing
 * (see dbwl.h). */
#include "dbwl.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define GEN_LINE "# generation "

uint64_t gl_dbwl_gen_decode(const unsigned char *p, size_t len)
{
	uint64_t g = 0;
	size_t i;

	if (len != 8)
		return UINT64_MAX; /* never equal to a cached generation */
	for (i = 0; i < 8; i++)
		g = (g << 8) | p[i];
	return g;
}

static void gen_encode(uint64_t g, unsigned char p[8])
{
	int i;

	for (i = 7; i >= 0; i--, g >>= 8)
		p[i] = (unsigned char)g;
}

void gl_dbwl_free(gl_dbwl *wl)
{
	free(wl->raw);
	memset(wl, 0, sizeof *wl);
}

/* Splits raw into its generation line and the entries after it. */
static void split(gl_dbwl *wl)
{
	const char *p = wl->raw + strlen(GEN_LINE), *nl;
	uint64_t g = 0;

	wl->text = wl->raw;
	wl->len = wl->rawlen;
	if (wl->rawlen < strlen(GEN_LINE) ||
	    strncmp(wl->raw, GEN_LINE, strlen(GEN_LINE)) != 0)
		return; /* written by 0.1: the generation is the one in "V" */
	nl = memchr(p, '\n', wl->rawlen - strlen(GEN_LINE));
	if (nl == NULL || nl == p || nl - p > 20)
		return;
	for (; p < nl; p++) {
		if (*p < '0' || *p > '9' || g > (UINT64_MAX - 9) / 10)
			return;
		g = g * 10 + (uint64_t)(*p - '0');
	}
	wl->gen = g;
	wl->text = nl + 1;
	wl->len = wl->rawlen - (size_t)(wl->text - wl->raw);
}

int gl_dbwl_read(gl_store *st, gl_dbwl *wl, gl_err *err)
{
	unsigned char gen[16];
	gl_get_item it[2];

	memset(wl, 0, sizeof *wl);
	if ((wl->raw = malloc(GL_DBWL_MAX + 1)) == NULL)
		return gl_fail(err, "out of memory");
	memset(it, 0, sizeof it);
	it[0].key = GL_DBWL_GEN_KEY, it[0].klen = 1;
	it[0].val = gen, it[0].vlen = sizeof gen;
	it[1].key = GL_DBWL_KEY, it[1].klen = 1;
	it[1].val = wl->raw, it[1].vlen = GL_DBWL_MAX;
	if (st->ops->get(st, it, 2, err) < 0) {
		gl_dbwl_free(wl);
		return -1;
	}
	wl->seen = it[0].found ? gl_dbwl_gen_decode(gen, it[0].vlen) : 0;
	wl->rawlen = it[1].found ? it[1].vlen : 0;
	wl->raw[wl->rawlen] = '\0';
	wl->gen = wl->rawlen ? wl->seen : 0;
	split(wl);
	if (wl->seen == UINT64_MAX)
		wl->seen = 0;
	if (wl->gen == UINT64_MAX)
		wl->gen = 0;
	return 0;
}

/* Moves "V" up to gen (never down: another writer may be ahead). */
static int raise_gen(gl_store *st, uint64_t gen, gl_err *err)
{
	unsigned char cur[16], next[8];
	size_t curlen;
	int i, rc;

	gen_encode(gen, next);
	for (i = 0; i < GL_DBWL_TRIES; i++) {
		curlen = sizeof cur;
		rc = gl_store_get(st, GL_DBWL_GEN_KEY, 1, cur, &curlen, err);
		if (rc < 0)
			return -1;
		if (rc == 1 && curlen == 8 && gl_dbwl_gen_decode(cur, 8) >= gen)
			return 0;
		rc = gl_store_cas(st, GL_DBWL_GEN_KEY, 1, rc == 1 ? cur : NULL,
				  curlen, next, sizeof next, 0, err);
		if (rc != 0)
			return rc < 0 ? -1 : 0;
	}
	return gl_fail(err, "generation key changed %d times", GL_DBWL_TRIES);
}

int gl_dbwl_write(gl_store *st, const gl_dbwl *cur, const char *text,
		  size_t len, gl_err *err)
{
	uint64_t gen = (cur->gen > cur->seen ? cur->gen : cur->seen) + 1;
	char head[40];
	char *val;
	size_t hl;
	int rc;
	gl_err why;

	hl = (size_t)snprintf(head, sizeof head, GEN_LINE "%llu\n",
			      (unsigned long long)gen);
	if (hl + len > GL_DBWL_MAX)
		return gl_fail(err, "whitelist in the database would exceed "
			       "%d bytes", GL_DBWL_MAX);
	if ((val = malloc(hl + len)) == NULL)
		return gl_fail(err, "out of memory");
	memcpy(val, head, hl);
	memcpy(val + hl, text, len);
	rc = gl_store_cas(st, GL_DBWL_KEY, 1, cur->rawlen ? cur->raw : NULL,
			  cur->rawlen, val, hl + len, 0, err);
	free(val);
	if (rc != 1)
		return rc;
	if (raise_gen(st, gen, &why) < 0)
		return gl_fail(err, "the whitelist was changed, but decisions "
			       "will see it only at the next change: %s",
			       why.msg);
	return 1;
}

/* ---- editing ---- */

/* What an edit does to the parsed list: returns how many entries it
 * changed (0: nothing to write), or -1 with err. */
typedef int edit_fn(void *arg, gl_whitelist *wl, gl_err *err);

/* Appends e's line to buf (GL_DBWL_MAX bytes, *len used). */
static int put_line(char *buf, size_t *len, const gl_wl_entry *e, gl_err *err)
{
	char line[GL_WL_LINE_MAX + 1];
	size_t n;

	if (gl_wl_format(e, line, sizeof line) < 0)
		return gl_fail(err, "whitelist entry too long");
	n = strlen(line);
	if (*len + n + 1 > GL_DBWL_MAX - 64)
		return gl_fail(err, "whitelist in the database would exceed "
			       "%d bytes", GL_DBWL_MAX);
	memcpy(buf + *len, line, n);
	buf[*len + n] = '\n';
	*len += n + 1;
	return 0;
}

static int edit(gl_store *st, int sender_normalize, edit_fn *fn, void *arg,
		gl_err *err)
{
	char *buf = malloc(GL_DBWL_MAX);
	int tries, changed = -1, rc;

	if (buf == NULL)
		return gl_fail(err, "out of memory");
	for (tries = 0; tries < GL_DBWL_TRIES; tries++) {
		gl_whitelist *wl = NULL;
		const gl_wl_entry *e;
		gl_dbwl cur;
		size_t len = 0;

		if (gl_dbwl_read(st, &cur, err) < 0)
			break;
		rc = gl_whitelist_parse_text(&wl, cur.text, cur.len,
					     sender_normalize, "database",
					     NULL, err);
		changed = rc < 0 ? -1 : fn(arg, wl, err);
		for (e = wl ? wl->head : NULL; changed > 0 && e; e = e->next)
			if (put_line(buf, &len, e, err) < 0)
				changed = -1;
		rc = changed > 0 ? gl_dbwl_write(st, &cur, buf, len, err) : 1;
		gl_whitelist_free(wl);
		gl_dbwl_free(&cur);
		if (rc < 0)
			changed = -1;
		if (rc != 0)
			break;
		changed = -1;
		gl_fail(err, "the whitelist in the database changed %d times "
			"while it was being edited", GL_DBWL_TRIES);
	}
	free(buf);
	return changed;
}

/* Unlinks and frees every entry the same as e; how many. */
static int drop_same(gl_whitelist *wl, const gl_wl_entry *e)
{
	gl_wl_entry **pp = &wl->head, *x;
	int n = 0;

	while ((x = *pp) != NULL) {
		if (gl_wl_same(x, e)) {
			*pp = x->next;
			gl_wl_entry_free(x);
			n++;
		} else {
			pp = &x->next;
		}
	}
	return n;
}

/* Appends a copy of e (through its own line, so nothing is shared). */
static int append_copy(gl_whitelist *wl, const gl_wl_entry *e, int normalize,
		       gl_err *err)
{
	char line[GL_WL_LINE_MAX + 1];
	gl_wl_entry *c, **tail;
	int blank;

	if (gl_wl_format(e, line, sizeof line) < 0)
		return gl_fail(err, "whitelist entry too long");
	c = gl_wl_parse(line, normalize, 0, "database", &blank, err);
	if (c == NULL)
		return -1;
	for (tail = &wl->head; *tail != NULL; tail = &(*tail)->next)
		;
	*tail = c;
	return 0;
}

typedef struct add_arg {
	const gl_wl_entry *e;
	const gl_whitelist *many;
	int normalize;
	int replaced;
} add_arg;

static int add_fn(void *arg, gl_whitelist *wl, gl_err *err)
{
	add_arg *a = arg;
	const gl_wl_entry *e;
	int n = 0;

	a->replaced = 0;
	for (e = a->many ? a->many->head : a->e; e != NULL;
	     e = a->many ? e->next : NULL) {
		a->replaced += drop_same(wl, e) > 0;
		if (append_copy(wl, e, a->normalize, err) < 0)
			return -1;
		n++;
	}
	return n;
}

int gl_dbwl_add(gl_store *st, int sender_normalize, const gl_wl_entry *e,
		int *replaced_r, gl_err *err)
{
	add_arg a = { e, NULL, sender_normalize, 0 };

	if (edit(st, sender_normalize, add_fn, &a, err) < 0)
		return -1;
	*replaced_r = a.replaced > 0;
	return 0;
}

int gl_dbwl_merge(gl_store *st, int sender_normalize, const gl_whitelist *add,
		  gl_err *err)
{
	add_arg a = { NULL, add, sender_normalize, 0 };

	if (add == NULL || add->head == NULL)
		return 0;
	return edit(st, sender_normalize, add_fn, &a, err) < 0 ? -1 : 0;
}

static int del_fn(void *arg, gl_whitelist *wl, gl_err *err)
{
	(void)err;
	return drop_same(wl, arg);
}

int gl_dbwl_del(gl_store *st, int sender_normalize, const gl_wl_entry *e,
		gl_err *err)
{
	int n = edit(st, sender_normalize, del_fn, (void *)e, err);

	return n < 0 ? -1 : n > 0;
}

typedef struct purge_arg {
	gl_time now;
	gl_whitelist gone;  /* removed by the last attempt */
} purge_arg;

static int purge_fn(void *arg, gl_whitelist *wl, gl_err *err)
{
	purge_arg *p = arg;
	gl_wl_entry **pp = &wl->head, *x, **tail;
	int n = 0;

	(void)err;
	gl_whitelist_free_entries(&p->gone);   /* an attempt that lost */
	tail = &p->gone.head;
	while ((x = *pp) != NULL) {
		if (gl_wl_expired(x, p->now)) {
			*pp = x->next;
			x->next = NULL;
			*tail = x;
			tail = &x->next;
			n++;
		} else {
			pp = &x->next;
		}
	}
	return n;
}

int gl_dbwl_purge(gl_store *st, int sender_normalize, gl_time now,
		  void (*removed)(void *arg, const gl_wl_entry *e), void *arg,
		  gl_err *err)
{
	purge_arg p = { now, { NULL } };
	const gl_wl_entry *e;
	int n = edit(st, sender_normalize, purge_fn, &p, err);

	/* Reported once the write that removed them is done. */
	for (e = p.gone.head; n > 0 && removed != NULL && e; e = e->next)
		removed(arg, e);
	gl_whitelist_free_entries(&p.gone);
	return n;
}
