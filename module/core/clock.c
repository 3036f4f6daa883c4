/* clock.c - the monotonic clock and bounded flock waits (see clock.h). */
#include "clock.h"

#include <errno.h>
#include <sys/file.h>
#include <time.h>

#define FLOCK_PAUSE_MIN_US 20   /* first pause between two tries */
#define FLOCK_PAUSE_MAX_US 1000 /* pauses double up to this */

int64_t gl_mono_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

int gl_flock_wait(int fd, int how, int64_t wait_us)
{
	int64_t deadline = gl_mono_us() + wait_us;
	long pause_us = FLOCK_PAUSE_MIN_US;

	for (;;) {
		struct timespec ts;
		int64_t left;

		if (flock(fd, how | LOCK_NB) == 0)
			return 0;
		if (errno != EWOULDBLOCK && errno != EINTR)
			return -1;
		left = deadline - gl_mono_us();
		if (left <= 0) {
			errno = EWOULDBLOCK;
			return -1;
		}
		if (pause_us > left)
			pause_us = (long)left;
		ts.tv_sec = 0;
		ts.tv_nsec = pause_us * 1000;
		nanosleep(&ts, NULL);
		if (pause_us < FLOCK_PAUSE_MAX_US)
			pause_us *= 2;
	}
}
