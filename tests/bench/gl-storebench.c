/*
 * gl-storebench - the store benchmark of "make bench": decision cost at a
 * given database size, in one process (median of 3 runs) and in 8, and
 * the worst decision latency while greylist-admin purge removes 10% of
 * the records.
 *
 *   gl-storebench CONF RECORDS DECISIONS [ADMIN]
 *
 * Fills the database named in CONF (its backend: gdbm or lmdb) with
 * RECORDS passed triplets (10% of them expired), then times DECISIONS decisions through the core (70%
 * repeats of stored triplets, 30% new ones) and prints one line per
 * measurement. With ADMIN (the greylist-admin binary) it then runs
 * "ADMIN -c CONF purge" while one process keeps deciding, and prints the
 * purge's wall time and the slowest decision seen meanwhile.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "../../module/core/decide.h"

#define NOW 1800000000

static gl_config cfg;

static void triplet(long i, gl_triplet *t)
{
	snprintf(t->client, sizeof t->client, "10.%ld.%ld.0/24", i / 65536 % 256,
		 i / 256 % 256);
	snprintf(t->sender, sizeof t->sender, "s%c%c%c%c@bench.example",
		 (char)('a' + i % 26), (char)('a' + i / 26 % 26),
		 (char)('a' + i / 676 % 26), (char)('a' + i / 17576 % 26));
	snprintf(t->rcpt, sizeof t->rcpt, "r%ld@test.example", i / 456976);
}

/* The i-th stored record: passed, 10% of them expired. */
static size_t record(long i, char *key, unsigned char *val)
{
	int expired = i % 10 == 0;
	gl_triplet t;
	gl_record r;

	triplet(i, &t);
	memset(&r, 0, sizeof r);
	r.state = GL_PASSED;
	r.attempts = 2;
	r.first_seen = expired ? NOW - 90 * 86400 : NOW - 3600;
	r.passed_at = r.first_seen + 300;
	r.last_seen = expired ? r.passed_at : NOW - 60;
	gl_record_encode(&r, val);
	return gl_key_encode(&t, key, GL_KEY_MAX);
}

/* Bulk load, outside the measurement, through the store's batched
 * writes: so a GDBM file is salted, and its keys stored as the module
 * stores them (a file written with gdbm_store() directly would have
 * plain keys, which the store then keeps using). */
static int fill(long n)
{
	static char keys[1000][GL_KEY_MAX];
	static unsigned char vals[1000][GL_RECORD_SIZE];
	static gl_cas_item items[1000];
	gl_store *st;
	gl_err err;
	long i;
	size_t b;

	/* A GDBM file starts empty, as it did when GDBM_NEWDB made it: a
	 * rerun on the same file would otherwise find the earlier run's
	 * "new" triplets (same seed, same keys) already there. */
	if (cfg.backend == GL_BACKEND_GDBM && unlink(cfg.database) != 0 &&
	    errno != ENOENT) {
		perror(cfg.database);
		return -1;
	}
	if ((st = gl_store_open(&cfg, &err)) == NULL) {
		fprintf(stderr, "gl-storebench: %s\n", err.msg);
		return -1;
	}
	for (i = 0; i < n; i += (long)b) {
		for (b = 0; b < 1000 && i + (long)b < n; b++) {
			memset(&items[b], 0, sizeof items[b]);
			items[b].key = keys[b];
			items[b].klen = record(i + (long)b, keys[b], vals[b]);
			items[b].val = vals[b];
			items[b].vlen = GL_RECORD_SIZE;
			items[b].ttl = 90 * 86400;
		}
		if (st->ops->casv(st, items, b, &err) < 0) {
			fprintf(stderr, "gl-storebench: %s\n", err.msg);
			gl_store_close(st);
			return -1;
		}
	}
	gl_store_close(st);
	return 0;
}

static int64_t now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static int cmp(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return x < y ? -1 : x > y;
}

/* Makes k decisions; latencies into lat; returns errors. */
static long decide_loop(long records, long k, unsigned seed, int64_t *lat,
			volatile int *stop)
{
	gl_store *st;
	gl_ctx ctx;
	gl_err err;
	long i, errors = 0;

	st = gl_store_open(&cfg, &err);
	if (st == NULL)
		return k;
	gl_ctx_init(&ctx, &cfg, st);
	for (i = 0; i < k && !(stop && *stop); i++) {
		char ip[32];
		long j = rand_r(&seed) % 10 < 7 ? (rand_r(&seed) % records) | 1 :
			 records + (long)seed * 1000000L + i;
		gl_triplet t;
		gl_request req = { ip, NULL, NULL, NULL, NULL, NULL };
		gl_result res;
		int64_t t0;

		triplet(j, &t);
		snprintf(ip, sizeof ip, "10.%ld.%ld.9", j / 65536 % 256, j / 256 % 256);
		req.sender = t.sender;
		req.rcpt = t.rcpt;
		t0 = now_us();
		if (gl_decide(&ctx, &req, NOW, 0, &res, &err) < 0)
			errors++;
		if (lat)
			lat[i] = now_us() - t0;
	}
	gl_ctx_free(&ctx);
	gl_store_close(st);
	return errors;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static void report(const char *what, long records, int procs, int64_t *lat,
		   long n, double secs, long errors)
{
	qsort(lat, (size_t)n, sizeof *lat, cmp);
	printf("store=%s records=%ld procs=%d decisions=%ld per_s=%.0f "
	       "p50_us=%lld p99_us=%lld max_us=%lld errors=%ld\n", what, records,
	       procs, n, n / secs, (long long)lat[(n - 1) / 2],
	       (long long)lat[(n * 99 + 99) / 100 - 1], (long long)lat[n - 1],
	       errors);
	fflush(stdout);
}

int main(int argc, char **argv)
{
	long records, k, i, errors = 0;
	int64_t *lat, t0;
	gl_err err;
	const char *st_name;
	int p;

	if (argc < 4) {
		fprintf(stderr, "usage: gl-storebench CONF RECORDS DECISIONS [ADMIN]\n");
		return 2;
	}
	if (gl_config_load(argv[1], &cfg, &err) < 0) {
		fprintf(stderr, "gl-storebench: %s\n", err.msg);
		return 1;
	}
	cfg.auto_whitelist_clients = 0;
	st_name = cfg.backend == GL_BACKEND_GDBM ? "gdbm" :
		  cfg.backend == GL_BACKEND_LMDB ? "lmdb" : "redis";
	records = atol(argv[2]);
	k = atol(argv[3]);
	if (records < 10 || k < 8 || fill(records) != 0) {
		fprintf(stderr, "gl-storebench: cannot fill %s\n", cfg.database);
		return 1;
	}
	/* One process, three runs; the median run is reported (a run of a
	 * fast store lasts well under a second: one run is timer noise). */
	{
		double secs[3], sorted[3];
		int r, m = 0;

		lat = calloc((size_t)k * 3, sizeof *lat);
		for (r = 0; r < 3; r++) {
			t0 = now_us();
			errors += decide_loop(records, k, 1 + (unsigned)r,
					      lat + r * k, NULL);
			secs[r] = sorted[r] = (now_us() - t0) / 1e6;
		}
		qsort(sorted, 3, sizeof sorted[0], cmp_double);
		while (secs[m] != sorted[1])
			m++;
		report(st_name, records, 1, lat + m * k, k, secs[m], errors);
	}
	/* Eight processes, latencies gathered through shared memory. */
	{
		int64_t *sh = mmap(NULL, (size_t)k * sizeof *sh,
				   PROT_READ | PROT_WRITE,
				   MAP_SHARED | MAP_ANONYMOUS, -1, 0);
		long per = k / 8;

		t0 = now_us();
		for (p = 0; p < 8; p++)
			if (fork() == 0)
				_exit(decide_loop(records, per, 100 + (unsigned)p,
						  sh + p * per, NULL) > 0);
		for (p = 0; p < 8; p++) {
			int st;

			wait(&st);
			errors += WIFEXITED(st) ? WEXITSTATUS(st) : 1;
		}
		report(st_name, records, 8, sh, per * 8, (now_us() - t0) / 1e6, errors);
	}
	/* Purge of the expired 10% while one process keeps deciding. */
	if (argc > 4) {
		volatile int *stop = mmap(NULL, sizeof(int), PROT_READ | PROT_WRITE,
					  MAP_SHARED | MAP_ANONYMOUS, -1, 0);
		int64_t *sh = mmap(NULL, (size_t)k * sizeof(int64_t),
				   PROT_READ | PROT_WRITE,
				   MAP_SHARED | MAP_ANONYMOUS, -1, 0);
		volatile long *done = mmap(NULL, sizeof(long), PROT_READ | PROT_WRITE,
					   MAP_SHARED | MAP_ANONYMOUS, -1, 0);
		pid_t dec, pur;
		int st;

		*stop = 0;
		memset(sh, 0, (size_t)k * sizeof *sh);
		dec = fork();
		if (dec == 0) {
			/* decide until told to stop; the loop bound is k */
			decide_loop(records, k, 7, sh, stop);
			_exit(0);
		}
		t0 = now_us();
		pur = fork();
		if (pur == 0) {
			execl(argv[4], argv[4], "-c", argv[1], "purge", (char *)NULL);
			_exit(127);
		}
		waitpid(pur, &st, 0);
		i = now_us() - t0;
		*stop = 1;
		waitpid(dec, NULL, 0);
		for (*done = 0; *done < k && sh[*done] != 0; (*done)++)
			;
		qsort(sh, (size_t)*done, sizeof *sh, cmp);
		printf("purge store=%s records=%ld secs=%.2f status=%d "
		       "decisions_meanwhile=%ld worst_decision_us=%lld "
		       "p99_us=%lld\n", st_name, records, i / 1e6,
		       WIFEXITED(st) ? WEXITSTATUS(st) : -1, (long)*done,
		       *done ? (long long)sh[*done - 1] : -1,
		       *done ? (long long)sh[(*done * 99 + 99) / 100 - 1] : -1);
	}
	free(lat);
	gl_config_free(&cfg);
	return 0;
}
