/* store.c - backend choice and one-key helpers over the store interface. */
#include "store.h"
#include "lazylib.h"




void gl_store_deadline(gl_store *st, long ms)
{
	st->deadline_us = ms > 0 ? gl_mono_us() + (int64_t)ms * 1000 : 0;
}

int64_t gl_store_left_us(const gl_store *st, long cap_ms)
{
	int64_t cap = (int64_t)cap_ms * 1000, left;

	if (st->deadline_us == 0)
		return cap;
	left = st->deadline_us - gl_mono_us();
	if (left <= 0)
		return 0;
	return left < cap ? left : cap;
}

int gl_store_get(gl_store *st, const void *key, size_t klen, void *val,
		 size_t *vlen, gl_err *err)
{
	gl_get_item it = { key, klen, val, *vlen, 0 };

	if (st->ops->get(st, &it, 1, err) < 0)
		return -1;
	if (it.found)
		*vlen = it.vlen;
	return it.found;
}

int gl_store_cas(gl_store *st, const void *key, size_t klen, const void *old,
		 size_t oldlen, const void *val, size_t vlen, gl_time ttl,
		 gl_err *err)
{
	gl_cas_item it = { key, klen, old, oldlen, val, vlen, ttl, 0 };

	if (st->ops->casv(st, &it, 1, err) < 0)
		return -1;
	return it.done;
}

gl_store *gl_store_open(const gl_config *cfg, gl_err *err)
{
	gl_store *st;

	if (cfg->backend == GL_BACKEND_REDIS)
		return gl_store_redis_open(cfg, err);
	if (cfg->backend == GL_BACKEND_LMDB)
		return gl_store_lmdb_open(cfg, err);
	st = gl_store_gdbm_open(cfg->database, cfg->lock_timeout_ms, err);
	if (st != NULL && gl_gdbm_set_snapshot(st, cfg->snapshot, err) < 0) {
		gl_store_close(st);
		return NULL;
	}
	return st;
}

int gl_store_preload(enum gl_backend backend, gl_err *err)
{
	if (gl_lazy_load(backend == GL_BACKEND_REDIS ? GL_LIB_REDIS :
			 backend == GL_BACKEND_LMDB ? GL_LIB_LMDB :
			 GL_LIB_GDBM, err) < 0)
		return -1;
	if (backend == GL_BACKEND_GDBM)
		gl_gdbm_preload_tls();
	return 0;
}
