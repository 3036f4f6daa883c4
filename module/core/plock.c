/*
 * plock.c - a writer lock shared by processes, with a bounded wait.
 *
 * The file holds one page: a header and a robust, process-shared,
 * error-checking pthread mutex. The first process to open a new (or
 * empty, or half-made) file initialises it under flock(), and sets the
 * magic number last, so a process that sees the magic sees a usable
 * mutex. Removing the file is safe when no process has it open; while
 * processes have it open, a new file would give two locks, which costs
 * only the bound (LMDB still serialises its writers with its own mutex).
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "plock.h"

#define PL_MAGIC   0x474c574cu /* "GLWL" */
#define PL_VERSION 1u
#define PL_SIZE    4096

struct gl_plock_page {
	uint32_t magic;      /* PL_MAGIC once m is initialised */
	uint32_t version;
	uint32_t mutex_size; /* sizeof m in the process that made it */
	uint32_t pad;
	uint64_t shared[GL_PLOCK_WORDS]; /* the lock user's; 0 at first */
	pthread_mutex_t m;
};

_Static_assert(sizeof(struct gl_plock_page) <= PL_SIZE,
	       "the lock page must fit one page");

static int init_page(struct gl_plock_page *p)
{
	pthread_mutexattr_t a;
	int rc;

	if ((rc = pthread_mutexattr_init(&a)) != 0)
		return rc;
	rc = pthread_mutexattr_setpshared(&a, PTHREAD_PROCESS_SHARED);
	if (rc == 0)
		rc = pthread_mutexattr_setrobust(&a, PTHREAD_MUTEX_ROBUST);
	if (rc == 0)
		rc = pthread_mutexattr_settype(&a, PTHREAD_MUTEX_ERRORCHECK);
	if (rc == 0)
		rc = pthread_mutex_init(&p->m, &a);
	pthread_mutexattr_destroy(&a);
	if (rc != 0)
		return rc;
	p->version = PL_VERSION;
	p->mutex_size = (uint32_t)sizeof p->m;
	__atomic_store_n(&p->magic, PL_MAGIC, __ATOMIC_RELEASE);
	return 0;
}

int gl_plock_open(gl_plock *l, const char *path, int64_t wait_us,
		  gl_err *err)
{
	struct gl_plock_page *p;
	struct stat st;
	void *map;
	int fd, locked = 0, rc;

	l->page = NULL;
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0660);
	if (fd < 0)
		return gl_fail(err, "%s: cannot open lock file: %s", path,
			       strerror(errno));
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		return gl_fail(err, "%s: lock file is not a regular file",
			       path);
	}
	if (st.st_size < PL_SIZE) {
		/* Written, not ftruncate()d: a page the filesystem could not
		 * back would be SIGBUS at the first store through the map;
		 * a write says ENOSPC instead. */
		static const char zeros[PL_SIZE];

		if (gl_flock_wait(fd, LOCK_EX, wait_us) != 0)
			goto lockfail;
		locked = 1;
		rc = fstat(fd, &st) != 0 ? errno : 0;
		if (rc == 0 && st.st_size < PL_SIZE) {
			ssize_t w = pwrite(fd, zeros, PL_SIZE, 0);

			rc = w == PL_SIZE ? 0 : w < 0 ? errno : ENOSPC;
		}
		if (rc != 0) {
			close(fd);
			return gl_fail(err, "%s: cannot size lock file: %s",
				       path, strerror(rc));
		}
	}
	map = mmap(NULL, PL_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (map == MAP_FAILED) {
		rc = errno;
		close(fd);
		return gl_fail(err, "%s: cannot map lock file: %s", path,
			       strerror(rc));
	}
	p = map;
	if (__atomic_load_n(&p->magic, __ATOMIC_ACQUIRE) != PL_MAGIC) {
		if (!locked && gl_flock_wait(fd, LOCK_EX, wait_us) != 0) {
			munmap(map, PL_SIZE);
			goto lockfail;
		}
		locked = 1;
		if (p->magic != PL_MAGIC && (rc = init_page(p)) != 0) {
			munmap(map, PL_SIZE);
			close(fd);
			return gl_fail(err, "%s: cannot make lock: %s", path,
				       strerror(rc));
		}
	}
	close(fd); /* also drops the flock */
	if (p->version != PL_VERSION || p->mutex_size != sizeof p->m) {
		munmap(map, PL_SIZE);
		return gl_fail(err, "%s: lock file of another version or "
			       "architecture; remove it while no process uses "
			       "the database", path);
	}
	l->page = p;
	return 0;
lockfail:
	rc = errno;
	close(fd);
	if (rc == EWOULDBLOCK)
		return gl_fail(err, "%s: database busy: lock file not ready "
			       "in time", path);
	return gl_fail(err, "%s: cannot lock: %s", path, strerror(rc));
}

int gl_plock_lock(gl_plock *l, int64_t wait_us)
{
	struct timespec ts;
	int rc;

	if (l->page == NULL) {
		errno = EBADF;
		return -1;
	}
	rc = pthread_mutex_trylock(&l->page->m);
	if (rc == EBUSY && wait_us > 0) {
		clock_gettime(CLOCK_MONOTONIC, &ts);
		ts.tv_sec += (time_t)(wait_us / 1000000);
		ts.tv_nsec += (long)(wait_us % 1000000) * 1000;
		if (ts.tv_nsec >= 1000000000L) {
			ts.tv_sec++;
			ts.tv_nsec -= 1000000000L;
		}
		do
			rc = pthread_mutex_clocklock(&l->page->m,
						     CLOCK_MONOTONIC, &ts);
		while (rc == EINTR);
	}
	if (rc == EOWNERDEAD) {
		/* The holder died. What it guarded is crash-safe on its
		 * own (an LMDB transaction is all or nothing). */
		pthread_mutex_consistent(&l->page->m);
		rc = 0;
	}
	if (rc == 0)
		return 0;
	errno = rc == EBUSY || rc == ETIMEDOUT ? EWOULDBLOCK : rc;
	return -1;
}

void gl_plock_unlock(gl_plock *l)
{
	if (l->page != NULL)
		pthread_mutex_unlock(&l->page->m);
}

uint64_t *gl_plock_shared(gl_plock *l)
{
	return l->page != NULL ? l->page->shared : NULL;
}

void gl_plock_close(gl_plock *l)
{
	if (l->page != NULL)
		munmap(l->page, PL_SIZE);
	l->page = NULL;
}
