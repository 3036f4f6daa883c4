/* counters.c - decision counters in a shared mapped file (counters.h). */
#include "counters.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"
#include "decide.h"

#define MAGIC "GLCNTRS1"

const gl_time gl_cnt_bucket_le[GL_CNT_NBUCKETS] = {
	60, 120, 300, 600, 900, 1800, 3600, 7200, 14400, 28800, 43200, 86400,
	-1
};

static const char *const reason_names[GL_CNT_NREASONS] = {
	"new", "early", "restart", "pass", "known", "whitelist", "auto",
	"error"
};

struct gl_counters {
	unsigned char *map;
	uint64_t *slot;
};

const char *gl_cnt_reason_name(enum gl_cnt_reason r)
{
	return (unsigned)r < GL_CNT_NREASONS ? reason_names[r] : NULL;
}

int gl_cnt_reason_verdicts(enum gl_cnt_reason r)
{
	switch (r) {
	case GL_CNT_NEW: case GL_CNT_EARLY: case GL_CNT_RESTART: return 2;
	case GL_CNT_ERROR: return 3;
	default: return 1;
	}
}

int gl_cnt_bucket(gl_time delay)
{
	int i;

	for (i = 0; i < GL_CNT_NBUCKETS - 1; i++)
		if (delay <= gl_cnt_bucket_le[i])
			return i;
	return GL_CNT_NBUCKETS - 1;
}

int gl_counters_path(const gl_config *cfg, char *out, size_t outsz)
{
	const char *db = cfg->snapshot[0] ? cfg->snapshot : cfg->database;
	const char *slash = strrchr(db, '/');
	int n;

	if (!strcmp(cfg->counters, "none"))
		return 1;
	if (cfg->counters[0])
		return gl_copy(out, outsz, cfg->counters);
	if (slash == NULL || slash - db > INT_MAX)
		return -1;
	n = snprintf(out, outsz, "%.*s/greylist.counters", (int)(slash - db),
		     db);
	return n < 0 || (size_t)n >= outsz ? -1 : 0;
}

/* 1 when the GL_COUNTERS_SIZE bytes at b are a counters file. */
static int valid(const unsigned char *b)
{
	uint32_t nslots, zero;

	memcpy(&nslots, b + 8, 4);
	memcpy(&zero, b + 12, 4);
	return !memcmp(b, MAGIC, 8) && nslots == GL_CNT_SLOTS && zero == 0;
}

static void header(unsigned char *b, gl_time now)
{
	uint32_t nslots = GL_CNT_SLOTS;
	int64_t created = now;

	memset(b, 0, GL_COUNTERS_SIZE);
	memcpy(b, MAGIC, 8);
	memcpy(b + 8, &nslots, 4);
	memcpy(b + 16, &created, 8);
}

/*
 * Puts a fresh file at path: written beside it, then linked into place,
 * so no process maps half a file. bad is the inode found damaged there
 * (0: none was there); it is removed first, only when it is still the
 * one at path. When another process got there first (link says EEXIST),
 * its file is used: two processes never count into different files.
 */
static int create(const char *path, ino_t bad, gl_time now, gl_err *err)
{
	unsigned char b[GL_COUNTERS_SIZE];
	char tmp[PATH_MAX];
	struct stat sb;
	int fd, n, e;

	n = snprintf(tmp, sizeof tmp, "%s.new.%ld", path, (long)getpid());
	if (n < 0 || (size_t)n >= sizeof tmp)
		return gl_fail(err, "counters file name too long");
	header(b, now);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW,
		  0644);
	if (fd < 0)
		return gl_fail(err, "%s: cannot create: %s", tmp,
			       strerror(errno));
	if (write(fd, b, sizeof b) != (ssize_t)sizeof b) {
		e = errno;
		close(fd);
		unlink(tmp);
		return gl_fail(err, "%s: cannot write: %s", tmp,
			       e ? strerror(e) : "short write");
	}
	if (close(fd) < 0) {
		e = errno;
		unlink(tmp);
		return gl_fail(err, "%s: cannot write: %s", tmp, strerror(e));
	}
	if (bad != 0 && lstat(path, &sb) == 0 && sb.st_ino == bad)
		unlink(path);
	if (link(tmp, path) < 0 && errno != EEXIST) {
		e = errno;
		unlink(tmp);
		return gl_fail(err, "%s: cannot create: %s", path, strerror(e));
	}
	unlink(tmp);
	return 0;
}

/*
 * Opens and maps path when it is a valid counters file: 0 with *c_r set,
 * 1 when it is missing (*bad_r = 0) or damaged (*bad_r = its inode), -1
 * with err otherwise.
 */
static int try_map(const char *path, gl_counters **c_r, ino_t *bad_r,
		   gl_err *err)
{
	struct stat sb;
	unsigned char *map;
	gl_counters *c;
	int fd, e;

	*bad_r = 0;
	fd = open(path, O_RDWR | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0) {
		if (errno == ENOENT)
			return 1;
		return gl_fail(err, "%s: cannot open: %s", path,
			       strerror(errno));
	}
	if (fstat(fd, &sb) < 0) {
		e = errno;
		close(fd);
		return gl_fail(err, "%s: %s", path, strerror(e));
	}
	if (!S_ISREG(sb.st_mode) || sb.st_size > GL_COUNTERS_FOREIGN_MAX) {
		close(fd);
		return gl_fail(err, "%s: not a counters file (%s); left alone: "
			       "remove it or set another 'counters' file",
			       path, S_ISREG(sb.st_mode) ? "too large" :
			       "not a regular file");
	}
	*bad_r = sb.st_ino;
	if (sb.st_size != GL_COUNTERS_SIZE) {
		close(fd);
		return 1;
	}
	map = mmap(NULL, GL_COUNTERS_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED,
		   fd, 0);
	e = errno;
	close(fd);
	if (map == MAP_FAILED)
		return gl_fail(err, "%s: cannot map: %s", path, strerror(e));
	if (!valid(map)) {
		munmap(map, GL_COUNTERS_SIZE);
		return 1;
	}
	if ((c = malloc(sizeof *c)) == NULL) {
		munmap(map, GL_COUNTERS_SIZE);
		return gl_fail(err, "out of memory");
	}
	c->map = map;
	c->slot = (uint64_t *)(void *)(map + GL_COUNTERS_HEADER);
	*c_r = c;
	return 0;
}

gl_counters *gl_counters_open(const char *path, gl_time now, gl_err *err)
{
	gl_counters *c = NULL;
	ino_t bad;
	int tries, rc;

	/* Missing or damaged: replace it, then map what is there. */
	for (tries = 0; tries < 3; tries++) {
		rc = try_map(path, &c, &bad, err);
		if (rc <= 0)
			return rc == 0 ? c : NULL;
		if (create(path, bad, now, err) < 0)
			return NULL;
	}
	gl_fail(err, "%s: replaced 3 times and still not valid", path);
	return NULL;
}

void gl_counters_close(gl_counters *c)
{
	if (c == NULL)
		return;
	munmap(c->map, GL_COUNTERS_SIZE);
	free(c);
}

static void add(gl_counters *c, int slot, uint64_t n)
{
	__atomic_fetch_add(&c->slot[slot], n, __ATOMIC_RELAXED);
}

void gl_counters_count(gl_counters *c, const gl_result *res)
{
	gl_time delay;
	int r;

	if (c == NULL || res->reason == NULL)
		return;
	for (r = 0; r < GL_CNT_NREASONS; r++)
		if (!strcmp(res->reason, reason_names[r]))
			break;
	if (r == GL_CNT_NREASONS)
		return;
	add(c, gl_cnt_decision_slot(res->verdict == GL_DEFER, r), 1);
	if (r == GL_CNT_PASS) {
		delay = res->rec.passed_at - res->rec.first_seen;
		if (delay < 0)
			delay = 0;
		add(c, GL_SLOT_DELAY_BUCKET + gl_cnt_bucket(delay), 1);
		add(c, GL_SLOT_DELAY_SUM, (uint64_t)delay);
	}
}

void gl_counters_set_purge(gl_counters *c, gl_time when)
{
	if (c != NULL)
		__atomic_store_n(&c->slot[GL_SLOT_LAST_PURGE], (uint64_t)when,
				 __ATOMIC_RELAXED);
}

int gl_counters_read(const char *path, gl_counters_data *d, gl_err *err)
{
	unsigned char b[GL_COUNTERS_SIZE + 1];
	ssize_t n;
	int64_t created;
	int fd, e;

	memset(d, 0, sizeof *d);
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0) {
		if (errno == ENOENT)
			return 1;
		return gl_fail(err, "%s: cannot open: %s", path,
			       strerror(errno));
	}
	n = pread(fd, b, sizeof b, 0);
	e = errno;
	close(fd);
	if (n < 0)
		return gl_fail(err, "%s: cannot read: %s", path, strerror(e));
	if (n != GL_COUNTERS_SIZE || !valid(b))
		return gl_fail(err, "%s: not a valid counters file (%zd bytes); "
			       "the module replaces it at its next decision",
			       path, n);
	memcpy(&created, b + 16, 8);
	d->created = created;
	memcpy(d->slot, b + GL_COUNTERS_HEADER, sizeof d->slot);
	return 0;
}
