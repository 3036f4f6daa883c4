/*
 * gl-holdlock - test helper: holds the GDBM writer lock of FILE for
 * SECONDS (as a long purge or a stuck writer would), then exits. Prints
 * "locked" once it holds the lock.
 */
#include <gdbm.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	GDBM_FILE db;
	int i;

	if (argc != 3) {
		fprintf(stderr, "usage: gl-holdlock FILE SECONDS\n");
		return 2;
	}
	for (i = 0; i < 100; i++) {
		db = gdbm_open(argv[1], 0, GDBM_WRCREAT, 0666, NULL);
		if (db != NULL)
			break;
		usleep(20000);
	}
	if (db == NULL) {
		fprintf(stderr, "gl-holdlock: %s\n", gdbm_strerror(gdbm_errno));
		return 1;
	}
	printf("locked\n");
	fflush(stdout);
	sleep((unsigned)atoi(argv[2]));
	gdbm_close(db);
	return 0;
}
