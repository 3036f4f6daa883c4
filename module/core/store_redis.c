/*
 * store_redis.c - the Redis backend, for several MX hosts sharing one
 * greylist.
 *
 * Keys are redis_prefix followed by the core's key bytes (binary-safe).
 * get is one MGET; a batch of compare-and-sets is one pipelined round
 * trip of EVALSHA calls of one small server-side script, so each
 * compare-and-set is atomic across every host; records carry a TTL so
 * Redis expires them itself. The connection is made at the first call and
 * kept for the life of the process. Every command waits at most for
 * redis_timeout (or what is left of the caller's deadline); after a
 * failure the store reports errors at once, without trying, for a short
 * back-off (1 s), so a dead server costs an RCPT no time.
 */
#include <errno.h>
#include <hiredis/hiredis.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store.h"

#define BACKOFF_US 1000000
#define SCAN_COUNT "1000"

/* KEYS[1]; ARGV: has_old, old, has_new, new, ttl. Returns 1 done, 0 not. */
static const char cas_script[] =
	"local cur = redis.call('GET', KEYS[1])\n"
	"if ARGV[1] == '1' then\n"
	"  if cur ~= ARGV[2] then return 0 end\n"
	"elseif cur then return 0 end\n"
	"if ARGV[3] == '1' then\n"
	"  if tonumber(ARGV[5]) > 0 then\n"
	"    redis.call('SET', KEYS[1], ARGV[4], 'EX', ARGV[5])\n"
	"  else redis.call('SET', KEYS[1], ARGV[4]) end\n"
	"else redis.call('DEL', KEYS[1]) end\n"
	"return 1\n";

/* SHA1 of cas_script: EVALSHA works without a SCRIPT LOAD round trip on
 * every new connection; test_store checks it against the server's. */
#define CAS_SHA "f6723b2c561f229bc2bc9a86a574e2301646c1c9"

typedef struct rstore {
	gl_store base;
	redisContext *c;
	char where[PATH_MAX];   /* HOST:PORT or socket path, for messages */
	char host[256];
	int port;               /* 0: Unix socket at where */
	char prefix[128];
	size_t plen;
	long timeout_ms;
	char password[256];
	int db;
	int64_t down_until;     /* back-off after a failure */
	char down_why[256];
} rstore;

static struct timeval tv_of(int64_t us)
{
	struct timeval tv;

	if (us < 1000)
		us = 1000;
	tv.tv_sec = (time_t)(us / 1000000);
	tv.tv_usec = (suseconds_t)(us % 1000000);
	return tv;
}

static void drop(rstore *s, const char *why)
{
	if (s->c != NULL)
		redisFree(s->c);
	s->c = NULL;
	s->down_until = gl_mono_us() + BACKOFF_US;
	snprintf(s->down_why, sizeof s->down_why, "%s", why);
}

static int fail_drop(rstore *s, gl_err *err, const char *why)
{
	char msg[256];

	snprintf(msg, sizeof msg, "%s", why);
	drop(s, msg);
	return gl_fail(err, "redis %s: %s", s->where, msg);
}

/* Runs one command, checking the reply type; NULL with err on failure. */
static redisReply *command(rstore *s, int argc, const char **argv,
			   const size_t *lens, gl_err *err)
{
	redisReply *r = redisCommandArgv(s->c, argc, argv, lens);

	if (r == NULL) {
		fail_drop(s, err, s->c->err == REDIS_ERR_IO && errno == EAGAIN ?
			  "timed out" : s->c->errstr);
		return NULL;
	}
	if (r->type == REDIS_REPLY_ERROR) {
		gl_fail(err, "redis %s: %s", s->where, r->str);
		freeReplyObject(r);
		return NULL;
	}
	return r;
}

/* Connects (or keeps the connection) and sets the command timeout. */
static int ready(rstore *s, gl_err *err)
{
	int64_t left = gl_store_left_us(&s->base, s->timeout_ms);
	redisReply *r;

	if (left == 0)
		return gl_fail(err, "redis %s: timed out", s->where);
	if (s->c == NULL && gl_mono_us() < s->down_until)
		return gl_fail(err, "redis %s: unavailable (%s); trying again "
			       "within a second", s->where, s->down_why);
	if (s->c == NULL) {
		s->c = s->port ? redisConnectWithTimeout(s->host, s->port, tv_of(left))
			       : redisConnectUnixWithTimeout(s->where, tv_of(left));
		if (s->c == NULL || s->c->err)
			return fail_drop(s, err, s->c ? s->c->errstr :
					 "cannot allocate a connection");
		if (redisSetTimeout(s->c, tv_of(left)) != REDIS_OK)
			return fail_drop(s, err, "cannot set the timeout");
		if (s->password[0]) {
			const char *a[2] = { "AUTH", s->password };

			r = command(s, 2, a, NULL, err);
			if (r == NULL)
				return fail_drop(s, err, "AUTH refused");
			freeReplyObject(r);
		}
		if (s->db > 0) {
			char n[16];
			const char *a[2] = { "SELECT", n };

			snprintf(n, sizeof n, "%d", s->db);
			r = command(s, 2, a, NULL, err);
			if (r == NULL)
				return fail_drop(s, err, "SELECT refused");
			freeReplyObject(r);
		}
	} else if (redisSetTimeout(s->c, tv_of(left)) != REDIS_OK) {
		return fail_drop(s, err, "cannot set the timeout");
	}
	return 0;
}

/* prefix + key into a malloc'd buffer. */
static char *full_key(rstore *s, const void *key, size_t klen, size_t *len)
{
	char *k = malloc(s->plen + klen + 1);

	if (k != NULL) {
		memcpy(k, s->prefix, s->plen);
		memcpy(k + s->plen, key, klen);
		*len = s->plen + klen;
	}
	return k;
}

static int r_get(gl_store *st, gl_get_item *items, size_t n, gl_err *err)
{
	rstore *s = (rstore *)st;
	const char **argv = calloc(n + 1, sizeof *argv);
	size_t *lens = calloc(n + 1, sizeof *lens), i;
	redisReply *r = NULL;
	int rc = -1;

	if (argv == NULL || lens == NULL) {
		rc = gl_fail(err, "out of memory");
		goto out;
	}
	for (i = 0; i < n; i++)
		items[i].found = 0;
	if (ready(s, err) < 0)
		goto out;
	argv[0] = "MGET";
	lens[0] = 4;
	for (i = 0; i < n; i++) {
		argv[i + 1] = full_key(s, items[i].key, items[i].klen, &lens[i + 1]);
		if (argv[i + 1] == NULL) {
			rc = gl_fail(err, "out of memory");
			goto out;
		}
	}
	r = command(s, (int)n + 1, argv, lens, err);
	if (r == NULL)
		goto out;
	if (r->type != REDIS_REPLY_ARRAY || r->elements != n) {
		rc = fail_drop(s, err, "MGET: unexpected reply");
		goto out;
	}
	for (i = 0; i < n; i++) {
		redisReply *e = r->element[i];

		if (e->type == REDIS_REPLY_NIL)
			continue;
		if (e->type != REDIS_REPLY_STRING || e->len > items[i].vlen) {
			rc = gl_fail(err, "redis %s: stored value of %zu bytes is "
				     "too large or not a string", s->where,
				     (size_t)e->len);
			goto out;
		}
		memcpy(items[i].val, e->str, e->len);
		items[i].vlen = e->len;
		items[i].found = 1;
	}
	rc = 0;
out:
	if (r != NULL)
		freeReplyObject(r);
	if (argv != NULL)
		for (i = 1; i <= n; i++)
			free((void *)argv[i]);
	free(argv);
	free(lens);
	return rc;
}

/* Loads cas_script into the server's cache (after a restart or flush). */
static int load_script(rstore *s, gl_err *err)
{
	const char *a[3] = { "SCRIPT", "LOAD", cas_script };
	redisReply *r = command(s, 3, a, NULL, err);
	int ok;

	if (r == NULL)
		return -1;
	ok = r->type == REDIS_REPLY_STRING && r->len == 40 &&
	     memcmp(r->str, CAS_SHA, 40) == 0;
	freeReplyObject(r);
	return ok ? 0 : fail_drop(s, err, "SCRIPT LOAD: unexpected digest");
}

/* Sends one pipelined round of EVALSHA for the items marked in todo. */
static int send_round(rstore *s, gl_cas_item *items, size_t n,
		      const char *todo, gl_err *err)
{
	size_t i;

	for (i = 0; i < n; i++) {
		char ttl[24];
		size_t klen = 0;
		char *k;

		if (!todo[i])
			continue;
		k = full_key(s, items[i].key, items[i].klen, &klen);
		if (k == NULL)
			return gl_fail(err, "out of memory");
		{
			const char *argv[9] = { "EVALSHA", CAS_SHA, "1", k,
				items[i].old ? "1" : "0",
				items[i].old ? items[i].old : "",
				items[i].val ? "1" : "0",
				items[i].val ? items[i].val : "", ttl };
			size_t lens[9] = { 7, 40, 1, klen, 1,
				items[i].old ? items[i].oldlen : 0, 1,
				items[i].val ? items[i].vlen : 0, 0 };

			snprintf(ttl, sizeof ttl, "%lld", (long long)items[i].ttl);
			lens[8] = strlen(ttl);
			if (redisAppendCommandArgv(s->c, 9, argv, lens) != REDIS_OK) {
				free(k);
				return fail_drop(s, err, s->c->errstr);
			}
		}
		free(k);
	}
	return 0;
}

static int r_casv(gl_store *st, gl_cas_item *items, size_t n, gl_err *err)
{
	rstore *s = (rstore *)st;
	char *todo = malloc(n + 1);
	size_t i, left = n;
	int rc = 0, round;

	if (todo == NULL)
		return gl_fail(err, "out of memory");
	for (i = 0; i < n; i++) {
		items[i].done = 0;
		todo[i] = 1;
	}
	if (ready(s, err) < 0) {
		free(todo);
		return -1;
	}
	/* Round 2 only resends what the server refused with NOSCRIPT (those
	 * did nothing), after loading the script. */
	for (round = 0; round < 2 && left > 0 && rc == 0; round++) {
		size_t noscript = 0;

		if (round == 1 && load_script(s, err) < 0) {
			rc = -1;
			break;
		}
		if (send_round(s, items, n, todo, err) < 0) {
			rc = -1;
			break;
		}
		for (i = 0; i < n && rc == 0; i++) {
			redisReply *r;

			if (!todo[i])
				continue;
			if (redisGetReply(s->c, (void **)&r) != REDIS_OK) {
				rc = fail_drop(s, err, s->c->err == REDIS_ERR_IO &&
					       errno == EAGAIN ? "timed out" :
					       s->c->errstr);
				break;
			}
			if (r->type == REDIS_REPLY_INTEGER) {
				items[i].done = r->integer == 1;
				todo[i] = 0;
			} else if (r->type == REDIS_REPLY_ERROR &&
				   strncmp(r->str, "NOSCRIPT", 8) == 0) {
				noscript++;
			} else {
				todo[i] = 0;
				rc = gl_fail(err, "redis %s: %s", s->where,
					     r->type == REDIS_REPLY_ERROR ? r->str :
					     "unexpected reply to EVALSHA");
			}
			freeReplyObject(r);
		}
		left = noscript;
	}
	free(todo);
	if (rc == 0 && left > 0)
		rc = gl_fail(err, "redis %s: the server will not keep the "
			     "compare-and-set script", s->where);
	return rc;
}

static int r_scan(gl_store *st, gl_scan_fn *fn, void *arg, gl_err *err)
{
	rstore *s = (rstore *)st;
	char cursor[32] = "0", *pattern;
	size_t plen, i;
	int rc = 0;

	pattern = malloc(s->plen * 2 + 2);
	if (pattern == NULL)
		return gl_fail(err, "out of memory");
	/* The prefix as a glob: escape its glob characters. */
	for (i = 0, plen = 0; i < s->plen; i++) {
		if (strchr("*?[]\\", s->prefix[i]))
			pattern[plen++] = '\\';
		pattern[plen++] = s->prefix[i];
	}
	pattern[plen++] = '*';
	do {
		const char *a[6] = { "SCAN", cursor, "MATCH", pattern, "COUNT",
				     SCAN_COUNT };
		size_t l[6] = { 4, strlen(cursor), 5, plen, 5, strlen(SCAN_COUNT) };
		redisReply *r, *keys;

		if (ready(s, err) < 0) {
			rc = -1;
			break;
		}
		r = command(s, 6, a, l, err);
		if (r == NULL) {
			rc = -1;
			break;
		}
		if (r->type != REDIS_REPLY_ARRAY || r->elements != 2 ||
		    r->element[0]->type != REDIS_REPLY_STRING ||
		    r->element[1]->type != REDIS_REPLY_ARRAY ||
		    r->element[0]->len >= sizeof cursor) {
			freeReplyObject(r);
			rc = fail_drop(s, err, "SCAN: unexpected reply");
			break;
		}
		memcpy(cursor, r->element[0]->str, r->element[0]->len);
		cursor[r->element[0]->len] = '\0';
		keys = r->element[1];
		if (keys->elements > 0) {
			const char **argv = calloc(keys->elements + 1, sizeof *argv);
			size_t *lens = calloc(keys->elements + 1, sizeof *lens);
			redisReply *v = NULL;

			if (argv == NULL || lens == NULL) {
				rc = gl_fail(err, "out of memory");
			} else {
				argv[0] = "MGET";
				lens[0] = 4;
				for (i = 0; i < keys->elements; i++) {
					argv[i + 1] = keys->element[i]->str;
					lens[i + 1] = keys->element[i]->len;
				}
				v = command(s, (int)keys->elements + 1, argv, lens, err);
				if (v == NULL)
					rc = -1;
			}
			for (i = 0; rc == 0 && v != NULL && i < v->elements &&
			     i < keys->elements; i++) {
				redisReply *k = keys->element[i], *e = v->element[i];

				if (e->type != REDIS_REPLY_STRING ||
				    k->len <= s->plen)
					continue; /* expired meanwhile */
				rc = fn(arg, k->str + s->plen, k->len - s->plen,
					e->str, e->len);
			}
			if (v != NULL)
				freeReplyObject(v);
			free(argv);
			free(lens);
		}
		freeReplyObject(r);
	} while (rc == 0 && strcmp(cursor, "0") != 0);
	free(pattern);
	return rc;
}

static void r_close(gl_store *st)
{
	rstore *s = (rstore *)st;

	if (s->c != NULL)
		redisFree(s->c);
	free(s);
}

static const struct gl_store_ops redis_ops = {
	.name = "redis",
	.get = r_get,
	.casv = r_casv,
	.scan = r_scan,
	.close = r_close,
};

gl_store *gl_store_redis_open(const gl_config *cfg, gl_err *err)
{
	rstore *s = calloc(1, sizeof *s);
	const char *colon;
	char *end;
	long port;

	if (s == NULL) {
		gl_fail(err, "out of memory");
		return NULL;
	}
	s->base.ops = &redis_ops;
	snprintf(s->where, sizeof s->where, "%s", cfg->redis);
	s->base.where = s->where;
	s->base.timeout_ms = cfg->redis_timeout_ms;
	snprintf(s->prefix, sizeof s->prefix, "%s", cfg->redis_prefix);
	s->plen = strlen(s->prefix);
	s->timeout_ms = cfg->redis_timeout_ms;
	s->db = cfg->redis_db;
	if (cfg->redis[0] != '/') {
		colon = strrchr(cfg->redis, ':');
		port = colon ? strtol(colon + 1, &end, 10) : 0;
		if (colon == NULL || colon == cfg->redis || *end != '\0' ||
		    port < 1 || port > 65535 ||
		    (size_t)(colon - cfg->redis) >= sizeof s->host) {
			gl_fail(err, "%s: key 'redis': bad value '%s': want "
				"HOST:PORT or an absolute socket path", cfg->path,
				cfg->redis);
			free(s);
			return NULL;
		}
		memcpy(s->host, cfg->redis, (size_t)(colon - cfg->redis));
		s->port = (int)port;
	}
	if (cfg->redis_password_file[0]) {
		FILE *fp = fopen(cfg->redis_password_file, "re");

		if (fp == NULL || fgets(s->password, sizeof s->password, fp) == NULL) {
			gl_fail(err, "%s: cannot read the redis password: %s",
				cfg->redis_password_file,
				fp ? "empty file" : strerror(errno));
			if (fp)
				fclose(fp);
			free(s);
			return NULL;
		}
		fclose(fp);
		s->password[strcspn(s->password, "\r\n")] = '\0';
	}
	return &s->base;
}
