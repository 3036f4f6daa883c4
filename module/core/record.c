/* record.c - encoding and strict decoding of triplet records. */
#include "record.h"

#include <string.h>

static void put32(unsigned char *p, uint32_t v)
{
	int i;

	for (i = 0; i < 4; i++)
		p[i] = (unsigned char)(v >> (8 * i));
}

static uint32_t get32(const unsigned char *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	       (uint32_t)p[3] << 24;
}

void gl_record_encode(const gl_record *r, unsigned char out[GL_RECORD_SIZE])
{
	out[0] = 'G';
	out[1] = GL_RECORD_VERSION;
	out[2] = (unsigned char)r->state;
	out[3] = 0;
	put32(out + 4, r->attempts);
	gl_put_le64(out + 8, (uint64_t)r->first_seen);
	gl_put_le64(out + 16, (uint64_t)r->last_seen);
	gl_put_le64(out + 24, (uint64_t)r->passed_at);
}

int gl_record_decode(const void *buf, size_t len, gl_record *r_r, gl_err *err)
{
	const unsigned char *p = buf;
	gl_record r;

	if (len != GL_RECORD_SIZE)
		return gl_fail(err, "record of %zu bytes, want %d", len,
			       GL_RECORD_SIZE);
	if (p[0] != 'G')
		return gl_fail(err, "record without magic byte");
	if (p[1] != GL_RECORD_VERSION)
		return gl_fail(err, "record version %u, want %d", p[1],
			       GL_RECORD_VERSION);
	if ((p[2] != GL_PENDING && p[2] != GL_PASSED) || p[3] != 0)
		return gl_fail(err, "record with bad state %u/%u", p[2], p[3]);
	r.state = (enum gl_state)p[2];
	r.attempts = get32(p + 4);
	r.first_seen = (gl_time)gl_get_le64(p + 8);
	r.last_seen = (gl_time)gl_get_le64(p + 16);
	r.passed_at = (gl_time)gl_get_le64(p + 24);
	if (r.attempts == 0 || r.first_seen < 0 || r.last_seen < r.first_seen)
		return gl_fail(err, "record with impossible counts or times");
	if (r.state == GL_PENDING ? r.passed_at != 0 :
	    (r.passed_at <= r.first_seen || r.passed_at > r.last_seen))
		return gl_fail(err, "record with impossible pass time");
	*r_r = r;
	return 0;
}

const char *gl_state_name(enum gl_state s)
{
	return s == GL_PASSED ? "passed" : "pending";
}

void gl_client_record_encode(const gl_client_record *c,
			     unsigned char out[GL_CLIENT_RECORD_SIZE])
{
	out[0] = 'C';
	out[1] = GL_RECORD_VERSION;
	out[2] = 0;
	out[3] = 0;
	put32(out + 4, c->count);
	gl_put_le64(out + 8, (uint64_t)c->first_pass);
	gl_put_le64(out + 16, (uint64_t)c->last_pass);
}

int gl_client_record_decode(const void *buf, size_t len,
			    gl_client_record *c_r, gl_err *err)
{
	const unsigned char *p = buf;
	gl_client_record c;

	if (len != GL_CLIENT_RECORD_SIZE || p[0] != 'C' ||
	    p[1] != GL_RECORD_VERSION || p[2] != 0 || p[3] != 0)
		return gl_fail(err, "not a client record (%zu bytes)", len);
	c.count = get32(p + 4);
	c.first_pass = (gl_time)gl_get_le64(p + 8);
	c.last_pass = (gl_time)gl_get_le64(p + 16);
	if (c.count == 0 || c.first_pass < 0 || c.last_pass < c.first_pass)
		return gl_fail(err, "client record with impossible values");
	*c_r = c;
	return 0;
}
