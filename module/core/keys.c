/* keys.c - the key space (see keys.h). */
#include "keys.h"

#include <stdlib.h>
#include <string.h>

#include "dbwl.h"
#include "policy.h"
#include "whitelist.h"

enum gl_key_kind gl_key_kind(const void *key, size_t klen)
{
	const char *k = key;

	if (klen == 1 && k[0] == 'V')
		return GL_KEY_DBWL_GEN;
	if (klen == 1 && k[0] == 'W')
		return GL_KEY_DBWL;
	if (klen >= 2 && k[1] == '\0' && k[0] == 't')
		return GL_KEY_TRIPLET;
	if (klen >= 2 && k[1] == '\0' && k[0] == 'c')
		return GL_KEY_CLIENT;
	return GL_KEY_OTHER;
}

int gl_key_encode(const gl_triplet *t, char *key, size_t keysz)
{
	size_t a = strlen(t->client), b = strlen(t->sender), c = strlen(t->rcpt);
	size_t n = 2 + a + 1 + b + 1 + c;

	if (n > keysz)
		return -1;
	key[0] = 't';
	key[1] = '\0';
	memcpy(key + 2, t->client, a + 1);
	memcpy(key + 3 + a, t->sender, b + 1);
	memcpy(key + 4 + a + b, t->rcpt, c);
	return (int)n;
}
/* Copies one NUL-terminated field of at most max bytes; NULL if bad. */
static const char *field(const char *p, const char *end, char *out,
			 size_t max, int last)
{
	const char *z = memchr(p, '\0', (size_t)(end - p));
	size_t n = (z ? z : end) - p;

	if ((last && z != NULL) || (!last && z == NULL) || n == 0 || n > max)
		return NULL;
	memcpy(out, p, n);
	out[n] = '\0';
	return last ? end : z + 1;
}
int gl_key_decode(const char *key, size_t len, gl_triplet *t)
{
	const char *p, *end = key + len;
	gl_triplet d;

	if (len < 2 || key[0] != 't' || key[1] != '\0')
		return -1;
	p = field(key + 2, end, d.client, GL_CLIENT_MAX, 0);
	if (p != NULL)
		p = field(p, end, d.sender, GL_ADDR_MAX, 0);
	if (p != NULL)
		p = field(p, end, d.rcpt, GL_ADDR_MAX, 1);
	if (p == NULL)
		return -1;
	*t = d;
	return 0;
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

int gl_client_key_decode(const void *key, size_t klen, char *client)
{
	const char *k = key;

	if (gl_key_kind(key, klen) != GL_KEY_CLIENT || klen < 3 ||
	    klen - 2 > GL_CLIENT_MAX || memchr(k + 2, '\0', klen - 2) != NULL)
		return -1;
	memcpy(client, k + 2, klen - 2);
	client[klen - 2] = '\0';
	return 0;
}

int gl_pair_decode(const void *key, size_t klen, const void *val, size_t vlen,
		   gl_pair *p, gl_err *err)
{
	p->kind = gl_key_kind(key, klen);
	switch (p->kind) {
	case GL_KEY_TRIPLET:
		if (gl_key_decode(key, klen, &p->t) < 0)
			return gl_fail(err, "not a triplet key");
		return gl_record_decode(val, vlen, &p->r, err);
	case GL_KEY_CLIENT:
		if (gl_client_key_decode(key, klen, p->client) < 0)
			return gl_fail(err, "not a client key");
		return gl_client_record_decode(val, vlen, &p->c, err);
	default:
		return 1;
	}
}

int gl_pair_valid(const gl_config *cfg, const void *key, size_t klen,
		  const void *val, size_t vlen)
{
	gl_pair p;
	gl_whitelist *wl = NULL;
	gl_notes bad = { 0 };
	int ok;

	switch (gl_key_kind(key, klen)) {
	case GL_KEY_TRIPLET:
	case GL_KEY_CLIENT:
		return gl_pair_decode(key, klen, val, vlen, &p, NULL) == 0;
	case GL_KEY_DBWL_GEN:
		return vlen == 8;
	case GL_KEY_DBWL:
		ok = vlen <= GL_DBWL_MAX &&
		     gl_whitelist_parse_text(&wl, val, vlen,
					     cfg->sender_normalize, "database",
					     &bad, NULL) == 0 &&
		     bad.n == 0 && bad.dropped == 0;
		gl_whitelist_free(wl);
		gl_notes_free(&bad);
		return ok;
	default:
		return 0;
	}
}

/* From now to end, at least 1 second. */
static gl_time until(gl_time end, gl_time now)
{
	return end > now ? end - now : 1;
}

gl_time gl_pair_ttl(const gl_config *cfg, const void *key, size_t klen,
		    const void *val, size_t vlen, gl_time now)
{
	gl_pair p;

	if (gl_pair_decode(key, klen, val, vlen, &p, NULL) != 0)
		return 0;
	return until(p.kind == GL_KEY_TRIPLET ? gl_policy_record_end(cfg, &p.r) :
		     gl_policy_client_end(cfg, &p.c), now);
}

gl_time gl_record_ttl(const gl_config *cfg, const gl_record *r, gl_time now)
{
	return until(gl_policy_record_end(cfg, r), now);
}
