/* output.c - errors, dates, tables and JSON for greylist-admin. */
#include "admin.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

void die(const char *msg)
{
	fprintf(stderr, "%s: %s\n", progname, msg);
	exit(1);
}

void die_err(const gl_err *err)
{
	die(err->msg);
}

gl_time now_s(void)
{
	return (gl_time)time(NULL);
}

const char *fmt_time(gl_time t, char *buf, size_t sz)
{
	time_t tt = (time_t)t;
	struct tm tm;

	if (t == 0 || gmtime_r(&tt, &tm) == NULL)
		return "-";
	strftime(buf, sz, "%Y-%m-%d %H:%M:%S", &tm);
	return buf;
}

static char table_header[256];

void set_header(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	(void)vsnprintf(table_header, sizeof table_header, fmt, ap);
	va_end(ap);
}

void header_out(void)
{
	fputs(table_header, stdout);
	table_header[0] = '\0';
}

void emit(json_t *o, const char *what)
{
	if (o == NULL) {
		fprintf(stderr, "%s: cannot encode %s as JSON (not UTF-8?)\n",
			progname, what);
		exit(1);
	}
	json_dumpf(o, stdout, JSON_COMPACT | JSON_PRESERVE_ORDER);
	putchar('\n');
	json_decref(o);
}

void grow(void *arr, size_t n, size_t *cap, size_t elem)
{
	void **p = arr;

	if (n < *cap)
		return;
	*cap = *cap * 2 + 256;
	*p = realloc(*p, *cap * elem);
	if (*p == NULL)
		die("out of memory");
}

void sort_n(void *base, size_t n, size_t size,
	    int (*cmp)(const void *, const void *))
{
	if (n > 1)
		qsort(base, n, size, cmp);
}
