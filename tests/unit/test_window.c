/* test_window.c - figures of a window of time from records (window.h). */
#include "unit.h"

#include "../../module/core/window.h"

/* Window [1000, 2000]: each record's share of the figures. */
static void test_classify(void **state)
{
	static const struct {
		gl_record r;
		unsigned long first, retried, never, passes;
		gl_time delay;  /* -1: no delay counted */
	} t[] = {
		/* first attempt in the window, never retried */
		{ { GL_PENDING, 1, 1500, 1500, 0 }, 1, 0, 1, 0, -1 },
		/* ... retried early, not passed yet */
		{ { GL_PENDING, 3, 1500, 1600, 0 }, 1, 1, 0, 0, -1 },
		/* ... passed in the window */
		{ { GL_PASSED, 2, 1500, 1812, 1812 }, 1, 1, 0, 1, 312 },
		/* first attempt before, passed in the window */
		{ { GL_PASSED, 2, 900, 1100, 1100 }, 0, 0, 0, 1, 200 },
		/* first attempt before, passed before */
		{ { GL_PASSED, 2, 100, 1500, 400 }, 0, 0, 0, 0, -1 },
		/* the boundaries belong to the window */
		{ { GL_PENDING, 1, 1000, 1000, 0 }, 1, 0, 1, 0, -1 },
		{ { GL_PASSED, 2, 1990, 2000, 2000 }, 1, 1, 0, 1, 10 },
		/* after now (clock stepped back): not in it */
		{ { GL_PENDING, 1, 2001, 2001, 0 }, 0, 0, 0, 0, -1 },
		/* before the window */
		{ { GL_PENDING, 1, 999, 999, 0 }, 0, 0, 0, 0, -1 },
	};
	gl_window w;
	size_t i;

	for (i = 0; i < N_ELEMS(t); i++) {
		gl_window_init(&w, 1000, 2000);
		assert_int_equal(gl_window_add(&w, &t[i].r), 0);
		if (w.first_contacts != t[i].first || w.retried != t[i].retried ||
		    w.never_retried != t[i].never || w.passes != t[i].passes)
			fail_msg("case %zu: %lu %lu %lu %lu", i, w.first_contacts,
				 w.retried, w.never_retried, w.passes);
		assert_int_equal(w.ndelays, t[i].delay >= 0);
		if (t[i].delay >= 0)
			assert_int_equal(w.delays[0], t[i].delay);
		gl_window_free(&w);
	}
	(void)state;
}

/* Nearest-rank percentiles of the delays. */
static void test_pct(void **state)
{
	static const gl_time d[] = { 50, 10, 40, 30, 20 };
	static const struct { int p; gl_time want; } t[] = {
		{ 1, 10 }, { 20, 10 }, { 21, 20 }, { 50, 30 }, { 95, 50 },
		{ 100, 50 },
	};
	gl_record r = { GL_PASSED, 2, 0, 0, 0 };
	gl_window w;
	size_t i;

	gl_window_init(&w, 0, 1000);
	assert_int_equal(gl_window_delay_pct(&w, 50), -1);
	for (i = 0; i < N_ELEMS(d); i++) {
		r.first_seen = 500;
		r.passed_at = r.last_seen = 500 + d[i];
		assert_int_equal(gl_window_add(&w, &r), 0);
	}
	for (i = 0; i < N_ELEMS(t); i++)
		assert_int_equal(gl_window_delay_pct(&w, t[i].p), t[i].want);
	gl_window_free(&w);
	(void)state;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_classify),
		cmocka_unit_test(test_pct),
	};
	return cmocka_run_group_tests_name("window", tests, NULL, NULL);
}
