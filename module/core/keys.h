/*
 * keys.h - the key space: every key this project writes, how it is
 * encoded and decoded, which pairs are valid, and how long a backend that
 * expires keys itself should keep each.
 *
 *   "t" NUL client NUL sender NUL recipient   a triplet (record.h)
 *   "c" NUL client                            a client's passes (record.h)
 *   "V"                                       whitelist generation (dbwl.h)
 *   "W"                                       whitelist entries (dbwl.h)
 *
 * Addresses cannot hold NUL, so a triplet key splits back unambiguously;
 * the client part is any text (a subnet, or a pool name). Decoders accept
 * exactly these shapes and the length limits of gl.h, nothing else: a key
 * or value this project did not write is an error its caller reports,
 * never a crash. Outputs are written only on success. Only
 * gl_pair_valid() allocates (it parses the whitelist), and frees it.
 */
#ifndef GL_KEYS_H
#define GL_KEYS_H

#include "config.h"
#include "record.h"
#include "triplet.h"

enum gl_key_kind { GL_KEY_OTHER, GL_KEY_TRIPLET, GL_KEY_CLIENT,
		   GL_KEY_DBWL_GEN, GL_KEY_DBWL };

/* Which kind of key this is, by its shape (the value is not looked at). */
enum gl_key_kind gl_key_kind(const void *key, size_t klen);

/* Writes a triplet's key into key (GL_KEY_MAX bytes); its length or -1. */
int gl_key_encode(const gl_triplet *t, char *key, size_t keysz) GL_WUR;

/* 0 and t filled, or -1 (t untouched) when the bytes are not a triplet
 * key. */
int gl_key_decode(const char *key, size_t len, gl_triplet *t) GL_WUR;

/* The key of a client record ("c" NUL client): its length, or -1. */
int gl_client_key(const char *client, char *key, size_t keysz) GL_WUR;

/* The client of a client record's key into client (GL_CLIENT_MAX + 1
 * bytes): 0, or -1 (client untouched) when it is not such a key. */
int gl_client_key_decode(const void *key, size_t klen, char *client) GL_WUR;

/* A pair decoded whole: the kind, and the parts that kind has. */
typedef struct gl_pair {
	enum gl_key_kind kind;
	gl_triplet t;              /* GL_KEY_TRIPLET */
	gl_record r;
	char client[GL_CLIENT_MAX + 1]; /* GL_KEY_CLIENT */
	gl_client_record c;
} gl_pair;

/*
 * Decodes a triplet or a client record: 0 with p filled; -1 when it is
 * one of those but does not decode (p->kind says which, the rest of p is
 * unspecified; err says why); 1 for any other key (p->kind set, nothing
 * else).
 */
int gl_pair_decode(const void *key, size_t klen, const void *val, size_t vlen,
		   gl_pair *p, gl_err *err) GL_WUR;

/*
 * 1 when (key, val) is a pair this project writes and its value decodes
 * (a triplet, a client record, the database whitelist with every entry
 * parsing, or its generation), else 0. For recover.
 */
int gl_pair_valid(const gl_config *cfg, const void *key, size_t klen,
		  const void *val, size_t vlen);

/*
 * How long from now a backend that expires keys itself should keep this
 * pair: until its record stops counting (policy.h), at least 1 second;
 * 0 for never (the database whitelist, or a pair that does not decode).
 */
gl_time gl_pair_ttl(const gl_config *cfg, const void *key, size_t klen,
		    const void *val, size_t vlen, gl_time now);

/* gl_pair_ttl() of a triplet's record r, without its key to decode (a
 * decision has the record at hand). */
gl_time gl_record_ttl(const gl_config *cfg, const gl_record *r, gl_time now);

#endif
