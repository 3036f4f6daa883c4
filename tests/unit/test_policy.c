/* test_policy.c - every transition of the state machine at its boundary. */
#include "unit.h"

#include "../../module/core/policy.h"

#define D 300           /* delay */
#define W 172800        /* retry_window */
#define L (36 * 86400)  /* pass_lifetime */
#define T0 1000000

static gl_config cfg;

static int setup(void **state)
{
	(void)state;
	gl_config_defaults(&cfg);
	assert_int_equal(cfg.delay, D);
	assert_int_equal(cfg.retry_window, W);
	assert_int_equal(cfg.pass_lifetime, L);
	return 0;
}

static const gl_record pending = { GL_PENDING, 1, T0, T0, 0 };
static const gl_record passed = { GL_PASSED, 2, T0, T0 + D, T0 + D };

static void expect(const gl_record *cur, gl_time now, enum gl_verdict v,
		   gl_time wait, const char *reason, int write)
{
	gl_decision d;

	gl_policy_decide(&cfg, cur, now, &d);
	if (d.verdict != v || strcmp(d.reason, reason) != 0 ||
	    d.write != write || (v == GL_DEFER && d.wait != wait))
		fail_msg("now=T0%+lld: got %s %lld %s write=%d, want %s %lld "
			 "%s write=%d", (long long)(now - T0),
			 d.verdict == GL_DEFER ? "defer" : "accept",
			 (long long)d.wait, d.reason, d.write,
			 v == GL_DEFER ? "defer" : "accept", (long long)wait,
			 reason, write);
}

static void test_new(void **state)
{
	gl_decision d;

	gl_policy_decide(&cfg, NULL, T0, &d);
	assert_int_equal(d.verdict, GL_DEFER);
	assert_int_equal(d.wait, D);
	assert_string_equal(d.reason, "new");
	assert_int_equal(d.write, 1);
	assert_int_equal(d.rec.state, GL_PENDING);
	assert_int_equal(d.rec.attempts, 1);
	assert_int_equal(d.rec.first_seen, T0);
	assert_int_equal(d.rec.last_seen, T0);
	assert_int_equal(d.rec.passed_at, 0);
	(void)state;
}

static void test_pending(void **state)
{
	gl_decision d;

	expect(&pending, T0, GL_DEFER, D, "early", 1);
	expect(&pending, T0 + 1, GL_DEFER, D - 1, "early", 1);
	expect(&pending, T0 + D - 1, GL_DEFER, 1, "early", 1);
	expect(&pending, T0 + D, GL_ACCEPT, 0, "pass", 1);
	expect(&pending, T0 + W, GL_ACCEPT, 0, "pass", 1);
	expect(&pending, T0 + W + 1, GL_DEFER, D, "restart", 1);
	expect(&pending, T0 - 1, GL_DEFER, D, "restart", 1); /* clock back */

	gl_policy_decide(&cfg, &pending, T0 + 10, &d);
	assert_int_equal(d.rec.attempts, 2);
	assert_int_equal(d.rec.first_seen, T0);
	assert_int_equal(d.rec.last_seen, T0 + 10);
	gl_policy_decide(&cfg, &pending, T0 + D, &d);
	assert_int_equal(d.rec.state, GL_PASSED);
	assert_int_equal(d.rec.passed_at, T0 + D);
	assert_int_equal(d.rec.attempts, 2);
	gl_policy_decide(&cfg, &pending, T0 + W + 1, &d);
	assert_int_equal(d.rec.first_seen, T0 + W + 1);
	assert_int_equal(d.rec.attempts, 1);
	(void)state;
}

static void test_passed(void **state)
{
	gl_time seen = T0 + D, r = gl_refresh_interval(L);
	gl_decision d;

	assert_int_equal(r, L / 64);
	expect(&passed, seen, GL_ACCEPT, 0, "known", 0);
	expect(&passed, seen + r - 1, GL_ACCEPT, 0, "known", 0);
	expect(&passed, seen + r, GL_ACCEPT, 0, "known", 1);
	expect(&passed, seen + L, GL_ACCEPT, 0, "known", 1);
	expect(&passed, seen + L + 1, GL_DEFER, D, "restart", 1);
	expect(&passed, seen - 5, GL_ACCEPT, 0, "known", 0); /* clock back */

	gl_policy_decide(&cfg, &passed, seen + L, &d);
	assert_int_equal(d.rec.last_seen, seen + L);
	assert_int_equal(d.rec.passed_at, T0 + D); /* the delay is kept */
	assert_int_equal(d.rec.first_seen, T0);
	(void)state;
}

static void test_short_delays(void **state)
{
	cfg.delay = 2;
	cfg.retry_window = 2;
	expect(&pending, T0 + 1, GL_DEFER, 1, "early", 1);
	expect(&pending, T0 + 2, GL_ACCEPT, 0, "pass", 1);
	expect(&pending, T0 + 3, GL_DEFER, 2, "restart", 1);
	assert_int_equal(gl_refresh_interval(60), 0);
	assert_int_equal(gl_refresh_interval(365 * 86400), 86400);
	setup(state);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_new),
		cmocka_unit_test(test_pending),
		cmocka_unit_test(test_passed),
		cmocka_unit_test(test_short_delays),
	};
	return cmocka_run_group_tests_name("policy", tests, setup, NULL);
}
