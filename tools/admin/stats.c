/* stats.c - greylist-admin stats and clients: figures over the whole
 * database. */
#include "admin.h"

#include <stdlib.h>
#include <string.h>

#include "../../module/core/parse.h"
#include "../../module/core/window.h"

typedef struct dom_row {
	char *domain;
	unsigned deferrals, passes;
	gl_time delay; /* -1: not passed */
} dom_row;

typedef struct stats_ctx {
	const gl_config *cfg;
	gl_time now;
	admin_tally n;
	gl_time *delays;
	size_t nd, capd;
	dom_row *rows;
	size_t nr, capr;
	int by_domain;
	gl_window win;       /* the last 24 hours, or --since */
} stats_ctx;

static int cmp_time(const void *a, const void *b)
{
	gl_time x = *(const gl_time *)a, y = *(const gl_time *)b;

	return x < y ? -1 : x > y;
}

/* Nearest-rank percentile of sorted v[0..n-1]; -1 when n == 0. */
static gl_time pct(const gl_time *v, size_t n, int p)
{
	size_t r;

	if (n == 0)
		return -1;
	r = (n * (size_t)p + 99) / 100;
	return v[r ? r - 1 : 0];
}

int admin_tally_pair(admin_tally *t, const gl_config *cfg, gl_time now,
		     const void *key, size_t klen, const void *val,
		     size_t vlen, gl_pair *p)
{
	int rc = gl_pair_decode(key, klen, val, vlen, p, NULL);

	if (rc > 0)
		return 0;       /* the database whitelist */
	if (rc < 0) {
		t->bad++;
		return 0;
	}
	if (p->kind == GL_KEY_CLIENT) {
		t->clients++;
		t->auto_clients += gl_policy_auto_whitelisted(cfg, &p->c, NULL,
							      now);
		return 0;
	}
	if (p->r.state == GL_PASSED)
		t->passed++;
	else
		t->pending++;
	return 1;
}

static int stats_one(void *arg, const void *key, size_t klen, const void *val,
		     size_t vlen)
{
	stats_ctx *sc = arg;
	gl_pair p;
	const gl_triplet *t = &p.t;
	const gl_record *r = &p.r;

	if (!admin_tally_pair(&sc->n, sc->cfg, sc->now, key, klen, val, vlen,
			      &p))
		return 0;
	if (gl_window_add(&sc->win, r) < 0)
		die("out of memory");
	if (r->state == GL_PASSED) {
		grow(&sc->delays, sc->nd, &sc->capd, sizeof *sc->delays);
		sc->delays[sc->nd++] = r->passed_at - r->first_seen;
	}
	if (sc->by_domain) {
		dom_row *d;

		grow(&sc->rows, sc->nr, &sc->capr, sizeof *sc->rows);
		d = &sc->rows[sc->nr++];
		d->domain = strdup(*gl_addr_domain(t->sender) ?
				   gl_addr_domain(t->sender) : t->sender);
		if (d->domain == NULL)
			die("out of memory");
		d->passes = r->state == GL_PASSED;
		d->deferrals = r->attempts - d->passes;
		d->delay = r->state == GL_PASSED ? r->passed_at - r->first_seen : -1;
	}
	return 0;
}

static int cmp_dom(const void *a, const void *b)
{
	return strcmp(((const dom_row *)a)->domain, ((const dom_row *)b)->domain);
}

typedef struct dom_sum {
	const char *domain;
	unsigned deferrals, passes;
	gl_time median, p95;
} dom_sum;

static int cmp_sum(const void *a, const void *b)
{
	const dom_sum *x = a, *y = b;

	if (x->deferrals != y->deferrals)
		return x->deferrals > y->deferrals ? -1 : 1;
	return strcmp(x->domain, y->domain);
}

static void print_by_domain(stats_ctx *sc, int json)
{
	dom_sum *sums = calloc(sc->nr + 1, sizeof *sums);
	gl_time *d = malloc((sc->nr + 1) * sizeof *d);
	size_t i, j, ns = 0, nd;

	if (sums == NULL || d == NULL)
		die("out of memory");
	sort_n(sc->rows, sc->nr, sizeof *sc->rows, cmp_dom);
	for (i = 0; i < sc->nr; i = j) {
		dom_sum *x = &sums[ns++];

		x->domain = sc->rows[i].domain;
		nd = 0;
		for (j = i; j < sc->nr && !strcmp(sc->rows[j].domain, x->domain); j++) {
			x->deferrals += sc->rows[j].deferrals;
			x->passes += sc->rows[j].passes;
			if (sc->rows[j].delay >= 0)
				d[nd++] = sc->rows[j].delay;
		}
		sort_n(d, nd, sizeof *d, cmp_time);
		x->median = pct(d, nd, 50);
		x->p95 = pct(d, nd, 95);
	}
	sort_n(sums, ns, sizeof *sums, cmp_sum);
	if (!json)
		printf("%-40s %9s %7s %9s %9s\n", "SENDER DOMAIN", "DEFERRALS",
		       "PASSES", "MEDIAN", "P95");
	for (i = 0; i < ns; i++) {
		if (json) {
			json_t *o = json_pack("{s:s, s:I, s:I}", "domain",
					      sums[i].domain, "deferrals",
					      (json_int_t)sums[i].deferrals,
					      "passes", (json_int_t)sums[i].passes);

			if (o != NULL) {
				json_object_set_new(o, "median_delay", sums[i].median < 0 ?
						    json_null() : json_integer(sums[i].median));
				json_object_set_new(o, "p95_delay", sums[i].p95 < 0 ?
						    json_null() : json_integer(sums[i].p95));
			}
			emit(o, "a record");
		} else {
			char m[24] = "-", q[24] = "-";

			if (sums[i].median >= 0)
				snprintf(m, sizeof m, "%llds", (long long)sums[i].median);
			if (sums[i].p95 >= 0)
				snprintf(q, sizeof q, "%llds", (long long)sums[i].p95);
			printf("%-40s %9u %7u %9s %9s\n", sums[i].domain,
			       sums[i].deferrals, sums[i].passes, m, q);
		}
	}
	free(sums);
	free(d);
}

/* The window's figures, beside the totals. */
static void window_text(gl_window *w, const char *label)
{
	gl_time med = gl_window_delay_pct(w, 50), p95 = gl_window_delay_pct(w, 95);
	char l[64];

	snprintf(l, sizeof l, "last %.20s:", label);
	printf("%-11s %lu first contacts (%lu retried, %lu never came back), "
	       "%lu passed", l, w->first_contacts, w->retried,
	       w->never_retried, w->passes);
	if (med >= 0)
		printf(", delay median %llds, p95 %llds\n", (long long)med,
		       (long long)p95);
	else
		printf("\n");
}

static json_t *window_json(gl_window *w)
{
	gl_time med = gl_window_delay_pct(w, 50), p95 = gl_window_delay_pct(w, 95);
	json_t *o = json_pack("{s:I, s:I, s:I, s:I, s:I, s:I}",
			      "since", (json_int_t)w->since,
			      "seconds", (json_int_t)(w->now - w->since),
			      "first_contacts", (json_int_t)w->first_contacts,
			      "retried", (json_int_t)w->retried,
			      "never_retried", (json_int_t)w->never_retried,
			      "passed", (json_int_t)w->passes);

	if (o == NULL)
		die("cannot encode the statistics as JSON");
	json_object_set_new(o, "delay", json_pack("{s:o, s:o}", "median",
			    med < 0 ? json_null() : json_integer(med), "p95",
			    p95 < 0 ? json_null() : json_integer(p95)));
	return o;
}

int cmd_stats(admin *a, int argc, char **argv)
{
	const gl_config *cfg = a->cfg;
	gl_store *st = a->st;
	stats_ctx sc;
	gl_whitelist *dbwl;
	char master[300], via[300], p[64];
	const char *since = NULL;
	int64_t ms = 86400 * 1000LL;
	int json = 0, i;
	gl_err err;
	size_t r;

	memset(&sc, 0, sizeof sc);
	for (i = 1; i < argc; i++)
		if (!strcmp(argv[i], "--json"))
			json = 1;
		else if (!strcmp(argv[i], "--by-domain"))
			sc.by_domain = 1;
		else if (!strcmp(argv[i], "--since") && i + 1 < argc &&
			 since == NULL)
			since = argv[++i];
		else
			usage();
	if (since != NULL && (gl_parse_duration(since, 0, &ms) < 0 ||
			      ms < 1000 || sc.by_domain)) {
		fprintf(stderr, "%s: --since %s: want a duration such as 1h, "
			"7d or 3600 (and no --by-domain)\n", progname,
			gl_printable(p, sizeof p, since));
		exit(2);
	}
	sc.cfg = cfg;
	sc.now = now_s();
	gl_window_init(&sc.win, sc.now - ms / 1000, sc.now);
	if (gl_store_scan(st, stats_one, &sc, &err) < 0)
		die(err.msg);
	if (gl_store_redis_master(st, master, sizeof master, via,
				  sizeof via) < 0)
		master[0] = '\0';
	if (sc.by_domain) {
		print_by_domain(&sc, json);
	} else {
		sort_n(sc.delays, sc.nd, sizeof *sc.delays, cmp_time);
		dbwl = load_dbwl(cfg, st);
		if (json) {
			json_t *o = json_pack(
				"{s:I, s:I, s:{s:I, s:I}, s:I, s:{s:I}}",
				"pending", (json_int_t)sc.n.pending,
				"passed", (json_int_t)sc.n.passed,
				"whitelist", "files",
				(json_int_t)count_entries(cfg->whitelist),
				"database", (json_int_t)count_entries(dbwl),
				"auto_whitelisted_clients",
				(json_int_t)sc.n.auto_clients,
				"delay", "count", (json_int_t)sc.nd);
			json_t *d = json_object_get(o, "delay");

			if (o == NULL || d == NULL)
				die("cannot encode the statistics as JSON");
			json_object_set_new(d, "median", sc.nd ?
					    json_integer(pct(sc.delays, sc.nd, 50)) : json_null());
			json_object_set_new(d, "p95", sc.nd ?
					    json_integer(pct(sc.delays, sc.nd, 95)) : json_null());
			json_object_set_new(d, "max", sc.nd ?
					    json_integer(sc.delays[sc.nd - 1]) : json_null());
			json_object_set_new(o, "window", window_json(&sc.win));
			/* With sentinels: the master in use, and who named it. */
			if (master[0])
				json_object_set_new(o, "redis", json_pack(
					"{s:s, s:s, s:s}", "master_name",
					cfg->redis_master_name, "master", master,
					"sentinel", via));
			emit(o, "the statistics");
		} else {
			printf("triplets:   %lu pending, %lu passed\n",
			       sc.n.pending, sc.n.passed);
			printf("whitelist:  %u entries in files, %u in the database\n",
			       count_entries(cfg->whitelist), count_entries(dbwl));
			printf("clients:    %lu auto-whitelisted (of %lu that passed mail)\n",
			       sc.n.auto_clients, sc.n.clients);
			if (sc.nd)
				printf("delay seen by passed mail: %zu triplets, "
				       "median %llds, p95 %llds, max %llds\n", sc.nd,
				       (long long)pct(sc.delays, sc.nd, 50),
				       (long long)pct(sc.delays, sc.nd, 95),
				       (long long)sc.delays[sc.nd - 1]);
			else
				printf("delay seen by passed mail: no passed triplets\n");
			window_text(&sc.win, since ? since : "24h");
			if (master[0])
				printf("redis:      master '%s' at %s, named by "
				       "sentinel %s\n", cfg->redis_master_name,
				       master, via);
		}
		gl_whitelist_free(dbwl);
	}
	if (sc.n.bad)
		fprintf(stderr, "%s: %lu records could not be read (see "
			"'recover')\n", progname, sc.n.bad);
	for (r = 0; r < sc.nr; r++)
		free(sc.rows[r].domain);
	free(sc.rows);
	free(sc.delays);
	gl_window_free(&sc.win);
	return 0;
}


typedef struct clients_ctx {
	const gl_config *cfg;
	int json;
	gl_time now;
} clients_ctx;

static int clients_one(void *arg, const void *key, size_t klen,
		       const void *val, size_t vlen)
{
	const clients_ctx *cc = arg;
	const gl_config *cfg = cc->cfg;
	int json = cc->json;
	char a[32], b[32];
	int is_auto;
	gl_pair p;
	const gl_client_record *c = &p.c;
	const char *client = p.client;

	if (gl_pair_decode(key, klen, val, vlen, &p, NULL) != 0 ||
	    p.kind != GL_KEY_CLIENT)
		return 0;
	is_auto = gl_policy_auto_whitelisted(cfg, c, NULL, cc->now);
	if (json) {
		json_t *o = json_pack("{s:s, s:I, s:I, s:I, s:b}", "client", client,
				      "passed", (json_int_t)c->count, "first_pass",
				      (json_int_t)c->first_pass, "last_pass",
				      (json_int_t)c->last_pass, "auto_whitelisted",
				      is_auto);

		emit(o, "a record");
	} else {
		header_out();
		printf("%-40s %6u %-19s %-19s %s\n", client, c->count,
		       fmt_time(c->first_pass, a, sizeof a),
		       fmt_time(c->last_pass, b, sizeof b), is_auto ? "yes" : "no");
	}
	return 0;
}

int cmd_clients(admin *a, int argc, char **argv)
{
	const gl_config *cfg = a->cfg;
	gl_store *st = a->st;
	clients_ctx cc = { cfg, argc == 2 && !strcmp(argv[1], "--json"),
			   now_s() };
	gl_err err;

	if (argc > 2 || (argc == 2 && !cc.json))
		usage();
	if (!cc.json)
		set_header("%-40s %6s %-19s %-19s %s\n", "CLIENT", "PASSED",
			   "FIRST PASS (UTC)", "LAST PASS (UTC)", "AUTO");
	if (gl_store_scan(st, clients_one, &cc, &err) < 0)
		die(err.msg);
	header_out();
	return 0;
}

