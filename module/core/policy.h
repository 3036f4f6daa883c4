/*
 * policy.h - the greylisting state machine, with no I/O.
 *
 * gl_policy_decide() looks at the stored record of a triplet (NULL when
 * there is none) at time now and says what to answer and what to store.
 * With D = delay, W = retry_window, L = pass_lifetime and times in whole
 * seconds:
 *   no record                   -> defer D, store a new pending record
 *   pending, age < D            -> defer D - age ("early"), count it
 *   pending, D <= age <= W      -> accept ("pass"), store it passed
 *   pending, age > W or age < 0 -> defer D, start again ("restart")
 *   passed, idle <= L           -> accept ("known"); store last_seen only
 *                                  when idle >= gl_refresh_interval(L)
 *   passed, idle > L            -> defer D, start again ("restart")
 * where age = now - first_seen and idle = now - last_seen. A passed
 * record seen with idle < 0 (clock stepped back) is accepted unchanged.
 */
#ifndef GL_POLICY_H
#define GL_POLICY_H

#include "config.h"
#include "record.h"

enum gl_verdict { GL_ACCEPT, GL_DEFER };

typedef struct gl_decision {
	enum gl_verdict verdict;
	gl_time wait;       /* with GL_DEFER: seconds until a retry can pass */
	const char *reason; /* static: new, early, restart, pass, known */
	int write;          /* 1: rec is to be stored */
	gl_record rec;      /* the record after this decision */
} gl_decision;

void gl_policy_decide(const gl_config *cfg, const gl_record *cur, gl_time now,
		      gl_decision *d);

/* How stale last_seen of a passed record may get before it is rewritten. */
gl_time gl_refresh_interval(gl_time pass_lifetime);

#endif
