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

/* Writes ps->p[first .. first+n-1]; how many were done, or -1. */
static long one_batch(gl_store *st, const gl_config *cfg, const gl_pairs *ps,
		      size_t first, size_t n, enum gl_batch_mode mode,
		      gl_time now, batch *b, gl_err *err)
{
	size_t j, left = n;
	int tries;

	for (tries = 0; tries < GL_BATCH_TRIES && left > 0; tries++) {
		memset(b->ci, 0, n * sizeof b->ci[0]);
		if (mode == GL_BATCH_REPLACE) {
			for (j = 0; j < n; j++) {
				b->gi[j].key = ps->p[first + j].k;
				b->gi[j].klen = ps->p[first + j].klen;
				b->gi[j].val = b->cur[j];
				b->gi[j].vlen = GL_VALUE_MAX;
			}
			if (st->ops->get(st, b->gi, n, err) < 0)
				return -1;
		}
		for (j = 0; j < n; j++) {
			const struct gl_kv *x = &ps->p[first + j];
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
		if (st->ops->casv(st, b->ci, n, err) < 0)
			return -1;
		for (left = 0, j = 0; j < n; j++)
			left += !b->ci[j].done;
		/* A delete that lost to a write keeps the record. */
		if (mode == GL_BATCH_DELETE)
			break;
	}
	return (long)(n - left);
}

int gl_batch_write(gl_store *st, const gl_config *cfg, const gl_pairs *ps,
		   enum gl_batch_mode mode, gl_time now, size_t *done_r,
		   gl_err *err)
{
	struct timespec pause = { 0, GL_BATCH_PAUSE_NS };
	batch *b = malloc(sizeof *b);
	size_t i, n;
	long done;

	*done_r = 0;
	if (b == NULL)
		return gl_fail(err, "out of memory");
	for (i = 0; i < ps->n; i += n) {
		n = ps->n - i < GL_BATCH ? ps->n - i : GL_BATCH;
		done = one_batch(st, cfg, ps, i, n, mode, now, b, err);
		if (done < 0) {
			free(b);
			return -1;
		}
		*done_r += (size_t)done;
		if (i + n < ps->n)
			nanosleep(&pause, NULL);
	}
	free(b);
	return 0;
}
