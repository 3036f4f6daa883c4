/*
 * decide.h - one greylisting decision, from the call's arguments to the
 * stored record: the piece the Exim module and greylist-admin share.
 *
 * gl_decide() checks the arguments, folds the addresses, tries the
 * whitelist, builds the triplet key and runs the policy against the store
 * (read first; write only when the policy changes the record, by
 * compare-and-set, retried a few times when another process got there
 * first). With dry_run it only reads (greylist-admin explain). It returns
 * 0 with res filled, or -1 with err when it cannot decide: bad argument,
 * unreadable or busy store, a record it does not recognise. The caller
 * then answers per on_error with gl_error_result().
 */
#ifndef GL_DECIDE_H
#define GL_DECIDE_H

#include "addr.h"
#include "policy.h"
#include "store.h"
#include "triplet.h"
#include "whitelist.h"

typedef struct gl_request {
	const char *ip;
	const char *sender;
	const char *rcpt;
	const char *host; /* NULL or the verified host name */
	const char *helo; /* NULL or the HELO name */
	const char *spf;  /* NULL or the SPF result */
} gl_request;

typedef struct gl_result {
	enum gl_verdict verdict;
	gl_time wait;              /* with GL_DEFER */
	const char *reason;        /* new, early, restart, pass, known,
				      whitelist, error */
	const gl_wl_entry *wl;     /* the entry that matched, or NULL */
	gl_triplet t;              /* the key's parts (client may be "") */
	int have_old;              /* a record was stored before */
	gl_record old;             /* ... and this was it */
	gl_record rec;             /* the record after the decision */
	int wrote;                 /* the store was changed */
} gl_result;

int gl_decide(const gl_config *cfg, gl_store *st, const gl_request *req,
	      gl_time now, int dry_run, gl_result *res, gl_err *err) GL_WUR;

/* Fills res with the on_error answer (reason "error"). */
void gl_error_result(const gl_config *cfg, gl_result *res);

/*
 * Writes the yield "defer N REASON" or "accept REASON" into buf
 * (never longer than 64 bytes); see the README for the reasons.
 */
void gl_yield(const gl_result *res, char *buf, size_t bufsz);

#endif
