/* list.c - greylist-admin list, explain and delete: one triplet or many. */
#include "admin.h"

#include <getopt.h>
#include <stdlib.h>
#include <string.h>

/* delete: how often it reads the triplet again after a decision changed
 * it between the read and the delete. */
#define DELETE_TRIES 10

static int explain_print(const gl_config *cfg, const gl_result *r,
			 const gl_err *failed);


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
	gl_pair p;
	int rc = gl_pair_decode(key, klen, val, vlen, &p, NULL);

	if (p.kind != GL_KEY_TRIPLET)
		return 0;
	if (rc != 0) {
		v->bad++;
		return 0;
	}
	return v->fn(v->arg, &p.t, &p.r, key, klen, val, vlen);
}

static unsigned each_triplet(gl_store *st, triplet_visit *v)
{
	gl_err err;

	v->bad = 0;
	if (gl_store_scan(st, visit_one, v, &err) < 0)
		die(err.msg);
	return v->bad;
}


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

int cmd_list(admin *a, int argc, char **argv)
{
	const gl_config *cfg = a->cfg;
	gl_store *st = a->st;
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
	int ch, is_address = 0;
	gl_err err;

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
	if (o.client && (gl_client_of(cfg, o.client, o.subnet,
				      sizeof o.subnet, &is_address, &err) < 0 ||
			 !is_address))
		o.subnet[0] = '\0';
	if (o.client && !is_address &&
	    gl_net_parse(o.client, &o.net, NULL) == 0) {
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


int cmd_explain(admin *a, int argc, char **argv)
{
	const gl_config *cfg = a->cfg;
	gl_store *st = a->st;
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
	if (!res.wl && res.host_note[0])
		printf("host:      not used as a pool: %s\n", res.host_note);
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


int cmd_delete(admin *a, int argc, char **argv)
{
	const gl_config *cfg = a->cfg;
	gl_store *st = a->st;
	gl_triplet t;
	char key[GL_KEY_MAX];
	unsigned char val[GL_VALUE_MAX];
	size_t vlen = sizeof val;
	gl_err err;
	int klen, rc, tries, is_address;

	if (argc != 4)
		usage();
	if (gl_client_of(cfg, argv[1], t.client, sizeof t.client, &is_address,
			 &err) < 0)
		die_err(&err);
	if (gl_fold_sender(argv[2], cfg->sender_normalize, t.sender,
			   sizeof t.sender, &err) < 0 ||
	    gl_fold_rcpt(argv[3], t.rcpt, sizeof t.rcpt, &err) < 0)
		die(err.msg);
	klen = gl_key_encode(&t, key, sizeof key);
	if (klen < 0)
		die("key too long");
	for (tries = 0; tries < DELETE_TRIES; tries++) {
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
	if (tries == DELETE_TRIES)
		die("the triplet changed at every try: the module is deciding "
		    "on it; try again");
	printf("deleted %s %s %s\n", t.client, t.sender, t.rcpt);
	admin_save(a);
	return 0;
}

