/* decide.c - one decision from arguments to store (see decide.h). */
#include "decide.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CAS_TRIES 4
/* Room for the value of a triplet's record: it is 32 bytes, and one of
 * another length (up to this) is reported as what it is (record.h); a
 * longer one, as too large by the store; an error either way. Small, so
 * that a decision's frame spans few stack pages: each is a page fault in
 * every Exim connection process. (A client's record keeps GL_VALUE_MAX:
 * one that does not decode is ignored, and a longer one would fail the
 * whole read.) */
#define VALUE_ROOM 256

void gl_ctx_init(gl_ctx *ctx, const gl_config *cfg, gl_store *st)
{
	memset(ctx, 0, sizeof *ctx);
	ctx->cfg = cfg;
	ctx->st = st;
}

void gl_ctx_free(gl_ctx *ctx)
{
	gl_whitelist_free(ctx->dbwl);
	ctx->dbwl = NULL;
	ctx->dbwl_gen = 0;
	ctx->dbwl_seen = 0;
}

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
	else if (gl_held(res) >= 0)
		snprintf(buf, bufsz, "accept pass %lld",
			 (long long)gl_held(res));
	else
		snprintf(buf, bufsz, "accept %s", res->reason);
}

gl_time gl_held(const gl_result *res)
{
	if (res->verdict != GL_ACCEPT || res->reason == NULL ||
	    strcmp(res->reason, "pass") != 0)
		return -1;
	return res->rec.passed_at > res->rec.first_seen ?
	       res->rec.passed_at - res->rec.first_seen : 0;
}

/* A host or domain name we are willing to put into a key. */
static int valid_name(const char *s)
{
	size_t n = strlen(s);

	return gl_valid_name(s, GL_DNS_NAME_MAX) && s[0] != '.' && s[n - 1] != '.';
}

static int put_pool(const char *prefix, const char *name, char *out,
		    size_t outsz)
{
	size_t n = strlen(prefix);

	if (n + strlen(name) >= outsz)
		return -1;
	memcpy(out, prefix, n);
	memcpy(out + n, name, strlen(name) + 1);
	gl_lower(out + n);
	return 0;
}

int gl_client_of(const gl_config *cfg, const char *text, char *out,
		 size_t outsz, int *is_address_r, gl_err *err)
{
	CIDR ip;

	*is_address_r = gl_ip_parse(text, &ip, NULL) == 0;
	if (*is_address_r)
		return gl_ip_subnet(&ip, cfg->ipv4_prefix, cfg->ipv6_prefix,
				    out, outsz, err);
	if (gl_copy(out, outsz, text) < 0)
		return gl_fail(err, "client '%.40s...' too long", text);
	return 0;
}

int gl_client_part(const gl_config *cfg, const CIDR *ip, const char *sender,
		   const char *host, const char *spf, char *out, size_t outsz,
		   const char **why_r, char *note, size_t notesz, gl_err *err)
{
	const char *dom = gl_addr_domain(sender);
	char pool[GL_DNS_NAME_MAX + 1];

	*note = '\0';
	if (cfg->match_pools) {
		if (spf != NULL && strcasecmp(spf, "pass") == 0 &&
		    valid_name(dom) &&
		    put_pool("spf:", dom, out, outsz) == 0) {
			*why_r = "spf";
			return 0;
		}
		/* names.c: never shorter than the registered domain, never
		 * a generic name (note says why not) */
		if (host != NULL && *host &&
		    gl_host_pool(ip, host, pool, sizeof pool, note, notesz) &&
		    put_pool("host:", pool, out, outsz) == 0) {
			*why_r = "host";
			return 0;
		}
	}
	*why_r = "subnet";
	return gl_ip_subnet(ip, cfg->ipv4_prefix, cfg->ipv6_prefix, out, outsz,
			    err);
}


/*
 * Re-reads the database whitelist when "V" moved since it was last read
 * (seen: what it says now; 0: no entries). The text is cached under the
 * generation it carries itself (dbwl.h).
 */
static int load_dbwl(gl_ctx *ctx, uint64_t seen, gl_err *err)
{
	gl_whitelist *wl = NULL;
	gl_dbwl cur;

	if (seen == ctx->dbwl_seen)
		return 0;
	if (seen == 0) {
		gl_ctx_free(ctx);
		return 0;
	}
	if (gl_dbwl_read(ctx->st, &cur, err) < 0)
		return -1;
	/* Entries the admin tool wrote; one that no longer parses is
	 * skipped (greylist-admin whitelist list names it). */
	if (gl_whitelist_parse_text(&wl, cur.text, cur.len,
				    ctx->cfg->sender_normalize, "database",
				    NULL, err) < 0) {
		gl_dbwl_free(&cur);
		gl_whitelist_free(wl);
		return -1;
	}
	gl_ctx_free(ctx);
	ctx->dbwl = wl;
	ctx->dbwl_gen = cur.gen;
	ctx->dbwl_seen = seen;
	gl_dbwl_free(&cur);
	return 0;
}

/* Counts one more passed triplet for the client; errors are not fatal. */
static void count_pass(gl_ctx *ctx, const char *ckey, size_t cklen,
		       gl_time now)
{
	unsigned char cur[GL_CLIENT_RECORD_SIZE + 1], next[GL_CLIENT_RECORD_SIZE];
	gl_client_record c;
	size_t curlen;
	int i, rc;

	for (i = 0; i < CAS_TRIES; i++) {
		curlen = sizeof cur;
		rc = gl_store_get(ctx->st, ckey, cklen, cur, &curlen, NULL);
		if (rc < 0)
			return;
		if (rc == 1 && gl_client_record_decode(cur, curlen, &c, NULL) == 0) {
			if (c.count < UINT32_MAX)
				c.count++;
			c.last_pass = now > c.last_pass ? now : c.last_pass;
		} else {
			c.count = 1;
			c.first_pass = c.last_pass = now;
		}
		gl_client_record_encode(&c, next);
		rc = gl_store_cas(ctx->st, ckey, cklen, rc == 1 ? cur : NULL,
				  curlen, next, sizeof next,
				  gl_pair_ttl(ctx->cfg, ckey, cklen, next,
					      sizeof next, now), NULL);
		if (rc != 0)
			return;
	}
}

static int decide(gl_ctx *ctx, const gl_request *req, gl_time now,
		  int dry_run, gl_result *res, gl_err *err);

int gl_decide(gl_ctx *ctx, const gl_request *req, gl_time now, int dry_run,
	      gl_result *res, gl_err *err)
{
	int rc;

	/* One bound for everything this decision asks of the store, and
	 * one session (a dry run, explain's, may be read-only: none). */
	if (ctx->st != NULL) {
		gl_store_deadline(ctx->st, ctx->st->timeout_ms);
		if (!dry_run)
			gl_store_session(ctx->st, 1);
	}
	rc = decide(ctx, req, now, dry_run, res, err);
	if (ctx->st != NULL) {
		if (!dry_run)
			gl_store_session(ctx->st, 0);
		gl_store_deadline(ctx->st, 0);
	}
	return rc;
}

static int decide(gl_ctx *ctx, const gl_request *req, gl_time now,
		  int dry_run, gl_result *res, gl_err *err)
{
	const gl_config *cfg = ctx->cfg;
	char key[GL_KEY_MAX], ckey[GL_CLIENT_MAX + 2];
	unsigned char cur[VALUE_ROOM], gen[16], crec[GL_VALUE_MAX];
	unsigned char next[GL_RECORD_SIZE];
	gl_get_item it[3];
	gl_decision d;
	gl_wl_query q;
	gl_err why;
	int klen, cklen, tries;
	CIDR ip;

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
	if (gl_client_part(cfg, &ip, res->t.sender, req->host, req->spf,
			   res->t.client, sizeof res->t.client,
			   &res->client_why, res->host_note,
			   sizeof res->host_note, err) < 0)
		return -1;
	if (ctx->st == NULL)
		return gl_fail(err, "no database open");
	klen = gl_key_encode(&res->t, key, sizeof key);
	cklen = gl_client_key(res->t.client, ckey, sizeof ckey);
	if (klen < 0 || cklen < 0)
		return gl_fail(err, "triplet key too long");

	for (tries = 0; tries < CAS_TRIES; tries++) {
		memset(it, 0, sizeof it);
		it[0].key = key, it[0].klen = (size_t)klen;
		it[0].val = cur, it[0].vlen = sizeof cur;
		it[1].key = GL_DBWL_GEN_KEY, it[1].klen = 1;
		it[1].val = gen, it[1].vlen = sizeof gen;
		it[2].key = ckey, it[2].klen = (size_t)cklen;
		it[2].val = crec, it[2].vlen = sizeof crec;
		/* the client's record matters only with auto-whitelisting */
		if (ctx->st->ops->get(ctx->st, it,
				      cfg->auto_whitelist_clients > 0 ? 3 : 2,
				      err) < 0)
			return -1;
		if (tries == 0) {
			if (load_dbwl(ctx, it[1].found ?
				      gl_dbwl_gen_decode(gen, it[1].vlen) : 0,
				      err) < 0)
				return -1;
			res->wl = gl_whitelist_match(ctx->dbwl, &q, now);
			if (res->wl != NULL) {
				res->verdict = GL_ACCEPT;
				res->reason = "whitelist";
				return 0;
			}
			res->have_client = it[2].found &&
				gl_client_record_decode(crec, it[2].vlen,
							&res->client, NULL) == 0;
		}
		res->have_old = it[0].found;
		if (it[0].found &&
		    gl_record_decode(cur, it[0].vlen, &res->old, &why) < 0)
			return gl_fail(err, "%s: %s (client %s)",
				       ctx->st->where, why.msg, res->t.client);
		if (tries == 0 && res->have_client &&
		    gl_policy_auto_whitelisted(cfg, &res->client, res->have_old ?
					       &res->old : NULL, now)) {
			res->verdict = GL_ACCEPT;
			res->reason = "auto";
			return 0;
		}
		gl_policy_decide(cfg, it[0].found ? &res->old : NULL, now, &d);
		res->verdict = d.verdict;
		res->wait = d.wait;
		res->reason = d.reason;
		res->rec = d.rec;
		if (!d.write || dry_run)
			return 0;
		gl_record_encode(&d.rec, next);
		switch (gl_store_cas(ctx->st, key, (size_t)klen,
				     it[0].found ? cur : NULL, it[0].vlen, next,
				     sizeof next, gl_record_ttl(cfg, &d.rec, now),
				     err)) {
		case -1:
			return -1;
		case 1:
			res->wrote = 1;
			if (!strcmp(d.reason, "pass") &&
			    cfg->auto_whitelist_clients > 0)
				count_pass(ctx, ckey, (size_t)cklen, now);
			return 0;
		}
	}
	return gl_fail(err, "database busy: record changed %d times while "
		       "deciding", CAS_TRIES);
}


