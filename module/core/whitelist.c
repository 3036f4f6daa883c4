/* whitelist.c - parsing and matching whitelist entries. */
#include "whitelist.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "addr.h"
#include "parse.h"
#include "rx.h"
#include "triplet.h"


void gl_wl_entry_free(gl_wl_entry *e)
{
	if (e == NULL)
		return;
	free(e->value);
	free(e->entry);
	free(e->owner);
	free(e->comment);
	free(e->origin);
	gl_rx_free(e->rx);
	free(e);
}

/* Creates *wlp when NULL and points *tail_r at the end of its list. */
static int list_tail(gl_whitelist **wlp,
		     gl_wl_entry ***tail_r, gl_err *err)
{
	gl_wl_entry **tail;

	if (*wlp == NULL) {
		*wlp = calloc(1, sizeof **wlp);
		if (*wlp == NULL)
			return gl_fail(err, "out of memory");
	}
	for (tail = &(*wlp)->head; *tail != NULL; tail = &(*tail)->next)
		;
	*tail_r = tail;
	return 0;
}

int gl_whitelist_parse_text(gl_whitelist **wlp, const char *text, size_t len,
			    int sender_normalize, const char *origin,
			    gl_notes *notes, gl_err *err)
{
	char line[GL_WL_LINE_MAX + 1];
	gl_wl_entry *e, **tail = NULL;
	const char *p = text, *end = text + len, *nl;
	unsigned lineno = 0;
	gl_err why;
	int blank;

	if (list_tail(wlp, &tail, err) < 0)
		return -1;
	for (; p < end; p = nl + 1) {
		nl = memchr(p, '\n', (size_t)(end - p));
		if (nl == NULL)
			nl = end;
		lineno++;
		if ((size_t)(nl - p) > GL_WL_LINE_MAX ||
		    memchr(p, '\0', (size_t)(nl - p))) {
			gl_note(notes, "%s: entry %u: too long or holds a NUL "
				"byte; skipped", origin, lineno);
			continue;
		}
		memcpy(line, p, (size_t)(nl - p));
		line[nl - p] = '\0';
		e = gl_wl_parse(line, sender_normalize, 0, origin, &blank, &why);
		if (e != NULL) {
			*tail = e;
			tail = &e->next;
		} else if (!blank) {
			gl_note(notes, "%s: entry %u: %s; skipped", origin,
				lineno, why.msg);
		}
	}
	return 0;
}

int gl_wl_expired(const gl_wl_entry *e, gl_time now)
{
	return e->expires != 0 && now > e->expires;
}

gl_wl_entry *gl_wl_make(const char *entry, const char *owner,
			const char *expires, const char *comment,
			int sender_normalize, gl_time base, const char *origin,
			gl_err *err)
{
	char raw[GL_WL_LINE_MAX + 1];
	int n, blank;
	gl_wl_entry *e;

	if (strpbrk(entry, " \t\r\n#") || strpbrk(owner, " \t\r\n#") ||
	    (expires && strpbrk(expires, " \t\r\n#")) ||
	    strpbrk(comment, "\r\n")) {
		gl_fail(err, "entry, owner and expiry cannot hold white space or "
			"'#', a comment no newline");
		return NULL;
	}
	n = snprintf(raw, sizeof raw, "%s%s%s%s%s%s%s", entry,
		     *owner ? " owner=" : "", owner, expires ? " expires=" : "",
		     expires ? expires : "", *comment ? " # " : "", comment);
	if (n < 0 || (size_t)n >= sizeof raw) {
		gl_fail(err, "entry longer than %d bytes", GL_WL_LINE_MAX);
		return NULL;
	}
	e = gl_wl_parse(raw, sender_normalize, base, origin, &blank, err);
	if (e == NULL && blank)
		gl_fail(err, "empty entry");
	return e;
}

int gl_wl_same(const gl_wl_entry *a, const gl_wl_entry *b)
{
	if (a->type != b->type)
		return 0;
	if (a->type == GL_WL_NET)
		return cidr_equals(&a->net, &b->net) == 0;
	return a->value != NULL && b->value != NULL &&
	       strcmp(a->value, b->value) == 0;
}

int gl_wl_format(const gl_wl_entry *e, char *buf, size_t sz)
{
	char exp[32] = "";
	int n;

	if (e->expires != 0)
		snprintf(exp, sizeof exp, " expires=@%lld", (long long)e->expires);
	n = snprintf(buf, sz, "%s%s%s%s%s%s", e->entry, *e->owner ? " owner=" : "",
		     e->owner, exp, *e->comment ? " # " : "", e->comment);
	return n < 0 || (size_t)n >= sz ? -1 : 0;
}

void gl_whitelist_free_entries(gl_whitelist *wl)
{
	gl_wl_entry *e, *next;

	for (e = wl->head; e != NULL; e = next) {
		next = e->next;
		gl_wl_entry_free(e);
	}
	wl->head = NULL;
}

void gl_whitelist_free(gl_whitelist *wl)
{
	if (wl == NULL)
		return;
	gl_whitelist_free_entries(wl);
	free(wl);
}

int gl_parse_expiry(const char *s, gl_time base, gl_time *t_r)
{
	int64_t ms;
	int y, m, d;
	char tail;
	struct tm tm;

	if (sscanf(s, "%4d-%2d-%2d%c", &y, &m, &d, &tail) == 3 &&
	    strlen(s) == 10 && y >= 1970 && y <= 9999 && m >= 1 && m <= 12 &&
	    d >= 1 && d <= 31) {
		memset(&tm, 0, sizeof tm);
		tm.tm_year = y - 1900;
		tm.tm_mon = m - 1;
		tm.tm_mday = d + 1; /* the end of that day */
		*t_r = (gl_time)timegm(&tm) - 1;
		return 0;
	}
	if (s[0] == '@') { /* absolute Unix time, as the database keeps it */
		char *end;
		long long t = strtoll(s + 1, &end, 10);

		if (!isdigit((unsigned char)s[1]) || *end != '\0' || t <= 0)
			return -1;
		*t_r = (gl_time)t;
		return 0;
	}
	if (gl_parse_duration(s, 0, &ms) < 0)
		return -1;
	*t_r = base + ms / 1000;
	return 0;
}

static char *dup_lower(const char *s, size_t n)
{
	char *d = strndup(s, n);

	if (d != NULL)
		gl_lower(d);
	return d;
}

static int valid_domain(const char *s)
{
	return gl_valid_name(s, GL_DNS_NAME_MAX);
}

/* Fills e->type, e->value and e->net from the ENTRY word. */
static int classify(gl_wl_entry *e, const char *w, int normalize, gl_err *err)
{
	char buf[GL_ADDR_MAX + 1], p[80];

	if (!strncmp(w, "rcpt:", 5)) {
		w += 5;
		e->type = strchr(w, '@') ? GL_WL_RCPT : GL_WL_RCPT_DOMAIN;
		if (*w == '\0' || (e->type == GL_WL_RCPT_DOMAIN && !valid_domain(w)))
			return gl_fail(err, "'rcpt:' wants an address or a domain");
	} else if (!strncmp(w, "host:", 5)) {
		w += 5;
		e->type = GL_WL_HOST;
		if (!valid_domain(w[0] == '*' && w[1] == '.' ? w + 2 : w))
			return gl_fail(err, "'host:' wants a host name, "
				       "optionally starting with '*.'");
	} else if (strchr(w, '@') != NULL || !strcmp(w, "<>")) {
		e->type = GL_WL_SENDER;
		if (gl_fold_sender(w, normalize, buf, sizeof buf, err) < 0)
			return -1;
		w = buf;
	} else if (strchr(w, ':') != NULL || strchr(w, '/') != NULL ||
		   (isdigit((unsigned char)w[strlen(w) - 1]) &&
		    strspn(w, "0123456789.") == strlen(w))) {
		e->type = GL_WL_NET;
		if (gl_net_parse(w, &e->net, err) < 0)
			return -1;
	} else if (w[0] == '.' && valid_domain(w + 1)) {
		e->type = GL_WL_SUBDOMAIN;
		w++;
	} else if (valid_domain(w)) {
		e->type = GL_WL_DOMAIN;
	} else {
		return gl_fail(err, "'%s' is not an address, CIDR block, "
			       "domain, sender, rcpt: or host: entry",
			       gl_printable(p, sizeof p, w));
	}
	e->value = dup_lower(w, strlen(w));
	return e->value == NULL ? gl_fail(err, "out of memory") : 0;
}

gl_wl_entry *gl_wl_parse(const char *line, int sender_normalize, gl_time base,
			 const char *origin, int *blank, gl_err *err)
{
	char buf[GL_WL_LINE_MAX + 1], p[80], *s, *tok, *save = NULL, *hash;
	gl_wl_entry *e;

	*blank = 0;
	if (gl_copy(buf, sizeof buf, line) < 0) {
		gl_fail(err, "line longer than %d bytes", GL_WL_LINE_MAX);
		return NULL;
	}
	hash = strchr(buf, '#');
	s = buf + strspn(buf, " \t\r\n");
	if (*s == '\0' || s == hash) {
		*blank = 1;
		return NULL;
	}
	e = calloc(1, sizeof *e);
	if (e == NULL) {
		gl_fail(err, "out of memory");
		return NULL;
	}
	if (hash != NULL) {
		*hash = '\0';
		tok = hash + 1 + strspn(hash + 1, " \t");
		tok[strcspn(tok, "\r\n")] = '\0';
		e->comment = strdup(tok);
	}
	for (tok = strtok_r(s, " \t\r\n", &save); tok != NULL;
	     tok = strtok_r(NULL, " \t\r\n", &save)) {
		if (e->entry == NULL) {
			e->entry = strdup(tok);
			if (e->entry == NULL || classify(e, tok, sender_normalize, err) < 0)
				goto bad;
		} else if (!strncmp(tok, "owner=", 6) && tok[6] && !e->owner) {
			e->owner = strdup(tok + 6);
		} else if (!strncmp(tok, "expires=", 8) && !e->expires) {
			if (gl_parse_expiry(tok + 8, base, &e->expires) < 0) {
				gl_fail(err, "bad expires '%s' (want "
					"YYYY-MM-DD or a duration)",
					gl_printable(p, sizeof p, tok + 8));
				goto bad;
			}
		} else {
			gl_fail(err, "unexpected '%s' after the entry (want "
				"owner=NAME, expires=WHEN or # comment)",
				gl_printable(p, sizeof p, tok));
			goto bad;
		}
	}
	if (e->owner == NULL)
		e->owner = strdup("");
	if (e->comment == NULL)
		e->comment = strdup("");
	e->origin = strdup(origin);
	if (e->owner == NULL || e->comment == NULL || e->origin == NULL) {
		gl_fail(err, "out of memory");
		goto bad;
	}
	return e;
bad:
	gl_wl_entry_free(e);
	return NULL;
}

int gl_wl_read_file(gl_whitelist **wlp, const char *path, const char *what,
		    gl_wl_line_fn *fn, void *arg, gl_notes *notes,
		    gl_err *err)
{
	char line[GL_WL_LINE_MAX + 2], origin[PATH_MAX + 16];
	gl_wl_entry *e, **tail = NULL;
	gl_err why;
	struct stat st;
	unsigned lineno = 0;
	int blank, got;
	const char *whyopen;
	FILE *fp;

	if (list_tail(wlp, &tail, err) < 0)
		return -1;
	fp = gl_fopen_regular(path, &st, &whyopen);
	if (fp == NULL) {
		gl_note(notes, "%s: cannot open %s: %s; none of its "
			"entries is in force", path, what, whyopen);
		return 0;
	}
	while ((got = gl_read_line(fp, line, sizeof line)) != 0) {
		lineno++;
		if (got == 2) {
			gl_note(notes, "%s:%u: line longer than %d bytes; "
				"skipped", path, lineno, GL_WL_LINE_MAX);
			continue;
		}
		snprintf(origin, sizeof origin, "%s:%u", path, lineno);
		e = fn(line, origin, (gl_time)st.st_mtime, arg, &blank, &why);
		if (e != NULL) {
			*tail = e;
			tail = &e->next;
		} else if (!blank) {
			gl_note(notes, "%s:%u: %s; line skipped", path, lineno,
				why.msg);
		}
	}
	if (ferror(fp))
		gl_note(notes, "%s: read error after line %u; the entries "
			"after it are not in force", path, lineno);
	fclose(fp);
	return 0;
}

/* A line of a whitelist file; arg points to sender_normalize. */
static gl_wl_entry *wl_line(const char *line, const char *origin,
			    gl_time mtime, void *arg, int *blank, gl_err *err)
{
	return gl_wl_parse(line, *(const int *)arg, mtime, origin, blank, err);
}

int gl_whitelist_load_file(gl_whitelist **wlp, const char *path,
			   int sender_normalize, gl_notes *notes, gl_err *err)
{
	return gl_wl_read_file(wlp, path, "whitelist", wl_line,
			       &sender_normalize, notes, err);
}

/* host matches "name" exactly or "*.name" with one or more labels more. */
static int host_matches(const char *pat, const char *host)
{
	size_t hn, pn;

	if (pat[0] != '*')
		return strcasecmp(pat, host) == 0;
	pat += 1; /* ".rest" */
	hn = strlen(host);
	pn = strlen(pat);
	return hn > pn && strcasecmp(host + hn - pn, pat) == 0;
}

/* host is name or one of its subdomains (postgrey: (?:^|\.)NAME$). */
static int name_or_sub(const char *host, const char *name)
{
	size_t hn = strlen(host), nn = strlen(name);

	return hn >= nn && strcasecmp(host + hn - nn, name) == 0 &&
	       (hn == nn || host[hn - nn - 1] == '.');
}

/*
 * postgrey's "user@domain" and "user@" (value "user@..."): the local
 * part is user, or user+EXTENSION with EXTENSION not empty; with
 * whole_domain the rest after '@' is the domain.
 */
static int pg_rcpt(const char *value, const char *rcpt, int whole_domain)
{
	const char *at = strchr(value, '@');
	size_t un = (size_t)(at - value), n;
	const char *p = rcpt + un;

	if (strncmp(rcpt, value, un) != 0)
		return 0;
	if (*p == '+') {
		n = strcspn(p + 1, "@");
		if (n == 0)
			return 0;
		p += 1 + n;
	}
	return *p == '@' && (!whole_domain || strcmp(p + 1, at + 1) == 0);
}

/* postgrey's bare domain: (?:@|\.)DOMAIN$ on the recipient. */
static int pg_rcpt_domain(const char *value, const char *rcpt)
{
	size_t rn = strlen(rcpt), vn = strlen(value);

	return rn > vn && strcmp(rcpt + rn - vn, value) == 0 &&
	       (rcpt[rn - vn - 1] == '@' || rcpt[rn - vn - 1] == '.');
}

int gl_wl_entry_matches(const gl_wl_entry *e, const gl_wl_query *q,
			gl_time now)
{
	const char *d;
	size_t dn, vn;

	if (gl_wl_expired(e, now))
		return 0;
	switch (e->type) {
	case GL_WL_NET:
		return q->ip != NULL && gl_net_contains(&e->net, q->ip);
	case GL_WL_SENDER:
		return q->sender != NULL && strcmp(e->value, q->sender) == 0;
	case GL_WL_DOMAIN:
	case GL_WL_SUBDOMAIN:
		if (q->sender == NULL)
			return 0;
		d = gl_addr_domain(q->sender);
		if (strcmp(d, e->value) == 0)
			return 1;
		dn = strlen(d);
		vn = strlen(e->value);
		return e->type == GL_WL_SUBDOMAIN && dn > vn &&
		       d[dn - vn - 1] == '.' &&
		       strcmp(d + dn - vn, e->value) == 0;
	case GL_WL_RCPT:
		return q->rcpt != NULL && strcmp(e->value, q->rcpt) == 0;
	case GL_WL_RCPT_DOMAIN:
		return q->rcpt != NULL &&
		       strcmp(e->value, gl_addr_domain(q->rcpt)) == 0;
	case GL_WL_HOST:
		return q->host != NULL && *q->host &&
		       host_matches(e->value, q->host);
	case GL_WL_PG_NAME:
		return q->host != NULL && *q->host &&
		       name_or_sub(q->host, e->value);
	case GL_WL_PG_NAME_RX:
		return q->host != NULL && *q->host && gl_rx_match(e->rx, q->host);
	case GL_WL_PG_RCPT:
	case GL_WL_PG_RCPT_USER:
		return q->rcpt != NULL &&
		       pg_rcpt(e->value, q->rcpt, e->type == GL_WL_PG_RCPT);
	case GL_WL_PG_RCPT_DOMAIN:
		return q->rcpt != NULL && pg_rcpt_domain(e->value, q->rcpt);
	case GL_WL_PG_RCPT_RX:
		return q->rcpt != NULL && gl_rx_match(e->rx, q->rcpt);
	}
	return 0;
}

const gl_wl_entry *gl_whitelist_match(const gl_whitelist *wl,
				      const gl_wl_query *q, gl_time now)
{
	const gl_wl_entry *e;

	if (wl == NULL)
		return NULL;
	for (e = wl->head; e != NULL; e = e->next)
		if (gl_wl_entry_matches(e, q, now))
			return e;
	return NULL;
}
