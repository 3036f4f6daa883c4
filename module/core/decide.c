/* decide.c - one decision from arguments to store (see decide.h). */
#include "decide.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CAS_TRIES 4

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
	else
		snprintf(buf, bufsz, "accept %s", res->reason);
}

/* A host or domain name we are willing to put into a key. */
static int valid_name(const char *s, size_t max)
{
	size_t n = strlen(s);

	if (n == 0 || n > max || s[0] == '.' || s[n - 1] == '.')
		return 0;
	for (; *s; s++)
		if (!isalnum((unsigned char)*s) && *s != '.' && *s != '-' &&
		    *s != '_')
			return 0;
	return 1;
}

static int put_pool(const char *prefix, const char *name, char *out,
		    size_t outsz)
{
	size_t i, n = strlen(prefix);

	if (n + strlen(name) >= outsz)
		return -1;
	memcpy(out, prefix, n);
	for (i = 0; name[i]; i++)
		out[n + i] = (char)tolower((unsigned char)name[i]);
	out[n + i] = '\0';
	return 0;
}

int gl_client_part(const gl_config *cfg, const CIDR *ip, const char *sender,
		   const char *host, const char *spf, char *out, size_t outsz,
		   const char **why_r, gl_err *err)
{
	const char *dom = gl_addr_domain(sender), *dot;

	if (cfg->match_pools) {
		if (spf != NULL && strcasecmp(spf, "pass") == 0 &&
		    valid_name(dom, 253) &&
		    put_pool("spf:", dom, out, outsz) == 0) {
			*why_r = "spf";
			return 0;
		}
		if (host != NULL && valid_name(host, 253) &&
		    (dot = strchr(host, '.')) != NULL &&
		    strchr(dot + 1, '.') != NULL &&
		    put_pool("host:", dot + 1, out, outsz) == 0) {
			*why_r = "host";
			return 0;
		}
	}
	*why_r = "subnet";
	return gl_ip_subnet(ip, cfg->ipv4_prefix, cfg->ipv6_prefix, out, outsz,
			    err);
}

int gl_client_key(const char *client, char *key, size_t keysz)
{
	size_t n = strlen(client);

	if (n + 2 > keysz)
		return -1;
	key[0] = 'c';
	key[1] = '\0';
	memcpy(key + 2, client, n);
	return (int)(n + 2);
}

/* Brings ctx->dbwl up to the generation gen (0: no entries). */
static int load_dbwl(gl_ctx *ctx, uint64_t gen, gl_err *err)
{
	gl_whitelist *wl = NULL;
	uint64_t g;
	size_t len;
	char *text;

	if (gen == ctx->dbwl_gen)
		return 0;
	if (gen == 0) {
		gl_ctx_free(ctx);
		return 0;
	}
	if (gl_dbwl_read(ctx->st, &text, &len, &g, err) < 0)
		return -1;
	/* Entries the admin tool wrote; one that no longer parses is
	 * skipped (greylist-admin whitelist list names it). */
	if (gl_whitelist_parse_text(&wl, text, len, ctx->cfg->sender_normalize,
				    "database", NULL, err) < 0) {
		free(text);
		gl_whitelist_free(wl);
		return -1;
	}
	free(text);
	gl_ctx_free(ctx);
	ctx->dbwl = wl;
	ctx->dbwl_gen = g;
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
	const gl_config *cfg = ctx->cfg;
	int rc;

	/* One bound for everything this decision asks of the store. */
	if (ctx->st != NULL)
		gl_store_deadline(ctx->st, cfg->backend == GL_BACKEND_REDIS ?
				  cfg->redis_timeout_ms : cfg->lock_timeout_ms);
	rc = decide(ctx, req, now, dry_run, res, err);
	if (ctx->st != NULL)
		gl_store_deadline(ctx->st, 0);
	return rc;
}

static int decide(gl_ctx *ctx, const gl_request *req, gl_time now,
		  int dry_run, gl_result *res, gl_err *err)
{
	const gl_config *cfg = ctx->cfg;
	char key[GL_KEY_MAX], ckey[GL_CLIENT_MAX + 2];
	unsigned char cur[GL_VALUE_MAX], gen[16], crec[GL_VALUE_MAX];
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
			   &res->client_why, err) < 0)
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
				       cfg->backend == GL_BACKEND_REDIS ?
				       cfg->redis : cfg->database, why.msg,
				       res->t.client);
		if (tries == 0 && res->have_client &&
		    cfg->auto_whitelist_clients > 0 &&
		    res->client.count >= cfg->auto_whitelist_clients &&
		    now - res->client.last_pass <= cfg->pass_lifetime &&
		    !(res->have_old && res->old.state == GL_PASSED)) {
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
				     sizeof next, gl_pair_ttl(cfg, key, (size_t)klen,
							      next, sizeof next, now),
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

int gl_pair_valid(const gl_config *cfg, const void *key, size_t klen,
		  const void *val, size_t vlen)
{
	const char *k = key;
	gl_triplet t;
	gl_record r;
	gl_client_record c;
	gl_whitelist *wl = NULL;
	gl_notes bad = { 0 };
	int ok;

	if (klen == 0)
		return 0;
	switch (k[0]) {
	case 't':
		return gl_key_decode(key, klen, &t) == 0 &&
		       gl_record_decode(val, vlen, &r, NULL) == 0;
	case 'c':
		return klen > 2 && klen <= GL_CLIENT_MAX + 2 && k[1] == '\0' &&
		       memchr(k + 2, '\0', klen - 2) == NULL &&
		       gl_client_record_decode(val, vlen, &c, NULL) == 0;
	case 'V':
		return klen == 1 && vlen == 8;
	case 'W':
		ok = klen == 1 && vlen <= GL_DBWL_MAX &&
		     gl_whitelist_parse_text(&wl, val, vlen,
					     cfg->sender_normalize, "database",
					     &bad, NULL) == 0 &&
		     bad.n == 0 && bad.dropped == 0;
		gl_whitelist_free(wl);
		gl_notes_free(&bad);
		return ok;
	}
	return 0;
}

gl_time gl_pair_ttl(const gl_config *cfg, const void *key, size_t klen,
		    const void *val, size_t vlen, gl_time now)
{
	const char *k = key;
	gl_record r;
	gl_client_record c;
	gl_time end;

	if (klen > 0 && k[0] == 't' && gl_record_decode(val, vlen, &r, NULL) == 0)
		end = r.state == GL_PENDING ? r.first_seen + cfg->retry_window :
		      r.last_seen + cfg->pass_lifetime +
		      gl_refresh_interval(cfg->pass_lifetime);
	else if (klen > 0 && k[0] == 'c' &&
		 gl_client_record_decode(val, vlen, &c, NULL) == 0)
		end = c.last_pass + cfg->pass_lifetime;
	else
		return 0;
	return end > now ? end - now : 1;
}
