/* test_triplet.c - address folding, sender normalization, keys. */
#include "unit.h"

#include "../../module/core/config.h"
#include "../../module/core/keys.h"
#include "../../module/core/record.h"
#include "../../module/core/siphash.h"

static void test_fold_plain(void **state)
{
	static const struct { const char *in, *want; } t[] = {
		{ "Alice@Example.COM", "alice@example.com" },
		{ "", "<>" },
		{ "<>", "<>" },
		{ "bounce-123+x@Vendor.example", "bounce-123+x@vendor.example" },
		{ "\"Quoted Part\"@example.com", "\"quoted part\"@example.com" },
		{ "J\xc3\xb6rg@example.com", "j\xc3\xb6rg@example.com" },
	};
	char out[GL_ADDR_MAX + 1];
	gl_err err;
	size_t i;

	for (i = 0; i < N_ELEMS(t); i++) {
		assert_int_equal(gl_fold_sender(t[i].in, 0, out, sizeof out,
						&err), 0);
		assert_string_equal(out, t[i].want);
	}
	assert_int_equal(gl_fold_rcpt("Bob@Test.Example", out, sizeof out,
				      &err), 0);
	assert_string_equal(out, "bob@test.example");
	assert_int_equal(gl_fold_rcpt("", out, sizeof out, &err), -1);
	(void)state;
}

/* Real-world shapes; each "want" is what one sender must fold to. */
static void test_normalize(void **state)
{
	static const struct { const char *in, *want; } t[] = {
		/* plain addresses that must not change (but for case) */
		{ "alice@example.com", "alice@example.com" },
		{ "John.Smith@Example.com", "john.smith@example.com" },
		{ "first-last@sub.example.org", "first-last@sub.example.org" },
		{ "noreply@github.com", "noreply@github.com" },
		{ "<>", "<>" },
		{ "", "<>" },
		{ "postmaster", "postmaster" },
		/* +extension */
		{ "alice+news@example.com", "alice@example.com" },
		{ "alice+a+b@example.com", "alice@example.com" },
		{ "+only@example.com", "+only@example.com" },
		/* VERP and ESP bounce addresses */
		{ "bounce-12345-678@vendor.example", "bounce-#-#@vendor.example" },
		{ "bounce-99-1@vendor.example", "bounce-#-#@vendor.example" },
		{ "owner-list-12@lists.example.org", "owner-list-#@lists.example.org" },
		{ "list-bounces+bob=example.com@lists.example.org",
		  "list-bounces@lists.example.org" },
		{ "0100018c1a2b3c4d-5e6f7a8b-1234@amazonses.com",
		  "#c#a#b#c#d-#e#f#a#b-#@amazonses.com" },
		{ "msprvs=18c2a4bc7=bounces-1234@mail.example.net",
		  "msprvs=#c#a#bc#=bounces-#@mail.example.net" },
		{ "user2024@example.com", "user#@example.com" },
		/* BATV */
		{ "prvs=4321abcdef=alice@example.com", "alice@example.com" },
		{ "PRVS=0123456789=Bounce-77@Vendor.example",
		  "bounce-#@vendor.example" },
		{ "msprvs1=19734abcde=alice@example.com", "alice@example.com" },
		{ "btv1==0123456789a==alice@example.com", "alice@example.com" },
		{ "prvs=alice@example.com", "prvs=alice@example.com" },
		{ "prvs=1a=prvs=2b=alice@example.com", "alice@example.com" },
		/* SRS */
		{ "SRS0=HHH=TT=example.org=alice@forwarder.example",
		  "srs#=example.org=alice@forwarder.example" },
		{ "SRS0=a1b2=ZX=example.org=alice@forwarder.example",
		  "srs#=example.org=alice@forwarder.example" },
		{ "SRS0+x9y8=QR=example.org=alice@forwarder.example",
		  "srs#=example.org=alice@forwarder.example" },
		{ "SRS1=HHH=fwd1.example==HHH=TT=example.org=alice@fwd2.example",
		  "srs#=fwd#.example==example.org=alice@fwd2.example" },
		{ "srs0=broken@forwarder.example", "srs#=broken@forwarder.example" },
	};
	char out[GL_ADDR_MAX + 1];
	gl_err err;
	size_t i;

	for (i = 0; i < N_ELEMS(t); i++) {
		assert_int_equal(gl_fold_sender(t[i].in, 1, out, sizeof out,
						&err), 0);
		if (strcmp(out, t[i].want) != 0)
			fail_msg("%s: got %s want %s", t[i].in, out, t[i].want);
		/* Folding is idempotent. */
		{
			char again[GL_ADDR_MAX + 1];

			assert_int_equal(gl_fold_sender(out, 1, again,
							sizeof again, &err), 0);
			assert_string_equal(again, out);
		}
	}
	(void)state;
}

static void test_limits(void **state)
{
	char *big = malloc(GL_ADDR_MAX + 2), out[GL_ADDR_MAX + 1], small[8];
	gl_err err;

	memset(big, 'a', GL_ADDR_MAX + 1);
	big[GL_ADDR_MAX + 1] = '\0';
	assert_int_equal(gl_fold_sender(big, 1, out, sizeof out, &err), -1);
	assert_int_equal(gl_fold_rcpt(big, out, sizeof out, &err), -1);
	big[GL_ADDR_MAX] = '\0'; /* exactly the limit is fine */
	assert_int_equal(gl_fold_sender(big, 1, out, sizeof out, &err), 0);
	assert_int_equal(gl_fold_sender("alice@example.com", 1, small,
					sizeof small, &err), -1);
	free(big);
	(void)state;
}

static void test_keys(void **state)
{
	gl_triplet t = { "192.0.2.0/24", "a@b.example", "c@d.example" }, u;
	char key[GL_KEY_MAX];
	int n;

	n = gl_key_encode(&t, key, sizeof key);
	assert_int_equal(n, 2 + 12 + 1 + 11 + 1 + 11);
	assert_memory_equal(key, "t\0" "192.0.2.0/24\0" "a@b.example\0" "c@d.example",
			    (size_t)n);
	assert_int_equal(gl_key_decode(key, (size_t)n, &u), 0);
	assert_string_equal(u.client, t.client);
	assert_string_equal(u.sender, t.sender);
	assert_string_equal(u.rcpt, t.rcpt);
	/* A cut before the recipient, a trailing NUL and other shapes are
	 * refused; a cut inside the recipient is a shorter recipient. */
	for (int i = 0; i < n; i++)
		assert_int_equal(gl_key_decode(key, (size_t)i, &u),
				 i > n - 11 ? 0 : -1);
	key[n] = '\0';
	assert_int_equal(gl_key_decode(key, (size_t)n + 1, &u), -1);
	assert_int_equal(gl_key_decode("w\0x\0y\0z", 7, &u), -1);
	assert_int_equal(gl_key_decode("t\0\0y\0z", 7, &u), -1);
	assert_int_equal(gl_key_decode("t\0x\0y\0z\0w", 9, &u), -1);
	assert_int_equal(gl_key_encode(&t, key, 10), -1);
	(void)state;
}

/* A backend's TTL for a triplet: to the end its record counts (policy.h),
 * at least 1 s; gl_record_ttl() and gl_pair_ttl() of the encoded pair
 * agree; 0 (never) for what does not decode. */
static void test_ttl(void **state)
{
	static const struct {
		enum gl_state state;
		gl_time first, last, passed, now;
	} t[] = {
		{ GL_PENDING, 1000, 1000, 0, 1000 },
		{ GL_PENDING, 1000, 1500, 0, 1200 },
		{ GL_PENDING, 1000, 1000, 0, 999999999 }, /* long over: 1 */
		{ GL_PASSED, 1000, 5000, 2000, 5000 },
		{ GL_PASSED, 1000, 5000, 2000, 999999999 },
	};
	gl_triplet tr = { "192.0.2.0/24", "a@b.example", "c@d.example" };
	char key[GL_KEY_MAX];
	unsigned char val[GL_RECORD_SIZE];
	gl_config cfg;
	int klen = gl_key_encode(&tr, key, sizeof key);

	gl_config_defaults(&cfg);
	assert_true(klen > 0);
	for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
		gl_record r = { .state = t[i].state, .attempts = 1,
				.first_seen = t[i].first,
				.last_seen = t[i].last,
				.passed_at = t[i].passed };
		gl_time end = r.state == GL_PENDING ?
			      r.first_seen + cfg.retry_window :
			      r.last_seen + cfg.pass_lifetime;
		gl_time want = end > t[i].now ? end - t[i].now : 1;

		gl_record_encode(&r, val);
		assert_int_equal(gl_record_ttl(&cfg, &r, t[i].now), want);
		assert_int_equal(gl_pair_ttl(&cfg, key, (size_t)klen, val,
					     sizeof val, t[i].now), want);
	}
	assert_int_equal(gl_pair_ttl(&cfg, key, (size_t)klen, val, 5, 1000), 0);
	(void)state;
}

static void test_domain(void **state)
{
	assert_string_equal(gl_addr_domain("a@b.example"), "b.example");
	assert_string_equal(gl_addr_domain("\"x@y\"@b.example"), "b.example");
	assert_string_equal(gl_addr_domain("<>"), "");
	(void)state;
}

/* SipHash-2-4 against the reference implementation's test vectors
 * (vectors.h of github.com/veorq/SipHash): key 00 01 .. 0f, message
 * 00 01 .. of each length; the 8 output bytes read little endian. The
 * lengths cover the empty tail, each tail length, and several blocks. */
static void test_siphash(void **state)
{
	static const struct { size_t len; uint64_t want; } v[] = {
		{ 0, 0x726fdb47dd0e0e31ull },  { 1, 0x74f839c593dc67fdull },
		{ 2, 0x0d6c8009d9a94f5aull },  { 7, 0xab0200f58b01d137ull },
		{ 8, 0x93f5f5799a932462ull },  { 9, 0x9e0082df0ba9e4b0ull },
		{ 15, 0xa129ca6149be45e5ull }, { 16, 0x3f2acc7f57c29bdbull },
		{ 17, 0x699ae9f52cbe4794ull }, { 63, 0x958a324ceb064572ull },
	};
	unsigned char key[16], msg[64];
	size_t i;

	for (i = 0; i < sizeof key; i++)
		key[i] = (unsigned char)i;
	for (i = 0; i < sizeof msg; i++)
		msg[i] = (unsigned char)i;
	for (i = 0; i < N_ELEMS(v); i++)
		assert_true(gl_siphash24(key, msg, v[i].len) == v[i].want);
	(void)state;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fold_plain),
		cmocka_unit_test(test_normalize),
		cmocka_unit_test(test_limits),
		cmocka_unit_test(test_keys),
		cmocka_unit_test(test_ttl),
		cmocka_unit_test(test_siphash),
		cmocka_unit_test(test_domain),
	};
	return cmocka_run_group_tests_name("triplet", tests, NULL, NULL);
}
