/* test_addr.c - address parsing, masking at every interesting prefix. */
#include "unit.h"

#include "../../module/core/addr.h"

static void test_subnets(void **state)
{
	static const struct {
		const char *ip;
		int v4, v6;
		const char *want;
	} t[] = {
		{ "192.0.2.77", 24, 64, "192.0.2.0/24" },
		{ "192.0.2.77", 32, 64, "192.0.2.77/32" },
		{ "192.0.2.77", 8, 64, "192.0.0.0/8" },
		{ "192.0.2.77", 0, 64, "0.0.0.0/0" },
		{ "192.0.2.77", 25, 64, "192.0.2.0/25" },
		{ "192.0.2.200", 25, 64, "192.0.2.128/25" },
		{ "255.255.255.255", 31, 64, "255.255.255.254/31" },
		{ "2001:db8:1:2:3:4:5:6", 24, 64, "2001:db8:1:2::/64" },
		{ "2001:db8:1:2:3:4:5:6", 24, 48, "2001:db8:1::/48" },
		{ "2001:db8:1:2:3:4:5:6", 24, 128, "2001:db8:1:2:3:4:5:6/128" },
		{ "2001:db8:1:2:3:4:5:6", 24, 0, "::/0" },
		{ "2001:DB8::1", 24, 56, "2001:db8::/56" },
		{ "::1", 24, 64, "::/64" },
		/* IPv4-mapped IPv6 is the IPv4 address. */
		{ "::ffff:192.0.2.77", 24, 64, "192.0.2.0/24" },
		{ "::FFFF:c000:024d", 32, 64, "192.0.2.77/32" },
	};
	char out[64];
	gl_err err;
	size_t i;
	CIDR ip;

	for (i = 0; i < N_ELEMS(t); i++) {
		assert_int_equal(gl_ip_parse(t[i].ip, &ip, &err), 0);
		assert_int_equal(gl_ip_subnet(&ip, t[i].v4, t[i].v6, out,
					      sizeof out, &err), 0);
		if (strcmp(out, t[i].want) != 0)
			fail_msg("%s /%d /%d: got %s want %s", t[i].ip, t[i].v4,
				 t[i].v6, out, t[i].want);
	}
	(void)state;
}

static void test_not_addresses(void **state)
{
	static const char *bad[] = {
		"", "1.2.3", "010.1.1.1", "256.1.1.1", "1.2.3.4/24", " 1.2.3.4",
		"1.2.3.4 ", "fe80::1%eth0", "mx.example", "1.2.3.4.5", ":::",
		"12345::", "%s%n%x", "2001:db8::/64",
	};
	gl_err err;
	size_t i;
	CIDR ip;

	for (i = 0; i < N_ELEMS(bad); i++) {
		err.msg[0] = '\0';
		if (gl_ip_parse(bad[i], &ip, &err) != -1)
			fail_msg("'%s' accepted", bad[i]);
		assert_true(err.msg[0] != '\0');
	}
	assert_int_equal(gl_ip_parse(NULL, &ip, &err), -1);
	(void)state;
}

static void test_networks(void **state)
{
	static const struct {
		const char *net, *ip;
		int in;
	} t[] = {
		{ "192.0.2.0/24", "192.0.2.1", 1 },
		{ "192.0.2.0/24", "192.0.3.1", 0 },
		{ "192.0.2.77/24", "192.0.2.1", 1 }, /* host bits masked */
		{ "192.0.2.7", "192.0.2.7", 1 },
		{ "192.0.2.7", "192.0.2.8", 0 },
		{ "0.0.0.0/0", "203.0.113.5", 1 },
		{ "0.0.0.0/0", "2001:db8::1", 0 },
		{ "2001:db8::/32", "2001:db8:ffff::1", 1 },
		{ "2001:db8::/32", "2001:db9::1", 0 },
		{ "2001:db8::/32", "192.0.2.1", 0 },
		{ "::ffff:192.0.2.0/120", "192.0.2.9", 1 },
		{ "192.0.2.0/24", "::ffff:192.0.2.9", 1 },
	};
	static const char *bad[] = { "192.0.2.0/33", "2001:db8::/129",
				     "192.0.2.0/", "/24", "192.0.2.0/2x",
				     "example.com", "::ffff:1.2.3.4/95" };
	CIDR net, ip;
	gl_err err;
	size_t i;

	for (i = 0; i < N_ELEMS(t); i++) {
		assert_int_equal(gl_net_parse(t[i].net, &net, &err), 0);
		assert_int_equal(gl_ip_parse(t[i].ip, &ip, &err), 0);
		if (gl_net_contains(&net, &ip) != t[i].in)
			fail_msg("%s in %s: want %d", t[i].ip, t[i].net, t[i].in);
	}
	for (i = 0; i < N_ELEMS(bad); i++)
		if (gl_net_parse(bad[i], &net, &err) != -1)
			fail_msg("'%s' accepted as a network", bad[i]);
	(void)state;
}

/* A failed parse leaves its output as it was. */
static void test_untouched_on_error(void **state)
{
	static const char *const bad[] = { "192.0.2.0/33", "192.0.2.1/x",
		"::ffff:192.0.2.0/64", "", "not an address", "2001:db8::/129" };
	CIDR before, c;
	size_t i;

	memset(&before, 0x5a, sizeof before);
	for (i = 0; i < N_ELEMS(bad); i++) {
		c = before;
		assert_int_equal(gl_net_parse(bad[i], &c, NULL), -1);
		assert_memory_equal(&c, &before, sizeof c);
		assert_int_equal(gl_ip_parse(bad[i], &c, NULL), -1);
		assert_memory_equal(&c, &before, sizeof c);
	}
	(void)state;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_subnets),
		cmocka_unit_test(test_not_addresses),
		cmocka_unit_test(test_networks),
		cmocka_unit_test(test_untouched_on_error),
	};
	return cmocka_run_group_tests_name("addr", tests, NULL, NULL);
}
