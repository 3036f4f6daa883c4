/* test_config.c - configuration parsing, defaults and error messages. */
#include "unit.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/wait.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "../../module/core/config.h"
#include "../../module/core/parse.h"
#include "../../module/core/whitelist.h"

static char dir[256];

static int setup(void **state)
{
	(void)state;
	unit_tmpdir(dir, sizeof dir);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	unit_rmdir(dir);
	return 0;
}

static void test_defaults(void **state)
{
	gl_config c;
	char path[512];
	gl_err err;

	unit_write(dir, "empty.conf", "# nothing\n\n", path, sizeof path);
	assert_int_equal(gl_config_load(path, &c, &err), 0);
	assert_string_equal(c.database, "/var/spool/exim4/db/greylist.gdbm");
	assert_int_equal(c.delay, 300);
	assert_int_equal(c.retry_window, 2 * 86400);
	assert_int_equal(c.pass_lifetime, 36 * 86400);
	assert_int_equal(c.ipv4_prefix, 24);
	assert_int_equal(c.ipv6_prefix, 64);
	assert_int_equal(c.on_error, GL_ON_ERROR_ACCEPT);
	assert_int_equal(c.sender_normalize, 1);
	assert_int_equal(c.match_pools, 1);
	assert_int_equal(c.auto_whitelist_clients, 5);
	assert_int_equal(c.log, GL_LOG_DEFER);
	assert_int_equal(c.backend, GL_BACKEND_GDBM);
	assert_string_equal(c.redis, "127.0.0.1:6379");
	assert_string_equal(c.redis_prefix, "greylist:");
	assert_int_equal(c.redis_timeout_ms, 200);
	assert_int_equal(c.lock_timeout_ms, 200);
	assert_int_equal(c.nredis_sentinels, 0);
	assert_string_equal(c.redis_master_name, "");
	assert_string_equal(c.redis_user, "");
	assert_null(c.whitelist);
	gl_config_free(&c);
	(void)state;
}

static void test_every_key(void **state)
{
	gl_config c;
	char path[512], wl[512], text[2048];
	gl_err err;

	unit_write(dir, "wl", "192.0.2.1\n", wl, sizeof wl);
	snprintf(text, sizeof text,
		 "database = /tmp/x.gdbm   # trailing comment\n"
		 "delay=90s\n retry_window = 3h\n\tpass_lifetime = 2w\n"
		 "ipv4_prefix = 32\nipv6_prefix = 48\nwhitelist = %s\n"
		 "on_error = defer\nsender_normalize = no\nmatch_pools = off\n"
		 "auto_whitelist_clients = 0\nlog = all\nbackend = redis\n"
		 "redis = /run/redis.sock\nredis_prefix = gl:\n"
		 "redis_timeout = 150ms\nlock_timeout = 1s\n", wl);
	unit_write(dir, "all.conf", text, path, sizeof path);
	assert_int_equal(gl_config_load(path, &c, &err), 0);
	assert_string_equal(c.database, "/tmp/x.gdbm");
	assert_int_equal(c.delay, 90);
	assert_int_equal(c.retry_window, 3 * 3600);
	assert_int_equal(c.pass_lifetime, 14 * 86400);
	assert_int_equal(c.ipv4_prefix, 32);
	assert_int_equal(c.ipv6_prefix, 48);
	assert_int_equal(c.on_error, GL_ON_ERROR_DEFER);
	assert_int_equal(c.sender_normalize, 0);
	assert_int_equal(c.match_pools, 0);
	assert_int_equal(c.auto_whitelist_clients, 0);
	assert_int_equal(c.log, GL_LOG_ALL);
	assert_int_equal(c.backend, GL_BACKEND_REDIS);
	assert_string_equal(c.redis, "/run/redis.sock");
	assert_string_equal(c.redis_prefix, "gl:");
	assert_int_equal(c.redis_timeout_ms, 150);
	assert_int_equal(c.lock_timeout_ms, 1000);
	assert_non_null(c.whitelist);
	assert_non_null(c.whitelist->head);
	assert_string_equal(c.whitelist->head->entry, "192.0.2.1");
	gl_config_free(&c);
	(void)state;
}

static void test_durations(void **state)
{
	static const struct {
		const char *in;
		int allow_ms;
		int rc;
		int64_t ms;
	} t[] = {
		{ "0", 0, 0, 0 },          { "1", 0, 0, 1000 },
		{ "45s", 0, 0, 45000 },    { "5m", 0, 0, 300000 },
		{ "2h", 0, 0, 7200000 },   { "36d", 0, 0, 36LL * 86400000 },
		{ "1w", 0, 0, 604800000 }, { "200ms", 1, 0, 200 },
		{ "200ms", 0, -1, 0 },     { "", 0, -1, 0 },
		{ "-5", 0, -1, 0 },        { "5x", 0, -1, 0 },
		{ "m", 0, -1, 0 },         { " 5", 0, -1, 0 },
		{ "5 m", 0, -1, 0 },       { "1.5h", 0, -1, 0 },
		{ "99999999999999999999", 0, -1, 0 },
		{ "600w", 0, -1, 0 },      { "520w", 0, 0, 520LL * 604800000 },
	};
	size_t i;
	int64_t ms;

	for (i = 0; i < N_ELEMS(t); i++) {
		ms = -7;
		assert_int_equal(gl_parse_duration(t[i].in, t[i].allow_ms, &ms),
				 t[i].rc);
		if (t[i].rc == 0)
			assert_int_equal(ms, t[i].ms);
		else
			assert_int_equal(ms, -7);
	}
	(void)state;
}

/* Each bad file gives an error naming the file, the line and the key. */
static void test_errors(void **state)
{
	static const struct {
		const char *text;
		const char *want; /* after "PATH:" */
	} t[] = {
		{ "delay = 5m\nfrobnicate = 1\n", "2: unknown key 'frobnicate'" },
		{ "delay = soon\n", "1: key 'delay': bad value 'soon'" },
		{ "delay = 0\n", "1: key 'delay': bad value '0'" },
		{ "\n\nipv4_prefix = 33\n", "3: key 'ipv4_prefix': bad value '33'" },
		{ "ipv6_prefix = 129\n", "1: key 'ipv6_prefix': bad value '129'" },
		{ "ipv4_prefix = -1\n", "1: key 'ipv4_prefix': bad value '-1'" },
		{ "on_error = maybe\n", "1: key 'on_error': bad value 'maybe'" },
		{ "delay 5m\n", "1: 'delay 5m': not a \"key = value\" line" },
		{ "delay =\n", "1: key 'delay': empty value" },
		{ "= 5\n", "1: a line with no key before '='" },
		{ "log = loud\n", "1: key 'log': bad value 'loud'" },
		{ "backend = mysql\n", "1: key 'backend': bad value 'mysql'" },
		{ "database = relative.gdbm\n", "1: key 'database': bad value" },
		{ "redis_timeout = 20s\n", "1: key 'redis_timeout': bad value" },
		{ "match_pools = perhaps\n", "1: key 'match_pools': bad value" },
		{ "auto_whitelist_clients = x\n",
		  "1: key 'auto_whitelist_clients': bad value 'x'" },
	};
	char path[512], want[1024];
	gl_config c;
	gl_err err;
	size_t i;

	for (i = 0; i < N_ELEMS(t); i++) {
		unit_write(dir, "bad.conf", t[i].text, path, sizeof path);
		memset(&err, 0, sizeof err);
		assert_int_equal(gl_config_load(path, &c, &err), -1);
		snprintf(want, sizeof want, "%s:%s", path, t[i].want);
		if (strncmp(err.msg, want, strlen(want)) != 0)
			fail_msg("case %zu: got \"%s\", want prefix \"%s\"", i,
				 err.msg, want);
		assert_int_equal(c.errors.n, 1);
		assert_string_equal(c.errors.msg[0], err.msg);
		assert_null(c.whitelist);
		gl_config_free(&c);
	}
	(void)state;
}

static void test_missing_files(void **state)
{
	char path[512], text[600];
	gl_config c;
	gl_err err;

	snprintf(path, sizeof path, "%s/nonexistent.conf", dir);
	assert_int_equal(gl_config_load(path, &c, &err), -1);
	assert_non_null(strstr(err.msg, path));
	assert_non_null(strstr(err.msg, "No such file"));

	gl_config_free(&c);

	/* A missing whitelist file costs its entries, not greylisting. */
	snprintf(text, sizeof text, "whitelist = %s/nope\n", dir);
	unit_write(dir, "wl.conf", text, path, sizeof path);
	assert_int_equal(gl_config_load(path, &c, &err), 0);
	assert_int_equal(c.warnings.n, 1);
	assert_non_null(strstr(c.warnings.msg[0], "/nope: cannot open whitelist"));
	gl_config_free(&c);
	assert_int_equal(c.warnings.n, 0);

	unit_write(dir, "w.conf", "delay = 1h\nretry_window = 30m\n", path,
		   sizeof path);
	assert_int_equal(gl_config_load(path, &c, &err), -1);
	assert_non_null(strstr(err.msg, "retry_window"));
	gl_config_free(&c);
	(void)state;
}

/* Files that are not regular files: refused at once, never read (a FIFO
 * would block the reader until a writer came; /dev/zero never ends). */
static void test_not_regular_files(void **state)
{
	char fifo[512], path[512], text[1200];
	gl_config c;
	gl_err err;

	snprintf(fifo, sizeof fifo, "%s/fifo", dir);
	assert_int_equal(mkfifo(fifo, 0600), 0);
	assert_int_equal(gl_config_load(fifo, &c, &err), -1);
	assert_non_null(strstr(err.msg, "not a regular file"));
	gl_config_free(&c);
	assert_int_equal(gl_config_load("/dev/zero", &c, &err), -1);
	assert_non_null(strstr(err.msg, "not a regular file"));
	gl_config_free(&c);
	snprintf(text, sizeof text, "whitelist = %s\nwhitelist = /dev/zero\n"
		 "whitelist_clients = %s\n", fifo, fifo);
	unit_write(dir, "nr.conf", text, path, sizeof path);
	assert_int_equal(gl_config_load(path, &c, &err), 0);
	assert_int_equal(c.warnings.n, 3);
	assert_non_null(strstr(c.warnings.msg[0], "not a regular file"));
	assert_non_null(strstr(c.warnings.msg[1], "/dev/zero: cannot open whitelist: not a regular file"));
	assert_non_null(strstr(c.warnings.msg[2], "not a regular file"));
	gl_config_free(&c);
	(void)state;
}

static void test_bad_whitelist_line(void **state)
{
	char path[512], wl[512], text[600];
	gl_config c;
	gl_err err;

	unit_write(dir, "badwl", "192.0.2.1\n\n# c\nnot an entry!\n"
		   "example.com\n", wl, sizeof wl);
	snprintf(text, sizeof text, "whitelist = %s\n", wl);
	unit_write(dir, "c.conf", text, path, sizeof path);
	/* The bad line is skipped and noted; the rest stays in force. */
	assert_int_equal(gl_config_load(path, &c, &err), 0);
	assert_int_equal(c.warnings.n, 1);
	snprintf(text, sizeof text, "%s:4: ", wl);
	assert_memory_equal(c.warnings.msg[0], text, strlen(text));
	assert_non_null(strstr(c.warnings.msg[0], "line skipped"));
	assert_non_null(c.whitelist);
	assert_string_equal(c.whitelist->head->entry, "192.0.2.1");
	assert_string_equal(c.whitelist->head->next->entry, "example.com");
	assert_null(c.whitelist->head->next->next);
	gl_config_free(&c);
	(void)state;
}

/* Every error of a file is named, not only the first. */
static void test_every_error(void **state)
{
	char path[512];
	gl_config c;
	gl_err err;

	unit_write(dir, "many.conf", "delay = 5 minutes\nlog = all\n"
		   "frob = 1\non_error = maybe\n", path, sizeof path);
	assert_int_equal(gl_config_load(path, &c, &err), -1);
	assert_int_equal(c.errors.n, 3);
	assert_non_null(strstr(c.errors.msg[0], ":1: key 'delay'"));
	assert_non_null(strstr(c.errors.msg[1], ":3: unknown key 'frob'"));
	assert_non_null(strstr(c.errors.msg[2], ":4: key 'on_error'"));
	assert_string_equal(err.msg, c.errors.msg[0]);
	assert_int_equal(c.log, GL_LOG_ALL); /* the good lines were read */
	gl_config_free(&c);
	(void)state;
}

/* redis_sentinels: the list, as the module and greylist-admin read it. */
static void test_hostports(void **state)
{
	static const struct {
		const char *in;
		int n;           /* -1: refused */
		const char *host0, *hostlast;
		int port0, portlast;
	} t[] = {
		{ "127.0.0.1:26379", 1, "127.0.0.1", "127.0.0.1", 26379, 26379 },
		{ "a:1, b:2,c:3", 3, "a", "c", 1, 3 },
		{ " s1.example:26379 ,\ts2.example:26380 ", 2, "s1.example",
		  "s2.example", 26379, 26380 },
		{ "[::1]:26379, [2001:db8::5]:1", 2, "::1", "2001:db8::5",
		  26379, 1 },
		{ "a:65535", 1, "a", "a", 65535, 65535 },
		{ "a:1,b:2,c:3,d:4,e:5,f:6,g:7,h:8", 8, "a", "h", 1, 8 },
		{ "a:1,b:2,c:3,d:4,e:5,f:6,g:7,h:8,i:9", -1, NULL, NULL, 0, 0 },
		{ "", -1, NULL, NULL, 0, 0 },
		{ "host", -1, NULL, NULL, 0, 0 },
		{ "host:", -1, NULL, NULL, 0, 0 },
		{ ":26379", -1, NULL, NULL, 0, 0 },
		{ "a:0", -1, NULL, NULL, 0, 0 },
		{ "a:65536", -1, NULL, NULL, 0, 0 },
		{ "a:-1", -1, NULL, NULL, 0, 0 },
		{ "a:1x", -1, NULL, NULL, 0, 0 },
		{ "a:1,", -1, NULL, NULL, 0, 0 },
		{ "a:1,,b:2", -1, NULL, NULL, 0, 0 },
		{ "a:1 b:2", -1, NULL, NULL, 0, 0 },
		{ "::1:26379", -1, NULL, NULL, 0, 0 },
		{ "[::1]26379", -1, NULL, NULL, 0, 0 },
		{ "[::1:26379", -1, NULL, NULL, 0, 0 },
		{ "[]:1", -1, NULL, NULL, 0, 0 },
		{ "a:99999999999999999999", -1, NULL, NULL, 0, 0 },
	};
	gl_hostport hp[GL_MAX_SENTINELS];
	size_t i;
	int n;

	for (i = 0; i < N_ELEMS(t); i++) {
		int rc = gl_parse_hostports(t[i].in, hp, GL_MAX_SENTINELS, &n);

		if (rc != (t[i].n < 0 ? -1 : 0))
			fail_msg("case %zu '%s': got %d", i, t[i].in, rc);
		if (rc < 0)
			continue;
		assert_int_equal(n, t[i].n);
		assert_string_equal(hp[0].host, t[i].host0);
		assert_int_equal(hp[0].port, t[i].port0);
		assert_string_equal(hp[n - 1].host, t[i].hostlast);
		assert_int_equal(hp[n - 1].port, t[i].portlast);
	}
	(void)state;
}

/* The Sentinel and ACL keys, and the keys they need beside them. */
static void test_redis_keys(void **state)
{
	static const struct {
		const char *text;
		const char *want; /* NULL: loads; else after "PATH" */
	} t[] = {
		{ "redis_sentinels = 10.0.0.1:26379, 10.0.0.2:26379\n"
		  "redis_master_name = mymaster\n", NULL },
		{ "redis_user = greylist\nredis_password_file = /etc/pw\n", NULL },
		{ "redis_sentinels = 10.0.0.1\nredis_master_name = m\n",
		  ":1: key 'redis_sentinels': bad value '10.0.0.1': want HOST:PORT" },
		{ "redis_sentinels = 10.0.0.1:26379\n",
		  ": key 'redis_sentinels': set redis_master_name too" },
		{ "redis_master_name = mymaster\n",
		  ": key 'redis_master_name': set redis_sentinels too" },
		{ "redis_master_name = my master\nredis_sentinels = a:1\n",
		  ":1: key 'redis_master_name': bad value 'my master'" },
		{ "redis_user = greylist\n",
		  ": key 'redis_user': set redis_password_file too" },
		{ "redis_user = a b\nredis_password_file = /etc/pw\n",
		  ":1: key 'redis_user': bad value 'a b'" },
		{ "redis_sentinel_password_file = pw\n",
		  ":1: key 'redis_sentinel_password_file': bad value 'pw'" },
	};
	char path[512], want[1024];
	gl_config c;
	gl_err err;
	size_t i;

	for (i = 0; i < N_ELEMS(t); i++) {
		unit_write(dir, "redis.conf", t[i].text, path, sizeof path);
		memset(&err, 0, sizeof err);
		if (t[i].want == NULL) {
			if (gl_config_load(path, &c, &err) != 0)
				fail_msg("case %zu: %s", i, err.msg);
			gl_config_free(&c);
			continue;
		}
		assert_int_equal(gl_config_load(path, &c, &err), -1);
		snprintf(want, sizeof want, "%s%s", path, t[i].want);
		if (strncmp(err.msg, want, strlen(want)) != 0)
			fail_msg("case %zu: got \"%s\", want prefix \"%s\"", i,
				 err.msg, want);
		gl_config_free(&c);
	}
	unit_write(dir, "redis.conf", "redis_sentinels = a:1, [::1]:2\n"
		   "redis_sentinels = s1:26379,s2:26380\n"
		   "redis_master_name = gl-master\n"
		   "redis_sentinel_password_file = /etc/exim4/s.pw\n"
		   "redis_user = gl\nredis_password_file = /etc/exim4/r.pw\n",
		   path, sizeof path);
	assert_int_equal(gl_config_load(path, &c, &err), 0);
	assert_int_equal(c.nredis_sentinels, 2); /* the last line counts */
	assert_string_equal(c.redis_sentinels[1].host, "s2");
	assert_int_equal(c.redis_sentinels[1].port, 26380);
	assert_string_equal(c.redis_master_name, "gl-master");
	assert_string_equal(c.redis_sentinel_password_file, "/etc/exim4/s.pw");
	assert_string_equal(c.redis_user, "gl");
	gl_config_free(&c);
	(void)state;
}

static void test_long_line(void **state)
{
	char path[512], *text = malloc(9000);
	gl_config c;
	gl_err err;

	memset(text, 'a', 8998);
	text[8998] = '\n';
	text[8999] = '\0';
	unit_write(dir, "long.conf", text, path, sizeof path);
	free(text);
	assert_int_equal(gl_config_load(path, &c, &err), -1);
	assert_non_null(strstr(err.msg, ":1: line longer than"));
	gl_config_free(&c);
	(void)state;
}

/* gl_dir_of: the directory a database, snapshot or lock file lies in. */
static void test_dir_of(void **state)
{
	static const struct { const char *path, *dir; size_t sz; int rc; } t[] = {
		{ "/run/exim4/greylist.gdbm", "/run/exim4", 64, 0 },
		{ "/greylist.gdbm", "/", 64, 0 },
		{ "greylist.gdbm", ".", 64, 0 },
		{ "db/greylist.gdbm", "db", 64, 0 },
		{ "/run/exim4/greylist.gdbm", NULL, 10, -1 }, /* "/run/exim4" + NUL */
		{ "/run/exim4/greylist.gdbm", "/run/exim4", 11, 0 },
	};
	char out[64];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof t / sizeof *t; i++) {
		assert_int_equal(gl_dir_of(t[i].path, out, t[i].sz), t[i].rc);
		if (t[i].rc == 0)
			assert_string_equal(out, t[i].dir);
	}
}

/* Sets path's modification (and so change) time: old = an hour ago. */
static void age(const char *path)
{
	struct timespec t[2];

	clock_gettime(CLOCK_REALTIME, &t[0]);
	t[0].tv_sec -= 3600;
	t[1] = t[0];
	assert_int_equal(utimensat(AT_FDCWD, path, t, 0), 0);
}

/* Writes configuration k (two whitelists, the second missing) and its
 * one whitelist, all changed long ago except for their change time. */
static void files_setup(int k, char *conf, char *wl, char *wl2)
{
	char text[1024], name[32];

	snprintf(name, sizeof name, "cur-wl-%d", k);
	unit_write(dir, name, "rcpt:postmaster@example.org\n", wl, 512);
	snprintf(wl2, 512, "%s/cur-wl-missing-%d", dir, k);
	unlink(wl2);
	snprintf(text, sizeof text, "whitelist = %s\nwhitelist = %s\n", wl,
		 wl2);
	snprintf(name, sizeof name, "cur-%d.conf", k);
	unit_write(dir, name, text, conf, 512);
	age(conf);
	age(wl);
}

/*
 * gl_files_current(): what a process that inherited a loaded
 * configuration (the Exim daemon's) checks before it uses it. Each change
 * a postmaster or a package can make to the files must make it 0; the
 * untouched files 1 (once settled: a file changed within GL_SETTLE_SECS
 * is never trusted, as a later edit in the same clock tick would leave
 * the same times). On Linux every one of these changes the change time;
 * device, inode, size and modification time are compared as well for
 * file systems whose change time is coarser or not kept on rename.
 */
static void test_files_current(void **state)
{
	static const struct {
		const char *what;
		int change;   /* 0 none, see the switch */
		int want;
	} cases[] = {
		{ "untouched", 0, 1 },
		{ "the configuration rewritten, same size", 1, 0 },
		{ "the whitelist appended to", 2, 0 },
		{ "the whitelist replaced by rename, old times kept", 3, 0 },
		{ "the whitelist removed", 4, 0 },
		{ "the missing whitelist created", 5, 0 },
		{ "the configuration's mode changed (ctime)", 6, 0 },
		{ "the whitelist's times set back after an edit", 7, 0 },
		{ "the configuration replaced by a directory's entry", 8, 0 },
	};
	enum { N = sizeof cases / sizeof cases[0] };
	char conf[N][512], wl[N][512], wl2[N][512], tmp[600];
	size_t i;

	(void)state;
	for (i = 0; i < N; i++)
		files_setup((int)i, conf[i], wl[i], wl2[i]);
	/* ctime cannot be set back: let them all settle */
	sleep(GL_SETTLE_SECS);
	for (i = 0; i < N; i++) {
		const char *cf = conf[i], *w = wl[i];
		struct stat st;
		struct timespec t[2];
		gl_config c;
		gl_err err;
		FILE *fp;

		assert_int_equal(gl_config_load(cf, &c, &err), 0);
		assert_int_equal(c.files.n, 3);
		assert_true(c.files.settled);
		switch (cases[i].change) {
		case 1:
			fp = fopen(cf, "r+");
			assert_non_null(fp);
			fputs("w", fp); /* "whitelist" stays "whitelist" */
			fclose(fp);
			age(cf);
			break;
		case 2:
			fp = fopen(w, "a");
			assert_non_null(fp);
			fputs("rcpt:abuse@example.org\n", fp);
			fclose(fp);
			break;
		case 3:
			unit_write(dir, "cur-w.new",
				   "rcpt:postmaster@example.org\n", tmp,
				   sizeof tmp);
			assert_int_equal(stat(w, &st), 0);
			t[0] = st.st_atim;
			t[1] = st.st_mtim;
			assert_int_equal(utimensat(AT_FDCWD, tmp, t, 0), 0);
			assert_int_equal(rename(tmp, w), 0);
			break;
		case 4:
			assert_int_equal(unlink(w), 0);
			break;
		case 5:
			fp = fopen(wl2[i], "w");
			assert_non_null(fp);
			fclose(fp);
			break;
		case 6:
			assert_int_equal(chmod(cf, 0600), 0);
			break;
		case 7:
			assert_int_equal(stat(w, &st), 0);
			fp = fopen(w, "r+");
			assert_non_null(fp);
			fputs("r", fp);
			fclose(fp);
			t[0] = st.st_atim;
			t[1] = st.st_mtim;
			assert_int_equal(utimensat(AT_FDCWD, w, t, 0), 0);
			break;
		case 8:
			assert_int_equal(unlink(cf), 0);
			assert_int_equal(mkdir(cf, 0700), 0);
			break;
		}
		if (gl_files_current(&c.files) != cases[i].want)
			fail_msg("%s: want %d", cases[i].what, cases[i].want);
		gl_config_free(&c);
		assert_int_equal(gl_files_current(&c.files), 0);
		if (cases[i].change == 8)
			assert_int_equal(rmdir(cf), 0);
	}
}

/* A file changed within GL_SETTLE_SECS of the load is never trusted, and
 * a configuration that did not load is never current. */
static void test_files_unsettled(void **state)
{
	char conf[512], wl[512], wl2[512], text[600];
	gl_config c;
	gl_err err;

	(void)state;
	files_setup(100, conf, wl, wl2);
	unit_write(dir, "cur-wl-100", "rcpt:abuse@example.org\n", wl,
		   sizeof wl);
	assert_int_equal(gl_config_load(conf, &c, &err), 0);
	assert_false(c.files.settled);
	assert_int_equal(gl_files_current(&c.files), 0);
	gl_config_free(&c);

	snprintf(text, sizeof text, "delay = soon\n");
	unit_write(dir, "cur-100.conf", text, conf, sizeof conf);
	age(conf);
	sleep(GL_SETTLE_SECS);
	assert_int_equal(gl_config_load(conf, &c, &err), -1);
	assert_int_equal(gl_files_current(&c.files), 0);
	gl_config_free(&c);
}

/*
 * What does not change stays current, whatever it is: a whitelist that
 * cannot be looked at for the same reason (a symbolic link loop), a
 * file whose modification time is in the future (only the change time
 * decides whether it settled). A reason that changes is a change.
 */
static void test_files_stable(void **state)
{
	char conf[512], loop[512], fut[512], text[1200];
	struct timespec t[2];
	gl_config c;
	gl_err err;

	(void)state;
	snprintf(loop, sizeof loop, "%s/stable-loop", dir);
	unlink(loop);
	assert_int_equal(symlink(loop, loop), 0);
	unit_write(dir, "stable-future", "rcpt:a@example.org\n", fut,
		   sizeof fut);
	clock_gettime(CLOCK_REALTIME, &t[0]);
	t[0].tv_sec += 86400;
	t[1] = t[0];
	assert_int_equal(utimensat(AT_FDCWD, fut, t, 0), 0);
	snprintf(text, sizeof text, "whitelist = %s\nwhitelist = %s\n", loop,
		 fut);
	unit_write(dir, "stable.conf", text, conf, sizeof conf);
	sleep(GL_SETTLE_SECS);
	assert_int_equal(gl_config_load(conf, &c, &err), 0);
	assert_int_equal(c.files.f[1].present, 0);
	assert_int_equal(c.files.f[1].err, ELOOP);
	assert_true(c.files.settled);
	assert_int_equal(gl_files_current(&c.files), 1);
	assert_int_equal(gl_files_current(&c.files), 1);
	/* ELOOP becomes ENOENT */
	assert_int_equal(unlink(loop), 0);
	assert_int_equal(gl_files_current(&c.files), 0);
	gl_config_free(&c);
}

/*
 * The Exim daemon reads the files as root; its connection processes run
 * as the Exim user. A file that user cannot read is not current for it,
 * so it reads the file itself and logs why, as it would without the
 * daemon. Checked as root in a child that becomes nobody.
 */
static void test_files_access(void **state)
{
	char conf[512], wl[512], text[1200];
	gl_config c;
	gl_err err;
	pid_t pid;
	int st;

	(void)state;
	if (geteuid() != 0)
		skip(); /* counted as skipped by cmocka, never as passed */
	assert_int_equal(chmod(dir, 0755), 0);
	unit_write(dir, "access-wl", "rcpt:a@example.org\n", wl, sizeof wl);
	snprintf(text, sizeof text, "whitelist = %s\n", wl);
	unit_write(dir, "access.conf", text, conf, sizeof conf);
	assert_int_equal(chmod(conf, 0644), 0);
	assert_int_equal(chmod(wl, 0600), 0);
	sleep(GL_SETTLE_SECS);
	assert_int_equal(gl_config_load(conf, &c, &err), 0);
	assert_int_equal(gl_files_current(&c.files), 1); /* root reads it */
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		int cur;

		if (setgid(65534) != 0 || setuid(65534) != 0)
			_exit(3);
		cur = gl_files_current(&c.files);
		_exit(cur == 0 ? 0 : 1);
	}
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_true(WIFEXITED(st));
	assert_int_equal(WEXITSTATUS(st), 0);
	gl_config_free(&c);
}

/* The daemon reads only files on a local file system: /proc is not one
 * it knows, the test directory (ext4 or tmpfs) and /dev/shm are. */
static void test_files_local(void **state)
{
	char conf[512], text[1200];
	gl_config c;
	gl_err err;

	(void)state;
	unit_write(dir, "local.conf", "delay = 1m\n", conf, sizeof conf);
	assert_int_equal(gl_config_load(conf, &c, &err), 0);
	assert_int_equal(gl_files_local(&c.files), 1);
	gl_config_free(&c);
	assert_int_equal(gl_files_local(&c.files), 0); /* freed: nothing */
	snprintf(text, sizeof text, "whitelist = /proc/self/status\n");
	unit_write(dir, "remote.conf", text, conf, sizeof conf);
	assert_int_equal(gl_config_load(conf, &c, &err), 0);
	assert_int_equal(gl_files_local(&c.files), 0);
	gl_config_free(&c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_every_key),
		cmocka_unit_test(test_durations),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_missing_files),
		cmocka_unit_test(test_not_regular_files),
		cmocka_unit_test(test_bad_whitelist_line),
		cmocka_unit_test(test_every_error),
		cmocka_unit_test(test_long_line),
		cmocka_unit_test(test_hostports),
		cmocka_unit_test(test_redis_keys),
		cmocka_unit_test(test_dir_of),
		cmocka_unit_test(test_files_current),
		cmocka_unit_test(test_files_unsettled),
		cmocka_unit_test(test_files_stable),
		cmocka_unit_test(test_files_access),
		cmocka_unit_test(test_files_local),
	};
	return cmocka_run_group_tests_name("config", tests, setup, teardown);
}
