/*
 * parse.h - the value syntaxes the configuration, the whitelist and the
 * admin tool share. Each returns 0 with *out set, or -1 leaving *out
 * untouched.
 */
#ifndef GL_PARSE_H
#define GL_PARSE_H

#include <stdio.h>
#include <sys/stat.h>

#include "gl.h"

/*
 * A duration: whole seconds, or a number followed by s, m, h, d or w;
 * with allow_ms also "ms". *ms_r in milliseconds. -1 for anything else
 * (empty, sign, more than ten years, junk).
 */
int gl_parse_duration(const char *s, int allow_ms, int64_t *ms_r) GL_WUR;

/* yes/true/on/1 or no/false/off/0. */
int gl_parse_bool(const char *v, int *out) GL_WUR;

/* A whole number from 0 to max, digits only. */
int gl_parse_uint(const char *v, long max, long *out) GL_WUR;

/*
 * Opens path for reading when it is a regular file: a FIFO (which would
 * block the opener until a writer comes), a device (/dev/zero never
 * ends) or a directory is refused. Fills *st_r (when not NULL) with the
 * open file's status. NULL with *why_r saying why (a static string)
 * otherwise; *st_r then undefined.
 */
FILE *gl_fopen_regular(const char *path, struct stat *st_r,
		       const char **why_r);

/* Reads a whole line of fp into line (sz bytes, NUL-terminated): 0 at
 * end of file, 1 a line, 2 a line too long for line (its first sz - 1
 * bytes are in line; the rest is read and dropped). */
int gl_read_line(FILE *fp, char *line, size_t sz);

#endif
