/* test_counters.c - the decision counters file (counters.h). */
#include "unit.h"

#include <sys/stat.h>
#include <sys/wait.h>

#include "../../module/core/config.h"
#include "../../module/core/counters.h"
#include "../../module/core/decide.h"

/* Each decision moves exactly its slot (and a pass its bucket). */
static void test_count(void **state)
{
	static const struct {
		enum gl_verdict verdict;
		const char *reason;
		gl_time delay;         /* a pass: passed_at - first_seen */
		int slot;              /* -1: nothing counted */
		int bucket;
	} t[] = {
		{ GL_DEFER, "new", 0, GL_CNT_NREASONS + GL_CNT_NEW, -1 },
		{ GL_DEFER, "early", 0, GL_CNT_NREASONS + GL_CNT_EARLY, -1 },
		{ GL_DEFER, "restart", 0, GL_CNT_NREASONS + GL_CNT_RESTART, -1 },
		{ GL_DEFER, "error", 0, GL_CNT_NREASONS + GL_CNT_ERROR, -1 },
		{ GL_ACCEPT, "error", 0, GL_CNT_ERROR, -1 },
		{ GL_ACCEPT, "known", 0, GL_CNT_KNOWN, -1 },
		{ GL_ACCEPT, "whitelist", 0, GL_CNT_WHITELIST, -1 },
		{ GL_ACCEPT, "auto", 0, GL_CNT_AUTO, -1 },
		{ GL_ACCEPT, "pass", 1, GL_CNT_PASS, 0 },
		{ GL_ACCEPT, "pass", 60, GL_CNT_PASS, 0 },
		{ GL_ACCEPT, "pass", 61, GL_CNT_PASS, 1 },
		{ GL_ACCEPT, "pass", 312, GL_CNT_PASS, 3 },
		{ GL_ACCEPT, "pass", 86400, GL_CNT_PASS, 11 },
		{ GL_ACCEPT, "pass", 86401, GL_CNT_PASS, 12 },
		{ GL_ACCEPT, "bogus", 0, -1, -1 },
		{ GL_ACCEPT, NULL, 0, -1, -1 },
	};
	char dir[256], path[300];
	gl_counters_data before, after;
	gl_counters *c;
	gl_result res;
	gl_err err;
	size_t i;
	int s;

	unit_tmpdir(dir, sizeof dir);
	snprintf(path, sizeof path, "%s/c", dir);
	c = gl_counters_open(path, 1000, &err);
	assert_non_null(c);
	for (i = 0; i < N_ELEMS(t); i++) {
		assert_int_equal(gl_counters_read(path, &before, &err), 0);
		assert_int_equal(before.created, 1000);
		memset(&res, 0, sizeof res);
		res.verdict = t[i].verdict;
		res.reason = t[i].reason;
		res.rec.first_seen = 5000;
		res.rec.passed_at = 5000 + t[i].delay;
		gl_counters_count(c, &res);
		assert_int_equal(gl_counters_read(path, &after, &err), 0);
		for (s = 0; s < GL_CNT_SLOTS; s++) {
			uint64_t want = before.slot[s];

			if (s == t[i].slot)
				want++;
			if (t[i].bucket >= 0 &&
			    s == GL_SLOT_DELAY_BUCKET + t[i].bucket)
				want++;
			if (t[i].bucket >= 0 && s == GL_SLOT_DELAY_SUM)
				want += (uint64_t)t[i].delay;
			if (after.slot[s] != want)
				fail_msg("case %zu: slot %d is %llu, want %llu",
					 i, s, (unsigned long long)after.slot[s],
					 (unsigned long long)want);
		}
	}
	gl_counters_count(NULL, &res);             /* NULL: nothing */
	gl_counters_set_purge(c, 123456);
	assert_int_equal(gl_counters_read(path, &after, &err), 0);
	assert_int_equal(after.slot[GL_SLOT_LAST_PURGE], 123456);
	gl_counters_close(c);
	/* Opened again, the counts are still there. */
	c = gl_counters_open(path, 2000, &err);
	assert_non_null(c);
	assert_int_equal(gl_counters_read(path, &before, &err), 0);
	assert_int_equal(before.created, 1000);
	assert_int_equal(before.slot[GL_CNT_PASS], 6);
	gl_counters_close(c);
	unit_rmdir(dir);
	(void)state;
}

/* Damaged files are replaced with fresh ones; foreign ones left alone. */
static void test_damaged(void **state)
{
	static const struct {
		const char *what;
		size_t len;           /* bytes written */
		int patch;            /* byte changed in a valid file, -1 none */
		int replaced;         /* 1: replaced, 0: open fails */
	} t[] = {
		{ "empty", 0, -1, 1 },
		{ "short", 40, -1, 1 },
		{ "one byte short", GL_COUNTERS_SIZE - 1, -1, 1 },
		{ "one byte long", GL_COUNTERS_SIZE + 1, -1, 1 },
		{ "bad magic", GL_COUNTERS_SIZE, 0, 1 },
		{ "version", GL_COUNTERS_SIZE, 7, 1 },
		{ "slot count", GL_COUNTERS_SIZE, 8, 1 },
		{ "reserved", GL_COUNTERS_SIZE, 13, 1 },
		{ "foreign (large)", GL_COUNTERS_FOREIGN_MAX + 1, -1, 0 },
	};
	char dir[256], path[300];
	unsigned char *b = calloc(1, GL_COUNTERS_FOREIGN_MAX + 2);
	gl_counters_data d;
	gl_counters *c;
	gl_result res;
	struct stat sb;
	gl_err err;
	size_t i;
	FILE *fp;

	assert_non_null(b);
	unit_tmpdir(dir, sizeof dir);
	snprintf(path, sizeof path, "%s/c", dir);
	/* A valid file's bytes, to damage. */
	c = gl_counters_open(path, 77, &err);
	assert_non_null(c);
	gl_counters_close(c);
	fp = fopen(path, "rb");
	assert_non_null(fp);
	assert_int_equal(fread(b, 1, GL_COUNTERS_SIZE, fp), GL_COUNTERS_SIZE);
	fclose(fp);
	memset(&res, 0, sizeof res);
	res.verdict = GL_DEFER;
	res.reason = "new";
	for (i = 0; i < N_ELEMS(t); i++) {
		unsigned char saved = 0;

		if (t[i].patch >= 0) {
			saved = b[t[i].patch];
			b[t[i].patch] ^= 0x5a;
		}
		fp = fopen(path, "wb");
		assert_non_null(fp);
		assert_int_equal(fwrite(b, 1, t[i].len, fp), t[i].len);
		fclose(fp);
		if (t[i].patch >= 0)
			b[t[i].patch] = saved;
		assert_int_equal(gl_counters_read(path, &d, &err), -1);
		c = gl_counters_open(path, 500 + (gl_time)i, &err);
		if (!t[i].replaced) {
			if (c != NULL)
				fail_msg("%s: opened", t[i].what);
			assert_int_equal(stat(path, &sb), 0);
			assert_int_equal(sb.st_size, t[i].len);
			continue;
		}
		if (c == NULL)
			fail_msg("%s: not replaced: %s", t[i].what, err.msg);
		gl_counters_count(c, &res);
		gl_counters_close(c);
		assert_int_equal(gl_counters_read(path, &d, &err), 0);
		assert_int_equal(d.created, 500 + (gl_time)i);
		assert_int_equal(d.slot[gl_cnt_decision_slot(1, GL_CNT_NEW)], 1);
	}
	/* Missing: read says so (1); a directory in its place is refused. */
	unlink(path);
	assert_int_equal(gl_counters_read(path, &d, &err), 1);
	assert_int_equal(mkdir(path, 0755), 0);
	assert_null(gl_counters_open(path, 1, &err));
	rmdir(path);
	/* A directory that does not exist: an error, not a crash. */
	snprintf(path, sizeof path, "%s/missing/c", dir);
	assert_null(gl_counters_open(path, 1, &err));
	assert_non_null(strstr(err.msg, "missing"));
	free(b);
	unit_rmdir(dir);
	(void)state;
}

/* Processes counting at once lose no increment. */
static void test_concurrent(void **state)
{
	enum { PROCS = 6, EACH = 20000 };
	char dir[256], path[300];
	gl_counters_data d;
	gl_result res;
	gl_err err;
	pid_t pid[PROCS];
	int i, j, st;

	unit_tmpdir(dir, sizeof dir);
	snprintf(path, sizeof path, "%s/c", dir);
	memset(&res, 0, sizeof res);
	res.verdict = GL_ACCEPT;
	res.reason = "pass";
	res.rec.first_seen = 100;
	res.rec.passed_at = 400;
	for (i = 0; i < PROCS; i++) {
		pid[i] = fork();
		assert_true(pid[i] >= 0);
		if (pid[i] == 0) {
			/* each opens it itself, as Exim's processes do */
			gl_counters *c = gl_counters_open(path, 9, &err);

			if (c == NULL)
				_exit(1);
			for (j = 0; j < EACH; j++)
				gl_counters_count(c, &res);
			gl_counters_close(c);
			_exit(0);
		}
	}
	for (i = 0; i < PROCS; i++) {
		assert_int_equal(waitpid(pid[i], &st, 0), pid[i]);
		assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	}
	assert_int_equal(gl_counters_read(path, &d, &err), 0);
	assert_int_equal(d.slot[GL_CNT_PASS], PROCS * EACH);
	assert_int_equal(d.slot[GL_SLOT_DELAY_BUCKET + 2], PROCS * EACH);
	assert_int_equal(d.slot[GL_SLOT_DELAY_SUM], 300ULL * PROCS * EACH);
	unit_rmdir(dir);
	(void)state;
}

/* Where the file is by default, and counters = none. */
static void test_path(void **state)
{
	static const struct {
		const char *database, *snapshot, *counters, *want;
		int rc;
	} t[] = {
		{ "/var/spool/exim4/db/greylist.gdbm", "", "",
		  "/var/spool/exim4/db/greylist.counters", 0 },
		{ "/run/exim4/greylist.gdbm", "/var/spool/exim4/db/greylist.gdbm",
		  "", "/var/spool/exim4/db/greylist.counters", 0 },
		{ "/run/exim4/greylist.lmdb", "/srv/snap/gl.snap", "",
		  "/srv/snap/greylist.counters", 0 },
		{ "/run/exim4/greylist.gdbm", "", "/var/lib/gl/c",
		  "/var/lib/gl/c", 0 },
		{ "/run/exim4/greylist.gdbm", "", "none", "", 1 },
	};
	gl_config cfg;
	char out[PATH_MAX];
	size_t i;

	for (i = 0; i < N_ELEMS(t); i++) {
		gl_config_defaults(&cfg);
		snprintf(cfg.database, sizeof cfg.database, "%s", t[i].database);
		snprintf(cfg.snapshot, sizeof cfg.snapshot, "%s", t[i].snapshot);
		snprintf(cfg.counters, sizeof cfg.counters, "%s", t[i].counters);
		assert_int_equal(gl_counters_path(&cfg, out, sizeof out), t[i].rc);
		if (t[i].rc == 0)
			assert_string_equal(out, t[i].want);
	}
	gl_config_defaults(&cfg);
	assert_int_equal(gl_counters_path(&cfg, out, 10), -1);
	(void)state;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_count),
		cmocka_unit_test(test_damaged),
		cmocka_unit_test(test_concurrent),
		cmocka_unit_test(test_path),
	};
	return cmocka_run_group_tests_name("counters", tests, NULL, NULL);
}
