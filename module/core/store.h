/*
 * store.h - where records live: one interface, one backend per file.
 *
 * Keys and values are opaque bytes to a store. Every call returns -1 on
 * error with err saying what and which database; the caller then answers
 * per on_error. Nothing a store returns is kept by it: values are copied
 * into the caller's buffers.
 *
 *   get   fetches n keys at once (one open, one round trip); for each
 *         item, found is 1 (val, vlen filled) or 0. vlen is the buffer
 *         size on entry; a larger stored value is an error. After -1,
 *         found, val and vlen of every item are unspecified.
 *   casv  n compare-and-sets, each atomic against every other process and
 *         host: when the stored value equals (old, oldlen) (old == NULL:
 *         when the key is absent) store (val, vlen) (val == NULL: delete)
 *         and set done = 1; else change nothing and set done = 0. ttl
 *         (seconds, 0 = none) lets a backend expire the key itself. A
 *         batch holds the writer lock once (GDBM; LMDB: one transaction;
 *         Redis: one pipelined round trip of one script call per item):
 *         keep n small (batch.h uses GL_BATCH). Each item is atomic; a
 *         batch as a whole is atomic on GDBM and LMDB only, so values
 *         that must change together live in one key (dbwl.h). After -1:
 *         GDBM keeps the items before the failure written (done = 1),
 *         LMDB writes none (every done = 0), Redis keeps the items the
 *         server answered before the failure (done = 1).
 *   scan  calls fn for every key in no particular order until fn returns
 *         non-zero (returned as is); 0 at the end. A long scan is read in
 *         chunks so that writers are never locked out for long: a key
 *         written during the scan may be seen twice or not at all.
 *   close frees the store.
 * No call waits for a lock longer than the configured lock_timeout.
 *
 * A caller that must answer within a bound (one RCPT) sets a deadline
 * with gl_store_deadline(): until it is cleared (ms = 0), every call
 * waits at most for what is left of it, and fails with "timed out" once
 * it has passed, so a whole decision takes at most that long in the
 * store, however many calls it makes.
 */
#ifndef GL_STORE_H
#define GL_STORE_H

#include "clock.h"
#include "config.h"

#define GL_BATCH 500

typedef struct gl_store gl_store;

typedef struct gl_get_item {
	const void *key;
	size_t klen;
	void *val;
	size_t vlen;
	int found;
} gl_get_item;

typedef struct gl_cas_item {
	const void *key;
	size_t klen;
	const void *old;
	size_t oldlen;
	const void *val;
	size_t vlen;
	gl_time ttl;
	int done;
} gl_cas_item;

typedef int gl_scan_fn(void *arg, const void *key, size_t klen,
		       const void *val, size_t vlen);

struct gl_store_ops {
	const char *name;
	int (*get)(gl_store *st, gl_get_item *items, size_t n, gl_err *err);
	int (*casv)(gl_store *st, gl_cas_item *items, size_t n, gl_err *err);
	int (*scan)(gl_store *st, gl_scan_fn *fn, void *arg, gl_err *err);
	void (*close)(gl_store *st);
	/* optional: see gl_store_session() */
	void (*session)(gl_store *st, int on);
};

struct gl_store {
	const struct gl_store_ops *ops;
	int64_t deadline_us; /* CLOCK_MONOTONIC; 0: none */
	const char *where;   /* for messages: the file, or HOST:PORT
				(owned by the store) */
	long timeout_ms;     /* its bound for one decision: lock_timeout
				or redis_timeout */
};

/* Sets the deadline ms from now (0: clears it). */
void gl_store_deadline(gl_store *st, long ms);

/* Microseconds left before the deadline (at most cap_ms); 0 when past;
 * cap_ms when there is no deadline. */
int64_t gl_store_left_us(const gl_store *st, long cap_ms);

/* Opens the backend the configuration names; NULL with err on error. */
gl_store *gl_store_open(const gl_config *cfg, gl_err *err) GL_WUR;

/*
 * Loads the library of backend (lazylib.h) without opening anything: 0,
 * or -1 with err. For GDBM it also has the library make this thread's
 * copy of its error number, which it otherwise allocates at its first
 * call in each process forked before (the Exim daemon's children).
 */
int gl_store_preload(enum gl_backend backend, gl_err *err);

/* The GDBM backend; path is the file, lock_timeout_ms the longest wait. */
gl_store *gl_store_gdbm_open(const char *path, long lock_timeout_ms,
			     gl_err *err) GL_WUR;

/*
 * With a snapshot (key snapshot; "" none): a missing database file is
 * restored from it at the next open (gl_store_open() sets it). -1 with
 * err when memory ran out: the store must then not be used, or a missing
 * database would start empty and the next snapshot overwrite the good
 * one; the snapshot is unchanged.
 */
int gl_gdbm_set_snapshot(gl_store *st, const char *snapshot,
			 gl_err *err) GL_WUR;

/* Has libgdbm (loaded) set up its thread-local error number. */
void gl_gdbm_preload_tls(void);

/*
 * Writes a consistent, synced copy of the GDBM file to the snapshot
 * (under the readers' lock; decisions that write wait meanwhile). 0
 * written; 1 when there is no database yet (the snapshot is left as it
 * was); -1 with err.
 */
int gl_gdbm_snapshot(const gl_config *cfg, gl_err *err) GL_WUR;

/*
 * Rebuilds a damaged GDBM file in place with gdbm_recover() (the original
 * is kept beside it, its name in backup, when GDBM made one), then deletes
 * every pair valid() refuses. Counts what was kept and what was lost.
 * The salt (store_gdbm.c) is written back, both copies; when it was
 * lost, or no copy decodes, the keys behind it are kept and the file is
 * rewritten with a new one (gl_gdbm_rekey(); rekeyed then set). A file
 * whose header cannot be read at all is moved aside to
 * PATH.broken-SECONDS and an empty database takes its place.
 */
typedef struct gl_recover_report {
	size_t kept, lost;
	size_t lost_buckets; /* buckets GDBM could not read: records lost,
			      * uncounted */
	int rekeyed;  /* the salt was lost: gl_gdbm_rekey() gave a new one */
	char backup[PATH_MAX + 32];
} gl_recover_report;

int gl_gdbm_recover(const char *path, long lock_timeout_ms,
		    int (*valid)(void *arg, const void *k, size_t kl,
				 const void *v, size_t vl),
		    void *arg, gl_recover_report *rep, gl_err *err) GL_WUR;

/*
 * How the GDBM file at path stores its keys (see store_gdbm.c: salted
 * keys): GL_GDBM_KEYS_SALTED; _PLAIN, keys of a release before salting
 * (the module uses them as they are; gl_gdbm_rekey() salts them);
 * _DAMAGED, no copy of the salt decodes or can be read (the module
 * refuses the file), or there is none but keys (of the first 32) that
 * valid() accepts only without their prefix: the salt is lost (the
 * module sees none of them); gl_gdbm_rekey() mends both; _EMPTY, no file
 * or no record (the module salts it at its first write). -1 with err
 * when the file cannot be opened. Takes the readers' lock for a moment.
 */
enum { GL_GDBM_KEYS_EMPTY, GL_GDBM_KEYS_SALTED, GL_GDBM_KEYS_PLAIN,
       GL_GDBM_KEYS_DAMAGED };
int gl_gdbm_keys(const char *path, long lock_timeout_ms,
		 int (*valid)(void *arg, const void *k, size_t kl,
			      const void *v, size_t vl),
		 void *arg, gl_err *err) GL_WUR;

/*
 * Rewrites the GDBM file at path with a new salt: every pair valid()
 * accepts (read with the old salt, or plain keys, or, when the salt
 * record is damaged, either way) goes into a new file beside it, with
 * the old one's owner and mode, which is synced and renamed over it. The
 * writers' queue and lock are held throughout, so no write is lost
 * (about 2.5 s for 200,000 records: decisions that wait longer than
 * their lock_timeout are answered per on_error). On
 * error the file is as it was. rep: how the keys were stored (was), how
 * many pairs were kept, and how many valid() refused (dropped).
 */
typedef struct gl_rekey_report {
	int was;
	size_t kept, dropped;
} gl_rekey_report;

int gl_gdbm_rekey(const char *path, long lock_timeout_ms,
		  int (*valid)(void *arg, const void *k, size_t kl,
			       const void *v, size_t vl),
		  void *arg, gl_rekey_report *rep, gl_err *err) GL_WUR;

/* The LMDB backend (database, lmdb_sync, lmdb_snapshot, lmdb_mapsize). */
gl_store *gl_store_lmdb_open(const gl_config *cfg, gl_err *err) GL_WUR;

/* Writes a consistent, synced copy of the LMDB file to lmdb_snapshot. */
int gl_lmdb_snapshot(const gl_config *cfg, gl_err *err) GL_WUR;

/*
 * How much of the LMDB file is in use: *used_r bytes (up to the last
 * page written) of *size_r (lmdb_mapsize). Opens the file read-only;
 * outputs are untouched on error.
 */
int gl_lmdb_usage(const gl_config *cfg, uint64_t *used_r, uint64_t *size_r,
		  gl_err *err) GL_WUR;

/*
 * The Redis backend (redis, redis_prefix, redis_timeout, ...). With
 * redis_sentinels, each new connection asks the sentinels for the master
 * (the one that answered last first), checks with ROLE that the server
 * is the master, and after a lost connection or a READONLY answer asks
 * again and retries the call once; all within the deadline.
 */
gl_store *gl_store_redis_open(const gl_config *cfg, gl_err *err) GL_WUR;

/*
 * With redis_sentinels, once a call reached the master: its HOST:PORT
 * in master_r and the sentinel that named it in via_r. 0, or -1 (outputs
 * untouched) for another backend, a fixed server, or no master yet.
 */
int gl_store_redis_master(const gl_store *st, char *master_r, size_t msz,
			  char *via_r, size_t vsz);

/*
 * Asks sentinel i of cfg->redis_sentinels (waiting at most redis_timeout)
 * where the master redis_master_name is: 1 with HOST:PORT in addr_r, 0
 * when it knows no such master, -1 with err.
 */
int gl_redis_sentinel_ask(const gl_config *cfg, int i, char *addr_r,
			  size_t sz, gl_err *err) GL_WUR;

/* One key: 1 found, 0 absent, -1 error; *vlen as for get. */
int gl_store_get(gl_store *st, const void *key, size_t klen, void *val,
		 size_t *vlen, gl_err *err) GL_WUR;

/* One compare-and-set: 1 done, 0 the value differed, -1 error. */
int gl_store_cas(gl_store *st, const void *key, size_t klen, const void *old,
		 size_t oldlen, const void *val, size_t vlen, gl_time ttl,
		 gl_err *err) GL_WUR;

static inline int gl_store_scan(gl_store *st, gl_scan_fn *fn, void *arg,
				gl_err *err)
{
	return st->ops->scan(st, fn, arg, err);
}

/*
 * Brackets one decision (on = 1 before its first call, 0 after its
 * last): a backend may then serve the calls in between from one open
 * and one lock. GDBM does so when the file is on a tmpfs (one writer
 * session, the queue and the file lock held from the first call to the
 * end, instead of a reader's open and a writer's open per call; its
 * close costs no sync there); elsewhere it is a no-op. Every call inside
 * still fails as it would alone; 0 ends the session whatever happened.
 */
static inline void gl_store_session(gl_store *st, int on)
{
	if (st != NULL && st->ops->session != NULL)
		st->ops->session(st, on);
}

static inline void gl_store_close(gl_store *st)
{
	if (st != NULL)
		st->ops->close(st);
}

#endif
