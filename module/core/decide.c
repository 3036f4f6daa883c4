/* decide.c - one decision from arguments to store (see decide.h). */
#include "decide.h"

#include <stdio.h>
#include <string.h>

#define CAS_TRIES 4

void gl_error_result(const gl_config *cfg, gl_result *res)
{
	res->verdict = cfg->on_error == GL_ON_ERROR_DEFER ? GL_DEFER : GL_ACCEPT;
	res->wait = cfg->delay;
	res->reason = "error";
	res->wl = NULL;
	res->wrote = 0;
}

void gl_yield(const gl_result *res, char *buf, size_t bufsz)
{
	if (res->verdict == GL_DEFER)
		snprintf(buf, bufsz, "defer %lld %s", (long long)res->wait,
			 res->reason);
	else
		snprintf(buf, bufsz, "accept %s", res->reason);
}

/* Runs the policy against the store until one write wins. */
static int run_policy(const gl_config *cfg, gl_store *st, gl_time now,
		      int dry_run, gl_result *res, gl_err *err)
{
	char key[GL_KEY_MAX];
	unsigned char cur[GL_VALUE_MAX], next[GL_RECORD_SIZE];
	size_t curlen;
	gl_decision d;
	gl_err why;
	int klen, rc, tries;

	klen = gl_key_encode(&res->t, key, sizeof key);
	if (klen < 0)
		return gl_fail(err, "triplet key too long");
	for (tries = 0; tries < CAS_TRIES; tries++) {
		curlen = sizeof cur;
		rc = gl_store_get(st, key, (size_t)klen, cur, &curlen, err);
		if (rc < 0)
			return -1;
		res->have_old = rc;
		if (rc && gl_record_decode(cur, curlen, &res->old, &why) < 0)
			return gl_fail(err, "%s: %s for client %s",
				       cfg->backend == GL_BACKEND_GDBM ?
				       cfg->database : cfg->redis, why.msg,
				       res->t.client);
		gl_policy_decide(cfg, rc ? &res->old : NULL, now, &d);
		res->verdict = d.verdict;
		res->wait = d.wait;
		res->reason = d.reason;
		res->rec = d.rec;
		if (!d.write || dry_run)
			return 0;
		gl_record_encode(&d.rec, next);
		rc = gl_store_cas(st, key, (size_t)klen, rc ? cur : NULL,
				  curlen, next, sizeof next,
				  d.rec.state == GL_PASSED ?
				  cfg->pass_lifetime : cfg->retry_window, err);
		if (rc < 0)
			return -1;
		if (rc == 1) {
			res->wrote = 1;
			return 0;
		}
	}
	return gl_fail(err, "database busy: record changed %d times while "
		       "deciding", CAS_TRIES);
}

int gl_decide(const gl_config *cfg, gl_store *st, const gl_request *req,
	      gl_time now, int dry_run, gl_result *res, gl_err *err)
{
	CIDR ip;
	gl_wl_query q;

	memset(res, 0, sizeof *res);
	if (gl_ip_parse(req->ip, &ip, err) < 0 ||
	    gl_fold_sender(req->sender, cfg->sender_normalize, res->t.sender,
			   sizeof res->t.sender, err) < 0 ||
	    gl_fold_rcpt(req->rcpt, res->t.rcpt, sizeof res->t.rcpt, err) < 0)
		return -1;

	q.ip = &ip;
	q.sender = res->t.sender;
	q.rcpt = res->t.rcpt;
	q.host = req->host;
	res->wl = gl_whitelist_match(cfg->whitelist, &q, now);
	if (res->wl != NULL) {
		res->verdict = GL_ACCEPT;
		res->reason = "whitelist";
		return 0;
	}
	if (gl_ip_subnet(&ip, cfg->ipv4_prefix, cfg->ipv6_prefix,
			 res->t.client, sizeof res->t.client, err) < 0)
		return -1;
	if (st == NULL)
		return gl_fail(err, "no database open");
	return run_policy(cfg, st, now, dry_run, res, err);
}
