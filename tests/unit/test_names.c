/* test_names.c - which verified host names stand for a pool (names.c),
 * with real-world shapes of names, and the Public Suffix List's loader. */
#include "unit.h"

#include "../../module/core/addr.h"
#include "../../module/core/names.h"
#include "../../module/core/psl.h"

typedef struct pcase {
	const char *ip, *host;
	const char *pool;   /* the pool, or NULL: the subnet */
	const char *why;    /* with NULL: a part of the reason */
} pcase;

static const pcase cases[] = {
	/* A name less its first label, never shorter than its registered
	 * domain (the PSL, private suffixes included). */
	{ "192.0.2.7", "mail-a1.out.bigmail.example", "out.bigmail.example", NULL },
	{ "198.51.100.7", "mail-b2.out.bigmail.example", "out.bigmail.example", NULL },
	{ "192.0.2.7", "mail-eopbgr60135.outbound.protection.outlook.com",
	  "outbound.protection.outlook.com", NULL },
	{ "192.0.2.7", "MAIL.ExampleCorp.CO.UK", "examplecorp.co.uk", NULL },
	{ "192.0.2.7", "smtp.shop.com.au", "shop.com.au", NULL },
	{ "192.0.2.7", "out.x.github.io", "x.github.io", NULL },
	{ "192.0.2.7", "a8-30.smtp-out.amazonses.com", "smtp-out.amazonses.com", NULL },
	{ "192.0.2.7", "mail-sor-f41.google.com", "google.com", NULL },
	{ "192.0.2.7", "mx1.example.com", "example.com", NULL },
	{ "192.0.2.7", "examplecorp.co.uk", NULL, "a registered domain itself" },
	{ "192.0.2.7", "x.github.io", NULL, "a registered domain itself" },
	{ "192.0.2.7", "shop.com.au", NULL, "a registered domain itself" },
	{ "192.0.2.7", "example.com", NULL, "two labels: a registered domain" },
	{ "192.0.2.7", "co.uk", NULL, "two labels: a registered domain or a public suffix" },
	{ "192.0.2.7", "com", NULL, "two labels" },
	{ "192.0.2.7", "ac.gov.br", NULL, "a public suffix itself" },
	{ "192.0.2.7", "s3.dualstack.us-east-1.amazonaws.com", NULL, "a public suffix itself" },
	/* The address in the name, in its common forms. */
	{ "198.51.100.23", "198-51-100-23.dyn.isp.example", NULL, "(its octets)" },
	{ "198.51.100.23", "198-51-100-23.mail.isp.example", NULL, "(its octets)" },
	{ "203.0.113.9", "c-203-0-113-9.hsd1.ca.isp.example", NULL, "(its octets)" },
	{ "203.0.113.9", "dsl-203-0-113-9.pool.isp.example", NULL, "(its octets)" },
	{ "203.0.113.9", "203.0.113.9.static.isp.example", NULL, "(its octets)" },
	{ "203.0.113.9", "ip203-000-113-009.isp.example", NULL, "(its octets)" },
	{ "203.0.113.9", "9.113.0.203.rev.isp.example", NULL, "(its octets reversed)" },
	{ "203.0.113.9", "host-9-113-0-203.isp.example", NULL, "(its octets reversed)" },
	{ "203.0.113.9", "x0-113-9.mx.isp.example", NULL, "(three of its octets)" },
	{ "203.0.113.9", "h203000113009.isp.example", NULL, "(its zero-padded octets)" },
	{ "203.0.113.9", "ip3405803785.isp.example", NULL,
	  "(its address as one decimal number)" },
	{ "203.0.113.9", "pcb007109.isp.example", NULL, "(its address in hex)" },
	{ "203.0.113.9", "CB007109.ISP.example", NULL, "(its address in hex)" },
	{ "2001:db8:5:6::1:2", "2001-db8-5-6-0-0-1-2.isp.example", NULL, "(its groups)" },
	{ "2001:db8:5:6:a:b:c:d", "host-a-b-c-d.v6.isp.example", NULL,
	  "(its last four groups)" },
	{ "2001:db8::1", "mx-20010db8000000000000000000000001.isp.example",
	  NULL, "(its nibbles)" },
	{ "2001:db8::1", "1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.isp.example",
	  NULL, "(its nibbles reversed)" },
	/* Markers of dynamic pools, as whole letter runs. */
	{ "192.0.2.7", "host1.dyn.isp.example", NULL, "'dyn'" },
	{ "192.0.2.7", "a.dhcp.isp.example", NULL, "'dhcp'" },
	{ "192.0.2.7", "abc123.adsl.isp.example", NULL, "'adsl'" },
	{ "192.0.2.7", "x.hsd1.ca.isp.example", NULL, "'hsd'" },
	{ "192.0.2.7", "cable-x.isp.example", NULL, "'cable'" },
	{ "192.0.2.7", "ppp12.isp.example", NULL, "'ppp'" },
	{ "192.0.2.7", "dialup7.isp.example", NULL, "'dialup'" },
	{ "192.0.2.7", "c1.broadband.isp.example", NULL, "'broadband'" },
	{ "192.0.2.7", "pool-a.isp.example", NULL, "'pool'" },
	{ "192.0.2.7", "a1.client.isp.example", NULL, "'client'" },
	/* Markers and numbers in the registered domain do not count;
	 * other numbers do not either. */
	{ "192.0.2.7", "mx.dynamicmail.example", "dynamicmail.example", NULL },
	{ "192.0.2.7", "mx.dyn.example", "dyn.example", NULL },
	{ "192.0.2.7", "mx2-7.out.vendor.example", "out.vendor.example", NULL },
	{ "198.51.100.23", "mail-198-51-7.vendor.example", "vendor.example", NULL },
	{ "192.0.2.7", "mailpool7.vendor.example", "vendor.example", NULL },
	/* Untrusted names. */
	{ "192.0.2.7", "bad name!.example.com", NULL, "not a usable DNS name" },
	{ "192.0.2.7", "a..example.com", NULL, "not a usable DNS name" },
	{ "192.0.2.7", ".example.com", NULL, "not a usable DNS name" },
	{ "192.0.2.7", "mail.example.com.", NULL, "not a usable DNS name" },
	{ "192.0.2.7", "", NULL, "not a usable DNS name" },
};

static void test_pool_rule(void **state)
{
	char pool[GL_DNS_NAME_MAX + 1], why[GL_NOTE_MAX];
	CIDR ip;
	size_t i;
	int got;

	for (i = 0; i < N_ELEMS(cases); i++) {
		const pcase *c = &cases[i];

		assert_int_equal(gl_ip_parse(c->ip, &ip, NULL), 0);
		got = gl_host_pool(&ip, c->host, pool, sizeof pool, why,
				   sizeof why);
		if (c->pool != NULL) {
			if (!got || strcmp(pool, c->pool) != 0)
				fail_msg("%s (%s): want pool %s, got %s (%s)",
					 c->host, c->ip, c->pool,
					 got ? pool : "subnet", why);
			assert_string_equal(why, "");
		} else {
			if (got)
				fail_msg("%s (%s): want the subnet, got pool %s",
					 c->host, c->ip, pool);
			if (strstr(why, c->why) == NULL)
				fail_msg("%s (%s): want '%s' in '%s'", c->host,
					 c->ip, c->why, why);
			assert_string_equal(pool, "");
		}
	}
	(void)state;
}

/* A name of 253 bytes, and one longer: never read past either. */
static void test_long_names(void **state)
{
	char name[400], pool[GL_DNS_NAME_MAX + 1], why[GL_NOTE_MAX];
	CIDR ip;

	assert_int_equal(gl_ip_parse("192.0.2.7", &ip, NULL), 0);
	memset(name, 'a', sizeof name);
	memcpy(name + 253 - 12, ".example.com", 13);
	name[60] = name[120] = name[180] = '.';
	assert_int_equal(strlen(name), 253);
	assert_int_equal(gl_host_pool(&ip, name, pool, sizeof pool, why,
				      sizeof why), 1);
	memset(name, 'a', sizeof name);
	memcpy(name + 300, ".example.com", 13);
	assert_int_equal(gl_host_pool(&ip, name, pool, sizeof pool, why,
				      sizeof why), 0);
	/* a label of 64 bytes */
	memset(name, 'a', sizeof name);
	memcpy(name + 64, ".example.com", 13);
	assert_int_equal(gl_host_pool(&ip, name, pool, sizeof pool, why,
				      sizeof why), 0);
	assert_non_null(strstr(why, "not a usable DNS name"));
	/* a pool buffer too small: not used, never cut */
	assert_int_equal(gl_host_pool(&ip, "mail.out.bigmail.example", pool, 8,
				      why, sizeof why), 0);
	assert_non_null(strstr(why, "too long"));
	(void)state;
}

/* Without libpsl or its list: the subnet, and the reason once. */
static void test_psl_missing(void **state)
{
	char pool[GL_DNS_NAME_MAX + 1], why[GL_NOTE_MAX];
	const char *p;
	CIDR ip;

	assert_int_equal(gl_ip_parse("192.0.2.7", &ip, NULL), 0);
	gl_psl_reset("libpsl-not-there.so.5", NULL);
	assert_int_equal(gl_host_pool(&ip, "mail-a1.out.bigmail.example", pool,
				      sizeof pool, why, sizeof why), 0);
	assert_non_null(strstr(why, "cannot load libpsl-not-there.so.5"));
	p = gl_psl_problem();
	assert_non_null(p);
	assert_non_null(strstr(p, "public suffix list not available"));
	assert_null(gl_psl_problem());
	/* an address in the name is found without the list */
	assert_int_equal(gl_ip_parse("198.51.100.23", &ip, NULL), 0);
	assert_int_equal(gl_host_pool(&ip, "198-51-100-23.dyn.isp.example",
				      pool, sizeof pool, why, sizeof why), 0);
	assert_non_null(strstr(why, "carries the client's address"));
	assert_int_equal(gl_ip_parse("192.0.2.7", &ip, NULL), 0);
	gl_psl_reset(NULL, "/nonexistent/psl.dafsa");
	assert_int_equal(gl_host_pool(&ip, "mail-a1.out.bigmail.example", pool,
				      sizeof pool, why, sizeof why), 0);
	assert_non_null(strstr(why, "cannot read /nonexistent/psl.dafsa"));
	gl_psl_reset(NULL, NULL);
	assert_int_equal(gl_host_pool(&ip, "mail-a1.out.bigmail.example", pool,
				      sizeof pool, why, sizeof why), 1);
	assert_null(gl_psl_problem());
	(void)state;
}

static void test_markers_documented(void **state)
{
	size_t i;

	for (i = 0; gl_dynamic_markers[i] != NULL; i++)
		assert_ptr_equal(gl_name_dynamic_marker(gl_dynamic_markers[i],
			strlen(gl_dynamic_markers[i])), gl_dynamic_markers[i]);
	assert_true(i >= 11);
	(void)state;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_pool_rule),
		cmocka_unit_test(test_long_names),
		cmocka_unit_test(test_psl_missing),
		cmocka_unit_test(test_markers_documented),
	};
	return cmocka_run_group_tests_name("names", tests, NULL, NULL);
}
