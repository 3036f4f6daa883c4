/* window.c - figures of a window of time from the records (window.h). */
#include "window.h"

#include <stdlib.h>
#include <string.h>

void gl_window_init(gl_window *w, gl_time since, gl_time now)
{
	memset(w, 0, sizeof *w);
	w->since = since;
	w->now = now;
}

void gl_window_free(gl_window *w)
{
	free(w->delays);
	w->delays = NULL;
	w->ndelays = w->cap = 0;
}

static int in(const gl_window *w, gl_time t)
{
	return t >= w->since && t <= w->now;
}

int gl_window_add(gl_window *w, const gl_record *r)
{
	if (in(w, r->first_seen)) {
		w->first_contacts++;
		if (r->state == GL_PASSED || r->attempts > 1)
			w->retried++;
		else
			w->never_retried++;
	}
	if (r->state != GL_PASSED || !in(w, r->passed_at))
		return 0;
	w->passes++;
	if (w->ndelays == w->cap) {
		size_t cap = w->cap * 2 + 64;
		gl_time *d = realloc(w->delays, cap * sizeof *d);

		if (d == NULL)
			return -1;
		w->delays = d;
		w->cap = cap;
	}
	w->delays[w->ndelays++] = r->passed_at - r->first_seen;
	return 0;
}

static int cmp_time(const void *a, const void *b)
{
	gl_time x = *(const gl_time *)a, y = *(const gl_time *)b;

	return x < y ? -1 : x > y;
}

gl_time gl_window_delay_pct(gl_window *w, int p)
{
	size_t r;

	if (w->ndelays == 0)
		return -1;
	qsort(w->delays, w->ndelays, sizeof *w->delays, cmp_time);
	r = (w->ndelays * (size_t)p + 99) / 100;
	return w->delays[r ? r - 1 : 0];
}
