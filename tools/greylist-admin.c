/*
 * greylist-admin - inspect and maintain the greylist database.
 *
 *   greylist-admin [-c FILE] COMMAND [ARGS]
 *
 * Every command works through the core the Exim module uses (the same
 * configuration parser, key and record decoders, policy and store).
 * Exit status 0 on success; 1 with one line on stderr on failure; 2 for
 * usage errors.
 */
#include <errno.h>
#include <getopt.h>
#include <pwd.h>
#include <stdarg.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "../module/core/decide.h"
#include "admin.h"

static const char *progname = "greylist-admin";

static const char usage_text[] =
	"usage: %s [-c FILE] COMMAND [ARGS]\n"
	"       %s --help | --version\n"
	"FILE is the module's configuration (default " GL_DEFAULT_CONFIG ").\n"
	"commands:\n"
	"  check [--json] [--user NAME] [--exim PATH] [--exim-config FILE] [--no-exim]\n"
	"  list [--json] [--state S] [--client C] [--sender S] [--recipient R]\n"
	"  explain IP SENDER RECIPIENT [host=NAME] [spf=RESULT] [helo=NAME]\n"
	"  stats [--json] [--by-domain]\n"
	"  purge [-v]\n"
	"  delete CLIENT SENDER RECIPIENT\n"
	"  whitelist add ENTRY [--comment TEXT] [--owner NAME] [--expires WHEN]\n"
	"  whitelist del ENTRY\n"
	"  whitelist list [--json]\n"
	"  clients [--json]\n"
	"  export > FILE\n"
	"  import < FILE\n"
	"  recover\n"
	"  snapshot\n"
	"Run as root, it acts as the owner of the database's directory (the\n"
	"Exim user), so the files it creates stay usable by the module.\n"
	"See greylist-admin(8).\n";

static void usage(void)
{
	fprintf(stderr, usage_text, progname, progname);
	exit(2);
}

static void die(const char *msg)
{
	fprintf(stderr, "%s: %s\n", progname, msg);
	exit(1);
}

static gl_time now_s(void)
{
	return (gl_time)time(NULL);
}

static const char *fmt_time(gl_time t, char *buf, size_t sz)
{
	time_t tt = (time_t)t;
	struct tm tm;

	if (t == 0 || gmtime_r(&tt, &tm) == NULL)
		return "-";
	strftime(buf, sz, "%Y-%m-%d %H:%M:%S", &tm);
	return buf;
}

/*
 * A table's header is printed with its first row, or at the end of a
 * command that succeeded without a row: never before an error.
 */
static char table_header[256];

static void set_header(const char *fmt, ...) GL_PRINTF(1, 2);
static void set_header(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	(void)vsnprintf(table_header, sizeof table_header, fmt, ap);
	va_end(ap);
}

static void header_out(void)
{
	fputs(table_header, stdout);
	table_header[0] = '\0';
}

/* Prints o as one compact JSON line and frees it; dies on NULL. */
static void emit(json_t *o, const char *what)
{
	if (o == NULL) {
		fprintf(stderr, "%s: cannot encode %s as JSON (not UTF-8?)\n",
			progname, what);
		exit(1);
	}
	json_dumpf(o, stdout, JSON_COMPACT | JSON_PRESERVE_ORDER);
	putchar('\n');
	json_decref(o);
}

/* ---- scanning triplets ---- */

typedef struct triplet_visit {
	int (*fn)(void *arg, const gl_triplet *t, const gl_record *r,
		  const void *key, size_t klen, const void *val, size_t vlen);
	void *arg;
	unsigned bad;  /* records that did not decode */
} triplet_visit;

static int visit_one(void *arg, const void *key, size_t klen, const void *val,
		     size_t vlen)
{
	triplet_visit *v = arg;
	gl_triplet t;
	gl_record r;

	if (klen == 0 || ((const char *)key)[0] != 't')
		return 0; /* not a triplet */
	if (gl_key_decode(key, klen, &t) < 0 ||
	    gl_record_decode(val, vlen, &r, NULL) < 0) {
		v->bad++;
		return 0;
	}
	return v->fn(v->arg, &t, &r, key, klen, val, vlen);
}

static unsigned each_triplet(gl_store *st, triplet_visit *v)
{
	gl_err err;

	v->bad = 0;
	if (gl_store_scan(st, visit_one, v, &err) < 0)
		die(err.msg);
	return v->bad;
}

/* ---- list ---- */

typedef struct list_opts {
	int json;
	const char *state, *client, *sender, *rcpt;
	CIDR net;
	int have_net;
	char subnet[GL_CLIENT_MAX + 1]; /* --client ADDRESS: its subnet */
	unsigned shown;
} list_opts;

static int client_matches(list_opts *o, const char *client)
{
	CIDR c;

	if (o->client == NULL)
		return 1;
	if (o->subnet[0])
		return strcmp(client, o->subnet) == 0;
	if (o->have_net && gl_net_parse(client, &c, NULL) == 0)
		return o->net.proto == c.proto && gl_net_contains(&o->net, &c);
	return strstr(client, o->client) != NULL;
}

static int list_one(void *arg, const gl_triplet *t, const gl_record *r,
		    const void *key, size_t klen, const void *val, size_t vlen)
{
	list_opts *o = arg;
	char f[32], l[32];

	(void)key, (void)klen, (void)val, (void)vlen;
	if ((o->state && strcmp(o->state, gl_state_name(r->state))) ||
	    !client_matches(o, t->client) ||
	    (o->sender && !strstr(t->sender, o->sender)) ||
	    (o->rcpt && !strstr(t->rcpt, o->rcpt)))
		return 0;
	o->shown++;
	if (o->json) {
		json_t *j = json_pack("{s:s, s:s, s:s, s:s, s:I, s:I, s:I}",
				      "client", t->client, "sender", t->sender,
				      "recipient", t->rcpt, "state",
				      gl_state_name(r->state), "first_seen",
				      (json_int_t)r->first_seen, "last_seen",
				      (json_int_t)r->last_seen, "attempts",
				      (json_int_t)r->attempts);
		if (j != NULL && r->state == GL_PASSED) {
			json_object_set_new(j, "passed_at",
					    json_integer(r->passed_at));
			json_object_set_new(j, "delay", json_integer(
					    r->passed_at - r->first_seen));
		}
		emit(j, "a triplet");
	} else {
		char d[32] = "-";

		if (r->state == GL_PASSED)
			snprintf(d, sizeof d, "%llds",
				 (long long)(r->passed_at - r->first_seen));
		header_out();
		printf("%-20s %-7s %-19s %-19s %5u %8s  %s -> %s\n", t->client,
		       gl_state_name(r->state), fmt_time(r->first_seen, f, sizeof f),
		       fmt_time(r->last_seen, l, sizeof l), r->attempts, d,
		       t->sender, t->rcpt);
	}
	return 0;
}

static int cmd_list(const gl_config *cfg, gl_store *st, int argc,
		    char **argv)
{
	static const struct option lo[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "state", required_argument, NULL, 's' },
		{ "client", required_argument, NULL, 'c' },
		{ "sender", required_argument, NULL, 'f' },
		{ "recipient", required_argument, NULL, 'r' },
		{ NULL, 0, NULL, 0 }
	};
	list_opts o;
	triplet_visit v;
	unsigned bad;
	int ch;

	memset(&o, 0, sizeof o);
	optind = 0;
	while ((ch = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		switch (ch) {
		case 'j': o.json = 1; break;
		case 's': o.state = optarg; break;
		case 'c': o.client = optarg; break;
		case 'f': o.sender = optarg; break;
		case 'r': o.rcpt = optarg; break;
		default: usage();
		}
	}
	if (optind != argc)
		usage();
	if (o.state && strcmp(o.state, "pending") && strcmp(o.state, "passed"))
		die("--state wants pending or passed");
	/* An address stands for the subnet it is keyed on (as for
	 * delete); a block for the subnets inside it; other text for a
	 * pool name, or part of one. */
	if (o.client && gl_ip_parse(o.client, &o.net, NULL) == 0) {
		gl_err err;

		if (gl_ip_subnet(&o.net, cfg->ipv4_prefix, cfg->ipv6_prefix,
				 o.subnet, sizeof o.subnet, &err) < 0)
			die(err.msg);
	} else if (o.client && gl_net_parse(o.client, &o.net, NULL) == 0) {
		o.have_net = 1;
	}
	if (!o.json)
		set_header("%-20s %-7s %-19s %-19s %5s %8s  %s\n", "CLIENT",
			   "STATE", "FIRST SEEN (UTC)", "LAST SEEN (UTC)",
			   "TRIES", "DELAY", "SENDER -> RECIPIENT");
	v.fn = list_one;
	v.arg = &o;
	bad = each_triplet(st, &v);
	if (bad) {
		fprintf(stderr, "%s: %u records could not be read (see "
			"'recover')\n", progname, bad);
		return 1;
	}
	header_out();
	return 0;
}

/* ---- explain ---- */

static int explain_print(const gl_config *cfg, const gl_result *r,
			 const gl_err *failed);

static int cmd_explain(const gl_config *cfg, gl_store *st, int argc,
		       char **argv)
{
	gl_request req;
	gl_result res;
	gl_ctx ctx;
	gl_err err;
	gl_time now = now_s();
	int i, rc;

	if (argc < 4)
		usage();
	memset(&req, 0, sizeof req);
	req.ip = argv[1];
	req.sender = argv[2];
	req.rcpt = argv[3];
	for (i = 4; i < argc; i++) {
		if (!strncmp(argv[i], "host=", 5))
			req.host = argv[i] + 5;
		else if (!strncmp(argv[i], "spf=", 4))
			req.spf = argv[i] + 4;
		else if (!strncmp(argv[i], "helo=", 5))
			req.helo = argv[i] + 5;
		else
			die("explain takes host=, spf= and helo= after the "
			    "recipient");
	}
	gl_ctx_init(&ctx, cfg, st);
	rc = gl_decide(&ctx, &req, now, 1, &res, &err);
	rc = explain_print(cfg, &res, rc < 0 ? &err : NULL);
	if (req.helo != NULL)
		printf("helo:      %s (shown only; it takes no part in the key)\n",
		       req.helo);
	gl_ctx_free(&ctx); /* after printing: res.wl points into it */
	return rc;
}

static int explain_print(const gl_config *cfg, const gl_result *r,
			 const gl_err *failed)
{
	gl_result res = *r;
	char y[64], a[32], b[32];

	if (failed != NULL) {
		gl_error_result(cfg, &res);
		gl_yield(&res, y, sizeof y);
		printf("answer:    %s (on_error, because: %s)\n", y, failed->msg);
		return 0;
	}
	gl_yield(&res, y, sizeof y);
	printf("answer:    %s\n", y);
	if (res.wl)
		printf("client:    (not needed: whitelisted)\n");
	else
		printf("client:    %s (%s)\n", res.t.client,
		       !strcmp(res.client_why, "spf") ?
		       "pool: the sender's domain, as spf=pass" :
		       !strcmp(res.client_why, "host") ?
		       "pool: the verified host name less its first label" :
		       "the client's subnet");
	printf("sender:    %s\n", res.t.sender);
	printf("recipient: %s\n", res.t.rcpt);
	if (res.wl) {
		printf("whitelist: %s (%s)%s%s, expires %s%s%s\n",
		       res.wl->entry, res.wl->origin,
		       *res.wl->owner ? " owner=" : "", res.wl->owner,
		       res.wl->expires ? fmt_time(res.wl->expires, a, sizeof a) :
		       "never", *res.wl->comment ? " # " : "", res.wl->comment);
		return 0;
	}
	if (res.have_client)
		printf("passes:    this client passed %u triplets, last %s%s\n",
		       res.client.count, fmt_time(res.client.last_pass, a, sizeof a),
		       !strcmp(res.reason, "auto") ? " (auto-whitelisted)" : "");
	if (!strcmp(res.reason, "auto")) {
		printf("why:       the client has passed at least %u triplets "
		       "(auto_whitelist_clients) within pass_lifetime\n",
		       cfg->auto_whitelist_clients);
		printf("changed:   nothing (explain only reads)\n");
		return 0;
	}
	if (res.have_old)
		printf("record:    %s, first seen %s, last seen %s, %u attempts\n",
		       gl_state_name(res.old.state),
		       fmt_time(res.old.first_seen, a, sizeof a),
		       fmt_time(res.old.last_seen, b, sizeof b),
		       res.old.attempts);
	else
		printf("record:    none\n");
	if (!strcmp(res.reason, "new"))
		printf("why:       first attempt of this triplet: deferred for "
		       "the delay (%llds)\n", (long long)cfg->delay);
	else if (!strcmp(res.reason, "early"))
		printf("why:       retried before the delay was over: %llds "
		       "left\n", (long long)res.wait);
	else if (!strcmp(res.reason, "pass"))
		printf("why:       retried after the delay: passes now\n");
	else if (!strcmp(res.reason, "known"))
		printf("why:       passed before, seen within pass_lifetime\n");
	else if (!strcmp(res.reason, "restart"))
		printf("why:       the record expired (retry_window or "
		       "pass_lifetime): greylisting starts again\n");
	printf("changed:   nothing (explain only reads)\n");
	return 0;
}

/* Makes room for one more element in *arr (n used of *cap); dies on OOM. */
static void grow(void *arr, size_t n, size_t *cap, size_t elem)
{
	void **p = arr;

	if (n < *cap)
		return;
	*cap = *cap * 2 + 256;
	*p = realloc(*p, *cap * elem);
	if (*p == NULL)
		die("out of memory");
}

/* ---- raw pairs, batched writes ---- */

typedef struct pair {
	size_t klen, vlen;
	unsigned char *k, *v;
} pair;

typedef struct pairs {
	pair *p;
	size_t n, cap;
} pairs;

static void pairs_add(pairs *ps, const void *k, size_t kl, const void *v,
		      size_t vl)
{
	pair *x;

	grow(&ps->p, ps->n, &ps->cap, sizeof *ps->p);
	x = &ps->p[ps->n++];
	x->klen = kl;
	x->vlen = vl;
	x->k = malloc(kl + 1);
	x->v = malloc(vl + 1);
	if (x->k == NULL || x->v == NULL)
		die("out of memory");
	memcpy(x->k, k, kl);
	memcpy(x->v, v, vl);
}

static void pairs_free(pairs *ps)
{
	size_t i;

	for (i = 0; i < ps->n; i++) {
		free(ps->p[i].k);
		free(ps->p[i].v);
	}
	free(ps->p);
	memset(ps, 0, sizeof *ps);
}

/*
 * Deletes (replace = 0) or stores (replace = 1) every pair, GL_BATCH at a
 * time: each batch holds the writer lock once and the lock is released
 * for a moment between batches so Exim's RCPTs get their turn. A delete
 * only happens while the value is still the one scanned; a store replaces
 * whatever is there. Returns how many were done.
 */
static size_t write_pairs(const gl_config *cfg, gl_store *st, const pairs *ps,
			  int replace)
{
	gl_time now = now_s();
	static gl_get_item gi[GL_BATCH];
	static gl_cas_item ci[GL_BATCH];
	static unsigned char cur[GL_BATCH][GL_VALUE_MAX];
	struct timespec pause = { 0, 2000000 };
	size_t i, j, n, done = 0;
	int tries;
	gl_err err;

	for (i = 0; i < ps->n; i += n) {
		n = ps->n - i < GL_BATCH ? ps->n - i : GL_BATCH;
		for (tries = 0; tries < 5; tries++) {
			size_t left = 0;

			memset(ci, 0, n * sizeof ci[0]);
			if (replace) {
				for (j = 0; j < n; j++) {
					gi[j].key = ps->p[i + j].k;
					gi[j].klen = ps->p[i + j].klen;
					gi[j].val = cur[j];
					gi[j].vlen = GL_VALUE_MAX;
				}
				if (st->ops->get(st, gi, n, &err) < 0)
					die(err.msg);
			}
			for (j = 0; j < n; j++) {
				const pair *x = &ps->p[i + j];

				ci[j].key = x->k;
				ci[j].klen = x->klen;
				if (replace) {
					ci[j].old = gi[j].found ? cur[j] : NULL;
					ci[j].oldlen = gi[j].vlen;
					ci[j].val = x->v;
					ci[j].vlen = x->vlen;
					ci[j].ttl = gl_pair_ttl(cfg, x->k, x->klen,
								x->v, x->vlen, now);
				} else {
					ci[j].old = x->v;
					ci[j].oldlen = x->vlen;
				}
			}
			if (st->ops->casv(st, ci, n, &err) < 0)
				die(err.msg);
			for (j = 0; j < n; j++)
				if (ci[j].done)
					done++;
				else
					left++;
			/* A delete that lost to a write keeps the record. */
			if (left == 0 || !replace)
				break;
		}
		nanosleep(&pause, NULL);
	}
	return done;
}

/* ---- the whitelist kept in the database ---- */

/*
 * Applies fn to the database whitelist text until the write wins:
 * fn gets the current text and writes the new one into out (size
 * GL_DBWL_MAX + 1). Returns fn's result (negative: nothing written).
 */
static int dbwl_update(gl_store *st, int (*fn)(void *arg, const char *cur,
					       char *out), void *arg)
{
	char *text, *out = malloc(GL_DBWL_MAX + 1);
	size_t len;
	uint64_t gen;
	gl_err err;
	int tries, r = -1, w;

	if (out == NULL)
		die("out of memory");
	for (tries = 0; tries < 10; tries++) {
		if (gl_dbwl_read(st, &text, &len, &gen, &err) < 0)
			die(err.msg);
		r = fn(arg, text, out);
		if (r < 0) {
			free(text);
			break;
		}
		w = gl_dbwl_write(st, text, len, gen, out, strlen(out), &err);
		free(text);
		if (w < 0)
			die(err.msg);
		if (w == 1)
			break;
	}
	free(out);
	return r;
}

/* Copies the lines of cur whose entry is not entry into out; counts. */
static size_t drop_entry(const char *cur, const char *entry, char *out)
{
	const char *p, *nl;
	size_t n = strlen(entry), dropped = 0, o = 0;

	for (p = cur; *p; p = nl) {
		nl = strchr(p, '\n');
		nl = nl ? nl + 1 : p + strlen(p);
		if (strncasecmp(p, entry, n) == 0 &&
		    (p[n] == ' ' || p[n] == '\n' || p[n] == '\0')) {
			dropped++;
			continue;
		}
		memcpy(out + o, p, (size_t)(nl - p));
		o += (size_t)(nl - p);
	}
	out[o] = '\0';
	return dropped;
}

/* ---- purge ---- */

typedef struct purge_ctx {
	const gl_config *cfg;
	gl_time now;
	int verbose;
	unsigned pending, passed, clients;
} purge_ctx;

static int purge_dbwl(void *arg, const char *cur, char *out)
{
	purge_ctx *p = arg;
	gl_whitelist *wl = NULL;
	const gl_wl_entry *e;
	char line[4200];
	size_t o = 0;
	int n = 0;
	gl_err err;

	if (gl_whitelist_parse_text(&wl, cur, strlen(cur),
				    p->cfg->sender_normalize, "database",
				    NULL, &err) < 0)
		die(err.msg);
	for (e = wl ? wl->head : NULL; e != NULL; e = e->next) {
		if (e->expires != 0 && p->now > e->expires) {
			if (p->verbose)
				printf("removed expired whitelist entry %s\n",
				       e->entry);
			n++;
			continue;
		}
		if (gl_wl_format(e, line, sizeof line) < 0)
			die("whitelist entry too long");
		o += (size_t)snprintf(out + o, GL_DBWL_MAX + 1 - o, "%s\n", line);
	}
	gl_whitelist_free(wl);
	out[o] = '\0';
	return n == 0 ? -1 : n; /* nothing expired: write nothing */
}

typedef struct purge_scan {
	purge_ctx *p;
	pairs dead;
} purge_scan;

/* Keeps the expired triplets and client records of the scan. */
static int purge_one(void *arg, const void *key, size_t klen, const void *val,
		     size_t vlen)
{
	purge_scan *ps = arg;
	purge_ctx *p = ps->p;
	const char *k = key;
	gl_triplet t;
	gl_record r;
	gl_client_record c;

	if (k[0] == 't' && gl_key_decode(key, klen, &t) == 0 &&
	    gl_record_decode(val, vlen, &r, NULL) == 0) {
		if (r.state == GL_PENDING ?
		    p->now - r.first_seen <= p->cfg->retry_window :
		    p->now - r.last_seen <= p->cfg->pass_lifetime)
			return 0;
		r.state == GL_PENDING ? p->pending++ : p->passed++;
		if (p->verbose)
			printf("removed %s %s %s -> %s\n", gl_state_name(r.state),
			       t.client, t.sender, t.rcpt);
	} else if (k[0] == 'c' &&
		   gl_client_record_decode(val, vlen, &c, NULL) == 0) {
		if (p->now - c.last_pass <= p->cfg->pass_lifetime)
			return 0;
		p->clients++;
	} else {
		return 0;
	}
	pairs_add(&ps->dead, key, klen, val, vlen);
	return 0;
}

static int cmd_purge(const gl_config *cfg, gl_store *st, int argc,
		     char **argv)
{
	purge_ctx p;
	purge_scan ps;
	size_t removed;
	gl_err err;
	int wl;

	memset(&p, 0, sizeof p);
	if (argc == 2 && !strcmp(argv[1], "-v"))
		p.verbose = 1;
	else if (argc != 1)
		usage();
	p.cfg = cfg;
	p.now = now_s();
	memset(&ps, 0, sizeof ps);
	ps.p = &p;
	if (gl_store_scan(st, purge_one, &ps, &err) < 0)
		die(err.msg);
	removed = write_pairs(cfg, st, &ps.dead, 0);
	wl = dbwl_update(st, purge_dbwl, &p);
	printf("purged %u expired triplets (%u pending, %u passed), %u client "
	       "records, %d whitelist entries", p.pending + p.passed, p.pending,
	       p.passed, p.clients, wl > 0 ? wl : 0);
	if (removed < ps.dead.n)
		printf("; %zu changed while purging and were kept",
		       ps.dead.n - removed);
	printf("\n");
	pairs_free(&ps.dead);
	return 0;
}

/* ---- delete ---- */

static int cmd_delete(const gl_config *cfg, gl_store *st, int argc,
		      char **argv)
{
	gl_triplet t;
	char key[GL_KEY_MAX];
	unsigned char val[GL_VALUE_MAX];
	size_t vlen = sizeof val;
	gl_err err;
	CIDR ip;
	int klen, rc;

	if (argc != 4)
		usage();
	if (gl_ip_parse(argv[1], &ip, NULL) == 0) {
		if (gl_ip_subnet(&ip, cfg->ipv4_prefix, cfg->ipv6_prefix,
				 t.client, sizeof t.client, &err) < 0)
			die(err.msg);
	} else if (gl_copy(t.client, sizeof t.client, argv[1]) < 0) {
		die("client too long");
	}
	if (gl_fold_sender(argv[2], cfg->sender_normalize, t.sender,
			   sizeof t.sender, &err) < 0 ||
	    gl_fold_rcpt(argv[3], t.rcpt, sizeof t.rcpt, &err) < 0)
		die(err.msg);
	klen = gl_key_encode(&t, key, sizeof key);
	if (klen < 0)
		die("key too long");
	for (;;) {
		rc = gl_store_get(st, key, (size_t)klen, val, &vlen, &err);
		if (rc < 0)
			die(err.msg);
		if (rc == 0) {
			fprintf(stderr, "%s: no such triplet: %s %s %s\n",
				progname, t.client, t.sender, t.rcpt);
			return 1;
		}
		rc = gl_store_cas(st, key, (size_t)klen, val, vlen, NULL, 0, 0,
				  &err);
		if (rc < 0)
			die(err.msg);
		if (rc == 1)
			break;
		vlen = sizeof val;
	}
	printf("deleted %s %s %s\n", t.client, t.sender, t.rcpt);
	return 0;
}

/* ---- stats ---- */

typedef struct dom_row {
	char *domain;
	unsigned deferrals, passes;
	gl_time delay; /* -1: not passed */
} dom_row;

typedef struct stats_ctx {
	const gl_config *cfg;
	gl_time now;
	unsigned pending, passed, clients, auto_clients, bad;
	gl_time *delays;
	size_t nd, capd;
	dom_row *rows;
	size_t nr, capr;
	int by_domain;
} stats_ctx;

/* qsort() for n items; an empty array may be NULL (qsort's may not). */
static void sort_n(void *base, size_t n, size_t size,
		   int (*cmp)(const void *, const void *))
{
	if (n > 1)
		qsort(base, n, size, cmp);
}

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

static int stats_one(void *arg, const void *key, size_t klen, const void *val,
		     size_t vlen)
{
	stats_ctx *sc = arg;
	const char *k = key;
	gl_triplet t;
	gl_record r;
	gl_client_record c;

	if (k[0] == 'c') {
		if (gl_client_record_decode(val, vlen, &c, NULL) < 0) {
			sc->bad++;
			return 0;
		}
		sc->clients++;
		if (sc->cfg->auto_whitelist_clients > 0 &&
		    c.count >= sc->cfg->auto_whitelist_clients &&
		    sc->now - c.last_pass <= sc->cfg->pass_lifetime)
			sc->auto_clients++;
		return 0;
	}
	if (k[0] != 't')
		return 0;
	if (gl_key_decode(key, klen, &t) < 0 ||
	    gl_record_decode(val, vlen, &r, NULL) < 0) {
		sc->bad++;
		return 0;
	}
	if (r.state == GL_PASSED) {
		sc->passed++;
		grow(&sc->delays, sc->nd, &sc->capd, sizeof *sc->delays);
		sc->delays[sc->nd++] = r.passed_at - r.first_seen;
	} else {
		sc->pending++;
	}
	if (sc->by_domain) {
		dom_row *d;

		grow(&sc->rows, sc->nr, &sc->capr, sizeof *sc->rows);
		d = &sc->rows[sc->nr++];
		d->domain = strdup(*gl_addr_domain(t.sender) ?
				   gl_addr_domain(t.sender) : t.sender);
		if (d->domain == NULL)
			die("out of memory");
		d->passes = r.state == GL_PASSED;
		d->deferrals = r.attempts - d->passes;
		d->delay = r.state == GL_PASSED ? r.passed_at - r.first_seen : -1;
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

static unsigned count_entries(const gl_whitelist *wl)
{
	const gl_wl_entry *e;
	unsigned n = 0;

	for (e = wl ? wl->head : NULL; e != NULL; e = e->next)
		n++;
	return n;
}

static gl_whitelist *load_dbwl(const gl_config *cfg, gl_store *st)
{
	gl_whitelist *wl = NULL;
	gl_notes bad = { 0 };
	char *text;
	size_t len, i;
	uint64_t gen;
	gl_err err;

	if (gl_dbwl_read(st, &text, &len, &gen, &err) < 0)
		die(err.msg);
	if (gl_whitelist_parse_text(&wl, text, len, cfg->sender_normalize,
				    "database", &bad, &err) < 0)
		die(err.msg);
	for (i = 0; i < bad.n; i++)
		fprintf(stderr, "%s: warning: %s\n", progname, bad.msg[i]);
	gl_notes_free(&bad);
	free(text);
	return wl;
}

static int cmd_stats(const gl_config *cfg, gl_store *st, int argc, char **argv)
{
	stats_ctx sc;
	gl_whitelist *dbwl;
	char master[300], via[300];
	int json = 0, i;
	gl_err err;
	size_t r;

	memset(&sc, 0, sizeof sc);
	for (i = 1; i < argc; i++)
		if (!strcmp(argv[i], "--json"))
			json = 1;
		else if (!strcmp(argv[i], "--by-domain"))
			sc.by_domain = 1;
		else
			usage();
	sc.cfg = cfg;
	sc.now = now_s();
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
				"pending", (json_int_t)sc.pending,
				"passed", (json_int_t)sc.passed,
				"whitelist", "files",
				(json_int_t)count_entries(cfg->whitelist),
				"database", (json_int_t)count_entries(dbwl),
				"auto_whitelisted_clients",
				(json_int_t)sc.auto_clients,
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
			/* With sentinels: the master in use, and who named it. */
			if (master[0])
				json_object_set_new(o, "redis", json_pack(
					"{s:s, s:s, s:s}", "master_name",
					cfg->redis_master_name, "master", master,
					"sentinel", via));
			emit(o, "the statistics");
		} else {
			printf("triplets:   %u pending, %u passed\n", sc.pending,
			       sc.passed);
			printf("whitelist:  %u entries in files, %u in the database\n",
			       count_entries(cfg->whitelist), count_entries(dbwl));
			printf("clients:    %u auto-whitelisted (of %u that passed mail)\n",
			       sc.auto_clients, sc.clients);
			if (sc.nd)
				printf("delay seen by passed mail: %zu triplets, "
				       "median %llds, p95 %llds, max %llds\n", sc.nd,
				       (long long)pct(sc.delays, sc.nd, 50),
				       (long long)pct(sc.delays, sc.nd, 95),
				       (long long)sc.delays[sc.nd - 1]);
			else
				printf("delay seen by passed mail: no passed triplets\n");
			if (master[0])
				printf("redis:      master '%s' at %s, named by "
				       "sentinel %s\n", cfg->redis_master_name,
				       master, via);
		}
		gl_whitelist_free(dbwl);
	}
	if (sc.bad)
		fprintf(stderr, "%s: %u records could not be read (see "
			"'recover')\n", progname, sc.bad);
	for (r = 0; r < sc.nr; r++)
		free(sc.rows[r].domain);
	free(sc.rows);
	free(sc.delays);
	return 0;
}

/* ---- whitelist ---- */

typedef struct wl_add {
	const char *line;   /* the entry as the database keeps it */
	const char *entry;
	int replaced;
} wl_add;

static int add_fn(void *arg, const char *cur, char *out)
{
	wl_add *a = arg;
	size_t n;

	a->replaced = drop_entry(cur, a->entry, out) > 0;
	n = strlen(out);
	if (n + strlen(a->line) + 2 > GL_DBWL_MAX)
		die("the whitelist in the database is full");
	snprintf(out + n, GL_DBWL_MAX + 1 - n, "%s\n", a->line);
	return 0;
}

static int del_fn(void *arg, const char *cur, char *out)
{
	return drop_entry(cur, arg, out) > 0 ? 1 : -1;
}

static const char *invoking_user(void)
{
	const char *u = getenv("SUDO_USER");
	struct passwd *pw;

	if (u != NULL && *u)
		return u;
	pw = getpwuid(getuid());
	return pw ? pw->pw_name : "unknown";
}

static void print_wl_entry(const gl_wl_entry *e, gl_time now, int json)
{
	char exp[32];

	if (json) {
		json_t *o = json_pack("{s:s, s:s, s:s, s:s, s:b}", "entry",
				      e->entry, "owner", e->owner, "comment",
				      e->comment, "origin", e->origin, "expired",
				      e->expires != 0 && now > e->expires);

		if (o != NULL) {
			json_object_set_new(o, "expires", e->expires ?
					    json_integer(e->expires) : json_null());
		}
		emit(o, "a record");
		return;
	}
	header_out();
	printf("%-32s %-12s %-19s%s %-28s %s\n", e->entry,
	       *e->owner ? e->owner : "-",
	       e->expires ? fmt_time(e->expires, exp, sizeof exp) : "never",
	       e->expires && now > e->expires ? "*" : " ", e->origin,
	       e->comment);
}

static int cmd_whitelist(const gl_config *cfg, gl_store *st, int argc,
			 char **argv)
{
	static const struct option lo[] = {
		{ "comment", required_argument, NULL, 'c' },
		{ "owner", required_argument, NULL, 'o' },
		{ "expires", required_argument, NULL, 'e' },
		{ "json", no_argument, NULL, 'j' },
		{ NULL, 0, NULL, 0 }
	};
	const char *comment = "", *owner = invoking_user(), *expires = NULL;
	char line[4200], p[100];
	gl_time now = now_s();
	gl_wl_entry *e;
	gl_err err;
	int ch, json = 0, blank;

	if (argc < 2)
		usage();
	/* Options after the subcommand: scan argv[1..] afresh. */
	argc--;
	argv++;
	optind = 0;
	while ((ch = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		switch (ch) {
		case 'c': comment = optarg; break;
		case 'o': owner = optarg; break;
		case 'e': expires = optarg; break;
		case 'j': json = 1; break;
		default: usage();
		}
	}
	if (!strcmp(argv[0], "list")) {
		gl_whitelist *dbwl = load_dbwl(cfg, st);
		const gl_wl_entry *x;

		if (optind != argc)
			usage();
		if (!json)
			set_header("%-32s %-12s %-20s %-28s %s\n", "ENTRY",
				   "OWNER", "EXPIRES (UTC)", "ORIGIN",
				   "COMMENT");
		for (x = cfg->whitelist ? cfg->whitelist->head : NULL; x; x = x->next)
			print_wl_entry(x, now, json);
		for (x = dbwl ? dbwl->head : NULL; x; x = x->next)
			print_wl_entry(x, now, json);
		gl_whitelist_free(dbwl);
		header_out();
		return 0;
	}
	if (optind != argc - 1)
		usage();
	if (!strcmp(argv[0], "del")) {
		if (dbwl_update(st, del_fn, argv[optind]) < 0) {
			fprintf(stderr, "%s: '%s' is not in the database whitelist"
				" (entries in files are changed in the file)\n",
				progname, gl_printable(p, sizeof p, argv[optind]));
			return 1;
		}
		printf("removed %s\n", argv[optind]);
		return 0;
	}
	if (strcmp(argv[0], "add") != 0)
		usage();
	if (strpbrk(owner, " \t\n#") || strpbrk(comment, "\n\r") ||
	    strpbrk(argv[optind], " \t\n#"))
		die("entry and owner cannot hold spaces or '#'; comments no newlines");
	{
		char raw[4200];
		int n = snprintf(raw, sizeof raw, "%s%s%s%s%s%s%s", argv[optind],
				 *owner ? " owner=" : "", owner,
				 expires ? " expires=" : "", expires ? expires : "",
				 *comment ? " # " : "", comment);

		if (n < 0 || (size_t)n >= sizeof raw)
			die("entry too long");
		e = gl_wl_parse(raw, cfg->sender_normalize, now, "database",
				&blank, &err);
		if (e == NULL) {
			fprintf(stderr, "%s: %s\n", progname,
				blank ? "empty entry" : err.msg);
			return 1;
		}
	}
	if (gl_wl_format(e, line, sizeof line) < 0)
		die("entry too long");
	if (e->expires != 0 && e->expires <= now)
		fprintf(stderr, "%s: warning: %s expired at %s UTC: it will "
			"never match ('purge' removes it)\n", progname,
			e->entry, fmt_time(e->expires, p, sizeof p));
	{
		wl_add a = { line, argv[optind], 0 };
		char exp[32];

		dbwl_update(st, add_fn, &a);
		printf("%s %s (owner %s, expires %s%s)%s%s\n",
		       a.replaced ? "updated" : "added", e->entry,
		       *e->owner ? e->owner : "-",
		       e->expires ? fmt_time(e->expires, exp, sizeof exp) :
		       "never", e->expires ? " UTC" : "",
		       *e->comment ? " # " : "", e->comment);
	}
	gl_wl_entry_free(e);
	return 0;
}

/* ---- clients ---- */

static int clients_one(void *arg, const void *key, size_t klen,
		       const void *val, size_t vlen)
{
	const gl_config *cfg = ((void **)arg)[0];
	int json = *(int *)((void **)arg)[1];
	gl_client_record c;
	char client[GL_CLIENT_MAX + 1], a[32], b[32];
	int is_auto;

	if (klen < 3 || ((const char *)key)[0] != 'c' || klen - 2 > GL_CLIENT_MAX ||
	    gl_client_record_decode(val, vlen, &c, NULL) < 0)
		return 0;
	memcpy(client, (const char *)key + 2, klen - 2);
	client[klen - 2] = '\0';
	is_auto = cfg->auto_whitelist_clients > 0 &&
		  c.count >= cfg->auto_whitelist_clients &&
		  now_s() - c.last_pass <= cfg->pass_lifetime;
	if (json) {
		json_t *o = json_pack("{s:s, s:I, s:I, s:I, s:b}", "client", client,
				      "passed", (json_int_t)c.count, "first_pass",
				      (json_int_t)c.first_pass, "last_pass",
				      (json_int_t)c.last_pass, "auto_whitelisted",
				      is_auto);

		emit(o, "a record");
	} else {
		header_out();
		printf("%-40s %6u %-19s %-19s %s\n", client, c.count,
		       fmt_time(c.first_pass, a, sizeof a),
		       fmt_time(c.last_pass, b, sizeof b), is_auto ? "yes" : "no");
	}
	return 0;
}

static int cmd_clients(const gl_config *cfg, gl_store *st, int argc,
		       char **argv)
{
	int json = argc == 2 && !strcmp(argv[1], "--json");
	void *arg[2] = { (void *)cfg, &json };
	gl_err err;

	if (argc > 2 || (argc == 2 && !json))
		usage();
	if (!json)
		set_header("%-40s %6s %-19s %-19s %s\n", "CLIENT", "PASSED",
			   "FIRST PASS (UTC)", "LAST PASS (UTC)", "AUTO");
	if (gl_store_scan(st, clients_one, arg, &err) < 0)
		die(err.msg);
	header_out();
	return 0;
}

/* ---- export and import ---- */

static int export_one(void *arg, const void *key, size_t klen,
		      const void *val, size_t vlen)
{
	const char *k = key;
	json_t *o = NULL;
	gl_triplet t;
	gl_record r;
	gl_client_record c;
	char client[GL_CLIENT_MAX + 1];

	(void)arg;
	if (k[0] == 't' && gl_key_decode(key, klen, &t) == 0 &&
	    gl_record_decode(val, vlen, &r, NULL) == 0) {
		o = json_pack("{s:s, s:s, s:s, s:s, s:s, s:I, s:I, s:I, s:I}",
			      "type", "triplet", "client", t.client, "sender",
			      t.sender, "recipient", t.rcpt, "state",
			      gl_state_name(r.state), "first_seen",
			      (json_int_t)r.first_seen, "last_seen",
			      (json_int_t)r.last_seen, "attempts",
			      (json_int_t)r.attempts, "passed_at",
			      (json_int_t)r.passed_at);
	} else if (k[0] == 'c' && klen > 2 && klen - 2 <= GL_CLIENT_MAX &&
		   gl_client_record_decode(val, vlen, &c, NULL) == 0) {
		memcpy(client, k + 2, klen - 2);
		client[klen - 2] = '\0';
		o = json_pack("{s:s, s:s, s:I, s:I, s:I}", "type", "client",
			      "client", client, "passed", (json_int_t)c.count,
			      "first_pass", (json_int_t)c.first_pass,
			      "last_pass", (json_int_t)c.last_pass);
	} else {
		return 0; /* the whitelist is exported apart; junk is skipped */
	}
	emit(o, "a record");
	return 0;
}

static int cmd_export(const gl_config *cfg, gl_store *st, int argc,
		      char **argv)
{
	gl_whitelist *dbwl;
	const gl_wl_entry *e;
	gl_err err;
	(void)argv;

	if (argc != 1)
		usage();
	if (gl_store_scan(st, export_one, NULL, &err) < 0)
		die(err.msg);
	dbwl = load_dbwl(cfg, st);
	for (e = dbwl ? dbwl->head : NULL; e != NULL; e = e->next) {
		json_t *o = json_pack("{s:s, s:s, s:s, s:I, s:s}", "type",
				      "whitelist", "entry", e->entry, "owner",
				      e->owner, "expires", (json_int_t)e->expires,
				      "comment", e->comment);

		emit(o, "a record");
	}
	gl_whitelist_free(dbwl);
	if (fflush(stdout) != 0 || ferror(stdout))
		die("cannot write the export");
	return 0;
}

static const char *jstr(json_t *o, const char *name)
{
	json_t *v = json_object_get(o, name);

	return json_is_string(v) ? json_string_value(v) : NULL;
}

static int jint(json_t *o, const char *name, json_int_t *out)
{
	json_t *v = json_object_get(o, name);

	if (!json_is_integer(v))
		return -1;
	*out = json_integer_value(v);
	return 0;
}

typedef struct import_ctx {
	pairs ps;
	char *wl;       /* whitelist lines to merge */
	size_t wllen;
	size_t nwl;     /* how many */
} import_ctx;

/* Turns one JSON line into a pair or a whitelist line; NULL or why. */
static const char *import_line(const gl_config *cfg, import_ctx *ic,
			       json_t *o)
{
	const char *type = jstr(o, "type");
	json_int_t a, b, c, d;
	char key[GL_KEY_MAX];
	int klen;

	if (type == NULL)
		return "no \"type\"";
	if (!strcmp(type, "triplet")) {
		gl_triplet t;
		gl_record r, check;
		unsigned char v[GL_RECORD_SIZE];
		const char *st = jstr(o, "state");

		if (!jstr(o, "client") || !jstr(o, "sender") || !jstr(o, "recipient") ||
		    !st || jint(o, "first_seen", &a) || jint(o, "last_seen", &b) ||
		    jint(o, "attempts", &c) || jint(o, "passed_at", &d))
			return "a triplet wants client, sender, recipient, state, "
			       "first_seen, last_seen, attempts and passed_at";
		if (gl_copy(t.client, sizeof t.client, jstr(o, "client")) < 0 ||
		    gl_copy(t.sender, sizeof t.sender, jstr(o, "sender")) < 0 ||
		    gl_copy(t.rcpt, sizeof t.rcpt, jstr(o, "recipient")) < 0)
			return "a field is too long";
		if (c < 1 || c > UINT32_MAX)
			return "bad attempts";
		r.state = !strcmp(st, "passed") ? GL_PASSED : GL_PENDING;
		if (strcmp(st, "passed") && strcmp(st, "pending"))
			return "state is neither pending nor passed";
		r.first_seen = a;
		r.last_seen = b;
		r.attempts = (uint32_t)c;
		r.passed_at = d;
		gl_record_encode(&r, v);
		if (gl_record_decode(v, sizeof v, &check, NULL) < 0)
			return "impossible times for its state";
		klen = gl_key_encode(&t, key, sizeof key);
		if (klen < 0 || gl_key_decode(key, (size_t)klen, &t) < 0)
			return "empty or too long client, sender or recipient";
		pairs_add(&ic->ps, key, (size_t)klen, v, sizeof v);
		return NULL;
	}
	if (!strcmp(type, "client")) {
		gl_client_record cr, check;
		unsigned char v[GL_CLIENT_RECORD_SIZE];
		const char *client = jstr(o, "client");

		if (!client || jint(o, "passed", &a) || jint(o, "first_pass", &b) ||
		    jint(o, "last_pass", &c))
			return "a client wants client, passed, first_pass, last_pass";
		if (a < 1 || a > UINT32_MAX)
			return "bad passed count";
		cr.count = (uint32_t)a;
		cr.first_pass = b;
		cr.last_pass = c;
		gl_client_record_encode(&cr, v);
		klen = gl_client_key(client, key, sizeof key);
		if (klen < 0 || !*client || strlen(client) > GL_CLIENT_MAX ||
		    gl_client_record_decode(v, sizeof v, &check, NULL) < 0)
			return "bad client record";
		pairs_add(&ic->ps, key, (size_t)klen, v, sizeof v);
		return NULL;
	}
	if (!strcmp(type, "whitelist")) {
		char raw[4200], line[4200];
		const char *entry = jstr(o, "entry"), *owner = jstr(o, "owner");
		const char *comment = jstr(o, "comment");
		gl_wl_entry *e;
		gl_err err;
		int blank, n;

		if (!entry || !owner || !comment || jint(o, "expires", &a))
			return "a whitelist entry wants entry, owner, expires, comment";
		if (strpbrk(entry, " \t\n#") || strpbrk(owner, " \t\n#") ||
		    strpbrk(comment, "\r\n"))
			return "spaces or '#' in entry or owner, or a newline";
		n = snprintf(raw, sizeof raw, "%s%s%s", entry, *owner ? " owner=" : "", owner);
		if (a > 0)
			n += snprintf(raw + n, sizeof raw - (size_t)n, " expires=@%lld", (long long)a);
		if (*comment)
			snprintf(raw + n, sizeof raw - (size_t)n, " # %s", comment);
		e = gl_wl_parse(raw, cfg->sender_normalize, 0, "database", &blank, &err);
		if (e == NULL || gl_wl_format(e, line, sizeof line) < 0) {
			gl_wl_entry_free(e);
			return "not a whitelist entry";
		}
		gl_wl_entry_free(e);
		n = (int)strlen(line);
		ic->wl = realloc(ic->wl, ic->wllen + (size_t)n + 2);
		if (ic->wl == NULL)
			die("out of memory");
		memcpy(ic->wl + ic->wllen, line, (size_t)n);
		ic->wllen += (size_t)n;
		ic->wl[ic->wllen++] = '\n';
		ic->wl[ic->wllen] = '\0';
		ic->nwl++;
		return NULL;
	}
	return "unknown \"type\"";
}

static int merge_fn(void *arg, const char *cur, char *out)
{
	const char *add = arg, *p, *nl;
	char entry[4200];
	size_t n;

	/* Each imported entry replaces one of the same name. */
	snprintf(out, GL_DBWL_MAX + 1, "%s", cur);
	for (p = add; *p; p = nl + 1) {
		char *tmp = strdup(out);

		nl = strchr(p, '\n');
		n = strcspn(p, " \n");
		if (tmp == NULL || n >= sizeof entry)
			die("out of memory");
		memcpy(entry, p, n);
		entry[n] = '\0';
		drop_entry(tmp, entry, out);
		free(tmp);
		n = strlen(out);
		if (n + (size_t)(nl - p) + 2 > GL_DBWL_MAX)
			die("the whitelist in the database would be too large");
		memcpy(out + n, p, (size_t)(nl - p) + 1);
		out[n + (size_t)(nl - p) + 1] = '\0';
	}
	return 0;
}

static int cmd_import(const gl_config *cfg, gl_store *st, int argc,
		      char **argv)
{
	import_ctx ic;
	char *line = NULL;
	size_t cap = 0, lineno = 0, done;
	ssize_t n;
	(void)argv;

	if (argc != 1)
		usage();
	memset(&ic, 0, sizeof ic);
	/* Everything is checked before anything is written. */
	while ((n = getline(&line, &cap, stdin)) > 0) {
		json_error_t je;
		json_t *o;
		const char *why;

		lineno++;
		if (n == 1 && line[0] == '\n')
			continue;
		o = json_loadb(line, (size_t)n, 0, &je);
		if (o == NULL || !json_is_object(o)) {
			fprintf(stderr, "%s: stdin:%zu: not a JSON object: %s "
				"(nothing imported)\n", progname, lineno,
				o ? "" : je.text);
			return 1;
		}
		why = import_line(cfg, &ic, o);
		json_decref(o);
		if (why != NULL) {
			fprintf(stderr, "%s: stdin:%zu: %s (nothing imported)\n",
				progname, lineno, why);
			return 1;
		}
	}
	free(line);
	done = write_pairs(cfg, st, &ic.ps, 1);
	if (ic.wl != NULL)
		dbwl_update(st, merge_fn, ic.wl);
	printf("imported %zu records and %zu whitelist entries\n", done,
	       ic.nwl);
	if (done < ic.ps.n)
		die("some records changed while importing and were not written");
	pairs_free(&ic.ps);
	free(ic.wl);
	return 0;
}

/* ---- recover ---- */

static int recover_valid(void *arg, const void *k, size_t kl, const void *v,
			 size_t vl)
{
	return gl_pair_valid(arg, k, kl, v, vl);
}

static int cmd_recover(const gl_config *cfg, gl_store *st, int argc,
		       char **argv)
{
	gl_recover_report rep;
	gl_err err;
	(void)st, (void)argv;

	if (argc != 1)
		usage();
	if (cfg->backend != GL_BACKEND_GDBM)
		die("recover works on the gdbm backend only");
	if (gl_gdbm_recover(cfg->database, 5000, recover_valid, (void *)cfg,
			    &rep, &err) < 0)
		die(err.msg);
	if (rep.kept == 0 && rep.lost == 1 && rep.backup[0])
		printf("recovered %s: its header was unreadable, so it starts "
		       "empty; the old file is %s\n", cfg->database, rep.backup);
	else
		printf("recovered %s: kept %zu records, lost %zu%s%s\n",
		       cfg->database, rep.kept, rep.lost,
		       rep.backup[0] ? "; the old file is " : "", rep.backup);
	return 0;
}

/* ---- snapshot ---- */

static int cmd_snapshot(const gl_config *cfg, gl_store *st, int argc,
			char **argv)
{
	gl_err err;
	(void)st, (void)argv;

	if (argc != 1)
		usage();
	if (cfg->backend != GL_BACKEND_LMDB)
		die("snapshot is for backend = lmdb");
	if (gl_lmdb_snapshot(cfg, &err) < 0)
		die(err.msg);
	printf("snapshot of %s written to %s\n", cfg->database,
	       cfg->lmdb_snapshot);
	return 0;
}

static const struct command {
	const char *name;
	int (*run)(const gl_config *cfg, gl_store *st, int argc, char **argv);
	int store; /* opens the store first */
} commands[] = {
	{ "list", cmd_list, 1 },
	{ "explain", cmd_explain, 1 },
	{ "purge", cmd_purge, 1 },
	{ "stats", cmd_stats, 1 },
	{ "whitelist", cmd_whitelist, 1 },
	{ "clients", cmd_clients, 1 },
	{ "export", cmd_export, 1 },
	{ "import", cmd_import, 1 },
	{ "delete", cmd_delete, 1 },
	{ "recover", cmd_recover, 0 },
	{ "snapshot", cmd_snapshot, 0 },
};

int main(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 }
	};
	const char *conf = GL_DEFAULT_CONFIG;
	const struct command *cmd = NULL;
	gl_config cfg;
	gl_store *st = NULL;
	gl_err err;
	char p[64];
	size_t i;
	int ch, rc;

	while ((ch = getopt_long(argc, argv, "+c:h", lo, NULL)) != -1) {
		switch (ch) {
		case 'c': conf = optarg; break;
		case 'h':
			printf(usage_text, progname, progname);
			return 0;
		case 'V':
			printf("%s %s\n", progname, GL_VERSION);
			return 0;
		default: usage();
		}
	}
	argc -= optind;
	argv += optind;
	if (argc < 1)
		usage();
	if (!strcmp(argv[0], "check"))
		return cmd_check(conf, argc, argv);
	for (i = 0; i < sizeof commands / sizeof *commands; i++)
		if (!strcmp(argv[0], commands[i].name))
			cmd = &commands[i];
	if (cmd == NULL) {
		fprintf(stderr, "%s: unknown command '%s' (see %s --help)\n",
			progname, gl_printable(p, sizeof p, argv[0]), progname);
		return 2;
	}
	if (gl_config_load(conf, &cfg, &err) < 0) {
		fprintf(stderr, "%s: %s (run '%s -c %s check' for every "
			"problem)\n", progname, err.msg, progname, conf);
		gl_config_free(&cfg);
		return 1;
	}
	for (i = 0; i < cfg.warnings.n; i++)
		fprintf(stderr, "%s: warning: %s\n", progname,
			cfg.warnings.msg[i]);
	admin_act_as_db_owner(&cfg, progname);
	if (cmd->store && (st = gl_store_open(&cfg, &err)) == NULL)
		die(err.msg);
	rc = cmd->run(&cfg, st, argc, argv);
	gl_store_close(st);
	gl_config_free(&cfg);
	return rc;
}
