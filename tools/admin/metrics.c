/*
 * metrics.c - greylist-admin metrics: the Prometheus text exposition
 * format (version 0.0.4), for node_exporter's textfile collector.
 *
 * Counters come from the module's counters file (counters.h): what the
 * module answered since the file was created. Gauges come from a scan of
 * the store (triplets by state, clients, the last 24 hours, window.h)
 * and from the configuration (whitelist files). With --output FILE the
 * text goes to a temporary file beside FILE that is renamed over it, so
 * a reader never sees half of it. When the store cannot be read, the
 * counters are still written, with exim_greylist_database_up 0, and the
 * command exits 1.
 */
#include "admin.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/fsuid.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../../module/core/counters.h"
#include "../../module/core/stuck.h"
#include "../../module/core/window.h"

#define WINDOW_SECS 86400

typedef struct scan_ctx {
	const gl_config *cfg;
	gl_time now;
	admin_tally n;
	gl_window day;
	gl_stuck *stuck;     /* senders that never get through */
} scan_ctx;

static int scan_one(void *arg, const void *key, size_t klen, const void *val,
		    size_t vlen)
{
	scan_ctx *sc = arg;
	gl_pair p;
	if (!admin_tally_pair(&sc->n, sc->cfg, sc->now, key, klen, val, vlen,
			      &p))
		return 0;
	if (gl_window_add(&sc->day, &p.r) < 0 ||
	    gl_stuck_add(sc->stuck, &p.t, &p.r) < 0)
		die("out of memory");
	return 0;
}

/* One metric's HELP and TYPE lines. */
static void head(FILE *o, const char *name, const char *type, const char *help)
{
	fprintf(o, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static void gauge(FILE *o, const char *name, const char *help, double v)
{
	head(o, name, "gauge", help);
	fprintf(o, "%s %.17g\n", name, v);
}

static void counters_out(FILE *o, const gl_counters_data *d)
{
	static const char *const verdict[2] = { "accept", "defer" };
	uint64_t cum = 0;
	int v, r, b;

	head(o, "exim_greylist_decisions_total", "counter",
	     "Decisions the module answered, by verdict and reason, since "
	     "the counters file was created.");
	for (r = 0; r < GL_CNT_NREASONS; r++)
		for (v = 0; v < 2; v++)
			if (gl_cnt_reason_verdicts(r) & (1 << v))
				fprintf(o, "exim_greylist_decisions_total{verdict="
					"\"%s\",reason=\"%s\"} %llu\n", verdict[v],
					gl_cnt_reason_name(r), (unsigned long long)
					d->slot[gl_cnt_decision_slot(v, r)]);
	head(o, "exim_greylist_pass_delay_seconds", "histogram",
	     "How long each triplet that passed was held, from its first "
	     "attempt to the retry that passed.");
	for (b = 0; b < GL_CNT_NBUCKETS; b++) {
		cum += d->slot[GL_SLOT_DELAY_BUCKET + b];
		if (gl_cnt_bucket_le[b] < 0)
			fprintf(o, "exim_greylist_pass_delay_seconds_bucket"
				"{le=\"+Inf\"} %llu\n", (unsigned long long)cum);
		else
			fprintf(o, "exim_greylist_pass_delay_seconds_bucket"
				"{le=\"%lld\"} %llu\n",
				(long long)gl_cnt_bucket_le[b],
				(unsigned long long)cum);
	}
	fprintf(o, "exim_greylist_pass_delay_seconds_sum %llu\n"
		"exim_greylist_pass_delay_seconds_count %llu\n",
		(unsigned long long)d->slot[GL_SLOT_DELAY_SUM],
		(unsigned long long)cum);
	gauge(o, "exim_greylist_counters_created_timestamp_seconds",
	      "When the counters file was created (Unix time; 0: no file yet).",
	      (double)d->created);
	gauge(o, "exim_greylist_last_purge_timestamp_seconds",
	      "When greylist-admin purge last ran (Unix time; 0: not since "
	      "the counters file was created).",
	      (double)d->slot[GL_SLOT_LAST_PURGE]);
}

static void store_out(FILE *o, const admin *a, scan_ctx *sc,
		      const gl_whitelist *dbwl)
{
	const gl_config *cfg = a->cfg;
	struct stat sb;

	head(o, "exim_greylist_triplets", "gauge",
	     "Triplets stored, by state.");
	fprintf(o, "exim_greylist_triplets{state=\"pending\"} %lu\n"
		"exim_greylist_triplets{state=\"passed\"} %lu\n", sc->n.pending,
		sc->n.passed);
	head(o, "exim_greylist_whitelist_entries", "gauge",
	     "Whitelist entries, in whitelist files and in the database.");
	fprintf(o, "exim_greylist_whitelist_entries{source=\"file\"} %u\n"
		"exim_greylist_whitelist_entries{source=\"database\"} %u\n",
		count_entries(cfg->whitelist), count_entries(dbwl));
	gauge(o, "exim_greylist_clients", "Clients (subnets or pools) that "
	      "passed mail within pass_lifetime.", (double)sc->n.clients);
	gauge(o, "exim_greylist_auto_whitelisted_clients", "Clients let "
	      "through without greylisting (auto_whitelist_clients).",
	      (double)sc->n.auto_clients);
	head(o, "exim_greylist_window_first_contacts", "gauge",
	     "Triplets whose first attempt was in the window.");
	fprintf(o, "exim_greylist_window_first_contacts{window=\"24h\"} %lu\n",
		sc->day.first_contacts);
	head(o, "exim_greylist_window_never_retried", "gauge",
	     "Of the window's first contacts, those never tried again (the "
	     "youngest may still be).");
	fprintf(o, "exim_greylist_window_never_retried{window=\"24h\"} %lu\n",
		sc->day.never_retried);
	head(o, "exim_greylist_window_passes", "gauge",
	     "Triplets that passed in the window.");
	fprintf(o, "exim_greylist_window_passes{window=\"24h\"} %lu\n",
		sc->day.passes);
	gauge(o, "exim_greylist_stuck_senders", "Sender domains whose "
	      "retries never pass because each comes with a new key "
	      "(greylist-admin stuck names them).",
	      (double)gl_stuck_domains(sc->stuck));
	gauge(o, "exim_greylist_unreadable_records", "Stored records that "
	      "do not decode (greylist-admin recover).", (double)sc->n.bad);
	if (cfg->backend != GL_BACKEND_REDIS && stat(cfg->database, &sb) == 0)
		gauge(o, "exim_greylist_database_size_bytes", "Disk space the "
		      "database file takes.", (double)sb.st_blocks * 512);
}

/* The whole text into o; 0, or -1 when the store could not be read (its
 * figures are then left out and exim_greylist_database_up is 0). */
static int write_all(FILE *o, admin *a, gl_err *err)
{
	static const char *const backend[] = { "gdbm", "redis", "lmdb" };
	const gl_config *cfg = a->cfg;
	char path[PATH_MAX];
	gl_counters_data d;
	gl_whitelist *dbwl = NULL;
	scan_ctx sc;
	gl_err cerr;
	int up;

	memset(&sc, 0, sizeof sc);
	sc.cfg = cfg;
	sc.now = now_s();
	gl_window_init(&sc.day, sc.now - WINDOW_SECS, sc.now);
	sc.stuck = gl_stuck_new(cfg, sc.now - cfg->retry_window, sc.now);
	if (sc.stuck == NULL)
		die("out of memory");
	up = a->st != NULL && gl_store_scan(a->st, scan_one, &sc, err) == 0;
	if (up) {
		const gl_whitelist *wl[2];

		dbwl = load_dbwl(cfg, a->st);
		wl[0] = cfg->whitelist;
		wl[1] = dbwl;
		if (gl_stuck_finish(sc.stuck, wl, 2) < 0)
			die("out of memory");
	}

	head(o, "exim_greylist_info", "gauge", "The release and backend; "
	     "always 1.");
	fprintf(o, "exim_greylist_info{version=\"%s\",backend=\"%s\"} 1\n",
		GL_VERSION, backend[cfg->backend]);
	if (gl_counters_path(cfg, path, sizeof path) == 0) {
		if (gl_counters_read(path, &d, &cerr) < 0)
			fprintf(stderr, "%s: warning: %s\n", progname, cerr.msg);
		else
			counters_out(o, &d);
	}
	gauge(o, "exim_greylist_database_up", "1 when the database could "
	      "be read for these figures, else 0.", up);
	if (up)
		store_out(o, a, &sc, dbwl);
	gl_whitelist_free(dbwl);
	gl_window_free(&sc.day);
	gl_stuck_free(sc.stuck);
	return up ? 0 : -1;
}

/* Writes into a new file beside path and renames it over path. */
static int write_file(const char *path, admin *a, gl_err *err)
{
	char tmp[PATH_MAX];
	FILE *o;
	int fd, rc, n, e;

	/* Run as root, the tool acts as the database's owner (user.c);
	 * the output directory (node_exporter's) is root's to write. */
	(void)setfsuid(getuid());
	(void)setfsgid(getgid());
	n = snprintf(tmp, sizeof tmp, "%s.tmp.%ld", path, (long)getpid());
	if (n < 0 || (size_t)n >= sizeof tmp)
		die("output file name too long");
	fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
	if (fd < 0 || (o = fdopen(fd, "w")) == NULL) {
		fprintf(stderr, "%s: %s: cannot create: %s\n", progname, tmp,
			strerror(errno));
		exit(1);
	}
	rc = write_all(o, a, err);
	if (fflush(o) != 0 || fsync(fd) != 0 || ferror(o)) {
		e = errno;
		fclose(o);
		unlink(tmp);
		fprintf(stderr, "%s: %s: cannot write: %s\n", progname, tmp,
			strerror(e));
		exit(1);
	}
	fclose(o);
	if (rename(tmp, path) < 0) {
		e = errno;
		unlink(tmp);
		fprintf(stderr, "%s: %s: cannot rename to %s: %s\n", progname,
			tmp, path, strerror(e));
		exit(1);
	}
	return rc;
}

int cmd_metrics(admin *a, int argc, char **argv)
{
	const char *output = NULL;
	gl_err err;
	int rc;

	if (argc == 3 && !strcmp(argv[1], "--output") && argv[2][0])
		output = argv[2];
	else if (argc != 1)
		usage();
	/* Opened here, not by main(): a store that cannot be opened is
	 * reported as exim_greylist_database_up 0 beside the counters. */
	a->st = gl_store_open(a->cfg, &err);
	if (output != NULL) {
		rc = write_file(output, a, &err);
	} else {
		rc = write_all(stdout, a, &err);
		if (fflush(stdout) != 0)
			die("cannot write to standard output");
	}
	gl_store_close(a->st);
	a->st = NULL;
	if (rc < 0)
		die_err(&err);
	return 0;
}
