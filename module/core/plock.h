/*
 * plock.h - a writer lock shared by processes, with a bounded wait.
 *
 * A robust, process-shared pthread mutex in a small file (FILE.wlock)
 * that every process maps. Unlike flock() polled with sleeps it costs no
 * system call when free, and a waiter is woken the moment the holder lets
 * go (the kernel's futex queue) rather than at its next poll, so a
 * holder cannot be starved by a crowd of pollers. The wait is bounded
 * (pthread_mutex_clocklock on CLOCK_MONOTONIC); a holder that dies is
 * detected by the kernel (robust mutex) and the next locker takes over.
 */
#ifndef GL_PLOCK_H
#define GL_PLOCK_H

#include <stdint.h>
#include <sys/types.h>

#include "gl.h"

typedef struct gl_plock {
	struct gl_plock_page *page; /* the shared mapping; NULL: not open */
} gl_plock;

/* Opens (creating and initialising when needed) the lock file path;
 * wait_us bounds the wait for another process that is initialising it. */
int gl_plock_open(gl_plock *l, const char *path, int64_t wait_us,
		  gl_err *err);

/* Takes the lock, waiting at most wait_us (0: only tries). 0 on success;
 * -1 with errno EWOULDBLOCK when the wait ran out, another errno when
 * the lock is unusable. */
int gl_plock_lock(gl_plock *l, int64_t wait_us);

void gl_plock_unlock(gl_plock *l);

/* GL_PLOCK_WORDS words in the shared page for the lock's user, zero in a
 * new file; read and write them only while holding the lock. NULL when
 * the lock is not open. */
#define GL_PLOCK_WORDS 4
uint64_t *gl_plock_shared(gl_plock *l);

/* Unmaps (the caller has unlocked). */
void gl_plock_close(gl_plock *l);

#endif
