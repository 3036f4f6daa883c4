/* pgwl.c - postgrey's whitelist files (see pgwl.h). */
#include "pgwl.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "addr.h"
#include "parse.h"
#include "rx.h"

/* Perl's \s */
#define SPACE " \t\r\n\f\v"

/* 1 when s is n groups of 1-3 digits separated by dots, then the end
 * or "/" and 1 to maxbits digits (maxbits 0: no "/"). */
static int dotted(const char *s, int n, int maxbits)
{
	int i;
	size_t d;

	for (i = 0; i < n; i++) {
		d = strspn(s, "0123456789");
		if (d < 1 || d > 3)
			return 0;
		s += d;
		if (i < n - 1) {
			if (*s++ != '.')
				return 0;
		}
	}
	if (*s == '\0')
		return 1;
	if (*s != '/' || maxbits == 0)
		return 0;
	d = strspn(s + 1, "0123456789");
	return d >= 1 && d <= (size_t)maxbits && s[1 + d] == '\0';
}

/* The entry's network from w (a form of pgwl.h's list). */
static int net_of(const char *w, int partial, CIDR *net, gl_err *err)
{
	char buf[64];
	int n;

	if (partial == 3)
		n = snprintf(buf, sizeof buf, "%s.0/24", w);
	else if (partial == 2)
		n = snprintf(buf, sizeof buf, "%s.0.0/24", w);
	else
		n = snprintf(buf, sizeof buf, "%s", w);
	if (n < 0 || (size_t)n >= sizeof buf)
		return gl_fail(err, "not an address or block");
	return gl_net_parse(buf, net, err);
}

/* A name that can be some host name's tail: letters, digits, '-', '_'
 * in non-empty labels between single dots. */
static int name_ok(const char *w)
{
	size_t n = strlen(w);

	return gl_valid_name(w, GL_DNS_NAME_MAX) && w[0] != '.' &&
	       w[n - 1] != '.' && strstr(w, "..") == NULL;
}

static int classify(gl_wl_entry *e, const char *w, enum gl_pg_kind kind,
		    gl_err *err)
{
	size_t n = strlen(w);
	char pat[GL_WL_LINE_MAX + 1];
	const char *at;

	if (n >= 3 && w[0] == '/' && w[n - 1] == '/') {
		memcpy(pat, w + 1, n - 2);
		pat[n - 2] = '\0';
		e->type = kind == GL_PG_CLIENTS ? GL_WL_PG_NAME_RX :
			  GL_WL_PG_RCPT_RX;
		e->rx = gl_rx_compile(pat, err);
		if (e->rx == NULL)
			return -1;
		e->value = strdup(pat);
	} else if (kind == GL_PG_RECIPIENTS) {
		at = strchr(w, '@');
		if (at == NULL) {
			e->type = GL_WL_PG_RCPT_DOMAIN;
		} else {
			e->type = at[1] ? GL_WL_PG_RCPT : GL_WL_PG_RCPT_USER;
		}
		if (strlen(w) > GL_ADDR_MAX)
			return gl_fail(err, "longer than an address");
		e->value = strdup(w);
	} else if (dotted(w, 4, 2) || dotted(w, 3, 0) || dotted(w, 2, 0) ||
		   ((at = strchr(w, ':')) != NULL && strchr(at + 1, ':'))) {
		e->type = GL_WL_NET;
		if (net_of(w, dotted(w, 3, 0) ? 3 : dotted(w, 2, 0) ? 2 : 0,
			   &e->net, err) < 0)
			return -1;
		e->value = strdup(w);
	} else {
		e->type = GL_WL_PG_NAME;
		if (!name_ok(w))
			return gl_fail(err, "not a host name (a name, an "
				       "address, a.b.c, a block or /regex/)");
		e->value = strdup(w);
	}
	if (e->value == NULL)
		return gl_fail(err, "out of memory");
	if (e->rx == NULL) /* a pattern stays as written */
		gl_lower(e->value);
	return 0;
}

gl_wl_entry *gl_pgwl_parse(const char *line, enum gl_pg_kind kind,
			   const char *origin, int *blank, gl_err *err)
{
	char buf[GL_WL_LINE_MAX + 1], p[80], *s, *end, *hash, *c;
	gl_wl_entry *e;

	*blank = 0;
	if (gl_copy(buf, sizeof buf, line) < 0) {
		gl_fail(err, "line longer than %d bytes", GL_WL_LINE_MAX);
		return NULL;
	}
	c = NULL;
	hash = strchr(buf, '#');
	if (hash != NULL) {
		*hash = '\0';
		c = hash + 1 + strspn(hash + 1, SPACE);
		for (end = c + strlen(c); end > c && strchr(SPACE, end[-1]);)
			*--end = '\0';
	}
	s = buf + strspn(buf, SPACE);
	for (end = s + strlen(s); end > s && strchr(SPACE, end[-1]);)
		*--end = '\0';
	if (*s == '\0') {
		*blank = 1;
		return NULL;
	}
	if (strpbrk(s, SPACE) != NULL) {
		gl_fail(err, "'%s': white space inside an entry (postgrey "
			"skips it too)", gl_printable(p, sizeof p, s));
		return NULL;
	}
	e = calloc(1, sizeof *e);
	if (e == NULL) {
		gl_fail(err, "out of memory");
		return NULL;
	}
	if (classify(e, s, kind, err) < 0) {
		gl_err why = *err;

		gl_fail(err, "'%s': %s", gl_printable(p, sizeof p, s), why.msg);
		gl_wl_entry_free(e);
		return NULL;
	}
	e->entry = strdup(s);
	e->owner = strdup("");
	e->comment = strdup(c ? c : "");
	e->origin = strdup(origin);
	if (!e->entry || !e->owner || !e->comment || !e->origin) {
		gl_fail(err, "out of memory");
		gl_wl_entry_free(e);
		return NULL;
	}
	return e;
}

/* A line of a postgrey file; arg points to its gl_pg_kind. */
static gl_wl_entry *pg_line(const char *line, const char *origin,
			    gl_time mtime, void *arg, int *blank, gl_err *err)
{
	(void)mtime;
	return gl_pgwl_parse(line, *(const enum gl_pg_kind *)arg, origin,
			     blank, err);
}

int gl_pgwl_load_file(gl_whitelist **wlp, const char *path,
		      enum gl_pg_kind kind, gl_notes *notes, gl_err *err)
{
	return gl_wl_read_file(wlp, path, kind == GL_PG_CLIENTS ?
			       "whitelist_clients file" :
			       "whitelist_recipients file", pg_line, &kind,
			       notes, err);
}
