/* store.c - backend choice and one-key helpers over the store interface. */
#include "store.h"

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
	if (cfg->backend == GL_BACKEND_REDIS) {
		gl_fail(err, "%s: backend 'redis' is not available in this "
			"build yet", cfg->path);
		return NULL;
	}
	return gl_store_gdbm_open(cfg->database, cfg->lock_timeout_ms, err);
}
