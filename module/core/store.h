/*
 * store.h - where records live: one interface, one backend per file.
 *
 * Keys and values are opaque bytes to a store. Every call returns -1 on
 * error with err saying what and which database; the caller then answers
 * per on_error. Nothing a store returns is kept by it: values are copied
 * into the caller's buffer.
 *
 *   get   1 found (val, *vlen filled), 0 absent, -1 error. *vlen is the
 *         buffer size on entry; a larger stored value is an error.
 *   cas   compare and set, atomically against every other process and
 *         host: when the stored value equals (old, oldlen) (old == NULL:
 *         when the key is absent) store (val, vlen) (val == NULL: delete)
 *         and return 1; return 0 and change nothing when it differs.
 *         ttl (seconds, 0 = none) lets a backend expire the key itself.
 *   scan  calls fn for every key in no particular order until fn returns
 *         non-zero (returned as is); 0 at the end.
 *   close frees the store.
 * No call waits for a lock longer than the configured lock_timeout.
 */
#ifndef GL_STORE_H
#define GL_STORE_H

#include "config.h"

typedef struct gl_store gl_store;

typedef int gl_scan_fn(void *arg, const void *key, size_t klen,
		       const void *val, size_t vlen);

struct gl_store_ops {
	const char *name;
	int (*get)(gl_store *st, const void *key, size_t klen, void *val,
		   size_t *vlen, gl_err *err);
	int (*cas)(gl_store *st, const void *key, size_t klen, const void *old,
		   size_t oldlen, const void *val, size_t vlen, gl_time ttl,
		   gl_err *err);
	int (*scan)(gl_store *st, gl_scan_fn *fn, void *arg, gl_err *err);
	void (*close)(gl_store *st);
};

struct gl_store {
	const struct gl_store_ops *ops;
};

/* Opens the backend the configuration names; NULL with err on error. */
gl_store *gl_store_open(const gl_config *cfg, gl_err *err);

/* The GDBM backend; path is the file, lock_timeout_ms the longest wait. */
gl_store *gl_store_gdbm_open(const char *path, long lock_timeout_ms,
			     gl_err *err);

static inline int gl_store_get(gl_store *st, const void *key, size_t klen,
			       void *val, size_t *vlen, gl_err *err)
{
	return st->ops->get(st, key, klen, val, vlen, err);
}

static inline int gl_store_cas(gl_store *st, const void *key, size_t klen,
			       const void *old, size_t oldlen, const void *val,
			       size_t vlen, gl_time ttl, gl_err *err)
{
	return st->ops->cas(st, key, klen, old, oldlen, val, vlen, ttl, err);
}

static inline int gl_store_scan(gl_store *st, gl_scan_fn *fn, void *arg,
				gl_err *err)
{
	return st->ops->scan(st, fn, arg, err);
}

static inline void gl_store_close(gl_store *st)
{
	if (st != NULL)
		st->ops->close(st);
}

#endif
