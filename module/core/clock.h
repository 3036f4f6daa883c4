/*
 * clock.h - the monotonic clock and bounded waits, for the stores and
 * the writer lock. (Greylisting decisions never read a clock: their time
 * is passed in.)
 */
#ifndef GL_CLOCK_H
#define GL_CLOCK_H

#include <stdint.h>

/* Microseconds of CLOCK_MONOTONIC. */
int64_t gl_mono_us(void);

/*
 * flock(fd, how) waiting at most wait_us: short sleeps from 20 us up to
 * 1 ms between non-blocking tries (flock has no timed wait, and a signal
 * would disturb Exim). 0 locked; -1 with errno EWOULDBLOCK when the time
 * ran out, or flock's own errno. The lock is not held after -1.
 */
int gl_flock_wait(int fd, int how, int64_t wait_us);

#endif
