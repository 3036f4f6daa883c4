/*
 * store_lmdb.c - the LMDB backend: the fast embedded store for one host.
 *
 * GDBM cannot keep a handle open across processes, so each decision pays
 * an open, a read of GDBM's header and directory, and a close that syncs.
 * LMDB can: each Exim process maps the file once (for its connection) and
 * reads through lock-free MVCC transactions - no system call per lookup.
 * Writers are serialised by our own lock in FILE.wlock (plock.h: a
 * robust process-shared mutex, free of system calls when not contended,
 * waking the next waiter at once), taken with the usual bound
 * (lock_timeout), so LMDB's own writer mutex, which waits without one,
 * is never contended by us. A process killed at any point leaves the
 * file intact, and its lock is taken over.
 *
 * Commits write through a shared writable map (MDB_WRITEMAP): no copy
 * and no write() per page, which halves the cost of a write. A write to
 * a mapped page the filesystem cannot back (disk full) would kill the
 * process with SIGBUS rather than fail, so before each write transaction
 * reserve() allocates (fallocate) every block it may touch: all pages up
 * to the last one in use plus room for the transaction. The mark of what
 * is allocated is shared by all processes in the lock file, so only
 * growth costs a system call. When that allocation fails, the write
 * fails cleanly (on_error). Filesystems without fallocate get the
 * ordinary write() path. The lock file LMDB maps (FILE-lock) is allocated
 * the same way before LMDB first touches it.
 *
 * Durability: with lmdb_sync = no (the default) commits are not synced
 * (MDB_NOSYNC): fast, and safe against any process crash, but a crash of
 * the whole system can damage a file on disk. So keep the file on a tmpfs
 * (/run) and set lmdb_snapshot: "greylist-admin snapshot" (cron) writes a
 * consistent, synced copy there, and the store restores it when the file
 * is missing (after a reboot). With lmdb_sync = yes commits sync their
 * data (MDB_NOMETASYNC): a system crash can undo the last commit, never
 * damage the file.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <lmdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "plock.h"
#include "store.h"
#define GL_LAZY_LMDB
#include "lazylib.h"

typedef struct lstore {
	gl_store base;
	/* The file names, in names[] after the struct. No PATH_MAX arrays,
	 * here or on the stack: each would be pages that a connection's
	 * first decision writes (a page fault each in a process just
	 * forked). */
	char *path;     /* the database */
	char *wlock;    /* PATH.wlock: our writer lock */
	char *lockfile; /* PATH-lock: LMDB's */
	char *staged;   /* PATH.restore: a snapshot being restored */
	char *snapshot; /* "" when none */
	long lock_timeout_ms;
	size_t mapsize;
	int sync;
	MDB_env *env;
	MDB_dbi dbi;
	MDB_txn *rtxn;  /* a reset read transaction, renewed per get */
	pid_t pid;      /* the process that opened env */
	gl_plock lock;  /* the writer lock (a shared mapping: fork-safe) */
	int writemap;   /* env has MDB_WRITEMAP: reserve() before writes */
	uint64_t ino, dev, btime; /* the data file, for the reserved mark */
	size_t psize;
	char names[];
} lstore;

/* The shared words of the lock file: which data file (inode numbers are
 * reused, so its birth time too), and how many bytes of it are
 * allocated. */
enum { SH_INO, SH_DEV, SH_BTIME, SH_RESERVED };
/* Room a write transaction may need beyond the last page in use: pages
 * per item (a copied path and a split in a deep tree, an overflow page)
 * and for the free-page list at commit; allocated in steps. */
#define RESERVE_PER_ITEM 10
#define RESERVE_SLACK    64
#define RESERVE_STEP     ((off_t)256 << 10)
/* Readers at once: one per Exim process. LMDB's lock file holds a slot
 * of 64 bytes for each, and its header. */
#define MAX_READERS      4096
#define LOCKFILE_BYTES   ((off_t)(MAX_READERS + 64) * 64)

static int lfail(lstore *s, gl_err *err, const char *what, int rc)
{
	return gl_fail(err, "%s: %s: %s", s->path, what, mdb_strerror(rc));
}

/* Our bounded writer lock in FILE.wlock. */
static int wlock(lstore *s, gl_err *err)
{
	if (s->lock.page == NULL &&
	    gl_plock_open(&s->lock, s->wlock, gl_store_left_us(&s->base,
			  s->lock_timeout_ms), err) < 0)
		return -1;
	if (gl_plock_lock(&s->lock, gl_store_left_us(&s->base,
			  s->lock_timeout_ms)) == 0)
		return 0;
	if (errno == EWOULDBLOCK)
		return gl_fail(err, "%s: database busy: lock not granted within "
			       "%ld ms", s->path, s->lock_timeout_ms);
	return gl_fail(err, "%s: cannot lock: %s", s->wlock, strerror(errno));
}

/* Whether LMDB opens the file at path and reads its main database. */
static int lmdb_readable(const char *path)
{
	MDB_env *e;
	MDB_txn *t;
	MDB_dbi d;
	int ok = 0;

	if (mdb_env_create(&e) != 0)
		return 0;
	if (mdb_env_open(e, path, MDB_NOSUBDIR | MDB_RDONLY | MDB_NOLOCK,
			 0600) == 0 &&
	    mdb_txn_begin(e, NULL, MDB_RDONLY, &t) == 0) {
		ok = mdb_dbi_open(t, NULL, 0, &d) == 0;
		mdb_txn_abort(t);
	}
	mdb_env_close(e);
	return ok;
}

/*
 * Copies the snapshot into place when the database file is missing. A
 * snapshot LMDB cannot open is moved aside (SNAPSHOT.broken-TIME) and
 * the database starts empty, never answering per on_error for good.
 */
static int restore(lstore *s, gl_err *err)
{
	struct stat st;
	int rc = 0;

	if (s->snapshot[0] == '\0' || stat(s->path, &st) == 0 ||
	    stat(s->snapshot, &st) != 0)
		return 0;
	if (wlock(s, err) < 0)
		return -1;
	if (stat(s->path, &st) == 0) /* another process was first */
		goto out;
	rc = gl_snapshot_stage(s->path, s->snapshot, s->staged, lmdb_readable,
			       err);
	if (rc == 1)
		rc = rename(s->staged, s->path) == 0 ? 0 :
		     gl_fail(err, "%s: cannot restore from %s: %s", s->path,
			     s->snapshot, strerror(errno));
out:
	gl_plock_unlock(&s->lock);
	return rc;
}

/* Allocates LMDB's lock file before LMDB maps it (see the top). */
static int reserve_lockfile(lstore *s, gl_err *err)
{
	int fd, rc = 0;

	fd = open(s->lockfile, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0660);
	if (fd < 0)
		return gl_fail(err, "%s: cannot open: %s", s->lockfile,
			       strerror(errno));
	if (fallocate(fd, 0, 0, LOCKFILE_BYTES) != 0 && errno != EOPNOTSUPP &&
	    errno != ENOSYS)
		rc = gl_fail(err, "%s: cannot allocate: %s", s->lockfile,
			     strerror(errno));
	close(fd);
	return rc;
}

/* Makes sure every block the next write transaction (n items) may touch
 * is allocated; called with the writer lock held. 0 or an errno. */
static int reserve(lstore *s, size_t n)
{
	MDB_envinfo info;
	uint64_t *sh = gl_plock_shared(&s->lock);
	off_t need, from = 0;
	int fd;

	if (!s->writemap)
		return 0;
	if (sh == NULL || mdb_env_info(s->env, &info) != 0 ||
	    mdb_env_get_fd(s->env, &fd) != 0)
		return EIO;
	need = ((off_t)info.me_last_pgno + 1 + RESERVE_SLACK +
		(off_t)n * RESERVE_PER_ITEM) * (off_t)s->psize;
	if (sh[SH_INO] == s->ino && sh[SH_DEV] == s->dev &&
	    sh[SH_BTIME] == s->btime) {
		if ((off_t)sh[SH_RESERVED] >= need)
			return 0;
		from = (off_t)sh[SH_RESERVED]; /* below it: allocated */
	}
	need = (need + RESERVE_STEP - 1) / RESERVE_STEP * RESERVE_STEP;
	if (need > (off_t)info.me_mapsize)
		need = (off_t)info.me_mapsize;
	if (need > from && fallocate(fd, 0, from, need - from) != 0)
		return errno;
	sh[SH_INO] = s->ino;
	sh[SH_DEV] = s->dev;
	sh[SH_BTIME] = s->btime;
	sh[SH_RESERVED] = (uint64_t)(need > from ? need : from);
	return 0;
}

static int open_env(lstore *s, unsigned int flags)
{
	MDB_txn *txn;
	int rc, dead;

	if ((rc = mdb_env_create(&s->env)) != 0) {
		s->env = NULL;
		return rc;
	}
	mdb_env_set_maxreaders(s->env, MAX_READERS);
	mdb_env_set_mapsize(s->env, s->mapsize);
	rc = mdb_env_open(s->env, s->path, flags, 0660);
	if (rc == 0) {
		mdb_reader_check(s->env, &dead); /* slots of killed processes */
		rc = mdb_txn_begin(s->env, NULL, MDB_RDONLY, &txn);
		if (rc == 0) {
			rc = mdb_dbi_open(txn, NULL, 0, &s->dbi);
			mdb_txn_abort(txn); /* the main DB's handle stays valid */
		}
	}
	if (rc != 0) {
		mdb_env_close(s->env);
		s->env = NULL;
	}
	return rc;
}

/* With env opened MDB_WRITEMAP: notes the data file and page size and
 * says whether reserve() can work here (fallocate is supported). */
static int writemap_usable(lstore *s)
{
	struct statx stx;
	MDB_stat ms;
	int fd;

	if (mdb_env_get_fd(s->env, &fd) != 0 ||
	    statx(fd, "", AT_EMPTY_PATH, STATX_INO | STATX_BTIME, &stx) != 0 ||
	    mdb_env_stat(s->env, &ms) != 0 || ms.ms_psize == 0)
		return 0;
	s->ino = stx.stx_ino;
	s->dev = ((uint64_t)stx.stx_dev_major << 32) | stx.stx_dev_minor;
	s->btime = stx.stx_mask & STATX_BTIME ?
		   (uint64_t)stx.stx_btime.tv_sec * 1000000000u +
		   stx.stx_btime.tv_nsec : 0;
	s->psize = ms.ms_psize;
	/* Page 0 is always allocated: this only asks whether fallocate
	 * works here (a full disk is reserve()'s business). */
	return fallocate(fd, 0, 0, (off_t)s->psize) == 0 ||
	       (errno != EOPNOTSUPP && errno != ENOSYS);
}

/* Opens the environment at the first call, and again in a new process
 * (LMDB forbids using an environment across fork()). */
static int ready(lstore *s, gl_err *err)
{
	/* No MDB_NORDAHEAD: it would also turn off the kernel's
	 * fault-around, and each Exim process would fault in the map one
	 * page at a time (~15% of a lookup at 1M records). */
	unsigned int flags = MDB_NOSUBDIR | MDB_NOTLS | MDB_NOMETASYNC |
			     (s->sync ? 0 : MDB_NOSYNC);
	int rc;

	if (s->env != NULL && s->pid == gl_pid())
		return 0;
	s->env = NULL; /* inherited across fork: never touched again */
	s->rtxn = NULL;
	s->pid = gl_pid();
	if (restore(s, err) < 0 || reserve_lockfile(s, err) < 0)
		return -1;
	rc = open_env(s, flags | MDB_WRITEMAP);
	s->writemap = rc == 0 && writemap_usable(s);
	if (rc == 0 && !s->writemap) {
		mdb_env_close(s->env);
		rc = open_env(s, flags);
	}
	if (rc != 0)
		return lfail(s, err, "cannot open database", rc);
	return 0;
}

static int l_get(gl_store *st, gl_get_item *items, size_t n, gl_err *err)
{
	lstore *s = (lstore *)st;
	size_t i;
	int rc;

	for (i = 0; i < n; i++)
		items[i].found = 0;
	if (ready(s, err) < 0)
		return -1;
	rc = s->rtxn ? mdb_txn_renew(s->rtxn) :
	     mdb_txn_begin(s->env, NULL, MDB_RDONLY, &s->rtxn);
	if (rc != 0) {
		s->rtxn = NULL;
		return lfail(s, err, "cannot read", rc);
	}
	for (i = 0; i < n; i++) {
		MDB_val k = { items[i].klen, (void *)items[i].key }, v;

		rc = mdb_get(s->rtxn, s->dbi, &k, &v);
		if (rc == MDB_NOTFOUND)
			continue;
		if (rc != 0 || v.mv_size > items[i].vlen) {
			mdb_txn_reset(s->rtxn);
			return rc ? lfail(s, err, "cannot read", rc) :
			       gl_fail(err, "%s: stored value of %zu bytes is "
				       "too large", s->path, v.mv_size);
		}
		memcpy(items[i].val, v.mv_data, v.mv_size);
		items[i].vlen = v.mv_size;
		items[i].found = 1;
	}
	mdb_txn_reset(s->rtxn);
	return 0;
}

static int l_casv(gl_store *st, gl_cas_item *items, size_t n, gl_err *err)
{
	lstore *s = (lstore *)st;
	MDB_txn *txn = NULL;
	size_t i;
	int rc;

	for (i = 0; i < n; i++)
		items[i].done = 0;
	if (ready(s, err) < 0 || wlock(s, err) < 0)
		return -1;
	if ((rc = reserve(s, n)) != 0) {
		gl_plock_unlock(&s->lock);
		return gl_fail(err, "%s: cannot write (allocating space): %s",
			       s->path, strerror(rc));
	}
	rc = mdb_txn_begin(s->env, NULL, 0, &txn);
	for (i = 0; i < n && rc == 0; i++) {
		MDB_val k = { items[i].klen, (void *)items[i].key }, v;
		int same;

		rc = mdb_get(txn, s->dbi, &k, &v);
		if (rc != 0 && rc != MDB_NOTFOUND)
			break;
		if (items[i].old == NULL)
			same = rc == MDB_NOTFOUND;
		else
			same = rc == 0 && v.mv_size == items[i].oldlen &&
			       memcmp(v.mv_data, items[i].old, v.mv_size) == 0;
		rc = 0;
		if (!same)
			continue;
		if (items[i].val == NULL) {
			rc = mdb_del(txn, s->dbi, &k, NULL);
		} else {
			v.mv_size = items[i].vlen;
			v.mv_data = (void *)items[i].val;
			rc = mdb_put(txn, s->dbi, &k, &v, 0);
		}
		items[i].done = rc == 0;
	}
	if (rc == 0)
		rc = mdb_txn_commit(txn);
	else if (txn != NULL)
		mdb_txn_abort(txn);
	gl_plock_unlock(&s->lock);
	if (rc != 0) {
		for (i = 0; i < n; i++)
			items[i].done = 0;
		return lfail(s, err, rc == MDB_MAP_FULL ? "cannot write (the "
			     "file reached lmdb_mapsize)" : "cannot write", rc);
	}
	return 0;
}

/* One read transaction: MVCC readers never hold writers up. */
static int l_scan(gl_store *st, gl_scan_fn *fn, void *arg, gl_err *err)
{
	lstore *s = (lstore *)st;
	MDB_txn *txn;
	MDB_cursor *cur;
	MDB_val k, v;
	int rc, r = 0;

	if (ready(s, err) < 0)
		return -1;
	rc = mdb_txn_begin(s->env, NULL, MDB_RDONLY, &txn);
	if (rc != 0)
		return lfail(s, err, "cannot read", rc);
	rc = mdb_cursor_open(txn, s->dbi, &cur);
	if (rc != 0) {
		mdb_txn_abort(txn);
		return lfail(s, err, "cannot read", rc);
	}
	while (r == 0 && (rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) == 0)
		r = fn(arg, k.mv_data, k.mv_size, v.mv_data, v.mv_size);
	mdb_cursor_close(cur);
	mdb_txn_abort(txn);
	if (r == 0 && rc != MDB_NOTFOUND)
		return lfail(s, err, "cannot read", rc);
	return r;
}

static void l_close(gl_store *st)
{
	lstore *s = (lstore *)st;

	if (s->env != NULL && s->pid == gl_pid()) {
		if (s->rtxn != NULL)
			mdb_txn_abort(s->rtxn);
		mdb_env_close(s->env);
	}
	gl_plock_close(&s->lock);
	free(s);
}

static const struct gl_store_ops lmdb_ops = {
	.name = "lmdb",
	.get = l_get,
	.casv = l_casv,
	.scan = l_scan,
	.close = l_close,
};

/* Writes "HEAD""TAIL" at *at, returns where it starts, moves *at on. */
static char *put_name(char **at, const char *head, const char *tail)
{
	char *p = *at;
	size_t h = strlen(head), t = strlen(tail);

	memcpy(p, head, h);
	memcpy(p + h, tail, t + 1);
	*at = p + h + t + 1;
	return p;
}

gl_store *gl_store_lmdb_open(const gl_config *cfg, gl_err *err)
{
	static const char *const tails[] = { "", ".wlock", "-lock",
					     ".restore" };
	size_t i, need = strlen(cfg->snapshot) + 1;
	lstore *s;
	char *at;

	if (gl_lazy_load(GL_LIB_LMDB, err) < 0)
		return NULL;
	for (i = 0; i < sizeof tails / sizeof tails[0]; i++)
		need += strlen(cfg->database) + strlen(tails[i]) + 1;
	s = calloc(1, sizeof *s + need);
	if (s == NULL) {
		gl_fail(err, "out of memory");
		return NULL;
	}
	at = s->names;
	s->path = put_name(&at, cfg->database, tails[0]);
	s->wlock = put_name(&at, cfg->database, tails[1]);
	s->lockfile = put_name(&at, cfg->database, tails[2]);
	s->staged = put_name(&at, cfg->database, tails[3]);
	s->snapshot = put_name(&at, cfg->snapshot, "");
	s->base.ops = &lmdb_ops;
	s->base.where = s->path;
	s->base.timeout_ms = cfg->lock_timeout_ms;
	s->lock_timeout_ms = cfg->lock_timeout_ms;
	s->mapsize = (size_t)cfg->lmdb_mapsize_mb << 20;
	s->sync = cfg->lmdb_sync;
	return &s->base;
}

int gl_lmdb_snapshot(const gl_config *cfg, gl_err *err)
{
	char tmp[PATH_MAX + 16];
	gl_store *st;
	lstore *s;
	int rc, fd;

	if (cfg->snapshot[0] == '\0')
		return gl_fail(err, "%s: no lmdb_snapshot is configured",
			       cfg->path);
	st = gl_store_lmdb_open(cfg, err);
	if (st == NULL)
		return -1;
	s = (lstore *)st;
	if (ready(s, err) < 0) {
		l_close(st);
		return -1;
	}
	snprintf(tmp, sizeof tmp, "%s.tmp", cfg->snapshot);
	unlink(tmp);
	/* A consistent copy (one read transaction), compacted. */
	rc = mdb_env_copy2(s->env, tmp, MDB_CP_COMPACT);
	if (rc != 0) {
		l_close(st);
		return gl_fail(err, "%s: cannot write snapshot %s: %s", cfg->database,
			       tmp, mdb_strerror(rc));
	}
	fd = open(tmp, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || fsync(fd) != 0 || close(fd) != 0 ||
	    rename(tmp, cfg->snapshot) != 0) {
		l_close(st);
		return gl_fail(err, "%s: cannot complete snapshot: %s",
			       cfg->snapshot, strerror(errno));
	}
	l_close(st);
	return 0;
}

int gl_lmdb_usage(const gl_config *cfg, uint64_t *used_r, uint64_t *size_r,
		  gl_err *err)
{
	MDB_env *env;
	MDB_envinfo info;
	MDB_stat ms;
	int rc;

	if (gl_lazy_load(GL_LIB_LMDB, err) < 0)
		return -1;
	if ((rc = mdb_env_create(&env)) != 0)
		return gl_fail(err, "%s: %s", cfg->database, mdb_strerror(rc));
	mdb_env_set_mapsize(env, (size_t)cfg->lmdb_mapsize_mb << 20);
	rc = mdb_env_open(env, cfg->database, MDB_NOSUBDIR | MDB_RDONLY, 0660);
	if (rc == 0)
		rc = mdb_env_info(env, &info);
	if (rc == 0)
		rc = mdb_env_stat(env, &ms);
	mdb_env_close(env);
	if (rc != 0)
		return gl_fail(err, "%s: cannot read: %s", cfg->database,
			       mdb_strerror(rc));
	*used_r = ((uint64_t)info.me_last_pgno + 1) * ms.ms_psize;
	*size_r = (uint64_t)cfg->lmdb_mapsize_mb << 20;
	return 0;
}
