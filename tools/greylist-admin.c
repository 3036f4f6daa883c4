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
#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../module/core/decide.h"

static const char *progname = "greylist-admin";

static void usage(void)
{
	fprintf(stderr,
		"usage: %s [-c FILE] COMMAND [ARGS]\n"
		"commands:\n"
		"  list [--json] [--state S] [--client C] [--sender S] [--recipient R]\n"
		"  explain IP SENDER RECIPIENT [host=NAME] [spf=RESULT] [helo=NAME]\n"
		"  purge\n"
		"  delete CLIENT SENDER RECIPIENT\n",
		progname);
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
	unsigned shown;
} list_opts;

static int client_matches(list_opts *o, const char *client)
{
	CIDR c;

	if (o->client == NULL)
		return 1;
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
		if (j == NULL)
			die("out of memory");
		if (r->state == GL_PASSED) {
			json_object_set_new(j, "passed_at",
					    json_integer(r->passed_at));
			json_object_set_new(j, "delay", json_integer(
					    r->passed_at - r->first_seen));
		}
		json_dumpf(j, stdout, JSON_COMPACT | JSON_PRESERVE_ORDER);
		putchar('\n');
		json_decref(j);
	} else {
		char d[32] = "-";

		if (r->state == GL_PASSED)
			snprintf(d, sizeof d, "%llds",
				 (long long)(r->passed_at - r->first_seen));
		printf("%-20s %-7s %-19s %-19s %5u %8s  %s -> %s\n", t->client,
		       gl_state_name(r->state), fmt_time(r->first_seen, f, sizeof f),
		       fmt_time(r->last_seen, l, sizeof l), r->attempts, d,
		       t->sender, t->rcpt);
	}
	return 0;
}

static int cmd_list(gl_store *st, int argc, char **argv)
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
	optind = 1;
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
	if (o.client && gl_net_parse(o.client, &o.net, NULL) == 0)
		o.have_net = 1;
	if (!o.json)
		printf("%-20s %-7s %-19s %-19s %5s %8s  %s\n", "CLIENT",
		       "STATE", "FIRST SEEN (UTC)", "LAST SEEN (UTC)",
		       "TRIES", "DELAY", "SENDER -> RECIPIENT");
	v.fn = list_one;
	v.arg = &o;
	bad = each_triplet(st, &v);
	if (bad)
		fprintf(stderr, "%s: %u records could not be read (see "
			"'recover')\n", progname, bad);
	return 0;
}

/* ---- explain ---- */

static int cmd_explain(const gl_config *cfg, gl_store *st, int argc,
		       char **argv)
{
	gl_request req;
	gl_result res;
	gl_ctx ctx;
	gl_err err;
	char y[64], a[32], b[32];
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
	gl_ctx_free(&ctx);
	if (rc < 0) {
		gl_error_result(cfg, &res);
		gl_yield(&res, y, sizeof y);
		printf("answer:    %s (on_error, because: %s)\n", y, err.msg);
		return 0;
	}
	gl_yield(&res, y, sizeof y);
	printf("answer:    %s\n", y);
	printf("client:    %s\n", res.wl ? "(not needed: whitelisted)" :
	       res.t.client);
	printf("sender:    %s\n", res.t.sender);
	printf("recipient: %s\n", res.t.rcpt);
	if (res.wl) {
		printf("whitelist: %s (%s)%s%s%s%s\n", res.wl->entry,
		       res.wl->origin, *res.wl->owner ? " owner=" : "",
		       res.wl->owner, *res.wl->comment ? " # " : "",
		       res.wl->comment);
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

/* ---- purge ---- */

typedef struct purge_item {
	struct purge_item *next;
	size_t klen, vlen;
	unsigned char data[];
} purge_item;

typedef struct purge_ctx {
	const gl_config *cfg;
	gl_time now;
	purge_item *head;
	unsigned pending, passed;
} purge_ctx;

static int purge_one(void *arg, const gl_triplet *t, const gl_record *r,
		     const void *key, size_t klen, const void *val, size_t vlen)
{
	purge_ctx *p = arg;
	purge_item *it;

	(void)t;
	if (r->state == GL_PENDING ?
	    p->now - r->first_seen <= p->cfg->retry_window :
	    p->now - r->last_seen <= p->cfg->pass_lifetime)
		return 0;
	it = malloc(sizeof *it + klen + vlen);
	if (it == NULL)
		die("out of memory");
	it->klen = klen;
	it->vlen = vlen;
	memcpy(it->data, key, klen);
	memcpy(it->data + klen, val, vlen);
	it->next = p->head;
	p->head = it;
	return 0;
}

static int cmd_purge(const gl_config *cfg, gl_store *st, int argc)
{
	purge_ctx p;
	triplet_visit v;
	purge_item *it, *next;
	unsigned removed = 0, changed = 0, bad;
	gl_err err;
	int rc;

	if (argc != 1)
		usage();
	memset(&p, 0, sizeof p);
	p.cfg = cfg;
	p.now = now_s();
	v.fn = purge_one;
	v.arg = &p;
	bad = each_triplet(st, &v);
	for (it = p.head; it != NULL; it = next) {
		next = it->next;
		/* Deletes only if unchanged since the scan. */
		rc = gl_store_cas(st, it->data, it->klen, it->data + it->klen,
				  it->vlen, NULL, 0, 0, &err);
		if (rc < 0)
			die(err.msg);
		if (rc == 1)
			removed++;
		else
			changed++;
		free(it);
	}
	printf("purged %u expired triplets", removed);
	if (changed)
		printf(" (%u more changed while purging, kept)", changed);
	printf("\n");
	if (bad)
		fprintf(stderr, "%s: %u records could not be read (see "
			"'recover')\n", progname, bad);
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

int main(int argc, char **argv)
{
	const char *conf = GL_DEFAULT_CONFIG;
	gl_config cfg;
	gl_store *st;
	gl_err err;
	int ch, rc;

	while ((ch = getopt(argc, argv, "+c:h")) != -1) {
		switch (ch) {
		case 'c': conf = optarg; break;
		default: usage();
		}
	}
	argc -= optind;
	argv += optind;
	if (argc < 1)
		usage();
	if (gl_config_load(conf, &cfg, &err) < 0)
		die(err.msg);
	st = gl_store_open(&cfg, &err);
	if (st == NULL)
		die(err.msg);
	if (!strcmp(argv[0], "list"))
		rc = cmd_list(st, argc, argv);
	else if (!strcmp(argv[0], "explain"))
		rc = cmd_explain(&cfg, st, argc, argv);
	else if (!strcmp(argv[0], "purge"))
		rc = cmd_purge(&cfg, st, argc);
	else if (!strcmp(argv[0], "delete"))
		rc = cmd_delete(&cfg, st, argc, argv);
	else
		usage();
	gl_store_close(st);
	gl_config_free(&cfg);
	return rc;
}
