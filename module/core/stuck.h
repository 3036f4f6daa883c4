/*
 * stuck.h - senders that retry but never get through.
 *
 * A sender whose every retry carries a new key (another client outside
 * the subnet and not a recognised pool, or a sender address the folding
 * does not merge) is deferred as "new" each time: in the logs that looks
 * exactly like greylisting working. From the records the store already
 * keeps (nothing is written for this), gl_stuck finds them: records are
 * fed one by one (gl_stuck_add()), then gl_stuck_finish() groups the
 * pending ones by sender domain and recipient and keeps a group when
 *   - it has at least GL_STUCK_MIN first contacts (records) whose first
 *     attempt is in [since, now] and that still count (policy.h),
 *   - from at least two clients or two folded senders,
 *   - spread over at least the delay (a retrying server, not one burst),
 *   - with no pass to that recipient from that domain since the group's
 *     first attempt, and
 *   - no whitelist entry that now lets the latest of them through.
 * Groups come out most first contacts first. Each names its clients and
 * senders (at most GL_STUCK_LIST_MAX of each, with the full counts), its
 * first and last attempt, whether any client was a pool key, and the
 * whitelist entry that would let it through: the sender address when
 * there was one, else the domain ("" when neither is fit for an entry).
 *
 * The null sender is left out (no domain to let through; bounces from
 * many clients are backscatter). The strings of a group belong to s and
 * live until gl_stuck_free(). Untrusted text (addresses from SMTP) is
 * kept as stored, except that the entry holds only printable characters
 * without blanks, quotes, backslashes or '#'; the caller makes the rest
 * printable and quotes it. -1 only when memory runs out.
 */
#ifndef GL_STUCK_H
#define GL_STUCK_H

#include "config.h"
#include "record.h"
#include "triplet.h"
#include "whitelist.h"

#define GL_STUCK_MIN 3
#define GL_STUCK_LIST_MAX 16

typedef struct gl_stuck_group {
	char *domain;                 /* the senders' domain */
	char *rcpt;
	unsigned first_contacts;      /* pending records in the group */
	unsigned attempts;            /* their attempts, summed */
	size_t nclients, nsenders;    /* distinct ones */
	char *clients[GL_STUCK_LIST_MAX];  /* the first of them, sorted */
	char *senders[GL_STUCK_LIST_MAX];
	gl_time first, last;          /* first and last attempt */
	int pooled;                   /* a client was a pool key (spf:, host:) */
	char entry[GL_ADDR_MAX + 1];  /* whitelist ENTRY, or "" */
} gl_stuck_group;

typedef struct gl_stuck gl_stuck;

/* NULL when out of memory. */
gl_stuck *gl_stuck_new(const gl_config *cfg, gl_time since, gl_time now);
int gl_stuck_add(gl_stuck *s, const gl_triplet *t, const gl_record *r) GL_WUR;

/* Groups and filters (see above); wl[0..nwl-1] are the whitelists in
 * force (entries of files and of the database; NULL ones skipped). */
int gl_stuck_finish(gl_stuck *s, const gl_whitelist *const *wl, size_t nwl)
	GL_WUR;

/* After gl_stuck_finish(): the groups, and the distinct sender domains
 * among them. */
size_t gl_stuck_groups(const gl_stuck *s);
const gl_stuck_group *gl_stuck_group_at(const gl_stuck *s, size_t i);
size_t gl_stuck_domains(const gl_stuck *s);

void gl_stuck_free(gl_stuck *s);

#endif
