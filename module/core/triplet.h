/*
 * triplet.h - the (client, sender, recipient) triplet and its store key.
 *
 * gl_fold_sender() and gl_fold_rcpt() lower-case an address (ASCII only);
 * with normalize, gl_fold_sender() also folds the forms under which one
 * sender shows many addresses: "+extension", BATV ("prvs=TAG=local",
 * "btv1==TAG==local"), SRS0/SRS1 hash and timestamp, and runs of digits in
 * the local part (VERP), which become '#'. The null sender ("" or "<>")
 * is kept as "<>".
 *
 * A key is "t" NUL client NUL sender NUL recipient (no trailing NUL):
 * addresses cannot hold NUL, so the key splits back unambiguously, and the
 * client part is any text (a subnet today, a pool name tomorrow).
 * gl_key_decode() accepts exactly that shape and the length limits of gl.h.
 */
#ifndef GL_TRIPLET_H
#define GL_TRIPLET_H

#include "gl.h"

typedef struct gl_triplet {
	char client[GL_CLIENT_MAX + 1];
	char sender[GL_ADDR_MAX + 1];
	char rcpt[GL_ADDR_MAX + 1];
} gl_triplet;

int gl_fold_sender(const char *in, int normalize, char *out, size_t outsz,
		   gl_err *err) GL_WUR;
int gl_fold_rcpt(const char *in, char *out, size_t outsz, gl_err *err) GL_WUR;

/* Writes the key into key (GL_KEY_MAX bytes); returns its length or -1. */
int gl_key_encode(const gl_triplet *t, char *key, size_t keysz) GL_WUR;
/* 0 and t filled, or -1 when the bytes are not a triplet key. */
int gl_key_decode(const char *key, size_t len, gl_triplet *t) GL_WUR;

/* The domain of an address (after its last '@'), or "" when none. */
const char *gl_addr_domain(const char *addr);

#endif
