/*
 * counters.h - decision counters in a small shared file.
 *
 * The module counts every decision it answers (by verdict and reason)
 * and the delay of every triplet that passes (a histogram), so that
 * greylist-admin metrics can say what greylisting did since the counters
 * began. Counting must cost no store write and no system call per
 * decision: the file is opened and mapped (MAP_SHARED) once per process,
 * on its first decision, and each count is an atomic add in the mapping,
 * so concurrent Exim processes lose no increment. The file is host-local
 * (also with backend = redis: each MX host counts its own decisions).
 *
 * File format, version 1, native byte order (the file never leaves its
 * host), exactly GL_COUNTERS_SIZE bytes:
 *   0   "GLCNTRS1"    magic and version (8 bytes)
 *   8   uint32        GL_CNT_SLOTS, the number of 64-bit slots
 *   12  uint32        0
 *   16  int64         created: Unix seconds
 *   24  40 bytes      0
 *   64  uint64[GL_CNT_SLOTS]  the slots (enum gl_cnt_slot)
 * A file of another size, magic or slot count is damaged or foreign:
 * gl_counters_open() replaces it with a fresh one (a new file renamed
 * into place, so no process ever maps half a file), unless it is larger
 * than GL_COUNTERS_FOREIGN_MAX, which is never a counters file and is left
 * alone (the open fails). Counters then start again from zero, which
 * Prometheus reads as a counter reset.
 *
 * Caveat of any shared mapping (LMDB has the same): a file truncated in
 * place while a process has it mapped makes that process fault. Never
 * edit or truncate the file; remove it to start the counters again.
 */
#ifndef GL_COUNTERS_H
#define GL_COUNTERS_H

#include "gl.h"

struct gl_config;
struct gl_result;

/* Reasons in the order of the slots; gl_cnt_reason_name() names them. */
enum gl_cnt_reason { GL_CNT_NEW, GL_CNT_EARLY, GL_CNT_RESTART, GL_CNT_PASS,
		     GL_CNT_KNOWN, GL_CNT_WHITELIST, GL_CNT_AUTO, GL_CNT_ERROR,
		     GL_CNT_NREASONS };

/* Upper bounds (seconds) of the delay histogram's buckets, then +Inf. */
#define GL_CNT_NBUCKETS 13
extern const gl_time gl_cnt_bucket_le[GL_CNT_NBUCKETS]; /* last: -1 = +Inf */

enum gl_cnt_slot {
	GL_SLOT_DECISIONS = 0,                 /* [verdict][reason] */
	GL_SLOT_DELAY_BUCKET = GL_SLOT_DECISIONS + 2 * GL_CNT_NREASONS,
	GL_SLOT_DELAY_SUM = GL_SLOT_DELAY_BUCKET + GL_CNT_NBUCKETS,
	GL_SLOT_LAST_PURGE,                    /* Unix seconds, 0: never */
	GL_SLOT_RESERVED,                      /* room for later figures */
	GL_CNT_SLOTS = GL_SLOT_RESERVED + 15
};

#define GL_COUNTERS_HEADER 64
#define GL_COUNTERS_SIZE (GL_COUNTERS_HEADER + 8 * GL_CNT_SLOTS)
#define GL_COUNTERS_FOREIGN_MAX 65536

/* A snapshot of the file (greylist-admin). */
typedef struct gl_counters_data {
	gl_time created;
	uint64_t slot[GL_CNT_SLOTS];
} gl_counters_data;

typedef struct gl_counters gl_counters; /* a mapped file */

/*
 * The counters file for cfg: its `counters` key; by default
 * greylist.counters in the directory of `snapshot` when one is set (the
 * persistent copy of a database kept on a tmpfs), else in the directory
 * of `database` (also with redis, where that names only the directory).
 * Returns 0 with the path, 1 when counting is off (counters = none), -1
 * when the name does not fit (out then unspecified).
 */
int gl_counters_path(const struct gl_config *cfg, char *out, size_t outsz)
	GL_WUR;

/*
 * Maps the file at path for counting, creating or replacing it (see
 * above; created = now in a new file; mode 0644). NULL with err when it
 * cannot (directory missing or not writable, a foreign file). Costs
 * open, fstat, mmap and close when the file is valid.
 */
gl_counters *gl_counters_open(const char *path, gl_time now, gl_err *err)
	GL_WUR;
void gl_counters_close(gl_counters *c);

/*
 * Counts one decision: its verdict and reason, and for a pass the delay
 * it saw (res->rec.passed_at - first_seen). A reason it does not know is
 * not counted. No system call. c may be NULL (does nothing).
 */
void gl_counters_count(gl_counters *c, const struct gl_result *res);

/* Records the time of a purge (no system call). */
void gl_counters_set_purge(gl_counters *c, gl_time when);

/*
 * Reads the file at path without changing it. Returns 0 with d filled,
 * 1 when there is no file (d all zero), -1 with err when it cannot be
 * read or is not a valid counters file (d all zero).
 */
int gl_counters_read(const char *path, gl_counters_data *d, gl_err *err)
	GL_WUR;

/* The slot counting decisions with this verdict (0 accept, 1 defer) and
 * reason. */
static inline int gl_cnt_decision_slot(int verdict, enum gl_cnt_reason r)
{
	return GL_SLOT_DECISIONS + verdict * GL_CNT_NREASONS + (int)r;
}

/* The reason's word as the module yields it, or NULL. */
const char *gl_cnt_reason_name(enum gl_cnt_reason r);

/* Which verdicts a reason can come with: 1 accept, 2 defer, 3 both. */
int gl_cnt_reason_verdicts(enum gl_cnt_reason r);

/* The bucket a delay falls in (0 .. GL_CNT_NBUCKETS-1). */
int gl_cnt_bucket(gl_time delay);

#endif
