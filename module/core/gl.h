/*
 * gl.h - definitions every core module shares.
 *
 * The core never logs and never exits: each function that can fail
 * fills a gl_err that its caller reports (the Exim glue through Exim's
 * log, greylist-admin on stderr). Greylisting never reads the clock:
 * every function that needs the time of day takes it as a parameter. (The
 * stores read the monotonic clock for their time bounds, clock.h, and
 * recover names the copy it moves aside with the time.)
 *
 * Limits on untrusted input are fixed here. Longer input is rejected,
 * never silently truncated.
 */
#ifndef GL_H
#define GL_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* The release; kept in step with NEWS and debian/changelog (a test checks). */
#define GL_VERSION "0.2.0"

#define GL_ADDR_MAX   2048 /* one mail address, bytes, without the NUL */
#define GL_CLIENT_MAX 256  /* client part of a key ("192.0.2.0/24", a pool) */
#define GL_KEY_MAX    (2 + GL_CLIENT_MAX + 2 * GL_ADDR_MAX + 3)
#define GL_VALUE_MAX  4096 /* largest stored value the core accepts */
#define GL_DNS_NAME_MAX 253 /* a host or domain name, bytes */
#define GL_ERR_MAX    512

#define GL_WUR __attribute__((warn_unused_result))
#define GL_STR_(x) #x
#define GL_STR(x) GL_STR_(x) /* a number macro as a string literal */
#define GL_PRINTF(f, a) __attribute__((format(printf, f, a)))

typedef int64_t gl_time; /* Unix seconds; always passed in */

typedef struct gl_err {
	char msg[GL_ERR_MAX];
} gl_err;

/*
 * Problems with input that was skipped rather than refused (a bad
 * whitelist line, a whitelist file that cannot be read): each is one
 * message naming the file and line. At most GL_NOTES_MAX are kept; the
 * rest are only counted in dropped. The list owns its messages;
 * gl_notes_free() frees them and leaves an empty list.
 */
#define GL_NOTES_MAX 100

typedef struct gl_notes {
	char **msg;
	size_t n;
	size_t dropped;   /* past GL_NOTES_MAX, or out of memory */
} gl_notes;

/* Adds one message to nt (NULL: does nothing). Never fails: a message
 * that cannot be kept is counted in dropped. */
void gl_note(gl_notes *nt, const char *fmt, ...) GL_PRINTF(2, 3);
void gl_notes_free(gl_notes *nt);

/* Sets err (when not NULL) and returns -1, so "return gl_fail(...)". */
int gl_fail(gl_err *err, const char *fmt, ...) GL_PRINTF(2, 3);

/*
 * Copies src into dst (size dstsz) replacing bytes that are not
 * printable ASCII with '?', cutting at dstsz-1 with a trailing "...".
 * For putting untrusted text into log lines and error messages.
 */
const char *gl_printable(char *dst, size_t dstsz, const char *src);

/* Lower-cases the ASCII letters of s in place (other bytes unchanged). */
void gl_lower(char *s);

/* 1 when s is a name fit for a key or an entry: 1 to max bytes of ASCII
 * letters, digits, '.', '-' and '_'; else 0. */
int gl_valid_name(const char *s, size_t max);

/* strlcpy with a truncation check: 0 on success, -1 when src did not fit. */
int gl_copy(char *dst, size_t dstsz, const char *src) GL_WUR;

/* Copies the file open as in, from its start, to out (at out's offset);
 * 0, or -1 with errno. */
int gl_copy_fd(int in, int out) GL_WUR;

/* Copies the file from (whole) to a new file to (mode 0660; created or
 * truncated): 0, or -1 with errno (to may be left partly written). */
int gl_copy_file(const char *from, const char *to) GL_WUR;

/* The directory holding path into dir (sz bytes): "." when path has no
 * '/', "/" for a file at the root; -1 when it does not fit. */
int gl_dir_of(const char *path, char *dir, size_t sz) GL_WUR;

/*
 * What the GDBM and LMDB backends share when they restore the database
 * path from snapshot: copies snapshot to the new file tmp and checks the
 * copy with readable() (1 when the store's library opens it). 1: a good
 * copy is in tmp, for the caller to put in place. 0: the library cannot
 * open it, so the snapshot is moved aside (SNAPSHOT.broken-TIME, for
 * greylist-admin recover) and tmp removed: the database starts empty.
 * -1 with err ("PATH: cannot restore from SNAPSHOT: why") when it
 * could not be copied; tmp removed.
 */
int gl_snapshot_stage(const char *path, const char *snapshot,
		      const char *tmp, int (*readable)(const char *),
		      gl_err *err) GL_WUR;

/* getpid(), asked of the kernel at each call: code that must notice a
 * fork (handles that cannot cross one) checks per call. Not cached: a
 * cache dropped at fork (pthread_atfork) cost every Exim connection
 * process two page faults (the handler's page and the cache's), dearer
 * than a system call per decision. */
pid_t gl_pid(void);

/* 64-bit little-endian numbers in bytes: how records (record.h), SipHash
 * (siphash.h) and the GDBM store's key prefixes lay them out. */
static inline uint64_t gl_get_le64(const unsigned char *p)
{
	uint64_t v = 0;
	int i;

	for (i = 7; i >= 0; i--)
		v = (v << 8) | p[i];
	return v;
}

static inline void gl_put_le64(unsigned char *p, uint64_t v)
{
	int i;

	for (i = 0; i < 8; i++)
		p[i] = (unsigned char)(v >> (8 * i));
}

#endif
