/* purge.c - removing what has expired (see purge.h). */
#include "purge.h"

#include <string.h>

#include "batch.h"
#include "policy.h"

typedef struct scan {
	const gl_config *cfg;
	gl_time now;
	gl_pairs dead;
	gl_purge_report *rep;
	gl_err *err;
} scan;

static int collect(void *arg, const void *key, size_t klen, const void *val,
		   size_t vlen)
{
	scan *s = arg;
	gl_pair p;
	gl_time end;

	switch (gl_pair_decode(key, klen, val, vlen, &p, NULL)) {
	case 1:
		return 0;       /* the whitelist: purged apart */
	case -1:
		s->rep->unreadable++;
		return 0;
	}
	end = p.kind == GL_KEY_TRIPLET ? gl_policy_record_end(s->cfg, &p.r) :
	      gl_policy_client_end(s->cfg, &p.c);
	if (s->now <= end)
		return 0;
	return gl_pairs_add(&s->dead, key, klen, val, vlen, s->err) < 0 ? -1 : 0;
}

/* Counts (and reports) the pairs the batches deleted. */
static void count(const gl_pairs *dead, gl_purge_report *rep,
		  void (*removed)(void *arg, const gl_pair *p), void *arg)
{
	size_t i;

	for (i = 0; i < dead->n; i++) {
		gl_pair p;

		if (!dead->p[i].done) {
			rep->kept++;
			continue;
		}
		if (gl_pair_decode(dead->p[i].k, dead->p[i].klen,
				   dead->p[i].v, dead->p[i].vlen, &p, NULL) != 0)
			continue;
		if (p.kind == GL_KEY_CLIENT)
			rep->clients++;
		else if (p.r.state == GL_PENDING)
			rep->pending++;
		else
			rep->passed++;
		if (removed != NULL)
			removed(arg, &p);
	}
}

int gl_purge(gl_store *st, const gl_config *cfg, gl_time now,
	     void (*removed)(void *arg, const gl_pair *p),
	     void (*wl_removed)(void *arg, const gl_wl_entry *e), void *arg,
	     gl_purge_report *rep, gl_err *err)
{
	scan s;
	size_t done;
	int n, rc;

	memset(rep, 0, sizeof *rep);
	memset(&s, 0, sizeof s);
	s.cfg = cfg;
	s.now = now;
	s.rep = rep;
	s.err = err;
	if (gl_store_scan(st, collect, &s, err) != 0) {
		gl_pairs_free(&s.dead);
		return -1;
	}
	rc = gl_batch_write(st, cfg, &s.dead, GL_BATCH_DELETE, now, &done, err);
	count(&s.dead, rep, removed, arg);
	if (rc < 0)
		rep->kept = 0; /* not kept: not tried */
	gl_pairs_free(&s.dead);
	if (rc < 0)
		return -1;
	n = gl_dbwl_purge(st, cfg->sender_normalize, now, wl_removed, arg, err);
	if (n < 0)
		return -1;
	rep->whitelist = (size_t)n;
	return 0;
}
