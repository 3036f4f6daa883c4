/*
 * admin_check.c - greylist-admin check: everything the module will use,
 * as the Exim user sees it.
 *
 *   check [--json] [--user NAME] [--exim PATH] [--exim-config FILE]
 *         [--no-exim]
 *
 * The Exim user is what Exim says (exim -bP exim_user), else the owner of
 * the database's directory. Run as root, the checks of files run in a
 * child process that has become that user, so permissions are exactly
 * the module's. One line per problem; exit 0 when nothing is wrong, 1
 * otherwise, 2 for a usage error.
 */
#include "admin.h"
#include "../../module/core/psl.h"

#include "../../module/core/counters.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <grp.h>
#include <limits.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>


#define OUT_MAX 4096         /* one line of a command's output */
#define LMDB_FULL_PCT 80     /* LMDB use that is reported as a problem */

typedef struct report {
	json_t *problems, *info;
} report;

static void add(json_t *list, const char *fmt, ...) GL_PRINTF(2, 3);
static void add(json_t *list, const char *fmt, ...)
{
	char buf[3 * PATH_MAX + 512];
	va_list ap;

	va_start(ap, fmt);
	(void)vsnprintf(buf, sizeof buf, fmt, ap);
	va_end(ap);
	json_array_append_new(list, json_string(buf));
}

/*
 * Runs argv (no shell) with stdin from /dev/null and returns the first
 * line of its standard output in out (sz bytes, newline removed), with
 * its exit status in *status. -1 when it could not be run.
 */
static int run_line(char *const argv[], char *out, size_t sz, int *status)
{
	int fd[2], st = 0;
	ssize_t n;
	size_t got = 0;
	char drain[512];
	pid_t pid;

	out[0] = '\0';
	if (pipe(fd) < 0)
		return -1;
	pid = fork();
	if (pid < 0) {
		close(fd[0]);
		close(fd[1]);
		return -1;
	}
	if (pid == 0) {
		int null = open("/dev/null", O_RDWR);

		dup2(fd[1], 1);
		if (null >= 0) {
			dup2(null, 0);
			dup2(null, 2);
		}
		close(fd[0]);
		execv(argv[0], argv);
		_exit(127);
	}
	close(fd[1]);
	while (got + 1 < sz && (n = read(fd[0], out + got, sz - 1 - got)) > 0)
		got += (size_t)n;
	/* The rest is not needed, but read: a closed pipe would kill the
	 * command (SIGPIPE) and make it look as if it failed. */
	while (read(fd[0], drain, sizeof drain) > 0)
		;
	out[got] = '\0';
	out[strcspn(out, "\n")] = '\0';
	close(fd[0]);
	while (waitpid(pid, &st, 0) < 0)
		if (errno != EINTR)
			return -1;
	*status = WIFEXITED(st) ? WEXITSTATUS(st) : 128;
	return 0;
}

/* exim [-C conf] ARGS...: the first line it prints; -1 when not run. */
static int exim(const char *bin, const char *econf, const char *a1,
		const char *a2, const char *a3, char *out, size_t sz)
{
	char *argv[8];
	int n = 0, status;

	argv[n++] = (char *)bin;
	if (econf != NULL) {
		argv[n++] = (char *)"-C";
		argv[n++] = (char *)econf;
	}
	argv[n++] = (char *)a1;
	argv[n++] = (char *)a2;
	if (a3 != NULL)
		argv[n++] = (char *)a3;
	argv[n] = NULL;
	if (run_line(argv, out, sz, &status) < 0)
		return -1;
	return status;
}

/* The Exim user from "exim_user = NAME"; 0 when found. */
static int exim_user(const char *bin, const char *econf, admin_user *u)
{
	char out[OUT_MAX], *v;
	struct passwd *pw;

	if (exim(bin, econf, "-bP", "exim_user", NULL, out, sizeof out) != 0 ||
	    (v = strstr(out, "= ")) == NULL)
		return -1;
	v += 2;
	pw = getpwnam(v);
	if (pw == NULL) {
		char *end;
		unsigned long id = strtoul(v, &end, 10);

		if (*end != '\0' || (pw = getpwuid((uid_t)id)) == NULL)
			return -1;
	}
	admin_user_set(u, pw->pw_uid, pw->pw_gid);
	return 0;
}

/*
 * What Exim's own configuration says: GREYLIST_SO names a module that
 * Exim loads, and GREYLIST_CONF is the file being checked. The module
 * file itself is checked as the Exim user by the child (so_r).
 */
/*
 * The running Exim daemon (its pid file), when greylist-setup-exim4's line
 * has it load the module once: a module file replaced since (an upgrade
 * without a reload) leaves the daemon, and every connection it forks,
 * on the old copy.
 */
#define EXIM_PIDFILE "/run/exim4/exim.pid"
static void check_daemon(report *r, const char *so)
{
	char line[PATH_MAX + 256], path[64];
	size_t n = strlen(so);
	FILE *f;
	long pid = 0;
	int loaded = 0, replaced = 0;

	f = fopen(EXIM_PIDFILE, "r");
	if (f == NULL)
		return;
	if (fscanf(f, "%ld", &pid) != 1)
		pid = 0;
	fclose(f);
	if (pid <= 0)
		return;
	snprintf(path, sizeof path, "/proc/%ld/maps", pid);
	f = fopen(path, "r");
	if (f == NULL)
		return;
	while (fgets(line, sizeof line, f) != NULL) {
		const char *p = strchr(line, '/');

		if (p == NULL || strncmp(p, so, n) != 0)
			continue;
		if (p[n] == '\n')
			loaded = 1;
		else if (!strncmp(p + n, " (deleted)", 10))
			replaced = 1;
	}
	fclose(f);
	if (replaced)
		add(r->problems, "the Exim daemon (pid %ld) runs a copy of %s "
		    "that has been replaced since it loaded it: reload Exim "
		    "(service exim4 reload)", pid, so);
	else if (loaded)
		add(r->info, "the Exim daemon (pid %ld) has %s loaded", pid, so);
}

static void check_exim(report *r, const char *bin, const char *econf,
		       const char *conf, char *so_r, size_t sosz)
{
	char out[OUT_MAX], expr[PATH_MAX + 64], a[PATH_MAX], b[PATH_MAX];
	const char *v;
	int rc;

	so_r[0] = '\0';
	rc = exim(bin, econf, "-bV", NULL, NULL, out, sizeof out);
	if (rc != 0) {
		add(r->problems, "%s -bV%s%s fails: Exim's configuration does "
		    "not load (run it to see why)", bin, econf ? " -C " : "",
		    econf ? econf : "");
		return;
	}
	rc = exim(bin, econf, "-bP", "macro", "GREYLIST_SO", out, sizeof out);
	if (rc != 0 || strncmp(out, "GREYLIST_SO=", 12) != 0) {
		add(r->problems, "Exim's configuration defines no GREYLIST_SO: "
		    "greylisting is not switched on (see README, \"Installing\")");
		return;
	}
	if (gl_copy(so_r, sosz, out + 12) < 0) {
		so_r[0] = '\0';
		add(r->problems, "Exim's GREYLIST_SO is longer than a file name "
		    "can be: %.60s...", out + 12);
		return;
	}
	add(r->info, "Exim's GREYLIST_SO is %s", out + 12);
	rc = exim(bin, econf, "-bP", "macro", "GREYLIST_CONF", out, sizeof out);
	if (rc != 0 || strncmp(out, "GREYLIST_CONF=", 14) != 0) {
		add(r->problems, "Exim's configuration defines GREYLIST_SO but "
		    "no GREYLIST_CONF; define it beside GREYLIST_SO");
	} else {
		v = out + 14;
		if (realpath(v, a) == NULL || realpath(conf, b) == NULL ||
		    strcmp(a, b) != 0)
			add(r->problems, "Exim's GREYLIST_CONF is %s, not the "
			    "file checked here (%s): check that one with "
			    "'greylist-admin -c %s check'", v, conf, v);
	}
	if (access(so_r, F_OK) < 0) {
		add(r->problems, "GREYLIST_SO names %s, which does not exist: "
		    "Exim skips greylisting (install the module there, or "
		    "correct the macro)", so_r);
		return;
	}
	snprintf(expr, sizeof expr, "${dlfunc{%s}{greylist_version}}", so_r);
	rc = exim(bin, econf, "-be", expr, NULL, out, sizeof out);
	if (rc != 0 || strncmp(out, "exim-greylist ", 14) != 0)
		add(r->problems, "Exim cannot load %s as a greylist module "
		    "(try: %s -be '%s')", so_r, bin, expr);
	else if (strcmp(out + 14, GL_VERSION) != 0)
		add(r->problems, "%s is exim-greylist %s, greylist-admin is %s: "
		    "install both from one release", so_r, out + 14,
		    GL_VERSION);
	else
		add(r->info, "Exim loads %s (%s)", so_r, out);
	if (econf == NULL)
		check_daemon(r, so_r);
}

/* The database's directory and files, as u. */
static void check_files(report *r, const gl_config *cfg,
			const admin_user *u)
{
	char dir[PATH_MAX], files[4][PATH_MAX], msg[3 * PATH_MAX];
	struct stat st;
	int i, n;

	admin_db_dir(cfg, dir, sizeof dir);
	if (dir[0] == '\0')
		return;
	if (stat(dir, &st) < 0) {
		add(r->problems, "%s (the database's directory): %s; create it: "
		    "install -d -o %s -g %s -m 0750 '%s'", dir, strerror(errno),
		    u->name, u->group, dir);
		return;
	}
	if (access(dir, W_OK | X_OK) < 0) {
		admin_user o;

		admin_user_set(&o, st.st_uid, st.st_gid);
		add(r->problems, "%s (the database's directory) belongs to "
		    "%s:%s with mode %04o, so %s cannot create files in it; "
		    "mend it with: chown %s:%s '%s'", dir, o.name, o.group,
		    (unsigned)(st.st_mode & 07777), u->name, u->name, u->group,
		    dir);
	}
	n = admin_db_files(cfg, files, 4);
	for (i = 0; i < n; i++)
		if (admin_file_unusable(files[i], u, msg, sizeof msg) ||
		    (access(files[i], F_OK) == 0 &&
		     access(files[i], R_OK | W_OK) < 0 &&
		     snprintf(msg, sizeof msg, "%s: %s", files[i],
			      strerror(errno)) > 0))
			add(r->problems, "%s", msg);
	if (cfg->backend != GL_BACKEND_REDIS && cfg->snapshot[0]) {
		char sdir[PATH_MAX];

		admin_dir_of(cfg->snapshot, sdir, sizeof sdir);
		if (access(sdir, W_OK | X_OK) < 0)
			add(r->problems, "%s (snapshot's directory): %s "
			    "cannot write there: %s", sdir, u->name,
			    strerror(errno));
	}
}

/* The counters file (counters.h), as u: the module counts nothing
 * when it cannot create or write it, and says so in the main log. */
static void check_counters(report *r, const gl_config *cfg,
			   const admin_user *u)
{
	char path[PATH_MAX], dir[PATH_MAX], msg[3 * PATH_MAX];
	gl_counters_data d;
	struct stat st;
	gl_err err;

	if (gl_counters_path(cfg, path, sizeof path) != 0)
		return;
	admin_dir_of(path, dir, sizeof dir);
	if (admin_file_unusable(path, u, msg, sizeof msg))
		add(r->problems, "%s (decisions are not counted)", msg);
	else if (access(path, F_OK) < 0 && access(dir, W_OK | X_OK) < 0)
		add(r->problems, "%s (the counters file's directory): %s cannot "
		    "create the counters file there: %s (decisions are not "
		    "counted; set 'counters' or 'counters = none')", dir,
		    u->name, strerror(errno));
	else if (stat(path, &st) == 0 && (!S_ISREG(st.st_mode) ||
					  st.st_size > GL_COUNTERS_FOREIGN_MAX))
		add(r->problems, "%s is not a counters file and is left alone "
		    "(decisions are not counted): remove it or set another "
		    "'counters' file", path);
	else if (gl_counters_read(path, &d, &err) < 0)
		add(r->info, "%s", err.msg);
	else
		add(r->info, "counters file %s usable", path);
}

/* What each sentinel says; master: the one the store reached, or "". */
static void check_sentinels(report *r, const gl_config *cfg,
			    const char *master)
{
	char addr[300];
	gl_err err;
	int i, rc;

	for (i = 0; i < cfg->nredis_sentinels; i++) {
		const gl_hostport *hp = &cfg->redis_sentinels[i];
		char name[300];

		snprintf(name, sizeof name, strchr(hp->host, ':') ? "[%s]:%d" :
			 "%s:%d", hp->host, hp->port);
		rc = gl_redis_sentinel_ask(cfg, i, addr, sizeof addr, &err);
		if (rc < 0)
			add(r->problems, "%s", err.msg);
		else if (rc == 0)
			add(r->problems, "redis sentinel %s knows no master "
			    "'%s' (see redis_master_name, and 'sentinel "
			    "monitor' in its configuration)", name,
			    cfg->redis_master_name);
		else if (master[0] && strcmp(addr, master) != 0)
			add(r->problems, "redis sentinel %s names %s as master "
			    "'%s', but the master that answers is %s (a "
			    "failover under way, or sentinels that disagree)",
			    name, addr, cfg->redis_master_name, master);
		else
			add(r->info, "sentinel %s: master '%s' at %s", name,
			    cfg->redis_master_name, addr);
	}
}

/* One read through the store, as the module makes it. */
static void check_store(report *r, const gl_config *cfg)
{
	int keys;
	unsigned char val[GL_VALUE_MAX];
	size_t vlen = sizeof val;
	char master[300] = "", via[300] = "";
	gl_store *st;
	gl_err err;

	if (cfg->backend != GL_BACKEND_REDIS &&
	    access(cfg->database, F_OK) < 0) {
		if (cfg->snapshot[0] && access(cfg->snapshot, R_OK) == 0)
			add(r->info, "%s does not exist: the first RCPT "
			    "restores it from the snapshot %s", cfg->database,
			    cfg->snapshot);
		else
			add(r->info, "%s does not exist yet: the module "
			    "creates it at the first RCPT", cfg->database);
		return;
	}
	if (cfg->backend == GL_BACKEND_REDIS && cfg->redis_password_file[0] &&
	    access(cfg->redis_password_file, R_OK) < 0) {
		add(r->problems, "%s (redis_password_file): %s",
		    cfg->redis_password_file, strerror(errno));
		return;
	}
	if (cfg->backend == GL_BACKEND_REDIS &&
	    cfg->redis_sentinel_password_file[0] &&
	    access(cfg->redis_sentinel_password_file, R_OK) < 0) {
		add(r->problems, "%s (redis_sentinel_password_file): %s",
		    cfg->redis_sentinel_password_file, strerror(errno));
		return;
	}
	st = gl_store_open(cfg, &err);
	if (st == NULL || gl_store_get(st, "V", 1, val, &vlen, &err) < 0) {
		add(r->problems, "the database cannot be used: %s", err.msg);
		gl_store_close(st);
		if (cfg->backend == GL_BACKEND_REDIS)
			check_sentinels(r, cfg, "");
		return;
	}
	if (gl_store_redis_master(st, master, sizeof master, via,
				  sizeof via) < 0)
		master[0] = '\0';
	gl_store_close(st);
	if (cfg->backend == GL_BACKEND_REDIS && master[0]) {
		add(r->info, "Redis master '%s' at %s (named by sentinel %s) "
		    "answers (prefix %s, database %d%s%s)",
		    cfg->redis_master_name, master, via, cfg->redis_prefix,
		    cfg->redis_db, cfg->redis_user[0] ? ", user " : "",
		    cfg->redis_user);
		check_sentinels(r, cfg, master);
	} else if (cfg->backend == GL_BACKEND_REDIS) {
		add(r->info, "Redis at %s answers (prefix %s, database %d%s%s)",
		    cfg->redis, cfg->redis_prefix, cfg->redis_db,
		    cfg->redis_user[0] ? ", user " : "", cfg->redis_user);
	} else if (cfg->backend == GL_BACKEND_LMDB) {
		uint64_t used, size;

		if (gl_lmdb_usage(cfg, &used, &size, &err) < 0)
			add(r->problems, "%s", err.msg);
		else if (used * 100 >= size * LMDB_FULL_PCT)
			add(r->problems, "%s is %llu%% full (lmdb_mapsize = %ld): "
			    "raise lmdb_mapsize or run 'greylist-admin purge'",
			    cfg->database,
			    (unsigned long long)(used * 100 / size),
			    cfg->lmdb_mapsize_mb);
		else
			add(r->info, "%s is usable, %llu%% of lmdb_mapsize in "
			    "use", cfg->database,
			    (unsigned long long)(used * 100 / size));
	} else if ((keys = gl_gdbm_keys(cfg->database, cfg->lock_timeout_ms,
					admin_pair_valid, (void *)cfg, &err)) ==
		   GL_GDBM_KEYS_PLAIN) {
		add(r->problems, "%s has the plain keys of exim-greylist "
		    "0.1: senders can make keys that GDBM's hash cannot tell "
		    "apart, which slow every lookup and can fill a bucket; "
		    "run 'greylist-admin rekey' at a quiet hour (it holds "
		    "the lock about 2.5 s per 200,000 records)", cfg->database);
	} else if (keys == GL_GDBM_KEYS_DAMAGED) {
		add(r->problems, "%s: its salt is damaged or lost, or a "
		    "record cannot be read, so the module cannot find its "
		    "records: run 'greylist-admin recover'", cfg->database);
	} else {
		add(r->info, "%s is usable", cfg->database);
	}
}

/* With match_pools, whether host names can key on their pools: libpsl
 * and Debian's list load, as the Exim user, and know a public suffix
 * of two labels. */
static void check_psl(report *r)
{
	const char *reg = NULL;
	gl_err err;

	if (gl_psl_registered("mail.example.co.uk", &reg, &err) < 0)
		add(r->problems, "%s: verified host names key on the subnet "
		    "(match_pools)", err.msg);
	else if (reg == NULL || strcmp(reg, "example.co.uk") != 0)
		add(r->problems, "the public suffix list does not know co.uk: "
		    "host names may key on too short a pool");
	else
		add(r->info, "public suffix list: loaded (host names key no "
		    "shorter than their registered domain)");
}

/* Everything that depends on who reads it; runs as the Exim user. */
static void check_as_user(report *r, const char *conf, const char *so,
			  const admin_user *u)
{
	gl_config cfg;
	gl_err err;
	size_t i;
	unsigned entries = 0;
	const struct gl_wl_entry *e;

	if (so[0] && access(so, R_OK) < 0)
		add(r->problems, "%s (GREYLIST_SO): %s cannot read it: %s", so,
		    u->name, strerror(errno));
	if (gl_config_load(conf, &cfg, &err) < 0 && cfg.errors.n == 0) {
		add(r->problems, "%s", err.msg);
		gl_config_free(&cfg);
		return;
	}
	for (i = 0; i < cfg.errors.n; i++)
		add(r->problems, "%s", cfg.errors.msg[i]);
	for (i = 0; i < cfg.warnings.n; i++)
		add(r->problems, "%s", cfg.warnings.msg[i]);
	if (cfg.errors.dropped + cfg.warnings.dropped > 0)
		add(r->problems, "%zu more problems not shown",
		    cfg.errors.dropped + cfg.warnings.dropped);
	if (cfg.errors.n == 0)
		add(r->info, "%s: configuration is valid", conf);
	for (e = cfg.whitelist ? cfg.whitelist->head : NULL; e; e = e->next)
		entries++;
	add(r->info, "%d whitelist files, %u entries in force",
	    cfg.nwhitelist_files, entries);
	if (cfg.match_pools)
		check_psl(r);
	check_files(r, &cfg, u);
	check_counters(r, &cfg, u);
	check_store(r, &cfg);
	gl_config_free(&cfg);
}

/* Runs check_as_user() in a child that has become u (when root) and
 * copies its findings into r. */
static void check_in_child(report *r, const char *conf, const char *so,
			   const admin_user *u)
{
	int fd[2], st;
	pid_t pid;
	json_t *got;
	json_error_t je;
	FILE *in;

	if (pipe(fd) < 0 || (pid = fork()) < 0) {
		add(r->problems, "cannot start the check: %s", strerror(errno));
		return;
	}
	if (pid == 0) {
		report cr = { json_array(), json_array() };
		FILE *out;

		close(fd[0]);
		if (getuid() == 0 && u->uid != 0 &&
		    (setgroups(0, NULL) < 0 || initgroups(u->name, u->gid) < 0 ||
		     setgid(u->gid) < 0 || setuid(u->uid) < 0)) {
			add(cr.problems, "cannot become %s: %s", u->name,
			    strerror(errno));
		} else {
			check_as_user(&cr, conf, so, u);
		}
		out = fdopen(fd[1], "w");
		if (out == NULL)
			_exit(1);
		json_dumpf(json_pack("{s:o, s:o}", "problems", cr.problems,
				     "info", cr.info), out, JSON_COMPACT);
		fclose(out);
		_exit(0);
	}
	close(fd[1]);
	in = fdopen(fd[0], "r");
	got = in ? json_loadf(in, 0, &je) : NULL;
	if (in != NULL)
		fclose(in);
	while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
		;
	if (got == NULL) {
		add(r->problems, "the check as %s ended without a result",
		    u->name);
		return;
	}
	json_array_extend(r->problems, json_object_get(got, "problems"));
	json_array_extend(r->info, json_object_get(got, "info"));
	json_decref(got);
}

int cmd_check(admin *a, int argc, char **argv)
{
	const char *conf = a->conf;
	static const struct option lo[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "user", required_argument, NULL, 'u' },
		{ "exim", required_argument, NULL, 'e' },
		{ "exim-config", required_argument, NULL, 'C' },
		{ "no-exim", no_argument, NULL, 'n' },
		{ NULL, 0, NULL, 0 }
	};
	const char *bin = EXIM_BIN, *econf = NULL, *user = NULL;
	char so[PATH_MAX] = "";
	int ch, json = 0, use_exim = 1, have_user = 0;
	report r = { json_array(), json_array() };
	admin_user u;
	size_t i, np;

	optind = 0;
	while ((ch = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		switch (ch) {
		case 'j': json = 1; break;
		case 'u': user = optarg; break;
		case 'e': bin = optarg; break;
		case 'C': econf = optarg; break;
		case 'n': use_exim = 0; break;
		default: return 2;
		}
	}
	if (optind != argc) {
		fprintf(stderr, "greylist-admin: check takes no arguments\n");
		return 2;
	}
	if (user != NULL) {
		struct passwd *pw = getpwnam(user);

		if (pw == NULL) {
			fprintf(stderr, "greylist-admin: no user '%s'\n", user);
			return 2;
		}
		admin_user_set(&u, pw->pw_uid, pw->pw_gid);
		have_user = 1;
	}
	if (use_exim && access(bin, X_OK) < 0) {
		add(r.info, "no Exim at %s: Exim's configuration not checked",
		    bin);
		use_exim = 0;
	}
	if (use_exim) {
		if (!have_user && exim_user(bin, econf, &u) == 0)
			have_user = 1;
		check_exim(&r, bin, econf, conf, so, sizeof so);
	}
	if (!have_user) {
		gl_config cfg;
		gl_err err;
		char dir[PATH_MAX];
		struct stat st;

		/* Errors are the child's to report; the database's
		 * directory is known whenever that key parsed. */
		if (gl_config_load(conf, &cfg, &err) < 0 &&
		    cfg.errors.n == 0) {
			gl_config_free(&cfg);
			gl_config_defaults(&cfg);
		}
		admin_db_dir(&cfg, dir, sizeof dir);
		gl_config_free(&cfg);
		if (dir[0] && stat(dir, &st) == 0)
			admin_user_set(&u, st.st_uid, st.st_gid);
		else
			admin_user_set(&u, getuid(), getgid());
	}
	if (getuid() != 0 && u.uid != getuid())
		add(r.info, "checked as %s, not as the Exim user %s: run as "
		    "root to see what the module sees", getpwuid(getuid()) ?
		    getpwuid(getuid())->pw_name : "this user", u.name);
	check_in_child(&r, conf, so, &u);
	np = json_array_size(r.problems);
	if (json) {
		json_t *o = json_pack("{s:b, s:s, s:s, s:O, s:O}", "ok", np == 0,
				      "config", conf, "exim_user", u.name,
				      "problems", r.problems, "info", r.info);

		json_dumpf(o, stdout, JSON_COMPACT);
		putchar('\n');
		json_decref(o);
	} else {
		for (i = 0; i < np; i++)
			printf("problem: %s\n",
			       json_string_value(json_array_get(r.problems, i)));
		for (i = 0; i < json_array_size(r.info); i++)
			printf("info: %s\n",
			       json_string_value(json_array_get(r.info, i)));
		if (np == 0)
			printf("everything the module uses is usable (as %s)\n",
			       u.name);
		else
			printf("%zu problem%s (as %s)\n", np, np == 1 ? "" : "s",
			       u.name);
	}
	json_decref(r.problems);
	json_decref(r.info);
	return np == 0 ? 0 : 1;
}
