/*
 * decide.h - one greylisting decision, from the call's arguments to the
 * stored record: the piece the Exim module and greylist-admin share.
 *
 * gl_decide() checks the arguments, folds the addresses, tries the
 * whitelist files, chooses the client part of the key (the subnet, or a
 * pool: "spf:DOMAIN" or "host:NAME-WITHOUT-FIRST-LABEL" with match_pools,
 * never shorter than the registered domain nor for a generic name:
 * names.h),
 * then reads the triplet, the database whitelist's generation and the
 * client's pass count in one store call; it tries the database whitelist
 * and the auto-whitelist, and runs the policy (writing only when the
 * record changes, by compare-and-set, retried when another process got
 * there first). With dry_run it only reads (greylist-admin explain).
 *
 * It returns 0 with res filled, or -1 with err when it cannot decide: bad
 * argument, unreadable or busy store, a record it does not recognise. The
 * caller then answers per on_error with gl_error_result(). res is always
 * initialised (every field zero or set), so it may be logged after -1;
 * its verdict and reason mean nothing then.
 *
 * A gl_ctx holds what lives across decisions (the parsed database
 * whitelist); the caller owns the configuration and the store, and
 * neither may change while ctx uses them. res->wl points into the
 * configuration's whitelist or ctx's: it stays valid until the next
 * gl_decide() on ctx, gl_ctx_free() or gl_config_free().
 */
#ifndef GL_DECIDE_H
#define GL_DECIDE_H

#include "addr.h"
#include "dbwl.h"
#include "keys.h"
#include "names.h"
#include "policy.h"
#include "store.h"
#include "triplet.h"
#include "whitelist.h"

typedef struct gl_ctx {
	const gl_config *cfg;
	gl_store *st;
	gl_whitelist *dbwl;   /* parsed database whitelist, or NULL */
	uint64_t dbwl_gen;    /* its generation; 0: none loaded */
	uint64_t dbwl_seen;   /* what "V" said when it was read */
} gl_ctx;

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
				      whitelist, auto, error */
	const char *client_why;    /* subnet, spf or host */
	char host_note[GL_NOTE_MAX]; /* why host= was not used ("" when it
				      was, or none was given) */
	const gl_wl_entry *wl;     /* the entry that matched, or NULL */
	gl_triplet t;              /* the key's parts (client may be "") */
	int have_old;              /* a record was stored before */
	gl_record old;             /* ... and this was it */
	gl_record rec;             /* the record after the decision */
	int have_client;           /* the client has passed triplets */
	gl_client_record client;   /* ... counted here */
	int wrote;                 /* the store was changed */
} gl_result;

void gl_ctx_init(gl_ctx *ctx, const gl_config *cfg, gl_store *st);
void gl_ctx_free(gl_ctx *ctx);

int gl_decide(gl_ctx *ctx, const gl_request *req, gl_time now, int dry_run,
	      gl_result *res, gl_err *err) GL_WUR;

/*
 * The client part of a key for this request (the pool rules above), and
 * why ("subnet", "spf" or "host"); note (notesz bytes) gets why a host
 * name was not used, or "".
 */
int gl_client_part(const gl_config *cfg, const CIDR *ip, const char *sender,
		   const char *host, const char *spf, char *out, size_t outsz,
		   const char **why_r, char *note, size_t notesz,
		   gl_err *err) GL_WUR;

/*
 * The client part an administrator means by text: an address stands for
 * the subnet it is keyed on (*is_address_r = 1); anything else is a
 * client part as greylist-admin list prints it (a subnet or a pool name)
 * and is copied. 0, or -1 with err (out untouched) when it does not fit.
 */
int gl_client_of(const gl_config *cfg, const char *text, char *out,
		 size_t outsz, int *is_address_r, gl_err *err) GL_WUR;

/* Fills res with the on_error answer (reason "error"). */
void gl_error_result(const gl_config *cfg, gl_result *res);

/*
 * Writes the yield "defer N REASON", "accept pass HELD" or "accept
 * REASON" into buf (never longer than 64 bytes); see the README for the
 * reasons. HELD is gl_held(): words after the reason are additions a
 * caller that does not know them ignores.
 */
void gl_yield(const gl_result *res, char *buf, size_t bufsz);

/* For a pass: the seconds the triplet was held (from its first attempt
 * to this retry, passed_at - first_seen); -1 for any other answer. */
gl_time gl_held(const gl_result *res);

#endif
