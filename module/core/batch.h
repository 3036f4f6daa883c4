/*
 * batch.h - many writes at once without holding Exim up: purge's
 * deletes, import's stores.
 *
 * A gl_pairs list owns copies of its keys and values. gl_batch_write()
 * goes through it GL_BATCH pairs at a time: each batch is one casv call
 * (one hold of the writer lock, one round trip to Redis), with a short
 * pause between batches so that the module's decisions get their turn.
 *
 *   GL_BATCH_DELETE   deletes a pair only while its value is still the
 *                     one in the list (a record a decision changed since
 *                     it was read is kept);
 *   GL_BATCH_REPLACE  stores every pair, replacing what is there, with
 *                     the TTL keys.h gives it (a pair that changed while
 *                     it was being written is read and tried again, up
 *                     to GL_BATCH_TRIES times; pairs written are never
 *                     sent again).
 *
 * Each pair's done says whether it was written; *done_r counts them. On
 * -1 (err says why) the batches before the failing one are written and
 * marked, the failing one as its backend left it (store.h), the rest
 * not.
 */
#ifndef GL_BATCH_H
#define GL_BATCH_H

#include "store.h"

#define GL_BATCH_TRIES 5         /* a batch of stores, after lost races */
#define GL_BATCH_PAUSE_NS 2000000 /* between two batches: 2 ms */

typedef struct gl_pairs {
	struct gl_kv {
		unsigned char *k, *v;
		size_t klen, vlen;
		int done;       /* gl_batch_write() wrote it */
	} *p;
	size_t n, cap;
} gl_pairs;

/* Appends copies of (k, v): 0, or -1 with err when out of memory. */
int gl_pairs_add(gl_pairs *ps, const void *k, size_t klen, const void *v,
		 size_t vlen, gl_err *err) GL_WUR;
void gl_pairs_free(gl_pairs *ps);

enum gl_batch_mode { GL_BATCH_DELETE, GL_BATCH_REPLACE };

int gl_batch_write(gl_store *st, const gl_config *cfg, gl_pairs *ps,
		   enum gl_batch_mode mode, gl_time now, size_t *done_r,
		   gl_err *err) GL_WUR;

#endif
