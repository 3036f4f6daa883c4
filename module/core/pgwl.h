/*
 * pgwl.h - postgrey's whitelist_clients and whitelist_recipients files,
 * read with postgrey's meaning of each line (its 1.37 reader, the one
 * Debian ships), into entries of a gl_whitelist (whitelist.h).
 *
 * Both: everything from '#' on is a comment (kept as the entry's
 * comment), white space around a line is dropped, blank lines are
 * skipped; "/REGEX/" (no white space inside) is a PCRE2 pattern, matched
 * caseless anywhere in the subject (rx.h).
 *
 * whitelist_clients, against the client:
 *   a.b.c.d, a.b.c.d/n      the address or block (GL_WL_NET)
 *   a.b.c                   a.b.c.0/24
 *   a.b                     a.b.0.0/24 (postgrey's reader makes a /24
 *                           of it, whatever its comment says)
 *   anything with two ':'   an IPv6 address or block
 *   NAME                    the verified host name is NAME or ends
 *                           in .NAME
 *   /REGEX/                 on the verified host name
 * Name and pattern entries never match a client without a verified
 * name (postgrey matches them against "unknown" then).
 *
 * whitelist_recipients, against the recipient address:
 *   user@domain             user or user+EXTENSION at exactly domain
 *   user@                   user or user+EXTENSION at any domain
 *   domain                  at domain or at any of its subdomains
 *   /REGEX/                 on the address
 *
 * A line postgrey would not use (white space inside, an address it
 * cannot parse) or that could never match here (a name with characters
 * no host name has, a pattern that does not compile or PCRE2 missing)
 * is skipped and noted as in gl_whitelist_load_file(), with file and
 * line; so is a file that cannot be opened.
 */
#ifndef GL_PGWL_H
#define GL_PGWL_H

#include "whitelist.h"

enum gl_pg_kind { GL_PG_CLIENTS, GL_PG_RECIPIENTS };

/* Appends the entries of the postgrey file path to *wl (created when
 * NULL); -1 with err only when out of memory. */
int gl_pgwl_load_file(gl_whitelist **wl, const char *path,
		      enum gl_pg_kind kind, gl_notes *notes,
		      gl_err *err) GL_WUR;

/* One line (without newline) as gl_pgwl_load_file() reads it: a new
 * entry, or NULL with *blank set (nothing on it) or err (why not). */
gl_wl_entry *gl_pgwl_parse(const char *line, enum gl_pg_kind kind,
			   const char *origin, int *blank,
			   gl_err *err) GL_WUR;

#endif
