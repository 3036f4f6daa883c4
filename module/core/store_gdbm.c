/*
 * store_gdbm.c - the GDBM backend.
 *
 * GDBM allows one writer or many readers, and takes its flock() without
 * waiting. No handle is kept between calls: a reader handle held open
 * would lock every writer out, and a handle's cached directory goes stale
 * when another process writes. So each get opens the file as a reader and
 * each cas as a writer, and a busy lock is retried with short sleeps up
 * to lock_timeout, then reported as an error ("database busy"). A writer
 * holds the lock for exactly one read-compare-write; its close syncs the
 * file to disk (GDBM always does), so what was accepted survives a crash.
 */
#include <errno.h>
#include <gdbm.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "store.h"

typedef struct gstore {
	gl_store base;
	char path[PATH_MAX];
	long lock_timeout_ms;
} gstore;

static int64_t mono_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/*
 * Opens the file, retrying while another process holds the lock.
 * Returns the handle; NULL with *absent = 1 when a reader finds no file;
 * NULL with err on any other failure.
 */
static GDBM_FILE open_db(gstore *s, int mode, int *absent, gl_err *err)
{
	int64_t deadline = mono_us() + (int64_t)s->lock_timeout_ms * 1000;
	long pause_us = 50;
	GDBM_FILE db;

	*absent = 0;
	for (;;) {
		db = gdbm_open(s->path, 0, mode | GDBM_CLOEXEC, 0660, NULL);
		if (db != NULL)
			return db;
		if (gdbm_errno == GDBM_CANT_BE_READER ||
		    gdbm_errno == GDBM_CANT_BE_WRITER) {
			struct timespec ts;
			int64_t left = deadline - mono_us();

			if (left <= 0)
				break;
			if (pause_us > left)
				pause_us = (long)left;
			ts.tv_sec = 0;
			ts.tv_nsec = pause_us * 1000;
			nanosleep(&ts, NULL);
			if (pause_us < 4000)
				pause_us *= 2;
			continue;
		}
		/* No file, or an empty one (a writer will initialise it). */
		if (mode == GDBM_READER &&
		    ((gdbm_errno == GDBM_FILE_OPEN_ERROR && errno == ENOENT) ||
		     gdbm_errno == GDBM_EMPTY_DATABASE)) {
			*absent = 1;
			return NULL;
		}
		gl_fail(err, "%s: cannot open database: %s%s%s", s->path,
			gdbm_strerror(gdbm_errno),
			gdbm_check_syserr(gdbm_errno) ? ": " : "",
			gdbm_check_syserr(gdbm_errno) ? strerror(errno) : "");
		return NULL;
	}
	gl_fail(err, "%s: database busy: lock not granted within %ld ms",
		s->path, s->lock_timeout_ms);
	return NULL;
}

/* Fetches key from an open db: 1 found, 0 absent, -1 error. */
static int fetch(gstore *s, GDBM_FILE db, const void *key, size_t klen,
		 void *val, size_t *vlen, gl_err *err)
{
	datum k = { (char *)key, (int)klen }, v;

	v = gdbm_fetch(db, k);
	if (v.dptr == NULL) {
		if (gdbm_last_errno(db) == GDBM_ITEM_NOT_FOUND)
			return 0;
		return gl_fail(err, "%s: cannot read database: %s", s->path,
			       gdbm_db_strerror(db));
	}
	if (v.dsize < 0 || (size_t)v.dsize > *vlen) {
		free(v.dptr);
		return gl_fail(err, "%s: stored value of %d bytes is too large",
			       s->path, v.dsize);
	}
	memcpy(val, v.dptr, (size_t)v.dsize);
	*vlen = (size_t)v.dsize;
	free(v.dptr);
	return 1;
}

static int g_get(gl_store *st, const void *key, size_t klen, void *val,
		 size_t *vlen, gl_err *err)
{
	gstore *s = (gstore *)st;
	GDBM_FILE db;
	int absent, rc;

	db = open_db(s, GDBM_READER, &absent, err);
	if (db == NULL)
		return absent ? 0 : -1;
	rc = fetch(s, db, key, klen, val, vlen, err);
	gdbm_close(db);
	return rc;
}

static int g_cas(gl_store *st, const void *key, size_t klen, const void *old,
		 size_t oldlen, const void *val, size_t vlen, gl_time ttl,
		 gl_err *err)
{
	gstore *s = (gstore *)st;
	unsigned char cur[GL_VALUE_MAX];
	size_t curlen = sizeof cur;
	datum k = { (char *)key, (int)klen }, v = { (char *)val, (int)vlen };
	GDBM_FILE db;
	int absent, rc;

	(void)ttl; /* purge expires GDBM records */
	db = open_db(s, GDBM_WRCREAT, &absent, err);
	if (db == NULL)
		return -1;
	rc = fetch(s, db, key, klen, cur, &curlen, err);
	if (rc < 0)
		goto out;
	if (old == NULL ? rc != 0 :
	    (rc == 0 || curlen != oldlen || memcmp(cur, old, oldlen) != 0)) {
		rc = 0;
		goto out;
	}
	if (val == NULL)
		rc = gdbm_delete(db, k) == 0 ? 1 : -1;
	else
		rc = gdbm_store(db, k, v, GDBM_REPLACE) == 0 ? 1 : -1;
	if (rc < 0)
		gl_fail(err, "%s: cannot write database: %s", s->path,
			gdbm_db_strerror(db));
out:
	if (gdbm_close(db) != 0 && rc == 1)
		rc = gl_fail(err, "%s: cannot close database: %s", s->path,
			     gdbm_strerror(gdbm_errno));
	return rc;
}

static int g_scan(gl_store *st, gl_scan_fn *fn, void *arg, gl_err *err)
{
	gstore *s = (gstore *)st;
	GDBM_FILE db;
	datum k, next, v;
	int absent, rc = 0;

	db = open_db(s, GDBM_READER, &absent, err);
	if (db == NULL)
		return absent ? 0 : -1;
	k = gdbm_firstkey(db);
	while (k.dptr != NULL && rc == 0) {
		v = gdbm_fetch(db, k);
		if (v.dptr == NULL) {
			rc = gl_fail(err, "%s: cannot read database: %s",
				     s->path, gdbm_db_strerror(db));
		} else {
			rc = fn(arg, k.dptr, (size_t)k.dsize, v.dptr,
				(size_t)v.dsize);
			free(v.dptr);
		}
		next = gdbm_nextkey(db, k);
		free(k.dptr);
		k = next;
	}
	free(k.dptr);
	if (rc == 0 && gdbm_last_errno(db) != GDBM_NO_ERROR &&
	    gdbm_last_errno(db) != GDBM_ITEM_NOT_FOUND)
		rc = gl_fail(err, "%s: cannot read database: %s", s->path,
			     gdbm_db_strerror(db));
	gdbm_close(db);
	return rc;
}

static void g_close(gl_store *st)
{
	free(st);
}

static const struct gl_store_ops gdbm_ops = {
	.name = "gdbm",
	.get = g_get,
	.cas = g_cas,
	.scan = g_scan,
	.close = g_close,
};

gl_store *gl_store_gdbm_open(const char *path, long lock_timeout_ms,
			     gl_err *err)
{
	gstore *s = calloc(1, sizeof *s);

	if (s == NULL) {
		gl_fail(err, "out of memory");
		return NULL;
	}
	if (gl_copy(s->path, sizeof s->path, path) < 0) {
		free(s);
		gl_fail(err, "database file name too long");
		return NULL;
	}
	s->base.ops = &gdbm_ops;
	s->lock_timeout_ms = lock_timeout_ms;
	return &s->base;
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
