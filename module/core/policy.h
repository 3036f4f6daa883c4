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
 *
 * Every other rule of time lives here too, and everything that needs one
 * calls these (the module, purge, stats, clients, explain, and the TTLs
 * of the Redis backend): when a triplet's or a client's record stops
 * counting, and when a client is auto-whitelisted. None of them fails.
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

/*
 * How stale last_seen of a passed record may get before it is rewritten:
 * pass_lifetime/64, at most a day. A known triplet then costs a write at
 * most once a day, and a passed record expires at most that much earlier
 * than pass_lifetime after the last time it was seen.
 */
gl_time gl_refresh_interval(gl_time pass_lifetime);

/*
 * The last second a triplet's record counts: a pending one until
 * retry_window after its first attempt, a passed one until pass_lifetime
 * after it was last seen. Past it, gl_policy_decide() starts again and
 * purge removes the record.
 */
gl_time gl_policy_record_end(const gl_config *cfg, const gl_record *r);

/* The last second a client's record counts: pass_lifetime after its
 * last pass. */
gl_time gl_policy_client_end(const gl_config *cfg, const gl_client_record *c);

/*
 * 1 when a client with this record is let through without greylisting
 * (auto_whitelist_clients passes, the last within pass_lifetime). With
 * the triplet's own record (old, NULL for none): 0 when that record has
 * passed, as its own answer ("known") then applies.
 */
int gl_policy_auto_whitelisted(const gl_config *cfg,
			       const gl_client_record *c, const gl_record *old,
			       gl_time now);

#endif
