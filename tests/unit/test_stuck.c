/* test_stuck.c - senders that retry but never get through (stuck.h). */
#include "unit.h"

#include "../../module/core/config.h"
#include "../../module/core/stuck.h"

#define NOW 1000000
#define MAXREC 4

typedef struct rec {
	const char *client, *sender, *rcpt;
	int passed;
	gl_time first_ago, last_ago;  /* passed_at = last for passed ones */
} rec;

static const struct {
	const char *name;
	rec r[MAXREC];
	size_t groups, domains;
	const char *entry;             /* of the first group */
	int pooled;
} cases[] = {
	{ "three /24s, spread over the delay", {
		{ "192.0.2.0/24", "reset@saas.example", "bob@our.example", 0, 900, 900 },
		{ "198.51.100.0/24", "reset@saas.example", "bob@our.example", 0, 600, 600 },
		{ "203.0.113.0/24", "reset@saas.example", "bob@our.example", 0, 300, 300 } },
	  1, 1, "reset@saas.example", 0 },
	{ "a burst shorter than the delay", {
		{ "192.0.2.0/24", "x@burst.example", "bob@our.example", 0, 900, 900 },
		{ "198.51.100.0/24", "x@burst.example", "bob@our.example", 0, 850, 850 },
		{ "203.0.113.0/24", "x@burst.example", "bob@our.example", 0, 800, 800 } },
	  0, 0, NULL, 0 },
	{ "two first contacts are not several", {
		{ "192.0.2.0/24", "reset@saas.example", "bob@our.example", 0, 900, 900 },
		{ "198.51.100.0/24", "reset@saas.example", "bob@our.example", 0, 300, 300 } },
	  0, 0, NULL, 0 },
	{ "one client, senders the folding does not merge: the domain", {
		{ "192.0.2.0/24", "a-x@list.example", "bob@our.example", 0, 900, 900 },
		{ "192.0.2.0/24", "b-y@list.example", "bob@our.example", 0, 600, 600 },
		{ "192.0.2.0/24", "c-z@list.example", "bob@our.example", 0, 300, 300 } },
	  1, 1, "list.example", 0 },
	{ "a pass since the first attempt clears it", {
		{ "192.0.2.0/24", "reset@saas.example", "bob@our.example", 0, 900, 900 },
		{ "198.51.100.0/24", "reset@saas.example", "bob@our.example", 0, 600, 600 },
		{ "203.0.113.0/24", "reset@saas.example", "bob@our.example", 0, 300, 300 },
		{ "192.0.2.0/24", "other@saas.example", "bob@our.example", 1, 1000, 100 } },
	  0, 0, NULL, 0 },
	{ "an older pass does not", {
		{ "192.0.2.0/24", "reset@saas.example", "bob@our.example", 0, 900, 900 },
		{ "198.51.100.0/24", "reset@saas.example", "bob@our.example", 0, 600, 600 },
		{ "203.0.113.0/24", "reset@saas.example", "bob@our.example", 0, 300, 300 },
		{ "192.0.2.0/24", "other@saas.example", "bob@our.example", 1, 2000, 1000 } },
	  1, 1, "reset@saas.example", 0 },
	{ "the null sender is left out", {
		{ "192.0.2.0/24", "<>", "bob@our.example", 0, 900, 900 },
		{ "198.51.100.0/24", "<>", "bob@our.example", 0, 600, 600 },
		{ "203.0.113.0/24", "<>", "bob@our.example", 0, 300, 300 } },
	  0, 0, NULL, 0 },
	{ "a whitelisted domain is not stuck any more", {
		{ "192.0.2.0/24", "a@listed.example", "bob@our.example", 0, 900, 900 },
		{ "198.51.100.0/24", "a@listed.example", "bob@our.example", 0, 600, 600 },
		{ "203.0.113.0/24", "a@listed.example", "bob@our.example", 0, 300, 300 } },
	  0, 0, NULL, 0 },
	{ "records past retry_window no longer count", {
		{ "192.0.2.0/24", "reset@saas.example", "bob@our.example", 0, 90000, 90000 },
		{ "198.51.100.0/24", "reset@saas.example", "bob@our.example", 0, 600, 600 },
		{ "203.0.113.0/24", "reset@saas.example", "bob@our.example", 0, 300, 300 } },
	  0, 0, NULL, 0 },
	{ "pools are marked; a sender with '#' gives the domain", {
		{ "spf:mx.example", "b-#@mx.example", "bob@our.example", 0, 900, 900 },
		{ "host:out.mx.example", "b-#@mx.example", "bob@our.example", 0, 600, 600 },
		{ "203.0.113.0/24", "b-#@mx.example", "bob@our.example", 0, 300, 300 } },
	  1, 1, "mx.example", 1 },
	{ "two recipients: two groups, one domain", {
		{ "192.0.2.0/24", "r@saas.example", "a@our.example", 0, 900, 900 },
		{ "198.51.100.0/24", "r@saas.example", "a@our.example", 0, 600, 600 },
		{ "203.0.113.0/24", "r@saas.example", "a@our.example", 0, 300, 300 },
		{ "203.0.113.0/24", "r@saas.example", "b@our.example", 0, 300, 300 } },
	  1, 1, "r@saas.example", 0 },
};

static void test_cases(void **state)
{
	gl_config cfg;
	gl_whitelist *wl = NULL;
	const gl_whitelist *wls[2];
	gl_err err;
	size_t i, j;

	gl_config_defaults(&cfg);           /* delay 5m, retry_window 2d */
	cfg.retry_window = 86400;
	assert_int_equal(gl_whitelist_parse_text(&wl, "listed.example\n", 15, 1,
						 "test", NULL, &err), 0);
	wls[0] = NULL;
	wls[1] = wl;
	for (i = 0; i < N_ELEMS(cases); i++) {
		gl_stuck *s = gl_stuck_new(&cfg, NOW - 86400, NOW);

		assert_non_null(s);
		for (j = 0; j < MAXREC && cases[i].r[j].client; j++) {
			const rec *c = &cases[i].r[j];
			gl_triplet t;
			gl_record r;

			snprintf(t.client, sizeof t.client, "%s", c->client);
			snprintf(t.sender, sizeof t.sender, "%s", c->sender);
			snprintf(t.rcpt, sizeof t.rcpt, "%s", c->rcpt);
			r.state = c->passed ? GL_PASSED : GL_PENDING;
			r.attempts = c->passed ? 2 : 1;
			r.first_seen = NOW - c->first_ago;
			r.last_seen = NOW - c->last_ago;
			r.passed_at = c->passed ? r.last_seen : 0;
			assert_int_equal(gl_stuck_add(s, &t, &r), 0);
		}
		assert_int_equal(gl_stuck_finish(s, wls, 2), 0);
		if (gl_stuck_groups(s) != cases[i].groups ||
		    gl_stuck_domains(s) != cases[i].domains)
			fail_msg("%s: %zu groups, %zu domains", cases[i].name,
				 gl_stuck_groups(s), gl_stuck_domains(s));
		if (cases[i].entry != NULL) {
			const gl_stuck_group *g = gl_stuck_group_at(s, 0);

			assert_string_equal(g->entry, cases[i].entry);
			assert_int_equal(g->pooled, cases[i].pooled);
			assert_int_equal(g->first_contacts, 3);
			assert_int_equal(g->first, NOW - 900);
			assert_int_equal(g->last, NOW - 300);
		}
		assert_null(gl_stuck_group_at(s, gl_stuck_groups(s)));
		gl_stuck_free(s);
	}
	gl_whitelist_free(wl);
	(void)state;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cases),
	};
	return cmocka_run_group_tests_name("stuck", tests, NULL, NULL);
}
