/* batch.c - many writes at once, in batches (see batch.h). */
#include "batch.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "keys.h"

int gl_pairs_add(gl_pairs *ps, const void *k, size_t klen, const void *v,
		 size_t vlen, gl_err *err)
{
	struct gl_kv *x;

	if (ps->n == ps->cap) {
		size_t cap = ps->cap * 2 + 256;
		struct gl_kv *p = realloc(ps->p, cap * sizeof *p);

		if (p == NULL)
			return gl_fail(err, "out of memory");
		ps->p = p;
		ps->cap = cap;
	}
	x = &ps->p[ps->n];
	x->k = malloc(klen + 1);
	x->v = malloc(vlen + 1);
	if (x->k == NULL || x->v == NULL) {
		free(x->k);
		free(x->v);
		return gl_fail(err, "out of memory");
	}
	memcpy(x->k, k, klen);
	memcpy(x->v, v, vlen);
	x->klen = klen;
	x->vlen = vlen;
	x->done = 0;
	ps->n++;
	return 0;
}

void gl_pairs_free(gl_pairs *ps)
{
	size_t i;

	for (i = 0; i < ps->n; i++) {
		free(ps->p[i].k);
		free(ps->p[i].v);
	}
	free(ps->p);
	memset(ps, 0, sizeof *ps);
}

/* The work space of one batch (large: kept off the stack). */
typedef struct batch {
	gl_get_item gi[GL_BATCH];
	gl_cas_item ci[GL_BATCH];
	unsigned char cur[GL_BATCH][GL_VALUE_MAX];
} batch;

/* Writes the pairs ps->p[first .. first+n-1] not yet done; -1 on error. */
static int one_batch(gl_store *st, const gl_config *cfg, gl_pairs *ps,
		     size_t first, size_t n, enum gl_batch_mode mode,
		     gl_time now, batch *b, gl_err *err)
{
	struct gl_kv *todo[GL_BATCH];
	size_t j, m;
	int tries, rc;

	for (tries = 0; tries < GL_BATCH_TRIES; tries++) {
		for (m = 0, j = 0; j < n; j++)
			if (!ps->p[first + j].done)
				todo[m++] = &ps->p[first + j];
		if (m == 0)
			return 0;
		memset(b->ci, 0, m * sizeof b->ci[0]);
		if (mode == GL_BATCH_REPLACE) {
			for (j = 0; j < m; j++) {
				b->gi[j].key = todo[j]->k;
				b->gi[j].klen = todo[j]->klen;
				b->gi[j].val = b->cur[j];
				b->gi[j].vlen = GL_VALUE_MAX;
			}
			if (st->ops->get(st, b->gi, m, err) < 0)
				return -1;
		}
		for (j = 0; j < m; j++) {
			const struct gl_kv *x = todo[j];
			gl_cas_item *c = &b->ci[j];

			c->key = x->k;
			c->klen = x->klen;
			if (mode == GL_BATCH_REPLACE) {
				c->old = b->gi[j].found ? b->cur[j] : NULL;
				c->oldlen = b->gi[j].vlen;
				c->val = x->v;
				c->vlen = x->vlen;
				c->ttl = gl_pair_ttl(cfg, x->k, x->klen, x->v,
						     x->vlen, now);
			} else {
				c->old = x->v;
				c->oldlen = x->vlen;
			}
		}
		rc = st->ops->casv(st, b->ci, m, err);
		for (j = 0; j < m; j++)
			todo[j]->done = b->ci[j].done;
		if (rc < 0)
			return -1;
		/* A delete that lost to a write keeps the record. */
		if (mode == GL_BATCH_DELETE)
			break;
	}
	return 0;
}

int gl_batch_write(gl_store *st, const gl_config *cfg, gl_pairs *ps,
		   enum gl_batch_mode mode, gl_time now, size_t *done_r,
		   gl_err *err)
{
	struct timespec pause = { 0, GL_BATCH_PAUSE_NS };
	batch *b = malloc(sizeof *b);
	size_t i, n;
	int rc = 0;

	*done_r = 0;
	if (b == NULL)
		return gl_fail(err, "out of memory");
	for (i = 0; i < ps->n; i++)
		ps->p[i].done = 0;
	for (i = 0; i < ps->n && rc == 0; i += n) {
		n = ps->n - i < GL_BATCH ? ps->n - i : GL_BATCH;
		rc = one_batch(st, cfg, ps, i, n, mode, now, b, err);
		if (rc == 0 && i + n < ps->n)
			nanosleep(&pause, NULL);
	}
	for (i = 0; i < ps->n; i++)
		*done_r += ps->p[i].done != 0;
	free(b);
	return rc;
}
