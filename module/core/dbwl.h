/*
 * dbwl.h - whitelist entries kept in the store, beside the triplets.
 *
 * The entries are one value under key "W": a first line "# generation N"
 * then lines in the whitelist file format (expiry as "expires=@SECONDS").
 * Every change replaces the whole value with one compare-and-set, so two
 * administrators editing at once never lose an entry (the second one's
 * write fails and is done again on what the first wrote), and the text
 * and its generation can never be seen apart, on any backend.
 *
 * Key "V" (8 bytes, big-endian) says the newest generation written. A
 * decision reads it in the same store call as its triplet and re-reads
 * "W" whenever "V" differs from what it said at the last read, so an
 * entry added by greylist-admin takes effect at the next RCPT for one
 * more key per lookup. A writer moves "V" after "W", so the text a
 * reader caches is at least as new as the "V" that made it read; its
 * generation is the one written in "W" itself.
 *
 * A value "W" without the generation line (written by 0.1) is read with
 * the generation in "V" and gets the line at its next change. Older
 * modules read the line as a comment.
 */
#ifndef GL_DBWL_H
#define GL_DBWL_H

#include "store.h"
#include "whitelist.h"

#define GL_DBWL_GEN_KEY "V"
#define GL_DBWL_KEY "W"
#define GL_DBWL_MAX (256 * 1024) /* bytes of the value "W" */
#define GL_DBWL_TRIES 20         /* edits retried after a lost race */

/* The whitelist as read from the store. */
typedef struct gl_dbwl {
	char *raw;          /* the value "W", NUL-terminated; owned */
	size_t rawlen;      /* 0 when there is none */
	const char *text;   /* the entries: raw after its generation line */
	size_t len;
	uint64_t gen;       /* generation of these entries; 0: none yet */
	uint64_t seen;      /* what "V" said when this was read */
} gl_dbwl;

/*
 * Reads "V" and "W" in one store call. 0 with *wl filled (free it with
 * gl_dbwl_free()), or -1 with err and *wl empty.
 */
int gl_dbwl_read(gl_store *st, gl_dbwl *wl, gl_err *err) GL_WUR;
void gl_dbwl_free(gl_dbwl *wl);

/*
 * Replaces the entries read as cur by (text, len), lines in the file
 * format, as generation cur->gen + 1, then moves "V" to it. 1 done; 0
 * when someone changed them since cur was read (nothing written: read
 * again); -1 with err (too large, or the store failed; when "W" was
 * written but "V" could not be moved, the change is made but decisions
 * see it only at the next change: err says so).
 */
int gl_dbwl_write(gl_store *st, const gl_dbwl *cur, const char *text,
		  size_t len, gl_err *err) GL_WUR;

/* The generation in an 8-byte value of "V"; UINT64_MAX when malformed. */
uint64_t gl_dbwl_gen_decode(const unsigned char *p, size_t len);

/*
 * Edits: each reads the entries, changes the parsed list and writes it
 * back, again from the start when another writer got there first (at
 * most GL_DBWL_TRIES times). Entries are the same when they match the
 * same thing (gl_wl_same()), whatever their owner, expiry or spelling.
 * Entries in the store that no longer parse are dropped at the first
 * edit (greylist-admin whitelist list names them before that). All
 * return -1 with err on failure, and change nothing then.
 */

/* Adds e, or replaces the entry that is the same; *replaced_r says which. */
int gl_dbwl_add(gl_store *st, int sender_normalize, const gl_wl_entry *e,
		int *replaced_r, gl_err *err) GL_WUR;

/* Removes the entry that is the same as e: 1 removed, 0 there was none. */
int gl_dbwl_del(gl_store *st, int sender_normalize, const gl_wl_entry *e,
		gl_err *err) GL_WUR;

/* Adds or replaces every entry of add (import). */
int gl_dbwl_merge(gl_store *st, int sender_normalize, const gl_whitelist *add,
		  gl_err *err) GL_WUR;

/*
 * Removes the entries that expired before now; calls removed(arg, e)
 * for each (may be NULL) and returns how many, 0 writing nothing.
 */
int gl_dbwl_purge(gl_store *st, int sender_normalize, gl_time now,
		  void (*removed)(void *arg, const gl_wl_entry *e), void *arg,
		  gl_err *err) GL_WUR;

#endif
