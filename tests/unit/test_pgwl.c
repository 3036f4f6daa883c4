/* test_pgwl.c - postgrey's whitelist_clients and whitelist_recipients
 * lines, with postgrey's meaning (pgwl.h); PCRE2 loaded on first use. */
#include "unit.h"

#include "../../module/core/addr.h"
#include "../../module/core/config.h"
#include "../../module/core/pgwl.h"
#include "../../module/core/rx.h"

#define NOW 1800000000

/* 1 when line (of a file of kind k) matches the query. */
static int pg_matches(enum gl_pg_kind k, const char *line, const char *ip,
		      const char *host, const char *rcpt)
{
	gl_wl_query q;
	gl_wl_entry *e;
	gl_err err;
	CIDR c;
	int blank, m;

	e = gl_pgwl_parse(line, k, "f:1", &blank, &err);
	if (e == NULL)
		fail_msg("'%s': %s", line, blank ? "blank" : err.msg);
	assert_int_equal(gl_ip_parse(ip, &c, NULL), 0);
	q.ip = &c;
	q.sender = "a@sender.example";
	q.rcpt = rcpt;
	q.host = host;
	m = gl_wl_entry_matches(e, &q, NOW);
	gl_wl_entry_free(e);
	return m;
}

static void test_clients(void **state)
{
	static const struct {
		const char *line, *ip, *host;
		int want;
	} t[] = {
		/* a name: the verified name or any subdomain, caseless */
		{ "debian.org", "192.0.2.7", "debian.org", 1 },
		{ "debian.org", "192.0.2.7", "Bendel.DEBIAN.org", 1 },
		{ "Debian.ORG", "192.0.2.7", "lists.debian.org", 1 },
		{ "debian.org", "192.0.2.7", "notdebian.org", 0 },
		{ "debian.org", "192.0.2.7", "debian.org.evil.example", 0 },
		{ "debian.org", "192.0.2.7", NULL, 0 },
		{ "debian.org", "192.0.2.7", "", 0 },
		{ "mail-a1.out.bigmail.example", "192.0.2.7", "mail-a1.out.bigmail.example", 1 },
		{ "out.bigmail.example", "192.0.2.7", "mail-a1.out.bigmail.example", 1 },
		{ "examplecorp.co.uk", "192.0.2.7", "mx.examplecorp.co.uk", 1 },
		{ "x.github.io", "192.0.2.7", "y.github.io", 0 },
		/* a regex on the verified name, caseless, unanchored unless
		 * it anchors itself */
		{ "/^mail\\d+\\.telekom\\.de$/", "192.0.2.7", "mail7.telekom.de", 1 },
		{ "/^mail\\d+\\.telekom\\.de$/", "192.0.2.7", "MAIL12.Telekom.DE", 1 },
		{ "/^mail\\d+\\.telekom\\.de$/", "192.0.2.7", "mailx.telekom.de", 0 },
		{ "/^mail\\d+\\.telekom\\.de$/", "192.0.2.7", "mail7.telekom.de.evil.example", 0 },
		{ "/out\\.bigmail/", "192.0.2.7", "mail-a1.out.bigmail.example", 1 },
		{ "/^p?smtp.*\\.wxs\\.nl$/", "192.0.2.7", "psmtp04.wxs.nl", 1 },
		{ "/bigmail/", "192.0.2.7", NULL, 0 },
		/* addresses and blocks */
		{ "192.0.2.7", "192.0.2.7", NULL, 1 },
		{ "192.0.2.7", "192.0.2.8", NULL, 0 },
		{ "192.0.2.7/24", "192.0.2.200", NULL, 1 },
		{ "192.0.2.0/25", "192.0.2.200", NULL, 0 },
		{ "198.51.100.0/22", "198.51.103.1", "x.example", 1 },
		/* a.b.c is the /24 */
		{ "195.235.39", "195.235.39.200", NULL, 1 },
		{ "195.235.39", "195.235.40.1", NULL, 0 },
		/* a.b is a.b.0.0/24, as postgrey 1.37 reads it */
		{ "198.51", "198.51.0.77", NULL, 1 },
		{ "198.51", "198.51.1.1", NULL, 0 },
		/* IPv6 */
		{ "2001:db8::/32", "2001:db8:5::1", NULL, 1 },
		{ "2001:db8::1", "2001:db8::1", NULL, 1 },
		{ "2001:db8::/32", "192.0.2.1", NULL, 0 },
		{ "192.0.2.7", "2001:db8::1", NULL, 0 },
		/* comments and white space around */
		{ "  debian.org   # lists", "192.0.2.7", "lists.debian.org", 1 },
		{ "\tdebian.org\r", "192.0.2.7", "lists.debian.org", 1 },
	};
	size_t i;

	for (i = 0; i < N_ELEMS(t); i++)
		if (pg_matches(GL_PG_CLIENTS, t[i].line, t[i].ip, t[i].host,
			       "r@our.example") != t[i].want)
			fail_msg("client line '%s' ip %s host %s: want %d",
				 t[i].line, t[i].ip, t[i].host ? t[i].host :
				 "(none)", t[i].want);
	(void)state;
}

static void test_recipients(void **state)
{
	static const struct {
		const char *line, *rcpt;
		int want;
	} t[] = {
		{ "postmaster@", "postmaster@our.example", 1 },
		{ "postmaster@", "postmaster@other.example", 1 },
		{ "postmaster@", "postmaster+tag@our.example", 1 },
		{ "postmaster@", "postmaster+@our.example", 0 },
		{ "postmaster@", "postmasters@our.example", 0 },
		{ "postmaster@", "xpostmaster@our.example", 0 },
		{ "abuse@our.example", "abuse@our.example", 1 },
		{ "Abuse@Our.Example", "abuse@our.example", 1 },
		{ "abuse@our.example", "abuse+x@our.example", 1 },
		{ "abuse@our.example", "abuse@sub.our.example", 0 },
		{ "abuse@our.example", "abuse@our.example.net", 0 },
		{ "abuse@our.example", "abuse-x@our.example", 0 },
		/* a domain: at it or at any subdomain */
		{ "our.example", "bob@our.example", 1 },
		{ "our.example", "bob@lists.our.example", 1 },
		{ "our.example", "bob@notour.example", 0 },
		{ "our.example", "bob@our.example.net", 0 },
		/* a regex on the recipient */
		{ "/^info-.*@our\\.example$/", "info-sales@our.example", 1 },
		{ "/^info-.*@our\\.example$/", "INFO-x@our.example", 1 },
		{ "/^info-.*@our\\.example$/", "sales@our.example", 0 },
	};
	size_t i;

	for (i = 0; i < N_ELEMS(t); i++)
		if (pg_matches(GL_PG_RECIPIENTS, t[i].line, "192.0.2.7", NULL,
			       t[i].rcpt) != t[i].want)
			fail_msg("recipient line '%s' rcpt %s: want %d",
				 t[i].line, t[i].rcpt, t[i].want);
	(void)state;
}

static void test_bad_and_blank(void **state)
{
	static const struct {
		enum gl_pg_kind k;
		const char *line, *why;
	} bad[] = {
		{ GL_PG_CLIENTS, "foo bar", "white space inside" },
		{ GL_PG_CLIENTS, "/foo bar/", "white space inside" },
		{ GL_PG_CLIENTS, "192.0.2.300", "'192.0.2.300'" },
		{ GL_PG_CLIENTS, "192.0.2.0/33", "'192.0.2.0/33'" },
		{ GL_PG_CLIENTS, "2001:db8::zz", "'2001:db8::zz'" },
		{ GL_PG_CLIENTS, "/(unclosed/", "regular expression: missing closing parenthesis" },
		{ GL_PG_CLIENTS, "*.example.com", "not a host name" },
		{ GL_PG_CLIENTS, "bad\001name.example", "not a host name" },
		{ GL_PG_RECIPIENTS, "/[z-a]/", "regular expression" },
		{ GL_PG_RECIPIENTS, "a b@our.example", "white space inside" },
	};
	static const char *const blank[] = { "", "   ", "# a comment",
		"  # indented comment", "\t\r" };
	gl_err err;
	size_t i;
	int b;

	for (i = 0; i < N_ELEMS(bad); i++) {
		assert_null(gl_pgwl_parse(bad[i].line, bad[i].k, "f:1", &b, &err));
		assert_int_equal(b, 0);
		if (strstr(err.msg, bad[i].why) == NULL)
			fail_msg("'%s': want '%s' in '%s'", bad[i].line,
				 bad[i].why, err.msg);
	}
	for (i = 0; i < N_ELEMS(blank); i++) {
		assert_null(gl_pgwl_parse(blank[i], GL_PG_CLIENTS, "f:1", &b,
					  &err));
		assert_int_equal(b, 1);
	}
	(void)state;
}

/* Through the configuration: repeatable keys, bad lines noted with
 * file and line and skipped, the rest in force, origins FILE:LINE. */
static void test_config_files(void **state)
{
	static gl_config cfg;
	char dir[256], conf[300], c1[300], c2[300], r1[300], text[4096];
	const gl_wl_entry *e;
	gl_wl_query q;
	gl_err err;
	CIDR ip;

	unit_tmpdir(dir, sizeof dir);
	unit_write(dir, "clients1", "# postgrey clients\ndebian.org\n"
		   "bad entry here\n/^mail\\d+\\.telekom\\.de$/\n", c1, sizeof c1);
	unit_write(dir, "clients2", "195.235.39\n192.0.2.300\n", c2, sizeof c2);
	unit_write(dir, "rcpts", "postmaster@\nabuse@\n", r1, sizeof r1);
	snprintf(text, sizeof text, "database = %s/g.gdbm\nwhitelist_clients = %s\n"
		 "whitelist_clients = %s\nwhitelist_recipients = %s\n"
		 "whitelist_clients = %s/missing\n", dir, c1, c2, r1, dir);
	unit_write(dir, "g.conf", text, conf, sizeof conf);
	assert_int_equal(gl_config_load(conf, &cfg, &err), 0);
	assert_int_equal(cfg.nwhitelist_files, 4);
	assert_int_equal(cfg.warnings.n, 3);
	assert_non_null(strstr(cfg.warnings.msg[0], "clients1:3: 'bad entry here': white space inside"));
	assert_non_null(strstr(cfg.warnings.msg[1], "clients2:2: '192.0.2.300'"));
	assert_non_null(strstr(cfg.warnings.msg[2], "missing: cannot open whitelist_clients file"));
	assert_int_equal(gl_ip_parse("195.235.39.9", &ip, NULL), 0);
	q.ip = &ip;
	q.sender = "a@sender.example";
	q.rcpt = "r@our.example";
	q.host = "mail3.telekom.de";
	e = gl_whitelist_match(cfg.whitelist, &q, NOW);
	assert_non_null(e);
	snprintf(text, sizeof text, "%s:4", c1);
	assert_string_equal(e->origin, text);
	q.host = NULL;
	e = gl_whitelist_match(cfg.whitelist, &q, NOW);
	assert_non_null(e);
	snprintf(text, sizeof text, "%s:1", c2);
	assert_string_equal(e->origin, text);
	assert_int_equal(gl_ip_parse("203.0.113.9", &ip, NULL), 0);
	assert_null(gl_whitelist_match(cfg.whitelist, &q, NOW));
	q.rcpt = "abuse+x@our.example";
	e = gl_whitelist_match(cfg.whitelist, &q, NOW);
	assert_non_null(e);
	snprintf(text, sizeof text, "%s:2", r1);
	assert_string_equal(e->origin, text);
	gl_config_free(&cfg);
	/* the keys are checked like whitelist: an absolute name */
	unit_write(dir, "bad.conf", "whitelist_clients = relative\n", conf,
		   sizeof conf);
	assert_int_equal(gl_config_load(conf, &cfg, &err), -1);
	assert_non_null(strstr(err.msg, "key 'whitelist_clients': bad value"));
	gl_config_free(&cfg);
	unit_rmdir(dir);
	(void)state;
}

/* Without PCRE2 a /regex/ line is skipped and says why; the rest stays. */
static void test_pcre_missing(void **state)
{
	gl_wl_entry *e;
	gl_err err;
	int b;

	gl_rx_reset("libpcre2-not-there.so.0");
	assert_null(gl_pgwl_parse("/^mail/", GL_PG_CLIENTS, "f:1", &b, &err));
	assert_non_null(strstr(err.msg, "cannot load libpcre2-not-there.so.0"));
	e = gl_pgwl_parse("debian.org", GL_PG_CLIENTS, "f:2", &b, &err);
	assert_non_null(e);
	gl_wl_entry_free(e);
	gl_rx_reset(NULL);
	e = gl_pgwl_parse("/^mail/", GL_PG_CLIENTS, "f:1", &b, &err);
	assert_non_null(e);
	gl_wl_entry_free(e);
	(void)state;
}

/* A pattern that backtracks without end stops at its bound: no match. */
static void test_bounded(void **state)
{
	char host[250];

	memset(host, 'a', sizeof host - 1);
	host[sizeof host - 1] = '\0';
	assert_int_equal(pg_matches(GL_PG_CLIENTS, "/^(a+)+$b/", "192.0.2.7",
				    host, "r@our.example"), 0);
	(void)state;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_clients),
		cmocka_unit_test(test_recipients),
		cmocka_unit_test(test_bad_and_blank),
		cmocka_unit_test(test_config_files),
		cmocka_unit_test(test_pcre_missing),
		cmocka_unit_test(test_bounded),
	};
	return cmocka_run_group_tests_name("pgwl", tests, NULL, NULL);
}
