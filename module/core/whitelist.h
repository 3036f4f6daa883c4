/*
 * whitelist.h - entries that are never greylisted.
 *
 * An entry is one line "ENTRY [owner=NAME] [expires=YYYY-MM-DD|DURATION]
 * [# comment]" where ENTRY is an address or CIDR block (the client), a
 * domain or ".domain" (the sender's domain; with the dot, subdomains too),
 * an address (the sender, folded as the configuration folds senders),
 * "rcpt:ADDRESS" or "rcpt:DOMAIN" (the recipient) or "host:PATTERN" (the
 * verified host name; a leading "*." stands for one or more labels).
 * A DURATION in a file counts from the file's modification time; a date
 * is the end of that day, UTC; "@SECONDS" is a Unix time (the form the
 * database keeps). An expired entry never matches.
 *
 * The list owns its strings; gl_whitelist_free() frees it all.
 */
#ifndef GL_WHITELIST_H
#define GL_WHITELIST_H

#include <libcidr.h>

#include "gl.h"

#define GL_WL_LINE_MAX 4096 /* one entry line, bytes, without newline */

enum gl_wl_type { GL_WL_NET, GL_WL_DOMAIN, GL_WL_SUBDOMAIN, GL_WL_SENDER,
		  GL_WL_RCPT, GL_WL_RCPT_DOMAIN, GL_WL_HOST,
		  /* the entries of postgrey's lists (pgwl.h) */
		  GL_WL_PG_NAME,        /* the verified name or a subdomain */
		  GL_WL_PG_NAME_RX,     /* /regex/ on the verified name */
		  GL_WL_PG_RCPT,        /* user[+ext]@domain */
		  GL_WL_PG_RCPT_USER,   /* user[+ext]@ any domain */
		  GL_WL_PG_RCPT_DOMAIN, /* ...@domain or ....domain */
		  GL_WL_PG_RCPT_RX };   /* /regex/ on the recipient */

struct gl_rx;

typedef struct gl_wl_entry {
	struct gl_wl_entry *next;
	enum gl_wl_type type;
	CIDR net;            /* GL_WL_NET */
	char *value;         /* folded text to compare (without prefix) */
	char *entry;         /* the ENTRY as written */
	char *owner;         /* "" when none */
	char *comment;       /* "" when none */
	gl_time expires;     /* 0: never */
	char *origin;        /* "FILE:LINE" or "database" */
	struct gl_rx *rx;    /* GL_WL_PG_*_RX: the compiled pattern */
} gl_wl_entry;

typedef struct gl_whitelist {
	gl_wl_entry *head;
} gl_whitelist;

/* What a decision is matched against; host is NULL unless verified. */
typedef struct gl_wl_query {
	const CIDR *ip;
	const char *sender;  /* folded */
	const char *rcpt;    /* folded */
	const char *host;    /* NULL or a verified host name */
} gl_wl_query;

/*
 * Parses one entry line (without newline). base is the time a DURATION
 * counts from. Returns a new entry, or NULL with err (no file or line in
 * it: the caller adds them). A comment-only or blank line is not an entry:
 * *blank is set and NULL returned with no error.
 */
gl_wl_entry *gl_wl_parse(const char *line, int sender_normalize, gl_time base,
			 const char *origin, int *blank, gl_err *err) GL_WUR;

/*
 * Appends every entry of a file to *wl (created when NULL). A bad line
 * costs that line only: it is skipped and a note naming the file and
 * line is added to notes (which may be NULL). A file that cannot be
 * opened adds one note and no entry. Returns -1 with err only when out
 * of memory; *wl then holds the entries appended so far.
 */
int gl_whitelist_load_file(gl_whitelist **wl, const char *path,
			   int sender_normalize, gl_notes *notes,
			   gl_err *err) GL_WUR;

/*
 * One line (without newline) of a list file: a new entry, or NULL with
 * *blank set (nothing on it) or err (why not). origin is "FILE:LINE",
 * mtime the file's modification time, arg what gl_wl_read_file() got.
 */
typedef gl_wl_entry *gl_wl_line_fn(const char *line, const char *origin,
				   gl_time mtime, void *arg, int *blank,
				   gl_err *err);

/*
 * What gl_whitelist_load_file() and gl_pgwl_load_file() share: appends
 * the entries fn makes of each line of the regular file path to *wl
 * (created when NULL), with what gl_whitelist_load_file() says of bad
 * lines, lines too long and read errors. A file that cannot be opened
 * adds one note, "PATH: cannot open WHAT: WHY; ...", and no entry.
 * Returns -1 with err only when out of memory.
 */
int gl_wl_read_file(gl_whitelist **wl, const char *path, const char *what,
		    gl_wl_line_fn *fn, void *arg, gl_notes *notes,
		    gl_err *err) GL_WUR;

/*
 * Appends the entries of text (len bytes of lines in the file format, as
 * the database keeps them) to *wl, each with the given origin. Bad lines
 * are skipped and noted as by gl_whitelist_load_file().
 */
int gl_whitelist_parse_text(gl_whitelist **wl, const char *text, size_t len,
			    int sender_normalize, const char *origin,
			    gl_notes *notes, gl_err *err) GL_WUR;

/* 1 when e has expired at now (it then never matches), else 0. */
int gl_wl_expired(const gl_wl_entry *e, gl_time now);

/*
 * A new entry from its parts, checked as a file line would be: ENTRY,
 * owner ("" for none), expiry (NULL for none: a date, a duration after
 * base, or "@SECONDS") and comment (""). The parts may not hold white
 * space or '#' (the comment no newline). NULL with err when not an entry.
 */
gl_wl_entry *gl_wl_make(const char *entry, const char *owner,
			const char *expires, const char *comment,
			int sender_normalize, gl_time base, const char *origin,
			gl_err *err) GL_WUR;

/* The first entry that matches q and has not expired at now, or NULL. */
const gl_wl_entry *gl_whitelist_match(const gl_whitelist *wl,
				      const gl_wl_query *q, gl_time now);
int gl_wl_entry_matches(const gl_wl_entry *e, const gl_wl_query *q,
			gl_time now);

/*
 * Writes e as one line in the form the database keeps ("ENTRY
 * [owner=NAME] [expires=@SECONDS] [# comment]", no newline). Returns 0,
 * or -1 when it does not fit in sz bytes.
 */
int gl_wl_format(const gl_wl_entry *e, char *buf, size_t sz) GL_WUR;

/*
 * 1 when a and b match the same thing (the same type, and the same
 * block, or the same folded value), whatever their owner, expiry,
 * comment or spelling ("Example.COM" and "example.com"); else 0.
 */
int gl_wl_same(const gl_wl_entry *a, const gl_wl_entry *b);

void gl_wl_entry_free(gl_wl_entry *e);
void gl_whitelist_free(gl_whitelist *wl);
/* Frees the entries of wl, leaving it empty (wl itself is not freed). */
void gl_whitelist_free_entries(gl_whitelist *wl);

/* Parses "YYYY-MM-DD" (end of that day, UTC) or a DURATION after base. */
int gl_parse_expiry(const char *s, gl_time base, gl_time *t_r) GL_WUR;

#endif
