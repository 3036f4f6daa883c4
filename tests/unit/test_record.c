/* test_record.c - the record format and its strict decoder. */
#include "unit.h"

#include "../../module/core/record.h"

static void test_roundtrip(void **state)
{
	static const gl_record t[] = {
		{ GL_PENDING, 1, 1000, 1000, 0 },
		{ GL_PENDING, 7, 1000, 1290, 0 },
		{ GL_PASSED, 2, 1000, 1300, 1300 },
		{ GL_PASSED, 4294967295u, 0, INT64_MAX, 1 },
	};
	unsigned char buf[GL_RECORD_SIZE];
	gl_record r;
	gl_err err;
	size_t i;

	for (i = 0; i < N_ELEMS(t); i++) {
		gl_record_encode(&t[i], buf);
		assert_int_equal(gl_record_decode(buf, sizeof buf, &r, &err), 0);
		assert_int_equal(r.state, t[i].state);
		assert_int_equal(r.attempts, t[i].attempts);
		assert_int_equal(r.first_seen, t[i].first_seen);
		assert_int_equal(r.last_seen, t[i].last_seen);
		assert_int_equal(r.passed_at, t[i].passed_at);
	}
	/* The byte layout is fixed: little-endian, magic and version. */
	gl_record_encode(&t[1], buf);
	assert_int_equal(buf[0], 'G');
	assert_int_equal(buf[1], 1);
	assert_int_equal(buf[2], 1);
	assert_int_equal(buf[4], 7);
	assert_int_equal(buf[8], 1000 & 0xff);
	assert_int_equal(buf[9], 1000 >> 8);
	(void)state;
}

/* Decoding must fail, leave the output untouched, and say why. */
static void refuse(const unsigned char *buf, size_t len, const char *why)
{
	gl_record r = { GL_PASSED, 99, 5, 6, 6 };
	gl_err err;

	err.msg[0] = '\0';
	if (gl_record_decode(buf, len, &r, &err) != -1)
		fail_msg("accepted: %s", why);
	assert_int_equal(r.attempts, 99);
	assert_true(err.msg[0] != '\0');
}

static void test_refused(void **state)
{
	gl_record ok = { GL_PASSED, 3, 1000, 2000, 1500 };
	unsigned char good[GL_RECORD_SIZE], b[GL_RECORD_SIZE + 8];
	size_t n;

	gl_record_encode(&ok, good);
	for (n = 0; n < GL_RECORD_SIZE; n++)
		refuse(good, n, "truncated");
	memcpy(b, good, GL_RECORD_SIZE);
	refuse(b, GL_RECORD_SIZE + 1, "oversized");
	refuse(b, GL_RECORD_SIZE + 8, "oversized");
	memcpy(b, good, GL_RECORD_SIZE), b[0] = 'g';
	refuse(b, GL_RECORD_SIZE, "magic");
	memcpy(b, good, GL_RECORD_SIZE), b[1] = 2;
	refuse(b, GL_RECORD_SIZE, "version 2");
	memcpy(b, good, GL_RECORD_SIZE), b[1] = 0;
	refuse(b, GL_RECORD_SIZE, "version 0");
	memcpy(b, good, GL_RECORD_SIZE), b[2] = 3;
	refuse(b, GL_RECORD_SIZE, "state 3");
	memcpy(b, good, GL_RECORD_SIZE), b[2] = 0;
	refuse(b, GL_RECORD_SIZE, "state 0");
	memcpy(b, good, GL_RECORD_SIZE), b[3] = 1;
	refuse(b, GL_RECORD_SIZE, "reserved byte");
	memcpy(b, good, GL_RECORD_SIZE), memset(b + 4, 0, 4);
	refuse(b, GL_RECORD_SIZE, "zero attempts");
	memcpy(b, good, GL_RECORD_SIZE), b[15] = 0x80;
	refuse(b, GL_RECORD_SIZE, "negative first_seen");
	{
		gl_record bad[] = {
			{ GL_PENDING, 1, 2000, 1000, 0 },     /* last < first */
			{ GL_PENDING, 1, 1000, 2000, 1500 },  /* pending passed */
			{ GL_PASSED, 1, 1000, 2000, 0 },      /* passed never */
			{ GL_PASSED, 1, 1000, 2000, 1000 },   /* passed at first */
			{ GL_PASSED, 1, 1000, 2000, 2001 },   /* after last */
		};
		for (n = 0; n < N_ELEMS(bad); n++) {
			gl_record_encode(&bad[n], b);
			refuse(b, GL_RECORD_SIZE, "impossible times");
		}
	}
	(void)state;
}

/* Random bytes never crash the decoder and are almost always refused. */
static void test_random(void **state)
{
	unsigned char b[64];
	unsigned seed = 12345, accepted = 0;
	gl_record r;
	int i, j;

	for (i = 0; i < 200000; i++) {
		size_t len = (size_t)(rand_r(&seed) % 2 ? GL_RECORD_SIZE :
				      rand_r(&seed) % sizeof b);
		for (j = 0; j < (int)sizeof b; j++)
			b[j] = (unsigned char)rand_r(&seed);
		if (i % 2) { /* plausible headers reach the deeper checks */
			b[0] = 'G';
			b[1] = 1;
			b[2] = (unsigned char)(1 + i % 3);
			b[3] = 0;
		}
		if (gl_record_decode(b, len, &r, NULL) == 0) {
			accepted++;
			assert_true(r.last_seen >= r.first_seen);
		}
	}
	assert_true(accepted < 200000 / 4);
	(void)state;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_roundtrip),
		cmocka_unit_test(test_refused),
		cmocka_unit_test(test_random),
	};
	return cmocka_run_group_tests_name("record", tests, NULL, NULL);
}
