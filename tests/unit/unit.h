/* unit.h - what every cmocka test of the core includes. */
#ifndef GL_UNIT_H
#define GL_UNIT_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define N_ELEMS(a) (sizeof(a) / sizeof((a)[0]))

/* A fresh directory under $TMPDIR (or /tmp) for one test; path written. */
static inline void unit_tmpdir(char *path, size_t sz)
{
	const char *base = getenv("TMPDIR");

	snprintf(path, sz, "%s/gl-unit-XXXXXX", base && *base ? base : "/tmp");
	assert_non_null(mkdtemp(path));
}

/* Writes text into dir/name and the full path into out. */
static inline void unit_write(const char *dir, const char *name,
			      const char *text, char *out, size_t sz)
{
	FILE *fp;

	snprintf(out, sz, "%s/%s", dir, name);
	fp = fopen(out, "w");
	assert_non_null(fp);
	assert_int_equal(fputs(text, fp) >= 0, 1);
	assert_int_equal(fclose(fp), 0);
}

/* Removes dir and what is in it (tests create only plain files). */
static inline void unit_rmdir(const char *dir)
{
	char cmd[4200];

	snprintf(cmd, sizeof cmd, "rm -rf -- '%s'", dir);
	assert_int_equal(system(cmd), 0);
}

#endif
