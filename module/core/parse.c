/* parse.c - durations, booleans, numbers and whole lines (see parse.h). */
#include "parse.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <fcntl.h>

#define TEN_YEARS_MS (10LL * 366 * 86400 * 1000)

int gl_parse_duration(const char *s, int allow_ms, int64_t *ms_r)
{
	int64_t n = 0, unit;
	const char *p = s;

	if (!isdigit((unsigned char)*p))
		return -1;
	for (; isdigit((unsigned char)*p); p++) {
		n = n * 10 + (*p - '0');
		if (n > TEN_YEARS_MS)
			return -1;
	}
	if (*p == '\0' || strcmp(p, "s") == 0)
		unit = 1000;
	else if (allow_ms && strcmp(p, "ms") == 0)
		unit = 1;
	else if (strcmp(p, "m") == 0)
		unit = 60 * 1000;
	else if (strcmp(p, "h") == 0)
		unit = 3600 * 1000;
	else if (strcmp(p, "d") == 0)
		unit = 86400 * 1000;
	else if (strcmp(p, "w") == 0)
		unit = 7 * 86400 * 1000;
	else
		return -1;
	if (n > TEN_YEARS_MS / unit)
		return -1;
	*ms_r = n * unit;
	return 0;
}

int gl_parse_bool(const char *v, int *out)
{
	if (!strcmp(v, "yes") || !strcmp(v, "true") || !strcmp(v, "on") ||
	    !strcmp(v, "1"))
		*out = 1;
	else if (!strcmp(v, "no") || !strcmp(v, "false") ||
		 !strcmp(v, "off") || !strcmp(v, "0"))
		*out = 0;
	else
		return -1;
	return 0;
}

int gl_parse_uint(const char *v, long max, long *out)
{
	char *end;
	long n;

	if (!isdigit((unsigned char)*v))
		return -1;
	errno = 0;
	n = strtol(v, &end, 10);
	if (errno != 0 || *end != '\0' || n > max)
		return -1;
	*out = n;
	return 0;
}

int gl_read_line(FILE *fp, char *line, size_t sz)
{
	int c;

	if (fgets(line, (int)sz, fp) == NULL)
		return 0;
	if (strchr(line, '\n') != NULL || feof(fp))
		return 1;
	while ((c = getc(fp)) != EOF && c != '\n')
		;
	return 2;
}

FILE *gl_fopen_regular(const char *path, struct stat *st_r,
		       const char **why_r)
{
	struct stat st;
	FILE *fp;
	int fd, fl;

	fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0) {
		*why_r = strerror(errno);
		return NULL;
	}
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		*why_r = "not a regular file";
		close(fd);
		return NULL;
	}
	fl = fcntl(fd, F_GETFL);
	if (fl < 0 || fcntl(fd, F_SETFL, fl & ~O_NONBLOCK) < 0 ||
	    (fp = fdopen(fd, "r")) == NULL) {
		*why_r = strerror(errno);
		close(fd);
		return NULL;
	}
	if (st_r != NULL)
		*st_r = st;
	return fp;
}
