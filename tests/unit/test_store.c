/* test_store.c - the GDBM store: get, compare-and-set, scan, locks, damage. */
#include "unit.h"

#include <gdbm.h>
#include <malloc.h>
#include <signal.h>
#include <sys/wait.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "../../module/core/decide.h"
#include "../../module/core/plock.h"
#include "../../module/core/store.h"

static char dir[256], db[512];
static int use_redis; /* the contract tests run against every backend */
static int use_lmdb;
static char shared_prefix[64]; /* Redis: one prefix for several processes */

/* The configuration of the store under test (see open_store()). */
static void store_config(gl_config *cfg)
{
	static int n;

	gl_config_defaults(cfg);
	snprintf(cfg->database, sizeof cfg->database, "%s", db);
	cfg->lock_timeout_ms = 2000;
	cfg->redis_timeout_ms = 2000;
	if (use_lmdb)
		cfg->backend = GL_BACKEND_LMDB;
	if (!use_redis)
		return;
	if (getenv("GL_REDIS") == NULL)
		fail_msg("GL_REDIS is not set: run the tests with make check");
	cfg->backend = GL_BACKEND_REDIS;
	snprintf(cfg->redis, sizeof cfg->redis, "%s", getenv("GL_REDIS"));
	if (shared_prefix[0])
		snprintf(cfg->redis_prefix, sizeof cfg->redis_prefix, "%s",
			 shared_prefix);
	else
		snprintf(cfg->redis_prefix, sizeof cfg->redis_prefix,
			 "unit%d-%d:", (int)getpid(), ++n);
}

/* The store under test: GDBM or LMDB in this test's directory, or the
 * Redis server of $GL_REDIS (started by tests/run.sh) under a fresh
 * prefix. */
static gl_store *open_store(void)
{
	gl_config cfg;
	gl_err err;
	gl_store *st;

	if (!use_lmdb && !use_redis) {
		st = gl_store_gdbm_open(db, 100, &err);
		assert_non_null(st);
		return st;
	}
	store_config(&cfg);
	st = gl_store_open(&cfg, &err);
	if (st == NULL)
		fail_msg("%s", err.msg);
	return st;
}

static int setup_redis(void **state)
{
	use_redis = 1;
	use_lmdb = 0;
	return 0;
}

static int setup_lmdb(void **state)
{
	use_redis = 0;
	use_lmdb = 1;
	return 0;
}

/* LMDB: the held lock bounds writes; a missing file comes back from the
 * snapshot with what was in it. */
static void test_lmdb_lock_and_snapshot(void **state)
{
	gl_config cfg;
	gl_err err;
	gl_store *st;
	char v[8], lock[600], cmd[1400];
	size_t vl = sizeof v;
	int fd[2], status;
	char c;
	pid_t pid;

	gl_config_defaults(&cfg);
	cfg.backend = GL_BACKEND_LMDB;
	cfg.lock_timeout_ms = 100;
	snprintf(cfg.database, sizeof cfg.database, "%s", db);
	snprintf(cfg.snapshot, sizeof cfg.snapshot, "%s/snap", dir);
	st = gl_store_open(&cfg, &err);
	assert_int_equal(gl_store_cas(st, "k", 1, NULL, 0, "v", 1, 0, &err), 1);
	/* a writer lock held elsewhere: busy, bounded */
	snprintf(lock, sizeof lock, "%s.wlock", db);
	assert_int_equal(pipe(fd), 0);
	pid = fork();
	if (pid == 0) {
		gl_plock l;

		if (gl_plock_open(&l, lock, 1000000, NULL) != 0 ||
		    gl_plock_lock(&l, 1000000) != 0 || write(fd[1], "y", 1) != 1)
			_exit(1);
		sleep(30);
		_exit(0);
	}
	assert_int_equal(read(fd[0], &c, 1), 1);
	assert_int_equal(gl_store_cas(st, "k", 1, "v", 1, "w", 1, 0, &err), -1);
	assert_non_null(strstr(err.msg, "database busy"));
	assert_int_equal(gl_store_get(st, "k", 1, v, &vl, &err), 1);
	kill(pid, SIGKILL);
	waitpid(pid, &status, 0);
	/* the holder died: its lock is taken over, the write goes through */
	assert_int_equal(gl_store_cas(st, "k", 1, "v", 1, "w", 1, 0, &err), 1);
	assert_int_equal(gl_store_cas(st, "k", 1, "w", 1, "v", 1, 0, &err), 1);
	close(fd[0]);
	close(fd[1]);
	gl_store_close(st);
	/* snapshot, lose the file, get it back */
	assert_int_equal(gl_lmdb_snapshot(&cfg, &err), 0);
	snprintf(cmd, sizeof cmd, "rm -f '%s' '%s-lock'", db, db);
	assert_int_equal(system(cmd), 0);
	st = gl_store_open(&cfg, &err);
	vl = sizeof v;
	assert_int_equal(gl_store_get(st, "k", 1, v, &vl, &err), 1);
	assert_memory_equal(v, "v", 1);
	gl_store_close(st);
	/* A damaged snapshot: the database starts empty, never an error. */
	snprintf(cmd, sizeof cmd, "rm -f '%s' '%s-lock' && "
		 "head -c 20000 /dev/urandom > '%s/snap'", db, db, dir);
	assert_int_equal(system(cmd), 0);
	st = gl_store_open(&cfg, &err);
	assert_non_null(st);
	vl = sizeof v;
	assert_int_equal(gl_store_get(st, "k", 1, v, &vl, &err), 0);
	assert_int_equal(gl_store_cas(st, "k", 1, NULL, 0, "n", 1, 0, &err), 1);
	gl_store_close(st);
	snprintf(cmd, sizeof cmd, "ls '%s'/snap.broken-* >/dev/null 2>&1", dir);
	assert_int_equal(system(cmd), 0);
	(void)state;
}

/* A store opened before fork() works in the child (which must not touch
 * the parent's LMDB handles: gl_pid() notices the fork) and still in the
 * parent afterwards. */
static void test_lmdb_across_fork(void **state)
{
	gl_config cfg;
	gl_err err;
	gl_store *st;
	char v[8];
	size_t vl = sizeof v;
	pid_t parent = gl_pid(), pid;
	int status;

	(void)state;
	assert_int_equal(parent, getpid());
	gl_config_defaults(&cfg);
	cfg.backend = GL_BACKEND_LMDB;
	snprintf(cfg.database, sizeof cfg.database, "%s", db);
	st = gl_store_open(&cfg, &err);
	assert_non_null(st);
	assert_int_equal(gl_store_cas(st, "k", 1, NULL, 0, "v", 1, 0, &err), 1);
	pid = fork();
	if (pid == 0) {
		char cv[8];
		size_t cl = sizeof cv;

		if (gl_pid() != getpid() || gl_pid() == parent ||
		    gl_store_get(st, "k", 1, cv, &cl, &err) != 1 ||
		    gl_store_cas(st, "c", 1, NULL, 0, "x", 1, 0, &err) != 1)
			_exit(1);
		_exit(0);
	}
	assert_true(pid > 0);
	waitpid(pid, &status, 0);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	assert_int_equal(gl_pid(), parent);
	assert_int_equal(gl_store_get(st, "c", 1, v, &vl, &err), 1);
	assert_memory_equal(v, "x", 1);
	gl_store_close(st);
}

static int setup(void **state)
{
	(void)state;
	shared_prefix[0] = '\0';
	unit_tmpdir(dir, sizeof dir);
	snprintf(db, sizeof db, "%s/t.gdbm", dir);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	unit_rmdir(dir);
	return 0;
}

static int count_fn(void *arg, const void *k, size_t kl, const void *v,
		    size_t vl)
{
	(void)k, (void)v;
	assert_true(kl > 0 && vl > 0);
	(*(int *)arg)++;
	return 0;
}

static int stop_fn(void *arg, const void *k, size_t kl, const void *v,
		   size_t vl)
{
	(void)k, (void)kl, (void)v, (void)vl, (void)arg;
	return 7;
}

static void test_get_cas_scan(void **state)
{
	gl_err err;
	gl_store *st = open_store();
	char v[64];
	size_t vl = sizeof v;
	int n = 0;

	assert_non_null(st);
	/* No file yet: absent, not an error; scanning finds nothing. */
	assert_int_equal(gl_store_get(st, "k1", 2, v, &vl, &err), 0);
	assert_int_equal(gl_store_scan(st, count_fn, &n, &err), 0);
	assert_int_equal(n, 0);
	/* Create only when absent. */
	assert_int_equal(gl_store_cas(st, "k1", 2, NULL, 0, "one", 3, 0, &err), 1);
	assert_int_equal(gl_store_cas(st, "k1", 2, NULL, 0, "uno", 3, 0, &err), 0);
	vl = sizeof v;
	assert_int_equal(gl_store_get(st, "k1", 2, v, &vl, &err), 1);
	assert_int_equal(vl, 3);
	assert_memory_equal(v, "one", 3);
	/* Replace only when unchanged. */
	assert_int_equal(gl_store_cas(st, "k1", 2, "two", 3, "three", 5, 0, &err), 0);
	assert_int_equal(gl_store_cas(st, "k1", 2, "one", 3, "three", 5, 0, &err), 1);
	assert_int_equal(gl_store_cas(st, "k1", 2, "one", 3, "four", 4, 0, &err), 0);
	assert_int_equal(gl_store_cas(st, "k9", 2, "one", 3, "x", 1, 0, &err), 0);
	assert_int_equal(gl_store_cas(st, "k2", 2, NULL, 0, "b", 1, 0, &err), 1);
	n = 0;
	assert_int_equal(gl_store_scan(st, count_fn, &n, &err), 0);
	assert_int_equal(n, 2);
	assert_int_equal(gl_store_scan(st, stop_fn, NULL, &err), 7);
	/* Delete only when unchanged. */
	assert_int_equal(gl_store_cas(st, "k1", 2, "one", 3, NULL, 0, 0, &err), 0);
	assert_int_equal(gl_store_cas(st, "k1", 2, "three", 5, NULL, 0, 0, &err), 1);
	vl = sizeof v;
	assert_int_equal(gl_store_get(st, "k1", 2, v, &vl, &err), 0);
	/* A value larger than the caller's buffer is an error, not a copy. */
	vl = 0;
	assert_int_equal(gl_store_get(st, "k2", 2, v, &vl, &err), -1);
	assert_non_null(strstr(err.msg, "too large"));
	gl_store_close(st);
	(void)state;
}

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* A child holds the writer lock: reads and writes give up, bounded. */
static void test_lock_held(void **state)
{
	gl_err err;
	gl_store *st = gl_store_gdbm_open(db, 100, &err);
	int fd[2], rc, status;
	char v[8], c;
	size_t vl = sizeof v;
	int64_t t;
	pid_t pid;

	assert_int_equal(gl_store_cas(st, "k", 1, NULL, 0, "v", 1, 0, &err), 1);
	assert_int_equal(pipe(fd), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		GDBM_FILE h = gdbm_open(db, 0, GDBM_WRITER, 0600, NULL);

		if (write(fd[1], h ? "y" : "n", 1) != 1)
			_exit(1);
		sleep(30); /* killed by the parent long before */
		_exit(0);
	}
	assert_int_equal(read(fd[0], &c, 1), 1);
	assert_int_equal(c, 'y');
	t = now_ms();
	rc = gl_store_get(st, "k", 1, v, &vl, &err);
	assert_int_equal(rc, -1);
	assert_non_null(strstr(err.msg, "database busy"));
	assert_non_null(strstr(err.msg, db));
	rc = gl_store_cas(st, "k", 1, "v", 1, "w", 1, 0, &err);
	assert_int_equal(rc, -1);
	assert_non_null(strstr(err.msg, "database busy"));
	/* Two waits of lock_timeout (100 ms), with a wide margin. */
	assert_true(now_ms() - t < 2000);
	kill(pid, SIGKILL);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	/* The lock died with its holder; nothing was lost. */
	vl = sizeof v;
	assert_int_equal(gl_store_get(st, "k", 1, v, &vl, &err), 1);
	assert_memory_equal(v, "v", 1);
	close(fd[0]);
	close(fd[1]);
	gl_store_close(st);
	(void)state;
}

/* Files that are not GDBM databases are errors naming the file. */
static void test_damaged(void **state)
{
	static const char *junk[] = { "not a database at all\n", "GDBM",
				      "\x13\x57\x9a\xce garbage" };
	char path[512], v[8];
	size_t i, vl;
	gl_err err;
	gl_store *st;
	int n = 0;

	for (i = 0; i < N_ELEMS(junk); i++) {
		unit_write(dir, "bad.gdbm", junk[i], path, sizeof path);
		st = gl_store_gdbm_open(path, 100, &err);
		vl = sizeof v;
		err.msg[0] = '\0';
		assert_int_equal(gl_store_get(st, "k", 1, v, &vl, &err), -1);
		assert_non_null(strstr(err.msg, path));
		assert_int_equal(gl_store_cas(st, "k", 1, NULL, 0, "v", 1, 0,
					      &err), -1);
		assert_int_equal(gl_store_scan(st, count_fn, &n, &err), -1);
		gl_store_close(st);
	}
	/* An empty file is an empty database, made real by the first write. */
	unit_write(dir, "empty.gdbm", "", path, sizeof path);
	st = gl_store_gdbm_open(path, 100, &err);
	vl = sizeof v;
	assert_int_equal(gl_store_get(st, "k", 1, v, &vl, &err), 0);
	assert_int_equal(gl_store_cas(st, "k", 1, NULL, 0, "v", 1, 0, &err), 1);
	vl = sizeof v;
	assert_int_equal(gl_store_get(st, "k", 1, v, &vl, &err), 1);
	gl_store_close(st);
	/* A directory where the file should be. */
	st = gl_store_gdbm_open(dir, 100, &err);
	vl = sizeof v;
	assert_int_equal(gl_store_get(st, "k", 1, v, &vl, &err), -1);
	gl_store_close(st);
	(void)state;
}

static int k_valid(void *arg, const void *k, size_t kl, const void *v,
		   size_t vl);

/* GDBM's hash (hash.c of GDBM 1.23), to make keys that collide in it:
 * the precondition of test_gdbm_salted, checked there. */
static int gdbm_hash_of(const char *p, int n)
{
	unsigned v = 0x238F13AFu * (unsigned)n;
	int i;

	for (i = 0; i < n; i++)
		v = (v + ((unsigned)p[i] << ((unsigned)i * 5 % 24))) &
		    0x7FFFFFFF;
	return (int)((1103515243u * v + 12345) & 0x7FFFFFFF);
}

#define NCOLL 1024
#define COLL_LEN 40

/* The i-th of NCOLL keys of one length with one GDBM hash: byte p up
 * by 2d and byte p+5 down by d weigh the same in it (their shifts are
 * s and s+1), for p = 1..5 and d = 0..3. */
static void colliding_key(int i, char *k)
{
	int j, d;

	k[0] = 'k';
	memset(k + 1, 'm', COLL_LEN - 1);
	for (j = 0; j < 5; j++) {
		d = (i >> (2 * j)) & 3;
		k[1 + j] = (char)(k[1 + j] + 2 * d);
		k[6 + j] = (char)(k[6 + j] - d);
	}
}

/* The GDBM directory's size, from the file's header. */
static int gdbm_dir_size(const char *path)
{
	unsigned char h[24];
	int fd = open(path, O_RDONLY), size;

	assert_true(fd >= 0);
	assert_int_equal(read(fd, h, sizeof h), (ssize_t)sizeof h);
	close(fd);
	memcpy(&size, h + 16, sizeof size); /* magic, block, dir offset */
	return size;
}

/* Writes pairs straight into a GDBM file, as an earlier release did
 * (plain keys, no salt record). */
static void gdbm_put_raw(const char *path, const char *k, int kl,
			 const char *v, int vl)
{
	GDBM_FILE g = gdbm_open(path, 0, GDBM_WRCREAT, 0640, NULL);
	datum dk = { (char *)k, kl }, dv = { (char *)v, vl };

	assert_non_null(g);
	assert_int_equal(gdbm_store(g, dk, dv, GDBM_REPLACE), 0);
	gdbm_close(g);
}

static int raw_exists(const char *path, const char *k, int kl)
{
	GDBM_FILE g = gdbm_open(path, 0, GDBM_READER, 0, NULL);
	datum dk = { (char *)k, kl };
	int rc;

	assert_non_null(g);
	rc = gdbm_exists(g, dk);
	gdbm_close(g);
	return rc;
}

/* Stores the colliding keys: how many went in before the first error. */
static int store_colliding(gl_store *st, gl_err *err)
{
	char k[COLL_LEN];
	int i;

	for (i = 0; i < NCOLL; i++) {
		colliding_key(i, k);
		if (gl_store_cas(st, k, COLL_LEN, NULL, 0, "v", 1, 0, err) != 1)
			return i;
	}
	return i;
}

/* A new file is salted: GDBM stores each key behind a prefix, so keys a
 * sender makes collide in GDBM's hash no more; a file of plain keys (an
 * earlier release's) is used as it is, and there they do collide. */
static void test_gdbm_salted(void **state)
{
	char k[COLL_LEN], v[8], plain[512];
	gl_err err;
	gl_store *st;
	size_t vl;
	int i, n = 0, h0;

	for (i = 0; i < NCOLL; i++) {
		colliding_key(i, k);
		if (i == 0)
			h0 = gdbm_hash_of(k, COLL_LEN);
		assert_int_equal(gdbm_hash_of(k, COLL_LEN), h0);
	}
	st = gl_store_gdbm_open(db, 2000, &err);
	assert_non_null(st);
	assert_int_equal(store_colliding(st, &err), NCOLL);
	for (i = 0; i < NCOLL; i += 97) {
		colliding_key(i, k);
		vl = sizeof v;
		assert_int_equal(gl_store_get(st, k, COLL_LEN, v, &vl, &err), 1);
	}
	/* scan gives the keys as they were written, not the salt */
	assert_int_equal(gl_store_scan(st, count_fn, &n, &err), 0);
	assert_int_equal(n, NCOLL);
	gl_store_close(st);
	colliding_key(5, k);
	assert_false(raw_exists(db, k, COLL_LEN));
	assert_true(raw_exists(db, "\0salt", 5));
	assert_true(gdbm_dir_size(db) <= 16384);
	assert_int_equal(gl_gdbm_keys(db, 100, k_valid, NULL, &err),
			 GL_GDBM_KEYS_SALTED);

	/* plain keys: the same keys overflow a bucket; the store still
	 * reads and writes what is there, and adds no salt */
	snprintf(plain, sizeof plain, "%s/plain.gdbm", dir);
	gdbm_put_raw(plain, "old", 3, "1", 1);
	assert_int_equal(gl_gdbm_keys(plain, 100, k_valid, NULL, &err),
			 GL_GDBM_KEYS_PLAIN);
	st = gl_store_gdbm_open(plain, 2000, &err);
	vl = sizeof v;
	assert_int_equal(gl_store_get(st, "old", 3, v, &vl, &err), 1);
	n = store_colliding(st, &err);
	assert_true(n >= 100 && n < NCOLL);
	assert_non_null(strstr(err.msg, "overflow"));
	gl_store_close(st);
	colliding_key(5, k);
	assert_true(raw_exists(plain, k, COLL_LEN));
	assert_false(raw_exists(plain, "\0salt", 5));
	(void)state;
}

/* The pairs test_gdbm_rekey writes: exactly k1 and k2 with a value. */
static int k_valid(void *arg, const void *k, size_t kl, const void *v,
		   size_t vl)
{
	(void)arg, (void)v;
	return kl == 2 && vl > 0 && (!memcmp(k, "k1", 2) || !memcmp(k, "k2", 2));
}

static void gdbm_del_raw(const char *path, const char *k, int kl)
{
	GDBM_FILE g = gdbm_open(path, 0, GDBM_WRITER, 0, NULL);
	datum dk = { (char *)k, kl };

	assert_non_null(g);
	assert_int_equal(gdbm_delete(g, dk), 0);
	gdbm_close(g);
}

/* Whether the store finds k1 with its value "one" (and k2). */
static void assert_k1_k2(const char *path)
{
	gl_store *st;
	gl_err err;
	char v[8];
	size_t vl = sizeof v;

	st = gl_store_gdbm_open(path, 1000, &err);
	assert_non_null(st);
	if (gl_store_get(st, "k1", 2, v, &vl, &err) != 1)
		fail_msg("k1 not found in %s: %s", path, err.msg);
	assert_memory_equal(v, "one", 3);
	vl = sizeof v;
	assert_int_equal(gl_store_get(st, "k2", 2, v, &vl, &err), 1);
	gl_store_close(st);
}

/* rekey gives a file of plain keys (or a damaged or lost salt) a salt,
 * keeping every pair valid() accepts, the owner and the mode; recover
 * keeps the salt, puts back a lost copy, and rekeys when both are
 * gone. */
static void test_gdbm_rekey(void **state)
{
	char path[512];
	gl_rekey_report rep;
	gl_recover_report rrep;
	struct stat st0, st1;
	gl_err err;

	snprintf(path, sizeof path, "%s/old.gdbm", dir);
	gdbm_put_raw(path, "k1", 2, "one", 3);
	gdbm_put_raw(path, "k2", 2, "two", 3);
	gdbm_put_raw(path, "junk", 4, "x", 1);
	assert_int_equal(chmod(path, 0604), 0);
	if (geteuid() == 0)
		assert_int_equal(chown(path, 65534, 65534), 0);
	assert_int_equal(stat(path, &st0), 0);
	assert_int_equal(gl_gdbm_keys(path, 100, k_valid, NULL, &err),
			 GL_GDBM_KEYS_PLAIN);
	assert_int_equal(gl_gdbm_rekey(path, 1000, k_valid, NULL, &rep, &err), 0);
	assert_int_equal(rep.was, GL_GDBM_KEYS_PLAIN);
	assert_int_equal(rep.kept, 2);
	assert_int_equal(rep.dropped, 1);
	assert_int_equal(stat(path, &st1), 0);
	assert_int_not_equal(st1.st_ino, st0.st_ino);
	assert_int_equal(st1.st_mode & 07777, 0604);
	assert_int_equal(st1.st_uid, st0.st_uid);
	assert_int_equal(st1.st_gid, st0.st_gid);
	assert_int_equal(gl_gdbm_keys(path, 100, k_valid, NULL, &err),
			 GL_GDBM_KEYS_SALTED);
	assert_false(raw_exists(path, "k1", 2));
	assert_k1_k2(path);

	/* recover keeps the salt, and the keys behind it; a lost copy of
	 * the salt is written back */
	gdbm_del_raw(path, "\0salt", 5);
	assert_k1_k2(path); /* the other copy serves */
	assert_int_equal(gl_gdbm_recover(path, 1000, k_valid, NULL, &rrep,
					 &err), 0);
	assert_int_equal(rrep.kept, 2);
	assert_int_equal(rrep.lost, 0);
	assert_false(rrep.rekeyed);
	assert_true(raw_exists(path, "\0salt", 5));
	assert_true(raw_exists(path, "\0salt.2", 7));
	assert_k1_k2(path);

	/* both copies undecodable: the module refuses the file, naming
	 * rekey; rekey reads the keys behind their prefixes */
	gdbm_put_raw(path, "\0salt", 5, "bad", 3);
	gdbm_put_raw(path, "\0salt.2", 7, "bad", 3);
	assert_int_equal(gl_gdbm_keys(path, 100, k_valid, NULL, &err),
			 GL_GDBM_KEYS_DAMAGED);
	{
		gl_store *st = gl_store_gdbm_open(path, 1000, &err);
		char v[8];
		size_t vl = sizeof v;

		assert_int_equal(gl_store_get(st, "k1", 2, v, &vl, &err), -1);
		assert_non_null(strstr(err.msg, "greylist-admin rekey"));
		gl_store_close(st);
	}
	assert_int_equal(gl_gdbm_rekey(path, 1000, k_valid, NULL, &rep, &err), 0);
	assert_int_equal(rep.was, GL_GDBM_KEYS_DAMAGED);
	assert_int_equal(rep.kept, 2);
	assert_k1_k2(path);

	/* both copies gone: check calls it lost, not plain; recover keeps
	 * the keys behind it and rekeys */
	gdbm_del_raw(path, "\0salt", 5);
	gdbm_del_raw(path, "\0salt.2", 7);
	assert_int_equal(gl_gdbm_keys(path, 100, k_valid, NULL, &err),
			 GL_GDBM_KEYS_DAMAGED);
	assert_int_equal(gl_gdbm_recover(path, 1000, k_valid, NULL, &rrep,
					 &err), 0);
	assert_true(rrep.rekeyed);
	assert_int_equal(rrep.kept, 2);
	assert_int_equal(rrep.lost, 0);
	assert_k1_k2(path);
	assert_int_equal(gl_gdbm_keys(path, 100, k_valid, NULL, &err),
			 GL_GDBM_KEYS_SALTED);

	/* no file: nothing to do */
	snprintf(path, sizeof path, "%s/none.gdbm", dir);
	assert_int_equal(gl_gdbm_rekey(path, 1000, k_valid, NULL, &rep, &err), 0);
	assert_int_equal(rep.was, GL_GDBM_KEYS_EMPTY);
	assert_int_equal(access(path, F_OK), -1);
	assert_int_equal(gl_gdbm_keys(path, 100, k_valid, NULL, &err),
			 GL_GDBM_KEYS_EMPTY);
	(void)state;
}

/* Points the first copy of the salt at a place past the file's end
 * (its bucket element: hash, the key's first 4 bytes, the data's
 * offset, key size 5, data size 17), so that reading it fails and
 * leaves GDBM's handle needing recovery. */
static void break_salt_copy0(const char *path)
{
	static unsigned char buf[1 << 20];
	int fd = open(path, O_RDWR), key_size, data_size;
	ssize_t n, o;
	int64_t far = (int64_t)1 << 40;

	assert_true(fd >= 0);
	n = read(fd, buf, sizeof buf);
	assert_true(n > 0);
	for (o = 0; o + 24 <= n; o += 4) {
		memcpy(&key_size, buf + o + 16, 4);
		memcpy(&data_size, buf + o + 20, 4);
		if (!memcmp(buf + o + 4, "\0sal", 4) && key_size == 5 &&
		    data_size == 17)
			break;
	}
	assert_true(o + 24 <= n);
	assert_int_equal(pwrite(fd, &far, 8, o + 8), 8);
	close(fd);
}

/* One copy of the salt that cannot be read: the module reads the other
 * (on a fresh handle), and recover writes the first back. */
static void test_gdbm_salt_unreadable(void **state)
{
	gl_recover_report rrep;
	gl_store *st;
	gl_err err;

	st = gl_store_gdbm_open(db, 1000, &err);
	assert_int_equal(gl_store_cas(st, "k1", 2, NULL, 0, "one", 3, 0, &err), 1);
	assert_int_equal(gl_store_cas(st, "k2", 2, NULL, 0, "two", 3, 0, &err), 1);
	gl_store_close(st);
	break_salt_copy0(db);
	assert_k1_k2(db);
	assert_int_equal(gl_gdbm_recover(db, 1000, k_valid, NULL, &rrep, &err), 0);
	assert_int_equal(rrep.kept, 2);
	assert_false(rrep.rekeyed);
	assert_k1_k2(db);
	assert_int_equal(gl_gdbm_keys(db, 100, k_valid, NULL, &err),
			 GL_GDBM_KEYS_SALTED);
	(void)state;
}

/* A process's kept handle (a connection's next RCPT) is not used once
 * rekey replaced the file: the next decision finds the new file and
 * its salt. */
static char shm[64]; /* the test's directory on /dev/shm, or "" */

static void test_gdbm_rekey_kept(void **state)
{
	gl_rekey_report rep;
	gl_store *st;
	gl_err err;
	char v[8], path[128];
	size_t vl;

	if (!shm[0])
		skip(); /* handles are kept on a tmpfs only */
	snprintf(path, sizeof path, "%s/t.gdbm", shm);
	st = gl_store_gdbm_open(path, 1000, &err);
	gl_store_session(st, 1);
	assert_int_equal(gl_store_cas(st, "k1", 2, NULL, 0, "one", 3, 0, &err), 1);
	gl_store_session(st, 0);
	assert_int_equal(gl_gdbm_rekey(path, 1000, k_valid, NULL, &rep, &err), 0);
	assert_int_equal(rep.kept, 1);
	gl_store_session(st, 1);
	vl = sizeof v;
	assert_int_equal(gl_store_get(st, "k1", 2, v, &vl, &err), 1);
	assert_int_equal(gl_store_cas(st, "k2", 2, NULL, 0, "two", 3, 0, &err), 1);
	gl_store_session(st, 0);
	gl_store_close(st);
	assert_k1_k2(path);
	(void)state;
}

static void test_open_config(void **state)
{
	gl_config cfg;
	gl_err err;
	gl_store *st;

	gl_config_defaults(&cfg);
	snprintf(cfg.database, sizeof cfg.database, "%s", db);
	st = gl_store_open(&cfg, &err);
	assert_non_null(st);
	assert_string_equal(st->ops->name, "gdbm");
	gl_store_close(st);
	cfg.backend = GL_BACKEND_REDIS;
	snprintf(cfg.redis, sizeof cfg.redis, "no-port");
	assert_null(gl_store_open(&cfg, &err));
	assert_non_null(strstr(err.msg, "key 'redis': bad value 'no-port'"));
	(void)state;
}

static int mark_fn(void *arg, const void *k, size_t kl, const void *v,
		   size_t vl)
{
	unsigned char *seen = arg;
	unsigned i;

	(void)v, (void)vl;
	assert_int_equal(kl, sizeof i);
	memcpy(&i, k, sizeof i);
	assert_true(i < 2500);
	seen[i]++;
	return 0;
}

/* Batches, and a scan longer than one chunk sees every key once. */
static void test_batches_and_chunks(void **state)
{
	static unsigned keys[2500];
	static gl_cas_item it[GL_BATCH];
	unsigned char seen[2500];
	gl_err err;
	gl_store *st = open_store();
	unsigned i, j;

	for (i = 0; i < 2500; i += GL_BATCH) {
		for (j = 0; j < GL_BATCH; j++) {
			keys[i + j] = i + j;
			memset(&it[j], 0, sizeof it[j]);
			it[j].key = &keys[i + j];
			it[j].klen = sizeof keys[0];
			it[j].val = "v";
			it[j].vlen = 1;
		}
		assert_int_equal(st->ops->casv(st, it, GL_BATCH, &err), 0);
		for (j = 0; j < GL_BATCH; j++)
			assert_int_equal(it[j].done, 1);
	}
	/* The same batch again: every key exists, so nothing is done. */
	assert_int_equal(st->ops->casv(st, it, GL_BATCH, &err), 0);
	for (j = 0; j < GL_BATCH; j++)
		assert_int_equal(it[j].done, 0);
	memset(seen, 0, sizeof seen);
	assert_int_equal(gl_store_scan(st, mark_fn, seen, &err), 0);
	for (i = 0; i < 2500; i++)
		assert_int_equal(seen[i], 1);
	gl_store_close(st);
	(void)state;
}

/* A server that lost its scripts (SCRIPT FLUSH, a restart) costs a
 * compare-and-set nothing: the store loads the script again and checks
 * that the server's digest is the one compiled in. */
static void test_redis_script(void **state)
{
	gl_store *st = open_store();
	const char *r = getenv("GL_REDIS");
	char cmd[256], v[8];
	size_t vl = sizeof v;
	gl_err err;

	assert_int_equal(gl_store_cas(st, "k", 1, NULL, 0, "v", 1, 0, &err), 1);
	snprintf(cmd, sizeof cmd, "redis-cli -h %.*s -p %s SCRIPT FLUSH >/dev/null",
		 (int)(strchr(r, ':') - r), r, strchr(r, ':') + 1);
	assert_int_equal(system(cmd), 0);
	if (gl_store_cas(st, "k", 1, "v", 1, "w", 1, 0, &err) != 1)
		fail_msg("after SCRIPT FLUSH: %s", err.msg);
	assert_int_equal(gl_store_get(st, "k", 1, v, &vl, &err), 1);
	assert_memory_equal(v, "w", 1);
	gl_store_close(st);
	(void)state;
}

/* A server that is not there: an error at once, then the back-off. */
static void test_redis_down(void **state)
{
	gl_config cfg;
	gl_err err;
	gl_store *st;
	char v[8];
	size_t vl = sizeof v;
	int64_t t;

	gl_config_defaults(&cfg);
	cfg.backend = GL_BACKEND_REDIS;
	snprintf(cfg.redis, sizeof cfg.redis, "127.0.0.1:1");
	st = gl_store_open(&cfg, &err);
	assert_non_null(st);
	assert_int_equal(gl_store_get(st, "k", 1, v, &vl, &err), -1);
	assert_non_null(strstr(err.msg, "redis 127.0.0.1:1: Connection refused"));
	t = now_ms();
	assert_int_equal(gl_store_cas(st, "k", 1, NULL, 0, "v", 1, 0, &err), -1);
	assert_non_null(strstr(err.msg, "unavailable (Connection refused)"));
	assert_true(now_ms() - t < 50); /* no new attempt within the back-off */
	gl_store_close(st);
	(void)state;
}

/* GDBM with a snapshot: the database on a tmpfs after a reboot comes
 * back from the last snapshot, whole, however many processes open it at
 * once; a snapshot with no database yet leaves the old one. */
static void test_gdbm_snapshot(void **state)
{
	gl_config cfg;
	gl_store *st;
	gl_err err;
	char v[16], left[600];
	size_t vl;
	int i, status, found = 0;
	pid_t pid[4];

	gl_config_defaults(&cfg);
	snprintf(cfg.database, sizeof cfg.database, "%s", db);
	snprintf(cfg.snapshot, sizeof cfg.snapshot, "%s/snap", dir);
	assert_int_equal(gl_gdbm_snapshot(&cfg, &err), 1); /* no database */
	st = gl_store_open(&cfg, &err);
	assert_non_null(st);
	assert_int_equal(gl_store_cas(st, "k", 1, NULL, 0, "kept", 4, 0, &err), 1);
	gl_store_close(st);
	assert_int_equal(gl_gdbm_snapshot(&cfg, &err), 0);
	assert_int_equal(unlink(db), 0);
	/* Later writes are lost with the file; the snapshot's are back. */
	for (i = 0; i < 4; i++) {
		pid[i] = fork();
		assert_true(pid[i] >= 0);
		if (pid[i] == 0) {
			gl_store *s2 = gl_store_open(&cfg, &err);

			vl = sizeof v;
			_exit(s2 != NULL && gl_store_get(s2, "k", 1, v, &vl,
							 &err) == 1 &&
			      vl == 4 && memcmp(v, "kept", 4) == 0 ? 0 : 1);
		}
	}
	for (i = 0; i < 4; i++) {
		assert_int_equal(waitpid(pid[i], &status, 0), pid[i]);
		found += WIFEXITED(status) && WEXITSTATUS(status) == 0;
	}
	assert_int_equal(found, 4);
	snprintf(left, sizeof left, "ls %s | grep -q restore", dir);
	assert_int_not_equal(system(left), 0); /* no copy left behind */
	/* A damaged snapshot (a crash of the disk, not of the tmpfs): the
	 * database starts empty and takes writes, never an error; the
	 * snapshot is kept aside for recover. */
	{
		FILE *f;
		char snap[600];

		snprintf(snap, sizeof snap, "%s/snap", dir);
		f = fopen(snap, "w");
		assert_non_null(f);
		fputs("not a GDBM file at all, only text", f);
		fclose(f);
		assert_int_equal(unlink(db), 0);
		st = gl_store_open(&cfg, &err);
		assert_non_null(st);
		vl = sizeof v;
		assert_int_equal(gl_store_get(st, "k", 1, v, &vl, &err), 0);
		assert_int_equal(gl_store_cas(st, "k", 1, NULL, 0, "new", 3, 0,
					      &err), 1);
		gl_store_close(st);
		snprintf(left, sizeof left, "ls %s | grep -q '^snap.broken-'", dir);
		assert_int_equal(system(left), 0);
		assert_int_not_equal(access(snap, F_OK), 0);
	}
	/* Without a snapshot configured, a missing file stays missing. */
	assert_int_equal(unlink(db), 0);
	cfg.snapshot[0] = '\0';
	st = gl_store_open(&cfg, &err);
	vl = sizeof v;
	assert_int_equal(gl_store_get(st, "k", 1, v, &vl, &err), 0);
	gl_store_close(st);
	(void)state;
}

/* The i-th key, and a value of it tagged tag: every value is of one
 * length, so a new one replaces the old in place. */
static void kv(char *k, char *v, int i, char tag)
{
	snprintf(k, 16, "k%05d", i);
	snprintf(v, 16, "%c%04d", tag, i % 10000);
}

/* Whether key k holds v in the store st: through a session, as a
 * decision reads. */
static int holds(gl_store *st, const char *k, const char *v)
{
	char got[16];
	size_t gl = sizeof got;
	gl_err err;
	int rc;

	gl_store_session(st, 1);
	rc = gl_store_get(st, k, strlen(k), got, &gl, &err);
	gl_store_session(st, 0);
	return rc == 1 && gl == strlen(v) && memcmp(got, v, gl) == 0;
}

/* One write in a session, as a decision makes it. */
static void session_put(gl_store *st, const char *k, const char *old,
			const char *v)
{
	gl_err err;

	gl_store_session(st, 1);
	assert_int_equal(gl_store_cas(st, k, strlen(k), old,
				      old ? strlen(old) : 0, v, strlen(v), 0,
				      &err), 1);
	gl_store_session(st, 0);
}

static int setup_shm(void **state)
{
	struct statfs fs;

	(void)state;
	snprintf(shm, sizeof shm, "/dev/shm/gl-unit-XXXXXX");
	if (statfs("/dev/shm", &fs) != 0 || fs.f_type != 0x01021994 ||
	    mkdtemp(shm) == NULL)
		shm[0] = '\0';
	return 0;
}

static int teardown_shm(void **state)
{
	(void)state;
	if (shm[0])
		unit_rmdir(shm);
	return 0;
}

/* How many of this process's descriptors have path open. */
static int fds_on(const char *path)
{
	char link[64], target[256];
	int fd, n = 0;
	ssize_t len;

	for (fd = 0; fd < 1024; fd++) {
		snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
		len = readlink(link, target, sizeof target - 1);
		if (len <= 0)
			continue;
		target[len] = '\0';
		n += strcmp(target, path) == 0;
	}
	return n;
}

/*
 * GDBM on a tmpfs keeps a session's writer for the process's next
 * session (store_gdbm.c). Two stores in one process stand for two Exim
 * processes: A's kept handle must never serve a read or a write once B
 * has changed the file, however little (one value replaced in place, in
 * the same millisecond), however much (the directory grown by thousands
 * of keys), in a session or outside one (as greylist-admin writes), nor
 * once the file was replaced (a restore, a recover). A stale handle
 * would read old values and write over B's work. Needs a tmpfs: the
 * test's directory is made on /dev/shm when that is one (setup_shm),
 * else skipped.
 */
static void test_gdbm_kept(void **state)
{
	char path[128], cmd[600], k[16], v[16], w[16];
	gl_store *a, *b, *c;
	gl_err err;
	size_t before;
	int i, n = 0;

	(void)state;
	if (!shm[0])
		skip();
	snprintf(path, sizeof path, "%s/t.gdbm", shm);
	a = gl_store_gdbm_open(path, 2000, &err);
	b = gl_store_gdbm_open(path, 2000, &err);
	assert_non_null(a);
	assert_non_null(b);

	/* A writes and keeps its handle (the file stays open after the
	 * session); it reads its own write back through it. */
	session_put(a, "x", NULL, "a1");
	assert_int_equal(fds_on(path), 1);
	assert_true(holds(a, "x", "a1"));
	assert_int_equal(fds_on(path), 1);
	/* B replaces the value in place, in a session, at once. */
	session_put(b, "x", "a1", "b1");
	assert_true(holds(a, "x", "b1"));
	/* ... and outside a session, as greylist-admin does. */
	assert_int_equal(gl_store_cas(b, "x", 1, "b1", 2, "b2", 2, 0, &err), 1);
	assert_true(holds(a, "x", "b2"));
	/* A saw no stamp of its own, only the kernel's time of B's write
	 * (coarse on kernels before 6.13: a second write within the same
	 * tick leaves the same time), so it must not have kept that handle;
	 * B writes again at once. */
	assert_int_equal(gl_store_cas(b, "x", 1, "b2", 2, "b3", 2, 0, &err), 1);
	assert_true(holds(a, "x", "b3"));
	session_put(a, "x", "b3", "a2");
	assert_true(holds(b, "x", "a2"));
	/* B grows the file and its directory, A writes in between. */
	for (i = 0; i < 3000; i++) {
		kv(k, v, i, 'b');
		session_put(b, k, NULL, v);
		if (i % 500 == 0) {
			kv(k, w, i + 100000, 'a');
			session_put(a, k, NULL, w);
		}
	}
	for (i = 0; i < 3000; i += 7) {
		kv(k, v, i, 'b');
		assert_true(holds(a, k, v));
	}
	/* The file replaced under A's kept handle by a copy with the same
	 * stamp, renamed over it (as a recover does): A's next write lands
	 * in the new file. */
	session_put(a, "y", NULL, "a3");
	snprintf(cmd, sizeof cmd, "cp -p %s %s.new && mv %s.new %s", path, path,
		 path, path);
	assert_int_equal(system(cmd), 0);
	session_put(a, "z", NULL, "a4");
	c = gl_store_gdbm_open(path, 2000, &err);
	assert_non_null(c);
	assert_true(holds(c, "z", "a4"));
	assert_true(holds(c, "y", "a3"));
	assert_true(holds(c, "x", "a2"));
	/* Nothing lost, nothing doubled: B's 3000, A's 6, x, y and z. */
	assert_int_equal(gl_store_scan(c, count_fn, &n, &err), 0);
	assert_int_equal(n, 3000 + 6 + 3);
	/* A handle kept for a connection's life caches a few buckets, not
	 * every bucket it ever read (GDBM's own cache grows to MBs). */
	gl_store_session(b, 1);
	for (i = 3000; i < 30000; i++) {
		kv(k, v, i, 'b');
		assert_int_equal(gl_store_cas(b, k, strlen(k), NULL, 0, v,
					      strlen(v), 0, &err), 1);
	}
	gl_store_session(b, 0);
	session_put(a, "w", NULL, "a5");
	before = mallinfo2().uordblks;
	for (i = 0; i < 3000; i++) {
		kv(k, v, (i * 7919) % 30000, 'b');
		assert_true(holds(a, k, v));
	}
	assert_true(mallinfo2().uordblks < before + 256 * 1024);
	gl_store_close(a);
	gl_store_close(b);
	gl_store_close(c);
	assert_int_equal(fds_on(path), 0);
}

#define KEPT_PROCS 4
#define KEPT_INCS 300    /* increments each process makes ... */
#define KEPT_TRIES 20000 /* ... in at most this many sessions */

/*
 * Kept handles in real processes: KEPT_PROCS processes each add 1 to
 * one of three counters, KEPT_INCS times, each increment one session
 * (read, then compare-and-set, as a decision writes), so handles are
 * kept, found out of date, taken back and checked under the lock in
 * every interleaving. A handle used while stale would read an old count
 * or write over another's: the counters would add up to less than the
 * increments that succeeded.
 */
static void test_gdbm_kept_procs(void **state)
{
	char path[128], key[2] = "a", cur[24], next[24];
	pid_t pid[KEPT_PROCS];
	gl_store *st;
	gl_err err;
	size_t cl;
	long total = 0;
	int i, p, status, ok = 0;

	(void)state;
	if (!shm[0])
		skip();
	snprintf(path, sizeof path, "%s/t.gdbm", shm);
	for (p = 0; p < KEPT_PROCS; p++) {
		pid[p] = fork();
		assert_true(pid[p] >= 0);
		if (pid[p] != 0)
			continue;
		st = gl_store_gdbm_open(path, 5000, &err);
		for (i = 0; st != NULL && ok < KEPT_INCS && i < KEPT_TRIES; i++) {
			int rc;

			key[0] = (char)('a' + (p + i) % 3);
			gl_store_session(st, 1);
			cl = sizeof cur - 1;
			rc = gl_store_get(st, key, 1, cur, &cl, &err);
			if (rc >= 0) {
				cur[rc == 1 ? cl : 0] = '\0';
				snprintf(next, sizeof next, "%ld",
					 strtol(cur, NULL, 10) + 1);
				rc = gl_store_cas(st, key, 1, rc == 1 ? cur : NULL,
						  rc == 1 ? cl : 0, next,
						  strlen(next), 0, &err);
			}
			gl_store_session(st, 0);
			ok += rc == 1;
		}
		gl_store_close(st);
		_exit(ok == KEPT_INCS ? 0 : 1);
	}
	for (p = 0; p < KEPT_PROCS; p++) {
		assert_int_equal(waitpid(pid[p], &status, 0), pid[p]);
		ok += WIFEXITED(status) && WEXITSTATUS(status) == 0;
	}
	assert_int_equal(ok, KEPT_PROCS);
	st = gl_store_gdbm_open(path, 2000, &err);
	assert_non_null(st);
	for (key[0] = 'a'; key[0] <= 'c'; key[0]++) {
		cl = sizeof cur - 1;
		assert_int_equal(gl_store_get(st, key, 1, cur, &cl, &err), 1);
		cur[cl] = '\0';
		total += strtol(cur, NULL, 10);
	}
	gl_store_close(st);
	assert_int_equal(total, KEPT_PROCS * KEPT_INCS);
}

#define WL_WRITERS 4
#define WL_ADDS 12     /* entries each writer adds ... */
#define WL_DELS 4      /* ... and then deletes again */
#define WL_READS 3000  /* decisions a reader makes at most, until it saw
			  the whitelist change a few times */
#define WL_PAUSE_NS 3000000 /* a writer's pause between two edits */

/* A writer: adds its entries one at a time, each a separate edit. */
static void wl_writer(int w, int dels)
{
	struct timespec pause = { 0, WL_PAUSE_NS };
	gl_config cfg;
	gl_store *st;
	gl_err err;
	int i, rc = 0, replaced;

	store_config(&cfg);
	if ((st = gl_store_open(&cfg, &err)) == NULL)
		_exit(2);
	for (i = 0; i < (dels ? WL_DELS : WL_ADDS) && rc == 0; i++) {
		char line[64];
		gl_wl_entry *e;
		int blank;

		snprintf(line, sizeof line, "w%d-e%d.example owner=w%d", w,
			 dels ? i * 3 : i, w);
		e = gl_wl_parse(line, 1, 0, "test", &blank, &err);
		if (e == NULL)
			_exit(3);
		if (dels)
			rc = gl_dbwl_del(st, 1, e, &err) == 1 ? 0 : -1;
		else
			rc = gl_dbwl_add(st, 1, e, &replaced, &err);
		gl_wl_entry_free(e);
		nanosleep(&pause, NULL);
	}
	if (rc != 0)
		fprintf(stderr, "writer %d: %s\n", w, err.msg);
	gl_store_close(st);
	_exit(rc == 0 ? 0 : 4);
}

/* A reader: decides as the module does while the writers add; the
 * whitelist it uses must always be whole: as many entries as its
 * generation (each add is one generation and one entry). */
static void wl_reader(int r)
{
	gl_config cfg;
	gl_store *st;
	gl_ctx ctx;
	gl_result res;
	gl_err err;
	char ip[32];
	int i, bad = 0, changes = 0, failed = 0;
	uint64_t last = 0;

	store_config(&cfg);
	if ((st = gl_store_open(&cfg, &err)) == NULL)
		_exit(2);
	gl_ctx_init(&ctx, &cfg, st);
	for (i = 0; i < WL_READS && changes < 4; i++) {
		gl_request req = { ip, "a@sender.example", "b@rcpt.example",
				   NULL, NULL, NULL };
		const gl_wl_entry *e;
		uint64_t n = 0;

		snprintf(ip, sizeof ip, "198.51.%d.%d", 100 + r, i % 250);
		if (gl_decide(&ctx, &req, 1800000000, 0, &res, &err) < 0) {
			failed++; /* busy: the next one */
			continue;
		}
		for (e = ctx.dbwl ? ctx.dbwl->head : NULL; e; e = e->next)
			n++;
		/* The cached entries are those of one generation, and never
		 * older than the "V" that made the reader load them. */
		if (n != ctx.dbwl_gen || ctx.dbwl_gen < ctx.dbwl_seen)
			bad++;
		changes += ctx.dbwl_gen != last;
		last = ctx.dbwl_gen;
	}
	gl_ctx_free(&ctx);
	gl_store_close(st);
	if (bad)
		fprintf(stderr, "reader %d: %d decisions with a whitelist "
			"not of its generation\n", r, bad);
	if (failed > WL_READS / 2)
		fprintf(stderr, "reader %d: %d decisions failed\n", r, failed);
	/* 0: sound, and it saw the whitelist change under it; 5: sound,
	 * but no change happened while it read. */
	_exit(bad || failed > WL_READS / 2 ? 1 : changes > 1 ? 0 : 5);
}

/* Runs the writers and readers; how many readers saw a change. */
static int run_procs(int writers_dels, int readers)
{
	pid_t pid[WL_WRITERS + 2];
	int i, status, n = 0, saw = 0;

	for (i = 0; i < WL_WRITERS + readers; i++) {
		pid[n] = fork();
		assert_true(pid[n] >= 0);
		if (pid[n] == 0) {
			if (i < WL_WRITERS)
				wl_writer(i, writers_dels);
			wl_reader(i - WL_WRITERS);
		}
		n++;
	}
	for (i = 0; i < n; i++) {
		assert_int_equal(waitpid(pid[i], &status, 0), pid[i]);
		if (i >= WL_WRITERS && WIFEXITED(status) &&
		    WEXITSTATUS(status) == 5)
			continue;
		if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
			fail_msg("%s %d ended with status %d", i < WL_WRITERS ?
				 "writer" : "reader", i, status);
		saw += i >= WL_WRITERS;
	}
	return saw;
}

/* Several processes add and delete database whitelist entries at once,
 * while others decide: nothing is lost, and no decision uses entries
 * that are not those of the generation it cached. */
static void test_dbwl_concurrent(void **state)
{
	gl_config cfg;
	gl_store *st;
	gl_dbwl cur;
	gl_whitelist *wl = NULL;
	const gl_wl_entry *e;
	gl_err err;
	int w, i, n = 0;
	char want[64];

	snprintf(shared_prefix, sizeof shared_prefix, "dbwl%d:", (int)getpid());
	/* The readers must have read while the writers wrote, or this
	 * proves nothing. */
	if (run_procs(0, 2) == 0)
		fail_msg("no reader saw the whitelist change while it read");
	(void)run_procs(1, 0);
	store_config(&cfg);
	st = gl_store_open(&cfg, &err);
	assert_non_null(st);
	assert_int_equal(gl_dbwl_read(st, &cur, &err), 0);
	assert_int_equal(cur.gen, WL_WRITERS * (WL_ADDS + WL_DELS));
	assert_int_equal(cur.seen, cur.gen);
	assert_int_equal(gl_whitelist_parse_text(&wl, cur.text, cur.len, 1,
						 "test", NULL, &err), 0);
	for (e = wl->head; e; e = e->next)
		n++;
	assert_int_equal(n, WL_WRITERS * (WL_ADDS - WL_DELS));
	for (w = 0; w < WL_WRITERS; w++)
		for (i = 0; i < WL_ADDS; i++) {
			int found = 0, deleted = i % 3 == 0 && i / 3 < WL_DELS;

			snprintf(want, sizeof want, "w%d-e%d.example", w, i);
			for (e = wl->head; e; e = e->next)
				found += !strcmp(e->entry, want);
			if (found != !deleted)
				fail_msg("%s: %d times, want %d", want, found,
					 !deleted);
		}
	gl_whitelist_free(wl);
	gl_dbwl_free(&cur);
	gl_store_close(st);
	shared_prefix[0] = '\0';
	(void)state;
}

/* A TCP port on 127.0.0.1 that accepts connections (the backlog) but
 * never answers: a hung server. */
static int hung_port(int *fd_r)
{
	struct sockaddr_in a;
	socklen_t al = sizeof a;
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	assert_true(fd >= 0);
	memset(&a, 0, sizeof a);
	a.sin_family = AF_INET;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof a), 0);
	assert_int_equal(listen(fd, 16), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &al), 0);
	*fd_r = fd;
	return ntohs(a.sin_port);
}

/* Sentinels that are not there: one error naming them, then the
 * back-off (no new attempt for a second), and no master to report. */
static void test_redis_sentinels_down(void **state)
{
	gl_config cfg;
	gl_err err;
	gl_store *st;
	char v[8], m[300], via[300];
	size_t vl = sizeof v;
	int64_t t;

	gl_config_defaults(&cfg);
	cfg.backend = GL_BACKEND_REDIS;
	cfg.nredis_sentinels = 2;
	snprintf(cfg.redis_sentinels[0].host, 256, "127.0.0.1");
	cfg.redis_sentinels[0].port = 1;
	snprintf(cfg.redis_sentinels[1].host, 256, "::1");
	cfg.redis_sentinels[1].port = 2;
	snprintf(cfg.redis_master_name, sizeof cfg.redis_master_name, "gl");
	st = gl_store_open(&cfg, &err);
	assert_non_null(st);
	assert_int_equal(gl_store_get(st, "k", 1, v, &vl, &err), -1);
	if (strstr(err.msg, "redis sentinels 127.0.0.1:1, [::1]:2: no sentinel "
		   "answered (") == NULL)
		fail_msg("got: %s", err.msg);
	t = now_ms();
	assert_int_equal(gl_store_cas(st, "k", 1, NULL, 0, "v", 1, 0, &err), -1);
	if (strstr(err.msg, "redis sentinels 127.0.0.1:1, [::1]:2: unavailable "
		   "(no sentinel answered") == NULL)
		fail_msg("got: %s", err.msg);
	assert_true(now_ms() - t < 50);
	assert_int_equal(gl_store_redis_master(st, m, sizeof m, via, sizeof via), -1);
	gl_store_close(st);
	(void)state;
}

/*
 * Two hung sentinels and a server that is no sentinel (the test Redis):
 * each hung one gets only its share of the deadline, so the third is
 * still asked, and the whole call stays within the deadline.
 */
static void test_redis_sentinels_hung(void **state)
{
	const char *r = getenv("GL_REDIS");
	gl_config cfg;
	gl_err err;
	gl_store *st;
	char v[8];
	size_t vl = sizeof v;
	int fd1, fd2;
	int64_t t;

	if (r == NULL)
		fail_msg("GL_REDIS is not set: run the tests with make check");
	gl_config_defaults(&cfg);
	cfg.backend = GL_BACKEND_REDIS;
	cfg.redis_timeout_ms = 200;
	cfg.nredis_sentinels = 3;
	snprintf(cfg.redis_sentinels[0].host, 256, "127.0.0.1");
	cfg.redis_sentinels[0].port = hung_port(&fd1);
	snprintf(cfg.redis_sentinels[1].host, 256, "127.0.0.1");
	cfg.redis_sentinels[1].port = hung_port(&fd2);
	snprintf(cfg.redis_sentinels[2].host, 256, "%.*s",
		 (int)(strchr(r, ':') - r), r);
	cfg.redis_sentinels[2].port = atoi(strchr(r, ':') + 1);
	snprintf(cfg.redis_master_name, sizeof cfg.redis_master_name, "gl");
	st = gl_store_open(&cfg, &err);
	assert_non_null(st);
	gl_store_deadline(st, cfg.redis_timeout_ms);
	t = now_ms();
	assert_int_equal(gl_store_get(st, "k", 1, v, &vl, &err), -1);
	t = now_ms() - t;
	if (strstr(err.msg, "no sentinel answered") == NULL ||
	    strstr(err.msg, "SENTINEL") == NULL)
		fail_msg("got: %s", err.msg);
	if (t > 200 + 30)
		fail_msg("took %lld ms, deadline 200 ms", (long long)t);
	gl_store_close(st);
	close(fd1);
	close(fd2);
	(void)state;
}

/* The test Redis as HOST and PORT for redis-cli and for a config. */
static void redis_hp(char *host, size_t hsz, int *port)
{
	const char *r = getenv("GL_REDIS");

	if (r == NULL || strchr(r, ':') == NULL)
		fail_msg("GL_REDIS is not set: run the tests with make check");
	snprintf(host, hsz, "%.*s", (int)(strchr(r, ':') - r), r);
	*port = atoi(strchr(r, ':') + 1);
}

static pid_t fake_pid;

/*
 * A fake sentinel on 127.0.0.1 (its port returned): a child that answers
 * AUTH with +OK and every other command with the test Redis's address,
 * one connection at a time, until it is killed.
 */
static int fake_sentinel(void)
{
	char host[64], reply[256];
	int fd, port, rport = hung_port(&fd);

	redis_hp(host, sizeof host, &port);
	snprintf(reply, sizeof reply, "*2\r\n$%zu\r\n%s\r\n$%zu\r\n%d\r\n",
		 strlen(host), host, (size_t)snprintf(NULL, 0, "%d", port), port);
	fake_pid = fork();
	assert_true(fake_pid >= 0);
	if (fake_pid == 0) {
		for (;;) {
			int c = accept(fd, NULL, NULL);
			char buf[4096];
			ssize_t n;

			while (c >= 0 && (n = read(c, buf, sizeof buf - 1)) > 0) {
				const char *out = reply;

				buf[n] = '\0';
				if (strstr(buf, "AUTH") != NULL)
					out = "+OK\r\n";
				if (write(c, out, strlen(out)) < 0)
					break;
			}
			if (c >= 0)
				close(c);
		}
	}
	close(fd);
	return rport;
}

/* Undoes what test_redis_readonly did, also after a failed assertion. */
static int teardown_readonly(void **state)
{
	char host[64], cmd[256];
	int port, status;

	redis_hp(host, sizeof host, &port);
	snprintf(cmd, sizeof cmd, "redis-cli -h %s -p %d REPLICAOF NO ONE "
		 ">/dev/null", host, port);
	if (system(cmd) != 0)
		fprintf(stderr, "# %s failed\n", cmd);
	if (fake_pid > 0) {
		kill(fake_pid, SIGKILL);
		waitpid(fake_pid, &status, 0);
		fake_pid = 0;
	}
	return teardown(state);
}

/*
 * A master that is demoted under an open connection: the write answered
 * READONLY makes the store ask the sentinel again (not the back-off
 * message), and it refuses the server the sentinel still names because
 * ROLE says slave; once the server is master again, writes go on.
 */
static void test_redis_readonly(void **state)
{
	char host[64], cmd[256], m[300], via[300], want[300], v[8];
	size_t vl = sizeof v;
	gl_config cfg;
	gl_err err;
	gl_store *st;
	int port, sport = fake_sentinel();

	redis_hp(host, sizeof host, &port);
	gl_config_defaults(&cfg);
	cfg.backend = GL_BACKEND_REDIS;
	cfg.nredis_sentinels = 1;
	snprintf(cfg.redis_sentinels[0].host, 256, "127.0.0.1");
	cfg.redis_sentinels[0].port = sport;
	snprintf(cfg.redis_master_name, sizeof cfg.redis_master_name, "gl");
	snprintf(cfg.redis_prefix, sizeof cfg.redis_prefix, "ro%d:",
		 (int)getpid());
	st = gl_store_open(&cfg, &err);
	assert_non_null(st);
	if (gl_store_cas(st, "k", 1, NULL, 0, "v", 1, 60, &err) != 1)
		fail_msg("%s", err.msg);
	assert_int_equal(gl_store_redis_master(st, m, sizeof m, via, sizeof via), 0);
	snprintf(want, sizeof want, "%s:%d", host, port);
	assert_string_equal(m, want);
	snprintf(want, sizeof want, "127.0.0.1:%d", sport);
	assert_string_equal(via, want);

	snprintf(cmd, sizeof cmd, "redis-cli -h %s -p %d REPLICAOF 127.0.0.1 1 "
		 ">/dev/null", host, port);
	assert_int_equal(system(cmd), 0);
	assert_int_equal(gl_store_cas(st, "k", 1, "v", 1, "w", 1, 60, &err), -1);
	if (strstr(err.msg, "not a master (ROLE: slave)") == NULL)
		fail_msg("after READONLY: %s", err.msg);
	/* Reads from the replica are refused as well (no master known). */
	assert_int_equal(gl_store_get(st, "k", 1, v, &vl, &err), -1);
	assert_non_null(strstr(err.msg, "unavailable"));

	snprintf(cmd, sizeof cmd, "redis-cli -h %s -p %d REPLICAOF NO ONE "
		 ">/dev/null", host, port);
	assert_int_equal(system(cmd), 0);
	usleep(1100 * 1000); /* the back-off */
	if (gl_store_cas(st, "k", 1, "v", 1, "w", 1, 60, &err) != 1)
		fail_msg("master again: %s", err.msg);
	gl_store_close(st);
	(void)state;
}

/* A GDBM store and a fixed Redis server have no sentinel master. */
static void test_redis_master_none(void **state)
{
	gl_store *st = open_store();
	gl_err err;
	char v[8], m[300] = "x", via[300] = "y";
	size_t vl = sizeof v;

	assert_true(gl_store_get(st, "k", 1, v, &vl, &err) >= 0);
	assert_int_equal(gl_store_redis_master(st, m, sizeof m, via, sizeof via), -1);
	assert_string_equal(m, "x");
	gl_store_close(st);
	(void)state;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_get_cas_scan, setup, teardown),
		cmocka_unit_test_setup_teardown(test_lock_held, setup, teardown),
		cmocka_unit_test_setup_teardown(test_damaged, setup, teardown),
		cmocka_unit_test_setup_teardown(test_gdbm_salted, setup, teardown),
		cmocka_unit_test_setup_teardown(test_gdbm_rekey, setup, teardown),
		cmocka_unit_test_setup_teardown(test_gdbm_salt_unreadable, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_gdbm_rekey_kept, setup_shm,
						teardown_shm),
		cmocka_unit_test_setup_teardown(test_open_config, setup, teardown),
		cmocka_unit_test_setup_teardown(test_batches_and_chunks, setup, teardown),
		cmocka_unit_test_setup_teardown(test_dbwl_concurrent, setup, teardown),
		cmocka_unit_test_setup_teardown(test_redis_master_none, setup, teardown),
		cmocka_unit_test_setup_teardown(test_gdbm_snapshot, setup, teardown),
		cmocka_unit_test_setup_teardown(test_gdbm_kept, setup_shm,
						teardown_shm),
		cmocka_unit_test_setup_teardown(test_gdbm_kept_procs, setup_shm,
						teardown_shm),
	};
	const struct CMUnitTest redis[] = {
		cmocka_unit_test_setup_teardown(test_get_cas_scan, setup, teardown),
		cmocka_unit_test_setup_teardown(test_batches_and_chunks, setup, teardown),
		cmocka_unit_test(test_redis_down),
		cmocka_unit_test_setup_teardown(test_redis_script, setup, teardown),
		cmocka_unit_test_setup_teardown(test_dbwl_concurrent, setup, teardown),
		cmocka_unit_test(test_redis_sentinels_down),
		cmocka_unit_test(test_redis_sentinels_hung),
		cmocka_unit_test_setup_teardown(test_redis_readonly, setup,
						teardown_readonly),
		cmocka_unit_test_setup_teardown(test_redis_master_none, setup, teardown),
	};
	const struct CMUnitTest lmdb[] = {
		cmocka_unit_test_setup_teardown(test_get_cas_scan, setup, teardown),
		cmocka_unit_test_setup_teardown(test_batches_and_chunks, setup, teardown),
		cmocka_unit_test_setup_teardown(test_lmdb_lock_and_snapshot, setup, teardown),
		cmocka_unit_test_setup_teardown(test_lmdb_across_fork, setup, teardown),
		cmocka_unit_test_setup_teardown(test_dbwl_concurrent, setup, teardown),
	};
	int rc = cmocka_run_group_tests_name("store gdbm", tests, NULL, NULL);

	rc += cmocka_run_group_tests_name("store lmdb", lmdb, setup_lmdb, NULL);
	return rc + cmocka_run_group_tests_name("store redis", redis,
						setup_redis, NULL);
}
