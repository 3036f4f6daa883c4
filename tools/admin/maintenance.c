/* maintenance.c - greylist-admin purge, recover and snapshot: what cron
 * runs, and repairs. The rules are the core's (purge.h). */
#include "admin.h"

#include <string.h>
#include <unistd.h>

#include "../../module/core/counters.h"

static void print_removed(void *arg, const gl_pair *p)
{
	(void)arg;
	if (p->kind == GL_KEY_TRIPLET)
		printf("removed %s %s %s -> %s\n", gl_state_name(p->r.state),
		       p->t.client, p->t.sender, p->t.rcpt);
}

static void print_wl_removed(void *arg, const gl_wl_entry *e)
{
	(void)arg;
	printf("removed expired whitelist entry %s\n", e->entry);
}

/* Notes the purge in the counters file for metrics, when the module
 * has made one (a file this tool created could belong to the wrong
 * user with Redis, where it does not act as the database's owner). */
static void note_purge(const gl_config *cfg, gl_time now)
{
	char path[PATH_MAX];
	gl_counters_data d;
	gl_counters *c;
	gl_err err;

	if (gl_counters_path(cfg, path, sizeof path) != 0 ||
	    gl_counters_read(path, &d, &err) != 0)
		return;
	if ((c = gl_counters_open(path, now, &err)) == NULL) {
		fprintf(stderr, "%s: warning: counters: %s\n", progname, err.msg);
		return;
	}
	gl_counters_set_purge(c, now);
	gl_counters_close(c);
}

int cmd_purge(admin *a, int argc, char **argv)
{
	gl_purge_report rep;
	gl_err err;
	int verbose = 0;

	if (argc == 2 && !strcmp(argv[1], "-v"))
		verbose = 1;
	else if (argc != 1)
		usage();
	if (gl_purge(a->st, a->cfg, now_s(), verbose ? print_removed : NULL,
		     verbose ? print_wl_removed : NULL, NULL, &rep, &err) < 0)
		die_err(&err);
	note_purge(a->cfg, now_s());
	printf("purged %zu expired triplets (%zu pending, %zu passed), %zu "
	       "client records, %zu whitelist entries",
	       rep.pending + rep.passed, rep.pending, rep.passed, rep.clients,
	       rep.whitelist);
	if (rep.kept > 0)
		printf("; %zu changed while purging and were kept", rep.kept);
	printf("\n");
	if (rep.unreadable > 0)
		fprintf(stderr, "%s: %zu records could not be read (see "
			"'recover')\n", progname, rep.unreadable);
	return 0;
}

int admin_pair_valid(void *arg, const void *k, size_t kl, const void *v,
		     size_t vl)
{
	return gl_pair_valid(arg, k, kl, v, vl);
}

/* How long recover waits for the module's writers to let go. */
#define RECOVER_LOCK_MS 5000

int cmd_recover(admin *a, int argc, char **argv)
{
	const gl_config *cfg = a->cfg;
	gl_recover_report rep;
	gl_err err;

	(void)argv;
	if (argc != 1)
		usage();
	if (cfg->backend != GL_BACKEND_GDBM)
		die("recover works on the gdbm backend only");
	if (gl_gdbm_recover(cfg->database, RECOVER_LOCK_MS, admin_pair_valid,
			    (void *)cfg, &rep, &err) < 0)
		die_err(&err);
	if (rep.kept == 0 && rep.lost == 1 && rep.backup[0])
		printf("recovered %s: its header was unreadable, so it starts "
		       "empty; the old file is %s\n", cfg->database, rep.backup);
	else
		printf("recovered %s: kept %zu records, lost %zu%s%s%s%s\n",
		       cfg->database, rep.kept, rep.lost,
		       rep.lost_buckets ? " and the records of buckets that "
		       "could not be read" : "",
		       rep.backup[0] ? "; the old file is " : "", rep.backup,
		       rep.rekeyed ? "; its salt was lost: rewritten with a "
		       "new one" : "");
	return 0;
}

/* rekey: gives the GDBM file a new salt (store.h), and the snapshot the
 * new file, so that a restore does not bring the old one back. */
int cmd_rekey(admin *a, int argc, char **argv)
{
	static const char *const was[] = {
		[GL_GDBM_KEYS_SALTED] = "salted keys",
		[GL_GDBM_KEYS_PLAIN] = "plain keys",
		[GL_GDBM_KEYS_DAMAGED] = "a damaged salt",
	};
	const gl_config *cfg = a->cfg;
	gl_rekey_report rep;
	gl_err err;

	(void)argv;
	if (argc != 1)
		usage();
	if (cfg->backend != GL_BACKEND_GDBM)
		die("rekey works on the gdbm backend only");
	if (gl_gdbm_rekey(cfg->database, RECOVER_LOCK_MS, admin_pair_valid,
			  (void *)cfg, &rep, &err) < 0)
		die_err(&err);
	if (rep.was == GL_GDBM_KEYS_EMPTY) {
		if (cfg->snapshot[0] != '\0' && access(cfg->snapshot, F_OK) == 0)
			printf("no database at %s: the first RCPT restores it "
			       "from %s; run 'greylist-admin check' after that\n",
			       cfg->database, cfg->snapshot);
		else
			printf("no database at %s: the module salts it when it "
			       "makes it\n", cfg->database);
		return 0;
	}
	printf("rekeyed %s (it had %s): kept %zu records, dropped %zu that "
	       "do not decode\n", cfg->database, was[rep.was], rep.kept,
	       rep.dropped);
	if (cfg->snapshot[0] != '\0') {
		if (gl_gdbm_snapshot(cfg, &err) < 0) {
			fprintf(stderr, "%s: %s is rekeyed, but its snapshot "
				"could not be written: %s; run 'greylist-admin "
				"snapshot'\n", progname, cfg->database, err.msg);
			return 1;
		}
		printf("snapshot of %s written to %s\n", cfg->database,
		       cfg->snapshot);
	}
	return 0;
}

/* Writes the snapshot; rc as gl_gdbm_snapshot() (0, 1 no database, -1). */
static int snapshot(const gl_config *cfg, gl_err *err)
{
	return cfg->backend == GL_BACKEND_LMDB ? gl_lmdb_snapshot(cfg, err) :
	       gl_gdbm_snapshot(cfg, err);
}

/*
 * snapshot [--if-configured]: with --if-configured (the cron job and the
 * timer) a configuration without a snapshot, or with Redis, is nothing
 * to do rather than an error.
 */
int cmd_snapshot(admin *a, int argc, char **argv)
{
	const gl_config *cfg = a->cfg;
	int rc, optional = 0;
	gl_err err;

	if (argc == 2 && !strcmp(argv[1], "--if-configured"))
		optional = 1;
	else if (argc != 1)
		usage();
	if (optional && (cfg->backend == GL_BACKEND_REDIS ||
			 cfg->snapshot[0] == '\0'))
		return 0;
	if (cfg->backend == GL_BACKEND_REDIS)
		die("snapshot is for backend = gdbm or lmdb (Redis keeps its "
		    "own)");
	rc = snapshot(cfg, &err);
	if (rc < 0)
		die_err(&err);
	if (rc == 1)
		printf("no database at %s yet: snapshot %s left as it was\n",
		       cfg->database, cfg->snapshot);
	else
		printf("snapshot of %s written to %s\n", cfg->database,
		       cfg->snapshot);
	return 0;
}

void admin_save(admin *a)
{
	const gl_config *cfg = a->cfg;
	gl_err err;

	if (cfg->backend == GL_BACKEND_REDIS || cfg->snapshot[0] == '\0')
		return;
	/* The snapshot opens the database itself (LMDB: one environment
	 * per process): the command's handle is done with. */
	gl_store_close(a->st);
	a->st = NULL;
	if (snapshot(cfg, &err) < 0)
		fprintf(stderr, "%s: warning: the change is made, but it is not "
			"on disk yet: %s (the next snapshot job saves it; or run "
			"'%s snapshot')\n", progname, err.msg, progname);
}
