/*
 * store_gdbm.c - the GDBM backend.
 *
 * On disk no handle is kept between calls: a handle's cached directory
 * goes stale when another process writes, and an open handle would hold
 * its lock. Each get opens the file as a reader and each batch of
 * compare-and-sets as a writer. (On a tmpfs a decision is one session,
 * and its writer may be kept: see below.)
 *
 * Locking is ours, not GDBM's, so that the lock can be released before
 * gdbm_close(): we flock() the database file itself (shared for readers,
 * exclusive for writers, exactly as GDBM's own locking does, so other
 * GDBM programs and ours exclude each other) and open it with
 * GDBM_NOLOCK. A busy lock is retried with short sleeps up to
 * lock_timeout, then reported as "database busy". A writer releases the
 * lock once its last gdbm_store() has returned - the file is consistent
 * then - and only after that lets gdbm_close() sync it to disk: the sync
 * (most of a write's cost) no longer holds every other Exim process up.
 *
 * In front of the file lock stands a queue: the process-shared mutex of
 * FILE.wlock (plock.h), taken first by every reader and writer. Polled
 * flock()s let a crowd of waiters overtake each other (one waited 12 ms
 * at the 99th percentile with 8 processes); the mutex hands the file to
 * the next waiter the moment it is free. The flock() stays the
 * exclusion that matters (and keeps other GDBM programs out): with the
 * queue held it is granted at once. When FILE.wlock cannot be opened (a
 * read-only directory) the file lock alone is used, as before.
 *
 * On a tmpfs a session's writer is not closed at the end of the
 * decision but kept, unlocked, for the process's next decision (a
 * connection's next RCPT): reopening costs about ten system calls and
 * GDBM's buffers, which is most of a decision when one process decides
 * alone. The kept handle's cached header, directory and buckets are only
 * right while nobody else writes the file, so a session that wrote
 * stamps the file's modification time (futimens) before it lets go, with
 * a time no stamp had before (the exact time in nanoseconds, or past the
 * last stamp, which FILE.wlock keeps), and the handle is kept only with
 * such a stamp of its own (or, when the session wrote nothing, with the
 * stamp it was taken back with). It is used again only when, under the file
 * lock, the file at the path is still the same file (device and inode:
 * not replaced by a restore or a recover) with that very stamp. Any
 * other write, by another session, by greylist-admin or by another GDBM
 * program, leaves another time (its own stamp, or the kernel's clock of
 * that write, which ticks in milliseconds and would have to fall on the
 * stamp's nanosecond), and the handle is closed and the file opened
 * anew, as without keeping. A handle that met an error is never kept.
 *
 * Keys are salted. GDBM's hash is a weighted sum of a key's bytes, so
 * keys that differ little collide: in a bucket, every stored key with the
 * hash of the one looked up (and its length and first four bytes) is read
 * from the file to compare, two system calls each; and 166 keys with one
 * hash fill a bucket that no split can empty, so that GDBM refuses them
 * ("Bucket directory overflow") and doubles its directory for the keys
 * that share the bucket's first bits, to megabytes read at every open.
 * Senders are chosen by whoever connects. So a file this module creates
 * holds a salt (a version byte and 16 random bytes, under two keys:
 * salt_keys), and
 * GDBM stores each key behind the 8 bytes of SipHash-2-4 of the key
 * under the salt (siphash.h): its hash, and its first bytes, are then
 * unknown to a sender. The salt is read at each open (a kept handle
 * keeps it): a few system calls, and two page faults more per one-RCPT
 * SMTP connection (measured: README). A file of an earlier release, with keys
 * but no salt, is used as it is, with plain keys, until greylist-admin
 * rekey rewrites it (gl_gdbm_rekey()).
 */
#include <errno.h>
#include <fcntl.h>
#include <gdbm.h>
#include <linux/magic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <time.h>
#include <unistd.h>

#include "plock.h"
#include "siphash.h"
#include "store.h"
#define GL_LAZY_GDBM
#include "lazylib.h"

typedef struct gstore {
	gl_store base;
	/* owned; small, so that a connection's first decision writes few
	 * pages (each a page fault in a process just forked) */
	char *path;
	char *snapshot;           /* NULL when none */
	long lock_timeout_ms;
	gl_plock queue;           /* FILE.wlock */
	int queue_tried;          /* queue_open() ran */
	int queue_ok;             /* ... and the queue is usable */
	int queued;               /* this process holds the queue */
	int session;              /* inside gl_store_session(st, 1) */
	int on_tmpfs;             /* -1 unknown, 0 no, 1 yes */
	GDBM_FILE held;           /* the session's writer, locked; or NULL */
	int held_bad;             /* held met an error: close, never keep */
	int held_wrote;           /* held wrote (or tried to) */
	int held_stamped;         /* kept_mtime is a stamp of ours */
	int held_fresh;           /* opened in this session, not kept */
	GDBM_FILE kept;           /* the last session's writer, unlocked */
	dev_t kept_dev;           /* ... the file it has open */
	ino_t kept_ino;
	struct timespec kept_mtime; /* ... and its stamp when let go */
	/* the salt of the file last opened (see the top) */
	int salted;               /* 1 salted keys; 0 plain (or no file) */
	int salt_made;            /* the last open wrote the salt record */
	int salt_damaged;         /* no copy of its salt decodes or reads */
	int raw;                  /* rekey, recover: a damaged salt is no
				   * error */
	int salt_retry;           /* read_salt() asks for another open */
	unsigned char salt[16];   /* SipHash's key */
	int kept_salted;          /* the kept handle's file's salt */
	unsigned char kept_salt[16];
	unsigned char *kbuf;      /* a stored key (prefix and key) */
	size_t kcap;
} gstore;

/* The salt is kept twice, under two keys (of other lengths, so of other
 * hashes: in other buckets, most likely), so that one damaged block does
 * not take it; no key of keys.h starts with NUL. */
static const datum salt_keys[2] = { { (char *)"\0salt", 5 },
				    { (char *)"\0salt.2", 7 } };
#define SALT_VERSION 1
#define PREFIX 8                   /* SipHash's bytes before each key */
_Static_assert(PREFIX == 8, "a prefix is one gl_put_le64()");

/* Takes salt (16 bytes) as the open file's. */
static void set_salt(gstore *s, const unsigned char *salt)
{
	memcpy(s->salt, salt, sizeof s->salt);
	s->salted = 1;
}

/* The PREFIX bytes a salted file stores before key: SipHash-2-4 of the
 * key under the salt, little endian. */
static void key_prefix(const gstore *s, const void *key, size_t klen,
		       unsigned char *out)
{
	gl_put_le64(out, gl_siphash24(s->salt, key, klen));
}

/* The key GDBM stores for key in the open file: key itself in a file of
 * plain keys; prefix and key (in s->kbuf) in a salted one. dptr NULL
 * when memory ran out. */
static datum stored_key(gstore *s, const void *key, size_t klen)
{
	datum d = { (char *)key, (int)klen };
	unsigned char *b;

	if (!s->salted)
		return d;
	if (s->kcap < PREFIX + klen) {
		b = realloc(s->kbuf, PREFIX + klen);
		if (b == NULL) {
			d.dptr = NULL;
			return d;
		}
		s->kbuf = b;
		s->kcap = PREFIX + klen;
	}
	key_prefix(s, key, klen, s->kbuf);
	memcpy(s->kbuf + PREFIX, key, klen);
	d.dptr = (char *)s->kbuf;
	d.dsize = (int)(PREFIX + klen);
	return d;
}

/* Whether k (as GDBM stores it) is a copy of the salt. */
static int is_salt_key(const datum *k)
{
	int i;

	for (i = 0; i < 2; i++)
		if (k->dsize == salt_keys[i].dsize &&
		    memcmp(k->dptr, salt_keys[i].dptr, (size_t)k->dsize) == 0)
			return 1;
	return 0;
}

/* The key a stored key stands for, in the open file: 1 with *key_r and
 * *klen_r set; 0 for the salt record, and for a key whose prefix is not
 * its own (not a key this store wrote). */
static int plain_key(const gstore *s, const datum *k, const void **key_r,
		     size_t *klen_r)
{
	unsigned char p[PREFIX];

	if (is_salt_key(k))
		return 0;
	if (!s->salted) {
		*key_r = k->dptr;
		*klen_r = (size_t)k->dsize;
		return 1;
	}
	if (k->dsize <= PREFIX)
		return 0;
	key_prefix(s, k->dptr + PREFIX, (size_t)k->dsize - PREFIX, p);
	if (memcmp(p, k->dptr, PREFIX) != 0)
		return 0;
	*key_r = k->dptr + PREFIX;
	*klen_r = (size_t)k->dsize - PREFIX;
	return 1;
}

/*
 * The key a record (k, v) of the open file stands for, as the admin
 * tool's whole-file work reads it: 1 with *key_r and *klen_r set; 0 for
 * the salt, and for a record valid() refuses whichever way it is read.
 * In a salted file the prefix must be the salt's own; in one without a
 * salt (plain keys, or a salt lost or damaged) a key valid() refuses is
 * tried without its first PREFIX bytes: then *key_r is not k->dptr.
 */
static int record_key(const gstore *old, const datum *k, const datum *v,
		     int (*valid)(void *arg, const void *k, size_t kl,
				  const void *v, size_t vl),
		     void *arg, const void **key_r, size_t *klen_r)
{
	if (is_salt_key(k) || v->dptr == NULL)
		return 0;
	if (old->salted)
		return plain_key(old, k, key_r, klen_r) &&
		       valid(arg, *key_r, *klen_r, v->dptr, (size_t)v->dsize);
	if (valid(arg, k->dptr, (size_t)k->dsize, v->dptr, (size_t)v->dsize)) {
		*key_r = k->dptr;
		*klen_r = (size_t)k->dsize;
		return 1;
	}
	/* a damaged or lost salt: a key behind a prefix is still itself */
	if (k->dsize > PREFIX &&
	    valid(arg, k->dptr + PREFIX, (size_t)k->dsize - PREFIX, v->dptr,
		  (size_t)v->dsize)) {
		*key_r = k->dptr + PREFIX;
		*klen_r = (size_t)k->dsize - PREFIX;
		return 1;
	}
	return 0;
}

/* Writes both copies of salt (16 bytes) into db: 0, or -1 with err. */
static int write_salt(const gstore *s, GDBM_FILE db,
		      const unsigned char *salt, gl_err *err)
{
	unsigned char v[1 + sizeof s->salt];
	datum d = { (char *)v, sizeof v };
	int i;

	v[0] = SALT_VERSION;
	memcpy(v + 1, salt, sizeof s->salt);
	for (i = 0; i < 2; i++)
		if (gdbm_store(db, salt_keys[i], d, GDBM_REPLACE) != 0)
			return gl_fail(err, "%s: cannot write database: %s",
				       s->path, gdbm_db_strerror(db));
	return 0;
}

/* Salts db (a writer) with 16 new random bytes: 0, or -1 with err. */
static int make_salt(gstore *s, GDBM_FILE db, gl_err *err)
{
	unsigned char salt[sizeof s->salt];
	ssize_t n;
	int tries = 0;

	/* blocks only until the kernel's generator is seeded, at boot */
	do
		n = getrandom(salt, sizeof salt, 0);
	while (n < 0 && errno == EINTR && ++tries < 100);
	if (n != (ssize_t)sizeof salt)
		return gl_fail(err, "%s: no random bytes for the database's "
			       "salt: %s", s->path, strerror(errno));
	if (write_salt(s, db, salt, err) < 0)
		return -1;
	set_salt(s, salt);
	s->salt_made = 1;
	return 0;
}

/* Reads copy i of db's salt into salt: 1 read, 0 absent, -1 the fetch
 * failed, 2 the record is not one this version wrote. */
static int fetch_salt(GDBM_FILE db, int i, unsigned char salt[16])
{
	datum v = gdbm_fetch(db, salt_keys[i]);
	int ok;

	if (v.dptr == NULL)
		return gdbm_last_errno(db) == GDBM_ITEM_NOT_FOUND ? 0 : -1;
	ok = v.dsize == 17 && (unsigned char)v.dptr[0] == SALT_VERSION;
	if (ok)
		memcpy(salt, v.dptr + 1, 16);
	free(v.dptr);
	return ok ? 1 : 2;
}

/*
 * Reads the salt of a file just opened (either copy will do), copy
 * `first` first. A writer that finds the file empty salts it. 0, with
 * s->salted and s->salt saying which keys the file has (they change
 * only here, and only on success); or -1 with err: no copy decodes, or
 * none can be read (in raw mode neither is an error: s->salt_damaged
 * says so), or the file cannot be read. A failed read leaves GDBM's
 * handle unusable ("needs recovery"), so when the copy tried first
 * cannot be read and s->salt_retry is 0, it returns -1 with
 * s->salt_retry set: the caller opens the file again and reads the
 * other copy first.
 */
static int read_salt(gstore *s, GDBM_FILE db, int writer, int first,
		     gl_err *err)
{
	unsigned char salt[sizeof s->salt];
	int r = 0, bad = 0, j;
	datum k;

	s->salt_made = s->salt_damaged = 0;
	for (j = 0; j < 2; j++) {
		r = fetch_salt(db, first ^ j, salt);
		if (r == 1) {
			set_salt(s, salt);
			return 0;
		}
		if (r == -1 && j == 0 && !s->salt_retry) {
			s->salt_retry = 1;
			return gl_fail(err, "%s: cannot read the database's "
				       "salt: %s", s->path,
				       gdbm_db_strerror(db));
		}
		bad |= r;
		if (r == -1)
			break; /* the handle is unusable now */
	}
	if (bad != 0) {
		s->salt_damaged = 1;
		if (s->raw) {
			s->salted = 0;
			return 0;
		}
		if (r != -1)
			return gl_fail(err, "%s: its salt record is not one this "
				       "version wrote: run greylist-admin "
				       "rekey", s->path);
		return gl_fail(err, "%s: cannot read the database's salt: %s; "
			       "run greylist-admin recover", s->path,
			       gdbm_db_strerror(db));
	}
	if (!writer || s->raw) {
		s->salted = 0;
		return 0;
	}
	k = gdbm_firstkey(db);
	if (k.dptr != NULL) {
		free(k.dptr); /* keys of an earlier release: plain */
		s->salted = 0;
		return 0;
	}
	if (gdbm_last_errno(db) != GDBM_ITEM_NOT_FOUND)
		return gl_fail(err, "%s: cannot read database: %s", s->path,
			       gdbm_db_strerror(db));
	return make_salt(s, db, err);
}

/*
 * Takes the queue (FILE.wlock) within the store's deadline: 0 held (or
 * no usable queue: the file lock alone then), -1 with err when the wait
 * ran out.
 */
static int queue_enter(gstore *s, gl_err *err)
{
	gl_err ignored;

	if (!s->queue_tried) {
		/* on the heap: a connection's first decision comes here,
		 * and each page its stack grows by is a page fault */
		size_t n = strlen(s->path) + sizeof ".wlock";
		char *path = malloc(n);
		int64_t wait = gl_store_left_us(&s->base, s->lock_timeout_ms);

		s->queue_tried = 1;
		if (path != NULL) {
			snprintf(path, n, "%s.wlock", s->path);
			s->queue_ok = gl_plock_open(&s->queue, path, wait,
						    &ignored) == 0;
			free(path);
		}
	}
	if (!s->queue_ok)
		return 0;
	if (gl_plock_lock(&s->queue, gl_store_left_us(&s->base,
						       s->lock_timeout_ms)) == 0) {
		s->queued = 1;
		return 0;
	}
	if (errno == EWOULDBLOCK)
		return gl_fail(err, "%s: database busy: lock not granted within "
			       "%ld ms", s->path, s->lock_timeout_ms);
	return 0; /* an unusable queue: the file lock alone */
}

static void queue_leave(gstore *s)
{
	if (s->queued) {
		gl_plock_unlock(&s->queue);
		s->queued = 0;
	}
}

/* Whether GDBM opens the file at path (its header and directory read). */
static int gdbm_readable(const char *path)
{
	GDBM_FILE db;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return 0;
	db = gdbm_fd_open(fd, path, 0, GDBM_READER | GDBM_NOLOCK | GDBM_NOMMAP |
			  GDBM_CLOEXEC | GDBM_CLOERROR, NULL);
	if (db == NULL)
		return 0; /* GDBM_CLOERROR: fd is closed */
	gdbm_close(db);
	return 1;
}

/*
 * Called when the database is missing (a tmpfs after a reboot): when a
 * snapshot exists, puts a copy of it in place. Several processes may do so at
 * once: each copies to a file of its own and link()s it into place, so
 * the first one wins whole, the others' copies are dropped, and nobody
 * ever opens half a file. A snapshot GDBM cannot open is moved aside
 * (SNAPSHOT.broken-TIME, for greylist-admin recover) and the database
 * starts empty, so that a damaged snapshot never leaves the module
 * answering per on_error until somebody acts. 0 (restored, or nothing to
 * do), or -1 (the snapshot cannot be read: its owner or mode is wrong,
 * which greylist-admin check names; starting empty would let the next
 * snapshot job overwrite it).
 */
static int restore(gstore *s, gl_err *err)
{
	char tmp[PATH_MAX + 32];
	int rc;

	if (access(s->snapshot, F_OK) != 0 && errno == ENOENT)
		return 0;
	snprintf(tmp, sizeof tmp, "%s.restore.%ld", s->path, (long)gl_pid());
	rc = gl_snapshot_stage(s->path, s->snapshot, tmp, gdbm_readable, err);
	if (rc == 1) {
		rc = link(tmp, s->path) == 0 || errno == EEXIST ? 0 :
		     gl_fail(err, "%s: cannot restore from %s: %s", s->path,
			     s->snapshot, strerror(errno));
		unlink(tmp);
	}
	return rc;
}

static GDBM_FILE open_locked(gstore *s, int mode, int *absent, gl_err *err);

static GDBM_FILE open_db(gstore *s, int mode, int *absent, gl_err *err)
{
	GDBM_FILE db;

	*absent = 0;
	if (queue_enter(s, err) < 0)
		return NULL;
	db = open_locked(s, mode, absent, err);
	if (db == NULL)
		queue_leave(s);
	return db;
}

/* Opens and locks the file (see open_locked()), its salt not read. */
static GDBM_FILE open_file(gstore *s, int mode, int *absent, gl_err *err)
{
	int writer = mode != GDBM_READER;
	int fd, e;
	GDBM_FILE db;

	/* The file is looked for first without creating it: only a missing
	 * one costs the snapshot's restore, or its creation. */
	fd = open(s->path, (writer ? O_RDWR : O_RDONLY) | O_CLOEXEC);
	if (fd < 0 && errno == ENOENT && s->snapshot != NULL) {
		if (restore(s, err) < 0)
			return NULL;
		fd = open(s->path, (writer ? O_RDWR : O_RDONLY) | O_CLOEXEC);
	}
	if (fd < 0 && errno == ENOENT && writer)
		fd = open(s->path, O_RDWR | O_CREAT | O_CLOEXEC, 0660);
	if (fd < 0) {
		if (!writer && errno == ENOENT) {
			*absent = 1;
			return NULL;
		}
		gl_fail(err, "%s: cannot open database: %s", s->path,
			strerror(errno));
		return NULL;
	}
	if (gl_flock_wait(fd, writer ? LOCK_EX : LOCK_SH,
			  gl_store_left_us(&s->base, s->lock_timeout_ms)) < 0) {
		e = errno;
		close(fd);
		if (e == EWOULDBLOCK)
			gl_fail(err, "%s: database busy: lock not granted within "
				"%ld ms", s->path, s->lock_timeout_ms);
		else
			gl_fail(err, "%s: cannot lock database: %s", s->path,
				strerror(e));
		return NULL;
	}
	db = gdbm_fd_open(fd, s->path, 0,
			  mode | GDBM_NOLOCK | GDBM_NOMMAP | GDBM_CLOEXEC | GDBM_CLOERROR,
			  NULL);
	if (db != NULL)
		return db;
	/* GDBM_CLOERROR: the descriptor, and with it the lock, is gone. */
	if (!writer && gdbm_errno == GDBM_EMPTY_DATABASE) {
		*absent = 1;
		return NULL;
	}
	gl_fail(err, "%s: cannot open database: %s%s%s", s->path,
		gdbm_strerror(gdbm_errno),
		gdbm_check_syserr(gdbm_errno) ? ": " : "",
		gdbm_check_syserr(gdbm_errno) ? strerror(errno) : "");
	return NULL;
}

/* open_db() with the queue held: the file opened, locked, its salt read. */
static GDBM_FILE open_locked(gstore *s, int mode, int *absent, gl_err *err)
{
	GDBM_FILE db;
	int first;

	/* One more open when the salt's first copy cannot be read: the
	 * other copy, first, on a fresh handle (see read_salt()). */
	s->salt_retry = 0;
	for (first = 0; first < 2; first++) {
		db = open_file(s, mode, absent, err);
		if (db == NULL)
			return NULL;
		if (read_salt(s, db, mode != GDBM_READER, first, err) == 0)
			return db;
		gdbm_close(db);
		if (!s->salt_retry || first == 1)
			break;
	}
	return NULL;
}

/* Lets other processes in before the (slow) sync in gdbm_close(). */
static void unlock_db(GDBM_FILE db)
{
	(void)flock(gdbm_fdesc(db), LOCK_UN);
}

/* Fetches key from an open db: 1 found, 0 absent, -1 error. */
static int fetch(gstore *s, GDBM_FILE db, const void *key, size_t klen,
		 void *val, size_t *vlen, gl_err *err)
{
	datum k = stored_key(s, key, klen), v;

	if (k.dptr == NULL)
		return gl_fail(err, "out of memory");
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

/* Whether the database's directory is on a tmpfs (or ramfs), once. */
static int on_tmpfs(gstore *s)
{
	size_t n = strlen(s->path) + 2; /* "." and its NUL at least */
	char *dir;
	struct statfs fs;

	if (s->on_tmpfs >= 0)
		return s->on_tmpfs;
	dir = malloc(n); /* not on the stack: see queue_enter() */
	s->on_tmpfs = dir != NULL && gl_dir_of(s->path, dir, n) == 0 &&
		      statfs(dir, &fs) == 0 &&
		      (fs.f_type == TMPFS_MAGIC || fs.f_type == RAMFS_MAGIC);
	free(dir);
	return s->on_tmpfs;
}

/* Buckets a kept handle caches: a decision reads at most three.
 * GDBM's own cache grows with what a handle reads (8 MB, 2048 buckets,
 * after 50,000 decisions on a file of 200,000 records): kept for a
 * connection's life in every Exim process, that would not do. */
#define KEPT_CACHE 16

/* The word of FILE.wlock's shared page (plock.h) that holds the last
 * stamp given, in nanoseconds since the epoch. */
#define STAMP_WORD 0

/* Notes which file db, a session's writer let go with a stamp of its
 * own, has open, for keeping it: 0, or -1 when it cannot be kept. Not
 * under the lock: the open file does not change, whatever the path
 * comes to name. */
static int ready_to_keep(gstore *s, GDBM_FILE db)
{
	struct stat st;

	if (fstat(gdbm_fdesc(db), &st) != 0)
		return -1;
	s->kept_dev = st.st_dev;
	s->kept_ino = st.st_ino;
	return 0;
}

/* A session's writer, just opened (under the lock, its cache still
 * empty): its cache is bounded now, for it may be kept. */
static void note_fresh(gstore *s, GDBM_FILE db)
{
	size_t cache = KEPT_CACHE;

	s->held_wrote = s->salt_made; /* read_salt() salted a new file */
	s->held_stamped = 0;
	s->held_fresh = 1;
	s->held_bad = gdbm_setopt(db, GDBM_SETCACHESIZE, &cache,
				  sizeof cache) != 0;
}

/* Whether this machine's clock tells nanoseconds (or close): a stamp
 * must never repeat. Asked at each call (the vDSO answers it): a cached
 * answer would cost each Exim connection process a copied page. */
static int fine_clock(void)
{
	struct timespec res;

	return clock_getres(CLOCK_REALTIME, &res) == 0 &&
	       res.tv_sec == 0 && res.tv_nsec <= 1000;
}

/*
 * Stamps the file db wrote with the exact time, while it is still
 * locked, and notes the stamp: the mark by which the handle, kept, is
 * known to be still right (see the top). No two stamps are alike: the
 * last one given is kept in the queue's shared page (FILE.wlock, held
 * now), and a stamp is always later than it, even when the clock has
 * not moved or went back. Without the queue, with a clock that cannot
 * tell microseconds, or when the stamp cannot be set (futimens needs
 * the file's owner), the handle is not kept; the file's time then is
 * the kernel's, unlike any stamp, which is all other processes' kept
 * handles need.
 */
static void stamp_file(gstore *s, GDBM_FILE db)
{
	uint64_t *last = s->queued ? gl_plock_shared(&s->queue) : NULL;
	struct timespec ts[2];
	uint64_t ns;

	if (last == NULL || !fine_clock() ||
	    clock_gettime(CLOCK_REALTIME, &ts[1]) != 0) {
		s->held_bad = 1;
		return;
	}
	ns = (uint64_t)ts[1].tv_sec * 1000000000u + (uint64_t)ts[1].tv_nsec;
	if (ns <= last[STAMP_WORD])
		ns = last[STAMP_WORD] + 1;
	last[STAMP_WORD] = ns;
	ts[1].tv_sec = (time_t)(ns / 1000000000u);
	ts[1].tv_nsec = (long)(ns % 1000000000u);
	ts[0].tv_sec = 0;
	ts[0].tv_nsec = UTIME_OMIT;
	if (futimens(gdbm_fdesc(db), ts) != 0) {
		s->held_bad = 1;
	} else {
		s->kept_mtime = ts[1];
		s->held_stamped = 1;
	}
}

/* Whether the path still names the kept handle's file, with the stamp
 * the handle was let go with. */
static int kept_current(const gstore *s)
{
	struct stat st;

	return stat(s->path, &st) == 0 && st.st_dev == s->kept_dev &&
	       st.st_ino == s->kept_ino &&
	       st.st_mtim.tv_sec == s->kept_mtime.tv_sec &&
	       st.st_mtim.tv_nsec == s->kept_mtime.tv_nsec;
}

/*
 * With the queue held: locks the kept handle's file and returns the
 * handle when it is still current; otherwise closes it and opens the
 * file anew. NULL with err when that fails. The kept handle is gone
 * either way.
 */
static GDBM_FILE take_kept(gstore *s, gl_err *err)
{
	GDBM_FILE db = s->kept;
	int absent;

	s->kept = NULL;
	if (gl_flock_wait(gdbm_fdesc(db), LOCK_EX,
			  gl_store_left_us(&s->base, s->lock_timeout_ms)) == 0) {
		if (kept_current(s)) {
			s->held_wrote = 0;
			s->held_bad = 0;
			s->held_stamped = 1;
			s->held_fresh = 0;
			/* its salt, not that of the last file opened */
			s->salted = s->kept_salted;
			memcpy(s->salt, s->kept_salt, sizeof s->salt);
			return db;
		}
		unlock_db(db);
	}
	gdbm_close(db); /* writes nothing: each store wrote its changes */
	db = open_locked(s, GDBM_WRCREAT, &absent, err);
	if (db != NULL)
		note_fresh(s, db);
	return db;
}

/*
 * Inside a session on a tmpfs: *db_r is the session's writer, opened
 * (queue, file lock, GDBM_WRCREAT) at the first call. 0 with *db_r NULL
 * when there is no session here (the caller opens as usual); -1 with err
 * when opening failed.
 */
static int session_db(gstore *s, GDBM_FILE *db_r, gl_err *err)
{
	int absent;

	*db_r = NULL;
	if (!s->session || !on_tmpfs(s))
		return 0;
	if (s->held != NULL) {
		*db_r = s->held;
		return 0;
	}
	/* A kept handle already out of date is dropped before queueing:
	 * the lock is not held while it is freed, and GDBM's buffers for
	 * the new open then come from the memory it leaves, not from fresh
	 * pages (Exim takes what is freed early, and each fresh page is a
	 * page fault). One still current is checked again under the lock. */
	if (s->kept != NULL && !kept_current(s)) {
		gdbm_close(s->kept);
		s->kept = NULL;
	}
	if (s->kept != NULL) {
		if (queue_enter(s, err) < 0)
			return -1;
		s->held = take_kept(s, err);
		if (s->held == NULL)
			queue_leave(s);
	} else {
		s->held = open_db(s, GDBM_WRCREAT, &absent, err);
		if (s->held != NULL)
			note_fresh(s, s->held);
	}
	*db_r = s->held;
	return s->held == NULL ? -1 : 0;
}

static void g_session(gl_store *st, int on)
{
	gstore *s = (gstore *)st;

	s->session = on;
	if (!on && s->held != NULL) {
		if (s->held_wrote && !s->held_bad)
			stamp_file(s, s->held);
		unlock_db(s->held);
		queue_leave(s);
		if (!s->held_bad && s->held_stamped && s->held_fresh &&
		    ready_to_keep(s, s->held) < 0)
			s->held_bad = 1;
		if (s->held_bad || !s->held_stamped) {
			gdbm_close(s->held); /* its sync costs nothing here */
		} else {
			s->kept = s->held;
			s->kept_salted = s->salted;
			memcpy(s->kept_salt, s->salt, sizeof s->salt);
		}
		s->held = NULL;
	}
}

static int g_get(gl_store *st, gl_get_item *items, size_t n, gl_err *err)
{
	gstore *s = (gstore *)st;
	GDBM_FILE db;
	size_t i;
	int absent, rc = 0;

	for (i = 0; i < n; i++)
		items[i].found = 0;
	if (session_db(s, &db, err) < 0)
		return -1;
	if (db == NULL) {
		db = open_db(s, GDBM_READER, &absent, err);
		if (db == NULL)
			return absent ? 0 : -1;
	}
	for (i = 0; i < n && rc == 0; i++) {
		rc = fetch(s, db, items[i].key, items[i].klen, items[i].val,
			   &items[i].vlen, err);
		items[i].found = rc == 1;
		rc = rc < 0 ? -1 : 0;
	}
	if (rc < 0 && db == s->held)
		s->held_bad = 1;
	if (db != s->held) {
		gdbm_close(db);
		queue_leave(s);
	}
	return rc;
}

/* One compare-and-set on an open writer: 1 done, 0 differs, -1 error. */
static int cas_one(gstore *s, GDBM_FILE db, gl_cas_item *it, gl_err *err)
{
	datum k = stored_key(s, it->key, it->klen);
	datum v = { (char *)it->val, (int)it->vlen };
	datum cur;
	int same, rc;

	if (k.dptr == NULL)
		return gl_fail(err, "out of memory");
	cur = gdbm_fetch(db, k);
	if (cur.dptr == NULL && gdbm_last_errno(db) != GDBM_ITEM_NOT_FOUND)
		return gl_fail(err, "%s: cannot read database: %s", s->path,
			       gdbm_db_strerror(db));
	if (it->old == NULL)
		same = cur.dptr == NULL;
	else
		same = cur.dptr != NULL && (size_t)cur.dsize == it->oldlen &&
		       memcmp(cur.dptr, it->old, it->oldlen) == 0;
	free(cur.dptr);
	if (!same)
		return 0;
	if (it->val == NULL)
		rc = gdbm_delete(db, k);
	else
		rc = gdbm_store(db, k, v, GDBM_REPLACE);
	if (rc != 0)
		return gl_fail(err, "%s: cannot write database: %s", s->path,
			       gdbm_db_strerror(db));
	return 1;
}

static int g_casv(gl_store *st, gl_cas_item *items, size_t n, gl_err *err)
{
	gstore *s = (gstore *)st;
	GDBM_FILE db;
	size_t i;
	int absent, rc = 0;

	for (i = 0; i < n; i++)
		items[i].done = 0;
	if (session_db(s, &db, err) < 0)
		return -1;
	if (db != NULL) {
		for (i = 0; i < n && rc >= 0; i++) {
			rc = cas_one(s, db, &items[i], err);
			items[i].done = rc == 1;
			s->held_wrote |= rc != 0;
		}
		if (rc < 0)
			s->held_bad = 1;
		return rc < 0 ? -1 : 0;
	}
	db = open_db(s, GDBM_WRCREAT, &absent, err);
	if (db == NULL)
		return -1;
	for (i = 0; i < n && rc >= 0; i++) {
		rc = cas_one(s, db, &items[i], err);
		items[i].done = rc == 1;
	}
	unlock_db(db);
	queue_leave(s);
	/* gdbm_close() syncs to disk: a write is not done until it did. */
	if (gdbm_close(db) != 0 && rc >= 0)
		rc = gl_fail(err, "%s: cannot close database: %s", s->path,
			     gdbm_strerror(gdbm_errno));
	return rc < 0 ? -1 : 0;
}

/*
 * Scans in chunks of SCAN_CHUNK keys: each chunk is copied out under a
 * reader lock that is then released, and fn runs with no lock held (a
 * slow consumer, such as a pager, never blocks Exim). The next chunk
 * continues after the last key seen; when that key has gone meanwhile,
 * the scan starts again, at most SCAN_RESTARTS times.
 */
#define SCAN_CHUNK 1000
#define SCAN_RESTARTS 3

typedef struct chunk {
	datum k[SCAN_CHUNK], v[SCAN_CHUNK];
	size_t n;
} chunk;

static void chunk_free(chunk *c)
{
	size_t i;

	for (i = 0; i < c->n; i++) {
		free(c->k[i].dptr);
		free(c->v[i].dptr);
	}
	c->n = 0;
}

/* Reads up to SCAN_CHUNK pairs after cursor (NULL: from the start).
 * Returns 1 when more may follow, 0 at the end, 2 when cursor is gone. */
static int read_chunk(gstore *s, const datum *cursor, chunk *c, gl_err *err)
{
	GDBM_FILE db;
	datum k, next;
	int absent, rc = 0;

	c->n = 0;
	db = open_db(s, GDBM_READER, &absent, err);
	if (db == NULL)
		return absent ? 0 : -1;
	if (cursor == NULL) {
		k = gdbm_firstkey(db);
	} else if (!gdbm_exists(db, *cursor)) {
		gdbm_close(db);
		queue_leave(s);
		return 2;
	} else {
		k = gdbm_nextkey(db, *cursor);
	}
	while (k.dptr != NULL && c->n < SCAN_CHUNK) {
		datum v = gdbm_fetch(db, k);

		if (v.dptr == NULL) {
			free(k.dptr);
			rc = gl_fail(err, "%s: cannot read database: %s",
				     s->path, gdbm_db_strerror(db));
			break;
		}
		c->k[c->n] = k;
		c->v[c->n++] = v;
		if (c->n == SCAN_CHUNK) {
			rc = 1;
			break;
		}
		next = gdbm_nextkey(db, k);
		k = next;
	}
	if (rc == 0 && k.dptr == NULL &&
	    gdbm_last_errno(db) != GDBM_NO_ERROR &&
	    gdbm_last_errno(db) != GDBM_ITEM_NOT_FOUND)
		rc = gl_fail(err, "%s: cannot read database: %s", s->path,
			     gdbm_db_strerror(db));
	gdbm_close(db);
	queue_leave(s);
	return rc;
}

static int g_scan(gl_store *st, gl_scan_fn *fn, void *arg, gl_err *err)
{
	gstore *s = (gstore *)st;
	chunk *c = calloc(1, sizeof *c);
	datum cursor = { NULL, 0 };
	int more = 1, restarts = 0, rc = 0;
	size_t i;

	if (c == NULL)
		return gl_fail(err, "out of memory");
	while (more && rc == 0) {
		more = read_chunk(s, cursor.dptr ? &cursor : NULL, c, err);
		if (more == 2) {
			free(cursor.dptr);
			cursor.dptr = NULL;
			if (++restarts > SCAN_RESTARTS) {
				rc = gl_fail(err, "%s: database changes too "
					     "fast to scan", s->path);
				break;
			}
			more = 1;
			continue;
		}
		if (more < 0) {
			rc = -1;
			break;
		}
		for (i = 0; i < c->n && rc == 0; i++) {
			const void *k;
			size_t kl;

			/* a key of another prefix is passed whole: not one
			 * this store wrote, fn reports it as such */
			if (is_salt_key(&c->k[i]))
				continue;
			if (!plain_key(s, &c->k[i], &k, &kl)) {
				k = c->k[i].dptr;
				kl = (size_t)c->k[i].dsize;
			}
			rc = fn(arg, k, kl, c->v[i].dptr,
				(size_t)c->v[i].dsize);
		}
		if (more == 1 && rc == 0) {
			free(cursor.dptr);
			cursor.dsize = c->k[c->n - 1].dsize;
			cursor.dptr = malloc((size_t)cursor.dsize);
			if (cursor.dptr == NULL)
				rc = gl_fail(err, "out of memory");
			else
				memcpy(cursor.dptr, c->k[c->n - 1].dptr,
				       (size_t)cursor.dsize);
		}
		chunk_free(c);
	}
	chunk_free(c);
	free(cursor.dptr);
	free(c);
	return rc;
}

static void g_close(gl_store *st)
{
	gstore *s = (gstore *)st;

	g_session(st, 0);
	if (s->kept != NULL)
		gdbm_close(s->kept);
	queue_leave(s);
	if (s->queue_ok)
		gl_plock_close(&s->queue);
	free(s->path);
	free(s->snapshot);
	free(s->kbuf);
	free(st);
}

static const struct gl_store_ops gdbm_ops = {
	.name = "gdbm",
	.get = g_get,
	.casv = g_casv,
	.scan = g_scan,
	.close = g_close,
	.session = g_session,
};

gl_store *gl_store_gdbm_open(const char *path, long lock_timeout_ms,
			     gl_err *err)
{
	gstore *s;

	if (gl_lazy_load(GL_LIB_GDBM, err) < 0)
		return NULL;
	s = calloc(1, sizeof *s);
	if (s == NULL) {
		gl_fail(err, "out of memory");
		return NULL;
	}
	if (strlen(path) >= PATH_MAX) {
		free(s);
		gl_fail(err, "database file name too long");
		return NULL;
	}
	if ((s->path = strdup(path)) == NULL) {
		free(s);
		gl_fail(err, "out of memory");
		return NULL;
	}
	s->base.ops = &gdbm_ops;
	s->base.where = s->path;
	s->base.timeout_ms = lock_timeout_ms;
	s->lock_timeout_ms = lock_timeout_ms;
	s->on_tmpfs = -1;
	return &s->base;
}

static int rekey_locked(gstore *s, GDBM_FILE db, const char *path,
			int (*valid)(void *arg, const void *k, size_t kl,
				     const void *v, size_t vl),
			void *arg, gl_rekey_report *rep, gl_err *err);

/* Whether FILE.wlock exists: the admin tool queues on it then, and
 * never makes it (as root it would shut the Exim user out of it). */
static int queue_exists(const char *path)
{
	char q[PATH_MAX + 8];

	snprintf(q, sizeof q, "%s.wlock", path);
	return access(q, F_OK) == 0;
}

/* Sets s up for greylist-admin's work on the whole file at path
 * (recover, rekey, gl_gdbm_keys): the queue when FILE.wlock exists, a
 * damaged salt no error (raw). 0, or -1 with err. */
static int admin_store(gstore *s, char *pathbuf, size_t n, const char *path,
		       long lock_timeout_ms, gl_err *err)
{
	memset(s, 0, sizeof *s);
	if (gl_lazy_load(GL_LIB_GDBM, err) < 0)
		return -1;
	if (gl_copy(pathbuf, n, path) < 0)
		return gl_fail(err, "database file name too long");
	s->path = pathbuf;
	s->lock_timeout_ms = lock_timeout_ms;
	s->queue_tried = !queue_exists(path);
	s->raw = 1;
	return 0;
}

/* Lets go of what admin_store() and the opens after it took. */
static void admin_done(gstore *s)
{
	queue_leave(s);
	if (s->queue_ok)
		gl_plock_close(&s->queue);
	free(s->kbuf);
}

int gl_gdbm_recover(const char *path, long lock_timeout_ms,
		    int (*valid)(void *arg, const void *k, size_t kl,
				 const void *v, size_t vl),
		    void *arg, gl_recover_report *rep, gl_err *err)
{
	char pathbuf[PATH_MAX];
	unsigned char salt0[sizeof ((gstore *)0)->salt];
	gl_rekey_report rk;
	gstore s;
	GDBM_FILE db;
	gdbm_recovery rcvr;
	datum k, next, v;
	size_t behind = 0; /* keys behind a prefix whose salt is lost */
	int absent, known, rc = 0;

	memset(rep, 0, sizeof *rep);
	/* raw: a salt that cannot be read is what this mends */
	if (admin_store(&s, pathbuf, sizeof pathbuf, path, lock_timeout_ms,
			err) < 0)
		return -1;
	db = open_db(&s, GDBM_WRITER, &absent, err);
	if (db == NULL) {
		rc = -1;
		if (strstr(err->msg, "database busy") != NULL ||
		    access(path, F_OK) != 0)
			goto out;
		/* The header itself is unreadable: keep the file aside. */
		snprintf(rep->backup, sizeof rep->backup, "%s.broken-%lld", path,
			 (long long)time(NULL));
		if (rename(path, rep->backup) != 0) {
			gl_fail(err, "%s: cannot move aside: %s", path,
				strerror(errno));
			goto out;
		}
		db = open_db(&s, GDBM_WRCREAT, &absent, err);
		if (db == NULL)
			goto out;
		gdbm_close(db);
		rep->lost = 1; /* at least: the whole file, uncounted */
		rc = 0;
		goto out;
	}
	known = s.salted;
	memcpy(salt0, s.salt, sizeof salt0);
	memset(&rcvr, 0, sizeof rcvr);
	if (gdbm_recover(db, &rcvr, GDBM_RCVR_FORCE | GDBM_RCVR_BACKUP) != 0) {
		rc = gl_fail(err, "%s: recovery failed: %s", path,
			     gdbm_db_strerror(db));
		goto close;
	}
	rep->lost = rcvr.failed_keys;
	rep->lost_buckets = rcvr.failed_buckets;
	if (rcvr.backup_name != NULL) {
		snprintf(rep->backup, sizeof rep->backup, "%s", rcvr.backup_name);
		free(rcvr.backup_name);
	}
	/* The salt: as read before the rebuild, or a copy it kept; both
	 * copies are written back, for without it no key could be found. */
	if (known)
		set_salt(&s, salt0);
	else if ((s.salt_retry = 1, read_salt(&s, db, 1, 0, err)) < 0) {
		rc = -1;
		goto close;
	}
	if (s.salted && write_salt(&s, db, s.salt, err) < 0) {
		rc = -1;
		goto close;
	}
	/* Collect what our decoders refuse, then delete it. */
	{
		datum *bad = NULL;
		size_t nbad = 0, cap = 0, i;

		for (k = gdbm_firstkey(db); k.dptr != NULL; k = next) {
			const void *pk;
			size_t pkl;

			v = gdbm_fetch(db, k);
			if (is_salt_key(&k)) {
				/* kept, not counted: not a record */
			} else if (record_key(&s, &k, &v, valid, arg, &pk,
					      &pkl)) {
				if (!s.salted && pk != k.dptr)
					behind++; /* kept, for rekey below */
				else
					rep->kept++;
			} else if (nbad < cap ||
				   (bad = realloc(bad, (cap = cap * 2 + 64) *
						  sizeof *bad)) != NULL) {
				bad[nbad].dsize = k.dsize;
				bad[nbad].dptr = malloc((size_t)k.dsize);
				if (bad[nbad].dptr != NULL) {
					memcpy(bad[nbad].dptr, k.dptr,
					       (size_t)k.dsize);
					nbad++;
				}
			}
			free(v.dptr);
			next = gdbm_nextkey(db, k);
			free(k.dptr);
			if (bad == NULL && cap != 0) {
				rc = gl_fail(err, "out of memory");
				free(next.dptr);
				break;
			}
		}
		for (i = 0; i < nbad; i++) {
			if (rc == 0 && gdbm_delete(db, bad[i]) != 0)
				rc = gl_fail(err, "%s: cannot delete: %s", path,
					     gdbm_db_strerror(db));
			free(bad[i].dptr);
		}
		rep->lost += nbad;
		free(bad);
	}
	/* Keys behind a salt that is gone: rewritten, read without it,
	 * under a new one, before the lock is let go. */
	if (rc == 0 && (behind > 0 || s.salt_damaged)) {
		memset(&rk, 0, sizeof rk);
		if (rekey_locked(&s, db, path, valid, arg, &rk, err) < 0) {
			gl_err why = *err;

			rc = gl_fail(err, "%s rebuilt%s%s, but its salt is lost "
				     "and it could not be rekeyed (%s): run "
				     "greylist-admin rekey", path,
				     rep->backup[0] ? "; the old file is " : "",
				     rep->backup, why.msg);
		} else {
			rep->rekeyed = 1;
			rep->kept = rk.kept;
			rep->lost += rk.dropped;
		}
	}
close:
	unlock_db(db);
	if (gdbm_close(db) != 0 && rc == 0)
		rc = gl_fail(err, "%s: cannot close database", path);
out:
	admin_done(&s);
	return rc < 0 ? -1 : 0;
}

void gl_gdbm_preload_tls(void)
{
	(void)gdbm_errno_location();
}

int gl_gdbm_set_snapshot(gl_store *st, const char *snapshot, gl_err *err)
{
	gstore *s = (gstore *)st;
	char *copy = NULL;

	if (snapshot[0] != '\0' && (copy = strdup(snapshot)) == NULL)
		return gl_fail(err, "out of memory");
	free(s->snapshot);
	s->snapshot = copy;
	return 0;
}

/* Whether fd is the file path names now. */
static int same_file(int fd, const char *path)
{
	struct stat a, b;

	return fstat(fd, &a) == 0 && stat(path, &b) == 0 &&
	       a.st_dev == b.st_dev && a.st_ino == b.st_ino;
}

/* Lets go of the queue a snapshot took (queued: it holds it). */
static void snapshot_queue_leave(gl_plock *q, int queued)
{
	if (queued) {
		gl_plock_unlock(q);
		gl_plock_close(q);
	}
}

/* How long a snapshot waits for the writers to let go of the file. */
#define SNAPSHOT_LOCK_MS 5000

/* Syncs the directory holding path, so a rename into it survives a
 * crash (best effort: the file itself is synced already). */
static void sync_dir(const char *path)
{
	char dir[PATH_MAX];
	int fd;

	if (gl_dir_of(path, dir, sizeof dir) < 0)
		return;
	fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd >= 0) {
		(void)fsync(fd);
		close(fd);
	}
}

/*
 * In two steps, so that decisions wait only for a copy in memory: under
 * the readers' lock (writers wait) the file is copied to a staging file
 * beside the database (the same tmpfs: a memory copy, about 30 ms for
 * 150 MiB); the lock is released, and only then is the staging copy
 * written to the snapshot's disk, synced and renamed over it, so the
 * snapshot is always a whole file, the previous one or the new one.
 */
int gl_gdbm_snapshot(const gl_config *cfg, gl_err *err)
{
	char stage[PATH_MAX + 32], tmp[PATH_MAX + 16], qpath[PATH_MAX + 8];
	int in, st = -1, out = -1, rc = 0, e, queued = 0, locked;
	gl_plock q;
	gl_err ignored;

	if (cfg->snapshot[0] == '\0')
		return gl_fail(err, "%s: no snapshot is configured", cfg->path);
	/* In the queue (see the top) before the file is opened: a rekey
	 * that holds it may replace the file, and the copy must be of the
	 * file the path names once the queue is ours. */
	snprintf(qpath, sizeof qpath, "%s.wlock", cfg->database);
	memset(&q, 0, sizeof q);
	if (gl_plock_open(&q, qpath, (int64_t)SNAPSHOT_LOCK_MS * 1000,
			  &ignored) == 0) {
		queued = gl_plock_lock(&q, (int64_t)SNAPSHOT_LOCK_MS * 1000) == 0;
		if (!queued)
			gl_plock_close(&q);
	}
	in = open(cfg->database, O_RDONLY | O_CLOEXEC);
	if (in < 0) {
		e = errno;
		snapshot_queue_leave(&q, queued);
		return e == ENOENT ? 1 :
		       gl_fail(err, "%s: cannot open database: %s",
			       cfg->database, strerror(e));
	}
	snprintf(stage, sizeof stage, "%s.snap.%ld", cfg->database,
		 (long)gl_pid());
	snprintf(tmp, sizeof tmp, "%s.tmp", cfg->snapshot);
	st = open(stage, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (st < 0) {
		e = errno;
		close(in);
		snapshot_queue_leave(&q, queued);
		return gl_fail(err, "%s: cannot make the staging copy %s: %s",
			       cfg->database, stage, strerror(e));
	}
	unlink(stage); /* kept open: nothing is left behind */
	/* Then the readers' lock: no writer changes the file while it is
	 * copied (decisions wait meanwhile). The file locked must still be
	 * the one the path names: a rekey that outlasted the queue's wait
	 * may have replaced it meanwhile. */
	locked = gl_flock_wait(in, LOCK_SH, (int64_t)SNAPSHOT_LOCK_MS * 1000) == 0;
	if (locked && !same_file(in, cfg->database)) {
		close(in);
		in = open(cfg->database, O_RDONLY | O_CLOEXEC);
		locked = in >= 0 &&
			 gl_flock_wait(in, LOCK_SH,
				       (int64_t)SNAPSHOT_LOCK_MS * 1000) == 0 &&
			 same_file(in, cfg->database);
	}
	if (!locked) {
		if (in >= 0)
			close(in);
		close(st);
		snapshot_queue_leave(&q, queued);
		return gl_fail(err, "%s: database busy: no read lock within "
			       "%d ms (or the file was replaced meanwhile)",
			       cfg->database, SNAPSHOT_LOCK_MS);
	}
	if (gl_copy_fd(in, st) < 0)
		rc = gl_fail(err, "%s: cannot copy to %s: %s", cfg->database,
			     stage, strerror(errno));
	close(in); /* and with it the lock */
	snapshot_queue_leave(&q, queued);
	if (rc == 0) {
		out = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0660);
		if (out < 0 || gl_copy_fd(st, out) < 0 || fsync(out) != 0)
			rc = -1;
		e = errno;
		if (out >= 0 && close(out) != 0 && rc == 0) {
			rc = -1;
			e = errno;
		}
		if (rc == 0 && rename(tmp, cfg->snapshot) != 0) {
			rc = -1;
			e = errno;
		}
		if (rc < 0) {
			if (out >= 0)
				unlink(tmp);
			gl_fail(err, "%s: cannot write snapshot: %s",
				cfg->snapshot, strerror(e));
		} else {
			sync_dir(cfg->snapshot);
		}
	}
	close(st);
	return rc;
}

/* How many keys gl_gdbm_keys() looks at in a file with no salt. */
#define KEYS_SAMPLE 32

int gl_gdbm_keys(const char *path, long lock_timeout_ms,
		 int (*valid)(void *arg, const void *k, size_t kl,
			      const void *v, size_t vl),
		 void *arg, gl_err *err)
{
	char pathbuf[PATH_MAX];
	gstore s;
	GDBM_FILE db;
	datum k, v, next;
	const void *pk;
	size_t pkl;
	int absent, n, rc;

	if (admin_store(&s, pathbuf, sizeof pathbuf, path, lock_timeout_ms,
			err) < 0)
		return -1;
	db = open_db(&s, GDBM_READER, &absent, err);
	if (db == NULL)
		return absent ? GL_GDBM_KEYS_EMPTY : -1;
	if (s.salted) {
		rc = GL_GDBM_KEYS_SALTED;
	} else if (s.salt_damaged) {
		rc = GL_GDBM_KEYS_DAMAGED;
	} else {
		/* No salt: plain keys, or keys behind a salt that is lost,
		 * which only decode without their first PREFIX bytes. */
		rc = GL_GDBM_KEYS_EMPTY;
		for (k = gdbm_firstkey(db), n = 0; k.dptr != NULL;
		     k = next, n++) {
			if (rc == GL_GDBM_KEYS_EMPTY)
				rc = GL_GDBM_KEYS_PLAIN;
			v = gdbm_fetch(db, k);
			if (v.dptr == NULL &&
			    gdbm_last_errno(db) != GDBM_ITEM_NOT_FOUND)
				rc = GL_GDBM_KEYS_DAMAGED; /* unreadable */
			else if (record_key(&s, &k, &v, valid, arg, &pk,
					    &pkl) && pk != k.dptr)
				rc = GL_GDBM_KEYS_DAMAGED; /* behind a prefix */
			free(v.dptr);
			next = n + 1 < KEYS_SAMPLE && rc != GL_GDBM_KEYS_DAMAGED ?
			       gdbm_nextkey(db, k) : (datum){ NULL, 0 };
			free(k.dptr);
		}
	}
	gdbm_close(db);
	admin_done(&s);
	return rc;
}

/* Gives the new file fd the old one's owner, group and mode. */
static int same_owner(int fd, const struct stat *old)
{
	struct stat st;

	if (fstat(fd, &st) != 0)
		return -1;
	if ((st.st_uid != old->st_uid || st.st_gid != old->st_gid) &&
	    fchown(fd, old->st_uid, old->st_gid) != 0)
		return -1;
	return fchmod(fd, old->st_mode & 07777);
}

/*
 * With db open as a writer and locked (its salt state in s): copies
 * every pair record_key() keeps into a new file beside path, salted
 * anew, with db's owner and mode, and renames it over path. 0, or -1
 * with err (path then unchanged). db stays open.
 */
static int rekey_locked(gstore *s, GDBM_FILE db, const char *path,
			int (*valid)(void *arg, const void *k, size_t kl,
				     const void *v, size_t vl),
			void *arg, gl_rekey_report *rep, gl_err *err)
{
	char tmp[PATH_MAX + 32];
	gstore n;
	GDBM_FILE ndb;
	datum k, next, v, nk;
	struct stat st;
	const void *pk;
	size_t pkl;
	int fd, rc = 0;

	memset(&n, 0, sizeof n);
	rep->was = s->salted ? GL_GDBM_KEYS_SALTED :
		   s->salt_damaged ? GL_GDBM_KEYS_DAMAGED : GL_GDBM_KEYS_PLAIN;
	snprintf(tmp, sizeof tmp, "%s.rekey.%ld", path, (long)gl_pid());
	(void)unlink(tmp);
	fd = open(tmp, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0 || fstat(gdbm_fdesc(db), &st) != 0 ||
	    same_owner(fd, &st) != 0) {
		rc = gl_fail(err, "%s: cannot make %s with the database's "
			     "owner and mode: %s", path, tmp, strerror(errno));
		if (fd >= 0) {
			close(fd);
			unlink(tmp);
		}
		return rc;
	}
	ndb = gdbm_fd_open(fd, tmp, 0, GDBM_NEWDB | GDBM_NOLOCK | GDBM_NOMMAP |
			   GDBM_CLOEXEC | GDBM_CLOERROR, NULL);
	n.path = tmp;
	if (ndb == NULL) {
		rc = gl_fail(err, "%s: cannot make database: %s", tmp,
			     gdbm_strerror(gdbm_errno));
		unlink(tmp);
		return rc;
	}
	if (make_salt(&n, ndb, err) < 0)
		rc = -1;
	for (k = rc == 0 ? gdbm_firstkey(db) : (datum){ NULL, 0 };
	     k.dptr != NULL; k = next) {
		v = gdbm_fetch(db, k);
		if (record_key(s, &k, &v, valid, arg, &pk, &pkl)) {
			nk = stored_key(&n, pk, pkl);
			if (nk.dptr == NULL)
				rc = gl_fail(err, "out of memory");
			else if (gdbm_store(ndb, nk, v, GDBM_REPLACE) != 0)
				rc = gl_fail(err, "%s: cannot write database: "
					     "%s", tmp, gdbm_db_strerror(ndb));
			else
				rep->kept++;
		} else if (!is_salt_key(&k)) {
			rep->dropped++;
		}
		free(v.dptr);
		next = gdbm_nextkey(db, k);
		free(k.dptr);
		if (rc < 0) {
			free(next.dptr);
			break;
		}
	}
	if (rc == 0 && gdbm_last_errno(db) != GDBM_NO_ERROR &&
	    gdbm_last_errno(db) != GDBM_ITEM_NOT_FOUND)
		rc = gl_fail(err, "%s: cannot read database: %s", path,
			     gdbm_db_strerror(db));
	if (rc < 0) {
		gdbm_close(ndb);
		unlink(tmp);
		free(n.kbuf);
		return -1;
	}
	free(n.kbuf);
	/* gdbm_close() syncs the new file; then it takes the old one's
	 * place, whole */
	if (gdbm_close(ndb) != 0) {
		rc = gl_fail(err, "%s: cannot write database: %s", tmp,
			     gdbm_strerror(gdbm_errno));
		unlink(tmp);
		return rc;
	}
	if (rename(tmp, path) != 0) {
		rc = gl_fail(err, "%s: cannot replace it with %s: %s", path, tmp,
			     strerror(errno));
		unlink(tmp);
		return rc;
	}
	sync_dir(path);
	return 0;
}

int gl_gdbm_rekey(const char *path, long lock_timeout_ms,
		  int (*valid)(void *arg, const void *k, size_t kl,
			       const void *v, size_t vl),
		  void *arg, gl_rekey_report *rep, gl_err *err)
{
	char pathbuf[PATH_MAX];
	gstore s;
	GDBM_FILE db;
	int absent, rc = -1;

	memset(rep, 0, sizeof *rep);
	if (admin_store(&s, pathbuf, sizeof pathbuf, path, lock_timeout_ms,
			err) < 0)
		return -1;
	if (access(path, F_OK) != 0 && errno == ENOENT) {
		rep->was = GL_GDBM_KEYS_EMPTY; /* nothing to rewrite */
		return 0;
	}
	/* the writers' queue and lock, held to the end: the module's
	 * writers wait, and find the new file when they get in */
	db = open_db(&s, GDBM_WRITER, &absent, err);
	if (db != NULL) {
		rc = rekey_locked(&s, db, path, valid, arg, rep, err);
		unlock_db(db);
		gdbm_close(db);
	}
	admin_done(&s);
	return rc < 0 ? -1 : 0;
}
