/*
 * record.h - the stored value of one triplet.
 *
 * Format version 1, 32 bytes, little-endian, written and read byte by
 * byte (no struct is ever written raw):
 *   0  'G'            magic
 *   1  1              version
 *   2  state          1 pending, 2 passed
 *   3  0              reserved
 *   4  attempts       uint32, deliveries tried (>= 1)
 *   8  first_seen     int64, Unix seconds
 *  16  last_seen      int64, >= first_seen
 *  24  passed_at      int64, 0 while pending; first_seen+1.. last_seen
 *                     once passed
 * gl_record_decode() accepts exactly this and nothing else (length,
 * magic, version, state, reserved byte, order of the times): a record it
 * did not write is an error the caller handles, never a crash. On
 * failure the decoders return -1 with err and leave their output
 * untouched; the encoders cannot fail.
 */
#ifndef GL_RECORD_H
#define GL_RECORD_H

#include "gl.h"

#define GL_RECORD_SIZE 32
#define GL_RECORD_VERSION 1

enum gl_state { GL_PENDING = 1, GL_PASSED = 2 };

typedef struct gl_record {
	enum gl_state state;
	uint32_t attempts;
	gl_time first_seen;
	gl_time last_seen;
	gl_time passed_at;
} gl_record;

/*
 * A client record (key "c" NUL client) counts the distinct triplets of
 * one client that passed, for auto_whitelist_clients. Version 1, 24
 * bytes: 'C', 1, 0, 0, count (uint32), first_pass (int64), last_pass
 * (int64, >= first_pass); count >= 1.
 */
#define GL_CLIENT_RECORD_SIZE 24

typedef struct gl_client_record {
	uint32_t count;
	gl_time first_pass;
	gl_time last_pass;
} gl_client_record;

void gl_client_record_encode(const gl_client_record *c,
			     unsigned char out[GL_CLIENT_RECORD_SIZE]);
int gl_client_record_decode(const void *buf, size_t len,
			    gl_client_record *c_r, gl_err *err) GL_WUR;

void gl_record_encode(const gl_record *r, unsigned char out[GL_RECORD_SIZE]);
int gl_record_decode(const void *buf, size_t len, gl_record *r_r,
		     gl_err *err) GL_WUR;
const char *gl_state_name(enum gl_state s);

#endif
