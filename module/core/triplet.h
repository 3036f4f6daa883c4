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
 * The key a triplet is stored under is keys.h's.
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

/* The domain of an address (after its last '@'), or "" when none. */
const char *gl_addr_domain(const char *addr);

#endif
