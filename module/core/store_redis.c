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

#include "parse.h"
#include "store.h"
#define GL_LAZY_REDIS
#include "lazylib.h"

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
	char where[PATH_MAX];   /* the server in use, for messages */
	char host[256];         /* the server in use (with sentinels: the */
	int port;               /* master they named); 0: Unix socket at where */
	char prefix[128];
	size_t plen;
	long timeout_ms;
	char user[128];         /* "" : AUTH with the password alone */
	char password[256];
	int db;
	int64_t down_until;     /* back-off after a failure */
	char down_why[512];
	/* With redis_sentinels (nsent > 0); per process. */
	int nsent;
	gl_hostport sent[GL_MAX_SENTINELS];
	char sentinels[GL_MAX_SENTINELS * 270]; /* "A, B, C" for messages */
	char master_name[128];
	char sent_password[256];
	int first;              /* the sentinel that answered last: asked first */
	int via;                /* the sentinel that named the master; -1 */
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

/* HOST:PORT, with an IPv6 address in brackets. */
static void fmt_hp(char *dst, size_t sz, const char *host, int port)
{
	snprintf(dst, sz, strchr(host, ':') ? "[%s]:%d" : "%s:%d", host, port);
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
	char msg[512];

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

/* What went wrong on c, for a message. */
static const char *io_why(const redisContext *c)
{
	return c->err == REDIS_ERR_IO && (errno == EAGAIN ||
					  errno == EINPROGRESS) ?
	       "timed out" : c->errstr;
}

/*
 * One command on a connection being set up (no rstore state touched):
 * the reply, or NULL with why: "CMD: " and the I/O failure, or "CMD
 * refused: " and the server's error.
 */
static redisReply *setup_cmd(redisContext *c, const char *cmd, int argc,
			     const char **argv, char *why, size_t sz)
{
	redisReply *r = redisCommandArgv(c, argc, argv, NULL);

	if (r == NULL) {
		snprintf(why, sz, "%s: %s", cmd, io_why(c));
		return NULL;
	}
	if (r->type == REDIS_REPLY_ERROR) {
		snprintf(why, sz, "%s refused: %s", cmd, r->str);
		freeReplyObject(r);
		return NULL;
	}
	return r;
}

/*
 * Connects to host:port (port 0: the Unix socket host) waiting at most
 * us for the connection and for each command, and authenticates (user
 * may be "", password "" skips AUTH). NULL with why on failure.
 */
static redisContext *open_conn(const char *host, int port, int64_t us,
			       const char *user, const char *password,
			       char *why, size_t sz)
{
	redisContext *c = port ? redisConnectWithTimeout(host, port, tv_of(us))
			       : redisConnectUnixWithTimeout(host, tv_of(us));
	redisReply *r;

	if (c == NULL || c->err) {
		snprintf(why, sz, "%s", c ? io_why(c) :
			 "cannot allocate a connection");
		goto fail;
	}
	if (redisSetTimeout(c, tv_of(us)) != REDIS_OK) {
		snprintf(why, sz, "cannot set the timeout");
		goto fail;
	}
	if (password[0]) {
		const char *a[3] = { "AUTH", user[0] ? user : password, password };
		char what[160];

		snprintf(what, sizeof what, "AUTH%s%s%s", user[0] ?
			 " as user '" : "", user, user[0] ? "'" : "");
		r = setup_cmd(c, what, user[0] ? 3 : 2, a, why, sz);
		if (r == NULL)
			goto fail;
		freeReplyObject(r);
	}
	return c;
fail:
	if (c != NULL)
		redisFree(c);
	return NULL;
}

/*
 * Makes s->c a connection to the server in s->host/s->port: AUTH, SELECT,
 * and with sentinels a ROLE check that it is the master. -1 with why.
 */
static int connect_server(rstore *s, int64_t us, char *why, size_t sz)
{
	redisReply *r;

	s->c = open_conn(s->port ? s->host : s->where, s->port, us, s->user,
			 s->password, why, sz);
	if (s->c == NULL)
		return -1;
	if (s->db > 0) {
		char n[16];
		const char *a[2] = { "SELECT", n };

		snprintf(n, sizeof n, "%d", s->db);
		r = setup_cmd(s->c, "SELECT", 2, a, why, sz);
		if (r == NULL)
			goto fail;
		freeReplyObject(r);
	}
	if (s->nsent > 0) {
		/* The sentinels may still name a master that was demoted
		 * (or that restarted as a stale master): write only to a
		 * server that says it is the master. */
		const char *a[1] = { "ROLE" };

		r = setup_cmd(s->c, "ROLE", 1, a, why, sz);
		if (r == NULL)
			goto fail;
		if (r->type != REDIS_REPLY_ARRAY || r->elements < 1 ||
		    r->element[0]->type != REDIS_REPLY_STRING ||
		    strcmp(r->element[0]->str, "master") != 0) {
			snprintf(why, sz, "not a master (ROLE: %s)",
				 r->type == REDIS_REPLY_ARRAY && r->elements > 0 &&
				 r->element[0]->type == REDIS_REPLY_STRING ?
				 r->element[0]->str : "unexpected reply");
			freeReplyObject(r);
			goto fail;
		}
		freeReplyObject(r);
	}
	return 0;
fail:
	redisFree(s->c);
	s->c = NULL;
	return -1;
}

/*
 * Asks one sentinel for the address of the master called name, waiting
 * at most us: 1 with host_r (hsz bytes) and *port_r, 0 when the sentinel
 * knows no such master, -1 with why.
 */
static int ask_sentinel(const gl_hostport *hp, const char *password,
			const char *name, int64_t us, char *host_r,
			size_t hsz, int *port_r, char *why, size_t sz)
{
	const char *a[3] = { "SENTINEL", "get-master-addr-by-name", name };
	redisContext *c = open_conn(hp->host, hp->port, us, "", password, why,
				    sz);
	redisReply *r;
	int rc = -1;
	long port;
	char *end;

	if (c == NULL)
		return -1;
	r = setup_cmd(c, "SENTINEL get-master-addr-by-name", 3, a, why, sz);
	if (r == NULL)
		goto out;
	if (r->type == REDIS_REPLY_NIL) {
		rc = 0;
	} else if (r->type == REDIS_REPLY_ARRAY && r->elements == 2 &&
		   r->element[0]->type == REDIS_REPLY_STRING &&
		   r->element[1]->type == REDIS_REPLY_STRING &&
		   r->element[0]->len > 0 && r->element[0]->len < hsz &&
		   (port = strtol(r->element[1]->str, &end, 10)) > 0 &&
		   port <= 65535 && *end == '\0') {
		memcpy(host_r, r->element[0]->str, r->element[0]->len + 1);
		*port_r = (int)port;
		rc = 1;
	} else {
		snprintf(why, sz, "unexpected reply to SENTINEL "
			 "get-master-addr-by-name");
	}
	freeReplyObject(r);
out:
	redisFree(c);
	return rc;
}

/* The least a sentinel is given to answer, however many there are. */
#define SENTINEL_MIN_US 20000

/*
 * Finds the master through the sentinels, the one that answered last
 * first, and connects to it (connect_server). Each sentinel gets an even
 * share of what is left of the deadline (keeping one share for the
 * master), so one dead sentinel cannot use it all. On failure: the
 * back-off, and err names the sentinels and what went wrong.
 */
static int discover(rstore *s, gl_err *err)
{
	char tried[GL_MAX_SENTINELS][300], why[1200] = "", w[256];
	char host[256], addr[300], sname[300];
	char msg[1300];
	int k, ntried = 0, unknown = 0, port, t, rc, timed_out = 0;

	for (k = 0; k < s->nsent; k++) {
		int i = (s->first + k) % s->nsent;
		int64_t left = gl_store_left_us(&s->base, s->timeout_ms);
		int64_t share = left / (s->nsent - k + 1);

		if (left == 0) {
			timed_out = 1;
			break;
		}
		if (share < SENTINEL_MIN_US)
			share = left < SENTINEL_MIN_US ? left : SENTINEL_MIN_US;
		fmt_hp(sname, sizeof sname, s->sent[i].host, s->sent[i].port);
		rc = ask_sentinel(&s->sent[i], s->sent_password, s->master_name,
				  share, host, sizeof host, &port, w, sizeof w);
		if (rc < 0) {
			if (ntried == 0 && unknown == 0)
				snprintf(why, sizeof why, "no sentinel answered "
					 "(%s: %s)", sname, w);
			continue;
		}
		if (rc == 0) {
			if (ntried == 0)
				snprintf(why, sizeof why, "no master '%s' "
					 "known", s->master_name);
			unknown++;
			continue;
		}
		s->first = i;
		fmt_hp(addr, sizeof addr, host, port);
		for (t = 0; t < ntried && strcmp(tried[t], addr) != 0; t++)
			;
		if (t < ntried)
			continue;       /* failed already in this round */
		snprintf(tried[ntried++], sizeof tried[0], "%s", addr);
		snprintf(s->host, sizeof s->host, "%s", host);
		s->port = port;
		snprintf(s->where, sizeof s->where, "%s", addr);
		left = gl_store_left_us(&s->base, s->timeout_ms);
		if (left > 0 && connect_server(s, left, w, sizeof w) == 0) {
			s->via = i;
			return 0;
		}
		snprintf(why, sizeof why, "master '%s' at %s (named by %s): %s",
			 s->master_name, addr, sname, left > 0 ? w :
			 "timed out");
	}
	s->via = -1;
	snprintf(s->where, sizeof s->where, "sentinels %s", s->sentinels);
	/* Say "timed out" once: the last failure may have been that. */
	if (timed_out && (strlen(why) < 9 ||
			  strcmp(why + strlen(why) - 9, "timed out") != 0))
		snprintf(msg, sizeof msg, "timed out%s%s", why[0] ?
			 " after: " : "", why);
	else
		snprintf(msg, sizeof msg, "%s", why);
	return fail_drop(s, err, msg);
}

/* Connects (or keeps the connection) and sets the command timeout. */
static int ready(rstore *s, gl_err *err)
{
	int64_t left = gl_store_left_us(&s->base, s->timeout_ms);
	char why[256];

	if (left == 0)
		return gl_fail(err, "redis %s: timed out", s->where);
	if (s->c == NULL && gl_mono_us() < s->down_until)
		return gl_fail(err, "redis %s: unavailable (%s); trying again "
			       "within a second", s->where, s->down_why);
	if (s->c == NULL) {
		if (s->nsent > 0) {
			if (discover(s, err) < 0)
				return -1;
		} else if (connect_server(s, left, why, sizeof why) < 0) {
			return fail_drop(s, err, why);
		}
		left = gl_store_left_us(&s->base, s->timeout_ms);
	}
	if (redisSetTimeout(s->c, tv_of(left)) != REDIS_OK)
		return fail_drop(s, err, "cannot set the timeout");
	return 0;
}

/*
 * After a failed call that began on an open connection (had), with
 * sentinels: when that connection was lost during the call or the server
 * answered READONLY (it was demoted), forget it without the back-off so
 * that the one retry asks the sentinels again. 1: retry; 0: the failure
 * stands (a new connection that failed, or the back-off, is not retried).
 */
static int again(rstore *s, int had, const gl_err *err)
{
	if (s->nsent == 0 || !had)
		return 0;
	if (s->c != NULL && strstr(err->msg, ": READONLY ") == NULL)
		return 0;
	if (s->c != NULL)
		redisFree(s->c);
	s->c = NULL;
	s->down_until = 0;
	return 1;
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

static int get_once(rstore *s, gl_get_item *items, size_t n, gl_err *err)
{
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

static int casv_once(rstore *s, gl_cas_item *items, size_t n, gl_err *err)
{
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

/* get and casv: one retry after a lost connection or READONLY (again()). */
static int r_get(gl_store *st, gl_get_item *items, size_t n, gl_err *err)
{
	rstore *s = (rstore *)st;
	int had = s->c != NULL, rc;

	rc = get_once(s, items, n, err);
	if (rc < 0 && again(s, had, err))
		rc = get_once(s, items, n, err);
	return rc;
}

static int r_casv(gl_store *st, gl_cas_item *items, size_t n, gl_err *err)
{
	rstore *s = (rstore *)st;
	int had = s->c != NULL, rc;

	rc = casv_once(s, items, n, err);
	if (rc < 0 && again(s, had, err))
		rc = casv_once(s, items, n, err);
	/* A failed pipeline may leave replies unread: never reuse it. */
	if (rc < 0 && s->c != NULL) {
		redisFree(s->c);
		s->c = NULL;
	}
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

/* The first line of file (a password) into buf; -1 with err. */
static int read_secret(const char *file, const char *what, char *buf,
		       size_t sz, gl_err *err)
{
	const char *why = "empty file";
	FILE *fp = gl_fopen_regular(file, NULL, &why);

	if (fp == NULL || fgets(buf, (int)sz, fp) == NULL) {
		gl_fail(err, "%s: cannot read the %s: %s", file, what, why);
		if (fp)
			fclose(fp);
		return -1;
	}
	fclose(fp);
	buf[strcspn(buf, "\r\n")] = '\0';
	return 0;
}

gl_store *gl_store_redis_open(const gl_config *cfg, gl_err *err)
{
	rstore *s;
	const char *colon;
	char *end;
	long port;
	int i;

	if (gl_lazy_load(GL_LIB_REDIS, err) < 0)
		return NULL;
	s = calloc(1, sizeof *s);
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
	s->via = -1;
	snprintf(s->user, sizeof s->user, "%s", cfg->redis_user);
	if (cfg->nredis_sentinels > 0) {
		/* The master comes from the sentinels; key redis is unused. */
		s->nsent = cfg->nredis_sentinels;
		memcpy(s->sent, cfg->redis_sentinels, sizeof s->sent);
		snprintf(s->master_name, sizeof s->master_name, "%s",
			 cfg->redis_master_name);
		for (i = 0; i < s->nsent; i++) {
			size_t l = strlen(s->sentinels);

			fmt_hp(s->sentinels + l, sizeof s->sentinels - l,
			       s->sent[i].host, s->sent[i].port);
			if (i + 1 < s->nsent)
				strcat(s->sentinels, ", ");
		}
		snprintf(s->where, sizeof s->where, "sentinels %s",
			 s->sentinels);
		if (cfg->redis_sentinel_password_file[0] &&
		    read_secret(cfg->redis_sentinel_password_file,
				"redis sentinel password", s->sent_password,
				sizeof s->sent_password, err) < 0)
			goto fail;
	} else if (cfg->redis[0] != '/') {
		colon = strrchr(cfg->redis, ':');
		port = colon ? strtol(colon + 1, &end, 10) : 0;
		if (colon == NULL || colon == cfg->redis || *end != '\0' ||
		    port < 1 || port > 65535 ||
		    (size_t)(colon - cfg->redis) >= sizeof s->host) {
			gl_fail(err, "%s: key 'redis': bad value '%s': want "
				"HOST:PORT or an absolute socket path", cfg->path,
				cfg->redis);
			goto fail;
		}
		memcpy(s->host, cfg->redis, (size_t)(colon - cfg->redis));
		s->port = (int)port;
	}
	if (cfg->redis_password_file[0] &&
	    read_secret(cfg->redis_password_file, "redis password",
			s->password, sizeof s->password, err) < 0)
		goto fail;
	return &s->base;
fail:
	free(s);
	return NULL;
}

int gl_store_redis_master(const gl_store *st, char *master_r, size_t msz,
			  char *via_r, size_t vsz)
{
	const rstore *s = (const rstore *)st;

	if (st == NULL || st->ops != &redis_ops || s->nsent == 0 ||
	    s->via < 0)
		return -1;
	fmt_hp(master_r, msz, s->host, s->port);
	fmt_hp(via_r, vsz, s->sent[s->via].host, s->sent[s->via].port);
	return 0;
}

int gl_redis_sentinel_ask(const gl_config *cfg, int i, char *addr_r,
			  size_t sz, gl_err *err)
{
	char pw[256] = "", host[256], why[256], name[300];
	int port, rc;

	if (i < 0 || i >= cfg->nredis_sentinels)
		return gl_fail(err, "no sentinel %d", i);
	if (gl_lazy_load(GL_LIB_REDIS, err) < 0)
		return -1;
	if (cfg->redis_sentinel_password_file[0] &&
	    read_secret(cfg->redis_sentinel_password_file,
			"redis sentinel password", pw, sizeof pw, err) < 0)
		return -1;
	fmt_hp(name, sizeof name, cfg->redis_sentinels[i].host,
	       cfg->redis_sentinels[i].port);
	rc = ask_sentinel(&cfg->redis_sentinels[i], pw, cfg->redis_master_name,
			  (int64_t)cfg->redis_timeout_ms * 1000, host,
			  sizeof host, &port, why, sizeof why);
	if (rc < 0)
		return gl_fail(err, "redis sentinel %s: %s", name, why);
	if (rc == 1)
		fmt_hp(addr_r, sz, host, port);
	return rc;
}
