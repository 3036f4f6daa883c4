/*
 * siphash.h - SipHash-2-4 (Aumasson and Bernstein, "SipHash: a fast
 * short-input PRF", 2012): a 64-bit keyed hash of a byte string. With a
 * secret key, whoever chooses the input cannot choose inputs that share
 * an output. The GDBM store (store_gdbm.c) puts its first 8 bytes
 * before each key it stores.
 *
 * Hand-written rather than taken from a library: the Debian-packaged
 * ones Exim's processes do not map already (libsodium) or lack it
 * (Nettle 3.8); Nettle's SHA-256, tried in its place, cost every SMTP
 * connection four page faults more (its code and tables), about 3% of a
 * one-RCPT connection (README, "Performance"). Checked against the
 * paper's test vectors (tests/unit/test_triplet.c).
 */
#ifndef GL_SIPHASH_H
#define GL_SIPHASH_H

#include <stddef.h>
#include <stdint.h>

/* SipHash-2-4 of in[0..len) under key (16 bytes), as the paper's
 * reference code computes it (its 8 output bytes are this value, little
 * endian). Pure: no state, no error. */
uint64_t gl_siphash24(const unsigned char key[16], const void *in,
		      size_t len);

#endif
