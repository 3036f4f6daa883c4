/*
 * window.h - what the stored records say about a window of time (the
 * last 24 hours by default): the figures greylist-admin stats and
 * metrics show beside the totals, classified here once for both.
 *
 * Each triplet record is fed to gl_window_add(); a record tells of its
 * first attempt (first_seen), of its pass (passed_at) and whether it was
 * ever retried (attempts > 1 or passed). Within [since, now]:
 *   first_contacts  records whose first attempt is in the window (a
 *                   restarted record counts from its restart: a new
 *                   first contact)
 *   retried         of those, the ones tried again (passed or not yet)
 *   never_retried   of those, the ones still pending after one attempt;
 *                   the youngest of them may still come back
 *   passes          records that passed in the window, with the delay
 *                   each saw (passed_at - first_seen) in delays[]
 * The figures cover the records still stored: purge removes pending
 * records after retry_window, so a window longer than that undercounts.
 *
 * gl_window_add() fails only when memory runs out (-1; the figures then
 * miss that record's delay but stay consistent otherwise).
 * gl_window_free() frees delays; the struct may be reused after
 * gl_window_init().
 */
#ifndef GL_WINDOW_H
#define GL_WINDOW_H

#include "record.h"

typedef struct gl_window {
	gl_time since, now;
	unsigned long first_contacts, retried, never_retried, passes;
	gl_time *delays;           /* passes' delays, in the order added */
	size_t ndelays, cap;
} gl_window;

void gl_window_init(gl_window *w, gl_time since, gl_time now);
int gl_window_add(gl_window *w, const gl_record *r) GL_WUR;
void gl_window_free(gl_window *w);

/* Sorts the delays and returns the nearest-rank percentile p (1-100)
 * of them, -1 when there are none. */
gl_time gl_window_delay_pct(gl_window *w, int p);

#endif
