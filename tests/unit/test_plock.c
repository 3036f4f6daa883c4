/* test_plock.c - the shared writer lock: bounded waits, a dead holder's
 * lock taken over, a prompt hand-over, and files that are not ours. */
#include "unit.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>

#include "../../module/core/plock.h"
#include "../../module/core/store.h"

static char dir[512], path[600];

static int setup(void **state)
{
	(void)state;
	unit_tmpdir(dir, sizeof dir);
	snprintf(path, sizeof path, "%s/db.wlock", dir);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	unit_rmdir(dir);
	return 0;
}

/* Starts a child that opens the lock, takes it and holds it for hold_ms
 * (or until killed), then exits 0; returns once the child holds it. */
static pid_t holder(int hold_ms)
{
	int fd[2];
	pid_t pid;
	char c;

	assert_int_equal(pipe(fd), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		gl_plock l;
		struct timespec ts = { hold_ms / 1000,
				       (long)(hold_ms % 1000) * 1000000L };

		if (gl_plock_open(&l, path, 1000000, NULL) != 0 ||
		    gl_plock_lock(&l, 1000000) != 0 || write(fd[1], "y", 1) != 1)
			_exit(1);
		nanosleep(&ts, NULL);
		gl_plock_unlock(&l);
		_exit(0);
	}
	assert_int_equal(read(fd[0], &c, 1), 1);
	close(fd[0]);
	close(fd[1]);
	return pid;
}

static void test_lock_unlock(void **state)
{
	gl_plock l;
	gl_err err;
	struct stat st;

	(void)state;
	assert_int_equal(gl_plock_open(&l, path, 100000, &err), 0);
	assert_int_equal(stat(path, &st), 0);
	assert_true(st.st_size >= 4096);
	assert_int_equal(gl_plock_lock(&l, 0), 0);
	/* the same holder again: an error at once, never a hang */
	assert_int_equal(gl_plock_lock(&l, 100000), -1);
	assert_int_equal(errno, EDEADLK);
	gl_plock_unlock(&l);
	assert_int_equal(gl_plock_lock(&l, 0), 0);
	gl_plock_unlock(&l);
	gl_plock_close(&l);
	assert_null(l.page);
	assert_int_equal(gl_plock_lock(&l, 0), -1);
	assert_int_equal(errno, EBADF);
}

/* Held elsewhere: the wait is bounded; the holder killed: taken over. */
static void test_bounded_and_dead_holder(void **state)
{
	gl_plock l;
	gl_err err;
	int status;
	int64_t t0, waited;
	pid_t pid;

	(void)state;
	assert_int_equal(gl_plock_open(&l, path, 100000, &err), 0);
	pid = holder(60000);
	assert_int_equal(gl_plock_lock(&l, 0), -1);
	assert_int_equal(errno, EWOULDBLOCK);
	t0 = gl_mono_us();
	assert_int_equal(gl_plock_lock(&l, 50000), -1);
	assert_int_equal(errno, EWOULDBLOCK);
	waited = gl_mono_us() - t0;
	assert_true(waited >= 45000);
	assert_true(waited < 5000000);
	kill(pid, SIGKILL);
	waitpid(pid, &status, 0);
	assert_true(WIFSIGNALED(status));
	assert_int_equal(gl_plock_lock(&l, 1000000), 0);
	gl_plock_unlock(&l);
	/* and it is an ordinary lock again afterwards */
	assert_int_equal(gl_plock_lock(&l, 0), 0);
	gl_plock_unlock(&l);
	gl_plock_close(&l);
}

/* A waiter gets the lock when the holder lets go, long before its bound. */
static void test_handover(void **state)
{
	gl_plock l;
	gl_err err;
	int status;
	int64_t t0, waited;
	pid_t pid;

	(void)state;
	assert_int_equal(gl_plock_open(&l, path, 100000, &err), 0);
	pid = holder(100);
	t0 = gl_mono_us();
	assert_int_equal(gl_plock_lock(&l, 10000000), 0);
	waited = gl_mono_us() - t0;
	assert_true(waited < 9000000);
	gl_plock_unlock(&l);
	waitpid(pid, &status, 0);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	gl_plock_close(&l);
}

/* Files that are not a lock of ours: refused or repaired, with the path. */
static void test_foreign_files(void **state)
{
	gl_plock l;
	gl_err err;
	char buf[4096];
	int fd;

	(void)state;
	/* a directory in the way */
	assert_int_equal(mkdir(path, 0700), 0);
	assert_int_equal(gl_plock_open(&l, path, 100000, &err), -1);
	assert_non_null(strstr(err.msg, path));
	assert_null(l.page);
	assert_int_equal(rmdir(path), 0);
	/* half made (sized, never initialised): made usable */
	memset(buf, 0, sizeof buf);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, buf, sizeof buf), (ssize_t)sizeof buf);
	close(fd);
	assert_int_equal(gl_plock_open(&l, path, 100000, &err), 0);
	assert_int_equal(gl_plock_lock(&l, 0), 0);
	gl_plock_unlock(&l);
	gl_plock_close(&l);
	/* another version: refused, saying what to do */
	fd = open(path, O_WRONLY);
	assert_true(fd >= 0);
	buf[0] = 'L', buf[1] = 'W', buf[2] = 'L', buf[3] = 'G'; /* magic */
	buf[4] = 99;                                            /* version */
	assert_int_equal(write(fd, buf, 8), 8);
	close(fd);
	assert_int_equal(gl_plock_open(&l, path, 100000, &err), -1);
	assert_non_null(strstr(err.msg, "another version"));
	assert_non_null(strstr(err.msg, path));
	assert_null(l.page);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_lock_unlock, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_bounded_and_dead_holder,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_handover, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_foreign_files, setup,
						teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
