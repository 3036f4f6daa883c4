/*
 * dbwl.h - whitelist entries kept in the store, beside the triplets.
 *
 * The entries are one text value (key "W", lines in the whitelist file
 * format, expiry as "expires=@SECONDS") with a generation counter (key
 * "V", 8 bytes big-endian) that every change increments. A decision reads
 * "V" in the same store call as its triplet and re-reads "W" only when
 * the generation moved, so entries added by greylist-admin take effect at
 * the next RCPT for the price of one more key per lookup.
 */
#ifndef GL_DBWL_H
#define GL_DBWL_H

#include "store.h"

#define GL_DBWL_GEN_KEY "V"
#define GL_DBWL_KEY "W"
#define GL_DBWL_MAX (256 * 1024) /* bytes of entries */

/*
 * Reads the entries: *text_r (malloc'd, NUL-terminated, caller frees) and
 * *len_r, *gen_r (0 when there are none). 0, or -1 with err.
 */
int gl_dbwl_read(gl_store *st, char **text_r, size_t *len_r, uint64_t *gen_r,
		 gl_err *err) GL_WUR;

/*
 * Replaces the entries read as (old, oldlen, gen) by (text, len): 1 done,
 * 0 when someone changed them meanwhile (read again), -1 error.
 */
int gl_dbwl_write(gl_store *st, const char *old, size_t oldlen, uint64_t gen,
		  const char *text, size_t len, gl_err *err) GL_WUR;

uint64_t gl_dbwl_gen_decode(const unsigned char *p, size_t len);

#endif
