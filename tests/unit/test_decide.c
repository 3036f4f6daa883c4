/* test_decide.c - whole decisions through the core and a real GDBM file. */
#include "unit.h"

#include "../../module/core/decide.h"
#include "../../module/core/batch.h"
#include "../../module/core/purge.h"

#define T0 1800000000

static char dir[256];
static gl_config cfg;
static gl_store *st;

static int setup(void **state)
{
	gl_err err;

	(void)state;
	unit_tmpdir(dir, sizeof dir);
	gl_config_defaults(&cfg);
	snprintf(cfg.database, sizeof cfg.database, "%s/g.gdbm", dir);
	st = gl_store_open(&cfg, &err);
	assert_non_null(st);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	gl_store_close(st);
	gl_config_free(&cfg);
	unit_rmdir(dir);
	return 0;
}

static const char *last_client; /* client part of the last run() */
static const char *last_note;   /* why its host= was not used, or "" */

static const char *run_req(const gl_request *rq, gl_time now, int dry);

static const char *run(const char *ip, const char *from, const char *to,
		       gl_time now, int dry)
{
	gl_request req = { ip, from, to, NULL, NULL, NULL };

	return run_req(&req, now, dry);
}

static const char *run_req(const gl_request *rq, gl_time now, int dry)
{
	static char y[GL_ERR_MAX + 8];
	static gl_result res;
	gl_request req = *rq;
	gl_err err;
	gl_ctx ctx;
	int rc;

	gl_ctx_init(&ctx, &cfg, st);
	rc = gl_decide(&ctx, &req, now, dry, &res, &err);
	gl_ctx_free(&ctx);
	if (rc < 0)
		snprintf(y, sizeof y, "ERR %s", err.msg);
	else
		gl_yield(&res, y, sizeof y);
	last_client = res.t.client;
	last_note = res.host_note;
	return y;
}

static char kind; /* the first key byte records() counts */

static int count_fn(void *arg, const void *k, size_t kl, const void *v,
		    size_t vl)
{
	(void)kl, (void)v, (void)vl;
	if (*(const char *)k == kind)
		(*(int *)arg)++;
	return 0;
}

/* Triplet records ('t'), or client records with kind 'c'. */
static int records_of(char k)
{
	gl_err err;
	int n = 0;

	kind = k;
	assert_int_equal(gl_store_scan(st, count_fn, &n, &err), 0);
	return n;
}

static int records(void)
{
	return records_of('t');
}

static void test_lifecycle(void **state)
{
	const char *s = "Alice+x@Sender.example", *r = "Bob@Our.example";

	assert_string_equal(run("192.0.2.7", s, r, T0, 0), "defer 300 new");
	assert_int_equal(records(), 1);
	assert_string_equal(run("192.0.2.7", s, r, T0 + 10, 0), "defer 290 early");
	assert_string_equal(run("192.0.2.8", "alice@sender.example", r,
				T0 + 299, 0), "defer 1 early");
	assert_string_equal(run("192.0.2.9", s, r, T0 + 300, 0), "accept pass 300");
	assert_string_equal(run("192.0.2.7", s, r, T0 + 400, 0), "accept known");
	assert_string_equal(run("192.0.3.7", s, r, T0 + 400, 0), "defer 300 new");
	assert_string_equal(run("192.0.2.7", s, "other@our.example", T0 + 400, 0),
			    "defer 300 new");
	assert_string_equal(run("192.0.2.7", "", r, T0 + 400, 0), "defer 300 new");
	assert_string_equal(run("192.0.2.7", "<>", r, T0 + 700, 0), "accept pass 300");
	assert_string_equal(run("2001:db8:1:2::1", s, r, T0, 0), "defer 300 new");
	assert_string_equal(run("2001:db8:1:2:ffff::9", s, r, T0 + 300, 0),
			    "accept pass 300");
	assert_string_equal(run("::ffff:192.0.2.1", s, r, T0 + 500, 0),
			    "accept known");
	assert_int_equal(records(), 5);
	/* Two clients have passed a triplet each. */
	assert_int_equal(records_of('c'), 2);
	(void)state;
}

static void test_dry_run(void **state)
{
	assert_string_equal(run("192.0.2.7", "a@b.example", "c@d.example", T0, 1),
			    "defer 300 new");
	assert_int_equal(records(), 0);
	assert_string_equal(run("192.0.2.7", "a@b.example", "c@d.example", T0, 0),
			    "defer 300 new");
	assert_string_equal(run("192.0.2.7", "a@b.example", "c@d.example",
				T0 + 300, 1), "accept pass 300");
	assert_string_equal(run("192.0.2.7", "a@b.example", "c@d.example",
				T0 + 301, 0), "accept pass 301");
	(void)state;
}

static void test_whitelist(void **state)
{
	char path[512];
	gl_request req = { "192.0.2.7", "a@b.example", "Postmaster@Our.example",
			   NULL, NULL, NULL };
	gl_result res;
	gl_err err;

	unit_write(dir, "wl", "rcpt:postmaster@our.example owner=ops\n", path,
		   sizeof path);
	assert_int_equal(gl_whitelist_load_file(&cfg.whitelist, path, 1, NULL, &err), 0);
	gl_ctx ctx;

	gl_ctx_init(&ctx, &cfg, st);
	assert_int_equal(gl_decide(&ctx, &req, T0, 0, &res, &err), 0);
	gl_ctx_free(&ctx);
	assert_int_equal(res.verdict, GL_ACCEPT);
	assert_string_equal(res.reason, "whitelist");
	assert_non_null(res.wl);
	assert_string_equal(res.wl->owner, "ops");
	assert_int_equal(records(), 0);
	(void)state;
}

static void test_errors(void **state)
{
	const char *y;
	char key[GL_KEY_MAX];
	gl_triplet t = { "192.0.2.0/24", "a@b.example", "c@d.example" };
	gl_result res;
	gl_err err;
	int n;

	y = run("not-an-ip", "a@b.example", "c@d.example", T0, 0);
	assert_string_equal(y, "ERR 'not-an-ip' is not an IP address");
	y = run("192.0.2.1", "a@b.example", "", T0, 0);
	assert_string_equal(y, "ERR empty recipient address");
	/* A record the decoder refuses: an error naming the database. */
	n = gl_key_encode(&t, key, sizeof key);
	assert_int_equal(gl_store_cas(st, key, (size_t)n, NULL, 0, "junk", 4, 0,
				      &err), 1);
	y = run("192.0.2.1", "a@b.example", "c@d.example", T0, 0);
	assert_non_null(strstr(y, cfg.database));
	assert_non_null(strstr(y, "record of 4 bytes"));
	/* on_error decides the answer. */
	gl_error_result(&cfg, &res);
	gl_yield(&res, key, 64);
	assert_string_equal(key, "accept error");
	cfg.on_error = GL_ON_ERROR_DEFER;
	gl_error_result(&cfg, &res);
	gl_yield(&res, key, 64);
	assert_string_equal(key, "defer 300 error");
	(void)state;
}

/* A store where every write loses the race: the decision gives up. */
static int race_get(gl_store *s, gl_get_item *it, size_t n, gl_err *e)
{
	(void)s, (void)e;
	while (n-- > 0)
		it[n].found = 0;
	return 0;
}

static int race_cas(gl_store *s, gl_cas_item *it, size_t n, gl_err *e)
{
	(void)s, (void)e;
	while (n-- > 0)
		it[n].done = 0;
	return 0;
}

static void test_lost_races(void **state)
{
	static const struct gl_store_ops ops = { .name = "race",
		.get = race_get, .casv = race_cas };
	gl_store race = { .ops = &ops, .where = "race", .timeout_ms = 200 };
	gl_store *saved = st;
	const char *y;

	st = &race;
	y = run("192.0.2.1", "a@b.example", "c@d.example", T0, 0);
	st = saved;
	assert_non_null(strstr(y, "ERR database busy"));
	(void)state;
}

static void test_pools(void **state)
{
	gl_request a = { "192.0.2.7", "bounce-1@Vendor.example", "r@our.example",
			 NULL, NULL, "pass" };
	gl_request b = { "203.0.113.9", "bounce-2@vendor.example", "r@our.example",
			 NULL, NULL, "pass" };
	gl_request h1 = { "192.0.2.7", "x@outlook.example", "r@our.example",
			  "mail-eopbgr60135.outbound.protection.outlook.com",
			  NULL, NULL };
	gl_request h2 = h1;

	/* spf=pass: the sender's domain is the client; VERP folded. */
	assert_string_equal(run_req(&a, T0, 0), "defer 300 new");
	assert_string_equal(last_client, "spf:vendor.example");
	assert_string_equal(run_req(&b, T0 + 300, 0), "accept pass 300");
	/* A verified host name of 3+ labels, less its first label. */
	assert_string_equal(run_req(&h1, T0, 0), "defer 300 new");
	assert_string_equal(last_client, "host:outbound.protection.outlook.com");
	h2.ip = "198.51.100.3";
	h2.host = "MAIL-DB8EUR05ON2100.outbound.protection.outlook.com";
	assert_string_equal(run_req(&h2, T0 + 300, 0), "accept pass 300");
	/* Otherwise the subnet: spf other than pass, 2-label names. */
	a.spf = "softfail";
	run_req(&a, T0, 1);
	assert_string_equal(last_client, "192.0.2.0/24");
	h1.host = "example.com";
	run_req(&h1, T0, 1);
	assert_string_equal(last_client, "192.0.2.0/24");
	h1.host = "bad name!.example.com";
	run_req(&h1, T0, 1);
	assert_string_equal(last_client, "192.0.2.0/24");
	cfg.match_pools = 0;
	b.spf = "pass";
	run_req(&b, T0, 1);
	assert_string_equal(last_client, "203.0.113.0/24");
	(void)state;
}

/* Names that would merge strangers key on the subnet, and say why;
 * a pool's hosts in different /24s still share their pool. */
static void test_pool_names(void **state)
{
	static const struct { const char *ip, *host, *client, *note; } c[] = {
		{ "192.0.2.7", "examplecorp.co.uk", "192.0.2.0/24",
		  "examplecorp.co.uk is a registered domain itself" },
		{ "192.0.2.7", "x.github.io", "192.0.2.0/24",
		  "a registered domain itself" },
		{ "203.0.113.5", "shop.com.au", "203.0.113.0/24",
		  "a registered domain itself" },
		{ "198.51.100.23", "198-51-100-23.dyn.isp.example",
		  "198.51.100.0/24", "carries the client's address (its octets)" },
		{ "203.0.113.9", "c-203-0-113-9.hsd1.ca.isp.example",
		  "203.0.113.0/24", "carries the client's address" },
		{ "203.0.113.9", "x.pool.isp.example", "203.0.113.0/24",
		  "has 'pool', which marks a dynamic" },
		{ "192.0.2.7", "mail-a1.out.bigmail.example",
		  "host:out.bigmail.example", "" },
		{ "198.51.100.8", "mail-b7.out.bigmail.example",
		  "host:out.bigmail.example", "" },
		{ "192.0.2.7", "mail.examplecorp.co.uk", "host:examplecorp.co.uk",
		  "" },
	};
	gl_request r = { NULL, "a@sender.example", "r@our.example", NULL,
			 NULL, NULL };
	size_t i;

	for (i = 0; i < N_ELEMS(c); i++) {
		r.ip = c[i].ip;
		r.host = c[i].host;
		assert_string_equal(run_req(&r, T0, 1), "defer 300 new");
		assert_string_equal(last_client, c[i].client);
		if (*c[i].note == '\0')
			assert_string_equal(last_note, "");
		else if (strstr(last_note, c[i].note) == NULL)
			fail_msg("%s: want '%s' in '%s'", c[i].host, c[i].note,
				 last_note);
	}
	/* spf=pass comes first and leaves no note */
	r.spf = "pass";
	run_req(&r, T0, 1);
	assert_string_equal(last_client, "spf:sender.example");
	assert_string_equal(last_note, "");
	(void)state;
}

/* Hosts of a dynamic pool, each in another /24, pass one triplet each:
 * the pool is never one client, so nothing is auto-whitelisted; the same
 * passes from one real pool are. */
static void test_generic_never_auto(void **state)
{
	char ip[32], host[128], from[64];
	gl_request r = { ip, from, "r@our.example", host, NULL, NULL };
	int i, pass;

	cfg.auto_whitelist_clients = 3;
	for (pass = 0; pass < 2; pass++) {
		for (i = 1; i <= 3; i++) {
			snprintf(ip, sizeof ip, "198.51.%d.23", i);
			snprintf(host, sizeof host, pass == 0 ?
				 "198-51-%d-23.dyn.isp.example" :
				 "mail-%d.out.bigmail.example", i);
			snprintf(from, sizeof from, "%s%c@sender.example",
				 pass ? "pool" : "dyn", 'a' + i);
			assert_string_equal(run_req(&r, T0, 0), "defer 300 new");
			assert_string_equal(run_req(&r, T0 + 300, 0),
					    "accept pass 300");
		}
		snprintf(ip, sizeof ip, "198.51.99.23");
		snprintf(host, sizeof host, pass == 0 ?
			 "198-51-99-23.dyn.isp.example" :
			 "mail-99.out.bigmail.example");
		snprintf(from, sizeof from, "new%c@sender.example", 'a' + pass);
		assert_string_equal(run_req(&r, T0 + 400, 0),
				    pass == 0 ? "defer 300 new" : "accept auto");
	}
	(void)state;
}

static void test_auto_whitelist(void **state)
{
	cfg.auto_whitelist_clients = 2;
	assert_string_equal(run("192.0.2.1", "a@x.example", "r1@our.example", T0, 0), "defer 300 new");
	assert_string_equal(run("192.0.2.1", "a@x.example", "r2@our.example", T0, 0), "defer 300 new");
	assert_string_equal(run("192.0.2.1", "a@x.example", "r3@our.example", T0, 0), "defer 300 new");
	assert_string_equal(run("192.0.2.1", "a@x.example", "r1@our.example", T0 + 300, 0), "accept pass 300");
	/* one pass is not enough; a repeat of a passed triplet is no new pass */
	assert_string_equal(run("192.0.2.1", "b@x.example", "r1@our.example", T0 + 301, 0), "defer 300 new");
	assert_string_equal(run("192.0.2.1", "a@x.example", "r1@our.example", T0 + 302, 0), "accept known");
	assert_string_equal(run("192.0.2.1", "c@x.example", "r1@our.example", T0 + 303, 0), "defer 300 new");
	assert_string_equal(run("192.0.2.1", "a@x.example", "r2@our.example", T0 + 400, 0), "accept pass 400");
	/* two distinct passes: the client's new triplets go through */
	assert_string_equal(run("192.0.2.99", "z@new.example", "q@our.example", T0 + 401, 0), "accept auto");
	assert_string_equal(run("192.0.3.1", "z@new.example", "q@our.example", T0 + 401, 0), "defer 300 new");
	/* until pass_lifetime after the last pass */
	assert_string_equal(run("192.0.2.99", "y@new.example", "q@our.example",
				T0 + 400 + cfg.pass_lifetime, 0), "accept auto");
	assert_string_equal(run("192.0.2.99", "w@new.example", "q@our.example",
				T0 + 401 + cfg.pass_lifetime, 0), "defer 300 new");
	cfg.auto_whitelist_clients = 0;
	assert_string_equal(run("192.0.2.99", "v@new.example", "q@our.example", T0 + 500, 0), "defer 300 new");
	(void)state;
}

static void test_database_whitelist(void **state)
{
	const char *e1 = "192.0.2.0/24 owner=alice expires=@1800000100 # partner\n";
	gl_dbwl cur, stale;
	gl_err err;

	assert_int_equal(gl_dbwl_read(st, &cur, &err), 0);
	assert_int_equal(cur.len, 0);
	assert_int_equal(cur.gen, 0);
	assert_int_equal(gl_dbwl_read(st, &stale, &err), 0);
	assert_int_equal(gl_dbwl_write(st, &cur, e1, strlen(e1), &err), 1);
	/* A writer that read before that write loses, and writes nothing. */
	assert_int_equal(gl_dbwl_write(st, &stale, "x.example\n", 10, &err), 0);
	gl_dbwl_free(&cur);
	gl_dbwl_free(&stale);
	assert_string_equal(run("192.0.2.5", "a@b.example", "c@d.example", T0, 0),
			    "accept whitelist");
	assert_int_equal(records(), 0);
	/* Expired one second after its time: greylisted again. */
	assert_string_equal(run("192.0.2.5", "a@b.example", "c@d.example", T0 + 100, 0),
			    "accept whitelist");
	assert_string_equal(run("192.0.2.5", "a@b.example", "c@d.example", T0 + 101, 0),
			    "defer 300 new");
	/* The value carries its generation; "V" says the same. */
	assert_int_equal(gl_dbwl_read(st, &cur, &err), 0);
	assert_int_equal(cur.gen, 1);
	assert_int_equal(cur.seen, 1);
	assert_memory_equal(cur.raw, "# generation 1\n", 15);
	assert_int_equal(cur.len, strlen(e1));
	assert_memory_equal(cur.text, e1, cur.len);
	assert_int_equal(gl_dbwl_write(st, &cur, "", 0, &err), 1);
	gl_dbwl_free(&cur);
	assert_string_equal(run("192.0.2.5", "a@b.example", "c@d.example",
				T0 + 111, 1), "defer 290 early");
	(void)state;
}

/* A value written by 0.1 (no generation line) is read with the
 * generation in "V", and written with the line at its next change. */
static void test_database_whitelist_legacy(void **state)
{
	const unsigned char v3[8] = { 0, 0, 0, 0, 0, 0, 0, 3 };
	const char *old = "198.51.100.0/24 owner=ops\n";
	gl_dbwl cur;
	gl_err err;
	int replaced;
	gl_wl_entry *e;
	int blank;

	assert_int_equal(gl_store_cas(st, "V", 1, NULL, 0, v3, 8, 0, &err), 1);
	assert_int_equal(gl_store_cas(st, "W", 1, NULL, 0, old, strlen(old), 0,
				      &err), 1);
	assert_int_equal(gl_dbwl_read(st, &cur, &err), 0);
	assert_int_equal(cur.gen, 3);
	assert_int_equal(cur.len, strlen(old));
	gl_dbwl_free(&cur);
	assert_string_equal(run("198.51.100.7", "a@b.example", "c@d.example", T0, 0),
			    "accept whitelist");
	e = gl_wl_parse("Example.COM owner=bob", 1, T0, "database", &blank, &err);
	assert_non_null(e);
	assert_int_equal(gl_dbwl_add(st, 1, e, &replaced, &err), 0);
	assert_int_equal(replaced, 0);
	gl_wl_entry_free(e);
	assert_int_equal(gl_dbwl_read(st, &cur, &err), 0);
	assert_int_equal(cur.gen, 4);
	assert_int_equal(cur.seen, 4);
	assert_string_equal(cur.raw, "# generation 4\n198.51.100.0/24 owner=ops\n"
			    "Example.COM owner=bob\n");
	gl_dbwl_free(&cur);
	(void)state;
}

/* Edits parse entries and compare what they match, not their text. */
static void test_database_whitelist_edits(void **state)
{
	static const struct {
		const char *op, *entry;
		int want;          /* del: 1 removed; add: 1 replaced */
		const char *after; /* the entries, one a line */
	} t[] = {
		{ "add", "192.0.2.0/24 owner=a", 0, "192.0.2.0/24 owner=a\n" },
		{ "add", "192.0.2.0/24 owner=b # again", 1,
		  "192.0.2.0/24 owner=b # again\n" },
		{ "add", "Vendor.Example", 0,
		  "192.0.2.0/24 owner=b # again\nVendor.Example\n" },
		{ "add", ".vendor.example", 0, "192.0.2.0/24 owner=b # again\n"
		  "Vendor.Example\n.vendor.example\n" },
		{ "del", "VENDOR.example", 1,
		  "192.0.2.0/24 owner=b # again\n.vendor.example\n" },
		{ "del", "192.0.2.0/25", 0,
		  "192.0.2.0/24 owner=b # again\n.vendor.example\n" },
		{ "del", "192.0.2.0/24", 1, ".vendor.example\n" },
		{ "add", "rcpt:postmaster@our.example", 0,
		  ".vendor.example\nrcpt:postmaster@our.example\n" },
		{ "del", "postmaster@our.example", 0,
		  ".vendor.example\nrcpt:postmaster@our.example\n" },
	};
	gl_dbwl cur;
	gl_err err;
	size_t i;

	for (i = 0; i < N_ELEMS(t); i++) {
		gl_wl_entry *e;
		int blank, got = -1;

		e = gl_wl_parse(t[i].entry, 1, T0, "database", &blank, &err);
		assert_non_null(e);
		if (!strcmp(t[i].op, "add"))
			assert_int_equal(gl_dbwl_add(st, 1, e, &got, &err), 0);
		else
			got = gl_dbwl_del(st, 1, e, &err);
		gl_wl_entry_free(e);
		if (got != t[i].want)
			fail_msg("case %zu (%s %s): got %d, want %d", i, t[i].op,
				 t[i].entry, got, t[i].want);
		assert_int_equal(gl_dbwl_read(st, &cur, &err), 0);
		if (cur.len != strlen(t[i].after) ||
		    memcmp(cur.text, t[i].after, cur.len) != 0)
			fail_msg("case %zu: entries\n%.*s\nwant\n%s", i,
				 (int)cur.len, cur.text, t[i].after);
		gl_dbwl_free(&cur);
	}
	(void)state;
}

/* Adds a triplet record for sender N (pending or passed) to ps. */
static void add_triplet(gl_pairs *ps, int n, enum gl_state state,
			gl_time first, gl_time last)
{
	gl_triplet t;
	gl_record r = { state, 1, first, last, state == GL_PASSED ? first + 1 : 0 };
	unsigned char v[GL_RECORD_SIZE];
	char key[GL_KEY_MAX];
	gl_err err;
	int klen;

	snprintf(t.client, sizeof t.client, "192.0.2.0/24");
	snprintf(t.sender, sizeof t.sender, "s%d@sender.example", n);
	snprintf(t.rcpt, sizeof t.rcpt, "r@our.example");
	if (state == GL_PASSED)
		r.attempts = 2;
	gl_record_encode(&r, v);
	klen = gl_key_encode(&t, key, sizeof key);
	assert_true(klen > 0);
	assert_int_equal(gl_pairs_add(ps, key, (size_t)klen, v, sizeof v, &err), 0);
}

static int wl_seen;

static void count_removed(void *arg, const gl_pair *p)
{
	(void)arg;
	assert_int_equal(p->kind, GL_KEY_TRIPLET);
	wl_seen++;
}

/* Batched writes and purge: more than one batch each way, every record
 * judged by policy.c's rules at the purge's time. */
static void test_batch_and_purge(void **state)
{
	static const struct {
		enum gl_state state;
		gl_time first, last;
		int expired;   /* at T0 + 10d */
	} t[] = {
		{ GL_PENDING, T0 + 10 * 86400 - 2 * 86400, 0, 0 },  /* in retry_window */
		{ GL_PENDING, T0, 0, 1 },                            /* past it */
		{ GL_PASSED, T0, T0 + 86400, 0 },                    /* seen 9 days ago */
		{ GL_PASSED, T0 - 40 * 86400, T0 - 30 * 86400, 1 },  /* 40 days idle */
	};
	const size_t per = 300; /* of each kind: 1200 pairs, 3 batches */
	gl_pairs ps = { 0 };
	gl_purge_report rep;
	gl_err err;
	size_t i, j, done, want_left = 0;

	for (i = 0; i < N_ELEMS(t); i++)
		for (j = 0; j < per; j++)
			add_triplet(&ps, (int)(i * per + j), t[i].state,
				    t[i].first, t[i].last ? t[i].last : t[i].first);
	assert_int_equal(gl_batch_write(st, &cfg, &ps, GL_BATCH_REPLACE, T0,
					&done, &err), 0);
	assert_int_equal(done, ps.n);
	for (i = 0; i < ps.n; i++)
		assert_true(ps.p[i].done);
	assert_int_equal(records(), (int)ps.n);
	gl_pairs_free(&ps);
	for (i = 0; i < N_ELEMS(t); i++)
		want_left += t[i].expired ? 0 : per;
	wl_seen = 0;
	assert_int_equal(gl_purge(st, &cfg, T0 + 10 * 86400, count_removed,
				  NULL, NULL, &rep, &err), 0);
	assert_int_equal(rep.pending, per);
	assert_int_equal(rep.passed, per);
	assert_int_equal(rep.kept, 0);
	assert_int_equal(rep.unreadable, 0);
	assert_int_equal(wl_seen, 2 * per);
	assert_int_equal(records(), (int)want_left);
	(void)state;
}

/* A delete that loses to a decision keeps the record, and is counted
 * as kept, not as removed. */
static void test_purge_kept(void **state)
{
	static const struct gl_store_ops ops = { .name = "race",
		.get = race_get, .casv = race_cas, .scan = NULL };
	gl_pairs ps = { 0 };
	gl_err err;
	size_t done;
	gl_store race = { .ops = &ops, .where = "race", .timeout_ms = 200 };

	add_triplet(&ps, 1, GL_PENDING, T0, T0);
	add_triplet(&ps, 2, GL_PENDING, T0, T0);
	assert_int_equal(gl_batch_write(&race, &cfg, &ps, GL_BATCH_DELETE, T0,
					&done, &err), 0);
	assert_int_equal(done, 0);
	assert_false(ps.p[0].done || ps.p[1].done);
	/* A store that refuses every write: replace tries GL_BATCH_TRIES
	 * times and reports nothing written. */
	assert_int_equal(gl_batch_write(&race, &cfg, &ps, GL_BATCH_REPLACE, T0,
					&done, &err), 0);
	assert_int_equal(done, 0);
	gl_pairs_free(&ps);
	(void)state;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_lifecycle, setup, teardown),
		cmocka_unit_test_setup_teardown(test_dry_run, setup, teardown),
		cmocka_unit_test_setup_teardown(test_whitelist, setup, teardown),
		cmocka_unit_test_setup_teardown(test_errors, setup, teardown),
		cmocka_unit_test_setup_teardown(test_lost_races, setup, teardown),
		cmocka_unit_test_setup_teardown(test_pools, setup, teardown),
		cmocka_unit_test_setup_teardown(test_pool_names, setup, teardown),
		cmocka_unit_test_setup_teardown(test_generic_never_auto, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_auto_whitelist, setup, teardown),
		cmocka_unit_test_setup_teardown(test_database_whitelist, setup, teardown),
		cmocka_unit_test_setup_teardown(test_database_whitelist_legacy, setup, teardown),
		cmocka_unit_test_setup_teardown(test_database_whitelist_edits, setup, teardown),
		cmocka_unit_test_setup_teardown(test_batch_and_purge, setup, teardown),
		cmocka_unit_test_setup_teardown(test_purge_kept, setup, teardown),
	};
	return cmocka_run_group_tests_name("decide", tests, NULL, NULL);
}
