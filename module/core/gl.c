/* gl.c - error, note, copy and printable helpers and the cached process id. */
#include "gl.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

int gl_fail(gl_err *err, const char *fmt, ...)
{
	va_list ap;

	if (err != NULL) {
		va_start(ap, fmt);
		(void)vsnprintf(err->msg, sizeof err->msg, fmt, ap);
		va_end(ap);
	}
	return -1;
}

void gl_note(gl_notes *nt, const char *fmt, ...)
{
	char buf[GL_ERR_MAX], **grown;
	va_list ap;

	if (nt == NULL)
		return;
	if (nt->n >= GL_NOTES_MAX) {
		nt->dropped++;
		return;
	}
	va_start(ap, fmt);
	(void)vsnprintf(buf, sizeof buf, fmt, ap);
	va_end(ap);
	grown = realloc(nt->msg, (nt->n + 1) * sizeof *nt->msg);
	if (grown == NULL) {
		nt->dropped++;
		return;
	}
	nt->msg = grown;
	if ((nt->msg[nt->n] = strdup(buf)) == NULL)
		nt->dropped++;
	else
		nt->n++;
}

void gl_notes_free(gl_notes *nt)
{
	size_t i;

	for (i = 0; i < nt->n; i++)
		free(nt->msg[i]);
	free(nt->msg);
	nt->msg = NULL;
	nt->n = 0;
	nt->dropped = 0;
}

const char *gl_printable(char *dst, size_t dstsz, const char *src)
{
	size_t i, n;

	if (dstsz == 0)
		return dst;
	if (src == NULL)
		src = "(null)";
	n = strlen(src);
	for (i = 0; i < n && i + 1 < dstsz; i++) {
		unsigned char c = (unsigned char)src[i];
		dst[i] = (c >= 0x20 && c < 0x7f) ? (char)c : '?';
	}
	dst[i] = '\0';
	if (i < n && dstsz > 4)
		memcpy(dst + dstsz - 4, "...", 4);
	return dst;
}

void gl_lower(char *s)
{
	for (; *s; s++)
		if (*s >= 'A' && *s <= 'Z')
			*s = (char)(*s - 'A' + 'a');
}

int gl_valid_name(const char *s, size_t max)
{
	size_t n = strlen(s), i;

	if (n == 0 || n > max)
		return 0;
	for (i = 0; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z') ||
		      (s[i] >= '0' && s[i] <= '9') || s[i] == '.' ||
		      s[i] == '-' || s[i] == '_'))
			return 0;
	return 1;
}

int gl_copy(char *dst, size_t dstsz, const char *src)
{
	size_t n = strlen(src);

	if (dstsz == 0 || n >= dstsz)
		return -1;
	memcpy(dst, src, n + 1);
	return 0;
}

int gl_copy_fd(int in, int out)
{
	char buf[65536];
	ssize_t n;

	if (lseek(in, 0, SEEK_SET) < 0)
		return -1;
	while ((n = read(in, buf, sizeof buf)) > 0)
		if (write(out, buf, (size_t)n) != n)
			return -1;
	return n < 0 ? -1 : 0;
}

int gl_copy_file(const char *from, const char *to)
{
	int in, out, rc, e;

	in = open(from, O_RDONLY | O_CLOEXEC);
	if (in < 0)
		return -1;
	out = open(to, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0660);
	rc = out < 0 ? -1 : gl_copy_fd(in, out);
	e = errno;
	if (out >= 0 && close(out) != 0 && rc == 0) {
		rc = -1;
		e = errno;
	}
	close(in);
	errno = e;
	return rc;
}

int gl_dir_of(const char *path, char *dir, size_t sz)
{
	const char *slash = strrchr(path, '/');
	size_t n = slash == NULL || slash == path ? 1 : (size_t)(slash - path);

	if (n >= sz)
		return -1;
	memcpy(dir, slash == NULL ? "." : path, n);
	dir[n] = '\0';
	return 0;
}

int gl_snapshot_stage(const char *path, const char *snapshot,
		      const char *tmp, int (*readable)(const char *),
		      gl_err *err)
{
	char aside[PATH_MAX + 32];

	if (gl_copy_file(snapshot, tmp) != 0) {
		gl_fail(err, "%s: cannot restore from %s: %s", path, snapshot,
			strerror(errno));
		unlink(tmp);
		return -1;
	}
	if (readable(tmp))
		return 1;
	snprintf(aside, sizeof aside, "%s.broken-%lld", snapshot,
		 (long long)time(NULL));
	(void)rename(snapshot, aside);
	unlink(tmp);
	return 0;
}

pid_t gl_pid(void)
{
	return getpid();
}
