/*
 * gl-poke - test helper: stores VALUE under the triplet key of (CLIENT,
 * SENDER, RECIPIENT) in a GDBM file, bypassing every check of the value,
 * to plant records the decoder must refuse, or records as an earlier
 * release wrote them.
 *
 *   gl-poke [-p] FILE CLIENT SENDER RECIPIENT VALUE
 *
 * The record goes in through the GDBM store, behind the file's salt, as
 * the module would write it; with -p, straight into the file with its
 * plain key, as exim-greylist 0.1 did (a new file then has no salt).
 * VALUE "=passed" is a well-formed record of a triplet that passed an
 * hour ago; any other VALUE is stored as it is.
 */
#include <gdbm.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "../../module/core/keys.h"
#include "../../module/core/record.h"
#include "../../module/core/store.h"

static int plain(const char *path, const char *key, int klen,
		 const void *val, size_t vlen)
{
	GDBM_FILE db = gdbm_open(path, 0, GDBM_WRCREAT, 0666, NULL);
	datum k = { (char *)key, klen }, v = { (char *)val, (int)vlen };
	int n;

	if (db == NULL) {
		fprintf(stderr, "gl-poke: cannot open %s\n", path);
		return 1;
	}
	n = gdbm_store(db, k, v, GDBM_REPLACE);
	gdbm_close(db);
	return n != 0;
}

int main(int argc, char **argv)
{
	gl_triplet t;
	gl_record r;
	unsigned char rec[GL_RECORD_SIZE];
	char key[GL_KEY_MAX], cur[GL_VALUE_MAX];
	size_t curlen = sizeof cur, vlen;
	const void *val;
	gl_store *st;
	gl_err err;
	int n, rc, raw = argc > 1 && !strcmp(argv[1], "-p");

	argv += raw;
	argc -= raw;
	if (argc != 6 || gl_copy(t.client, sizeof t.client, argv[2]) < 0 ||
	    gl_copy(t.sender, sizeof t.sender, argv[3]) < 0 ||
	    gl_copy(t.rcpt, sizeof t.rcpt, argv[4]) < 0) {
		fprintf(stderr, "usage: gl-poke [-p] FILE CLIENT SENDER "
			"RECIPIENT VALUE\n");
		return 2;
	}
	val = argv[5];
	vlen = strlen(argv[5]);
	if (!strcmp(argv[5], "=passed")) {
		memset(&r, 0, sizeof r);
		r.state = GL_PASSED;
		r.attempts = 2;
		r.first_seen = (gl_time)time(NULL) - 3900;
		r.passed_at = r.last_seen = (gl_time)time(NULL) - 3600;
		gl_record_encode(&r, rec);
		val = rec;
		vlen = sizeof rec;
	}
	n = gl_key_encode(&t, key, sizeof key);
	if (n < 0) {
		fprintf(stderr, "gl-poke: key too long\n");
		return 2;
	}
	if (raw)
		return plain(argv[1], key, n, val, vlen);
	st = gl_store_gdbm_open(argv[1], 2000, &err);
	if (st == NULL) {
		fprintf(stderr, "gl-poke: %s\n", err.msg);
		return 1;
	}
	rc = gl_store_get(st, key, (size_t)n, cur, &curlen, &err);
	if (rc >= 0)
		rc = gl_store_cas(st, key, (size_t)n, rc == 1 ? cur : NULL,
				  curlen, val, vlen, 0, &err);
	if (rc != 1)
		fprintf(stderr, "gl-poke: %s\n", rc < 0 ? err.msg : "changed");
	gl_store_close(st);
	return rc != 1;
}
