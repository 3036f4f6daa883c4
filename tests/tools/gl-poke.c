/*
 * gl-poke - test helper: stores raw VALUE under the triplet key of
 * (CLIENT, SENDER, RECIPIENT) in a GDBM file, bypassing every check, to
 * plant records the decoder must refuse.
 *
 *   gl-poke FILE CLIENT SENDER RECIPIENT VALUE
 */
#include <gdbm.h>
#include <stdio.h>
#include <string.h>

#include "../../module/core/keys.h"

int main(int argc, char **argv)
{
	gl_triplet t;
	char key[GL_KEY_MAX];
	datum k, v;
	GDBM_FILE db;
	int n;

	if (argc != 6 || gl_copy(t.client, sizeof t.client, argv[2]) < 0 ||
	    gl_copy(t.sender, sizeof t.sender, argv[3]) < 0 ||
	    gl_copy(t.rcpt, sizeof t.rcpt, argv[4]) < 0) {
		fprintf(stderr, "usage: gl-poke FILE CLIENT SENDER RECIPIENT VALUE\n");
		return 2;
	}
	n = gl_key_encode(&t, key, sizeof key);
	db = gdbm_open(argv[1], 0, GDBM_WRCREAT, 0666, NULL);
	if (n < 0 || db == NULL) {
		fprintf(stderr, "gl-poke: cannot open %s\n", argv[1]);
		return 1;
	}
	k.dptr = key;
	k.dsize = n;
	v.dptr = argv[5];
	v.dsize = (int)strlen(argv[5]);
	n = gdbm_store(db, k, v, GDBM_REPLACE);
	gdbm_close(db);
	return n != 0;
}
